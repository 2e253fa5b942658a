package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestCNAMERule: a push domain whose chain does not reach an accepted push suffix is an error,
// never a warning — the push would not reach the provider, so the verdict must be no-go. A team's
// own DNS or load balancer is accepted once listed in extra_push_suffixes.
func TestCNAMERule(t *testing.T) {
	tencent := provider.Builtin()[provider.Tencent]
	fronted := tencent
	fronted.ExtraPushSuffixes = []string{".lb.example.net"}
	own := []string{".tlivepush.com", ".livepush.myqcloud.com"}
	withExtra := []string{".tlivepush.com", ".livepush.myqcloud.com", ".lb.example.net"}
	tests := []struct {
		name  string
		prov  provider.Profile
		host  string
		cname []string
		want  string // "" = no finding
		final string // evidence cname_final
		// the accepted suffixes the evidence lists
		accepted []string
		message  []string // in the message
		remedy   []string // in the remedy
	}{
		{name: "chain ends in a provider push suffix", prov: tencent, host: "push.example.com",
			cname: []string{"push.example.com.tlivepush.com"}},
		{name: "chain runs through a legacy push suffix", prov: tencent, host: "push.example.com",
			cname: []string{"push.example.com.livepush.myqcloud.com", "edge.tencent-internal.example"}},
		{name: "chain ends in an extra push suffix", prov: fronted, host: "push.example.com",
			cname: []string{"edge1.lb.example.net"}},
		{name: "extra suffix matches case-insensitively", prov: fronted, host: "push.example.com",
			cname: []string{"EDGE1.LB.Example.NET."}},
		{name: "the push domain itself ends in an extra suffix", prov: fronted, host: "ingest.lb.example.net"},
		{name: "chain ends elsewhere", prov: tencent, host: "push.example.com",
			cname: []string{"push.lb.example.net", "edge1.lb.example.net"},
			want:  "dns.cname_unexpected", final: "edge1.lb.example.net", accepted: own,
			message: []string{"edge1.lb.example.net", "not a tencent push target", ".tlivepush.com"},
			remedy:  []string{"Domain Management", "extra_push_suffixes in [providers.tencent]", `".edge1.lb.example.net"`}},
		{name: "chain ends outside the extra suffixes too", prov: fronted, host: "push.example.com",
			cname: []string{"lb.other.example"},
			want:  "dns.cname_unexpected", final: "lb.other.example", accepted: withExtra,
			message: []string{"lb.other.example", ".lb.example.net"},
			remedy:  []string{"extra_push_suffixes"}},
		{name: "chain ends in a playback suffix", prov: fronted, host: "push.example.com",
			cname: []string{"push.example.com.tlivecdn.com"},
			want:  "dns.cname_unexpected", final: "push.example.com.tlivecdn.com", accepted: withExtra,
			message: []string{"playback (CDN) domain"},
			remedy:  []string{"type: push", "Playback domains do not accept publishing"}},
		{name: "no cname at all", prov: fronted, host: "push.example.com",
			want: "dns.cname_missing", accepted: withExtra,
			message: []string{"no CNAME"}},
		{name: "extra suffixes make no rule where the provider has none", prov: provider.Profile{Name: "x", ExtraPushSuffixes: []string{".lb.example.net"}},
			host: "push.example.com", cname: []string{"lb.other.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dns.Result{Probe: "dns", Host: tt.host, Resolver: "10.0.0.1:53", Rcode: "NOERROR", CNAME: tt.cname, A: []string{"192.0.2.1"}}
			fs := dnsFindings(d, tt.prov)
			if tt.want == "" {
				if len(fs) != 0 {
					t.Fatalf("got %v; want no finding", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Code != tt.want {
				t.Fatalf("got %v; want one %s", fs, tt.want)
			}
			f := fs[0]
			if f.Severity != record.Error {
				t.Errorf("severity: got %s; want error (the push would not reach the provider)", f.Severity)
			}
			if got := record.VerdictOf(fs); got != record.NoGo {
				t.Errorf("verdict: got %s; want no-go", got)
			}
			if tt.final != "" && f.Evidence["cname_final"] != tt.final {
				t.Errorf("evidence cname_final: got %v; want %q", f.Evidence["cname_final"], tt.final)
			}
			if tt.final == "" {
				if _, ok := f.Evidence["cname_final"]; ok {
					t.Errorf("evidence cname_final: got %v; want none without a chain", f.Evidence["cname_final"])
				}
			}
			if got, _ := f.Evidence["expected_suffixes"].([]string); !slices.Equal(got, tt.accepted) {
				t.Errorf("evidence expected_suffixes: got %v; want %v", f.Evidence["expected_suffixes"], tt.accepted)
			}
			for _, c := range tt.message {
				if !strings.Contains(f.Message, c) {
					t.Errorf("message %q; want it to contain %q", f.Message, c)
				}
			}
			for _, c := range tt.remedy {
				if !strings.Contains(f.Remedy, c) {
					t.Errorf("remedy %q; want it to contain %q", f.Remedy, c)
				}
			}
		})
	}
}
