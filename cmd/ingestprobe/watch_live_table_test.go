package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/probes/live"
)

// A publisher whose statistics cannot be read (Windows without administrator rights) is a line
// with its process and the reason, not a row of zeros.
func TestLiveTableFiguresUnknown(t *testing.T) {
	why := live.WhyAdmin + " (SetPerTcpConnectionEStats: access denied)"
	rs := []live.Result{{Probe: "live", Ingest: "10.231.2.10:1935", Publishers: 1, UnknownConnections: 1, FiguresUnknown: why,
		Connections: []live.Connection{{Local: "10.231.1.2:50000", Remote: "10.231.2.10:1935", Process: "obs64.exe", PID: 4242, FiguresUnknown: why}}}}
	got := liveTable([]agent.Target{{Name: "main"}}, rs, 3*time.Second, 0)
	if !strings.Contains(got, "obs64.exe[4242]") || !strings.Contains(got, "figures unknown: "+why) || strings.Contains(got, "Mbit/s") {
		t.Errorf("table:\n%s", got)
	}
}
