package render

import (
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestWriteTextURLSteps(t *testing.T) {
	expires := time.Date(2024, 6, 2, 10, 0, 0, 0, time.UTC)
	lint := func(sig ingesturl.Signature) *ingesturl.Lint {
		return &ingesturl.Lint{Probe: "url", Scheme: "rtmp", Mode: "rtmp", TxTime: "665C4320", Expires: expires, Signature: sig}
	}
	tests := []struct {
		name  string
		rec   record.Record
		lines []string
	}{
		{"signature ok, 23 h left",
			record.Record{Time: expires.Add(-23 * time.Hour), Results: record.Results{URL: lint(ingesturl.SigOK)}},
			[]string{"✔ url  rtmp://, signature ok, valid until 2024-06-02 10:00 UTC (23h00m left)"}},
		{"backup key, expired",
			record.Record{Time: expires.Add(90 * time.Minute), Results: record.Results{URL: lint(ingesturl.SigOKBackup)},
				Findings: []record.Finding{{Code: "url.txtime_expired", Severity: record.Error}}},
			[]string{"✘ url  rtmp://, signature ok (backup key), expired 2024-06-02 10:00 UTC (1h30m ago)"}},
		{"mismatch, time left judged by the clock reference",
			record.Record{Time: expires.Add(-time.Hour), Results: record.Results{URL: lint(ingesturl.SigMismatch),
				Clock: &clock.Result{Source: "ntp", Server: "ntp.test:123", OK: true, OffsetSeconds: -7200, RTTSeconds: 0.012}},
				Findings: []record.Finding{{Code: "url.txsecret_mismatch", Severity: record.Error}, {Code: "clock.skew", Severity: record.Error}}},
			[]string{"✘ time this clock is 2h00m ahead of NTP ntp.test:123  (rtt 12.0 ms)", "✘ url  rtmp://, signature does not match, valid until 2024-06-02 10:00 UTC (3h00m left)"}},
		{"no key, reference down",
			record.Record{Time: expires.Add(-30 * time.Hour), Results: record.Results{URL: lint(ingesturl.SigNotChecked),
				Clock: &clock.Result{Source: "ntp", Server: "ntp.test:123", Error: clock.Timeout}}},
			[]string{"– time NTP ntp.test:123: timeout — txTime judged by this host's clock", "✔ url  rtmp://, signature not checked (no key configured), valid until 2024-06-02 10:00 UTC (30h00m left)"}},
		{"a platform's ingest rules held",
			record.Record{Results: record.Results{URL: &ingesturl.Lint{Probe: "url", Scheme: "rtmps", Mode: "rtmp", IngestRules: "youtube"}}},
			[]string{"✔ url  rtmps:// URL well-formed, host, port and application as the youtube ingest takes them"}},
		{"a platform's ingest rules broken",
			record.Record{Results: record.Results{URL: &ingesturl.Lint{Probe: "url", Scheme: "rtmp", Mode: "rtmp", IngestRules: "facebook",
				Issues: []ingesturl.Issue{{Kind: ingesturl.IngestScheme, Found: "rtmp", Want: "rtmps"}}}},
				Findings: []record.Finding{{Code: "url.scheme_required", Severity: record.Error}}},
			[]string{"✘ url  rtmp://, 1 issue(s) below"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rec.Target, tt.rec.URL, tt.rec.Verdict = "t", "rtmp://push.example.com/live/<redacted>", record.Go
			var b strings.Builder
			if err := Checklist(&b, []record.Record{tt.rec}, Options{}); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.lines {
				if !strings.Contains(b.String(), "  "+l+"\n") {
					t.Errorf("got\n%s\nwant the line %q", b.String(), l)
				}
			}
		})
	}
}
