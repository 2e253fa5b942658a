package diagnose

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/record"
)

// Thresholds of the live watch (docs/findings.md). A stall is judged at 5 s: an encoder's send
// buffer covers a few seconds, so five without an acknowledgement while data waits is a cut path,
// not a slow one. A backlog of one second of the stream is a second of the show the encoder holds
// and will start dropping frames from; 30 s of it, or 30 s under the bitrate, is no passing gust of
// Wi-Fi. 2 % of segments retransmitted is where a TCP stream's rate starts to fall (loss-based
// congestion control halves its window per loss event); under LiveRetransMinSegs segments in a
// window a ratio says little.
const (
	LiveStall            = 5 * time.Second
	LiveCongestedBacklog = time.Second
	LiveGrowingSamples   = 3
	LiveCongestedError   = 30 * time.Second
	LiveBelowBitrateFor  = 30 * time.Second
	LiveRetransRatio     = 0.02
	LiveRetransMinSegs   = 100
	LiveReconnects       = 2
	// liveHeadroom is the share of what the uplink carried that the remedy proposes as the
	// encoder's bitrate: room for the audio, the container and the uplink's own variation.
	liveHeadroom = 0.9
)

// Live diagnoses one window of the live watch: the agent's live records carry these findings
// only. A pipeline record's copy (HeldBack) says why its publish probe did not run.
func Live(r *live.Result) []record.Finding {
	if r == nil {
		return nil
	}
	ev := liveEvidence(r)
	one := func(code string, sev record.Severity, msg, remedy string) record.Finding {
		return record.Finding{Code: code, Severity: sev, Message: msg, Remedy: remedy, Evidence: ev}
	}
	if r.HeldBack != "" {
		why := fmt.Sprintf("%d publisher(s) connected now", r.Publishers)
		switch {
		case r.Error != live.OK:
			why = "the live watch cannot see this host's connections (" + string(r.Error) + ")"
		case r.Publishers == 0 && r.LastSeenSecondsAgo >= 0:
			why = fmt.Sprintf("the last publisher left %s ago, within live_quiet", secondsText(r.LastSeenSecondsAgo))
		}
		return []record.Finding{one("live.publish_held", record.Info,
			fmt.Sprintf("the %s probe ran at connect level instead: a show may be live on %s (%s)", r.HeldBack, r.Ingest, why),
			"Nothing to do: the agent never publishes over a live show. Scheduled publish probes belong on a test stream key, not the show's; they run again once no publisher has been seen for live_quiet.")}
	}
	if r.Error != live.OK {
		return []record.Finding{one("live.unavailable", record.Warning,
			"live watch is not available on this system: "+r.Detail,
			"Run the agent on the encoder itself, under Linux (any user) or Windows (the publishers are found as any user; their rate, RTT, retransmits and backlog need administrator rights or the service as LocalSystem). macOS gives no statistics of another process's connection: there the show's connection is not watched. Until then publish probes of live targets fall back to connect.")}
	}
	if r.Publishers == 0 {
		msg := fmt.Sprintf("no encoder on this host is publishing to %s", r.Ingest)
		if r.LastSeenSecondsAgo > 0 {
			msg += fmt.Sprintf("; the last one left %s ago", secondsText(r.LastSeenSecondsAgo))
		}
		return []record.Finding{one("live.no_publisher", record.Info, msg,
			"Nothing to do before the show. During it, check that the encoder streams to this ingest from this host: the agent sees only this host's own connections.")}
	}
	var out []record.Finding
	if r.FiguresUnknown != "" {
		// Counted, not measured: the other findings cover only the connections with figures.
		out = append(out, one("live.unavailable", record.Warning,
			fmt.Sprintf("%d of the %d publisher connection(s) to %s are counted, but their rate, RTT, retransmits and backlog cannot be read: %s",
				r.UnknownConnections, r.Publishers, r.Ingest, r.FiguresUnknown),
			"On Windows, run `ingestprobe watch` from an Administrator prompt, or the service as LocalSystem (sc.exe config ingestprobe obj= LocalSystem, then restart it; it is installed as LocalService): enabling a connection's statistics (SetPerTcpConnectionEStats) needs administrator rights. Until then a stall, congestion or a rate under the bitrate on these connections is not seen; publish probes still hold back while they are connected."))
	}
	if !r.HasFigures() {
		return append(out, liveReconnects(r, one)...)
	}
	carried := fmt.Sprintf("the uplink carries %s", mbit(r.AckedBps))
	if r.StreamBps > 0 {
		carried += fmt.Sprintf(" of the stream's %s", mbit(r.StreamBps))
	}
	lower := fmt.Sprintf("set the encoder to at most %s or move it to a wired uplink", mbit(suggestedRate(r.AckedBps)))
	stalled := r.StalledSeconds >= LiveStall.Seconds()
	if stalled {
		out = append(out, one("live.stalled", record.Error,
			fmt.Sprintf("the publisher is connected to %s but nothing has been acknowledged for %s while %s wait to be sent",
				r.Ingest, secondsText(r.StalledSeconds), bytesText(r.BacklogBytes)),
			"The path to the ingest is cut: the venue's firewall or Wi-Fi, the uplink, or a frozen ingest. Check the uplink now; if it does not recover within seconds, restart the stream over another uplink (4G/5G) or to the backup ingest."))
	}
	if !stalled && (r.BacklogSeconds > LiveCongestedBacklog.Seconds() || r.BacklogGrowing >= LiveGrowingSamples) {
		sev := record.Warning
		if r.CongestedSeconds >= LiveCongestedError.Seconds() {
			sev = record.Error
		}
		what := fmt.Sprintf("%s wait to be sent or acknowledged", bytesText(r.BacklogBytes))
		if r.BacklogSeconds > 0 {
			what = fmt.Sprintf("%s of the stream (%s) wait to be sent or acknowledged", secondsText(r.BacklogSeconds), bytesText(r.BacklogBytes))
		}
		if r.BacklogGrowing >= LiveGrowingSamples {
			what += fmt.Sprintf(", and the backlog has grown %d samples in a row", r.BacklogGrowing)
		}
		if r.CongestedSeconds > 0 {
			what += fmt.Sprintf(" (for %s)", secondsText(r.CongestedSeconds))
		}
		out = append(out, one("live.congested", sev,
			what+": "+carried,
			"The uplink cannot carry the stream and the encoder will drop frames: "+lower+"."))
	}
	if !stalled && r.BitrateBps > 0 && r.BelowBitrateSeconds >= LiveBelowBitrateFor.Seconds() {
		out = append(out, one("live.below_bitrate", record.Error,
			fmt.Sprintf("the acknowledged rate has stayed more than 10 %% under the show's bitrate for %s: the uplink carries %s of the stream's %s",
				secondsText(r.BelowBitrateSeconds), mbit(r.AckedBps), mbit(r.BitrateBps)),
			"Viewers are losing the stream's quality or continuity: "+lower+"."))
	}
	if r.SegsOut >= LiveRetransMinSegs && r.RetransmitRatio > LiveRetransRatio {
		out = append(out, one("live.retransmits", record.Warning,
			fmt.Sprintf("%.1f %% of the segments to %s were retransmitted in the last %s (%d of %d)",
				r.RetransmitRatio*100, r.Ingest, secondsText(r.WindowSeconds), r.RetransSegs, r.SegsOut),
			"Packets are lost between the encoder and the ingest — busy Wi-Fi, a bad cable or a congested uplink — and every loss slows the stream: move the encoder to a wired uplink or a less busy Wi-Fi channel, or "+lower+"."))
	}
	return append(out, liveReconnects(r, one)...)
}

// liveReconnects: identity is known even where a connection's figures are not.
func liveReconnects(r *live.Result, one func(string, record.Severity, string, string) record.Finding) []record.Finding {
	if r.Reconnects < LiveReconnects {
		return nil
	}
	return []record.Finding{one("live.reconnects", record.Warning,
		fmt.Sprintf("the publisher's connection to %s was re-established %d times in the last %s", r.Ingest, r.Reconnects, shortDur(live.ReconnectWindow)),
		"Each reconnect is a gap viewers see: read the encoder's log for why (timeouts point at the uplink, refusals at the URL or stream key), and look for live.stalled or live.congested in the same minutes.")}
}

func liveEvidence(r *live.Result) map[string]any {
	ev := map[string]any{"ingest": r.Ingest, "publishers": r.Publishers}
	if r.Error != live.OK {
		ev["error"] = string(r.Error)
		return ev
	}
	if r.Publishers == 0 {
		if r.LastSeenSecondsAgo != 0 {
			ev["last_seen_seconds_ago"] = r.LastSeenSecondsAgo
		}
		return ev
	}
	if r.FiguresUnknown != "" {
		ev["figures_unknown"] = r.FiguresUnknown
		ev["unknown_connections"] = r.UnknownConnections
	}
	ev["window_seconds"] = r.WindowSeconds
	ev["acked_bps"] = r.AckedBps
	ev["stream_bps"] = r.StreamBps
	ev["backlog_bytes"] = r.BacklogBytes
	ev["backlog_seconds"] = r.BacklogSeconds
	ev["rtt_seconds"] = r.RTTSeconds
	ev["retransmit_ratio"] = r.RetransmitRatio
	ev["reconnects"] = r.Reconnects
	if r.BitrateBps > 0 {
		ev["bitrate_bps"] = r.BitrateBps
	}
	for k, v := range map[string]float64{"stalled_seconds": r.StalledSeconds, "congested_seconds": r.CongestedSeconds, "below_bitrate_seconds": r.BelowBitrateSeconds} {
		if v > 0 {
			ev[k] = v
		}
	}
	var procs []string
	for _, c := range r.Connections {
		procs = append(procs, c.Process)
	}
	ev["processes"] = procs
	return ev
}

// suggestedRate is what the encoder should be set to: liveHeadroom of what the uplink carried,
// rounded down to a tenth of a Mbit/s (a hundredth under 0.5 Mbit/s, so a slow uplink gets a number).
func suggestedRate(acked float64) float64 {
	r := acked * liveHeadroom
	step := 1e5
	if r < 5e5 {
		step = 1e4
	}
	return math.Floor(r/step) * step
}

// mbit writes a rate as "1.9 Mbit/s" ("0.75 Mbit/s" under 1 Mbit/s).
func mbit(bps float64) string {
	if bps < 1e6 {
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", bps/1e6), "0"), ".") + " Mbit/s"
	}
	return fmt.Sprintf("%.1f Mbit/s", bps/1e6)
}

func secondsText(s float64) string {
	if s < 10 {
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", s), "0"), ".") + " s"
	}
	return shortDur(time.Duration(s) * time.Second)
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	default:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
}

func bytesText(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
