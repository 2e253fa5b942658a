//go:build linux

// Package lab builds a small network in Linux network namespaces for integration tests: a venue
// (where the encoder and ingestprobe run), a router (the venue's firewall, where nftables rules
// drop or reject traffic), and a server (an nginx ingest and a dnsmasq resolver).
//
//	venue 10.231.1.2 ── 10.231.1.1 router 10.231.2.1 ── server 10.231.2.10 (ingest: nginx 1935, 443, 80)
//	                                                           10.231.2.53 (resolver: dnsmasq)
//
// Every address lives inside namespaces the lab created, so no packet leaves the machine. The
// namespaces are named ipb-<id>-venue, -router and -server with a random id, so parallel runs and
// leftovers never collide. docs/lab.md describes the topology and each scenario.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Paths the lab uses on the host.
const (
	netnsDir    = "/run/netns"           // where `ip netns` keeps namespaces
	etcNetnsDir = "/etc/netns"           // per-namespace /etc overrides, bind-mounted by `ip netns exec`
	stateRoot   = "/run/ingestprobe-lab" // one directory per lab: configs, logs, pid files, lab.json
)

// Timeouts. Setting up the lab is a few dozen short commands; each gets 10 s because a loaded CI
// machine can stall `ip` for a second or two, and nothing legitimate takes longer. Readiness is
// polled for at most 10 s: nginx and dnsmasq are listening within milliseconds on an idle machine.
const (
	commandTimeout   = 10 * time.Second
	readyTimeout     = 10 * time.Second
	readyPoll        = 20 * time.Millisecond
	stopGrace        = 3 * time.Second
	readyDialTimeout = 500 * time.Millisecond
)

// Options change what the lab serves. The zero value is the standard lab.
type Options struct {
	// Records are added to DefaultRecords.
	Records []Record
	// RTMPServer replaces the body of nginx's rtmp server block after "listen", when the RTMP
	// module is installed. Default: `application live { live on; }`.
	RTMPServer string
	// Log receives progress lines (may be nil).
	Log func(format string, args ...any)
	// Routed adds a second router between the router and the server (routed.go): four
	// namespaces, so a trace has a hop upstream of the venue's firewall to name.
	Routed bool
	// IPv6 gives every link an IPv6 /64 as well (routed.go), nginx listens on IngestAddr6 too, and
	// the resolver serves NameDual with an A and an AAAA record.
	IPv6 bool
}

// Lab is one running lab.
type Lab struct {
	ID     string
	Venue  string // namespace names
	Router string
	Server string
	// Router2 is the second router's namespace with Options.Routed, "" otherwise.
	Router2 string
	Dir     string // state: configs, logs, pid files
	// RTMP says port 1935 is served by nginx's RTMP module (libnginx-mod-rtmp); otherwise it is a
	// plain HTTP listener, which is enough for TCP probes.
	RTMP bool

	opts    Options
	records []Record
	tools   Tools
	dnsmasq *proc
	nginx   *proc
}

// info is lab.json: what a later process (labctl down, a sweep) needs to know about a lab.
type info struct {
	ID         string    `json:"id"`
	Venue      string    `json:"venue"`
	Router     string    `json:"router"`
	Server     string    `json:"server"`
	Router2    string    `json:"router2,omitempty"`
	Created    time.Time `json:"created"`
	OwnerPID   int       `json:"owner_pid"`
	OwnerStart uint64    `json:"owner_start"` // /proc/<pid>/stat starttime: tells a reused PID
	Keep       bool      `json:"keep"`
	RTMP       bool      `json:"rtmp"`
}

// Tools are the absolute paths of the programs the lab runs.
type Tools struct {
	IP, NFT, Dnsmasq, Nginx string
}

// toolPackages names the Debian package of each tool, for the skip message.
var toolPackages = map[string]string{"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base", "nginx": "nginx-light"}

// FindTools looks the tools up in PATH and in the sbin directories, which a non-login root shell
// or CI may not have in PATH.
func FindTools() (Tools, error) {
	var t Tools
	var missing []string
	for name, dst := range map[string]*string{"ip": &t.IP, "nft": &t.NFT, "dnsmasq": &t.Dnsmasq, "nginx": &t.Nginx} {
		p, err := exec.LookPath(name)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
				if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode()&0o111 != 0 {
					p = filepath.Join(dir, name)
					break
				}
			}
		}
		if p == "" {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", name, toolPackages[name]))
			continue
		}
		*dst = p
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return t, fmt.Errorf("lab: missing %s", strings.Join(missing, ", "))
	}
	return t, nil
}

// New builds and starts a lab: namespaces, links, addresses, routes, an open firewall, dnsmasq and
// nginx, and waits until the venue can resolve and connect. On error everything made is removed.
func New(ctx context.Context, opts Options) (*Lab, error) {
	tools, err := FindTools()
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	l := &Lab{
		ID:      id,
		Venue:   Prefix + id + "-venue",
		Router:  Prefix + id + "-router",
		Server:  Prefix + id + "-server",
		Dir:     filepath.Join(stateRoot, id),
		opts:    opts,
		records: append(DefaultRecords(), opts.Records...),
		tools:   tools,
	}
	if opts.Routed {
		l.Router2 = Prefix + id + "-router2"
	}
	if opts.IPv6 {
		l.records = append(l.records, Record{Name: NameDual, A: IngestAddr, AAAA: IngestAddr6})
	}
	if err := l.setup(ctx); err != nil {
		if cerr := l.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return l, nil
}

func (l *Lab) logf(format string, args ...any) {
	if l.opts.Log != nil {
		l.opts.Log(format, args...)
	}
}

func (l *Lab) setup(ctx context.Context) error {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	l.RTMP = rtmpModule() != ""
	// lab.json is written before any namespace exists, so a sweep never sees a namespace without
	// knowing whose it is.
	if err := l.writeInfo(false); err != nil {
		return err
	}
	start := time.Now()
	if err := l.network(ctx); err != nil {
		return err
	}
	if err := l.SetFirewall(ctx); err != nil {
		return err
	}
	if err := l.StartDNS(ctx); err != nil {
		return err
	}
	if err := l.startNginx(ctx); err != nil {
		return err
	}
	l.logf("lab %s up in %.2f s (venue %s, rtmp module %v)", l.ID, time.Since(start).Seconds(), l.Venue, l.RTMP)
	return nil
}

// network creates the three namespaces and wires them: venue ↔ router ↔ server; with
// Options.Routed, four: venue ↔ router ↔ router2 ↔ server (routed_linux.go).
func (l *Lab) network(ctx context.Context) error {
	if l.opts.Routed || l.opts.IPv6 {
		return l.routedNetwork(ctx)
	}
	v, r, s := l.Venue, l.Router, l.Server
	steps := [][]string{
		{"netns", "add", v},
		{"netns", "add", r},
		{"netns", "add", s},
		// Each veth end is created directly inside its namespace, so its name never meets the
		// host's interfaces.
		{"link", "add", "eth0", "netns", v, "type", "veth", "peer", "name", "venue0", "netns", r},
		{"link", "add", "eth0", "netns", s, "type", "veth", "peer", "name", "server0", "netns", r},
		{"-n", v, "addr", "add", VenueAddr.String() + "/24", "dev", "eth0"},
		{"-n", r, "addr", "add", RouterVenue.String() + "/24", "dev", "venue0"},
		{"-n", r, "addr", "add", RouterServer.String() + "/24", "dev", "server0"},
		{"-n", s, "addr", "add", IngestAddr.String() + "/24", "dev", "eth0"},
		{"-n", s, "addr", "add", ResolverAddr.String() + "/24", "dev", "eth0"},
	}
	for _, ns := range []string{v, r, s} {
		steps = append(steps, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	steps = append(steps,
		[]string{"-n", v, "link", "set", "eth0", "up"},
		[]string{"-n", r, "link", "set", "venue0", "up"},
		[]string{"-n", r, "link", "set", "server0", "up"},
		[]string{"-n", s, "link", "set", "eth0", "up"},
		[]string{"-n", v, "route", "add", "default", "via", RouterVenue.String()},
		[]string{"-n", s, "route", "add", "default", "via", RouterServer.String()},
	)
	for _, args := range steps {
		if _, err := l.run(ctx, l.tools.IP, args, ""); err != nil {
			return err
		}
	}
	if err := l.forward(r); err != nil {
		return err
	}
	return l.venueResolver()
}

// forward turns on IP forwarding in the router namespace r.
func (l *Lab) forward(r string) error {
	if err := l.Do(r, func() error {
		// /proc/sys/net is per network namespace, read from the calling thread's namespace.
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
			return err
		}
		if l.opts.IPv6 {
			return os.WriteFile("/proc/sys/net/ipv6/conf/all/forwarding", []byte("1\n"), 0o644)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("lab: enable forwarding in %s: %w", r, err)
	}
	return nil
}

// venueResolver points the venue's /etc/resolv.conf at the lab's resolver.
func (l *Lab) venueResolver() error {
	v := l.Venue
	// `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf, so a
	// program run in the venue finds the lab's resolver through the normal system path.
	dir := filepath.Join(etcNetnsDir, v)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	conf := fmt.Sprintf("# ingestprobe lab %s\nnameserver %s\noptions timeout:1 attempts:1\n", l.ID, ResolverAddr)
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// VenueCommand returns a command that runs name in the venue namespace, with the lab's resolver
// as its /etc/resolv.conf.
func (l *Lab) VenueCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, l.tools.IP, append([]string{"netns", "exec", l.Venue, name}, args...)...)
}

// ServerPrefix is the command prefix that runs a program in the server namespace, beside nginx and
// dnsmasq (a test's own listener, such as srt-live-transmit on IngestAddr). Whatever it runs is
// killed by PID when the lab closes, if its test has not stopped it.
func (l *Lab) ServerPrefix() []string { return []string{l.tools.IP, "netns", "exec", l.Server} }

// EnterHint tells a person how to use a kept lab.
func (l *Lab) EnterHint() string {
	return fmt.Sprintf(`lab %[1]s is up (state in %[2]s)
  run a check:        scripts/lab.sh check rtmp://open.lab.test/live/stream
  change firewall:    scripts/lab.sh firewall drop:1935     (rules and names: docs/lab.md)
  enter the venue:    ip netns exec %[3]s bash
  tear it down:       scripts/lab.sh down`, l.ID, l.Dir, l.Venue)
}

// Keep marks the lab as kept: sweeps by later test runs leave it alone; `labctl down` removes it.
func (l *Lab) Keep() error { return l.writeInfo(true) }

// Close stops the lab's processes and removes its namespaces, /etc/netns entry and state. It is
// safe to call on a half-built lab and more than once.
func (l *Lab) Close() error {
	var errs []error
	for _, p := range []*proc{l.nginx, l.dnsmasq} {
		if err := p.stop(stopGrace); err != nil {
			errs = append(errs, err)
		}
	}
	l.nginx, l.dnsmasq = nil, nil
	if err := teardown(l.ID); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// teardown removes a lab by id, whoever built it: every process still inside one of its
// namespaces is killed by PID, then the namespaces, /etc/netns entry and state directory go.
func teardown(id string) error {
	var errs []error
	tools, _ := FindTools()
	for _, role := range []string{"venue", "router", "router2", "server"} {
		ns := Prefix + id + "-" + role
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); err != nil {
			continue
		}
		if err := killNamespace(ns); err != nil {
			errs = append(errs, err)
		}
		if err := deleteNamespace(tools.IP, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(filepath.Join(etcNetnsDir, Prefix+id+"-venue")); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(stateRoot, id)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func deleteNamespace(ip, ns string) error {
	if ip != "" {
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, ip, "netns", "delete", ns).CombinedOutput()
		if err == nil {
			return nil
		}
		if _, serr := os.Stat(filepath.Join(netnsDir, ns)); serr != nil {
			return nil
		}
		return fmt.Errorf("lab: ip netns delete %s: %w: %s", ns, err, strings.TrimSpace(string(out)))
	}
	return fmt.Errorf("lab: cannot delete %s: ip not found", ns)
}

func (l *Lab) writeInfo(keep bool) error {
	pid := os.Getpid()
	st, _ := procStart(pid)
	b, err := json.MarshalIndent(info{ID: l.ID, Venue: l.Venue, Router: l.Router, Server: l.Server, Router2: l.Router2,
		Created: time.Now().UTC(), OwnerPID: pid, OwnerStart: st, Keep: keep, RTMP: l.RTMP}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "lab.json"), b, 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// run runs one command with a deadline and returns its output; the error names the command.
func (l *Lab) run(ctx context.Context, name string, args []string, stdin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab: %s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func newID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lab: id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
