package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/uplink"
)

func TestUplinkFindings(t *testing.T) {
	measured := func(achieved float64) uplink.Result {
		return uplink.Result{Probe: "uplink", OK: true, MeasuredBy: "tcp_info", TargetBPS: 6_000_000, SentBPS: 7_500_000,
			AchievedBPS: achieved, DurationSeconds: 10, RTTIdleSeconds: 0.010, RTTMinSeconds: 0.011, RTTAvgSeconds: 0.018, RTTMaxSeconds: 0.040,
			RecommendedMaxBPS: uplink.Recommended(achieved)}
	}
	for _, c := range []struct {
		name   string
		r      func() uplink.Result
		codes  []string
		remedy string // in the first finding's remedy
	}{
		{"sustained with headroom", func() uplink.Result { return measured(7_500_000) }, nil, ""},
		{"exactly 1.25 ×", func() uplink.Result { return measured(7_500_000) }, nil, ""},
		{"below the rate", func() uplink.Result { return measured(4_750_000) }, []string{"uplink.insufficient"}, "at most 3.8 Mbit/s"},
		{"at the rate, no headroom", func() uplink.Result { return measured(6_000_000) }, []string{"uplink.no_headroom"}, "at most 4.8 Mbit/s"},
		{"retransmits above 2 %", func() uplink.Result { r := measured(7_500_000); r.RetransmitRatio = 0.031; return r }, []string{"uplink.retransmits"}, "at most 6.0 Mbit/s"},
		{"retransmits at 2 % are fine", func() uplink.Result { r := measured(7_500_000); r.RetransmitRatio = 0.02; return r }, nil, ""},
		{"bufferbloat", func() uplink.Result { r := measured(7_500_000); r.RTTAvgSeconds = 0.090; return r }, []string{"uplink.bufferbloat"}, "fq_codel"},
		// 4 × a 5 ms idle RTT is 20 ms: more than 4 × but not 50 ms more is no bloat.
		{"4 × but under 50 ms more", func() uplink.Result {
			r := measured(7_500_000)
			r.RTTIdleSeconds, r.RTTAvgSeconds = 0.005, 0.045
			return r
		}, nil, ""},
		{"no TCP_INFO: no bloat judged", func() uplink.Result { r := measured(7_500_000); r.RTTIdleSeconds, r.RTTAvgSeconds = 0, 0.5; return r }, nil, ""},
		{"unmeasured", func() uplink.Result {
			return uplink.Result{Probe: "uplink", Error: uplink.Unmeasured, TargetBPS: 6_000_000}
		}, []string{"uplink.unmeasured"}, "Linux"},
		{"not published: the RTMP finding says why", func() uplink.Result { return uplink.NotRun(uplink.Config{Rate: 6_000_000}) }, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.r()
			fs := uplinkFindings(&r)
			var codes []string
			for _, f := range fs {
				codes = append(codes, f.Code)
				if !Known(f.Code) {
					t.Errorf("%s is not in the catalogue", f.Code)
				}
				if f.Evidence["target_bps"] != r.TargetBPS {
					t.Errorf("%s: evidence %v lacks target_bps", f.Code, f.Evidence)
				}
			}
			if !slices.Equal(codes, c.codes) {
				t.Fatalf("got %v; want %v", codes, c.codes)
			}
			if c.remedy != "" && !strings.Contains(fs[0].Remedy, c.remedy) {
				t.Errorf("remedy %q; want it to name %q", fs[0].Remedy, c.remedy)
			}
		})
	}
}
