package service

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	kservice "github.com/kardianos/service"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
)

// Runner is `service run`: the agent under the service manager, or in the foreground where there
// is none (a container without an init, say).
type Runner struct {
	Layout Layout
	// Reload carries reload requests (SIGHUP): each re-reads the config. nil: none come.
	Reload <-chan struct{}
	// Level is the least severe level the platform's loggers write.
	Level zapcore.Level
	// Stderr and Getenv are the process's: under systemd (JOURNAL_STREAM set) the log goes to
	// stderr in the form journald reads.
	Stderr io.Writer
	Getenv func(string) string
	// Logger is the log where the platform collects none itself (a terminal, launchd's stderr
	// file): the command's own.
	Logger func() (*zap.Logger, error)
	// Daemon is the agent for the config it starts with, logging to log. Run makes it wait for
	// targets (agent.Daemon.WaitForTargets).
	Daemon func(cfg *config.Config, log *zap.Logger) *agent.Daemon
}

// Run runs the agent until ctx ends (the service manager's SIGTERM) or the agent ends on its own.
// A config the agent cannot start with is a UsageError; the agent's own failure is returned as is.
func (r Runner) Run(ctx context.Context) error {
	prg := &program{cfgPath: r.Layout.Config, stopTimeout: StopTimeout}
	exe, err := serviceExecutable()
	if err != nil {
		return UsageError{err} // exit 2, as ever: a restart cannot find it either
	}
	// Unix service managers stop us with SIGTERM, which cancels ctx; Run also ends when the agent
	// ends on its own, so the manager sees the exit and restarts it.
	svc, svcErr := newService(prg, r.Layout, exe, func() {
		select {
		case <-ctx.Done():
		case <-prg.doneChan():
		}
	})
	var sysLog kservice.Logger
	if svcErr == nil && runtime.GOOS == "windows" && !kservice.Interactive() {
		sysLog, _ = svc.Logger(nil)
	}
	log, err := r.logger(sysLog)
	if err != nil {
		return UsageError{err}
	}
	defer log.Sync()
	prg.run = func(ctx context.Context, cfg *config.Config) error {
		d := r.Daemon(cfg, log)
		d.WaitForTargets = true
		// Ready (Type=notify) once a config runs — its sinks and board listen — or at once when
		// the agent waits for a config with targets; a reload says its new status.
		sayReady := "READY=1\n"
		say := func(state string) {
			if err := notify(r.Getenv, sayReady+state); err != nil {
				log.Warn("telling the service manager", zap.String("state", state), zap.Error(err))
			}
			sayReady = ""
		}
		loaded := d.Loaded
		d.Loaded = func(c *config.Config) {
			if loaded != nil {
				loaded(c)
			}
			say(fmt.Sprintf("STATUS=probing %d target(s)", len(c.Targets)))
		}
		if len(cfg.Targets) == 0 {
			say("STATUS=waiting for [[targets]] in the config; add one and reload")
		}
		return RunDaemon(ctx, d, cfg, r.Reload)
	}
	if svcErr != nil {
		// No service manager (a container without an init, say): run in the foreground, alike.
		log.Info("no service manager detected; running in the foreground", zap.Error(svcErr))
		return runProgram(ctx, prg)
	}
	if runtime.GOOS == "windows" {
		// The SCM has no "process ended by itself" path through kardianos: exit non-zero so its
		// recovery action (restart after 5 s) applies. Not in Stop: only when the agent failed.
		go func() {
			<-prg.doneChan()
			if prg.err != nil && ctx.Err() == nil {
				log.Error("agent stopped", zap.Error(prg.err))
				log.Sync()
				os.Exit(1)
			}
		}()
	}
	if err := svc.Run(); err != nil {
		return err
	}
	return prg.err
}

// program is the agent as kardianos runs it: Start returns at once with the agent running in a
// goroutine; Stop cancels it and waits a bounded time. Neither calls os.Exit.
type program struct {
	cfgPath string
	// run runs the agent until ctx is done: agent.Daemon.Run with WaitForTargets, so that a config
	// without targets — the state a fresh package is in — waits for a reload instead of exiting,
	// which Restart=always would turn into a restart loop. A seam for tests.
	run         func(ctx context.Context, cfg *config.Config) error
	stopTimeout time.Duration

	cancel context.CancelFunc
	done   chan struct{}
	err    error // the agent's own end, read after done is closed
}

// Start loads the config — a broken one fails the start, so the service manager shows why — and
// runs the agent.
func (p *program) Start(kservice.Service) error {
	cfg, err := config.Load(p.cfgPath)
	if err == nil {
		if err = cfg.Preflight(); err != nil {
			err = fmt.Errorf("config %s: %w", p.cfgPath, err)
		}
	}
	if err != nil {
		return UsageError{err}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.err = p.run(ctx, cfg)
	}()
	return nil
}

// Stop cancels the agent and waits for it to drain, at most stopTimeout.
func (p *program) Stop(kservice.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	t := time.NewTimer(p.stopTimeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("service: the agent did not stop within %s; undelivered records stay spooled", p.stopTimeout)
	}
}

// doneChan is closed when the agent has ended; it blocks forever before Start.
func (p *program) doneChan() <-chan struct{} {
	if p.done == nil {
		return make(chan struct{})
	}
	return p.done
}

// runProgram runs prg like a unix service manager would: Start, wait for the signal or the agent's
// end, Stop.
func runProgram(ctx context.Context, prg *program) error {
	if err := prg.Start(nil); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-prg.doneChan():
	}
	if err := prg.Stop(nil); err != nil {
		return err
	}
	return prg.err
}
