package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestStepMarkIsWorstFinding: a step's mark is the worst severity of its own findings — a ✔ never
// sits beside an error of the same step (a resolved name with dns.cname_missing), and a warning
// is "!", not ✔.
func TestStepMarkIsWorstFinding(t *testing.T) {
	resolved := &dns.Result{Probe: "dns", Host: "push.example.com", Resolver: "192.0.2.53:53", A: []string{"10.0.0.5"}, DurationSeconds: 0.003}
	lint := &ingesturl.Lint{Probe: "url", Scheme: "rtmp", Issues: []ingesturl.Issue{{Kind: ingesturl.ExtraQuestion}}}
	echo := &icmp.Result{Probe: "icmp", Address: "10.0.0.5", Sent: 5, Received: 5, RTTAvgSeconds: 0.2}
	for _, tt := range []struct {
		name     string
		res      record.Results
		findings []record.Finding
		want     string
	}{
		{"dns error", record.Results{DNS: resolved}, []record.Finding{{Code: "dns.cname_missing", Severity: record.Error}}, "✘ dns  push.example.com → 10.0.0.5"},
		{"dns clean", record.Results{DNS: resolved}, nil, "✔ dns  push.example.com → 10.0.0.5"},
		{"url warning", record.Results{URL: lint}, []record.Finding{{Code: "url.missing_param", Severity: record.Warning}}, "! url  rtmp://, 1 issue(s) below"},
		{"icmp warning", record.Results{ICMP: echo}, []record.Finding{{Code: "net.high_latency", Severity: record.Warning}}, "! icmp 10.0.0.5 5/5 echoes answered"},
		{"ipv6 is not icmp's", record.Results{ICMP: echo}, []record.Finding{{Code: "net.ipv6_broken", Severity: record.Warning}}, "✔ icmp 10.0.0.5 5/5 echoes answered"},
		{"info is no mark", record.Results{DNS: resolved}, []record.Finding{{Code: "dns.something", Severity: record.Info}}, "✔ dns  push.example.com"},
	} {
		rec := record.Record{Target: "main", URL: "rtmp://push.example.com/live/<redacted>", Results: tt.res, Findings: tt.findings}
		var b strings.Builder
		if err := Checklist(&b, []record.Record{rec}, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s: got\n%s\nwant a line with %q", tt.name, b.String(), tt.want)
		}
	}
}

// TestRemedyNotFaint: on a terminal the remedy — what to do — is not dimmed (only its arrow is).
func TestRemedyNotFaint(t *testing.T) {
	rec := record.Record{Target: "main", Findings: []record.Finding{{Code: "tcp.refused", Severity: record.Error, Message: "m", Remedy: "Do this."}}}
	var b strings.Builder
	Checklist(&b, []record.Record{rec}, Options{Color: true})
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "Do this.") && strings.Contains(line[:strings.Index(line, "Do this.")], "\x1b[2m") && !strings.Contains(line[:strings.Index(line, "Do this.")], "\x1b[0m") {
			t.Errorf("remedy line is dim: %q", line)
		}
	}
}
