package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"time"

	kservice "github.com/kardianos/service"

	"github.com/ingestprobe/ingestprobe/config"
)

// controller is the part of a kardianos service that `service` commands use.
type controller interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Restart() error
	Status() (kservice.Status, error)
	Platform() string
}

// host is what installing touches outside the service manager, as seams for tests.
type host struct {
	goos    string
	euid    func() int
	command func(name string, args ...string) ([]byte, error)
	// userExists says whether an account exists.
	userExists func(name string) bool
	ids        func(name string) (uid, gid int, err error)
	chown      func(path string, uid, gid int) error
	// unitPath is where the systemd unit lands ("" under other service managers).
	unitPath string
	// serviceFile is the service manager's file for the service (unit, plist, init script), to
	// tell "stopped" from "not installed" when the manager's status query itself fails.
	serviceFile string
}

func realHost(platform string) host {
	unit, file := "", ""
	switch platform {
	case "linux-systemd":
		unit = "/etc/systemd/system/" + Name + ".service"
		file = unit
	case "unix-systemv":
		file = "/etc/init.d/" + Name
	case "darwin-launchd":
		file = "/Library/LaunchDaemons/" + Name + ".plist"
	}
	return host{
		goos: runtime.GOOS,
		euid: os.Geteuid,
		command: func(name string, args ...string) ([]byte, error) {
			// useradd, systemctl and the like answer in well under a second; a hung one (a
			// wedged service manager) must not hang `service install` with it.
			ctx, cancel := context.WithTimeout(context.Background(), hostCommandTimeout)
			defer cancel()
			return exec.CommandContext(ctx, name, args...).CombinedOutput()
		},
		userExists:  func(name string) bool { _, err := user.Lookup(name); return err == nil },
		ids:         lookupIDs,
		chown:       os.Chown,
		unitPath:    unit,
		serviceFile: file,
	}
}

// serviceExecutable is the binary the service will run: this one, with symlinks resolved so the
// unit does not break when a link is repointed.
func serviceExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("service: finding this program's path: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe, nil
}

// Manager carries out `service install|uninstall|start|stop|restart|status` for one layout,
// saying what it does on its writer.
type Manager struct {
	out io.Writer
	h   host
	svc controller
	l   Layout
	exe string
	// confirmWait bounds how long each step waits for the service manager to report its outcome
	// (0: ask once).
	confirmWait time.Duration
}

// ConfirmWait is how long a step (install, start, stop, uninstall) waits for the service manager
// to report it done before the command says it was not: the Windows SCM reports a start as
// pending until the service says it runs, and systemd a start until the process is up. A healthy
// agent reports running within a second.
const ConfirmWait = 15 * time.Second

// confirmPoll is how often the service manager is asked while a step is pending.
const confirmPoll = 200 * time.Millisecond

// NewManager is the Manager of this platform's service manager for layout l (l.Config absolute),
// reporting to out. The service will run this binary.
func NewManager(l Layout, out io.Writer) (*Manager, error) {
	exe, err := serviceExecutable()
	if err != nil {
		return nil, err
	}
	svc, err := newService(&program{}, l, exe, nil)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return &Manager{out: out, h: realHost(svc.Platform()), svc: svc, l: l, exe: exe, confirmWait: ConfirmWait}, nil
}

func (m *Manager) say(format string, a ...any) { fmt.Fprintf(m.out, format+"\n", a...) }

func (m *Manager) needAdmin(action string) error {
	if m.h.goos != "windows" && m.h.euid() != 0 {
		return usagef("service %s changes the system: run it as root (sudo ingestprobe service %s)", action, action)
	}
	return nil
}

// Outcomes a step waits for.
var (
	isInstalled    = func(_ kservice.Status, installed bool) bool { return installed }
	isNotInstalled = func(_ kservice.Status, installed bool) bool { return !installed }
	isRunning      = func(st kservice.Status, installed bool) bool { return installed && st == kservice.StatusRunning }
	isStopped      = func(st kservice.Status, installed bool) bool { return installed && st != kservice.StatusRunning }
)

// confirm asks the service manager until want holds for what it reports, at most m.confirmWait,
// so that a command says only what the manager confirmed. The error names the step and what the
// manager reported instead.
func (m *Manager) confirm(step string, want func(kservice.Status, bool) bool) error {
	deadline := time.Now().Add(m.confirmWait)
	for {
		st, was, err := m.installed()
		if err == nil && want(st, was) {
			return nil
		}
		if !time.Now().Before(deadline) {
			state := "not installed"
			switch {
			case err != nil:
				state = err.Error()
			case was && st == kservice.StatusRunning:
				state = "running"
			case was:
				state = "stopped"
			}
			return fmt.Errorf("service %s: the %s service manager reports the service %s after %s; logs: %s",
				step, m.svc.Platform(), state, m.confirmWait, m.logsHint())
		}
		time.Sleep(min(confirmPoll, time.Until(deadline)))
	}
}

func (m *Manager) installed() (kservice.Status, bool, error) {
	st, err := m.svc.Status()
	switch {
	case err == nil:
		return st, true, nil
	case m.h.serviceFile != "":
		// systemd reports a failed unit, SysV a missing script, and a systemctl that cannot reach
		// systemd (a chroot, a container) anything at all, as errors: the service file says
		// whether the service is installed — and then it is not running.
		return kservice.StatusStopped, fileExists(m.h.serviceFile), nil
	case errors.Is(err, kservice.ErrNotInstalled):
		return st, false, nil
	}
	return st, false, fmt.Errorf("service status: %w", err)
}

// Install creates the service user, writes a default config if there is none (and validates the
// one there is), creates the state directory, installs and enables the service and starts it.
// Safe to repeat: it says what it changed, and replaces an outdated systemd unit.
func (m *Manager) Install() error {
	if err := m.needAdmin("install"); err != nil {
		return err
	}
	if err := m.checkExecutable(); err != nil {
		return err
	}
	if err := m.ensureUser(); err != nil {
		return err
	}
	cfg, err := m.ensureConfig()
	if err != nil {
		return err
	}
	if err := m.ensureStateDir(cfg); err != nil {
		return err
	}
	st, was, err := m.installed()
	if err != nil {
		return err
	}
	changed := false
	switch {
	case !was:
		if err := m.svc.Install(); err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if err := m.confirm("install", isInstalled); err != nil {
			return err
		}
		changed = true
		m.say("installed the %s service%s, enabled at boot", m.svc.Platform(), m.where())
	case m.h.unitPath != "" && !m.unitCurrent():
		// An older or edited unit: replace it (Install refuses to overwrite).
		if err := m.svc.Uninstall(); err != nil {
			return fmt.Errorf("service install: removing the old unit: %w", err)
		}
		if err := m.svc.Install(); err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		changed = true
		m.say("updated the systemd unit %s", m.h.unitPath)
	default:
		m.say("the %s service is already installed%s: unchanged", m.svc.Platform(), m.where())
	}
	switch {
	case st == kservice.StatusRunning && changed:
		if err := m.svc.Restart(); err != nil {
			return fmt.Errorf("service restart: %w", err)
		}
		if err := m.confirm("restart", isRunning); err != nil {
			return err
		}
		m.say("restarted the service")
	case st == kservice.StatusRunning:
		m.say("the service is running")
	default:
		if err := m.svc.Start(); err != nil {
			return fmt.Errorf("service start: %w", err)
		}
		if err := m.confirm("start", isRunning); err != nil {
			return err
		}
		m.say("started the service")
	}
	if len(cfg.Targets) == 0 {
		m.say("no [[targets]] in %s yet: the service waits. Add one, then: %s", m.l.Config, m.reloadHint())
	}
	m.say("logs: %s", m.logsHint())
	return nil
}

func (m *Manager) where() string {
	if m.h.unitPath != "" {
		return " (" + m.h.unitPath + ")"
	}
	return ""
}

func (m *Manager) reloadHint() string {
	switch {
	case m.h.unitPath != "":
		return "systemctl reload ingestprobe"
	case m.h.goos == "linux":
		return "sudo ingestprobe service restart"
	}
	switch m.h.goos {
	case "windows":
		return "ingestprobe service restart"
	}
	return "sudo ingestprobe service restart"
}

func (m *Manager) logsHint() string {
	switch {
	case m.h.unitPath != "":
		return "journalctl -u ingestprobe -f"
	case m.h.goos == "linux":
		return "/var/log/ingestprobe.err (written by the init script)"
	}
	switch m.h.goos {
	case "windows":
		return "Event Viewer → Windows Logs → Application, source ingestprobe"
	}
	return filepath.Join(m.l.LogDir, Name+".err.log")
}

// unitCurrent says the installed unit is the one this binary would write.
func (m *Manager) unitCurrent() bool {
	b, err := os.ReadFile(m.h.unitPath)
	return err == nil && string(b) == systemdUnit(m.exe, m.l.Config)
}

// checkExecutable refuses a binary the service account could not run — one under a home
// directory, say — rather than install a service that fails at every start.
func (m *Manager) checkExecutable() error {
	if m.h.goos == "windows" {
		return nil
	}
	for p := m.exe; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return usagef("service install: the service user cannot run %s (%s is not accessible to others): "+
				"copy the binary first — sudo install -m 0755 %s /usr/local/bin/ — and run /usr/local/bin/ingestprobe service install",
				m.exe, p, m.exe)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// ensureConfig writes the default config when there is none and validates the one there is:
// installing a service that cannot start helps no one.
func (m *Manager) ensureConfig() (*config.Config, error) {
	p := m.l.Config
	if !fileExists(p) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("service install: %w", err)
		}
		if err := os.WriteFile(p, []byte(defaultConfig(m.l, m.h.goos)), 0o640); err != nil {
			return nil, fmt.Errorf("service install: %w", err)
		}
		if err := m.chownToService(p, false); err != nil {
			return nil, err
		}
		m.say("wrote a default config %s", p)
	} else {
		m.say("kept the existing config %s", p)
	}
	cfg, err := config.Load(p)
	if err != nil {
		return nil, usagef("service install: %v: fix it (ingestprobe config validate %s), then install again", err, p)
	}
	return cfg, nil
}

// ensureStateDir creates the state directory (and launchd's log directory) for the service user;
// systemd would create the state directory too (StateDirectory=), other managers do not.
func (m *Manager) ensureStateDir(cfg *config.Config) error {
	for _, d := range []string{cfg.Agent.StateDir, m.l.LogDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if err := m.chownToService(d, true); err != nil {
			return err
		}
	}
	return nil
}

// Uninstall stops and removes the service; with purge also the config and the state directory
// (the spool). The service user stays.
func (m *Manager) Uninstall(purge bool) error {
	if err := m.needAdmin("uninstall"); err != nil {
		return err
	}
	st, was, err := m.installed()
	if err != nil {
		return err
	}
	if was {
		if st == kservice.StatusRunning {
			if err := m.svc.Stop(); err != nil {
				return fmt.Errorf("service stop: %w", err)
			}
			if err := m.confirm("stop", isStopped); err != nil {
				return err
			}
			m.say("stopped the service")
		}
		if err := m.svc.Uninstall(); err != nil {
			return fmt.Errorf("service uninstall: %w", err)
		}
		if err := m.confirm("uninstall", isNotInstalled); err != nil {
			return err
		}
		m.say("removed the %s service%s", m.svc.Platform(), m.where())
	} else {
		m.say("the service is not installed")
	}
	stateDir := m.l.StateDir
	if cfg, err := config.Load(m.l.Config); err == nil {
		stateDir = cfg.Agent.StateDir
	}
	if !purge {
		m.say("kept the config %s and the state directory %s (records not yet delivered stay in its spool); --purge removes them", m.l.Config, stateDir)
		return nil
	}
	for _, p := range []string{m.l.Config, stateDir} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("service uninstall: %w", err)
		}
		m.say("removed %s", p)
	}
	// The config's directory too, when nothing else is left in it.
	if err := os.Remove(filepath.Dir(m.l.Config)); err == nil {
		m.say("removed %s", filepath.Dir(m.l.Config))
	}
	if m.l.User != "" && m.h.goos != "windows" {
		m.say("kept the system user %s (files it owned elsewhere would otherwise lose their owner)", m.l.User)
	}
	return nil
}

// Start, Stop and Restart ask the service manager.
func (m *Manager) Start() error   { return m.control("start") }
func (m *Manager) Stop() error    { return m.control("stop") }
func (m *Manager) Restart() error { return m.control("restart") }

func (m *Manager) control(action string) error {
	if err := m.needAdmin(action); err != nil {
		return err
	}
	var err error
	want, state := isRunning, "running"
	switch action {
	case "start":
		err = m.svc.Start()
	case "stop":
		err = m.svc.Stop()
		want, state = isStopped, "stopped"
	case "restart":
		err = m.svc.Restart()
	}
	if err != nil {
		return fmt.Errorf("service %s: %w", action, err)
	}
	if err := m.confirm(action, want); err != nil {
		return err
	}
	m.say("service %s: done, the service is %s", action, state)
	return nil
}

// Status says whether the service is installed and running, and where its config and logs are.
func (m *Manager) Status() (running bool, err error) {
	st, was, err := m.installed()
	if err != nil {
		return false, err
	}
	state := "not installed"
	switch {
	case !was:
	case st == kservice.StatusRunning:
		state, running = "running", true
	default:
		state = "stopped"
	}
	m.say("ingestprobe service (%s): %s", m.svc.Platform(), state)
	m.say("config: %s", m.l.Config)
	m.say("logs:   %s", m.logsHint())
	return running, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
