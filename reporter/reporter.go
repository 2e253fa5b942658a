package reporter

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/spool"
)

// Sink receives every record. Write must not wait on the network: a push sink reads what it sends
// from the spool, on its own goroutine, and a local sink (jsonl, /metrics) is fast.
type Sink interface {
	Name() string
	Write(rec record.Record, payload []byte) error
	// Close stops the sink; a push sink delivers what it can until ctx is done. What it could not
	// deliver stays in the spool for the next start.
	Close(ctx context.Context) error
}

// PushSink sends spooled records to a collector. Start runs its delivery loop over its own cursor.
type PushSink interface {
	Name() string
	Start(ctx context.Context, cur *spool.Cursor, wake <-chan struct{})
	Close(ctx context.Context) error
}

// Reporter fans each record out: once to the spool (for every push sink, each with its own cursor)
// and to each local sink. Start sinks before the scheduler, stop them after it (telegraf's order),
// so no record is produced with nowhere to go.
type Reporter struct {
	log   *zap.Logger
	local []Sink
	push  []PushSink
	spool *spool.Spool

	mu      sync.Mutex
	wakes   []chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	metrics *metrics.Metrics
}

// New builds a reporter. spool may be nil only when there are no push sinks.
func New(log *zap.Logger, m *metrics.Metrics, sp *spool.Spool, local []Sink, push []PushSink) (*Reporter, error) {
	if len(push) > 0 && sp == nil {
		return nil, errors.New("reporter: push sinks need a spool")
	}
	return &Reporter{log: log, local: local, push: push, spool: sp, metrics: m}, nil
}

// Start starts the push sinks' delivery loops.
func (r *Reporter) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	for _, p := range r.push {
		cur, err := r.spool.Cursor(p.Name())
		if err != nil {
			r.cancel()
			return fmt.Errorf("reporter: sink %s: %w", p.Name(), err)
		}
		wake := make(chan struct{}, 1)
		r.wakes = append(r.wakes, wake)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			p.Start(ctx, cur, wake)
		}()
	}
	return nil
}

// Write hands rec to every sink. An error of one sink is logged and does not stop the others.
func (r *Reporter) Write(rec record.Record) {
	payload, err := record.Marshal(rec)
	if err != nil {
		r.log.Error("record not encodable; dropped", zap.String("target", rec.Target), zap.Error(err))
		return
	}
	if len(r.push) > 0 {
		if _, err := r.spool.Append(payload); err != nil {
			r.log.Error("spool append failed: record not queued for push sinks", zap.String("target", rec.Target), zap.Error(err))
		} else {
			for _, w := range r.wakes {
				select {
				case w <- struct{}{}:
				default:
				}
			}
		}
	}
	for _, s := range r.local {
		if err := s.Write(rec, payload); err != nil {
			r.log.Warn("sink write failed", zap.String("sink", s.Name()), zap.String("target", rec.Target), zap.Error(err))
		}
	}
	if r.metrics != nil {
		r.metrics.Observe(rec)
	}
}

// Close stops every sink, giving push sinks until ctx is done to deliver what is queued.
func (r *Reporter) Close(ctx context.Context) error {
	// Push sinks drain side by side: one collector that is down must not spend the drain time of
	// the others.
	errs := make([]error, len(r.push))
	var drained sync.WaitGroup
	for i, p := range r.push {
		drained.Go(func() {
			if err := p.Close(ctx); err != nil {
				errs[i] = fmt.Errorf("sink %s: %w", p.Name(), err)
			}
		})
	}
	drained.Wait()
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	for _, s := range r.local {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", s.Name(), err))
		}
	}
	if r.spool != nil {
		if err := r.spool.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
