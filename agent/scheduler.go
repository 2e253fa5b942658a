package agent

import (
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
	Concurrency int // default 64: enough for thousands of targets at 30 s, bounded for a laptop
	// Emit receives every record, from the run's goroutine; it must not block for long (sinks
	// spool to disk and send elsewhere).
	Emit func(record.Record)
	Log  *zap.Logger

	// Lag, if set, is told how late each run started against its plan (for benchmarks and metrics).
	Lag func(target string, lag time.Duration)

	now func() time.Time
}

// DefaultConcurrency bounds simultaneous target runs.
const DefaultConcurrency = 64

// Run blocks until ctx is done, then waits for the runs in flight, which end at their deadlines or
// at once, since they share ctx.
//
// No goroutine waits for a target between its runs: each target has a timer (time.AfterFunc), and a
// run gets a goroutine of its own when its timer fires, which ends with the run. A goroutine per
// target that slept between runs kept a stack grown to the depth of its runs (probes, diagnosis,
// JSON, the spool) — 8 KB and more per target, 2,000 of them at scale (docs/performance.md).
func (s *Scheduler) Run(ctx context.Context) {
	n := s.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	chains := make([]*chain, 0, len(s.Targets))
	for _, t := range s.Targets {
		c := &chain{s: s, t: t, sem: sem, wg: &wg, next: s.clock().Add(offset(t.Name, t.Interval))}
		wg.Add(1) // released when the chain ends: by stop, or by its last run
		c.mu.Lock()
		c.timer = time.AfterFunc(time.Until(c.next), func() { c.fire(ctx) })
		c.mu.Unlock()
		chains = append(chains, c)
	}
	<-ctx.Done()
	for _, c := range chains {
		c.stop()
	}
	wg.Wait()
}

// chain is one target's sequence of runs: one at a time, each started by the timer the one before
// it set, so two runs of a target never overlap. A run that takes longer than the interval makes
// the next start late rather than pile up; missed slots are skipped.
type chain struct {
	s   *Scheduler
	t   Scheduled
	sem chan struct{}
	wg  *sync.WaitGroup
	// next is the planned start of the next run; only the run in progress touches it.
	next time.Time

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// stop ends the chain: a timer still pending is cancelled, and the chain released here; a run in
// progress sees stopped (or ctx) when it would set the next timer, and releases it then.
func (c *chain) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.timer.Stop() {
		c.wg.Done()
	}
}

// fire is the timer's function, on a goroutine of its own: one run, then the timer for the next.
func (c *chain) fire(ctx context.Context) {
	if c.run(ctx) {
		c.mu.Lock()
		if !c.stopped {
			c.timer.Reset(time.Until(c.next))
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
	c.wg.Done()
}

// run waits for a slot, runs the pipeline and emits the record. It returns false when ctx ended:
// a run cut short by shutdown measured the shutdown, not the network, and its record is dropped.
func (c *chain) run(ctx context.Context) bool {
	s, t := c.s, c.t
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	started := s.clock()
	if s.Lag != nil {
		s.Lag(t.Name, started.Sub(c.next))
	}
	rec := s.Pipeline.Run(ctx, t.Target)
	<-c.sem
	if ctx.Err() != nil {
		return false
	}
	if s.Emit != nil {
		s.Emit(rec)
	}
	c.next = c.next.Add(t.Interval)
	if now := s.clock(); c.next.Before(now) {
		skipped := now.Sub(c.next)/t.Interval + 1
		c.next = c.next.Add(skipped * t.Interval)
		if s.Log != nil {
			s.Log.Warn("target run overran its interval; skipping slots", zap.String("target", t.Name), zap.Int64("skipped", int64(skipped)))
		}
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
