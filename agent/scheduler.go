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
func (s *Scheduler) Run(ctx context.Context) {
	n := s.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, t := range s.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, t, sem)
		}()
	}
	wg.Wait()
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

// loop runs one target: sequentially, so two runs of it never overlap. A run that takes longer than
// the interval makes the next start late rather than pile up; missed slots are skipped.
func (s *Scheduler) loop(ctx context.Context, t Scheduled, sem chan struct{}) {
	next := s.clock().Add(offset(t.Name, t.Interval))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		started := s.clock()
		if s.Lag != nil {
			s.Lag(t.Name, started.Sub(next))
		}
		rec := s.Pipeline.Run(ctx, t.Target)
		<-sem
		if ctx.Err() != nil {
			return // a run cut short by shutdown measured the shutdown, not the network
		}
		if s.Emit != nil {
			s.Emit(rec)
		}
		next = next.Add(t.Interval)
		if now := s.clock(); next.Before(now) {
			skipped := now.Sub(next)/t.Interval + 1
			next = next.Add(skipped * t.Interval)
			if s.Log != nil {
				s.Log.Warn("target run overran its interval; skipping slots", zap.String("target", t.Name), zap.Int64("skipped", int64(skipped)))
			}
		}
		timer.Reset(time.Until(next))
	}
}
