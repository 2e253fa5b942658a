package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/record"
)

// End-to-end tests of the push sinks: the built binary's `run` against a collector in this process
// and against a real Prometheus. Traffic stays on loopback.

// skipOrFail skips t for a missing tool — or fails it with INGESTPROBE_LAB_REQUIRED=1, which CI
// sets (see internal/lab) so that a package missing from .ci/run cannot hide behind a skip.
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("INGESTPROBE_LAB_REQUIRED") == "1" {
		t.Fatalf("%s (and INGESTPROBE_LAB_REQUIRED=1 says it must run here)", reason)
	}
	t.Skip(reason)
}

// buildAgent builds the ingestprobe binary into a temporary directory.
func buildAgent(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			skipOrFail(t, "integration: needs the go command to build the agent")
		}
	}
	bin := filepath.Join(t.TempDir(), "ingestprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// agentProc is one `ingestprobe run` process; its stderr (the log) goes to a file.
type agentProc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

func startAgent(t *testing.T, bin, cfgPath, logPath string) *agentProc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", cfgPath, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill() // by its own PID: the test started it
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and waits up to limit; it returns how long the agent took to exit.
func (p *agentProc) stop(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("agent still running %v after SIGTERM", limit)
	}
	if p.err != nil {
		t.Errorf("agent exit: %v; want status 0\n%s", p.err, tail(p.logPath, 30))
	}
	return time.Since(start)
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a loopback port nothing listens on (a listener opened and closed).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func listenPort(t *testing.T) int {
	t.Helper()
	p, _ := strconv.Atoi(listen(t))
	return p
}

// outageCollector is an HTTP collector that can be down — closing connections or answering 503 —
// or slow: storing a batch but answering only after the agent gave up, which makes it send the
// batch again (the duplicates that de-duplication by id is for).
type outageCollector struct {
	mu       sync.Mutex
	mode     string   // "up", "slow", "hangup" or "503"
	accepted []string // ids of records in answered (2xx) requests, in arrival order
	requests int
	badAuth  int
	err      error
}

func (c *outageCollector) set(mode string) {
	c.mu.Lock()
	c.mode = mode
	c.mu.Unlock()
}

func (c *outageCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if r.Header.Get("Authorization") != "Bearer collector-token-XYZ" {
		c.badAuth++
	}
	switch c.mode {
	case "hangup":
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	case "503":
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	ids, err := ndjsonIDs(body)
	if err != nil {
		c.err = err
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.accepted = append(c.accepted, ids...)
	if c.mode == "slow" {
		c.mu.Unlock()
		select { // stored; the answer comes after the agent's 1 s request timeout
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		c.mu.Lock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func ndjsonIDs(body []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		var rec record.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		ids = append(ids, rec.ID)
	}
	return ids, nil
}

// readTruth reads the jsonl sink's file: every record the agent produced, id → target.
func readTruth(t *testing.T, path string) (ids []string, target map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	target = map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec record.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("jsonl line %q: %v", sc.Text(), err)
		}
		if rec.ID == "" {
			t.Fatalf("record without id: %s", sc.Text())
		}
		ids = append(ids, rec.ID)
		target[rec.ID] = rec.Target
	}
	return ids, target
}

func idSeq(t *testing.T, id string) uint64 {
	t.Helper()
	i := strings.LastIndexByte(id, ':')
	n, err := strconv.ParseUint(id[i+1:], 10, 64)
	if i < 0 || err != nil {
		t.Fatalf("id %q is not <agent>:<sequence>", id)
	}
	return n
}

// TestIntegrationOutage runs the agent through a collector outage with a restart in the middle of
// it, and checks that every record it produced reached the collector, once after de-duplication
// by id, in order per target.
func TestIntegrationOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: skipped with -short")
	}
	bin := buildAgent(t)
	start := time.Now()
	dir := t.TempDir()
	col := &outageCollector{mode: "up"}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)
	open, closed := listenPort(t), freePort(t)
	tokenFile := filepath.Join(dir, "token")
	truth := filepath.Join(dir, "truth.jsonl")
	if err := os.WriteFile(tokenFile, []byte("collector-token-XYZ\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[agent]
id = "outage"
interval = "200ms"
timeout = "100ms"
state_dir = %q

[[targets]]
name = "t1"
url = "rtmp://127.0.0.1:%d/live/KEY-one"
alt_ports = []
rtmp = "off"

[[targets]]
name = "t2"
url = "rtmp://127.0.0.1:%d/live/KEY-two"
alt_ports = []
rtmp = "off"

[[targets]]
name = "t3"
url = "rtmp://127.0.0.1:%d/live/KEY-three?txSecret=abc&txTime=5C271099"
alt_ports = []
rtmp = "off"

[[sinks]]
type = "http"
url = %q
token_file = %q
timeout = "1s"
batch_size = 50

[[sinks]]
type = "jsonl"
path = %q
`, filepath.Join(dir, "state"), open, closed, open, srv.URL+"/ingest", tokenFile, truth)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "agent.log")

	a1 := startAgent(t, bin, cfgPath, logPath)
	time.Sleep(1500 * time.Millisecond) // collector up
	col.set("slow")
	time.Sleep(1200 * time.Millisecond) // stores, answers too late
	col.set("hangup")
	time.Sleep(time.Second) // down: connections closed
	restart := a1.stop(t, 12*time.Second)
	firstRun, _ := readTruth(t, truth)
	col.mu.Lock()
	before := map[string]bool{}
	for _, id := range col.accepted {
		before[id] = true
	}
	col.mu.Unlock()
	var carried []string // produced by the first run, not delivered by it: the spool must carry them
	for _, id := range firstRun {
		if !before[id] {
			carried = append(carried, id)
		}
	}
	col.set("503")
	a2 := startAgent(t, bin, cfgPath, logPath)
	time.Sleep(1500 * time.Millisecond) // still down, now answering 503: the sink backs off
	col.set("up")
	// SIGTERM soon after the collector is back, while the sink most likely still waits out its
	// backoff: the backlog then goes out in the drain, which must try at once.
	time.Sleep(300 * time.Millisecond)
	final := a2.stop(t, 12*time.Second)
	took := time.Since(start)

	produced, targetOf := readTruth(t, truth)
	col.mu.Lock()
	delivered := append([]string(nil), col.accepted...)
	requests, badAuth, colErr := col.requests, col.badAuth, col.err
	col.mu.Unlock()
	if colErr != nil {
		t.Fatalf("collector: a body was not gzip NDJSON of records: %v", colErr)
	}
	if badAuth > 0 {
		t.Errorf("%d requests without the bearer token", badAuth)
	}

	seen := map[string]int{}
	for _, id := range delivered {
		seen[id]++
	}
	duplicates := len(delivered) - len(seen)
	var missing []string
	for _, id := range produced {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	producedSet := map[string]bool{}
	for _, id := range produced {
		producedSet[id] = true
	}
	var extra []string
	for id := range seen {
		if !producedSet[id] {
			extra = append(extra, id)
		}
	}
	t.Logf("produced %d records (3 targets, 200ms interval, a slow phase, an outage, one restart); delivered %d, %d after de-duplication by id, %d duplicates; %d carried across the restart in the spool; %d requests; agent stop during the outage took %v, final stop %v; scenario %v",
		len(produced), len(delivered), len(seen), duplicates, len(carried), requests, restart.Round(time.Millisecond), final.Round(time.Millisecond), took.Round(time.Millisecond))
	if len(carried) == 0 {
		t.Errorf("no record of the first run was left for the second: the outage did not happen")
	}
	if len(produced) < 30 {
		t.Errorf("produced %d records; want at least 30 over about 5 s of 3 targets at 200ms", len(produced))
	}
	if duplicates == 0 {
		t.Errorf("no record arrived twice; want the slow phase to cause re-sends")
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d records never delivered: %v\n%s", len(missing), len(produced), missing, tail(logPath, 40))
	}
	if len(extra) > 0 {
		t.Errorf("delivered %d records the agent did not produce: %v", len(extra), extra)
	}
	// In order per target: the first delivery of each record follows its target's sequence.
	last := map[string]uint64{}
	first := map[string]bool{}
	for _, id := range delivered {
		if first[id] {
			continue
		}
		first[id] = true
		n, tg := idSeq(t, id), targetOf[id]
		if n <= last[tg] {
			t.Errorf("target %s: %s delivered after sequence %d", tg, id, last[tg])
		}
		last[tg] = n
	}
	if restart > 5*time.Second {
		t.Errorf("stopping during the outage took %v; want the drain to give up at the first failed attempt", restart)
	}
	if took > 20*time.Second {
		t.Errorf("scenario took %v; want at most 20s", took)
	}
	logs, _ := os.ReadFile(logPath)
	for _, secret := range []string{"KEY-one", "KEY-two", "KEY-three", "collector-token-XYZ", "5C271099"} {
		if bytes.Contains(logs, []byte(secret)) {
			t.Errorf("agent log holds the secret %q", secret)
		}
	}
}

// prometheusServer is a real Prometheus with its remote-write receiver on, on loopback.
type prometheusServer struct {
	base string
}

func startPrometheus(t *testing.T) *prometheusServer {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		skipOrFail(t, "integration: needs the prometheus binary (apt-get install prometheus)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	// No scrape jobs: every series comes through remote write.
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	logPath := filepath.Join(dir, "prometheus.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--web.enable-remote-write-receiver", "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--config.file="+cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // by PID: the one this test started
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", tail(logPath, 20))
		}
	})
	p := &prometheusServer{base: "http://" + addr}
	// Bounded: Prometheus on an empty TSDB is ready in about a second.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-done:
			t.Fatalf("prometheus exited before it was ready:\n%s", tail(logPath, 20))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s:\n%s", tail(logPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type promSample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant query and returns the vector.
func (p *prometheusServer) query(t *testing.T, q string) []promSample {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var doc struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, doc.Error)
	}
	var out []promSample
	for _, r := range doc.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, r.Value)
		}
		out = append(out, promSample{r.Metric, v})
	}
	return out
}

// eventually polls q until want accepts the result (every 200ms, at most 20 s).
func (p *prometheusServer) eventually(t *testing.T, q string, want func([]promSample) bool) []promSample {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := p.query(t, q)
		if want(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s: got %v after 20s", q, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func valueIs(v float64) func([]promSample) bool {
	return func(s []promSample) bool { return len(s) == 1 && s[0].Value == v }
}

// TestIntegrationRemoteWrite runs the agent with a remote_write sink into a real Prometheus and
// reads the catalogue back with PromQL: verdicts, ports, findings, the agent's own series, and a
// finding that clears resolving to 0.
func TestIntegrationRemoteWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: skipped with -short")
	}
	prom := startPrometheus(t)
	bin := buildAgent(t)
	dir := t.TempDir()
	open, closed, flip := listenPort(t), freePort(t), freePort(t)
	cfg := fmt.Sprintf(`[agent]
id = "rw-test"
interval = "300ms"
timeout = "100ms"
state_dir = %q
labels = { venue = "lab" }

[[targets]]
name = "good"
url = "rtmp://127.0.0.1:%d/live/KEY-good"
alt_ports = []
rtmp = "off"

[[targets]]
name = "bad"
url = "rtmp://127.0.0.1:%d/live/KEY-bad"
alt_ports = []
rtmp = "off"

[[targets]]
name = "flip"
url = "rtmp://127.0.0.1:%d/live/KEY-flip"
alt_ports = []
rtmp = "off"

[[sinks]]
type = "remote_write"
url = %q
timeout = "2s"
`, filepath.Join(dir, "state"), open, closed, flip, prom.base+"/api/v1/write")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "agent.log")
	agent := startAgent(t, bin, cfgPath, logPath)

	prom.eventually(t, `ingestprobe_target_verdict{target="bad",verdict="no-go"} == 1`, func(s []promSample) bool { return len(s) == 1 })
	tests := []struct {
		query string
		want  float64
	}{
		{`ingestprobe_target_verdict{agent="rw-test",target="good",verdict="go",venue="lab"}`, 1},
		{`ingestprobe_target_verdict{target="good",verdict="no-go"}`, 0},
		{`ingestprobe_target_verdict{target="bad",verdict="go"}`, 0},
		{fmt.Sprintf(`ingestprobe_port_open{target="good",port="%d"}`, open), 1},
		{fmt.Sprintf(`ingestprobe_port_open{target="bad",port="%d"}`, closed), 0},
		{`ingestprobe_finding{target="bad",code="tcp.refused",severity="error"}`, 1},
		{`ingestprobe_findings{target="bad",severity="error"}`, 1},
		{`ingestprobe_target_interval_seconds{target="good"}`, 0.3},
		{`ingestprobe_probe_success{target="bad",probe="tcp"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			prom.eventually(t, tt.query, valueIs(tt.want))
		})
	}
	t.Run("the agent's own series", func(t *testing.T) {
		prom.eventually(t, `ingestprobe_reporter_sent_total{agent="rw-test",sink="remote_write"} > 0`, func(s []promSample) bool { return len(s) == 1 })
		prom.eventually(t, `ingestprobe_reporter_queue_results{sink="remote_write"}`, func(s []promSample) bool { return len(s) == 1 })
		prom.eventually(t, `ingestprobe_build_info{agent="rw-test"}`, valueIs(1))
	})
	t.Run("a cleared finding resolves to 0", func(t *testing.T) {
		q := `ingestprobe_finding{target="flip",code="tcp.refused"}`
		prom.eventually(t, q, valueIs(1))
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(flip)))
		if err != nil {
			t.Skipf("port %d taken meanwhile: %v", flip, err)
		}
		defer ln.Close()
		prom.eventually(t, `ingestprobe_target_verdict{target="flip",verdict="go"}`, valueIs(1))
		prom.eventually(t, q, valueIs(0))
	})
	agent.stop(t, 15*time.Second)
	logs, _ := os.ReadFile(logPath)
	if bytes.Contains(logs, []byte("KEY-")) {
		t.Errorf("agent log holds a stream key")
	}
	if bytes.Contains(logs, []byte(`"level":"error"`)) || bytes.Contains(logs, []byte("\terror\t")) {
		t.Errorf("agent logged errors:\n%s", tail(logPath, 30))
	}
}
