package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestWriteTextDNSStep pins how a failed lookup reads in the checklist: rcodes as DNS tools print
// them, the other failures in words a venue technician can act on.
func TestWriteTextDNSStep(t *testing.T) {
	tests := []struct {
		class dns.Class
		want  string
	}{
		{dns.NXDomain, "✘ dns  push.example.com: NXDOMAIN after 3.0 ms (resolver 192.0.2.53:53)"},
		{dns.ServFail, "✘ dns  push.example.com: SERVFAIL after 3.0 ms (resolver 192.0.2.53:53)"},
		{dns.Timeout, "✘ dns  push.example.com: no answer after 3.0 ms (resolver 192.0.2.53:53)"},
		{dns.Network, "✘ dns  push.example.com: resolver unreachable after 3.0 ms (resolver 192.0.2.53:53)"},
	}
	for _, tt := range tests {
		t.Run(string(tt.class), func(t *testing.T) {
			rec := record.Record{Target: "main", URL: "rtmp://push.example.com/live/<redacted>", Verdict: record.NoGo,
				Results: record.Results{DNS: &dns.Result{Probe: "dns", Host: "push.example.com", Resolver: "192.0.2.53:53", Error: tt.class, DurationSeconds: 0.003}}}
			var b strings.Builder
			if err := Checklist(&b, []record.Record{rec}, Options{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("got\n%s\nwant a line %q", b.String(), tt.want)
			}
		})
	}
}
