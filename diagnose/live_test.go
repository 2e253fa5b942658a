package diagnose

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/record"
)

func liveCodes(fs []record.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code+":"+string(f.Severity))
	}
	return strings.Join(out, ",")
}

func TestLiveFindings(t *testing.T) {
	pub := func(f func(r *live.Result)) *live.Result {
		r := &live.Result{Probe: "live", Ingest: "10.231.2.10:1935", Publishers: 1, WindowSeconds: 5, AckedBps: 1.9e6, StreamBps: 1.9e6,
			SegsOut: 1000, RTTSeconds: 0.02, Connections: []live.Connection{{Process: "ffmpeg"}}}
		f(r)
		return r
	}
	for _, c := range []struct {
		name   string
		r      *live.Result
		want   string
		inText string
	}{
		{"healthy", pub(func(*live.Result) {}), "", ""},
		{"none yet", &live.Result{Probe: "live", Ingest: "10.231.2.10:1935", LastSeenSecondsAgo: -1}, "live.no_publisher:info", "no encoder on this host"},
		{"unavailable", &live.Result{Probe: "live", Error: live.Unavailable, Detail: "darwin"}, "live.unavailable:warning", "not available on this system"},
		{"stalled", pub(func(r *live.Result) {
			r.StalledSeconds = 6
			r.AckedBps = 0
			r.BacklogBytes = 300000
			r.BacklogSeconds = 1.3
		}), "live.stalled:error", "nothing has been acknowledged for 6 s"},
		{"congested", pub(func(r *live.Result) { r.AckedBps = 0.8e6; r.BacklogSeconds = 1.5; r.CongestedSeconds = 10 }), "live.congested:warning",
			"the uplink carries 0.8 Mbit/s of the stream's 1.9 Mbit/s"},
		{"congested long", pub(func(r *live.Result) { r.BacklogGrowing = 3; r.CongestedSeconds = 31 }), "live.congested:error", "grown 3 samples in a row"},
		{"below bitrate", pub(func(r *live.Result) { r.AckedBps = 0.8e6; r.BitrateBps = 1.9e6; r.BelowBitrateSeconds = 30 }), "live.below_bitrate:error",
			"set the encoder to at most 0.7 Mbit/s or move it to a wired uplink"},
		{"below, no bitrate", pub(func(r *live.Result) { r.AckedBps = 0.8e6; r.BelowBitrateSeconds = 30 }), "", ""},
		{"retransmits", pub(func(r *live.Result) { r.RetransSegs = 41; r.RetransmitRatio = 0.041 }), "live.retransmits:warning", "4.1 % of the segments"},
		{"retransmits, few segments", pub(func(r *live.Result) { r.SegsOut = 50; r.RetransSegs = 5; r.RetransmitRatio = 0.1 }), "", ""},
		{"reconnects", pub(func(r *live.Result) { r.Reconnects = 2 }), "live.reconnects:warning", "re-established 2 times in the last 5 min"},
		{"figures unknown", pub(func(r *live.Result) {
			r.AckedBps, r.StreamBps, r.SegsOut, r.RTTSeconds = 0, 0, 0, 0
			r.FiguresUnknown, r.UnknownConnections = live.WhyAdmin+" (SetPerTcpConnectionEStats: access denied)", 1
			r.BitrateBps, r.BelowBitrateSeconds = 1.9e6, 0
		}), "live.unavailable:warning", "1 of the 1 publisher connection(s) to 10.231.2.10:1935 are counted, but their rate, RTT, retransmits and backlog cannot be read: per-connection statistics need the agent to run as administrator or LocalSystem"},
		{"figures unknown, reconnecting", pub(func(r *live.Result) {
			r.AckedBps, r.StreamBps, r.SegsOut = 0, 0, 0
			r.FiguresUnknown, r.UnknownConnections, r.Reconnects = "no GetPerTcpConnectionEStats", 1, 2
		}), "live.unavailable:warning,live.reconnects:warning", "sc.exe config ingestprobe obj= LocalSystem"},
		{"figures of one of two", pub(func(r *live.Result) {
			r.Publishers, r.FiguresUnknown, r.UnknownConnections = 2, "no GetPerTcpConnectionEStats", 1
			r.RetransSegs, r.RetransmitRatio = 41, 0.041
		}), "live.unavailable:warning,live.retransmits:warning", "1 of the 2 publisher"},
		{"held", &live.Result{Probe: "live", Ingest: "10.231.2.10:1935", HeldBack: "publish", Publishers: 1}, "live.publish_held:info", "ran at connect level"},
	} {
		got := Live(c.r)
		if liveCodes(got) != c.want {
			t.Errorf("%s: got %s; want %s", c.name, liveCodes(got), c.want)
			continue
		}
		if c.inText != "" && !strings.Contains(got[0].Message+" "+got[0].Remedy, c.inText) {
			t.Errorf("%s: %q / %q does not say %q", c.name, got[0].Message, got[0].Remedy, c.inText)
		}
		for _, f := range got {
			if !Known(f.Code) {
				t.Errorf("%s: %s is not in the catalogue", c.name, f.Code)
			}
		}
	}
}
