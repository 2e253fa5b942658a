package push

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ingestprobe/ingestprobe/internal/duration"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

// Helpers shared by the push sink tests (http, remote_write).

var pushT0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func pushRecord(seq int, target string) record.Record {
	return record.Record{
		ID: fmt.Sprintf("enc1:%d", seq), Agent: "enc1", Target: target,
		URL: "rtmp://127.0.0.1:1935/live/<redacted>", Time: pushT0.Add(time.Duration(seq) * time.Second),
		Verdict: record.Go, Findings: []record.Finding{}, Labels: map[string]string{"venue": "berlin"},
	}
}

// pushRig is a spool with the cursor of one sink, a wake channel, metrics and a log observer.
type pushRig struct {
	t     *testing.T
	name  string
	spool *spool.Spool
	cur   *spool.Cursor
	wake  chan struct{}
	m     *metrics.Metrics
	logs  *observer.ObservedLogs
	log   *zap.Logger
}

func newPushRig(t *testing.T, name string, opt spool.Options) *pushRig {
	t.Helper()
	if opt.Sync == spool.SyncInterval {
		opt.Sync = spool.SyncNever // tests do not need fsync, and the interval syncer would be one more goroutine
	}
	sp, err := spool.Open(filepath.Join(t.TempDir(), "spool"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	cur, err := sp.Cursor(name)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	return &pushRig{t: t, name: name, spool: sp, cur: cur, wake: make(chan struct{}, 1),
		m: metrics.New("test", "none", nil), logs: logs, log: zap.New(core)}
}

func (r *pushRig) add(recs ...record.Record) {
	r.t.Helper()
	for _, rec := range recs {
		b, err := record.Marshal(rec)
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := r.spool.Append(b); err != nil {
			r.t.Fatal(err)
		}
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *pushRig) sinkConfig(kind, url string) sink.Config {
	return sink.Config{Type: kind, Name: r.name, URL: url, Timeout: duration.Of(5 * time.Second), BatchSize: 100}
}

// start runs sink's loop; cleanup closes it (5 s to drain) and waits for Start to return.
// pushSink is what the reporter needs of a push sink.
type pushSink interface {
	Start(ctx context.Context, cur *spool.Cursor, wake <-chan struct{})
	Close(ctx context.Context) error
}

func (r *pushRig) start(s pushSink) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Start(ctx, r.cur, r.wake)
	}()
	r.t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		s.Close(cctx)
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			r.t.Error("Start did not return 5 s after Close and cancel")
		}
	})
}

func (r *pushRig) sent() float64    { return r.m.Sent.WithLabelValues(r.name).Get() }
func (r *pushRig) retries() float64 { return r.m.Retries.WithLabelValues(r.name).Get() }
func (r *pushRig) dropped() float64 { return r.m.Dropped.WithLabelValues(r.name).Get() }
func (r *pushRig) queue() float64   { return r.m.Queue.WithLabelValues(r.name).Get() }

// noSecretInLogs fails when any log entry (message or field) holds secret.
func (r *pushRig) noSecretInLogs(secret string) {
	r.t.Helper()
	for _, e := range r.logs.All() {
		text := e.Message + fmt.Sprint(e.ContextMap())
		if strings.Contains(text, secret) {
			r.t.Errorf("log entry holds a secret: %s", text)
		}
	}
}

func (r *pushRig) logged(substr string) bool {
	for _, e := range r.logs.All() {
		if strings.Contains(e.Message+fmt.Sprint(e.ContextMap()), substr) {
			return true
		}
	}
	return false
}

// waitFor polls cond (every 5 ms, for at most 5 s): the sinks work on their own goroutine and
// signal nothing a test could wait on except their effects.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeTimer replaces time.After in a pusher: it records each delay and fires at once, or never
// (block), so that backoff is checked without sleeping through it.
type fakeTimer struct {
	mu     sync.Mutex
	delays []time.Duration
	block  bool
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delays = append(f.delays, d)
	if f.block {
		return nil // only ctx or Close ends the wait
	}
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

func (f *fakeTimer) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.delays...)
}

// seams makes a pusher's backoff deterministic: jitter is half the window, the clock is fixed.
func seams(p *pusher, tm *fakeTimer, now time.Time) {
	p.after = tm.after
	p.jitter = func(n int64) int64 { return n / 2 }
	p.now = func() time.Time { return now }
	p.spacing = 0 // the clock stands still here: spacing is TestPushSpacing's
}

// reply is one scripted collector answer.
type reply struct {
	status int
	header map[string]string
	body   string
	hangup bool // close the connection without an answer
	hang   bool // answer only when the client gives up
}

// scriptedHandler answers the i-th request with replies[i], then 200; it calls record first.
func scriptedHandler(replies []reply, record func(r *http.Request, body []byte)) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		record(r, body)
		rep := reply{status: http.StatusOK}
		if i < len(replies) {
			rep = replies[i]
		}
		switch {
		case rep.hangup:
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
			return
		case rep.hang:
			<-r.Context().Done()
			return
		}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.status)
		fmt.Fprint(w, rep.body)
	}
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClassify(t *testing.T) {
	tests := []struct {
		a    pushAttempt
		want pushVerdict
	}{
		{pushAttempt{status: 200}, pushOK},
		{pushAttempt{status: 204}, pushOK},
		{pushAttempt{nothing: true}, pushOK},
		{pushAttempt{err: context.DeadlineExceeded}, pushRetry},
		{pushAttempt{status: 408}, pushRetry},
		{pushAttempt{status: 429}, pushRetry},
		{pushAttempt{status: 500}, pushRetry},
		{pushAttempt{status: 503}, pushRetry},
		{pushAttempt{status: 301}, pushRetry},
		{pushAttempt{status: 400}, pushDrop},
		{pushAttempt{status: 401}, pushRetry},
		{pushAttempt{status: 403}, pushRetry},
		{pushAttempt{status: 404}, pushDrop},
		{pushAttempt{status: 413}, pushDrop},
	}
	for _, tt := range tests {
		t.Run(tt.a.reason(), func(t *testing.T) {
			if got := classify(&tt.a); got != tt.want {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}

func TestRetryAfterDelay(t *testing.T) {
	now := pushT0
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"-5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := retryAfterDelay(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p := &pusher{}
	var windows []time.Duration
	p.jitter = func(n int64) int64 { windows = append(windows, time.Duration(n)); return n - 1 }
	for i := range 12 {
		d := p.backoff(i)
		if d < 0 || d >= retryCap {
			t.Errorf("failure %d: delay %v outside [0, %v)", i, d, retryCap)
		}
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, retryCap, retryCap, retryCap}
	if fmt.Sprint(windows) != fmt.Sprint(want) {
		t.Errorf("got windows %v; want %v", windows, want)
	}
	p.jitter = func(n int64) int64 { return n - 1 }
	if d := p.backoff(1000); d != retryCap-1 {
		t.Errorf("failure 1000: got %v; want %v (no overflow)", d, retryCap-1)
	}
}

// TestPushSpacing: while records trickle in, a push sink starts at most one request per spacing,
// and that request carries what arrived meanwhile; the first record after a quiet spell, a full
// batch, and what is queued at Close go at once. The spacing is long (2 s) so that "at once" is
// unmistakable on a loaded machine.
func TestPushSpacing(t *testing.T) {
	const spacing = 2 * time.Second
	col := &ndjsonCollector{}
	srv := newServer(t, scriptedHandler(nil, col.record))
	rig := newPushRig(t, "collector", spool.Options{})
	h := newTestHTTP(t, rig, srv.URL+"/ingest", func(c *sink.Config) { c.BatchSize = 3 })
	h.p.spacing = spacing
	rig.start(h)

	t0 := time.Now()
	rig.add(pushRecord(1, "main"))
	waitFor(t, "record 1 acknowledged", func() bool { return rig.cur.Acked() == 1 })
	if d := time.Since(t0); d >= spacing {
		t.Errorf("first record: acknowledged after %s; want at once (< %s)", d, spacing)
	}
	rig.add(pushRecord(2, "main"))
	rig.add(pushRecord(3, "main"))
	waitFor(t, "records 2 and 3 acknowledged", func() bool { return rig.cur.Acked() == 3 })
	if d := time.Since(t0); d < spacing {
		t.Errorf("records 2 and 3: acknowledged %s after the first request; want at least %s", d, spacing)
	}
	t1 := time.Now()
	rig.add(pushRecord(4, "main"), pushRecord(5, "main"), pushRecord(6, "main"))
	waitFor(t, "a full batch acknowledged", func() bool { return rig.cur.Acked() == 6 })
	if d := time.Since(t1); d >= spacing {
		t.Errorf("full batch: acknowledged after %s; want at once (< %s)", d, spacing)
	}
	rig.add(pushRecord(7, "main")) // now waits for the spacing …
	t2 := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil { // … which Close cuts short
		t.Fatal(err)
	}
	if d := time.Since(t2); d >= spacing || rig.cur.Acked() != 7 {
		t.Errorf("close: record 7 acknowledged %v after %s; want it delivered at once (< %s)", rig.cur.Acked() == 7, d, spacing)
	}
	var sizes []int
	for _, r := range col.requests() {
		sizes = append(sizes, len(r.ids))
	}
	if fmt.Sprint(sizes) != "[1 2 3 1]" {
		t.Errorf("records per request: got %v; want [1 2 3 1]", sizes)
	}
}
