package agent

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/record"
)

// liveResolveEvery is how often the live watch resolves a target's host again: an ingest behind
// DNS load balancing may move, and a minute is well inside any such record's TTL.
const liveResolveEvery = time.Minute

// LiveSampler is the daemon's live watch: one dump of the kernel's connection table per tick
// serves every live target; each target's window becomes a record of its own (Emit). It is also
// the seam the pipeline asks whether a show is live (Holding). Safe for concurrent use.
type LiveSampler struct {
	AgentID   string
	Resolvers []string
	Log       *zap.Logger
	// Emit receives each window's record, from the sampler's goroutine.
	Emit func(record.Record)

	w       *live.Watcher // nil when the system gives no statistics (unavailable says why)
	unavail error
	targets []Target
	now     func() time.Time

	mu       sync.Mutex
	resolved map[string]time.Time
}

// NewLiveSampler watches the live targets among targets; it returns nil when there are none.
// Where the system gives nothing the sampler still runs, and its records say so.
func NewLiveSampler(agentID string, targets []Target, resolvers []string, log *zap.Logger) *LiveSampler {
	s := &LiveSampler{AgentID: agentID, Resolvers: resolvers, Log: log, now: time.Now, resolved: map[string]time.Time{}}
	for _, t := range targets {
		if t.Live {
			s.targets = append(s.targets, t)
		}
	}
	if len(s.targets) == 0 {
		return nil
	}
	s.w, s.unavail = live.NewWatcher()
	if s.unavail != nil && log != nil {
		log.Warn("live watch not available: live targets are not watched, and their publish probes fall back to connect", zap.Error(s.unavail))
	}
	return s
}

// NewLiveSamplerWith watches through w (tests, the bench).
func NewLiveSamplerWith(agentID string, targets []Target, w *live.Watcher) *LiveSampler {
	s := &LiveSampler{AgentID: agentID, w: w, now: time.Now, resolved: map[string]time.Time{}}
	for _, t := range targets {
		if t.Live {
			s.targets = append(s.targets, t)
		}
	}
	return s
}

func everyOf(t Target) time.Duration {
	if t.LiveEvery <= 0 {
		return live.DefaultEvery
	}
	return t.LiveEvery
}

func quietOf(t Target) time.Duration {
	if t.LiveQuiet <= 0 {
		return live.DefaultQuiet
	}
	return t.LiveQuiet
}

// Start resolves every target and takes a first sample, so Holding answers from a real sample
// before the first publish probe can run.
func (s *LiveSampler) Start(ctx context.Context) {
	s.resolve(ctx, true)
	s.sample(ctx)
}

// Run samples until ctx ends, at the shortest live_every; each target's window closes on its own
// live_every. One goroutine; it returns when ctx is done.
func (s *LiveSampler) Run(ctx context.Context) {
	tick := time.Duration(0)
	for _, t := range s.targets {
		if e := everyOf(t); tick == 0 || e < tick {
			tick = e
		}
	}
	last := map[string]time.Time{}
	start := s.now()
	for _, t := range s.targets {
		last[t.Name] = start
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		s.resolve(ctx, false)
		s.sample(ctx)
		now := s.now()
		for _, t := range s.targets {
			if now.Sub(last[t.Name]) < everyOf(t)-tick/2 {
				continue
			}
			last[t.Name] = now
			if s.Emit != nil && ctx.Err() == nil {
				s.Emit(s.Record(t.Name))
			}
		}
	}
}

func (s *LiveSampler) sample(ctx context.Context) {
	if s.w == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.w.Sample(sctx); err != nil && s.Log != nil && ctx.Err() == nil {
		s.Log.Warn("live watch: sample failed", zap.Error(err))
	}
}

// resolve looks each target's host up (at most every liveResolveEvery; all at once when forced),
// in parallel, each under the target's timeout.
func (s *LiveSampler) resolve(ctx context.Context, force bool) {
	if s.w == nil {
		return
	}
	var wg sync.WaitGroup
	for _, t := range s.targets {
		s.mu.Lock()
		due := force || s.now().Sub(s.resolved[t.Name]) >= liveResolveEvery
		if due {
			s.resolved[t.Name] = s.now()
		}
		s.mu.Unlock()
		if !due {
			continue
		}
		wg.Go(func() {
			if lt, ok := LiveTarget(ctx, t, s.Resolvers); ok {
				s.w.Set(lt)
			}
		})
	}
	wg.Wait()
}

// LiveTarget is what the live watch follows for t: the addresses its host resolves to (both
// families) and its port. ok is false when the URL does not parse or the host resolves to nothing
// this time (the last addresses are kept).
func LiveTarget(ctx context.Context, t Target, resolvers []string) (live.Target, bool) {
	u, err := t.parse()
	if err != nil {
		return live.Target{}, false
	}
	lt := live.Target{Name: t.Name, Port: u.Port, Bitrate: t.Bitrate}
	if ip, ok := u.IP(); ok {
		lt.Addrs = []netip.Addr{ip}
		return lt, true
	}
	dctx, cancel := context.WithTimeout(ctx, probeTimeout(t))
	defer cancel()
	d := dns.New(dns.Config{Host: u.Host, Servers: resolvers}).Run(dctx)
	lt.Addrs = d.Addresses()
	return lt, len(lt.Addrs) > 0
}

// Record closes target name's window and makes its record: the live result and its findings.
func (s *LiveSampler) Record(name string) record.Record {
	var t Target
	for _, x := range s.targets {
		if x.Name == name {
			t = x
		}
	}
	var r live.Result
	if s.w == nil {
		r = unavailableResult(s.unavail)
	} else {
		r = s.w.Window(name)
	}
	return LiveRecord(s.AgentID, t, &r, s.now())
}

// LiveRecord is the record of one live window (or of a whole watch) of t.
func LiveRecord(agentID string, t Target, r *live.Result, at time.Time) record.Record {
	fs := diagnose.Live(r)
	if fs == nil {
		fs = []record.Finding{}
	}
	return record.Record{Agent: agentID, Target: t.Name, URL: ingesturl.Redact(t.URL), Time: at.UTC(), Labels: t.Labels,
		DurationSeconds: r.WindowSeconds, Verdict: record.VerdictOf(fs), Findings: fs, Results: record.Results{Live: r}}
}

func unavailableResult(err error) live.Result {
	if err == nil {
		err = live.ErrUnavailable
	}
	detail := strings.TrimLeft(strings.TrimPrefix(err.Error(), live.ErrUnavailable.Error()), ": ")
	if detail == "" {
		detail = err.Error()
	}
	return live.Result{Probe: "live", Error: live.Unavailable, Detail: detail, Connections: []live.Connection{}}
}

// Holding is the pipeline's ShowLive: non-nil while target name's show is live — a publisher
// connected, or one seen within its live_quiet — or while the watch cannot tell (not available,
// the last sample failed). Targets without live = true are never held.
func (s *LiveSampler) Holding(name string) *live.Result {
	if s == nil {
		return nil
	}
	var t *Target
	for i := range s.targets {
		if s.targets[i].Name == name {
			t = &s.targets[i]
		}
	}
	if t == nil {
		return nil
	}
	if s.w == nil {
		r := unavailableResult(s.unavail)
		return &r
	}
	on, n, ago := s.w.Live(name, quietOf(*t))
	if !on {
		return nil
	}
	r := s.w.Peek(name)
	r.Publishers = n
	if ago >= 0 {
		r.LastSeenSecondsAgo = ago.Seconds()
	}
	return &r
}

// Available says whether the watch can see this host's connections; without it Holding holds
// every publish back (the daemon's choice: it cannot tell).
func (s *LiveSampler) Available() bool { return s != nil && s.w != nil }

// Close releases the watch.
func (s *LiveSampler) Close() {
	if s != nil && s.w != nil {
		s.w.Close()
	}
}

// heldBack asks ShowLive about t: a live.Result marked HeldBack when its publish must not run.
func (p *Pipeline) heldBack(t Target) *live.Result {
	if p.ShowLive == nil || !t.Live {
		return nil
	}
	r := p.ShowLive(t.Name)
	if r == nil {
		return nil
	}
	r.HeldBack = "publish"
	r.Connections = nil
	return r
}

// WatchOptions shape Watch.
type WatchOptions struct {
	For    time.Duration // 0 = until ctx ends
	Tick   time.Duration // how often a sample is taken and a frame drawn; 0 = 1 s
	Window time.Duration // how long a window of findings is; 0 = live.DefaultEvery
	// Frame, if set, is called after each sample with each target's figures since the previous one.
	Frame func(elapsed time.Duration, now []live.Result)
}

// Watch is `ingestprobe watch`: it samples the targets' connections every tick until o.For has
// passed or ctx ends, and returns one record per target over the whole watch — its figures summed
// or at their worst (live.Tracker.Total) — whose findings are those of every window of the watch
// (at their worst severity) with those of the whole. It starts no goroutine.
func Watch(ctx context.Context, w *live.Watcher, agentID string, targets []Target, o WatchOptions) []record.Record {
	tick, window := o.Tick, o.Window
	if tick <= 0 {
		tick = time.Second
	}
	if window <= 0 {
		window = live.DefaultEvery
	}
	start := time.Now()
	var stop <-chan time.Time
	if o.For > 0 {
		t := time.NewTimer(o.For)
		defer t.Stop()
		stop = t.C
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	seen := make([]map[string]record.Finding, len(targets))
	for i := range seen {
		seen[i] = map[string]record.Finding{}
	}
	lastWindow := start
	sample := func() {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		w.Sample(sctx) // a failed sample is in the next view's Error
		cancel()
		if o.Frame != nil {
			frame := make([]live.Result, len(targets))
			for i, t := range targets {
				frame[i] = w.Peek(t.Name)
			}
			o.Frame(time.Since(start), frame)
		}
		if time.Since(lastWindow) >= window-tick/2 {
			lastWindow = time.Now()
			for i, t := range targets {
				r := w.Window(t.Name)
				for _, f := range diagnose.Live(&r) {
					keepWorst(seen[i], f)
				}
			}
		}
	}
	sample()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-stop:
			sample()
			break loop
		case <-ticker.C:
			sample()
		}
	}
	recs := make([]record.Record, len(targets))
	now := time.Now()
	for i, t := range targets {
		r := w.Total(t.Name)
		rec := LiveRecord(agentID, t, &r, now)
		rec.Time = start.UTC()
		rec.DurationSeconds = now.Sub(start).Seconds()
		have := map[string]bool{}
		for _, f := range rec.Findings {
			have[f.Code] = true
		}
		for j := range rec.Findings {
			if g, ok := seen[i][rec.Findings[j].Code]; ok && rank(g.Severity) > rank(rec.Findings[j].Severity) {
				rec.Findings[j] = g
			}
		}
		for _, code := range sortedKeys(seen[i]) {
			f := seen[i][code]
			// "no publisher" in an early window says nothing once one publishes.
			if !have[code] && !(code == "live.no_publisher" && r.Publishers > 0) {
				rec.Findings = append(rec.Findings, f)
			}
		}
		rec.Verdict = record.VerdictOf(rec.Findings)
		recs[i] = rec
	}
	return recs
}

func keepWorst(m map[string]record.Finding, f record.Finding) {
	if g, ok := m[f.Code]; ok && rank(g.Severity) > rank(f.Severity) {
		return
	}
	m[f.Code] = f
}

func rank(s record.Severity) int {
	switch s {
	case record.Error:
		return 2
	case record.Warning:
		return 1
	}
	return 0
}

func sortedKeys(m map[string]record.Finding) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
