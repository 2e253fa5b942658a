package diagnose

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

func mustURL(t *testing.T, s string) *ingesturl.URL {
	t.Helper()
	u, err := ingesturl.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func conn(addr string, port int, class tcp.Class) tcp.Result {
	r := tcp.Result{Probe: "tcp", Address: addr, Port: port, OK: class == tcp.OK, Error: class, ConnectSeconds: 0.002}
	if class == tcp.Timeout {
		r.ConnectSeconds = 5
	}
	if class == tcp.Unreachable {
		r.Errno = "EHOSTUNREACH"
	}
	return r
}

func resolved(host string, cname []string, a ...string) *dns.Result {
	return &dns.Result{Probe: "dns", Host: host, Resolver: "10.0.0.1:53", Rcode: "NOERROR", CNAME: cname, A: a}
}

func TestFindings(t *testing.T) {
	tencent := provider.Builtin()[provider.Tencent]
	generic := provider.Builtin()[provider.Generic]
	const signed = "rtmp://push.example.com/live/s3cr3tstream?txSecret=0123456789abcdef0123456789abcdef&txTime=5C271099"
	allOpen := []tcp.Result{conn("192.0.2.1", 1935, tcp.OK), conn("192.0.2.1", 443, tcp.OK), conn("192.0.2.1", 80, tcp.OK)}
	goodDNS := resolved("push.example.com", []string{"push.example.com.tlivepush.com"}, "192.0.2.1")
	tests := []struct {
		name     string
		url      string
		prov     provider.Profile
		dns      *dns.Result
		tcp      []tcp.Result
		want     []string // codes
		severity record.Severity
		contains []string // in the first finding's message
	}{
		{name: "all good", url: signed, prov: tencent, dns: goodDNS, tcp: allOpen},
		{name: "ip literal needs no dns", url: "rtmp://192.0.2.1/live/x", prov: generic, tcp: allOpen},
		{name: "host is itself a push domain", url: signed, prov: tencent, dns: resolved("12345.livepush.myqcloud.com", nil, "192.0.2.1"), tcp: allOpen},
		{name: "url invalid", url: "rtmp:///live", want: []string{"url.invalid"}, contains: []string{"missing host"}},
		{name: "nxdomain", url: signed, prov: tencent, dns: &dns.Result{Host: "push.example.com", Resolver: "r", Rcode: "NXDOMAIN", Error: dns.NXDomain},
			want: []string{"dns.nxdomain"}, contains: []string{"push.example.com does not exist"}},
		{name: "cname to nowhere", url: signed, prov: tencent, dns: &dns.Result{Host: "push.example.com", Resolver: "r", Rcode: "NXDOMAIN", Error: dns.NXDomain, CNAME: []string{"gone.tlivepush.com"}},
			want: []string{"dns.nxdomain"}, contains: []string{"CNAME to gone.tlivepush.com, which does not exist"}},
		{name: "dns timeout", url: signed, prov: tencent, dns: &dns.Result{Host: "push.example.com", Resolver: "r", Error: dns.Timeout, DurationSeconds: 5},
			want: []string{"dns.timeout"}, contains: []string{"no DNS answer"}},
		{name: "resolver unreachable", url: signed, prov: tencent, dns: &dns.Result{Host: "push.example.com", Resolver: "r", Error: dns.Network},
			want: []string{"dns.timeout"}, contains: []string{"could not be reached"}},
		{name: "servfail", url: signed, prov: tencent, dns: &dns.Result{Host: "push.example.com", Resolver: "r", Rcode: "SERVFAIL", Error: dns.ServFail},
			want: []string{"dns.servfail"}, contains: []string{"SERVFAIL"}},
		{name: "refused", url: signed, prov: tencent, dns: &dns.Result{Host: "push.example.com", Resolver: "r", Rcode: "REFUSED", Error: dns.Refused},
			want: []string{"dns.servfail"}, contains: []string{"REFUSED"}},
		{name: "no address", url: signed, prov: tencent, dns: resolved("push.example.com", []string{"x.tlivepush.com"}),
			want: []string{"dns.no_address"}},
		{name: "cname missing", url: signed, prov: tencent, dns: resolved("push.example.com", nil, "192.0.2.1"), tcp: allOpen,
			want: []string{"dns.cname_missing"}, contains: []string{"no CNAME", ".tlivepush.com"}},
		{name: "generic provider needs no cname", url: "rtmp://push.example.com/live/x", prov: generic, dns: resolved("push.example.com", nil, "192.0.2.1"), tcp: allOpen},
		{name: "cname to playback domain", url: signed, prov: tencent, dns: resolved("push.example.com", []string{"push.example.com.tlivecdn.com"}, "192.0.2.1"), tcp: allOpen,
			want: []string{"dns.cname_unexpected"}, severity: record.Error, contains: []string{"playback"}},
		{name: "cname elsewhere", url: signed, prov: tencent, dns: resolved("push.example.com", []string{"lb.example.net"}, "192.0.2.1"), tcp: allOpen,
			want: []string{"dns.cname_unexpected"}, severity: record.Error, contains: []string{"lb.example.net"}},
		{name: "sinkholed", url: signed, prov: tencent, dns: resolved("push.example.com", []string{"x.tlivepush.com"}, "0.0.0.0"),
			want: []string{"dns.hijacked"}, contains: []string{"0.0.0.0"}},
		{name: "localhost is not a sinkhole", url: "rtmp://localhost/live/x", prov: generic, dns: resolved("localhost", nil, "127.0.0.1"), tcp: []tcp.Result{conn("127.0.0.1", 1935, tcp.OK)}},
		{name: "1935 dropped, 443 open", url: signed, prov: tencent, dns: goodDNS,
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Timeout), conn("192.0.2.1", 443, tcp.OK), conn("192.0.2.1", 80, tcp.Timeout)},
			want: []string{"tcp.blocked"}, contains: []string{"port 1935 is silently dropped", "port 443 on the same server connects"}},
		{name: "1935 reset, 443 open", url: signed, prov: tencent, dns: goodDNS,
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Refused), conn("192.0.2.1", 443, tcp.OK)},
			want: []string{"tcp.rejected"}, contains: []string{"TCP reset"}},
		{name: "1935 admin-prohibited, 80 open", url: signed, prov: tencent, dns: goodDNS,
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Unreachable), conn("192.0.2.1", 443, tcp.Unreachable), conn("192.0.2.1", 80, tcp.OK)},
			want: []string{"tcp.rejected"}, contains: []string{"ICMP unreachable (EHOSTUNREACH)", "port 80"}},
		{name: "everything refused", url: signed, prov: tencent, dns: goodDNS,
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Refused), conn("192.0.2.1", 443, tcp.Refused)},
			want: []string{"tcp.refused"}},
		{name: "everything dropped", url: signed, prov: tencent, dns: goodDNS,
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Timeout), conn("192.0.2.1", 443, tcp.Timeout)},
			want: []string{"tcp.unreachable"}, contains: []string{"timed out"}},
		{name: "everything unreachable", url: signed, prov: tencent, dns: goodDNS,
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Unreachable), conn("192.0.2.1", 443, tcp.Unreachable)},
			want: []string{"tcp.unreachable"}},
		{name: "one address of two works", url: "rtmp://push.example.com/live/x", prov: generic, dns: resolved("push.example.com", nil, "192.0.2.1", "192.0.2.2"),
			tcp: []tcp.Result{conn("192.0.2.1", 1935, tcp.Timeout), conn("192.0.2.1", 443, tcp.OK), conn("192.0.2.2", 1935, tcp.OK)}},
		{name: "ipv6 unreachable, ipv4 blocked", url: "rtmp://push.example.com/live/x", prov: generic, dns: resolved("push.example.com", nil, "192.0.2.1"),
			tcp:  []tcp.Result{conn("2001:db8::1", 1935, tcp.Unreachable), conn("2001:db8::1", 443, tcp.Unreachable), conn("192.0.2.1", 1935, tcp.Timeout), conn("192.0.2.1", 443, tcp.OK)},
			want: []string{"tcp.blocked"}, contains: []string{"192.0.2.1"}},
		{name: "canceled run says nothing", url: "rtmp://192.0.2.1/live/x", prov: generic, tcp: []tcp.Result{conn("192.0.2.1", 1935, tcp.Canceled)}},
		{name: "dns and tcp both reported", url: signed, prov: tencent, dns: resolved("push.example.com", nil, "192.0.2.1"),
			tcp:  []tcp.Result{conn("192.0.2.1", 1935, tcp.Timeout), conn("192.0.2.1", 443, tcp.OK)},
			want: []string{"dns.cname_missing", "tcp.blocked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Provider: tt.prov, Results: record.Results{DNS: tt.dns, TCP: tt.tcp}}
			in.URL, in.URLError = ingesturl.Parse(tt.url)
			fs := Findings(in)
			var codes []string
			for _, f := range fs {
				codes = append(codes, f.Code)
				if !Known(f.Code) {
					t.Errorf("code %q is not in the catalogue", f.Code)
				}
				if f.Message == "" || f.Remedy == "" {
					t.Errorf("%s: got message %q remedy %q; want both", f.Code, f.Message, f.Remedy)
				}
			}
			if !slices.Equal(codes, tt.want) {
				t.Fatalf("got %v; want %v", codes, tt.want)
			}
			if len(fs) == 0 {
				return
			}
			if tt.severity != "" && fs[0].Severity != tt.severity {
				t.Errorf("severity: got %s; want %s", fs[0].Severity, tt.severity)
			}
			for _, c := range tt.contains {
				if !strings.Contains(fs[0].Message, c) {
					t.Errorf("message %q; want it to contain %q", fs[0].Message, c)
				}
			}
			// Nothing secret reaches a finding.
			all := fmt.Sprint(fs)
			for _, secret := range []string{"s3cr3tstream", "0123456789abcdef0123456789abcdef", "5C271099"} {
				if strings.Contains(all, secret) {
					t.Errorf("finding holds %q: %s", secret, all)
				}
			}
		})
	}
}

func TestTCPBlockedEvidence(t *testing.T) {
	in := Input{URL: mustURL(t, "rtmp://192.0.2.1/live/x"), Results: record.Results{TCP: []tcp.Result{
		conn("192.0.2.1", 1935, tcp.Timeout), conn("192.0.2.1", 80, tcp.OK), conn("192.0.2.1", 443, tcp.OK)}}}
	f := Findings(in)[0]
	if f.Evidence["port"] != 1935 || f.Evidence["error"] != "timeout" || !slices.Equal(f.Evidence["open_ports"].([]int), []int{80, 443}) {
		t.Errorf("got evidence %v; want port 1935, error timeout, open_ports [80 443]", f.Evidence)
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		sev  []record.Severity
		want record.Verdict
	}{
		{nil, record.Go},
		{[]record.Severity{record.Info}, record.Go},
		{[]record.Severity{record.Info, record.Warning}, record.Warn},
		{[]record.Severity{record.Warning, record.Error, record.Info}, record.NoGo},
	}
	for _, tt := range tests {
		var fs []record.Finding
		for _, s := range tt.sev {
			fs = append(fs, record.Finding{Severity: s})
		}
		if got := record.VerdictOf(fs); got != tt.want {
			t.Errorf("%v: got %s; want %s", tt.sev, got, tt.want)
		}
	}
}

// TestURLInvalidMessage: the finding gives the parser's reason once, in its own sentence — not the
// parser's "invalid publishing URL" prefix as well.
func TestURLInvalidMessage(t *testing.T) {
	const prefix = "the publishing URL cannot be parsed: "
	parseErr := func(s string) error {
		_, err := ingesturl.Parse(s)
		return err
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"missing host", parseErr("rtmp:///live/s"), prefix + "missing host"},
		{"unknown scheme", parseErr("ftp://h/live/s"), prefix + `unknown scheme "ftp"`},
		{"empty", parseErr("  "), prefix + "empty"},
		{"no error at all", nil, prefix + "it is empty"},
		{"not a parse error", errors.New("no URL configured"), prefix + "no URL configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Findings(Input{URLError: tt.err})
			if len(fs) == 0 || fs[0].Code != "url.invalid" || fs[0].Message != tt.want {
				t.Fatalf("got %+v; want url.invalid with message %q", fs, tt.want)
			}
		})
	}
}
