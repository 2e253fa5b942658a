package agent

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/metrics"
)

// testDaemon is a Daemon on a config file in a temp dir, its log observed; loaded receives the
// first target's name each time a config takes effect.
func testDaemon(t *testing.T, text string) (*Daemon, *observer.ObservedLogs, chan string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	loaded := make(chan string, 4)
	d := &Daemon{ConfigPath: p, Log: zap.New(core), Stdout: io.Discard,
		Metrics: metrics.New("test", "test", map[string]string{"agent": "a1"}),
		Loaded:  func(c *config.Config) { loaded <- c.Targets[0].Name }}
	return d, logs, loaded
}

// loopTarget is a config with one target on a loopback listener (TCP only), state in dir.
func loopTarget(t *testing.T, dir string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	return "[agent]\nid = \"a1\"\ninterval = \"1s\"\ntimeout = \"500ms\"\nstate_dir = \"" + dir + "\"\n" +
		"[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:" + port + "/live/k\"\nalt_ports = []\nicmp = false\nrtmp = \"off\"\n" +
		"[[sinks]]\ntype = \"jsonl\"\npath = \"" + filepath.Join(dir, "records.jsonl") + "\"\n"
}

func waitLog(t *testing.T, logs *observer.ObservedLogs, snippet string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for logs.FilterMessageSnippet(snippet).Len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for log %q ×%d; got %v", snippet, n, logs.All())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDaemonWaitsForTargets: with WaitForTargets and no target the daemon logs that it waits and
// runs no agent; a reload with an invalid config keeps it waiting; one with a target starts it.
func TestDaemonWaitsForTargets(t *testing.T) {
	d, logs, loaded := testDaemon(t, "[agent]\n")
	d.WaitForTargets = true
	cfg, err := config.Load(d.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, cfg, reload) }()

	waitLog(t, logs, "no [[targets]] in the config: nothing to probe yet; add one and reload the service", 1)
	if got := logs.FilterMessageSnippet("no [[targets]] in the config").All()[0].ContextMap()["config"]; got != d.ConfigPath {
		t.Errorf("got config field %v; want %s", got, d.ConfigPath)
	}
	os.WriteFile(d.ConfigPath, []byte("[agent]\nbogus = 1\n"), 0o644)
	reload <- struct{}{}
	waitLog(t, logs, "reload: config invalid; still waiting", 1)
	waitLog(t, logs, "no [[targets]] in the config", 2)
	select {
	case name := <-loaded:
		t.Fatalf("agent started for %q while waiting", name)
	default:
	}

	os.WriteFile(d.ConfigPath, []byte(loopTarget(t, t.TempDir())), 0o644)
	reload <- struct{}{}
	select {
	case name := <-loaded:
		if name != "main" {
			t.Errorf("got agent for %q; want main", name)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the agent did not start after a reload with a target")
	}

	// Running now: a reload to no targets is refused, as without WaitForTargets.
	os.WriteFile(d.ConfigPath, []byte("[agent]\n"), 0o644)
	reload <- struct{}{}
	waitLog(t, logs, "reload: new config invalid; the running one stays", 1)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestDaemonWaitingStops: a daemon waiting for targets ends at once, without error, when ctx ends.
func TestDaemonWaitingStops(t *testing.T) {
	d, logs, _ := testDaemon(t, "")
	d.WaitForTargets = true
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, config.Default(), nil) }()
	waitLog(t, logs, "no [[targets]] in the config", 1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("got %v; want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1 s of cancel")
	}
}

// TestDaemonNoTargets: without WaitForTargets a config with no target is an error.
func TestDaemonNoTargets(t *testing.T) {
	d, _, _ := testDaemon(t, "")
	err := d.Run(t.Context(), config.Default(), nil)
	if err == nil || !strings.Contains(err.Error(), "no [[targets]]") {
		t.Errorf("got %v; want an error saying there are no targets", err)
	}
}

// TestDaemonWithoutStateDir: a state_dir that cannot be used (here a file) stops an agent whose
// push sink spools there, but not a jsonl-only one: it runs, says so, and numbers its records from
// the clock.
func TestDaemonWithoutStateDir(t *testing.T) {
	dir := t.TempDir()
	stateFile := filepath.Join(dir, "state-is-a-file")
	if err := os.WriteFile(stateFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(loopTarget(t, dir), "state_dir = \""+dir+"\"", "state_dir = \""+stateFile+"\"", 1)
	d, logs, loaded := testDaemon(t, text)
	cfg, err := config.Load(d.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, cfg, nil) }()
	select {
	case <-loaded:
	case err := <-done:
		t.Fatalf("Run: %v; want it running without its state dir", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the agent did not start")
	}
	waitLog(t, logs, "record ids from the clock", 1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "records.jsonl"))
		if strings.Contains(string(b), `"id":"a1:`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record with an id in %q", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done

	pushText := text + "[[sinks]]\ntype = \"http\"\nurl = \"http://127.0.0.1:1/\"\n"
	d, _, _ = testDaemon(t, pushText)
	if cfg, err = config.Load(d.ConfigPath); err != nil {
		t.Fatal(err)
	}
	if err := d.Run(t.Context(), cfg, nil); err == nil || !strings.Contains(err.Error(), "sequence") {
		t.Errorf("with a push sink: got %v; want the state dir's error", err)
	}
}

func TestClockSequence(t *testing.T) {
	s := ClockSequence(time.UnixMicro(1_800_000_000_000_000))
	a, _ := s.Next()
	b, _ := s.Next()
	if a != 1_800_000_000_000_000 || b != a+1 {
		t.Errorf("got %d, %d; want the start in microseconds, then one more", a, b)
	}
}
