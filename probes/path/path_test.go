package path

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"testing"

	"go.uber.org/goleak"
)

// Control messages recorded from the lab (TestIntegrationTraceRouted) on x86-64: the data of an
// IP_RECVERR or IPV6_RECVERR message read with MSG_ERRQUEUE from a TCP socket whose SYN met a
// router — a struct sock_extended_err (host byte order) and the offender's sockaddr.
var recorded = []struct {
	name string
	hex  string
	want Hop
	kind string
}{
	{"ipv4 time exceeded from router 1",
		"71000000020b00000000000000000000020000000ae701010000000000000000",
		Hop{TTL: 1, Address: "10.231.1.1", Answer: TimeExceeded, ICMPType: 11, Reason: "time to live exceeded in transit"}, ""},
	{"ipv4 time exceeded from router 2",
		"71000000020b00000000000000000000020000000ae703020000000000000000",
		Hop{TTL: 2, Address: "10.231.3.2", Answer: TimeExceeded, ICMPType: 11, Reason: "time to live exceeded in transit"}, ""},
	{"ipv4 admin-prohibited from router 1 (nft reject with icmpx type admin-prohibited)",
		"7100000002030d000000000000000000020000000ae701010000000000000000",
		Hop{TTL: 2, Address: "10.231.1.1", Answer: Unreachable, ICMPType: 3, ICMPCode: 13, Reason: "communication administratively prohibited"}, "firewall"},
	{"ipv6 hop limit exceeded from router 2",
		"710000000303000000000000000000000a00000000000000fd31000300000000000000000000000200000000",
		Hop{TTL: 2, Address: "fd31:3::2", Answer: TimeExceeded, ICMPType: 3, Reason: "hop limit exceeded in transit"}, ""},
	{"ipv6 admin-prohibited from router 1 (errno EACCES)",
		"0d0000000301010000000000000000000a00000000000000fd31000100000000000000000000000100000000",
		Hop{TTL: 2, Address: "fd31:1::1", Answer: Unreachable, ICMPType: 1, ICMPCode: 1, Reason: "communication administratively prohibited"}, "firewall"},
}

func TestParseRecordedErrors(t *testing.T) {
	for _, tt := range recorded {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			e, err := parseExtErr(b, binary.LittleEndian)
			if err != nil {
				t.Fatal(err)
			}
			h, ok := e.hop(tt.want.TTL)
			if !ok || h != tt.want {
				t.Errorf("got %+v (%v); want %+v", h, ok, tt.want)
			}
			if k := h.Kind(); k != tt.kind {
				t.Errorf("kind: got %q; want %q", k, tt.kind)
			}
			// Every prefix shorter than the struct is refused, not read past its end.
			for n := range sizeofExtErr {
				if _, err := parseExtErr(b[:n], binary.LittleEndian); err == nil {
					t.Errorf("%d bytes: got no error", n)
				}
			}
			// A sockaddr cut short is refused too.
			if _, err := parseExtErr(b[:sizeofExtErr+6], binary.LittleEndian); err == nil {
				t.Errorf("cut offender: got no error")
			}
		})
	}
}

func TestLocalOriginIsNotAHop(t *testing.T) {
	// SO_EE_ORIGIN_LOCAL (1) with an AF_UNSPEC offender: EMSGSIZE from this host's own PMTU.
	b, _ := hex.DecodeString("5a00000001000000dc050000000000000000000000000000000000000000000000")
	e, err := parseExtErr(b, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if e.offender.IsValid() || e.info != 1500 {
		t.Errorf("got offender %v info %d; want none and 1500", e.offender, e.info)
	}
	if h, ok := e.hop(3); ok {
		t.Errorf("got hop %+v; want none for an error of local origin", h)
	}
}

func TestICMPReason(t *testing.T) {
	for _, tt := range []struct {
		v6         bool
		typ, code  int
		want, kind string
	}{
		{false, 3, 1, "host unreachable", "routing"},
		{false, 3, 0, "network unreachable", "routing"},
		{false, 3, 3, "port unreachable", "port"},
		{false, 3, 4, "fragmentation needed", ""},
		{false, 3, 10, "host administratively prohibited", "firewall"},
		{false, 3, 8, "ICMP type 3 code 8", ""},
		{false, 5, 1, "ICMP type 5 code 1", ""},
		{true, 1, 0, "no route to destination", "routing"},
		{true, 1, 3, "address unreachable", "routing"},
		{true, 1, 4, "port unreachable", "port"},
		{true, 1, 6, "reject route to destination", "firewall"},
		{true, 2, 0, "packet too big", ""},
		{true, 4, 0, "ICMPv6 type 4 code 0", ""},
	} {
		if got := ICMPReason(tt.v6, tt.typ, tt.code); got != tt.want {
			t.Errorf("ICMPReason(%v, %d, %d): got %q; want %q", tt.v6, tt.typ, tt.code, got, tt.want)
		}
		if got := Kind(tt.v6, tt.typ, tt.code); got != tt.kind {
			t.Errorf("Kind(%v, %d, %d): got %q; want %q", tt.v6, tt.typ, tt.code, got, tt.kind)
		}
	}
}

func TestTerminalAndLastRouter(t *testing.T) {
	te := func(ttl int, a string) Hop { return Hop{TTL: ttl, Address: a, Answer: TimeExceeded} }
	dropped := Result{OK: true, Hops: []Hop{te(1, "10.0.0.1"), {TTL: 2, Answer: NoAnswer}, te(3, "192.0.2.1"), {TTL: 4, Answer: NoAnswer}}}
	if h, ok := dropped.LastRouter(); !ok || h.TTL != 3 {
		t.Errorf("last router: got %+v %v; want ttl 3 (past the anonymous hop 2)", h, ok)
	}
	if _, ok := dropped.Terminal(); ok || !dropped.Dropped() {
		t.Errorf("got a terminal answer, or not dropped; want dropped")
	}
	rejected := Result{OK: true, Hops: []Hop{te(1, "10.0.0.1"), {TTL: 2, Address: "10.0.0.1", Answer: Unreachable, ICMPType: 3, ICMPCode: 13}}}
	if h, ok := rejected.Terminal(); !ok || h.TTL != 2 || h.Kind() != "firewall" {
		t.Errorf("terminal: got %+v %v; want the reject at ttl 2", h, ok)
	}
	if h, ok := rejected.LastRouter(); !ok || h.TTL != 1 || rejected.Dropped() {
		t.Errorf("last router: got %+v %v; want ttl 1, not dropped", h, ok)
	}
	if _, ok := (Result{}).LastRouter(); ok {
		t.Errorf("empty trace: got a last router")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeAuto, "auto": ModeAuto, "off": ModeOff, "always": ModeAlways} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q): got %q %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("sometimes"); err == nil {
		t.Errorf("ParseMode(sometimes): got no error")
	}
}

func TestCanceledBeforeStart(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := New(Config{Address: netip.MustParseAddrPort("127.0.0.1:9")}).Run(ctx)
	if r.OK || r.Sent != 0 || (r.Error != Canceled && r.Error != Unsupported) {
		t.Errorf("got %+v; want canceled (or unsupported here), nothing sent", r)
	}
}
