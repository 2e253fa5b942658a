package reporter

import (
	"context"
	"fmt"
	"io"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/sink/jsonl"
	"github.com/ingestprobe/ingestprobe/sink/prometheus"
	"github.com/ingestprobe/ingestprobe/sink/push"
	"github.com/ingestprobe/ingestprobe/spool"
)

// Build makes the reporter of the configured sinks: this switch is the one place a sink type is
// registered. With no sink configured, records go to stdout as JSON lines, so `run` is useful out
// of the box. The spool (in spoolDir, bounded by spoolOpt) is opened only when a push sink needs it.
// extra are local sinks the caller made from other sections (the status board): they get every
// record too, and are closed with the reporter — or by Build, when it fails.
func Build(sinks []sink.Config, spoolDir string, spoolOpt spool.Options, m *metrics.Metrics, log *zap.Logger, stdout io.Writer, extra ...Sink) (*Reporter, error) {
	if len(sinks) == 0 {
		sinks = []sink.Config{sink.StdoutJSONL()}
	}
	local := append([]Sink(nil), extra...)
	var pushers []PushSink
	fail := func(err error) (*Reporter, error) {
		for _, s := range local {
			s.Close(context.Background())
		}
		return nil, err
	}
	for _, s := range sinks {
		switch s.Type {
		case sink.JSONL:
			j, err := jsonl.New(s.Name, s.Path, stdout)
			if err != nil {
				return fail(err)
			}
			local = append(local, j)
		case sink.Prometheus:
			p, err := prometheus.New(s.Name, s.Listen, m)
			if err != nil {
				return fail(err)
			}
			log.Info("serving metrics", zap.String("sink", s.Name), zap.String("address", "http://"+p.Addr()+"/metrics"))
			local = append(local, p)
		case sink.HTTP:
			h, err := push.NewHTTP(s, m, log)
			if err != nil {
				return fail(err)
			}
			pushers = append(pushers, h)
		case sink.RemoteWrite:
			r, err := push.NewRemoteWrite(s, m, log)
			if err != nil {
				return fail(err)
			}
			pushers = append(pushers, r)
		default:
			return fail(fmt.Errorf("sink %s: type %q is not built into this version", s.Name, s.Type))
		}
	}
	var sp *spool.Spool
	if len(pushers) > 0 {
		var err error
		if sp, err = spool.Open(spoolDir, spoolOpt); err != nil {
			return fail(err)
		}
	}
	return New(log, m, sp, local, pushers)
}
