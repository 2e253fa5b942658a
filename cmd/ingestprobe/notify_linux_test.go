package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServiceRunNotifiesReady: under systemd (Type=notify) `service run` sends READY=1 on
// NOTIFY_SOCKET once its /metrics listener is up — so "systemctl start" returns when the agent
// serves — and READY=1 at once when it waits for a config with targets.
func TestServiceRunNotifiesReady(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	// A free port for the agent's /metrics.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	metricsPort := strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	ln.Close()
	target := listen(t)
	for _, tc := range []struct{ name, cfg, status string }{
		{"targets", "[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:" + target + "/live/k\"\nalt_ports = []\nicmp = false\n" +
			"[[sinks]]\ntype = \"prometheus\"\nlisten = \"127.0.0.1:" + metricsPort + "\"\n", "STATUS=probing 1 target(s)"},
		{"waiting", "", "STATUS=waiting for [[targets]]"},
	} {
		cfgPath := filepath.Join(dir, tc.name+".toml")
		os.WriteFile(cfgPath, []byte("[agent]\nstate_dir = \""+dir+"\"\ninterval = \"1s\"\ntimeout = \"200ms\"\n"+tc.cfg), 0o644)
		cmd, logs := startService(t, cfgPath)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("%s: no notification: %v\n%s", tc.name, err, logs())
		}
		msg := string(buf[:n])
		if !strings.Contains(msg, "READY=1") || !strings.Contains(msg, tc.status) {
			t.Errorf("%s: got %q; want READY=1 and %q", tc.name, msg, tc.status)
		}
		if tc.name == "targets" {
			resp, err := http.Get("http://127.0.0.1:" + metricsPort + "/metrics")
			if err != nil {
				t.Errorf("READY=1 came before /metrics listened: %v", err)
			} else {
				resp.Body.Close()
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(cmd, 15*time.Second); err != nil {
			t.Errorf("%s: %v\n%s", tc.name, err, logs())
		}
	}
}
