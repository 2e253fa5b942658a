package status

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
)

// fakeClock is the board's now, moved by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time           { return c.t }
func (c *fakeClock) add(d time.Duration)      { c.t = c.t.Add(d) }
func newClock() *fakeClock                    { return &fakeClock{t: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)} }
func testBoard(c *fakeClock) *Board           { b := NewBoard("1.2.3"); b.now = c.now; return b }
func verdictOf(t TargetStatus) record.Verdict { return *t.Verdict }

// rec is a record of target at time at: connect is the ingest port's connect time, < 0 for none.
func rec(target string, at time.Time, v record.Verdict, connect float64) record.Record {
	r := record.Record{Target: target, Time: at, URL: "rtmp://push.example.com/live/<redacted>", Verdict: v, DurationSeconds: 0.25,
		Findings: []record.Finding{}}
	if v == record.NoGo {
		r.Findings = append(r.Findings, record.Finding{Code: "tcp.blocked", Severity: record.Error, Message: "port 1935 is silently dropped",
			Remedy: "Ask venue IT to allow outbound TCP 1935", Evidence: map[string]any{"port": 1935}})
	}
	r.Results.TCP = []tcp.Result{{Probe: "tcp", Address: "192.0.2.1", Port: 443, Role: "alternative", OK: true, ConnectSeconds: 0.5}}
	if connect >= 0 {
		r.Results.TCP = append(r.Results.TCP, tcp.Result{Probe: "tcp", Address: "192.0.2.1", Port: 1935, Role: "ingest", OK: true, ConnectSeconds: connect})
	} else {
		r.Results.TCP = append(r.Results.TCP, tcp.Result{Probe: "tcp", Address: "192.0.2.1", Port: 1935, Role: "ingest", Error: tcp.Timeout, ConnectSeconds: 5})
	}
	return r
}

// TestBoardLatest: a target is waiting until its first record, then shows the latest record's
// verdict, time and findings (code, severity, message, remedy — no evidence).
func TestBoardLatest(t *testing.T) {
	c := newClock()
	b := testBoard(c)
	b.Configure("enc1", []Target{{Name: "main", URL: "rtmp://push.example.com/live/show?txSecret=abc", Interval: 30 * time.Second}})
	doc := b.Status()
	if doc.Agent != "enc1" || doc.Version != "1.2.3" || !doc.GeneratedAt.Equal(c.t) {
		t.Errorf("got agent %q version %q at %s; want enc1 1.2.3 at %s", doc.Agent, doc.Version, doc.GeneratedAt, c.t)
	}
	w := doc.Targets[0]
	if w.Verdict != nil || w.CheckedAt != nil || w.DurationSeconds != nil || len(w.History) != 0 || w.Stale {
		t.Errorf("before the first run: got %+v; want no verdict, time, duration or history, not stale", w)
	}
	if w.URL != "rtmp://push.example.com/live/<redacted>" {
		t.Errorf("url: got %q; want it redacted", w.URL)
	}
	c.add(10 * time.Second)
	b.Observe(rec("main", c.t, record.NoGo, -1))
	b.Observe(rec("other", c.t, record.NoGo, -1)) // not configured: dropped
	doc = b.Status()
	if len(doc.Targets) != 1 {
		t.Fatalf("targets: got %d; want 1 (a record of an unknown target is dropped)", len(doc.Targets))
	}
	g := doc.Targets[0]
	if verdictOf(g) != record.NoGo || !g.CheckedAt.Equal(c.t) || *g.DurationSeconds != 0.25 {
		t.Errorf("got verdict %v at %v took %v; want no-go at %s took 0.25", verdictOf(g), g.CheckedAt, *g.DurationSeconds, c.t)
	}
	want := Finding{Code: "tcp.blocked", Severity: record.Error, Message: "port 1935 is silently dropped", Remedy: "Ask venue IT to allow outbound TCP 1935"}
	if len(g.Findings) != 1 || g.Findings[0] != want {
		t.Errorf("findings: got %+v; want [%+v]", g.Findings, want)
	}
	if len(g.History) != 1 || g.History[0].ConnectSeconds != nil || g.History[0].Verdict != record.NoGo {
		t.Errorf("history: got %+v; want one no-go point without a connect time", g.History)
	}
}

// TestBoardStale: a target is stale when nothing came for more than StaleAfter intervals — from
// its last record, or, never checked, from when the board learnt of it.
func TestBoardStale(t *testing.T) {
	c := newClock()
	b := testBoard(c)
	b.Configure("enc1", []Target{{Name: "main", Interval: 10 * time.Second}, {Name: "never", Interval: 10 * time.Second}})
	b.Observe(rec("main", c.t, record.Go, 0.001))
	for _, step := range []struct {
		after       time.Duration
		main, never bool
	}{
		{29 * time.Second, false, false},
		{30 * time.Second, false, false}, // exactly 3 intervals: not yet
		{31 * time.Second, true, true},
	} {
		c.t = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC).Add(step.after)
		doc := b.Status()
		if doc.Targets[0].Stale != step.main || doc.Targets[1].Stale != step.never {
			t.Errorf("after %s: got stale %v, %v; want %v, %v", step.after, doc.Targets[0].Stale, doc.Targets[1].Stale, step.main, step.never)
		}
	}
	b.Observe(rec("main", c.t, record.Go, 0.001))
	if doc := b.Status(); doc.Targets[0].Stale {
		t.Error("a new record: still stale")
	}
}

// TestBoardHistory: the history is the last hour, oldest first, with each run's verdict and the
// ingest port's connect time.
func TestBoardHistory(t *testing.T) {
	c := newClock()
	b := testBoard(c)
	b.Configure("enc1", []Target{{Name: "main", Interval: 30 * time.Second}})
	start := c.t
	for i := range 180 { // 90 minutes
		v, conn := record.Go, 0.002
		if i == 170 {
			v, conn = record.NoGo, -1
		}
		b.Observe(rec("main", c.t, v, conn))
		c.add(30 * time.Second)
	}
	h := b.Status().Targets[0].History
	// The hour up to now: runs at 30 min … 89 min 30 s after start.
	if len(h) != 120 {
		t.Fatalf("history: got %d points; want 120 (an hour at 30 s)", len(h))
	}
	if first := h[0].Time; !first.Equal(start.Add(30 * time.Minute)) {
		t.Errorf("oldest point: got %s; want %s (older than an hour is dropped)", first, start.Add(30*time.Minute))
	}
	for i := 1; i < len(h); i++ {
		if !h[i].Time.After(h[i-1].Time) {
			t.Fatalf("history not in order at %d: %s then %s", i, h[i-1].Time, h[i].Time)
		}
	}
	nogo := h[len(h)-10]
	if nogo.Verdict != record.NoGo || nogo.ConnectSeconds != nil {
		t.Errorf("run 170: got %s, connect %v; want no-go without a connect", nogo.Verdict, nogo.ConnectSeconds)
	}
	if p := h[len(h)-1]; p.Verdict != record.Go || p.ConnectSeconds == nil || *p.ConnectSeconds != 0.002 {
		t.Errorf("latest point: got %+v; want go with connect 0.002 s", p)
	}
}

// TestBoardHistoryBounded: at a 1 s interval, runs within HistoryStep share a point — the worst
// verdict and the slowest connect, a failure never averaged away — so two hours of runs fit
// in MaxPoints and still cover the hour.
func TestBoardHistoryBounded(t *testing.T) {
	c := newClock()
	b := testBoard(c)
	b.Configure("enc1", []Target{{Name: "fast", Interval: time.Second}})
	for i := range 7200 {
		v, conn := record.Go, 0.001*float64(1+i%5)
		if i == 7000 {
			v, conn = record.Warn, 0.5
		}
		if i == 7001 {
			v, conn = record.NoGo, -1
		}
		b.Observe(rec("fast", c.t, v, conn))
		c.add(time.Second)
	}
	if got := len(b.byName["fast"].hist.buf); got != MaxPoints {
		t.Errorf("ring size: got %d; want %d", got, MaxPoints)
	}
	h := b.Status().Targets[0].History
	if len(h) < MaxPoints-2 || len(h) > MaxPoints {
		t.Errorf("history: got %d points; want about %d (an hour in %s steps)", len(h), MaxPoints, HistoryStep)
	}
	if span := h[len(h)-1].Time.Sub(h[0].Time); span < HistoryWindow-2*HistoryStep {
		t.Errorf("history spans %s; want about an hour", span)
	}
	var worst []string
	for _, p := range h {
		if p.Verdict != record.Go {
			worst = append(worst, string(p.Verdict))
			if p.ConnectSeconds != nil {
				t.Errorf("merged point with a failed connect: got connect %v; want none", *p.ConnectSeconds)
			}
		} else if p.ConnectSeconds == nil || *p.ConnectSeconds != 0.005 {
			t.Fatalf("merged go point: got connect %v; want the slowest of its runs, 0.005", p.ConnectSeconds)
		}
	}
	if strings.Join(worst, ",") != "no-go" {
		t.Errorf("non-go points: got %v; want the warn and no-go runs in one no-go point", worst)
	}
}

// TestBoardConfigure: a reload keeps the history of the targets that stay, forgets those that go,
// and shows them in the new order.
func TestBoardConfigure(t *testing.T) {
	c := newClock()
	b := testBoard(c)
	b.Configure("enc1", []Target{{Name: "a", Interval: 30 * time.Second}, {Name: "b", Interval: 30 * time.Second}})
	for range 10 {
		b.Observe(rec("a", c.t, record.Go, 0.001))
		b.Observe(rec("b", c.t, record.Go, 0.001))
		c.add(30 * time.Second)
	}
	b.Configure("enc2", []Target{{Name: "c", Interval: 30 * time.Second}, {Name: "a", Interval: 10 * time.Minute}})
	doc := b.Status()
	var names []string
	for _, t := range doc.Targets {
		names = append(names, t.Name)
	}
	if strings.Join(names, ",") != "c,a" || doc.Agent != "enc2" {
		t.Fatalf("got agent %s targets %v; want enc2 [c a]", doc.Agent, names)
	}
	if n := len(doc.Targets[1].History); n != 10 || doc.Targets[1].Verdict == nil {
		t.Errorf("a after the reload: got %d points, verdict %v; want its 10 points and its verdict", n, doc.Targets[1].Verdict)
	}
	// At 10 min an hour is 8 points; the ring keeps room for the 10 it holds.
	if n := len(b.byName["a"].hist.buf); n != 10 {
		t.Errorf("a's ring after its interval grew: got %d; want 10", n)
	}
}

// A live window shows on its target's tile beside the latest run: its figures, its warnings and
// errors among the findings, the worse verdict — and it is not a run in the history.
func TestBoardLive(t *testing.T) {
	b := NewBoard("v")
	b.Configure("enc1", []Target{{Name: "main", URL: "rtmp://h/live/k", Interval: 30 * time.Second}})
	t0 := time.Now()
	b.Observe(record.Record{Target: "main", Time: t0, Verdict: record.Go, Findings: []record.Finding{}})
	b.Observe(record.Record{Target: "main", Time: t0.Add(time.Second), Verdict: record.NoGo,
		Findings: []record.Finding{{Code: "live.stalled", Severity: record.Error, Message: "stalled"}},
		Results: record.Results{Live: &live.Result{Probe: "live", Publishers: 1, AckedBps: 0, StalledSeconds: 6,
			Connections: []live.Connection{{Process: "obs"}}}}})
	doc := b.Status()
	ts := doc.Targets[0]
	if ts.Live == nil || ts.Live.Publishers != 1 || len(ts.Live.Processes) != 1 || ts.Live.Processes[0] != "obs" {
		t.Fatalf("live %+v", ts.Live)
	}
	if *ts.Verdict != record.NoGo || len(ts.Findings) != 1 || ts.Findings[0].Code != "live.stalled" || len(ts.History) != 1 {
		t.Errorf("verdict %s, findings %+v, %d points; want no-go, live.stalled, the run alone in the history", *ts.Verdict, ts.Findings, len(ts.History))
	}
	if ts.Live.FiguresUnknown {
		t.Error("figures unknown on a window with figures")
	}
	// A publisher whose statistics cannot be read (Windows without rights): said, not zeros.
	b.Observe(record.Record{Target: "main", Time: t0.Add(2 * time.Second), Verdict: record.Warn,
		Results: record.Results{Live: &live.Result{Probe: "live", Publishers: 1, UnknownConnections: 1, FiguresUnknown: live.WhyAdmin,
			Connections: []live.Connection{{Process: "obs64.exe", FiguresUnknown: live.WhyAdmin}}}}})
	if l := b.Status().Targets[0].Live; l == nil || !l.FiguresUnknown || l.Publishers != 1 {
		t.Errorf("live %+v; want one publisher, figures unknown", l)
	}
}

// TestBoardUplink: a measured soak stays on the tile, with its severity, through the checks that
// follow it (a soak runs every uplink_every, the checks far more often); an unmeasured one does
// not replace it.
func TestBoardUplink(t *testing.T) {
	c := newClock()
	b := testBoard(c)
	b.Configure("enc1", []Target{{Name: "main", URL: "rtmp://h/live/k", Interval: 30 * time.Second}})
	soak := rec("main", c.now(), record.NoGo, 0.01)
	soak.Findings = append(soak.Findings, record.Finding{Code: "uplink.insufficient", Severity: record.Error})
	soak.Results.Uplink = &uplink.Result{Probe: "uplink", OK: true, TargetBPS: 6e6, AchievedBPS: 2.9e6, DurationSeconds: 10, RecommendedMaxBPS: 2.3e6}
	b.Observe(soak)
	c.add(30 * time.Second)
	b.Observe(rec("main", c.now(), record.Go, 0.01))
	failed := rec("main", c.now().Add(time.Second), record.Go, 0.01)
	failed.Results.Uplink = &uplink.Result{Probe: "uplink", Error: "refused"}
	b.Observe(failed)
	u := b.Status().Targets[0].Uplink
	if u == nil || u.AchievedBps != 2.9e6 || u.TargetBps != 6e6 || u.Severity != record.Error || u.RecommendedMaxBps != 2.3e6 {
		t.Fatalf("uplink %+v; want the measured soak's 2.9 of 6 Mbit/s, error", u)
	}
	doc, _ := json.Marshal(b.Status())
	if !strings.Contains(string(doc), `"uplink":{"at":`) {
		t.Errorf("no uplink in %s", doc)
	}
}
