package dns

import (
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// TestHostsFile: with the system's resolvers, a name the hosts file maps is answered from it —
// as the encoder's own getaddrinfo would — and the result says so; the resolvers are not asked.
// With resolvers given (--resolver, agent.resolvers) the hosts file is not read.
func TestHostsFile(t *testing.T) {
	addr := serve(t, zone{a: map[string][]string{"push.example.com.": {"192.0.2.20"}}})
	host, _, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	hosts := dir + "/hosts"
	if err := writeFile(hosts, "# comment\n127.0.0.1\tlocalhost\n10.0.0.5 relay Push.Example.COM # the venue relay\n::1 push.example.com ip6-localhost\nfe80::1%eth0 linklocal\nbroken-line\n"); err != nil {
		t.Fatal(err)
	}
	conf := dir + "/resolv.conf"
	if err := writeFile(conf, "nameserver "+host+"\n"); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32 // the A and AAAA queries run side by side
	newProbe := func(c Config) *Probe {
		p := New(c)
		p.resolvConf, p.hostsFile = conf, hosts
		inner := p.exchange
		p.exchange = func(ctx context.Context, network string, q *dnsmessage.Message, server string) (*dnsmessage.Message, error) {
			asked.Add(1)
			return inner(ctx, network, q, addr)
		}
		return p
	}
	r := newProbe(Config{Host: "push.example.com."}).Run(t.Context())
	if r.Resolver != hosts || !r.HostsFile || !slices.Equal(r.A, []string{"10.0.0.5"}) || !slices.Equal(r.AAAA, []string{"::1"}) || r.Error != OK || asked.Load() != 0 {
		t.Errorf("got resolver %q a %q aaaa %q error %q, %d queries; want the hosts file's 10.0.0.5 and ::1, no query", r.Resolver, r.A, r.AAAA, r.Error, asked.Load())
	}
	if r := newProbe(Config{Host: "localhost"}).Run(t.Context()); r.Resolver != hosts || !slices.Equal(r.A, []string{"127.0.0.1"}) {
		t.Errorf("localhost: got resolver %q a %q; want 127.0.0.1 from the hosts file", r.Resolver, r.A)
	}
	if r := newProbe(Config{Host: "other.example.com"}).Run(t.Context()); r.Resolver == hosts {
		t.Errorf("a name not in the hosts file was answered from it: %+v", r)
	}
	r = newProbe(Config{Host: "push.example.com", Servers: []string{addr}}).Run(t.Context())
	if r.Resolver != addr || !slices.Equal(r.A, []string{"192.0.2.20"}) {
		t.Errorf("with a resolver given: got resolver %q a %q; want %s and 192.0.2.20", r.Resolver, r.A, addr)
	}
}
