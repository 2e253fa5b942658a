package reporter

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/ingestprobe/ingestprobe/internal/duration"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

func testRecord(seq int) record.Record {
	return record.Record{ID: "enc1:" + string(rune('0'+seq)), Agent: "enc1", Target: "main", Time: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
		URL: "rtmp://127.0.0.1:1935/live/<redacted>", Verdict: record.Go, Findings: []record.Finding{}}
}

// countingServer counts the requests that reached it.
type countingServer struct {
	mu    sync.Mutex
	n     int
	lines int // NDJSON lines, for the http sink
}

func (c *countingServer) handler(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(r.Body); err == nil {
			body = zr
		}
	}
	lines := 0
	for s := bufio.NewScanner(body); s.Scan(); lines++ {
	}
	c.mu.Lock()
	c.n++
	c.lines += lines
	c.mu.Unlock()
}

func (c *countingServer) counts() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.lines
}

// TestBuild: every sink type of the config is built by the one switch and gets every record — the
// local ones at once, the push ones through the spool.
func TestBuild(t *testing.T) {
	col, rcv := &countingServer{}, &countingServer{}
	hs := httptest.NewServer(http.HandlerFunc(col.handler))
	defer hs.Close()
	rs := httptest.NewServer(http.HandlerFunc(rcv.handler))
	defer rs.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "records.jsonl")
	sinks := []sink.Config{
		{Type: sink.JSONL, Name: "file", Path: file},
		{Type: sink.Prometheus, Name: "prometheus", Listen: "127.0.0.1:0"},
		{Type: sink.HTTP, Name: "collector", URL: hs.URL, Timeout: duration.Of(10 * time.Second), BatchSize: 10},
		{Type: sink.RemoteWrite, Name: "prom", URL: rs.URL + "/api/v1/write", Timeout: duration.Of(10 * time.Second), BatchSize: 10},
	}
	m := metrics.New("test", "none", nil)
	rep, err := Build(sinks, filepath.Join(dir, "spool"), spool.Options{Sync: spool.SyncNever}, m, zaptest.NewLogger(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.push) != 2 || len(rep.local) != 2 {
		t.Fatalf("got %d push and %d local sinks; want 2 and 2", len(rep.push), len(rep.local))
	}
	if err := rep.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		rep.Write(testRecord(i))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := rep.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if b, _ := os.ReadFile(file); strings.Count(string(b), "\n") != 3 {
		t.Errorf("jsonl file: got %q; want 3 lines", b)
	}
	if _, lines := col.counts(); lines != 3 {
		t.Errorf("http collector: got %d records; want 3", lines)
	}
	if n, _ := rcv.counts(); n == 0 {
		t.Error("remote write receiver: got no request")
	}
	for _, s := range []string{"collector", "prom"} {
		if got := m.Sent.WithLabelValues(s).Get(); got != 3 {
			t.Errorf("%s: sent %v; want 3", s, got)
		}
	}
	if got := m.Runs.WithLabelValues("main", "go").Get(); got != 3 {
		t.Errorf("target runs counted: got %v; want 3", got)
	}
}

// TestBuildErrors: a bad sink fails Build with its name, and the local sinks built before it are
// closed (the listener is free again).
func TestBuildErrors(t *testing.T) {
	busy := httptest.NewServer(http.NotFoundHandler())
	defer busy.Close()
	for _, tc := range []struct {
		name  string
		sinks []sink.Config
		want  string
	}{
		{"unknown type", []sink.Config{{Type: "kafka", Name: "k"}}, `sink k: type "kafka"`},
		{"port taken", []sink.Config{{Type: sink.Prometheus, Name: "first", Listen: "127.0.0.1:0"}, {Type: sink.Prometheus, Name: "second", Listen: strings.TrimPrefix(busy.URL, "http://")}}, "prometheus sink second"},
		{"bad url", []sink.Config{{Type: sink.HTTP, Name: "c", URL: "::"}}, "http sink c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.sinks, filepath.Join(t.TempDir(), "spool"), spool.Options{}, metrics.New("t", "n", nil), zaptest.NewLogger(t), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error with %q", err, tc.want)
			}
		})
	}
}

// fakePush is a push sink whose Close waits for ctx (hang) or returns at once, noting when.
type fakePush struct {
	name   string
	hang   bool
	closed chan struct{}
}

func (f *fakePush) Name() string { return f.name }
func (f *fakePush) Start(ctx context.Context, _ *spool.Cursor, _ <-chan struct{}) {
	<-ctx.Done()
}
func (f *fakePush) Close(ctx context.Context) error {
	defer close(f.closed)
	if f.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// TestCloseDrainsSideBySide: one collector that hangs through the drain must not take the drain
// time of the others: every push sink is closed at once, not one after the other.
func TestCloseDrainsSideBySide(t *testing.T) {
	sp, err := spool.Open(filepath.Join(t.TempDir(), "spool"), spool.Options{Sync: spool.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	hang := &fakePush{name: "hangs", hang: true, closed: make(chan struct{})}
	fast := &fakePush{name: "fast", closed: make(chan struct{})}
	rep, err := New(zaptest.NewLogger(t), nil, sp, nil, []PushSink{hang, fast})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- rep.Close(ctx) }()
	select {
	case <-fast.closed:
	case <-hang.closed:
		t.Fatal("the hanging sink returned before the fast one was closed")
	}
	select {
	case <-hang.closed:
		t.Fatal("the hanging sink returned before the drain time ended")
	default:
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "sink hangs") {
		t.Errorf("Close: got %v; want the hanging sink's error", err)
	}
}
