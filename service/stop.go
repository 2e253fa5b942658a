package service

import (
	"context"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/metrics"
)

// RunDaemon runs d (agent.Daemon.Run) and logs its stop: when ctx ends (SIGTERM, Ctrl-C), that
// the probes stop and queued records are delivered for at most agent.DrainTimeout; when it has
// ended, per push sink how many records it delivered while draining and how many stay spooled
// for the next start. `run` and `service run` both run the agent through it.
func RunDaemon(ctx context.Context, d *agent.Daemon, cfg *config.Config, reload <-chan struct{}) error {
	var (
		sentAtStop map[string]float64
		stopAt     time.Time
	)
	ended := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			stopAt = time.Now()
			sentAtStop = bySink(d.Metrics, "ingestprobe_reporter_sent_total")
			d.Log.Info("stopping: probes end now; queued records are delivered for at most the drain time, the rest stays spooled",
				zap.Float64("drain_timeout_seconds", agent.DrainTimeout.Seconds()))
		case <-ended:
		}
	}()
	err := d.Run(ctx, cfg, reload)
	close(ended)
	<-watched
	if sentAtStop == nil {
		return err // the agent ended on its own: the caller says why
	}
	sent, queued := bySink(d.Metrics, "ingestprobe_reporter_sent_total"), bySink(d.Metrics, "ingestprobe_reporter_queue_results")
	for _, sink := range slices.Sorted(maps.Keys(sent)) {
		n := sent[sink]
		d.Log.Info("sink stopped", zap.String("sink", sink),
			zap.Int("delivered_while_draining", int(n-sentAtStop[sink])), zap.Int("spooled", int(queued[sink])))
	}
	fields := []zap.Field{zap.Float64("stop_seconds", time.Since(stopAt).Seconds())}
	if err != nil {
		d.Log.Warn("stopped; undelivered records stay spooled for the next start", append(fields, zap.Error(err))...)
	} else {
		d.Log.Info("stopped", fields...)
	}
	return err
}

// bySink reads one of the reporter's per-sink series: sink name → value.
func bySink(m *metrics.Metrics, name string) map[string]float64 {
	out := map[string]float64{}
	if m == nil {
		return out
	}
	for _, f := range m.Families() {
		if f.Name != name {
			continue
		}
		for _, s := range f.Samples {
			for _, l := range s.Labels {
				if l.Name == "sink" {
					out[l.Value] = s.Value
				}
			}
		}
	}
	return out
}
