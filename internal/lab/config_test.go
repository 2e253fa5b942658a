package lab

import (
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		in      string
		want    Rule
		wantErr string
	}{
		{in: "drop:1935", want: DropPort(1935)},
		{in: "reset:443", want: ResetPort(443)},
		{in: "prohibit:1935", want: ProhibitPort(1935)},
		{in: "drop:all", want: DropIngest()},
		{in: "reset:all", want: ResetIngest()},
		{in: "prohibit:all", want: ProhibitIngest()},
		{in: "drop:dns", want: DropDNS()},
		{in: "drop:udp/9000", want: DropUDPPort(9000)},
		{in: "reset:udp/10080", want: ResetUDPPort(10080)},
		{in: "prohibit:udp/9000", want: ProhibitUDPPort(9000)},
		{in: "drop:udp/0", wantErr: "is not a port"},
		{in: "drop:tcp/9000", wantErr: "is not a port"},
		{in: "drop", wantErr: "want ACTION:WHAT"},
		{in: "block:1935", wantErr: "is not drop, reset or prohibit"},
		{in: "drop:0", wantErr: "is not a port"},
		{in: "drop:70000", wantErr: "is not a port"},
		{in: "drop:rtmp", wantErr: "is not a port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRule(%q): got error %v; want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRule(%q): got %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String: got %q; want %q", s, tt.in)
			}
		})
	}
}

func TestNftRuleset(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		want  []string // lines the ruleset must hold
		not   []string
	}{
		{"open", nil, []string{"delete table inet ingestprobe_lab", "hook forward", "policy accept;"}, []string{"drop\n", "reject"}},
		{"drop one port", []Rule{DropPort(1935)}, []string{"ip daddr 10.231.2.10 tcp dport 1935 drop"}, []string{"reject"}},
		{"reset one port", []Rule{ResetPort(1935)}, []string{"ip daddr 10.231.2.10 tcp dport 1935 reject with tcp reset"}, nil},
		{"prohibit one port", []Rule{ProhibitPort(1935)}, []string{"ip daddr 10.231.2.10 tcp dport 1935 reject with icmpx type admin-prohibited"}, nil},
		{"drop all", []Rule{DropIngest()}, []string{"ip daddr 10.231.2.10 drop"}, []string{"dport"}},
		{"reset all is tcp only", []Rule{ResetIngest()}, []string{"ip daddr 10.231.2.10 meta l4proto tcp reject with tcp reset"}, nil},
		{"drop dns, udp and tcp", []Rule{DropDNS()}, []string{"ip daddr 10.231.2.53 udp dport 53 drop", "ip daddr 10.231.2.53 tcp dport 53 drop"}, nil},
		{"drop a udp port", []Rule{DropUDPPort(9000)}, []string{"ip daddr 10.231.2.10 udp dport 9000 drop"}, []string{"tcp"}},
		{"reset a udp port is port-unreachable", []Rule{ResetUDPPort(9000)}, []string{"ip daddr 10.231.2.10 udp dport 9000 reject with icmpx type port-unreachable"}, []string{"tcp"}},
		{"prohibit a udp port", []Rule{ProhibitUDPPort(9000)}, []string{"ip daddr 10.231.2.10 udp dport 9000 reject with icmpx type admin-prohibited"}, nil},
		{"reset dns is port-unreachable for udp", []Rule{{Action: Reset, To: ResolverAddr, Port: 53}}, []string{"udp dport 53 reject with icmpx type port-unreachable", "tcp dport 53 reject with tcp reset"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nftRuleset(tt.rules)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got\n%s\nwant it to contain %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("got\n%s\nwant no %q", got, n)
				}
			}
		})
	}
}

func TestDnsmasqConfig(t *testing.T) {
	got := dnsmasqConfig("abc", DefaultRecords())
	for _, w := range []string{
		"listen-address=10.231.2.53\n",
		"no-resolv\n",
		"local=/lab.test/\n",
		"host-record=open.lab.test,10.231.2.10\n",
		"cname=push.lab.test,push.lab.test.tlivepush.com\n",
		"cname=play.lab.test,play.lab.test.tlivecdn.com\n",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("config\n%s\nwant a line %q", got, w)
		}
	}
	if strings.Contains(got, "missing.lab.test") {
		t.Errorf("config defines missing.lab.test, which must be NXDOMAIN")
	}
	// dnsmasq answers a cname= only for a target it already knows: every target must be a record.
	known := map[string]bool{}
	for _, r := range DefaultRecords() {
		if r.A.IsValid() {
			known[r.Name] = true
		}
	}
	for _, r := range DefaultRecords() {
		if r.CNAME != "" && !known[r.CNAME] {
			t.Errorf("CNAME %s → %s: got a target with no address record; want one", r.Name, r.CNAME)
		}
	}
}

func TestNginxConfig(t *testing.T) {
	tests := []struct {
		name, module string
		want, not    []string
	}{
		{"with rtmp", "/m/ngx_rtmp_module.so",
			[]string{"load_module /m/ngx_rtmp_module.so;", "rtmp {", "listen 10.231.2.10:1935;", "application live { live on; }", "listen 10.231.2.10:443;", "listen 10.231.2.10:80;"},
			nil},
		{"without rtmp, 1935 is http", "",
			[]string{"listen 10.231.2.10:1935;", "listen 10.231.2.10:443;"},
			[]string{"load_module", "rtmp {"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nginxConfig("/state/nginx", tt.module, "")
			for _, w := range append(tt.want, "pid /state/nginx/nginx.pid;", "master_process off;") {
				if !strings.Contains(got, w) {
					t.Errorf("got\n%s\nwant it to contain %q", got, w)
				}
			}
			for _, n := range append(tt.not, "/var/lib/nginx", "/var/log/nginx") {
				if strings.Contains(got, n) {
					t.Errorf("got\n%s\nwant no %q", got, n)
				}
			}
		})
	}
}
