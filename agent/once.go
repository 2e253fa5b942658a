package agent

import (
	"context"
	"sync"

	"github.com/ingestprobe/ingestprobe/record"
)

// RunOnce probes each target once — what `check` and `url check` do — under the scheduler's rule:
// at most concurrency runs in flight (0 = DefaultConcurrency). The records come back in the order
// of targets; it returns when every run has ended, at its deadline or with ctx.
func RunOnce(ctx context.Context, p *Pipeline, targets []Target, concurrency int) []record.Record {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	recs := make([]record.Record, len(targets))
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			recs[i] = p.Run(ctx, t)
		})
	}
	wg.Wait()
	return recs
}
