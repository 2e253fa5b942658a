package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestLiveLine: the live watch has a line of its own in the checklist (watch's end, a live
// window's record): the publisher and its figures, marked by the live findings; no publisher is
// "–", not a failure; a record whose publish was held back shows no live line (its finding says why).
func TestLiveLine(t *testing.T) {
	pub := &live.Result{Probe: "live", Ingest: "10.0.0.5:1935", Publishers: 1, AckedBps: 1.58e6, RTTSeconds: 0.012,
		RetransmitRatio: 0.004, BacklogSeconds: 0.25, StreamBps: 1.6e6, Connections: []live.Connection{{Process: "obs64"}}}
	for _, tt := range []struct {
		name     string
		res      *live.Result
		findings []record.Finding
		want     string
	}{
		{"publishing", pub, nil, "✔ live 1 publisher(s) to 10.0.0.5:1935 (obs64): 1.6 Mbit/s acknowledged, rtt 12 ms, 0.4 % retransmitted, backlog 0.25 s"},
		{"congested", pub, []record.Finding{{Code: "live.congested", Severity: record.Warning}}, "! live 1 publisher(s)"},
		{"nobody", &live.Result{Probe: "live", Ingest: "10.0.0.5:1935"}, []record.Finding{{Code: "live.no_publisher", Severity: record.Info}}, "– live no encoder on this host publishes to 10.0.0.5:1935"},
		{"unavailable", &live.Result{Probe: "live", Error: live.Unavailable, Detail: "macOS"}, nil, "– live not available on this system: macOS"},
	} {
		rec := record.Record{Target: "main", Results: record.Results{Live: tt.res}, Findings: tt.findings}
		var b strings.Builder
		if err := Checklist(&b, []record.Record{rec}, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s: got\n%s\nwant a line with %q", tt.name, b.String(), tt.want)
		}
	}
	held := record.Record{Target: "main", Results: record.Results{Live: &live.Result{Probe: "live", Publishers: 1, HeldBack: "publish"}}}
	var b strings.Builder
	Checklist(&b, []record.Record{held}, Options{})
	if strings.Contains(b.String(), " live ") {
		t.Errorf("held-back record: got a live line in\n%s", b.String())
	}
}
