package reporter

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/config"
)

// Build makes the reporter of a config: one switch registers every sink type. With no sink
// configured, records go to stdout as JSON lines, so `run` is useful out of the box.
func Build(c *config.Config, m *Metrics, log *zap.Logger, stdout io.Writer) (*Reporter, error) {
	sinks := c.Sinks
	if len(sinks) == 0 {
		sinks = []config.Sink{{Type: config.SinkJSONL, Name: config.SinkJSONL, Path: "-"}}
	}
	var local []Sink
	var push []PushSink
	fail := func(err error) (*Reporter, error) {
		for _, s := range local {
			s.Close(context.Background())
		}
		return nil, err
	}
	for _, s := range sinks {
		switch s.Type {
		case config.SinkJSONL:
			j, err := NewJSONL(s.Name, s.Path, stdout)
			if err != nil {
				return fail(err)
			}
			local = append(local, j)
		case config.SinkPrometheus:
			p, err := NewPrometheus(s.Name, s.Listen, m)
			if err != nil {
				return fail(err)
			}
			log.Info("serving metrics", zap.String("sink", s.Name), zap.String("address", "http://"+p.Addr()+"/metrics"))
			local = append(local, p)
		case config.SinkHTTP:
			h, err := NewHTTP(s, m, log)
			if err != nil {
				return fail(err)
			}
			push = append(push, h)
		case config.SinkRemoteWrite:
			r, err := NewRemoteWrite(s, m, log)
			if err != nil {
				return fail(err)
			}
			push = append(push, r)
		default:
			return fail(fmt.Errorf("sink %s: type %q is not built into this version", s.Name, s.Type))
		}
	}
	var spool *Spool
	if len(push) > 0 {
		var err error
		spool, err = OpenSpool(filepath.Join(c.Agent.StateDir, "spool"), SpoolOptions{
			MaxBytes: int64(c.Agent.SpoolMaxMB) << 20,
			MaxAge:   c.Agent.SpoolMaxAge.D(),
		})
		if err != nil {
			return fail(err)
		}
	}
	return New(log, m, spool, local, push)
}
