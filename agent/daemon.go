package agent

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/reporter"
	"github.com/ingestprobe/ingestprobe/spool"
	"github.com/ingestprobe/ingestprobe/status"
)

// DrainTimeout bounds how long a stopping agent keeps delivering queued records: long enough for a
// healthy collector to take a batch, short enough for systemd's default 90 s stop timeout. What is
// not delivered stays in the spool for the next start.
const DrainTimeout = 10 * time.Second

// Daemon is `ingestprobe run`: the scheduler and the reporter around the pipeline, with reload.
type Daemon struct {
	ConfigPath string
	Log        *zap.Logger
	Stdout     io.Writer
	Metrics    *metrics.Metrics
	// Version is shown on the status board.
	Version string
	// WaitForTargets makes a config without [[targets]] — the state a fresh package is in — a wait
	// for a reload instead of an error: the service waits rather than exit, which its manager would
	// turn into a restart loop. Once the agent runs, a reload to no targets is refused as ever.
	WaitForTargets bool
	// Loaded, if set, is told each time a config takes effect (for tests and the service status).
	Loaded func(*config.Config)
	// Lag, if set, is handed to the scheduler: told how late each run started (for benchmarks).
	Lag func(target string, lag time.Duration)

	// board is the status board's state while the config has [status]: it outlives reloads, so
	// the page keeps its hour of history; each generation serves it on a listener of its own.
	board *status.Board
}

// Run runs until ctx is done. Each value on reload re-reads the config: a valid one replaces the
// running one, an invalid one is logged and the old one keeps running. With no target in cfg it
// fails, or with WaitForTargets waits, re-reading the config on each reload, until one has a target.
func (d *Daemon) Run(ctx context.Context, cfg *config.Config, reload <-chan struct{}) error {
	var (
		seq *Sequence
		gen *generation // nil while waiting for a config with targets
	)
	// begin starts the first config that has targets.
	begin := func(c *config.Config) error {
		var err error
		if seq, err = OpenSequence(c.Agent.StateDir); err != nil {
			if c.NeedsStateDir() {
				return err
			}
			d.Log.Warn("agent.state_dir unusable and no push sink needs it: running without it, record ids from the clock", zap.Error(err))
			seq = ClockSequence(time.Now())
		}
		gen, err = d.start(ctx, c, seq)
		return err
	}
	switch {
	case len(cfg.Targets) > 0:
		if err := begin(cfg); err != nil {
			return err
		}
	case !d.WaitForTargets:
		return fmt.Errorf("config %s: no [[targets]]", d.ConfigPath)
	default:
		d.logWaiting()
	}
	for {
		select {
		case <-ctx.Done():
			if gen == nil {
				return nil
			}
			return gen.stop()
		case <-reload:
		}
		next, err := config.Load(d.ConfigPath)
		if gen == nil {
			switch {
			case err != nil:
				d.Log.Error("reload: config invalid; still waiting", zap.Error(err))
				d.logWaiting()
			case len(next.Targets) == 0:
				d.logWaiting()
			default:
				cfg = next
				if err := begin(cfg); err != nil {
					return err
				}
			}
			continue
		}
		if err == nil && len(next.Targets) == 0 {
			err = fmt.Errorf("config %s: no [[targets]]", d.ConfigPath)
		}
		if err != nil {
			d.Log.Error("reload: new config invalid; the running one stays", zap.Error(err))
			continue
		}
		if next.Agent.StateDir != cfg.Agent.StateDir {
			d.Log.Warn("reload: agent.state_dir changes only at restart", zap.String("kept", cfg.Agent.StateDir))
			next.Agent.StateDir = cfg.Agent.StateDir
		}
		if err := gen.stop(); err != nil {
			d.Log.Warn("reload: stopping the old sinks", zap.Error(err))
		}
		if gen, err = d.start(ctx, next, seq); err != nil {
			// Valid but not startable (a listen port taken, say): go back to the old config.
			d.Log.Error("reload: new config does not start; the old one runs again", zap.Error(err))
			if gen, err = d.start(ctx, cfg, seq); err != nil {
				return err
			}
			continue
		}
		cfg = next
		d.Log.Info("reloaded", zap.Int("targets", len(cfg.Targets)), zap.Int("sinks", len(cfg.Sinks)))
	}
}

func (d *Daemon) logWaiting() {
	d.Log.Warn("no [[targets]] in the config: nothing to probe yet; add one and reload the service",
		zap.String("config", d.ConfigPath))
}

// generation is one config's scheduler and reporter.
type generation struct {
	cancel context.CancelFunc
	done   chan struct{}
	rep    *reporter.Reporter
}

func (d *Daemon) start(ctx context.Context, cfg *config.Config, seq *Sequence) (*generation, error) {
	board, err := d.serveBoard(cfg)
	if err != nil {
		return nil, err
	}
	rep, err := reporter.Build(cfg.Sinks, filepath.Join(cfg.Agent.StateDir, "spool"),
		spool.Options{MaxBytes: int64(cfg.Agent.SpoolMaxMB) << 20, MaxAge: cfg.Agent.SpoolMaxAge.D()}, d.Metrics, d.Log, d.Stdout, board...)
	if err != nil {
		return nil, err
	}
	// The sinks outlive ctx (the signal that stops the agent): they stop in generation.stop, after
	// the scheduler, and drain there. Started under ctx, they would stop at the signal, undrained.
	if err := rep.Start(context.WithoutCancel(ctx)); err != nil {
		rep.Close(ctx)
		return nil, err
	}
	intervals := map[string]time.Duration{}
	var targets []Scheduled
	for i, t := range TargetsFromConfig(cfg) {
		iv := cfg.Targets[i].Interval.D()
		intervals[t.Name] = iv
		targets = append(targets, Scheduled{Target: t, Interval: iv})
	}
	d.Metrics.SetTargets(intervals)
	emit := func(rec record.Record) {
		n, err := seq.Next()
		if err != nil {
			d.Log.Error("record id not reserved; record kept without id", zap.Error(err))
		} else {
			rec.ID = fmt.Sprintf("%s:%d", cfg.Agent.ID, n)
		}
		rep.Write(rec)
	}
	pipeline := NewPipeline(cfg, d.Log)
	sched := &Scheduler{
		Pipeline:    pipeline,
		Targets:     targets,
		Concurrency: cfg.Agent.Concurrency,
		Log:         d.Log,
		Lag:         d.Lag,
		Emit:        emit,
	}
	// The uplink soaks run on a schedule of their own, one at a time (the pipeline's soak slot
	// holds that across schedulers too), so a soak never delays the checks.
	soaks := &Scheduler{Pipeline: pipeline, Targets: SoakSchedule(targets), Concurrency: 1, Log: d.Log, Emit: emit}
	sctx, cancel := context.WithCancel(ctx)
	g := &generation{cancel: cancel, done: make(chan struct{}), rep: rep}
	// The live watch (live = true targets): its first sample is taken before the scheduler starts,
	// so no publish probe runs before the agent knows whether a show is live.
	ls := NewLiveSampler(cfg.Agent.ID, TargetsFromConfig(cfg), cfg.Agent.Resolvers, d.Log)
	if ls != nil {
		ls.Emit = sched.Emit
		ls.Start(sctx)
		pipeline.ShowLive = ls.Holding
	}
	go func() {
		defer close(g.done)
		var wg sync.WaitGroup
		if ls != nil {
			defer ls.Close()
			wg.Go(func() { ls.Run(sctx) })
		}
		wg.Go(func() { soaks.Run(sctx) })
		sched.Run(sctx)
		wg.Wait()
	}()
	d.Log.Info("agent running", zap.String("agent", cfg.Agent.ID), zap.Int("targets", len(targets)), zap.Int("sinks", max(1, len(cfg.Sinks))))
	if d.Loaded != nil {
		d.Loaded(cfg)
	}
	return g, nil
}

// SoakSchedule is the soak schedule of targets: each one with an uplink bitrate, every
// UplinkEvery (uplink.DefaultEvery when unset), its runs marked Soak.
func SoakSchedule(targets []Scheduled) []Scheduled {
	var out []Scheduled
	for _, t := range targets {
		if t.Uplink <= 0 {
			continue
		}
		st := t.Target
		st.Soak = true
		every := st.UplinkEvery
		if every <= 0 {
			every = uplink.DefaultEvery
		}
		out = append(out, Scheduled{Target: st, Interval: every})
	}
	return out
}

// serveBoard starts the status board of cfg's [status] — a local sink of the reporter, which feeds
// it every record — or returns none when the section is absent.
func (d *Daemon) serveBoard(cfg *config.Config) ([]reporter.Sink, error) {
	if cfg.Status == nil {
		d.board = nil
		return nil, nil
	}
	if d.board == nil {
		d.board = status.NewBoard(d.Version)
	}
	var targets []status.Target
	for _, t := range cfg.Targets {
		targets = append(targets, status.Target{Name: t.Name, URL: ingesturl.Redact(t.URL), Interval: t.Interval.D()})
	}
	d.board.Configure(cfg.Agent.ID, targets)
	srv, err := status.Listen(*cfg.Status, d.board, d.Log)
	if err != nil {
		return nil, err
	}
	d.Log.Info("serving the status board", zap.String("address", "http://"+srv.Addr()+"/"), zap.Bool("token", cfg.Status.TokenFile != ""))
	return []reporter.Sink{srv}, nil
}

// stop stops the probes first, then drains the sinks within DrainTimeout.
func (g *generation) stop() error {
	g.cancel()
	<-g.done
	ctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	return g.rep.Close(ctx)
}
