package service

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/metrics"
)

// TestJournaldPriorities: under systemd (JOURNAL_STREAM set) each line starts with the syslog
// priority journald reads (sd-daemon(3): <3> error, <4> warning, <6> info, <7> debug), so
// `journalctl -p warning` shows the warnings.
func TestJournaldPriorities(t *testing.T) {
	var buf bytes.Buffer
	r := Runner{Level: zapcore.DebugLevel, Stderr: &buf, Getenv: func(k string) string {
		if k == "JOURNAL_STREAM" {
			return "8:1234"
		}
		return ""
	}}
	log, err := r.logger(nil)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("d")
	log.Info("i", zap.String("k", "v"))
	log.Warn("w")
	log.Error("e")
	log.With(zap.String("sink", "http")).Warn("w2")
	want := []string{"<7>DEBUG\td", "<6>INFO\ti", "<4>WARN\tw", "<3>ERROR\te", "<4>WARN\tw2"}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %q; want %d lines", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q; want it to start with %q", i, lines[i], w)
		}
	}
}

// syncBuffer is a bytes.Buffer the agent's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunDaemonLogsStop: the stop (SIGTERM) is logged when it comes and when the agent has ended,
// with what each push sink delivered while draining and what stays spooled for the next start.
// The collector answers 503, so every record stays spooled.
func TestRunDaemonLogsStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })}
	go srv.Serve(ln)
	defer srv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	dir := t.TempDir()
	cfgPath := writeConfig(t, "[agent]\nstate_dir = \""+dir+"\"\ninterval = \"1s\"\ntimeout = \"200ms\"\n"+
		"[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:"+strconv.Itoa(closedPort)+"/live/k\"\nalt_ports = []\nicmp = false\n"+
		"[[sinks]]\ntype = \"http\"\nurl = \"http://"+ln.Addr().String()+"/ingest\"\ntimeout = \"1s\"\n")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(&logs), zapcore.DebugLevel))
	m := metrics.New("v", "c", map[string]string{"agent": "a"})
	d := &agent.Daemon{ConfigPath: cfgPath, Log: log, Stdout: &logs, Metrics: m}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunDaemon(ctx, d, cfg, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for m.Queue.WithLabelValues("http").Get() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no record spooled after 10 s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Logf("RunDaemon: %v", err)
	}
	out := logs.String()
	for _, want := range []string{"stopping", "stopped", `"sink": "http"`, `"delivered_while_draining": 0`, `"spooled": `} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"spooled": 0`) {
		t.Errorf("log says nothing stays spooled; the collector took nothing:\n%s", out)
	}
}
