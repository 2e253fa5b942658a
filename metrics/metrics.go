// Package metrics is the metric catalogue (docs/metrics.md, pinned by testdata/metrics.golden): the
// samples of each target's latest record, the agent's own series, and their exposition on /metrics.
// The prometheus sink serves Handler; the remote_write sink sends the same samples.
package metrics

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/record"
)

// Label is one metric label.
type Label struct{ Name, Value string }

// Sample is one value of one series at one time: the unit both /metrics and remote write are built
// from, so the two expose the same catalogue (docs/metrics.md, pinned by a golden test).
type Sample struct {
	Name   string
	Help   string
	Labels []Label // sorted by name
	Value  float64
	Time   time.Time
}

// Finding is the series of one finding (by code and severity): the remote_write sink zeroes it
// when the finding clears.
const Finding = "ingestprobe_finding"

// The per-target catalogue. Labels are bounded: agent, target, the static labels, and probe, port,
// phase, code, severity, verdict — never a URL, a key or an error text.
const (
	mVerdict     = "ingestprobe_target_verdict"
	mLastRun     = "ingestprobe_target_last_run_timestamp_seconds"
	mRunDuration = "ingestprobe_target_run_duration_seconds"
	mInterval    = "ingestprobe_target_interval_seconds"
	mSuccess     = "ingestprobe_probe_success"
	mDuration    = "ingestprobe_probe_duration_seconds"
	mPortOpen    = "ingestprobe_port_open"
	mFinding     = Finding
	mFindings    = "ingestprobe_findings"
	mURLExpiry   = "ingestprobe_url_expiry_timestamp_seconds"
	mClockOffset = "ingestprobe_clock_offset_seconds"
	mICMPRTT     = "ingestprobe_icmp_rtt_seconds"
	mICMPLoss    = "ingestprobe_icmp_packet_loss_ratio"
	mBlockedHop  = "ingestprobe_path_blocked_hop"

	mLivePublishers = "ingestprobe_live_publishers"
	mLiveAcked      = "ingestprobe_live_acked_bytes_per_second"
	mLiveRTT        = "ingestprobe_live_rtt_seconds"
	mLiveRetrans    = "ingestprobe_live_retransmit_ratio"
	mLiveBacklog    = "ingestprobe_live_backlog_seconds"
	mLiveReconnects = "ingestprobe_live_reconnects_total"

	mUpAchieved = "ingestprobe_uplink_achieved_bits_per_second"
	mUpTarget   = "ingestprobe_uplink_target_bits_per_second"
	mUpRTT      = "ingestprobe_uplink_rtt_seconds"
	mUpRetrans  = "ingestprobe_uplink_retransmit_ratio"
	mUpLastRun  = "ingestprobe_uplink_last_run_timestamp_seconds"
)

var help = map[string]string{
	mVerdict:        "Verdict of the target's last run: 1 for the current verdict (go, warn, no-go), 0 for the others.",
	mLastRun:        "Unix time the target's last run started.",
	mRunDuration:    "Wall time of the target's last run, all probes included.",
	mInterval:       "The target's probe interval; alert when last_run is older than a few of these.",
	mSuccess:        "1 when the probe succeeded in the last run (dns: resolved; tcp: the ingest port connected on some address; rtmp: reached its level, 0 when DNS or the ingest port failed before it; srt: the listener accepted the handshake).",
	mDuration:       "Duration of a probe phase in the last run (dns lookup; tcp connect to the ingest port; rtmp tls, handshake, rtmp_connect, create_stream, publish; srt induction, conclusion).",
	mPortOpen:       "1 when the port connected on some address of the target in the last run.",
	mFinding:        "1 for each finding of the target's last run, by code and severity.",
	mFindings:       "Number of findings of the target's last run, by severity.",
	mURLExpiry:      "Unix time the publishing URL expires (its txTime); alert when it falls before the event ends.",
	mClockOffset:    "The trusted clock's time minus this host's, from the last NTP query (positive: this clock is behind).",
	mICMPRTT:        "ICMP echo round-trip time to the target's first address in the last run, by stat (min, avg, max, stddev); absent when no echo was answered.",
	mBlockedHop:     "For an ingest port that is blocked, rejected or unreachable and was traced, the last TTL (hop) that answered a traced SYN; 0 when none answered; absent when the port reached the server or no trace ran.",
	mLivePublishers: "Connections from this host to the target's ingest other than the agent's own (live = true): the encoder's, during the show.",
	mLiveAcked:      "Bytes per second the ingest acknowledged on the publishers' connections in the last live window (tcpi_bytes_acked), summed; times 8 for the stream's bit rate.",
	mLiveRTT:        "Smoothed RTT of the publishers' connections (the worst), from the kernel's TCP statistics.",
	mLiveRetrans:    "Share of the publishers' segments retransmitted in the last live window (the worst connection's).",
	mLiveBacklog:    "Bytes the publishers' connections hold not yet sent or not yet acknowledged, in seconds of the stream's rate (summed).",
	mLiveReconnects: "Times the publisher's connection to the ingest was re-established since the agent started watching.",
	mUpAchieved:     "Rate the ingest acknowledged during the target's last uplink soak (TCP_INFO bytes_acked, or the server's RTMP Acknowledgements), bit/s; kept until the next soak.",
	mUpTarget:       "The show's bitrate the last uplink soak was run for (the target's uplink), bit/s.",
	mUpRTT:          "Round-trip time under the last uplink soak's load, by stat (idle before it; min, avg, max during it); absent without TCP_INFO.",
	mUpRetrans:      "Share of the segments sent during the last uplink soak that were retransmitted (0 to 1); absent without TCP_INFO.",
	mUpLastRun:      "Unix time the target's last measured uplink soak started.",
	mICMPLoss:       "Share of ICMP echoes to the target's first address lost in the last run (0 to 1); absent when no echo could be sent or none was answered (ICMP filtered).",
}

// TargetSamples turns a record into samples. extra labels (agent id, static labels) go on every one.
func TargetSamples(rec record.Record, interval time.Duration) []Sample {
	return targetSamples(rec, interval, rec.LiveWindow())
}

// targetSamples: window says rec is a live window alone, not merged into a run (mergeLive).
func targetSamples(rec record.Record, interval time.Duration, window bool) []Sample {
	base := []Label{{"agent", rec.Agent}, {"target", rec.Target}}
	for k, v := range rec.Labels {
		base = append(base, Label{k, v})
	}
	t := rec.Time
	var out []Sample
	add := func(name string, v float64, extra ...Label) {
		ls := append(append(make([]Label, 0, len(base)+len(extra)), base...), extra...)
		slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, Sample{Name: name, Help: help[name], Labels: ls, Value: v, Time: t})
	}
	// A live window alone (remote write sends each record) carries its live series and findings
	// only: the verdict, run and findings-count series are the runs'.
	if !window {
		for _, v := range []record.Verdict{record.Go, record.Warn, record.NoGo} {
			add(mVerdict, b2f(rec.Verdict == v), Label{"verdict", string(v)})
		}
		add(mLastRun, float64(t.UnixNano())/1e9)
		add(mRunDuration, rec.DurationSeconds)
		if interval > 0 {
			add(mInterval, interval.Seconds())
		}
	}
	if l := rec.Results.URL; l != nil && !l.Expires.IsZero() {
		add(mURLExpiry, float64(l.Expires.Unix()))
	}
	if k := rec.Results.Clock; k != nil && k.OK {
		add(mClockOffset, k.Offset().Seconds())
	}
	if d := rec.Results.DNS; d != nil {
		add(mSuccess, b2f(d.Error == "" && len(d.A)+len(d.AAAA) > 0), Label{"probe", "dns"})
		add(mDuration, d.DurationSeconds, Label{"phase", "lookup"}, Label{"probe", "dns"})
	}
	if len(rec.Results.TCP) > 0 {
		open := map[int]bool{}
		connect := map[int]float64{}
		var ports []int
		for _, c := range rec.Results.TCP {
			if _, seen := open[c.Port]; !seen {
				ports = append(ports, c.Port)
				open[c.Port] = false
			}
			if c.OK && (!open[c.Port] || c.ConnectSeconds < connect[c.Port]) {
				open[c.Port] = true
				connect[c.Port] = c.ConnectSeconds
			}
		}
		// The tcp probe's success is the ingest port's. An srt:// target has none (its port is UDP;
		// every TCP port is an alternative): it has no tcp success series.
		ingest, hasIngest := rec.Results.TCP[0].Port, rec.Results.TCP[0].Role == ""
		for _, c := range rec.Results.TCP {
			if c.Role == "ingest" {
				ingest, hasIngest = c.Port, true
				break
			}
		}
		if hasIngest {
			add(mSuccess, b2f(open[ingest]), Label{"probe", "tcp"})
			if open[ingest] {
				add(mDuration, connect[ingest], Label{"phase", "connect"}, Label{"probe", "tcp"})
			}
		}
		for _, p := range ports {
			add(mPortOpen, b2f(open[p]), Label{"port", strconv.Itoa(p)})
		}
	}
	for _, tr := range rec.Results.Path {
		if tr.Role == "ingest" && tr.OK && !tr.Reached {
			last := 0
			for _, h := range tr.Hops {
				if h.Answer != path.NoAnswer {
					last = h.TTL
				}
			}
			add(mBlockedHop, float64(last))
			break // one series a target: the first family traced (IPv4 before IPv6)
		}
	}
	if r := rec.Results.SRT; r != nil {
		add(mSuccess, b2f(r.OK), Label{"probe", "srt"})
		for _, ph := range []struct {
			name string
			s    float64
		}{{"induction", r.InductionSeconds}, {"conclusion", r.ConclusionSeconds}} {
			if ph.s > 0 {
				add(mDuration, ph.s, Label{"phase", ph.name}, Label{"probe", "srt"})
			}
		}
	}
	if r := rec.Results.RTMP; r == nil && rtmpNotReached(rec.Results) {
		// The probe could not run because DNS or the ingest port failed: it did not succeed, and
		// an alert on probe_success == 0 must see it (an absent series matches nothing).
		add(mSuccess, 0, Label{"probe", "rtmp"})
	}
	if r := rec.Results.RTMP; r != nil {
		add(mSuccess, b2f(r.OK), Label{"probe", "rtmp"})
		for _, ph := range []struct {
			name string
			s    float64
		}{{"tls", r.TLSSeconds}, {"handshake", r.HandshakeSeconds}, {"rtmp_connect", r.RTMPConnectSeconds},
			{"create_stream", r.CreateStreamSeconds}, {"publish", r.PublishSeconds}} {
			if ph.s > 0 {
				add(mDuration, ph.s, Label{"phase", ph.name}, Label{"probe", "rtmp"})
			}
		}
	}
	// Only a burst that measured something: "no ICMP socket" is not 100 % loss, and an ingest that
	// answers no echo at all (filtered) is reported as icmp.unavailable, not as loss.
	if i := rec.Results.ICMP; i != nil && i.Measured() && i.Received > 0 {
		add(mICMPLoss, i.LossRatio)
		for _, st := range []struct {
			name string
			v    float64
		}{{"min", i.RTTMinSeconds}, {"avg", i.RTTAvgSeconds}, {"max", i.RTTMaxSeconds}, {"stddev", i.RTTStddevSeconds}} {
			add(mICMPRTT, st.v, Label{"stat", st.name})
		}
	}
	if l := rec.Results.Live; l != nil && l.HeldBack == "" && l.Error == "" {
		add(mLivePublishers, float64(l.Publishers))
		add(mLiveReconnects, float64(l.ReconnectsTotal))
		if l.HasFigures() { // publishers whose statistics cannot be read (Windows, no rights) give no series, not zeros
			add(mLiveAcked, l.AckedBps/8) // Prometheus' base unit is the byte (promtool rejects bits)
			add(mLiveRTT, l.RTTSeconds)
			add(mLiveRetrans, l.RetransmitRatio)
			if l.StreamBps > 0 {
				add(mLiveBacklog, l.BacklogSeconds)
			}
		}
	}
	uplinkSamples(rec, add)
	counts := map[record.Severity]int{}
	for _, f := range rec.Findings {
		counts[f.Severity]++
	}
	seen := map[string]bool{}
	for _, f := range rec.Findings {
		if !seen[f.Code] {
			seen[f.Code] = true
			add(mFinding, 1, Label{"code", f.Code}, Label{"severity", string(f.Severity)})
		}
	}
	for _, s := range []record.Severity{record.Error, record.Warning, record.Info} {
		if !window {
			add(mFindings, float64(counts[s]), Label{"severity", string(s)})
		}
	}
	return out
}

// rtmpNotReached says an rtmp:// or rtmps:// target's run ended before the RTMP probe: no address,
// or no address whose ingest port connected.
func rtmpNotReached(res record.Results) bool {
	if res.URL == nil || (res.URL.Scheme != "rtmp" && res.URL.Scheme != "rtmps") {
		return false
	}
	for _, c := range res.TCP {
		if c.Role == "ingest" && c.OK {
			return false
		}
	}
	return true
}

// uplinkSamples adds the series of a record's measured uplink soak through add; a soak that
// measured nothing (refused, dropped, unmeasured) adds none, so the last measured one stays.
func uplinkSamples(rec record.Record, add func(string, float64, ...Label)) {
	u := rec.Results.Uplink
	if u == nil || !u.OK {
		return
	}
	add(mUpLastRun, float64(rec.Time.UnixNano())/1e9)
	add(mUpTarget, float64(u.TargetBPS))
	add(mUpAchieved, u.AchievedBPS)
	if u.RTTAvgSeconds > 0 {
		add(mUpRetrans, u.RetransmitRatio)
		for _, st := range []struct {
			name string
			v    float64
		}{{"idle", u.RTTIdleSeconds}, {"min", u.RTTMinSeconds}, {"avg", u.RTTAvgSeconds}, {"max", u.RTTMaxSeconds}} {
			if st.v > 0 {
				add(mUpRTT, st.v, Label{"stat", st.name})
			}
		}
	}
}

// soakSamples are the uplink series of a target's last measured soak, for a target whose latest
// record did not soak: a soak runs every uplink_every, the checks far more often, and its series
// must last until the next one.
func soakSamples(rec record.Record) []Sample {
	base := []Label{{"agent", rec.Agent}, {"target", rec.Target}}
	for k, v := range rec.Labels {
		base = append(base, Label{k, v})
	}
	var out []Sample
	uplinkSamples(rec, func(name string, v float64, extra ...Label) {
		ls := append(append(make([]Label, 0, len(base)+len(extra)), base...), extra...)
		slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, Sample{Name: name, Help: help[name], Labels: ls, Value: v, Time: rec.Time})
	})
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Metrics holds the agent's own series: build info and, per sink, queue, sent, retries, dropped and
// last success; with them go the Go runtime's and the process's. /metrics and the remote write of
// self-metrics both read them with Families.
type Metrics struct {
	Queue       *Vec
	Sent        *Vec
	Retries     *Vec
	Dropped     *Vec
	LastSuccess *Vec
	Runs        *Vec

	buildInfo *Vec
	goRuntime *goMetrics

	mu        sync.Mutex
	intervals map[string]time.Duration
	latest    map[string]record.Record
	live      map[string]record.Record // the latest live window of each live target
	soaked    map[string]record.Record // each target's last record with a measured uplink soak
}

// New makes the self-metrics; constLabels (the agent id) go on each of the agent's own series.
func New(version, commit string, constLabels map[string]string) *Metrics {
	var cl []Label
	for k, v := range constLabels {
		cl = append(cl, Label{k, v})
	}
	sortLabels(cl)
	m := &Metrics{
		Queue: newVec(typeGauge, "ingestprobe_reporter_queue_results",
			"Records spooled and not yet acknowledged by the sink.", cl, "sink"),
		Sent: newVec(typeCounter, "ingestprobe_reporter_sent_total",
			"Records the sink delivered and the collector acknowledged.", cl, "sink"),
		Retries: newVec(typeCounter, "ingestprobe_reporter_retries_total",
			"Delivery attempts that failed and will be retried.", cl, "sink"),
		Dropped: newVec(typeCounter, "ingestprobe_reporter_dropped_total",
			"Records dropped before delivery: the spool's size or age bound was reached, or the collector rejected them as invalid.", cl, "sink"),
		LastSuccess: newVec(typeGauge, "ingestprobe_reporter_last_success_timestamp_seconds",
			"Unix time of the sink's last successful delivery.", cl, "sink"),
		Runs: newVec(typeCounter, "ingestprobe_target_runs_total",
			"Target runs completed, by verdict.", cl, "target", "verdict"),
		buildInfo: newVec(typeGauge, "ingestprobe_build_info",
			"Build of the running agent; always 1.", cl, "version", "commit", "goversion"),
		goRuntime: newGoMetrics(),
		intervals: map[string]time.Duration{},
		latest:    map[string]record.Record{},
		live:      map[string]record.Record{},
		soaked:    map[string]record.Record{},
	}
	m.buildInfo.WithLabelValues(version, commit, runtime.Version()).Set(1)
	return m
}

// Families returns the agent's own series, the Go runtime's and the process's, as a scrape reads
// them (the targets' series are LatestSamples).
func (m *Metrics) Families() []Family {
	var out []Family
	for _, v := range []*Vec{m.Queue, m.Sent, m.Retries, m.Dropped, m.LastSuccess, m.Runs, m.buildInfo} {
		out = append(out, v.family())
	}
	out = append(out, m.goRuntime.families()...)
	return append(out, processFamilies()...)
}

// SetTargets tells the metrics which targets exist and their intervals; series of targets no longer
// configured disappear (after a reload).
func (m *Metrics) SetTargets(intervals map[string]time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.intervals = intervals
	for t := range m.latest {
		if _, ok := intervals[t]; !ok {
			delete(m.latest, t)
		}
	}
	for t := range m.live {
		if _, ok := intervals[t]; !ok {
			delete(m.live, t)
		}
	}
	for t := range m.soaked {
		if _, ok := intervals[t]; !ok {
			delete(m.soaked, t)
		}
	}
}

// Observe counts a target run and keeps its record as the target's latest.
// A live window (record.LiveWindow) is kept beside the target's latest run, not counted as a
// run: the target's series are the two merged (mergeLive).
func (m *Metrics) Observe(rec record.Record) {
	if rec.LiveWindow() {
		m.mu.Lock()
		m.live[rec.Target] = rec
		m.mu.Unlock()
		return
	}
	m.Runs.WithLabelValues(rec.Target, string(rec.Verdict)).Inc()
	m.mu.Lock()
	m.latest[rec.Target] = rec
	if u := rec.Results.Uplink; u != nil && u.OK {
		m.soaked[rec.Target] = rec
	}
	m.mu.Unlock()
}

// mergeLive is a target's latest run with its latest live window: the run's series, the window's
// live series, the findings of both and the worse verdict.
func mergeLive(run record.Record, haveRun bool, win record.Record, haveWin bool) record.Record {
	switch {
	case !haveWin:
		return run
	case !haveRun:
		return win
	}
	run.Findings = append(append([]record.Finding{}, run.Findings...), win.Findings...)
	run.Verdict = record.Worst(run.Verdict, win.Verdict)
	run.Results.Live = win.Results.Live
	return run
}

// Interval of a target, 0 when unknown.
func (m *Metrics) Interval(target string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.intervals[target]
}

// LatestSamples is the samples of every target's latest record, sorted by target.
func (m *Metrics) LatestSamples() []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.latest))
	for n := range m.latest {
		names = append(names, n)
	}
	for n := range m.live {
		if _, ok := m.latest[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Sample
	for _, n := range names {
		run, haveRun := m.latest[n]
		win, haveWin := m.live[n]
		out = append(out, targetSamples(mergeLive(run, haveRun, win, haveWin), m.intervals[n], !haveRun)...)
		if soak, ok := m.soaked[n]; ok && (run.Results.Uplink == nil || !run.Results.Uplink.OK) {
			out = append(out, soakSamples(soak)...)
		}
	}
	return out
}

// SelfSamples turns the agent's own families into samples, as a scrape of them would read them (a
// summary's quantiles, _sum and _count are already samples of their own).
func SelfSamples(fams []Family) []Sample {
	var out []Sample
	for _, f := range fams {
		out = append(out, f.Samples...)
	}
	return out
}
