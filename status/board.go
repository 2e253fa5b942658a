package status

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/record"
)

// History bounds. The board keeps an hour of runs per target; runs closer together than
// HistoryStep share one point (the worst verdict, the slowest connect), so a target holds at most
// MaxPoints points — 720 of 16 bytes — whatever its interval, and an error is never averaged away.
// 5 s is below any interval a fleet uses (30 s by default) and fine enough for a strip of an hour.
const (
	HistoryWindow = time.Hour
	HistoryStep   = 5 * time.Second
	MaxPoints     = int(HistoryWindow / HistoryStep)
)

// StaleAfter intervals without a record mark a target stale: one late run is the scheduler
// spreading its load or a slow probe; three are an agent that is not measuring.
const StaleAfter = 3

// Target is a target as the board is told about it: its name, its URL (redacted here again) and
// how often it is probed.
type Target struct {
	Name     string
	URL      string
	Interval time.Duration
}

// Board keeps, per target, the latest record and the verdicts and connect times of the last hour.
// It is safe for concurrent use. Observe costs a lock and a few stores; the page and the JSON are
// made only when someone asks, so a board nobody looks at costs nearly nothing.
type Board struct {
	mu      sync.Mutex
	agent   string
	version string
	targets []*targetState // in the config's order
	byName  map[string]*targetState

	now func() time.Time
}

type targetState struct {
	name     string
	url      string // redacted
	urlIn    string // the record's URL url was made from (already redacted by the pipeline)
	interval time.Duration
	since    time.Time // when the board first knew it: a target never checked is stale from here
	latest   *latest
	live     *liveView     // the latest live window (live = true targets)
	uplink   *UplinkStatus // the last measured uplink soak: kept until the next one, as its series are
	hist     ring
}

// liveView is what the tile shows of the latest live window.
type liveView struct {
	status   LiveStatus
	verdict  record.Verdict
	findings []Finding
}

// latest is what the board shows of a target's last record.
type latest struct {
	verdict   record.Verdict
	checkedAt time.Time
	duration  float64
	findings  []Finding
}

// NewBoard makes an empty board for an agent of this version.
func NewBoard(version string) *Board {
	return &Board{version: version, byName: map[string]*targetState{}, now: time.Now}
}

// Configure sets the agent's id and its targets, in the order to show them. A target that stays
// keeps its latest record and history (a reload does not wipe the board); one that goes is
// forgotten.
func (b *Board) Configure(agent string, targets []Target) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.agent = agent
	now := b.now()
	next := make([]*targetState, 0, len(targets))
	byName := make(map[string]*targetState, len(targets))
	for _, t := range targets {
		s := b.byName[t.Name]
		if s == nil {
			s = &targetState{name: t.Name, since: now}
		}
		s.url = ingesturl.Redact(t.URL)
		if s.interval != t.Interval || s.hist.buf == nil {
			s.interval = t.Interval
			s.hist.resize(pointsFor(t.Interval))
		}
		next = append(next, s)
		byName[t.Name] = s
	}
	b.targets, b.byName = next, byName
}

// pointsFor is how many points an hour of runs every interval needs: one per run, and one more for
// the run that is on the hour's edge.
func pointsFor(interval time.Duration) int {
	if interval <= HistoryStep {
		return MaxPoints
	}
	return min(MaxPoints, int(HistoryWindow/interval)+2)
}

// Observe takes a target's record. A record of a target the board was not told about is dropped:
// the agent configures the board before it starts the scheduler.
func (b *Board) Observe(rec record.Record) {
	fs := make([]Finding, len(rec.Findings))
	for i, f := range rec.Findings {
		fs[i] = Finding{Code: f.Code, Severity: f.Severity, Message: f.Message, Remedy: f.Remedy}
	}
	p := point{at: rec.Time.UnixMilli(), verdict: rank(rec.Verdict), connect: connectTime(rec)}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.byName[rec.Target]
	if s == nil {
		return
	}
	if rec.LiveWindow() { // beside the latest run, not in the run history
		s.live = liveViewOf(rec, fs)
		return
	}
	if u := rec.Results.Uplink; u != nil && u.OK {
		s.uplink = uplinkStatusOf(rec)
	}
	if rec.URL != s.urlIn { // the same URL run after run: redact (parse) it once
		s.urlIn, s.url = rec.URL, ingesturl.Redact(rec.URL)
	}
	s.latest = &latest{verdict: rec.Verdict, checkedAt: rec.Time, duration: rec.DurationSeconds, findings: fs}
	s.hist.add(p)
}

// connectTime is the connect time of the ingest port — what the encoder waits for before it can
// publish — on the first address that connected; -1 when none did.
func connectTime(rec record.Record) float32 {
	for _, r := range rec.Results.TCP {
		if r.Role == "ingest" && r.OK {
			return float32(r.ConnectSeconds)
		}
	}
	return -1
}

// Document is /api/status, and what the page draws.
type Document struct {
	Agent       string         `json:"agent"`
	Version     string         `json:"version"`
	GeneratedAt time.Time      `json:"generated_at"` // the agent's clock: the page counts "12 s ago" from it
	Targets     []TargetStatus `json:"targets"`
}

// TargetStatus is one target on the board. Verdict, CheckedAt and DurationSeconds are null until
// the target's first run ends.
type TargetStatus struct {
	Name            string          `json:"name"`
	URL             string          `json:"url"` // redacted
	Verdict         *record.Verdict `json:"verdict"`
	CheckedAt       *time.Time      `json:"checked_at"`
	DurationSeconds *float64        `json:"duration_seconds"`
	IntervalSeconds float64         `json:"interval_seconds"`
	Stale           bool            `json:"stale"` // no record for StaleAfter intervals
	Findings        []Finding       `json:"findings"`
	History         History         `json:"history"` // the last hour, oldest first
	// Live is the latest live window, for targets with live = true: the encoder's own connection.
	// Its warnings and errors are among Findings, and Verdict is the worse of the run's and its.
	Live *LiveStatus `json:"live,omitempty"`
	// Uplink is the last measured uplink soak (targets with uplink): it runs every uplink_every,
	// so it stays on the tile between soaks; its findings are the soak run's.
	Uplink *UplinkStatus `json:"uplink,omitempty"`
}

// UplinkStatus is the tile's uplink line: what the last soak sustained against the show's rate.
type UplinkStatus struct {
	At                time.Time `json:"at"`
	TargetBps         int64     `json:"target_bps"`
	AchievedBps       float64   `json:"achieved_bps"`
	DurationSeconds   float64   `json:"duration_seconds"`
	RTTAvgSeconds     float64   `json:"rtt_avg_seconds"`
	RetransmitRatio   float64   `json:"retransmit_ratio"`
	RecommendedMaxBps int64     `json:"recommended_max_bps"`
	// Severity is the worst of the soak's uplink.* findings ("error", "warning" or "" for none).
	Severity record.Severity `json:"severity"`
}

func uplinkStatusOf(rec record.Record) *UplinkStatus {
	u := rec.Results.Uplink
	st := &UplinkStatus{At: rec.Time.UTC(), TargetBps: u.TargetBPS, AchievedBps: u.AchievedBPS, DurationSeconds: u.DurationSeconds,
		RTTAvgSeconds: u.RTTAvgSeconds, RetransmitRatio: u.RetransmitRatio, RecommendedMaxBps: u.RecommendedMaxBPS}
	for _, f := range rec.Findings {
		if !strings.HasPrefix(f.Code, "uplink.") {
			continue
		}
		if f.Severity == record.Error || (f.Severity == record.Warning && st.Severity == "") {
			st.Severity = f.Severity
		}
	}
	return st
}

// LiveStatus is the tile's live line: the publishers and their figures.
type LiveStatus struct {
	At              time.Time `json:"at"`
	Error           string    `json:"error,omitempty"`
	Publishers      int       `json:"publishers"`
	Processes       []string  `json:"processes"`
	AckedBps        float64   `json:"acked_bps"`
	RTTSeconds      float64   `json:"rtt_seconds"`
	RetransmitRatio float64   `json:"retransmit_ratio"`
	BacklogSeconds  float64   `json:"backlog_seconds"`
	Reconnects      int       `json:"reconnects"`
	// FiguresUnknown: publishers, but the statistics of none can be read (Windows without
	// administrator rights); the figures above are then not figures.
	FiguresUnknown bool `json:"figures_unknown,omitempty"`
}

func liveViewOf(rec record.Record, fs []Finding) *liveView {
	l := rec.Results.Live
	st := LiveStatus{At: rec.Time.UTC(), Error: string(l.Error), Publishers: l.Publishers, Processes: []string{}, AckedBps: l.AckedBps,
		RTTSeconds: l.RTTSeconds, RetransmitRatio: l.RetransmitRatio, BacklogSeconds: l.BacklogSeconds, Reconnects: l.Reconnects,
		FiguresUnknown: l.Publishers > 0 && !l.HasFigures()}
	for _, c := range l.Connections {
		st.Processes = append(st.Processes, c.Process)
	}
	return &liveView{status: st, verdict: rec.Verdict, findings: fs}
}

// Finding is a finding as the crew reads it; evidence stays in the records.
type Finding struct {
	Code     string          `json:"code"`
	Severity record.Severity `json:"severity"`
	Message  string          `json:"message"`
	Remedy   string          `json:"remedy"`
}

// Point is a run in the history (or the runs within HistoryStep of it).
type Point struct {
	Time           time.Time      `json:"time"`
	Verdict        record.Verdict `json:"verdict"`
	ConnectSeconds *float64       `json:"connect_seconds"` // the ingest port's connect; null when it did not connect
}

// History is a target's points, oldest first.
type History []Point

// Status is the board now.
func (b *Board) Status() Document {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	doc := Document{Agent: b.agent, Version: b.version, GeneratedAt: now.UTC(), Targets: make([]TargetStatus, 0, len(b.targets))}
	from := now.Add(-HistoryWindow).UnixMilli()
	for _, s := range b.targets {
		t := TargetStatus{Name: s.name, URL: s.url, IntervalSeconds: s.interval.Seconds(), Findings: []Finding{}}
		last := s.since
		if l := s.latest; l != nil {
			v, at, d := l.verdict, l.checkedAt.UTC(), l.duration
			t.Verdict, t.CheckedAt, t.DurationSeconds = &v, &at, &d
			t.Findings = append(t.Findings, l.findings...)
			last = l.checkedAt
		}
		if u := s.uplink; u != nil {
			st := *u
			t.Uplink = &st
		}
		if lv := s.live; lv != nil {
			st := lv.status
			t.Live = &st
			for _, f := range lv.findings {
				if f.Severity != record.Info {
					t.Findings = append(t.Findings, f)
				}
			}
			if t.Verdict != nil {
				w := record.Worst(*t.Verdict, lv.verdict)
				t.Verdict = &w
			}
		}
		t.Stale = s.interval > 0 && now.Sub(last) > StaleAfter*s.interval
		t.History = make(History, 0, s.hist.n)
		connects := make([]float64, 0, s.hist.n) // the points' connect times: one allocation, not one each
		s.hist.each(func(p point) {
			if p.at < from {
				return
			}
			pt := Point{Time: time.UnixMilli(p.at).UTC(), Verdict: verdicts[p.verdict]}
			if p.connect >= 0 {
				connects = append(connects, math.Round(float64(p.connect)*1e6)/1e6) // float32 noise off: microseconds
				pt.ConnectSeconds = &connects[len(connects)-1]
			}
			t.History = append(t.History, pt)
		})
		doc.Targets = append(doc.Targets, t)
	}
	return doc
}

// point is one entry of the history: 16 bytes.
type point struct {
	at      int64   // Unix milliseconds
	connect float32 // seconds; < 0 when the ingest port did not connect
	verdict uint8   // rank: 0 go, 1 warn, 2 no-go
}

var verdicts = [...]record.Verdict{record.Go, record.Warn, record.NoGo}

func rank(v record.Verdict) uint8 {
	switch v {
	case record.NoGo:
		return 2
	case record.Warn:
		return 1
	}
	return 0
}

// ring holds the latest points, oldest first, in a fixed buffer.
type ring struct {
	buf     []point
	head, n int
}

// add appends p, or folds it into the last point when it is within HistoryStep of it.
func (r *ring) add(p point) {
	if r.n > 0 {
		last := &r.buf[(r.head+r.n-1)%len(r.buf)]
		if d := p.at - last.at; d >= 0 && d < HistoryStep.Milliseconds() {
			last.verdict = max(last.verdict, p.verdict)
			if p.connect < 0 || last.connect < 0 {
				last.connect = min(last.connect, p.connect) // a failed connect stays visible
			} else {
				last.connect = max(last.connect, p.connect)
			}
			return
		}
	}
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = p
		r.n++
		return
	}
	r.buf[r.head] = p
	r.head = (r.head + 1) % len(r.buf)
}

func (r *ring) each(fn func(point)) {
	for i := range r.n {
		fn(r.buf[(r.head+i)%len(r.buf)])
	}
}

// resize gives the ring room for n points, or for the points it holds if they are more (a longer
// interval must not cut the history of the shorter one before it).
func (r *ring) resize(n int) {
	old := make([]point, 0, r.n)
	r.each(func(p point) { old = append(old, p) })
	r.buf = make([]point, max(n, len(old)))
	r.head, r.n = 0, copy(r.buf, old)
}
