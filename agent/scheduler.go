package agent

import (
	"container/heap"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/record"
)

// Scheduled is a target with its schedule.
type Scheduled struct {
	Target
	Interval time.Duration
}

// Scheduler owns the clock: it runs each target's pipeline every interval, spread so that targets do
// not fire together, never two runs of the same target at once, and at most Concurrency runs at a
// time. Probes are one-shot; the scheduler decides when.
type Scheduler struct {
	Pipeline    *Pipeline
	Targets     []Scheduled
	Concurrency int // 0 = DefaultConcurrency
	// Emit receives every record, from the run's goroutine; it must not block for long (sinks
	// spool to disk and send elsewhere).
	Emit func(record.Record)
	Log  *zap.Logger

	// Lag, if set, is told how late each run started against its plan (for benchmarks and metrics).
	Lag func(target string, lag time.Duration)

	now func() time.Time
}

// DefaultConcurrency bounds simultaneous target runs, under run and check alike: enough for
// thousands of targets at 30 s, bounded for a venue laptop.
const DefaultConcurrency = 64

// Run blocks until ctx is done, then waits for the runs in flight, which end at their deadlines or
// at once, since they share ctx.
//
// One goroutine keeps the plan — a heap of targets ordered by their next start — and starts each
// target's run, when it is due and fewer than Concurrency runs are in flight, on a goroutine of its
// own that ends with the run (so the deep stack a run grows is freed with it, not kept between runs
// by a long-lived goroutine). A target is back in the plan only when its run has ended, so two runs
// of it never overlap. Goroutines: 1 + the runs in flight, however many targets there are. When
// Concurrency runs are in flight, a due target waits, and its lag says so.
func (s *Scheduler) Run(ctx context.Context) {
	if len(s.Targets) == 0 {
		return
	}
	n := s.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	// slots holds a token per run in flight; back has room for every target, so a run never waits
	// to return its target to the plan.
	slots := make(chan struct{}, min(n, len(s.Targets)))
	back := make(chan *planned, len(s.Targets))
	var wg sync.WaitGroup
	s.dispatch(ctx, func(p *planned) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if s.runOnce(ctx, p) {
				back <- p
			}
		}()
	}, slots, back)
	wg.Wait()
}

// planned is a target and when its next run should start.
type planned struct {
	t    *Scheduled
	next time.Time
}

// plan is a min-heap of planned runs by start time.
type plan []*planned

func (p plan) Len() int           { return len(p) }
func (p plan) Less(i, j int) bool { return p[i].next.Before(p[j].next) }
func (p plan) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *plan) Push(x any)        { *p = append(*p, x.(*planned)) }
func (p *plan) Pop() any {
	old := *p
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*p = old[:len(old)-1]
	return x
}

// dispatch starts each due target's run once a slot is free, and plans the next run of each target
// that comes back, until ctx is done.
func (s *Scheduler) dispatch(ctx context.Context, start func(*planned), slots chan<- struct{}, back <-chan *planned) {
	now := s.clock()
	h := make(plan, 0, len(s.Targets))
	for i := range s.Targets {
		t := &s.Targets[i]
		h = append(h, &planned{t: t, next: now.Add(offset(t.Name, t.Interval))})
	}
	heap.Init(&h)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var slot chan<- struct{}
		if len(h) > 0 {
			if wait := h[0].next.Sub(s.clock()); wait <= 0 {
				slot = slots // due: it starts as soon as a slot is free
			} else {
				timer.Reset(wait)
			}
		}
		select {
		case <-ctx.Done():
			return
		case slot <- struct{}{}:
			start(heap.Pop(&h).(*planned))
		case p := <-back:
			s.replan(p)
			heap.Push(&h, p)
		case <-timer.C:
		}
	}
}

// replan moves p to its next slot after a run. A run that took longer than the interval makes the
// next start late rather than pile up: missed slots are skipped.
func (s *Scheduler) replan(p *planned) {
	p.next = p.next.Add(p.t.Interval)
	if now := s.clock(); p.next.Before(now) {
		skipped := now.Sub(p.next)/p.t.Interval + 1
		p.next = p.next.Add(skipped * p.t.Interval)
		if s.Log != nil {
			s.Log.Warn("target run overran its interval; skipping slots", zap.String("target", p.t.Name), zap.Int64("skipped", int64(skipped)))
		}
	}
}

// runOnce runs p's target and emits its record. It reports false when ctx ended during the run:
// a run cut short by shutdown measured the shutdown, not the network, and is dropped.
func (s *Scheduler) runOnce(ctx context.Context, p *planned) bool {
	if ctx.Err() != nil {
		return false
	}
	started := s.clock()
	if s.Lag != nil {
		s.Lag(p.t.Name, started.Sub(p.next))
	}
	rec := s.Pipeline.Run(ctx, p.t.Target)
	if ctx.Err() != nil {
		return false
	}
	if s.Emit != nil {
		s.Emit(rec)
	}
	return true
}

func (s *Scheduler) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// offset spreads targets over the interval: a stable position from the target's name (so a restart
// keeps the rhythm a collector sees) plus up to 1% jitter so agents sharing a config drift apart.
func offset(name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(name))
	base := time.Duration(h.Sum64() % uint64(interval))
	jitter := time.Duration(rand.Int64N(int64(interval)/100 + 1))
	return (base + jitter) % interval
}
