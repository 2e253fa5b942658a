package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/service"
)

const runUsage = `Usage: ingestprobe run [--config F] [--log-level L]

Runs the agent in the foreground, as the service does: every configured target is probed on its
schedule and every result goes to the configured sinks (JSON lines on stdout when none is set).
SIGHUP reloads the config (an invalid one is logged and the running one stays); SIGTERM or
Ctrl-C stops the probes, then delivers what is queued for up to 10 s — the rest stays spooled.
`

func cmdRun(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet(e, "run", runUsage)
	cfgPath := fs.String("config", defaultConfigPath(), "config file")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (logs go to stderr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("run takes no arguments (targets come from the config), got %q", pos[0])
	}
	log, err := newLogger(e, *logLevel)
	if err != nil {
		return exitUsage, err
	}
	defer log.Sync()
	cfg, err := config.Load(*cfgPath)
	if err == nil {
		err = preflight(cfg)
	}
	if err != nil {
		return exitUsage, usageError{err}
	}
	if len(cfg.Targets) == 0 {
		return exitUsage, usagef("%s has no [[targets]]: nothing to probe", *cfgPath)
	}
	// The forwarder ends with cmdRun, also when the daemon fails to start.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reload := reloadOnHUP(ctx)
	if err := service.RunDaemon(ctx, newDaemon(e, *cfgPath, log, cfg), cfg, reload); err != nil {
		return exitFailure, err
	}
	return exitOK, nil
}

// newDaemon is the agent of `run` and the service alike, for config file cfgPath.
func newDaemon(e env, cfgPath string, log *zap.Logger, cfg *config.Config) *agent.Daemon {
	setAgentGC(e.getenv)
	// The agent's own series carry the agent id and the static [agent] labels, as the targets'
	// do, so alerts on them route by venue. They are the labels it started with (like state_dir).
	labels := map[string]string{"agent": cfg.Agent.ID}
	for k, v := range cfg.Agent.Labels {
		labels[k] = v
	}
	return &agent.Daemon{ConfigPath: cfgPath, Log: log, Stdout: e.stdout, Version: version,
		Metrics: metrics.New(version, commit, labels)}
}

// reloadOnHUP turns SIGHUP into reload requests for agent.Daemon.Run until ctx ends: one pending
// request at most (signals that come while one waits are one reload). The forwarding goroutine ends
// with ctx.
func reloadOnHUP(ctx context.Context) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	return reload
}
