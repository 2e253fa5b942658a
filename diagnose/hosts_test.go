package diagnose

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/provider"
)

// TestHostsFileAnswer: a name the hosts file maps to loopback is a local relay, not dns.hijacked;
// a hosts-file answer has no CNAME chain to judge, so the provider's CNAME rule is not applied
// (the encoder goes where the hosts file says). A hosts file that sinkholes the name (0.0.0.0) is
// still a block, and says it is the hosts file.
func TestHostsFileAnswer(t *testing.T) {
	tencent := provider.Builtin()[provider.Tencent]
	hosts := func(addr string) *dns.Result {
		return &dns.Result{Probe: "dns", Host: "push.example.com", Resolver: "/etc/hosts", HostsFile: true, A: []string{addr}}
	}
	for _, tt := range []struct {
		name string
		d    *dns.Result
		want []string
		in   string
	}{
		{"loopback relay", hosts("127.0.0.1"), nil, ""},
		{"lan relay, tencent domain", hosts("10.0.0.5"), nil, ""},
		{"sinkholed by the hosts file", hosts("0.0.0.0"), []string{"dns.hijacked"}, "the hosts file /etc/hosts maps push.example.com to 0.0.0.0"},
		{"loopback from DNS is still hijacked", &dns.Result{Probe: "dns", Host: "push.example.com", Resolver: "192.0.2.53:53", A: []string{"127.0.0.1"}}, []string{"dns.hijacked"}, ""},
	} {
		fs := dnsFindings(tt.d, tencent)
		var got []string
		for _, f := range fs {
			got = append(got, f.Code)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("%s: got %v; want %v\n%s", tt.name, got, tt.want, dump(fs))
			continue
		}
		if tt.in != "" && (len(fs) == 0 || !strings.Contains(fs[0].Message, tt.in)) {
			t.Errorf("%s: message %q; want it to say %q", tt.name, fs[0].Message, tt.in)
		}
	}
}
