package agent

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

// slowPipeline's probes take d and report how many runs of each target overlap.
func slowPipeline(d time.Duration, inflight *sync.Map, maxOverlap, maxAll *atomic.Int64) *Pipeline {
	var all atomic.Int64
	p := &Pipeline{Profiles: config.Default().Profiles(), icmp: noICMP} // 192.0.2.1 must not be pinged
	p.rtmp = func(c rtmp.Config) rtmpProbe { return fakeRun[rtmp.Result]{rtmp.Result{Probe: "rtmp", OK: true}} }
	p.tcp = func(c tcp.Config) tcpProbe {
		return fakeTCP(func(ctx context.Context) tcp.Result {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
			return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
		})
	}
	p.Progress = func(target string, s Stage) {
		v, _ := inflight.LoadOrStore(target, new(atomic.Int64))
		n := v.(*atomic.Int64)
		switch s {
		case StageTCP:
			if c := n.Add(1); c > maxOverlap.Load() {
				maxOverlap.Store(c)
			}
			if c := all.Add(1); c > maxAll.Load() {
				maxAll.Store(c)
			}
		case StageDone:
			if n.Load() > 0 {
				n.Add(-1)
				all.Add(-1)
			}
		}
	}
	return p
}

func TestSchedulerBoundsAndNoOverlap(t *testing.T) {
	var inflight sync.Map
	var maxOverlap, maxAll atomic.Int64
	var targets []Scheduled
	for i := range 6 {
		targets = append(targets, Scheduled{
			Target:   Target{Name: fmt.Sprintf("t%d", i), URL: "rtmp://192.0.2.1/live/k", AltPorts: []int{}, Timeout: time.Second},
			Interval: 20 * time.Millisecond, // runs take 50 ms: longer than the interval
		})
	}
	var mu sync.Mutex
	runs := map[string]int{}
	s := &Scheduler{
		Pipeline:    slowPipeline(50*time.Millisecond, &inflight, &maxOverlap, &maxAll),
		Targets:     targets,
		Concurrency: 2,
		Emit: func(r record.Record) {
			mu.Lock()
			runs[r.Target]++
			mu.Unlock()
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	s.Run(ctx)
	if maxOverlap.Load() != 1 {
		t.Errorf("got %d overlapping runs of one target; want 1", maxOverlap.Load())
	}
	if maxAll.Load() > 2 {
		t.Errorf("got %d runs at once; want at most the concurrency, 2", maxAll.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, tg := range targets {
		if runs[tg.Name] == 0 {
			t.Errorf("target %s never ran in 600ms: %v", tg.Name, runs)
		}
	}
}

// TestSchedulerStops: at cancellation a pending timer is cancelled and a run in progress is cut
// short and not emitted; Run returns once both are done, leaving no goroutine (TestMain's goleak).
func TestSchedulerStops(t *testing.T) {
	var inflight sync.Map
	var maxOverlap, maxAll atomic.Int64
	var emitted atomic.Int64
	s := &Scheduler{
		// A run takes 10 s unless cut short: only the cancellation ends it.
		Pipeline: slowPipeline(10*time.Second, &inflight, &maxOverlap, &maxAll),
		Targets: []Scheduled{
			{Target: Target{Name: "busy", URL: "rtmp://192.0.2.1/live/k", AltPorts: []int{}, Timeout: time.Minute}, Interval: 20 * time.Millisecond},
			{Target: Target{Name: "later", URL: "rtmp://192.0.2.1/live/k", AltPorts: []int{}, Timeout: time.Minute}, Interval: 24 * time.Hour},
		},
		Emit: func(record.Record) { emitted.Add(1) },
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for maxAll.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if maxAll.Load() == 0 {
		t.Fatal("the busy target's run never started")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of the cancellation")
	}
	if n := emitted.Load(); n != 0 {
		t.Errorf("emitted %d records; want none (the only run was cut short)", n)
	}
}

func TestOffsetSpreads(t *testing.T) {
	const iv = 30 * time.Second
	buckets := make([]int, 10)
	for i := range 1000 {
		o := offset(fmt.Sprintf("target-%d", i), iv)
		if o < 0 || o >= iv {
			t.Fatalf("offset %s outside [0, %s)", o, iv)
		}
		buckets[int(o*10/iv)]++
	}
	for i, n := range buckets {
		if n < 50 || n > 150 { // 100 expected per tenth
			t.Errorf("tenth %d of the interval has %d of 1000 targets; want them spread (~100): %v", i, n, buckets)
		}
	}
	if a, b := offset("same", iv), offset("same", iv); (a - b).Abs() > iv/100 {
		t.Errorf("offset of one name moved %s between calls; want at most 1%% jitter", (a - b).Abs())
	}
}

func TestSequence(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSequence(dir)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for range 3000 {
		n, err := s.Next()
		if err != nil || n <= last {
			t.Fatalf("got %d %v after %d; want increasing", n, err, last)
		}
		last = n
	}
	// A restart (or a crash: nothing is flushed at exit) continues above every number handed out.
	s2, err := OpenSequence(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s2.Next()
	if n <= last {
		t.Errorf("after reopen got %d; want above %d", n, last)
	}
	if err := writeFileString(dir+"/sequence", "garbage"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSequence(dir); err == nil {
		t.Errorf("got no error for a corrupt sequence file")
	}
}

// TestSchedulerGoroutinesBoundedByConcurrency: the scheduler's own goroutines are 1 + the
// concurrency, not one per target. 300 targets due at once with runs of 20 ms and a concurrency of
// 4: a goroutine per target would show 300 or more.
func TestSchedulerGoroutinesBoundedByConcurrency(t *testing.T) {
	var inflight sync.Map
	var maxOverlap, maxAll atomic.Int64
	var targets []Scheduled
	for i := range 300 {
		targets = append(targets, Scheduled{
			Target:   Target{Name: fmt.Sprintf("t%03d", i), URL: "rtmp://192.0.2.1/live/k", AltPorts: []int{}, Timeout: time.Second},
			Interval: 50 * time.Millisecond,
		})
	}
	var runs atomic.Int64
	s := &Scheduler{
		Pipeline:    slowPipeline(20*time.Millisecond, &inflight, &maxOverlap, &maxAll),
		Targets:     targets,
		Concurrency: 4,
		Emit:        func(record.Record) { runs.Add(1) },
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	most := 0
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			most = max(most, runtime.NumGoroutine()-before)
		}
	}
	// Per run in flight the fake pipeline adds its own probe goroutines (a handful); 4 runs at once.
	if most > 60 {
		t.Errorf("got up to %d goroutines beside the test's; want them bounded by the concurrency (4), not the 300 targets", most)
	}
	if maxAll.Load() > 4 || runs.Load() == 0 {
		t.Errorf("got %d runs at once and %d runs; want at most 4 at once and some runs", maxAll.Load(), runs.Load())
	}
	// The goroutine that ran Run closes done before it exits, so give it (and nothing else) a
	// bounded moment to go.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before {
		t.Errorf("%d goroutines after Run returned, %d before; want none left", after, before)
	}
}

// TestSchedulerLagWhenSaturated: when every worker is busy a due target waits, and the lag it
// reports says how long. One worker, two targets due every 10 ms, runs of 30 ms: each run starts
// at least 20 ms after its plan once the worker is saturated.
func TestSchedulerLagWhenSaturated(t *testing.T) {
	var inflight sync.Map
	var maxOverlap, maxAll atomic.Int64
	var targets []Scheduled
	for _, n := range []string{"a", "b"} {
		targets = append(targets, Scheduled{Target: Target{Name: n, URL: "rtmp://192.0.2.1/live/k", AltPorts: []int{}, Timeout: time.Second}, Interval: 10 * time.Millisecond})
	}
	var mu sync.Mutex
	var most time.Duration
	s := &Scheduler{
		Pipeline:    slowPipeline(30*time.Millisecond, &inflight, &maxOverlap, &maxAll),
		Targets:     targets,
		Concurrency: 1,
		Lag: func(_ string, lag time.Duration) {
			mu.Lock()
			most = max(most, lag)
			mu.Unlock()
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	s.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if most < 20*time.Millisecond {
		t.Errorf("largest lag %s; want ≥ 20 ms: a due target waiting for the only worker must say so", most)
	}
}
