package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/provider"
)

const checkUsage = `Usage: ingestprobe check [URL|NAME …] [flags]
       ingestprobe check --watch [--every 10s] [URL|NAME …] [flags]

Probes each target once from this network — DNS, TCP to the ingest port and to alternative ports
on the same addresses, then RTMP up to the connect to the application (a wrong application is
caught; the stream is not touched) or as --rtmp or the target's rtmp key says — and prints a GO / NO-GO
checklist with the cause and remedy of each failure. URLs are probed as given; NAMEs are targets of the config file. With neither, every
configured target is probed. URLs are shown redacted: rtmp://host/app/<redacted>.

When the ingest port is blocked, rejected or unreachable, the path to it is traced (--trace auto):
TCP SYNs with rising TTL name the last router that passed them, or the one that rejected them.

--publish also publishes to each stream for about 2 s and releases it: it proves the stream key
and signature are accepted, but briefly occupies the stream — do not use it on a live stream.

--uplink RATE also measures whether this network sustains the show's bitrate: it publishes real
H.264/AAC to each stream for a 2 s warm-up and then --uplink-for (default 10s, 3s to 5m) at
1.25 × RATE, and reports what the ingest acknowledged. RATE is the show's total bitrate in bit/s:
6M, 4500k or 6000000. Like --publish it occupies the stream: do not use it on a live stream.

--watch checks again and again, every --every (default 10s, at least 1s), until Ctrl-C: on a
terminal the checklist is redrawn in place; otherwise each round is printed after the last (with
--json, one document per line). It exits with the code of the last complete round.

Exit codes: 0 every target go or warn, 1 any target no-go, 2 usage or config error.
`

func cmdCheck(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet(e, "check", checkUsage)
	cfgPath := fs.String("config", "", "config file (default "+defaultConfigPath()+" when it exists)")
	asJSON := fs.Bool("json", false, "print one JSON document instead of the checklist")
	timeout := fs.Duration("timeout", 0, "per-probe timeout, e.g. 3s (default: the config's, else 5s)")
	resolver := fs.String("resolver", "", "DNS resolver to use instead of the system's, IP[:port]")
	providerName := fs.String("provider", "", "provider for URLs given here: "+strings.Join(provider.Names(), ", ")+", or one from the config")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error (logs go to stderr)")
	ntp := fs.String("ntp", "", "NTP server (host[:port]) to judge txTime and this host's clock by (default: the config's agent.ntp_server)")
	rtmpLevel := fs.String("rtmp", "", "how far the RTMP probe goes for every target: off, handshake, connect or publish (default: the target's rtmp key, else connect)")
	trace := fs.String("trace", "", "when to trace the path to the ingest port: auto (when it is blocked, rejected or unreachable), off or always (default: the target's trace key, else auto)")
	publish := fs.Bool("publish", false, "publish to each stream for ~2 s (same as --rtmp publish): briefly occupies the stream")
	watching := fs.Bool("watch", false, "check again every --every until Ctrl-C, redrawing the checklist in place on a terminal")
	every := fs.Duration("every", DefaultWatchEvery, "with --watch: how often a round starts (at least 1s)")
	uplinkRate := fs.String("uplink", "", "measure the uplink at the show's bitrate in bit/s (6M, 4500k, 6000000): publishes, occupying the stream")
	uplinkFor := fs.Duration("uplink-for", uplink.DefaultWindow, "with --uplink: the measured window, 3s to 5m (after a 2 s warm-up)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if err := watchFlags(fs, *watching, *every); err != nil {
		return exitUsage, err
	}
	soakRate, err := uplinkFlags(fs, *uplinkRate, *uplinkFor, *watching, *rtmpLevel)
	if err != nil {
		return exitUsage, err
	}
	log, err := newHumanLogger(e, *logLevel)
	if err != nil {
		return exitUsage, err
	}
	defer log.Sync()

	cfg, err := loadConfigForCheck(*cfgPath)
	if err != nil {
		return exitUsage, usageError{err}
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	if *ntp != "" {
		server, err := config.ParseNTPServer(*ntp)
		if err != nil {
			return exitUsage, usagef("--ntp: %v", err)
		}
		cfg.Agent.NTPServer = server
	}
	if flagSet(fs, "timeout") && *timeout <= 0 {
		return exitUsage, usagef("--timeout must be more than 0, e.g. 3s (leave it out for the config's, else 5s)")
	}
	if *resolver != "" {
		r, err := config.ParseResolver(*resolver)
		if err != nil {
			return exitUsage, usagef("--resolver: %v", err)
		}
		cfg.Agent.Resolvers = []string{r}
	}
	targets, err := selectTargets(cfg, pos, *providerName)
	if err != nil {
		return exitUsage, err
	}
	level, err := rtmpLevelFlag(*rtmpLevel, *publish)
	if err != nil {
		return exitUsage, err
	}
	targets = checkLevels(cfg, targets, level)
	var traceMode path.Mode
	if *trace != "" {
		if traceMode, err = path.ParseMode(*trace); err != nil {
			return exitUsage, usagef("--trace: %v", err)
		}
	}
	for i := range targets {
		if *timeout > 0 {
			targets[i].Timeout = *timeout
		}
		if traceMode != "" {
			targets[i].Trace = traceMode
		}
		if soakRate > 0 {
			if u, err := ingesturl.Parse(targets[i].URL); err == nil && u.Scheme != "rtmp" && u.Scheme != "rtmps" {
				return exitUsage, usagef("--uplink publishes over RTMP; target %s is %s://", targets[i].Name, u.Scheme)
			}
			targets[i].Uplink, targets[i].UplinkFor, targets[i].Soak = soakRate, *uplinkFor, true
		}
	}
	switch {
	case soakRate > 0:
		fmt.Fprintf(e.stderr, "warning: publishing %s to each target's stream for about %s, one target at a time: an encoder live on it may be refused or cut off meanwhile\n",
			uplink.FormatRate(float64(soakRate)*uplink.Headroom), (uplink.DefaultWarmup + *uplinkFor).Round(time.Second))
	case level == rtmp.LevelPublish:
		fmt.Fprintln(e.stderr, "warning: publishing to each target's stream for about 2 s: an encoder live on it may be refused or cut off meanwhile")
	}

	p := agent.NewPipeline(cfg, log)
	stopGuard := guardShow(ctx, e, cfg, p, targets, soakRate > 0)
	defer stopGuard()
	if *watching {
		return watch(ctx, e, p, targets, watchOptions{every: *every, asJSON: *asJSON, concurrency: cfg.Agent.Concurrency})
	}
	var prog *progress
	if showProgress(e, *asJSON) {
		prog = newProgress(e, targets)
		p.Progress = prog.update
		p.UplinkProgress = prog.soak
	}
	recs := agent.RunOnce(ctx, p, targets, cfg.Agent.Concurrency)
	prog.finish()
	if ctx.Err() != nil {
		return exitStopped, ctx.Err()
	}

	return writeRecords(e, recs, *asJSON)
}

// flagSet says whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// watchFlags checks --every: only with --watch, and at least MinWatchEvery.
func watchFlags(fs *flag.FlagSet, watching bool, every time.Duration) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "every" })
	switch {
	case set && !watching:
		return usagef("--every needs --watch")
	case every < MinWatchEvery:
		return usagef("--every %s: want at least %s (each round probes every target)", every, MinWatchEvery)
	}
	return nil
}

// uplinkFlags checks --uplink and --uplink-for before anything is sent: the rate in bounds, the
// window from 3s to 5m, and nothing that contradicts a publish. It returns the rate, 0 for none.
func uplinkFlags(fs *flag.FlagSet, rate string, window time.Duration, watching bool, rtmpLevel string) (int64, error) {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "uplink-for" })
	if rate == "" {
		if set {
			return 0, usagef("--uplink-for needs --uplink (the show's bitrate, e.g. --uplink 6M)")
		}
		return 0, nil
	}
	bps, err := uplink.ParseRate(rate)
	if err != nil {
		return 0, usagef("--uplink: %v", err)
	}
	if err := uplink.CheckWindow(window); err != nil {
		return 0, usagef("--uplink-for %v", err)
	}
	if watching {
		return 0, usagef("--uplink cannot be used with --watch: each soak occupies the stream and sends the show's bitrate")
	}
	if rtmpLevel != "" && rtmpLevel != string(rtmp.LevelPublish) {
		return 0, usagef("--uplink publishes; it contradicts --rtmp %s", truncate(rtmpLevel, 20))
	}
	return bps, nil
}

// rtmpLevelFlag reads --rtmp and --publish: "" means each target's own level.
func rtmpLevelFlag(s string, publish bool) (rtmp.Level, error) {
	if s == "" {
		if publish {
			return rtmp.LevelPublish, nil
		}
		return "", nil
	}
	l, err := rtmp.ParseLevel(s)
	if err != nil {
		return "", usagef("--rtmp: %v", err)
	}
	if publish && l != rtmp.LevelPublish {
		return "", usagef("--publish contradicts --rtmp %s", l)
	}
	return l, nil
}

// checkLevels sets how far each target's RTMP probe goes under check: --rtmp (level) for all when
// given; else a configured target's own rtmp key; else connect — the connect reaches the
// application without touching the stream, so a wrong application name is a NO-GO here, not a GO
// from the handshake alone. (The daemon's default stays the handshake: docs/findings.md.)
func checkLevels(cfg *config.Config, ts []agent.Target, level rtmp.Level) []agent.Target {
	set := map[string]bool{}
	for _, t := range cfg.Targets {
		set[t.Name] = t.RTMPSet
	}
	for i := range ts {
		switch {
		case level != "":
			ts[i].RTMP = level
		case !set[ts[i].Name] || ts[i].RTMP == "":
			ts[i].RTMP = rtmp.LevelConnect
		}
	}
	return ts
}

func loadConfigForCheck(path string) (*config.Config, error) {
	if path != "" {
		return config.Load(path)
	}
	c, err := config.Load(defaultConfigPath())
	if errors.Is(err, fs.ErrNotExist) {
		return config.Default(), nil
	}
	return c, err
}

// selectTargets turns the command line into targets: URLs as given, names from the config, or
// every configured target when there are no arguments.
func selectTargets(cfg *config.Config, args []string, providerName string) ([]agent.Target, error) {
	all := agent.TargetsFromConfig(cfg)
	if len(args) == 0 {
		if len(all) == 0 {
			return nil, usagef("nothing to check: give a publishing URL (ingestprobe check rtmp://host/app/stream) or configure [[targets]] in %s", displayPath(cfg))
		}
		return all, nil
	}
	profiles := cfg.Profiles()
	if providerName != "" && providerName != "auto" {
		if _, ok := profiles[providerName]; !ok {
			return nil, usagef("--provider: %q is not defined (known: %s, or one from the config)", truncate(providerName, 20), strings.Join(provider.Names(), ", "))
		}
	}
	var out []agent.Target
	used := map[string]int{}
	for pos, a := range args {
		if !strings.Contains(a, "://") {
			i := slices.IndexFunc(all, func(t agent.Target) bool { return t.Name == a })
			if i < 0 {
				return nil, usagef("%q is neither a URL nor a target in %s%s", truncate(a, 40), displayPath(cfg), targetNames(all))
			}
			out = append(out, all[i])
			continue
		}
		t := agent.TargetFromURL(cfg.Agent, a, providerName)
		if _, err := ingesturl.Parse(a); err != nil {
			// No host to name it by: its place on the command line tells it apart.
			t.Name = fmt.Sprintf("argument-%d", pos+1)
		}
		used[t.Name]++
		if n := used[t.Name]; n > 1 {
			t.Name = fmt.Sprintf("%s-%d", t.Name, n)
		}
		out = append(out, t)
	}
	return out, nil
}

// targetNames lists the configured targets for an error message: " (targets: a, b)".
func targetNames(ts []agent.Target) string {
	if len(ts) == 0 {
		return " (it has no [[targets]])"
	}
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	if len(names) > 10 {
		names = append(names[:10], "…")
	}
	return " (targets: " + strings.Join(names, ", ") + ")"
}

func displayPath(c *config.Config) string {
	if c.Path() == "" {
		return "the config (none loaded)"
	}
	return c.Path()
}

// progress shows, on a terminal, which targets are still being probed. It rewrites one stderr line.
type progress struct {
	mu      sync.Mutex
	e       env
	stage   map[string]agent.Stage
	soaks   map[string]uplink.Progress
	order   []string
	started time.Time
	stop    chan struct{}
	done    chan struct{}
}

// progressTick redraws the line so the elapsed time moves while a probe waits on a timeout.
const progressTick = 200 * time.Millisecond

func newProgress(e env, ts []agent.Target) *progress {
	p := &progress{e: e, stage: map[string]agent.Stage{}, soaks: map[string]uplink.Progress{}, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	for _, t := range ts {
		p.order = append(p.order, t.Name)
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(progressTick)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *progress) update(target string, s agent.Stage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage[target] = s
	p.draw()
}

// soak is told the uplink soak's progress: the line shows the rate acknowledged over the last
// second while the soak runs.
func (p *progress) soak(target string, pr uplink.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.soaks[target] = pr
	p.draw()
}

func (p *progress) draw() {
	var parts []string
	done := 0
	for _, n := range p.order {
		switch st := p.stage[n]; st {
		case agent.StageDone:
			done++
		case "":
		case agent.StageRTMP:
			if pr, ok := p.soaks[n]; ok {
				phase := "uplink"
				if pr.Warmup {
					phase = "uplink warm-up"
				}
				parts = append(parts, fmt.Sprintf("%s: %s %s %.0f/%.0fs", n, phase, uplink.FormatRate(pr.BPS), pr.Elapsed.Seconds(), pr.Total.Seconds()))
				continue
			}
			parts = append(parts, n+": "+string(st)+"…")
		default:
			parts = append(parts, n+": "+string(st)+"…")
		}
	}
	line := fitLine(fmt.Sprintf("probing %d/%d  %s  %.1fs", done, len(p.order), strings.Join(parts, "  "), time.Since(p.started).Seconds()), p.e.stderrWidth)
	fmt.Fprintf(p.e.stderr, "\r\x1b[K%s", line)
}

// showProgress: the progress line needs a terminal that can erase a line (not TERM=dumb), and is
// not drawn under --json.
func showProgress(e env, asJSON bool) bool {
	return e.stderrTTY && !asJSON && e.getenv("TERM") != "dumb"
}

// fitLine cuts line to width-1 characters (the last column is left free: writing it makes some
// terminals wrap), ending in "…"; width 0 (unknown) counts as 80. Target names are ASCII, so a
// character is a column.
func fitLine(line string, width int) string {
	if width <= 0 {
		width = 80
	}
	max := width - 1
	if utf8.RuneCountInString(line) <= max {
		return line
	}
	r := []rune(line)
	return string(r[:max-1]) + "…"
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.e.stderr, "\r\x1b[K")
}
