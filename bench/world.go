package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Ports the listeners serve on every address: the ingest port speaks RTMP, the two alternatives
// only accept. They are high ports so the harness needs no privilege and meets no system service.
const (
	IngestPort = 19350
	AltPort1   = 19443
	AltPort2   = 19080
)

// Target is one benchmark target: a name under bench.localhost resolving to a loopback address where
// the listeners serve.
type Target struct {
	Name string // t0001
	Host string // t0001.bench.localhost
	Addr netip.Addr
}

// URL is the target's publishing URL; the stream key is a fake secret that must never show.
func (t Target) URL() string {
	return fmt.Sprintf("rtmp://%s:%d/live/%s-streamkey", t.Host, IngestPort, t.Name)
}

// World is the local fixture every measurement probes: listeners (in a child process) and a
// dnsmasq on loopback. Addresses are in a random 127.x.y.0/24, so two runs at once do not collide.
type World struct {
	Targets   []Target
	Addrs     []netip.Addr
	DNS       *DNSServer
	Listeners *ListenerProcess
}

// NewWorld builds targets spread over addrs loopback addresses (1 ≤ addrs ≤ 250) and starts
// their listeners and resolver.
func NewWorld(ctx context.Context, dir string, targets, addrs int) (*World, error) {
	if addrs < 1 || addrs > 250 {
		return nil, fmt.Errorf("world: %d addresses; want 1..250", addrs)
	}
	var rb [2]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return nil, err
	}
	// 127.0.0.0/16 is left alone: that is where other programs' loopback services live.
	a, b := 100+rb[0]%100, rb[1]
	w := &World{}
	for i := range addrs {
		w.Addrs = append(w.Addrs, netip.AddrFrom4([4]byte{127, a, b, byte(i + 1)}))
	}
	names := map[string]netip.Addr{}
	for i := range targets {
		name := fmt.Sprintf("t%04d", i+1)
		t := Target{Name: name, Host: name + "." + benchDomain, Addr: w.Addrs[i%addrs]}
		w.Targets = append(w.Targets, t)
		names[t.Host] = t.Addr
	}
	var spec ListenSpec
	for _, ad := range w.Addrs {
		spec.RTMP = append(spec.RTMP, netip.AddrPortFrom(ad, IngestPort))
		spec.Plain = append(spec.Plain, netip.AddrPortFrom(ad, AltPort1), netip.AddrPortFrom(ad, AltPort2))
	}
	var err error
	if w.Listeners, err = StartListeners(ctx, spec); err != nil {
		return nil, err
	}
	if w.DNS, err = StartDNS(ctx, dir, names); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops the listeners and the resolver.
func (w *World) Close() {
	if w.DNS != nil {
		w.DNS.Close()
	}
	if w.Listeners != nil {
		w.Listeners.Close()
	}
}

// AgentConfig is what the generated ingestprobe config says besides the targets.
type AgentConfig struct {
	Interval, Timeout time.Duration
	StateDir          string
	JSONLPath         string // "" = no jsonl sink
	MetricsListen     string // "" = no prometheus sink
	Concurrency       int    // 0 = the default
	Targets           int    // how many of the world's targets; 0 = all
	// Push lists push sinks ("http", "remote_write") sending to Collector, a base URL.
	Push      []string
	Collector string
	// TargetExtra is added to every [[targets]] table (a line like `icmp = false`).
	TargetExtra string
}

// AgentConfig writes an ingestprobe config for the world. The RTMP and ICMP probes are left at
// their defaults: whichever probes this build runs by default are what is measured, and the
// results name them.
func (w *World) AgentConfig(c AgentConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[agent]\nid = \"bench\"\ninterval = %q\ntimeout = %q\nstate_dir = %q\nresolvers = [%q]\n",
		c.Interval.String(), c.Timeout.String(), c.StateDir, w.DNS.Addr)
	if c.Concurrency > 0 {
		fmt.Fprintf(&b, "concurrency = %d\n", c.Concurrency)
	}
	ts := w.Targets
	if c.Targets > 0 && c.Targets < len(ts) {
		ts = ts[:c.Targets]
	}
	for _, t := range ts {
		fmt.Fprintf(&b, "\n[[targets]]\nname = %q\nurl = %q\nalt_ports = [%d, %d]\n", t.Name, t.URL(), AltPort1, AltPort2)
		if c.TargetExtra != "" {
			b.WriteString(c.TargetExtra + "\n")
		}
	}
	if c.JSONLPath != "" {
		fmt.Fprintf(&b, "\n[[sinks]]\ntype = \"jsonl\"\npath = %q\n", c.JSONLPath)
	}
	if c.MetricsListen != "" {
		fmt.Fprintf(&b, "\n[[sinks]]\ntype = \"prometheus\"\nlisten = %q\n", c.MetricsListen)
	}
	for _, p := range c.Push {
		path := CollectorHTTPPath
		if p == "remote_write" {
			path = CollectorRemoteWritePath
		}
		fmt.Fprintf(&b, "\n[[sinks]]\ntype = %q\nurl = %q\n", p, c.Collector+path)
	}
	return b.String()
}
