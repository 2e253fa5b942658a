package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestChecklistUplink(t *testing.T) {
	for _, c := range []struct {
		u    uplink.Result
		want string
	}{
		{uplink.Result{Probe: "uplink", OK: true, TargetBPS: 6_000_000, AchievedBPS: 7_560_000, DurationSeconds: 10.002,
			RTTMinSeconds: 0.012, RTTAvgSeconds: 0.018, RTTMaxSeconds: 0.040, RetransmitRatio: 0.001},
			"✔ uplink 6.0 Mbit/s show: 7.6 Mbit/s sustained over 10 s, rtt 12/18/40 ms, 0.1 % retransmitted"},
		{uplink.Result{Probe: "uplink", OK: true, TargetBPS: 6_000_000, AchievedBPS: 2_870_000, DurationSeconds: 3, MeasuredBy: "rtmp_ack"},
			"✘ uplink 6.0 Mbit/s show: 2.9 Mbit/s sustained over 3 s (by the ingest's acknowledgements)"},
		{uplink.NotRun(uplink.Config{Rate: 4_000_000}), "– uplink 4.0 Mbit/s show: not measured: the publish was not accepted, nothing was sent"},
	} {
		var b strings.Builder
		rec := record.Record{Target: "t", URL: "rtmp://h/live/<redacted>", Verdict: record.Go, Results: record.Results{Uplink: &c.u}}
		if err := Checklist(&b, []record.Record{rec}, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("got\n%s\nwant the line %q", b.String(), c.want)
		}
	}
}
