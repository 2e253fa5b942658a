package dns

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/goleak"
	"golang.org/x/net/dns/dnsmessage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// zone is what a fake resolver knows: name → CNAME target or addresses, plus names that fail.
type zone struct {
	cname    map[string]string
	a        map[string][]string
	aaaa     map[string][]string
	rcode    map[string]int // forced rcode for a name
	noChase  bool           // answer with the CNAME only, like a lazy forwarder
	truncate bool           // set TC on UDP answers, forcing a retry over TCP
}

// serve starts a fake recursive resolver on 127.0.0.1:0 (UDP and TCP) and returns its address.
func serve(t *testing.T, z zone) string {
	t.Helper()
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		if rc, ok := z.rcode[name]; ok {
			m.Rcode = rc
			w.WriteMsg(m)
			return
		}
		for i := 0; i < 10; i++ {
			if rc, ok := z.rcode[name]; ok {
				m.Rcode = rc
				break
			}
			if target, ok := z.cname[name]; ok {
				m.Answer = append(m.Answer, &mdns.CNAME{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: 60}, Target: target})
				name = target
				if z.noChase {
					break
				}
				continue
			}
			if q.Qtype == mdns.TypeA {
				for _, a := range z.a[name] {
					m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.ParseIP(a)})
				}
			}
			if q.Qtype == mdns.TypeAAAA {
				for _, a := range z.aaaa[name] {
					m.Answer = append(m.Answer, &mdns.AAAA{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeAAAA, Class: mdns.ClassINET, Ttl: 60}, AAAA: net.ParseIP(a)})
				}
			}
			_, known := z.a[name]
			_, known6 := z.aaaa[name]
			if !known && !known6 {
				m.Rcode = mdns.RcodeNameError
			}
			break
		}
		if z.truncate && w.LocalAddr().Network() == "udp" {
			m.Answer = nil
			m.Truncated = true
		}
		w.WriteMsg(m)
	})
	// UDP and TCP on one port: take a free TCP port, then the same UDP port. Either can be taken
	// by another test's sockets in between, so try a few ports.
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; pc == nil; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if pc, err = net.ListenPacket("udp", l.Addr().String()); err != nil {
			l.Close()
			if try == 20 {
				t.Fatal(err)
			}
			continue
		}
		ln = l
	}
	for _, s := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		ready := make(chan struct{})
		s.NotifyStartedFunc = func() { close(ready) }
		go s.ActivateAndServe()
		<-ready
		t.Cleanup(func() { s.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// silent is a UDP resolver address that reads queries and never answers.
func silent(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// closedPort is a UDP address where nothing listens: queries get ICMP port unreachable.
func closedPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestRun(t *testing.T) {
	tencent := zone{
		cname: map[string]string{"push.example.com.": "push.example.com.tlivepush.com.", "push.example.com.tlivepush.com.": "edge.tlivepush.com."},
		a:     map[string][]string{"edge.tlivepush.com.": {"192.0.2.10", "192.0.2.11"}, "plain.example.com.": {"192.0.2.20"}},
		aaaa:  map[string][]string{"edge.tlivepush.com.": {"2001:db8::10"}},
		rcode: map[string]int{"broken.example.com.": mdns.RcodeServerFailure, "refusing.example.com.": mdns.RcodeRefused},
	}
	tests := []struct {
		name      string
		z         zone
		host      string
		servers   func(t *testing.T, good string) []string
		wantErr   Class
		wantRcode string
		wantCNAME []string
		wantA     []string
		wantAAAA  []string
	}{
		{name: "cname chain", z: tencent, host: "push.example.com", wantRcode: "NOERROR",
			wantCNAME: []string{"push.example.com.tlivepush.com", "edge.tlivepush.com"}, wantA: []string{"192.0.2.10", "192.0.2.11"}, wantAAAA: []string{"2001:db8::10"}},
		{name: "plain A", z: tencent, host: "plain.example.com", wantRcode: "NOERROR", wantA: []string{"192.0.2.20"}},
		{name: "upper case and trailing dot", z: tencent, host: "PLAIN.example.com.", wantRcode: "NOERROR", wantA: []string{"192.0.2.20"}},
		{name: "nxdomain", z: tencent, host: "nope.example.com", wantErr: NXDomain, wantRcode: "NXDOMAIN"},
		{name: "servfail", z: tencent, host: "broken.example.com", wantErr: ServFail, wantRcode: "SERVFAIL"},
		{name: "refused", z: tencent, host: "refusing.example.com", wantErr: Refused, wantRcode: "REFUSED"},
		{name: "cname to nowhere", z: zone{cname: map[string]string{"push.example.com.": "gone.tlivepush.com."}}, host: "push.example.com",
			wantErr: NXDomain, wantRcode: "NXDOMAIN", wantCNAME: []string{"gone.tlivepush.com"}},
		{name: "forwarder does not chase the chain", z: zone{noChase: true, cname: tencent.cname, a: tencent.a, aaaa: tencent.aaaa}, host: "push.example.com",
			wantRcode: "NOERROR", wantCNAME: []string{"push.example.com.tlivepush.com", "edge.tlivepush.com"}, wantA: []string{"192.0.2.10", "192.0.2.11"}, wantAAAA: []string{"2001:db8::10"}},
		{name: "truncated answer retried over tcp", z: zone{truncate: true, a: tencent.a}, host: "plain.example.com", wantRcode: "NOERROR", wantA: []string{"192.0.2.20"}},
		{name: "silent first resolver, second answers", z: tencent, host: "plain.example.com",
			servers: func(t *testing.T, good string) []string { return []string{silent(t), good} }, wantRcode: "NOERROR", wantA: []string{"192.0.2.20"}},
		{name: "all resolvers silent", z: tencent, host: "plain.example.com",
			servers: func(t *testing.T, good string) []string { return []string{silent(t), silent(t)} }, wantErr: Timeout},
		{name: "resolver port closed", z: tencent, host: "plain.example.com",
			servers: func(t *testing.T, good string) []string { return []string{closedPort(t)} }, wantErr: Network},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := serve(t, tt.z)
			servers := []string{good}
			if tt.servers != nil {
				servers = tt.servers(t, good)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
			defer cancel()
			r := New(Config{Host: tt.host, Servers: servers}).Run(ctx)
			if r.Error != tt.wantErr {
				t.Errorf("error: got %q; want %q", r.Error, tt.wantErr)
			}
			if tt.wantRcode != "" && r.Rcode != tt.wantRcode {
				t.Errorf("rcode: got %q; want %q", r.Rcode, tt.wantRcode)
			}
			if !slices.Equal(r.CNAME, tt.wantCNAME) {
				t.Errorf("cname: got %q; want %q", r.CNAME, tt.wantCNAME)
			}
			if !slices.Equal(r.A, tt.wantA) {
				t.Errorf("a: got %q; want %q", r.A, tt.wantA)
			}
			if !slices.Equal(r.AAAA, tt.wantAAAA) {
				t.Errorf("aaaa: got %q; want %q", r.AAAA, tt.wantAAAA)
			}
			if r.Probe != "dns" || r.DurationSeconds <= 0 {
				t.Errorf("got probe %q duration %v; want dns and a positive duration", r.Probe, r.DurationSeconds)
			}
		})
	}
}

// TestRunDeadline: a silent resolver costs no more than the probe's deadline.
func TestRunDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := New(Config{Host: "x.example.com", Servers: []string{silent(t)}}).Run(ctx)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s; want the 300ms deadline to end it", el)
	}
	if r.Error != Timeout {
		t.Errorf("got %q; want timeout", r.Error)
	}
}

func TestResolvConfAndOSFallback(t *testing.T) {
	addr := serve(t, zone{a: map[string][]string{"plain.example.com.": {"192.0.2.20"}}})
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := dir + "/resolv.conf"
	if err := writeFile(conf, "nameserver "+host+"\noptions ndots:1\n"); err != nil {
		t.Fatal(err)
	}
	p := New(Config{Host: "plain.example.com"})
	p.resolvConf = conf
	// resolv.conf has no port syntax; point the probe's exchange at the fake's port instead.
	inner := p.exchange
	p.exchange = func(ctx context.Context, network string, q *dnsmessage.Message, server string) (*dnsmessage.Message, error) {
		h, _, _ := net.SplitHostPort(server)
		return inner(ctx, network, q, net.JoinHostPort(h, port))
	}
	r := p.Run(t.Context())
	if r.Resolver != net.JoinHostPort(host, "53") || !slices.Equal(r.A, []string{"192.0.2.20"}) {
		t.Errorf("got resolver %q a %q; want %s:53 and 192.0.2.20", r.Resolver, r.A, host)
	}

	// No resolv.conf: the OS resolver answers (here: a stub pointed at the fake).
	p = New(Config{Host: "plain.example.com"})
	p.resolvConf = dir + "/missing"
	p.osResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	r = p.Run(t.Context())
	if r.Resolver != "os" || !slices.Equal(r.A, []string{"192.0.2.20"}) || r.Error != OK {
		t.Errorf("got resolver %q a %q error %q; want os, 192.0.2.20, no error", r.Resolver, r.A, r.Error)
	}
	p.cfg.Host = "nope.example.com"
	if r = p.Run(t.Context()); r.Error != NXDomain {
		t.Errorf("os nxdomain: got %q; want nxdomain", r.Error)
	}
}

// TestRetryAfterLoss: a resolver that drops the first query of each name still answers in time.
func TestRetryAfterLoss(t *testing.T) {
	good := serve(t, zone{a: map[string][]string{"plain.example.com.": {"192.0.2.20"}}})
	p := New(Config{Host: "plain.example.com", Servers: []string{good}})
	var mu sync.Mutex
	seen := map[uint16]int{}
	var timeouts []time.Duration
	inner := p.exchange
	p.exchange = func(ctx context.Context, network string, q *dnsmessage.Message, server string) (*dnsmessage.Message, error) {
		mu.Lock()
		seen[uint16(q.Questions[0].Type)]++
		first := seen[uint16(q.Questions[0].Type)] == 1
		if dl, ok := ctx.Deadline(); ok {
			timeouts = append(timeouts, time.Until(dl))
		}
		mu.Unlock()
		if first { // lost: wait out the attempt like a real client would
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return inner(ctx, network, q, server)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
	defer cancel()
	r := p.Run(ctx)
	if r.Error != OK || !slices.Equal(r.A, []string{"192.0.2.20"}) {
		t.Errorf("got %q %v; want the answer of the second attempt", r.Error, r.A)
	}
	for _, to := range timeouts {
		if to <= 2*time.Second-200*time.Millisecond || to > 4*time.Second {
			t.Errorf("attempt timeout %s; want about half of the 4s deadline (not a 2s default cap)", to)
		}
	}
}

// TestStaleAnswerSkipped: over UDP an answer whose id is not the query's (a late answer to an
// earlier attempt, or a spoof) is skipped, and the right one read after it.
func TestStaleAnswerSkipped(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			req := new(mdns.Msg)
			if req.Unpack(b[:n]) != nil {
				continue
			}
			reply := func(id uint16, a string) {
				m := new(mdns.Msg)
				m.SetReply(req)
				m.Id = id
				q := req.Question[0]
				if q.Qtype == mdns.TypeA {
					m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.ParseIP(a)})
				}
				w, _ := m.Pack()
				pc.WriteTo(w, from)
			}
			reply(req.Id+1, "192.0.2.66") // stale
			reply(req.Id, "192.0.2.20")
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	r := New(Config{Host: "plain.example.com", Servers: []string{pc.LocalAddr().String()}}).Run(ctx)
	if r.Error != OK || !slices.Equal(r.A, []string{"192.0.2.20"}) {
		t.Errorf("got %q %v; want the answer with the query's id, 192.0.2.20", r.Error, r.A)
	}
}
