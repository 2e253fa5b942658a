package main

import (
	"bytes"
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
	"strconv"
	"strings"
	"time"

	"github.com/kardianos/service"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
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

// serviceName names the unit, the launchd label and the Windows service alike.
const serviceName = "ingestprobe"

// hostCommandTimeout bounds each system command `service` runs (useradd, systemctl …).
const hostCommandTimeout = 60 * time.Second

// stopTimeout bounds Stop: the agent's own drain (agent.DrainTimeout) plus a margin, and well under
// systemd's TimeoutStopSec (30 s in our unit) so systemd never has to SIGKILL a draining agent.
const stopTimeout = agent.DrainTimeout + 5*time.Second

// layout is where the service's files live on one platform.
type layout struct {
	Config   string // the config file
	StateDir string // agent.state_dir: sequence and spool
	LogDir   string // launchd's stdout/stderr files; "" where the platform collects logs itself
	User     string // the account the service runs as; "" = the platform's default
}

func layoutFor(goos string) layout {
	switch goos {
	case "windows":
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		// LocalService: the least privileged built-in account that can run a network service.
		return layout{Config: pd + `\ingestprobe\config.toml`, StateDir: pd + `\ingestprobe\state`, User: `NT AUTHORITY\LocalService`}
	case "darwin":
		// A role account (underscore, hidden, uid below 500) as macOS's own daemons use.
		return layout{Config: "/usr/local/etc/ingestprobe/config.toml", StateDir: "/usr/local/var/lib/ingestprobe",
			LogDir: "/usr/local/var/log/ingestprobe", User: "_ingestprobe"}
	}
	return layout{Config: config.DefaultPath, StateDir: config.DefaultStateDir, User: "ingestprobe"}
}

// defaultConfigPath is where this platform's installed agent keeps its config: what run, check and
// config validate read when no --config is given.
func defaultConfigPath() string { return layoutFor(runtime.GOOS).Config }

// systemdUnit is the unit for binary exe and config file cfg. packaging/systemd/ingestprobe.service
// is this with the package's paths (a test keeps them equal). It holds no "{{": kardianos renders
// it verbatim, so what `service install` writes is exactly this text.
func systemdUnit(exe, cfg string) string {
	return `[Unit]
Description=ingestprobe: checks that publishing to RTMP ingests works from this network
Documentation=https://github.com/ingestprobe/ingestprobe/blob/main/docs/install.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=ingestprobe
Group=ingestprobe
ExecStart=` + systemdQuote(exe) + ` service run --config ` + systemdQuote(cfg) + `
# SIGHUP re-reads the config; an invalid one is logged and the running one stays.
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=5s
# Exit status 2 is a config error: restarting cannot fix it, so systemd stops and "systemctl
# status ingestprobe" shows why instead of a restart loop.
RestartPreventExitStatus=2
# Under the 30 s stop timeout: the agent drains its sinks for at most 10 s, then exits.
TimeoutStopSec=30s
# /var/lib/ingestprobe (sequence, spool) and /var/log/ingestprobe (jsonl files), owned by the user.
StateDirectory=ingestprobe
StateDirectoryMode=0750
LogsDirectory=ingestprobe
LogsDirectoryMode=0750
# CAP_NET_RAW for ICMP echo, and nothing else: no other capability can be gained.
AmbientCapabilities=CAP_NET_RAW
CapabilityBoundingSet=CAP_NET_RAW
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
UMask=0027

[Install]
WantedBy=multi-user.target
`
}

// systemdQuote quotes a path for ExecStart when it holds characters systemd would split on.
func systemdQuote(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\;$%") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

// defaultConfig is what `service install` writes when the config does not exist, and what the
// packages ship (packaging/config.toml, kept equal by a test). It has no target: the service
// starts, logs that it waits for one, and does not crash-loop.
func defaultConfig(l layout, goos string) string {
	reload := "systemctl reload ingestprobe"
	switch goos {
	case "darwin":
		reload = "sudo ingestprobe service restart"
	case "windows":
		reload = "ingestprobe service restart   (as Administrator)"
	}
	stateDir := ""
	if l.StateDir != config.DefaultStateDir {
		stateDir = fmt.Sprintf("state_dir = %q\n", l.StateDir)
	}
	return `# ingestprobe agent configuration. Every key is described in config.example.toml
# (Linux packages: /usr/share/doc/ingestprobe/config.example.toml).
#
# Until a [[targets]] table below is filled in, the service runs idle and logs that it waits.
# Check an edit with:  ingestprobe config validate ` + l.Config + `
# Then apply it with:  ` + reload + `
#
# Publishing URLs are secrets: this file is readable by root and the service only.

[agent]
# Names this agent in every record and series. Default: the host name.
# id = "berlin-enc1"
# Added to every record and series: use them to group agents by venue in dashboards and alerts.
# labels = { venue = "berlin" }
` + stateDir + `
# One [[targets]] table per ingest to watch.
# [[targets]]
# name = "main-ingest"
# url = "rtmp://push.example.com/live/stream?txSecret=...&txTime=..."

# Where results go. This serves /metrics for Prometheus on this machine only; see
# docs/alerting.md for remote write and HTTP collectors.
[[sinks]]
type = "prometheus"
listen = "127.0.0.1:9935"
`
}

// controller is the part of a kardianos service that `service` commands use.
type controller interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Restart() error
	Status() (service.Status, error)
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
		unit = "/etc/systemd/system/" + serviceName + ".service"
		file = unit
	case "unix-systemv":
		file = "/etc/init.d/" + serviceName
	case "darwin-launchd":
		file = "/Library/LaunchDaemons/" + serviceName + ".plist"
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

func cmdService(ctx context.Context, e env, args []string) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, serviceUsage)
		return exitUsage, usagef("service: which action? install, uninstall, start, stop, restart, status")
	}
	action := args[0]
	fs := newFlagSet(e, "service "+action, serviceUsage)
	l := layoutFor(runtime.GOOS)
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
	if action == "run" {
		return serviceRun(ctx, e, l, *logLevel)
	}
	exe, err := serviceExecutable()
	if err != nil {
		return exitUsage, err
	}
	svc, err := newService(&program{}, l, exe, runtime.GOOS, nil)
	if err != nil {
		return exitUsage, fmt.Errorf("service: %w", err)
	}
	h := realHost(svc.Platform())
	s := &serviceCmd{out: e.stdout, h: h, svc: svc, l: l, exe: exe}
	switch action {
	case "install":
		return s.install()
	case "uninstall":
		return s.uninstall(*purge)
	case "start", "stop", "restart":
		return s.control(action)
	case "status":
		return s.status()
	}
	return exitUsage, usagef("service: unknown action %q (install, uninstall, start, stop, restart, status)", action)
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

// newService describes the service to kardianos. wait, when set, replaces kardianos's wait for
// SIGTERM in Run on unix platforms.
func newService(p *program, l layout, exe, goos string, wait func()) (service.Service, error) {
	c := &service.Config{
		Name:        serviceName,
		DisplayName: "ingestprobe agent",
		Description: "Checks that publishing to RTMP ingests works from this network.",
		Executable:  exe,
		Arguments:   []string{"service", "run", "--config", l.Config},
		UserName:    l.User,
		Option: service.KeyValue{
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
	return service.New(p, c)
}

// serviceCmd carries out the control actions.
type serviceCmd struct {
	out io.Writer
	h   host
	svc controller
	l   layout
	exe string
}

func (s *serviceCmd) say(format string, a ...any) { fmt.Fprintf(s.out, format+"\n", a...) }

func (s *serviceCmd) needAdmin(action string) error {
	if s.h.goos != "windows" && s.h.euid() != 0 {
		return usagef("service %s changes the system: run it as root (sudo ingestprobe service %s)", action, action)
	}
	return nil
}

func (s *serviceCmd) installed() (service.Status, bool, error) {
	st, err := s.svc.Status()
	switch {
	case err == nil:
		return st, true, nil
	case s.h.serviceFile != "":
		// systemd reports a failed unit, SysV a missing script, and a systemctl that cannot reach
		// systemd (a chroot, a container) anything at all, as errors: the service file says
		// whether the service is installed — and then it is not running.
		return service.StatusStopped, fileExists(s.h.serviceFile), nil
	case errors.Is(err, service.ErrNotInstalled):
		return st, false, nil
	}
	return st, false, fmt.Errorf("service status: %w", err)
}

func (s *serviceCmd) install() (int, error) {
	if err := s.needAdmin("install"); err != nil {
		return exitUsage, err
	}
	if err := s.checkExecutable(); err != nil {
		return exitUsage, err
	}
	if err := s.ensureUser(); err != nil {
		return exitUsage, err
	}
	cfg, err := s.ensureConfig()
	if err != nil {
		return exitUsage, err
	}
	if err := s.ensureStateDir(cfg); err != nil {
		return exitUsage, err
	}
	st, was, err := s.installed()
	if err != nil {
		return exitUsage, err
	}
	changed := false
	switch {
	case !was:
		if err := s.svc.Install(); err != nil {
			return exitUsage, fmt.Errorf("service install: %w", err)
		}
		changed = true
		s.say("installed the %s service%s, enabled at boot", s.svc.Platform(), s.where())
	case s.h.unitPath != "" && !s.unitCurrent():
		// An older or edited unit: replace it (Install refuses to overwrite).
		if err := s.svc.Uninstall(); err != nil {
			return exitUsage, fmt.Errorf("service install: removing the old unit: %w", err)
		}
		if err := s.svc.Install(); err != nil {
			return exitUsage, fmt.Errorf("service install: %w", err)
		}
		changed = true
		s.say("updated the systemd unit %s", s.h.unitPath)
	default:
		s.say("the %s service is already installed%s: unchanged", s.svc.Platform(), s.where())
	}
	switch {
	case st == service.StatusRunning && changed:
		err = s.svc.Restart()
		s.say("restarted the service")
	case st == service.StatusRunning:
		s.say("the service is running")
	default:
		err = s.svc.Start()
		s.say("started the service")
	}
	if err != nil {
		return exitUsage, fmt.Errorf("service start: %w", err)
	}
	if len(cfg.Targets) == 0 {
		s.say("no [[targets]] in %s yet: the service waits. Add one, then: %s", s.l.Config, s.reloadHint())
	}
	s.say("logs: %s", s.logsHint())
	return exitOK, nil
}

func (s *serviceCmd) where() string {
	if s.h.unitPath != "" {
		return " (" + s.h.unitPath + ")"
	}
	return ""
}

func (s *serviceCmd) reloadHint() string {
	switch {
	case s.h.unitPath != "":
		return "systemctl reload ingestprobe"
	case s.h.goos == "linux":
		return "sudo ingestprobe service restart"
	}
	switch s.h.goos {
	case "windows":
		return "ingestprobe service restart"
	}
	return "sudo ingestprobe service restart"
}

func (s *serviceCmd) logsHint() string {
	switch {
	case s.h.unitPath != "":
		return "journalctl -u ingestprobe -f"
	case s.h.goos == "linux":
		return "/var/log/ingestprobe.err (written by the init script)"
	}
	switch s.h.goos {
	case "windows":
		return "Event Viewer → Windows Logs → Application, source ingestprobe"
	}
	return filepath.Join(s.l.LogDir, serviceName+".err.log")
}

// unitCurrent says the installed unit is the one this binary would write.
func (s *serviceCmd) unitCurrent() bool {
	b, err := os.ReadFile(s.h.unitPath)
	return err == nil && string(b) == systemdUnit(s.exe, s.l.Config)
}

// checkExecutable refuses a binary the service account could not run — one under a home
// directory, say — rather than install a service that fails at every start.
func (s *serviceCmd) checkExecutable() error {
	if s.h.goos == "windows" {
		return nil
	}
	for p := s.exe; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return usagef("service install: the service user cannot run %s (%s is not accessible to others): "+
				"copy the binary first — sudo install -m 0755 %s /usr/local/bin/ — and run /usr/local/bin/ingestprobe service install",
				s.exe, p, s.exe)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (s *serviceCmd) ensureUser() error {
	name := s.l.User
	if name == "" || s.h.goos == "windows" {
		return nil
	}
	if s.h.userExists(name) {
		s.say("system user %s exists", name)
		return nil
	}
	var cmds [][]string
	switch s.h.goos {
	case "linux":
		cmds = [][]string{{"useradd", "--system", "--user-group", "--no-create-home", "--home-dir", s.l.StateDir,
			"--shell", nologin(), "--comment", "ingestprobe agent", name}}
	case "darwin":
		id, err := s.freeDarwinID()
		if err != nil {
			return err
		}
		u := "/Users/" + name
		g := "/Groups/" + name
		ids := strconv.Itoa(id)
		cmds = [][]string{
			{"dscl", ".", "-create", g}, {"dscl", ".", "-create", g, "PrimaryGroupID", ids}, {"dscl", ".", "-create", g, "Password", "*"},
			{"dscl", ".", "-create", u}, {"dscl", ".", "-create", u, "UniqueID", ids}, {"dscl", ".", "-create", u, "PrimaryGroupID", ids},
			{"dscl", ".", "-create", u, "UserShell", "/usr/bin/false"}, {"dscl", ".", "-create", u, "NFSHomeDirectory", "/var/empty"},
			{"dscl", ".", "-create", u, "RealName", "ingestprobe agent"}, {"dscl", ".", "-create", u, "Password", "*"},
			{"dscl", ".", "-create", u, "IsHidden", "1"},
		}
	default:
		return fmt.Errorf("service install: creating the user %s is not supported on %s: create it, then install again", name, s.h.goos)
	}
	for _, c := range cmds {
		if out, err := s.h.command(c[0], c[1:]...); err != nil {
			return fmt.Errorf("service install: creating user %s: %s: %w: %s", name, c[0], err, strings.TrimSpace(string(out)))
		}
	}
	s.say("created system user %s", name)
	return nil
}

// freeDarwinID finds a uid and gid below 500 (hidden from the login window) that neither users
// nor groups use, from the top of the range down, as installers of macOS role accounts do.
func (s *serviceCmd) freeDarwinID() (int, error) {
	used := map[int]bool{}
	for _, kind := range []string{"/Users", "/Groups"} {
		attr := "UniqueID"
		if kind == "/Groups" {
			attr = "PrimaryGroupID"
		}
		out, err := s.h.command("dscl", ".", "-list", kind, attr)
		if err != nil {
			return 0, fmt.Errorf("service install: listing %s: %w", kind, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 {
				if n, err := strconv.Atoi(f[1]); err == nil {
					used[n] = true
				}
			}
		}
	}
	for id := 499; id >= 300; id-- {
		if !used[id] {
			return id, nil
		}
	}
	return 0, errors.New("service install: no free uid between 300 and 499 for the service user")
}

func lookupIDs(name string) (int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("user %s: ids %q, %q are not numbers", name, u.Uid, u.Gid)
	}
	return uid, gid, nil
}

func nologin() string {
	for _, p := range []string{"/usr/sbin/nologin", "/sbin/nologin"} {
		if fileExists(p) {
			return p
		}
	}
	return "/bin/false"
}

// ensureConfig writes the default config when there is none and validates the one there is:
// installing a service that cannot start helps no one.
func (s *serviceCmd) ensureConfig() (*config.Config, error) {
	p := s.l.Config
	if !fileExists(p) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("service install: %w", err)
		}
		if err := os.WriteFile(p, []byte(defaultConfig(s.l, s.h.goos)), 0o640); err != nil {
			return nil, fmt.Errorf("service install: %w", err)
		}
		if err := s.chownToService(p, false); err != nil {
			return nil, err
		}
		s.say("wrote a default config %s", p)
	} else {
		s.say("kept the existing config %s", p)
	}
	cfg, err := config.Load(p)
	if err != nil {
		return nil, usagef("service install: %v: fix it (ingestprobe config validate %s), then install again", err, p)
	}
	return cfg, nil
}

// ensureStateDir creates the state directory (and launchd's log directory) for the service user;
// systemd would create the state directory too (StateDirectory=), other managers do not.
func (s *serviceCmd) ensureStateDir(cfg *config.Config) error {
	for _, d := range []string{cfg.Agent.StateDir, s.l.LogDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if err := s.chownToService(d, true); err != nil {
			return err
		}
	}
	return nil
}

// chownToService gives a path to the service account: the state directory wholly, the config by
// group only (root keeps writing it; the service only reads).
func (s *serviceCmd) chownToService(p string, owner bool) error {
	switch s.h.goos {
	case "windows":
		// By SID, as account names are localized: S-1-5-19 LocalService, S-1-5-18 SYSTEM,
		// S-1-5-32-544 Administrators. The config holds stream keys: no inherited read for Users.
		args := []string{p, "/grant", "*S-1-5-19:(OI)(CI)M"}
		if !owner {
			args = []string{p, "/inheritance:r", "/grant:r", "*S-1-5-18:F", "*S-1-5-32-544:F", "*S-1-5-19:R"}
		}
		if out, err := s.h.command("icacls", args...); err != nil {
			return fmt.Errorf("service install: setting access to %s: %w: %s", p, err, strings.TrimSpace(string(out)))
		}
		return nil
	case "linux", "darwin":
		uid, gid, err := s.h.ids(s.l.User)
		if err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if !owner {
			uid = 0
		}
		if err := s.h.chown(p, uid, gid); err != nil {
			return fmt.Errorf("service install: %w", err)
		}
	}
	return nil
}

func (s *serviceCmd) uninstall(purge bool) (int, error) {
	if err := s.needAdmin("uninstall"); err != nil {
		return exitUsage, err
	}
	st, was, err := s.installed()
	if err != nil {
		return exitUsage, err
	}
	if was {
		if st == service.StatusRunning {
			if err := s.svc.Stop(); err != nil {
				return exitUsage, fmt.Errorf("service stop: %w", err)
			}
			s.say("stopped the service")
		}
		if err := s.svc.Uninstall(); err != nil {
			return exitUsage, fmt.Errorf("service uninstall: %w", err)
		}
		s.say("removed the %s service%s", s.svc.Platform(), s.where())
	} else {
		s.say("the service is not installed")
	}
	stateDir := s.l.StateDir
	if cfg, err := config.Load(s.l.Config); err == nil {
		stateDir = cfg.Agent.StateDir
	}
	if !purge {
		s.say("kept the config %s and the state directory %s (records not yet delivered stay in its spool); --purge removes them", s.l.Config, stateDir)
		return exitOK, nil
	}
	for _, p := range []string{s.l.Config, stateDir} {
		if err := os.RemoveAll(p); err != nil {
			return exitUsage, fmt.Errorf("service uninstall: %w", err)
		}
		s.say("removed %s", p)
	}
	// The config's directory too, when nothing else is left in it.
	if err := os.Remove(filepath.Dir(s.l.Config)); err == nil {
		s.say("removed %s", filepath.Dir(s.l.Config))
	}
	if s.l.User != "" && s.h.goos != "windows" {
		s.say("kept the system user %s (files it owned elsewhere would otherwise lose their owner)", s.l.User)
	}
	return exitOK, nil
}

func (s *serviceCmd) control(action string) (int, error) {
	if err := s.needAdmin(action); err != nil {
		return exitUsage, err
	}
	var err error
	switch action {
	case "start":
		err = s.svc.Start()
	case "stop":
		err = s.svc.Stop()
	case "restart":
		err = s.svc.Restart()
	}
	if err != nil {
		return exitUsage, fmt.Errorf("service %s: %w", action, err)
	}
	s.say("service %s: done", action)
	return exitOK, nil
}

// Exit codes of `service status`, as LSB init scripts use them: 0 running, 3 not running.
const exitNotRunning = 3

func (s *serviceCmd) status() (int, error) {
	st, was, err := s.installed()
	if err != nil {
		return exitUsage, err
	}
	state := "not installed"
	code := exitNotRunning
	switch {
	case !was:
	case st == service.StatusRunning:
		state, code = "running", exitOK
	default:
		state = "stopped"
	}
	s.say("ingestprobe service (%s): %s", s.svc.Platform(), state)
	s.say("config: %s", s.l.Config)
	s.say("logs:   %s", s.logsHint())
	return code, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
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
func (p *program) Start(service.Service) error {
	cfg, err := config.Load(p.cfgPath)
	if err != nil {
		return usageError{err}
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
func (p *program) Stop(service.Service) error {
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

// serviceRun is `service run`: the agent under the service manager.
func serviceRun(ctx context.Context, e env, l layout, level string) (int, error) {
	fwdCtx, stopFwd := context.WithCancel(ctx)
	defer stopFwd()
	reload := reloadOnHUP(fwdCtx)
	prg := &program{cfgPath: l.Config, stopTimeout: stopTimeout}
	exe, err := serviceExecutable()
	if err != nil {
		return exitUsage, err
	}
	// Unix service managers stop us with SIGTERM, which cancels ctx; Run also ends when the agent
	// ends on its own, so the manager sees the exit and restarts it.
	svc, svcErr := newService(prg, l, exe, runtime.GOOS, func() {
		select {
		case <-ctx.Done():
		case <-prg.doneChan():
		}
	})
	var sysLog service.Logger
	if svcErr == nil && runtime.GOOS == "windows" && !service.Interactive() {
		sysLog, _ = svc.Logger(nil)
	}
	log, err := serviceLogger(e, level, sysLog)
	if err != nil {
		return exitUsage, err
	}
	defer log.Sync()
	prg.run = func(ctx context.Context, cfg *config.Config) error {
		d := newDaemon(e, l.Config, log, cfg)
		d.WaitForTargets = true
		return d.Run(ctx, cfg, reload)
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
		if errors.As(err, new(usageError)) {
			return exitUsage, err
		}
		return 1, err
	}
	if prg.err != nil {
		return 1, prg.err
	}
	return exitOK, nil
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
func runProgram(ctx context.Context, prg *program) (int, error) {
	if err := prg.Start(nil); err != nil {
		return exitUsage, err
	}
	select {
	case <-ctx.Done():
	case <-prg.doneChan():
	}
	if err := prg.Stop(nil); err != nil {
		return 1, err
	}
	if prg.err != nil {
		return 1, prg.err
	}
	return exitOK, nil
}

// serviceLogger logs for the platform: journald reads stderr (no timestamps: it stamps lines
// itself), launchd writes stderr to a file, the Windows service logs to the Event Log.
func serviceLogger(e env, level string, sys service.Logger) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", level)
	}
	if sys != nil {
		return zap.New(&eventLogCore{LevelEnabler: lvl, sys: sys, enc: zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "msg"})}), nil
	}
	if e.getenv("JOURNAL_STREAM") != "" {
		ec := zap.NewProductionEncoderConfig()
		ec.TimeKey = ""
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(ec), zapcore.Lock(zapcore.AddSync(e.stderr)), lvl)), nil
	}
	return newLogger(e, level)
}

// eventLogCore writes zap entries to a kardianos Logger (the Windows Event Log).
type eventLogCore struct {
	zapcore.LevelEnabler
	sys    service.Logger
	enc    zapcore.Encoder
	fields []zapcore.Field
}

func (c *eventLogCore) With(fs []zapcore.Field) zapcore.Core {
	return &eventLogCore{LevelEnabler: c.LevelEnabler, sys: c.sys, enc: c.enc, fields: append(append([]zapcore.Field{}, c.fields...), fs...)}
}

func (c *eventLogCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c *eventLogCore) Write(ent zapcore.Entry, fs []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(ent, append(append([]zapcore.Field{}, c.fields...), fs...))
	if err != nil {
		return err
	}
	msg := string(bytes.TrimRight(buf.Bytes(), "\n"))
	buf.Free()
	switch {
	case ent.Level >= zapcore.ErrorLevel:
		return c.sys.Error(msg)
	case ent.Level == zapcore.WarnLevel:
		return c.sys.Warning(msg)
	}
	return c.sys.Info(msg)
}

func (c *eventLogCore) Sync() error { return nil }
