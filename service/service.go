// Package service installs, controls and runs the agent as a system service — systemd on Linux,
// launchd on macOS, the Service Control Manager on Windows — through kardianos/service: the
// platform's file layout, the service user, the systemd unit and the default config (rendered from
// templates/), and the program the service manager starts.
package service

import (
	"fmt"
	"os"
	"runtime"
	"time"

	kservice "github.com/kardianos/service"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
)

// Name names the unit, the launchd label and the Windows service alike.
const Name = "ingestprobe"

// hostCommandTimeout bounds each system command the service commands run (useradd, systemctl …).
const hostCommandTimeout = 60 * time.Second

// StopTimeout bounds Stop: the agent's own drain (agent.DrainTimeout) plus a margin, and well under
// systemd's TimeoutStopSec (30 s in our unit) so systemd never has to SIGKILL a draining agent.
const StopTimeout = agent.DrainTimeout + 5*time.Second

// UsageError is something the user must fix — not root, a broken config, a binary the service
// user cannot run — rather than a failure of the agent: the command exits 2 on it, which the
// systemd unit does not restart (RestartPreventExitStatus=2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

func usagef(format string, a ...any) error { return UsageError{fmt.Errorf(format, a...)} }

// Layout is where the service's files live on one platform.
type Layout struct {
	Config   string // the config file
	StateDir string // agent.state_dir: sequence and spool
	LogDir   string // launchd's stdout/stderr files; "" where the platform collects logs itself
	User     string // the account the service runs as; "" = the platform's default
}

// LayoutFor is the layout on goos (a runtime.GOOS value).
func LayoutFor(goos string) Layout {
	switch goos {
	case "windows":
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		// LocalService: the least privileged built-in account that can run a network service.
		return Layout{Config: pd + `\ingestprobe\config.toml`, StateDir: config.StateDirFor(goos), User: `NT AUTHORITY\LocalService`}
	case "darwin":
		// A role account (underscore, hidden, uid below 500) as macOS's own daemons use.
		return Layout{Config: "/usr/local/etc/ingestprobe/config.toml", StateDir: config.StateDirFor(goos),
			LogDir: "/usr/local/var/log/ingestprobe", User: "_ingestprobe"}
	}
	return Layout{Config: config.DefaultPath, StateDir: config.StateDirFor(goos), User: "ingestprobe"}
}

// DefaultConfigPath is where this platform's installed agent keeps its config: what run, check and
// config validate read when no --config is given.
func DefaultConfigPath() string { return LayoutFor(runtime.GOOS).Config }

// newService describes the service to kardianos. wait, when set, replaces kardianos's wait for
// SIGTERM in Run on unix platforms.
func newService(p kservice.Interface, l Layout, exe string, wait func()) (kservice.Service, error) {
	c := &kservice.Config{
		Name:        Name,
		DisplayName: "ingestprobe agent",
		Description: "Checks that publishing to RTMP ingests works from this network.",
		Executable:  exe,
		Arguments:   []string{"service", "run", "--config", l.Config},
		UserName:    l.User,
		Option: kservice.KeyValue{
			"SystemdScript": systemdUnit(exe, l.Config),
			// launchd: start at boot and keep running; stdout/stderr to files under LogDir.
			"RunAtLoad":    true,
			"KeepAlive":    true,
			"LogOutput":    true,
			"LogDirectory": l.LogDir,
			// Windows: restart 5 s after a failure, start at boot.
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "5s",
			"StartType":              "automatic",
		},
	}
	if wait != nil {
		c.Option["RunWait"] = wait
	}
	return kservice.New(p, c)
}
