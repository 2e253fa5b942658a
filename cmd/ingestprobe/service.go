package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/service"
)

const serviceUsage = `Usage: ingestprobe service install|uninstall|start|stop|restart|status [--config F] [--purge]

Installs and controls the agent as a system service: systemd on Linux, launchd on macOS, the
Service Control Manager on Windows. The service runs "ingestprobe run" for the config F.

  install     create the service user, write a default config if F does not exist, install
              and enable the service, start it. Safe to repeat: it says what it changed.
  uninstall   stop and remove the service; the config and the state directory (the spool) stay
              unless --purge is given.
  start, stop, restart, status
              ask the service manager; status exits 0 when running, 3 otherwise.
  run         what the service manager starts (use "ingestprobe run" in a terminal).

Linux: runs as user ingestprobe with CAP_NET_RAW only (for ICMP); logs go to journald
(journalctl -u ingestprobe); SIGHUP (systemctl reload ingestprobe) reloads the config.
See docs/install.md.
`

// Exit codes of `service status`, as LSB init scripts use them: 0 running, 3 not running.
const exitNotRunning = 3

// defaultConfigPath is where this platform's installed agent keeps its config: what run, check and
// config validate read when no --config is given.
func defaultConfigPath() string { return service.DefaultConfigPath() }

func cmdService(ctx context.Context, e env, args []string) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, serviceUsage)
		return exitUsage, usagef("service: which action? install, uninstall, start, stop, restart, status")
	}
	action := args[0]
	if action == "-h" || action == "--help" || action == "help" {
		writeHelp(e.stdout, newFlagSet(e, "service", serviceUsage), serviceUsage)
		return exitOK, nil
	}
	fs := newFlagSet(e, "service "+action, serviceUsage)
	l := service.LayoutFor(runtime.GOOS)
	cfgPath := fs.String("config", l.Config, "config file the service runs with")
	purge := fs.Bool("purge", false, "uninstall: also remove the config and the state directory (spool)")
	logLevel := fs.String("log-level", "info", "run: debug, info, warn or error")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("service %s takes no arguments, got %q", action, pos[0])
	}
	if *purge && action != "uninstall" {
		return exitUsage, usagef("--purge applies to service uninstall only")
	}
	if *cfgPath, err = filepath.Abs(*cfgPath); err != nil {
		return exitUsage, usagef("--config: %v", err)
	}
	l.Config = *cfgPath
	switch action {
	case "run":
		return serviceRun(ctx, e, l, *logLevel)
	case "install", "uninstall", "start", "stop", "restart", "status":
	default:
		return exitUsage, usagef("service: unknown action %q (install, uninstall, start, stop, restart, status)", action)
	}
	m, err := service.NewManager(l, e.stdout)
	if err != nil {
		return exitUsage, serviceErr(err)
	}
	switch action {
	case "install":
		err = m.Install()
	case "uninstall":
		err = m.Uninstall(*purge)
	case "start":
		err = m.Start()
	case "stop":
		err = m.Stop()
	case "restart":
		err = m.Restart()
	case "status":
		var running bool
		if running, err = m.Status(); err == nil && !running {
			return exitNotRunning, nil
		}
	}
	if err != nil {
		return exitUsage, serviceErr(err)
	}
	return exitOK, nil
}

// serviceRun is `service run`: the agent under the service manager, reloaded on SIGHUP.
func serviceRun(ctx context.Context, e env, l service.Layout, level string) (int, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return exitUsage, usagef("--log-level: %q is not one of debug, info, warn, error", level)
	}
	fwdCtx, stopFwd := context.WithCancel(ctx)
	defer stopFwd()
	r := service.Runner{
		Layout: l,
		Reload: reloadOnHUP(fwdCtx),
		Level:  lvl,
		Stderr: e.stderr,
		Getenv: e.getenv,
		Logger: func() (*zap.Logger, error) { return newLogger(e, level) },
		Daemon: func(cfg *config.Config, log *zap.Logger) *agent.Daemon { return newDaemon(e, l.Config, log, cfg) },
	}
	err = r.Run(ctx)
	switch {
	case err == nil:
		return exitOK, nil
	case errors.As(err, new(service.UsageError)):
		return exitUsage, serviceErr(err)
	}
	// The agent failed: exit 1, which the unit restarts (Restart=always).
	return exitFailure, err
}

// serviceErr makes the service package's UsageError a usage error of the command's.
func serviceErr(err error) error {
	if errors.As(err, new(service.UsageError)) {
		return usageError{err}
	}
	return err
}
