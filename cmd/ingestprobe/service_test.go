package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/service"
)

// TestServiceRunProcess runs `service run` as a real process, as a service manager would: with an
// empty config it waits; SIGHUP with a target starts probing (records appear in the jsonl sink);
// SIGTERM stops it with exit 0 within the drain bound. A broken config exits 2 at once.
func TestServiceRunProcess(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "records.jsonl")
	cfgPath := filepath.Join(dir, "config.toml")
	head := "[agent]\nid = \"enc1\"\ninterval = \"200ms\"\ntimeout = \"100ms\"\nstate_dir = \"" + dir + "\"\n" +
		"[[sinks]]\ntype = \"jsonl\"\npath = \"" + out + "\"\n"
	os.WriteFile(cfgPath, []byte(head), 0o644)
	cmd, logs := startService(t, cfgPath)
	waitFor(t, 5*time.Second, "the waiting log line", func() bool {
		return strings.Contains(logs(), "no [[targets]] in the config")
	})
	port := listen(t)
	os.WriteFile(cfgPath, []byte(head+"[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:"+port+"/live/k\"\nalt_ports = []\nicmp = false\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "records of main", func() bool { return countTarget(readRecords(t, out), "main") >= 2 })
	t0 := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := waitExit(cmd, service.StopTimeout)
	if err != nil {
		t.Errorf("got %v after %s; want exit 0 within %s\n%s", err, time.Since(t0), service.StopTimeout, logs())
	}

	os.WriteFile(cfgPath, []byte("[agent]\ninterval = 30\n"), 0o644)
	cmd, logs = startService(t, cfgPath)
	err = waitExit(cmd, 5*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || !strings.Contains(logs(), "is not a duration") {
		t.Errorf("broken config: got %v\n%s\nwant exit 2 naming the error", err, logs())
	}
}

// TestServiceRunAgentFails: an agent that fails on its own (its /metrics port is taken) ends
// `service run` with exit 1, which the unit restarts — not 2, which it does not — saying why.
func TestServiceRunAgentFails(t *testing.T) {
	dir := t.TempDir()
	taken := listen(t)
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte("[agent]\nstate_dir = \""+dir+"\"\n"+
		"[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:"+taken+"/live/k\"\nalt_ports = []\nicmp = false\n"+
		"[[sinks]]\ntype = \"prometheus\"\nlisten = \"127.0.0.1:"+taken+"\"\n"), 0o644)
	cmd, logs := startService(t, cfgPath)
	err := waitExit(cmd, 10*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(logs(), "address already in use") {
		t.Errorf("got %v\n%s\nwant exit 1 naming the taken port", err, logs())
	}
}

// startService runs the test binary as `ingestprobe service run --config cfg`, its stderr in a
// file so the test can read it while the process writes.
func startService(t *testing.T, cfg string) (*exec.Cmd, func() string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd := startBinary(t, f, "service", "run", "--config", cfg)
	return cmd, func() string { b, _ := os.ReadFile(logPath); return string(b) }
}

// waitExit waits for the process at most d, then kills it.
func waitExit(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return errors.New("still running after " + d.String())
	}
}

// TestServiceCommandLine: the command's own part of `service`: usage errors exit 2 before any
// system is touched, and status exits 0 only when the service runs (3 otherwise, as LSB scripts).
func TestServiceCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"service"}, "which action?"},
		{[]string{"service", "bogus"}, `unknown action "bogus"`},
		{[]string{"service", "status", "--purge"}, "--purge applies to service uninstall only"},
		{[]string{"service", "status", "extra"}, `takes no arguments, got "extra"`},
		{[]string{"service", "run", "--log-level", "loud"}, `--log-level: "loud" is not one of debug, info, warn, error`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := runCmd(t, tt.args...)
			if code != exitUsage || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("got %d %q; want %d saying %q", code, errs, exitUsage, tt.wantErr)
			}
		})
	}
	t.Run("status", func(t *testing.T) {
		code, out, errs := runCmd(t, "service", "status", "--config", filepath.Join(t.TempDir(), "config.toml"))
		want := exitNotRunning
		if strings.Contains(out, "): running") {
			want = exitOK // this host runs the agent as a service
		}
		if code != want || !strings.Contains(out, "ingestprobe service (") {
			t.Errorf("got %d\n%s%s\nwant %d and the service's state", code, out, errs, want)
		}
	})
}
