package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/record"
)

// startBinary runs the test binary as `ingestprobe args…`.
func startBinary(t *testing.T, stderr io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INGESTPROBE_BE_MAIN=1", "INGESTPROBE_ARGS="+strings.Join(args, " "))
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// waitFor polls cond every 20 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readRecords(t *testing.T, path string) []record.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []record.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r record.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("jsonl line is not a record: %v: %s", err, sc.Text())
		}
		out = append(out, r)
	}
	return out
}

func countTarget(recs []record.Record, name string) int {
	n := 0
	for _, r := range recs {
		if r.Target == name {
			n++
		}
	}
	return n
}

// TestRunReload: SIGHUP with a valid config switches targets; with an invalid one the running config
// stays and says so in the log; SIGTERM stops with exit 0. Record ids stay unique throughout.
func TestRunReload(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "records.jsonl")
	cfgPath := filepath.Join(dir, "config.toml")
	open := listen(t)
	write := func(target string) {
		text := "[agent]\nid = \"a1\"\ninterval = \"100ms\"\ntimeout = \"50ms\"\nstate_dir = \"" + dir + "/state\"\n" +
			"[[targets]]\nname = \"" + target + "\"\nurl = \"rtmp://127.0.0.1:" + open + "/live/" + streamKey + "\"\nalt_ports = []\n" +
			"[[sinks]]\ntype = \"jsonl\"\npath = \"" + out + "\"\n"
		if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	var stderr bytes.Buffer
	cmd := startBinary(t, &stderr, "run", "--config", cfgPath)
	waitFor(t, 5*time.Second, "records of target first", func() bool { return countTarget(readRecords(t, out), "first") >= 2 })

	write("second")
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "records of target second", func() bool { return countTarget(readRecords(t, out), "second") >= 2 })

	os.WriteFile(cfgPath, []byte("[agent]\nbogus = 1\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	n := countTarget(readRecords(t, out), "second")
	waitFor(t, 5*time.Second, "target second to keep running after a bad reload", func() bool {
		return countTarget(readRecords(t, out), "second") >= n+3
	})

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("agent did not stop within 15s of SIGTERM")
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"msg":"reloaded"`) || !strings.Contains(logs, `reload: new config invalid; the running one stays`) ||
		!strings.Contains(logs, `unknown key \"agent.bogus\"`) {
		t.Errorf("logs lack the reload messages:\n%s", logs)
	}
	recs := readRecords(t, out)
	ids := map[string]bool{}
	for _, r := range recs {
		if r.ID == "" || ids[r.ID] || !strings.HasPrefix(r.ID, "a1:") {
			t.Errorf("record id %q: want unique a1:<n>", r.ID)
		}
		ids[r.ID] = true
	}
	if bytes.Contains(append([]byte(logs), []byte(mustRead(t, out))...), []byte(streamKey)) {
		t.Errorf("the stream key reached the logs or records")
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunRuntimeFailureExit1: `run` whose /metrics port is taken fails at run time, not in its
// config: exit 1, which the unit restarts (Restart=always), not 2 (RestartPreventExitStatus=2).
// A config error still exits 2.
func TestRunRuntimeFailureExit1(t *testing.T) {
	dir := t.TempDir()
	taken := listen(t)
	cfg := writeConfig(t, "[agent]\nstate_dir = \""+dir+"\"\n"+
		"[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:"+taken+"/live/k\"\nalt_ports = []\nicmp = false\n"+
		"[[sinks]]\ntype = \"prometheus\"\nlisten = \"127.0.0.1:"+taken+"\"\n")
	code, _, stderr := runCmd(t, "run", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, "address already in use") {
		t.Errorf("taken port: exit %d, stderr %q; want 1 naming the taken port", code, stderr)
	}
	bad := writeConfig(t, "[agent]\ninterval = 30\n")
	if code, _, stderr := runCmd(t, "run", "--config", bad); code != exitUsage {
		t.Errorf("broken config: exit %d, stderr %q; want 2", code, stderr)
	}
}

// TestDaemonMetricsCarryStaticLabels: the agent's own series (reporter_*, target_runs_total) carry
// the [agent] labels as the per-target series do, so an alert on them can route by venue.
func TestDaemonMetricsCarryStaticLabels(t *testing.T) {
	cfg := config.Default()
	cfg.Agent.ID = "enc1"
	cfg.Agent.Labels = map[string]string{"venue": "berlin"}
	d := newDaemon(env{getenv: func(string) string { return "" }}, "x.toml", zap.NewNop(), cfg)
	d.Metrics.Dropped.WithLabelValues("remote_write").Add(1)
	d.Metrics.Runs.WithLabelValues("main", "go").Inc()
	n := 0
	for _, f := range d.Metrics.Families() {
		if !strings.HasPrefix(f.Name, "ingestprobe_") {
			continue
		}
		for _, s := range f.Samples {
			n++
			if !slices.Contains(s.Labels, metrics.Label{Name: "venue", Value: "berlin"}) || !slices.Contains(s.Labels, metrics.Label{Name: "agent", Value: "enc1"}) {
				t.Errorf("%s%v: want agent and venue", s.Name, s.Labels)
			}
		}
	}
	if n < 3 {
		t.Errorf("got %d agent samples; want build_info, dropped and runs at least", n)
	}
}
