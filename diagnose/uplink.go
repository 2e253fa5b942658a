package diagnose

import (
	"fmt"
	"maps"
	"math"

	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
)

// Thresholds of the uplink soak (docs/findings.md).
const (
	// UplinkRetransmitWarn: above 2 % of segments retransmitted, a single TCP flow's rate is
	// bounded by loss (Mathis et al.: ~MSS / (RTT · √loss)) however wide the link, and an hour of
	// it shows as stutter even when the window held.
	UplinkRetransmitWarn = 0.02
	// Bufferbloat: the RTT under load above UplinkBloatFactor × the idle RTT and more than
	// UplinkBloatMargin above it — the uplink's queue fills, and every other use of it (the
	// venue's calls, the control of the encoder) waits behind the stream.
	UplinkBloatFactor = 4.0
	UplinkBloatMargin = 0.050 // seconds
)

// uplinkFindings judges a soak. One that did not publish (not_published) has no finding of its
// own: the RTMP findings say why the publish was refused. One that ended early (dropped) is the
// RTMP probe's finding too: the hold failed.
func uplinkFindings(r *uplink.Result) []record.Finding {
	if r == nil || r.Error == uplink.NotPublished || r.Error == uplink.Canceled || r.Error == uplink.Dropped {
		return nil
	}
	target := float64(r.TargetBPS)
	ev := map[string]any{
		"target_bps": r.TargetBPS, "sent_bps": r.SentBPS, "achieved_bps": r.AchievedBPS,
		"duration_seconds": r.DurationSeconds, "measured_by": r.MeasuredBy,
	}
	if r.Error == uplink.Unmeasured {
		return []record.Finding{{Code: "uplink.unmeasured", Severity: record.Warning, Evidence: ev,
			Message: fmt.Sprintf("the uplink soak published %s for its window, but nothing measured what arrived: TCP_INFO is not available here and the ingest sent too few RTMP Acknowledgements", uplink.FormatRate(target*uplink.Headroom)),
			Remedy:  "Run the soak from Linux (TCP_INFO), or against an ingest that acknowledges what it receives; until then this uplink's capacity is unknown."}}
	}
	var out []record.Finding
	rec := uplink.FormatRate(float64(r.RecommendedMaxBPS))
	ev["recommended_max_bps"] = r.RecommendedMaxBPS
	switch {
	case r.AchievedBPS < target:
		out = append(out, record.Finding{Code: "uplink.insufficient", Severity: record.Error, Evidence: ev,
			Message: fmt.Sprintf("this uplink carried %s to the ingest over %s; the show needs %s (%.0f %% of it)",
				uplink.FormatRate(r.AchievedBPS), wholeSeconds(r.DurationSeconds), uplink.FormatRate(target), 100*r.AchievedBPS/target),
			Remedy: fmt.Sprintf("Set the encoder to at most %s, or use a faster or dedicated uplink (wired rather than shared Wi-Fi, a second line with bonding).", rec)})
	case r.AchievedBPS < target*uplink.Headroom:
		out = append(out, record.Finding{Code: "uplink.no_headroom", Severity: record.Warning, Evidence: ev,
			Message: fmt.Sprintf("this uplink carried %s to the ingest over %s: the show's %s fits, but not its peaks (%s with 25 %% headroom)",
				uplink.FormatRate(r.AchievedBPS), wholeSeconds(r.DurationSeconds), uplink.FormatRate(target), uplink.FormatRate(target*uplink.Headroom)),
			Remedy: fmt.Sprintf("Set the encoder to at most %s to keep headroom, or use a wired uplink; keyframes and motion will otherwise build a backlog.", rec)})
	}
	if r.RetransmitRatio > UplinkRetransmitWarn {
		e := clone(ev)
		e["retransmit_ratio"] = r.RetransmitRatio
		out = append(out, record.Finding{Code: "uplink.retransmits", Severity: record.Warning, Evidence: e,
			Message: fmt.Sprintf("%.1f %% of the segments sent during the uplink soak were retransmitted (above %.0f %%): the path loses packets under load",
				100*r.RetransmitRatio, 100*UplinkRetransmitWarn),
			Remedy: fmt.Sprintf("Move the encoder off Wi-Fi or away from the congested link; with this loss, keep the encoder at most %s, or use SRT, which recovers loss without stalling.", rec)})
	}
	if idle := r.RTTIdleSeconds; idle > 0 && r.RTTAvgSeconds > UplinkBloatFactor*idle && r.RTTAvgSeconds-idle > UplinkBloatMargin {
		e := clone(ev)
		e["rtt_idle_seconds"], e["rtt_avg_seconds"], e["rtt_max_seconds"] = idle, r.RTTAvgSeconds, r.RTTMaxSeconds
		out = append(out, record.Finding{Code: "uplink.bufferbloat", Severity: record.Warning, Evidence: e,
			Message: fmt.Sprintf("the round trip to the ingest grew from %s ms idle to %s ms on average under the soak (max %s ms): the uplink's queue fills",
				msValue(idle), msValue(r.RTTAvgSeconds), msValue(r.RTTMaxSeconds)),
			Remedy: fmt.Sprintf("Keep the encoder below the uplink's rate (at most %s), and enable smart queue management (fq_codel, cake) on the venue router; everything else on the line waits behind this queue.", rec)})
	}
	return out
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+3)
	maps.Copy(out, m)
	return out
}

func wholeSeconds(s float64) string {
	return fmt.Sprintf("%.0f s", math.Round(s))
}

func msValue(s float64) string {
	return fmt.Sprintf("%.0f", s*1000)
}
