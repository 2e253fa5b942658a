package diagnose

import (
	"fmt"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// ICMPThresholds decide when ICMP loss and latency become findings. The zero value means
// DefaultICMPThresholds; otherwise every field is taken as given (0 loss = any loss counts).
//
// Why the defaults: an RTMP upload is one TCP flow, and a TCP flow's rate is bounded by about
// MSS / (RTT · √loss) (Mathis et al.). At 2 % loss and 150 ms that is ~0.5 Mbit/s for classic
// congestion control — a 6 Mbit/s stream survives only with a modern one and no further loss —
// so loss above 2 % is worth a warning. Above 20 % no realistic bitrate holds: an error. With the
// default 5 echoes, one lost echo (20 %) warns and two (40 %) are an error. 150 ms is a
// transcontinental round trip: beyond it the ingest is probably not the nearest one.
type ICMPThresholds struct {
	LossWarnRatio  float64       // warning when loss > this
	LossErrorRatio float64       // error when loss > this
	LatencyWarn    time.Duration // warning when the average round trip > this
}

// DefaultICMPThresholds are the thresholds unless configured; see ICMPThresholds.
var DefaultICMPThresholds = ICMPThresholds{LossWarnRatio: 0.02, LossErrorRatio: 0.2, LatencyWarn: 150 * time.Millisecond}

func (t ICMPThresholds) withDefaults() ICMPThresholds {
	if t == (ICMPThresholds{}) {
		return DefaultICMPThresholds
	}
	return t
}

// icmpFindings: loss and latency when the burst measured them; icmp.unavailable (info, never a
// failure) when it could not — no socket, this host's own firewall, or an ingest that answers no
// echo at all, which is common for ingest servers and says nothing about the path.
//
// reached says some TCP connect succeeded: with it, echoes that all go unanswered mean ICMP is
// filtered; without it, they only confirm what the TCP findings already say.
func icmpFindings(r *icmp.Result, th ICMPThresholds, reached bool) []record.Finding {
	if r == nil || r.Error == icmp.Canceled {
		return nil
	}
	th = th.withDefaults()
	ev := map[string]any{"address": r.Address, "privileged": r.Privileged}
	unavailable := func(msg, remedy string) []record.Finding {
		return []record.Finding{{Code: "icmp.unavailable", Severity: record.Info, Message: msg, Remedy: remedy, Evidence: ev}}
	}
	if r.Error != icmp.OK {
		ev["error"] = string(r.Error)
		if r.Errno != "" {
			ev["errno"] = r.Errno
		}
		switch r.Error {
		case icmp.Unavailable:
			ev["errno_unprivileged"] = r.ErrnoUnprivileged
			ev["errno_privileged"] = r.ErrnoPrivileged
			return unavailable(
				fmt.Sprintf("ICMP echo cannot be sent from this host (ping socket: %s, raw socket: %s): loss and latency are not measured", orNone(r.ErrnoUnprivileged), orNone(r.ErrnoPrivileged)),
				"Not needed for publishing. To measure loss and latency, run the agent as the installed service (it holds CAP_NET_RAW), or allow ping sockets for its group: sysctl net.ipv4.ping_group_range=\"0 2147483647\".")
		case icmp.Denied:
			return unavailable(
				fmt.Sprintf("this host refused to send ICMP echo to %s (%s): its own firewall or policy blocks it; loss and latency are not measured", r.Address, orNone(r.Errno)),
				"Not needed for publishing. To measure loss and latency, allow outbound ICMP echo in this host's firewall.")
		default:
			return unavailable(
				fmt.Sprintf("ICMP echo to %s could not be sent (%s): loss and latency are not measured", r.Address, describeICMP(r)),
				"Not needed for publishing; the TCP checks above tell whether the ingest can be reached.")
		}
	}
	ev["sent"] = r.Sent
	ev["received"] = r.Received
	ev["loss_ratio"] = round(r.LossRatio)
	if r.Sent == 0 {
		return nil
	}
	if r.Received == 0 && !reached {
		return unavailable(
			fmt.Sprintf("%s answered none of %d ICMP echoes either: nothing reaches it from this network", r.Address, r.Sent),
			"See the TCP or SRT findings: they say whether a firewall blocks the ingest or the server cannot be reached at all.")
	}
	if r.Received == 0 {
		return unavailable(
			fmt.Sprintf("%s answered none of %d ICMP echoes: it, or a firewall on the way, filters ICMP; loss and latency are not measured", r.Address, r.Sent),
			"Not needed for publishing: many ingest servers do not answer ping. The TCP checks above tell whether the ingest can be reached.")
	}
	ev["rtt_min_seconds"] = round(r.RTTMinSeconds)
	ev["rtt_avg_seconds"] = round(r.RTTAvgSeconds)
	ev["rtt_max_seconds"] = round(r.RTTMaxSeconds)
	ev["rtt_stddev_seconds"] = round(r.RTTStddevSeconds)
	var out []record.Finding
	if r.LossRatio > th.LossWarnRatio {
		sev, limit := record.Warning, th.LossWarnRatio
		if r.LossRatio > th.LossErrorRatio {
			sev, limit = record.Error, th.LossErrorRatio
		}
		lev := copyEvidence(ev)
		lev["threshold_ratio"] = limit
		out = append(out, record.Finding{Code: "net.packet_loss", Severity: sev,
			Message: fmt.Sprintf("%d of %d ICMP echoes to %s were lost (%s, over %s): this path loses packets",
				r.Sent-r.Received, r.Sent, r.Address, percent(r.LossRatio), percent(limit)),
			Remedy:   "Packet loss slows an RTMP upload (one TCP flow) far below its bitrate: move the encoder from Wi-Fi to a cable, check whether the venue uplink is saturated, or switch to another uplink (4G/5G bonding); lower the bitrate if it persists.",
			Evidence: lev})
	}
	if avg := time.Duration(r.RTTAvgSeconds * float64(time.Second)); avg > th.LatencyWarn {
		lev := copyEvidence(ev)
		lev["threshold_seconds"] = th.LatencyWarn.Seconds()
		out = append(out, record.Finding{Code: "net.high_latency", Severity: record.Warning,
			Message: fmt.Sprintf("round trip to %s averages %s (over %s; min %s, max %s)",
				r.Address, millis(r.RTTAvgSeconds), millis(th.LatencyWarn.Seconds()), millis(r.RTTMinSeconds), millis(r.RTTMaxSeconds)),
			Remedy:   "A long round trip makes a TCP upload recover slowly from any loss: use the provider's push domain nearest the venue, and check the uplink for a saturated link (bufferbloat: latency that grows under load).",
			Evidence: lev})
	}
	return out
}

func describeICMP(r *icmp.Result) string {
	if r.Errno != "" {
		return string(r.Error) + ", " + r.Errno
	}
	return string(r.Error)
}

func orNone(s string) string {
	if s == "" {
		return "failed"
	}
	return s
}

func percent(r float64) string { return fmt.Sprintf("%.0f %%", r*100) }

func copyEvidence(ev map[string]any) map[string]any {
	out := make(map[string]any, len(ev)+1)
	for k, v := range ev {
		out[k] = v
	}
	return out
}
