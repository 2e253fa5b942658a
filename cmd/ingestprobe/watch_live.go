package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/live"
)

const watchLiveUsage = `Usage: ingestprobe watch [URL|NAME …] [--for D] [--bitrate RATE] [--json] [--config F]

Watches the encoder's own connection to the ingest during the show, without sending a byte and
without touching the encoder: every established TCP connection from this host to the ingest (the
addresses its host resolves to, and its port), other than ingestprobe's own, is a publisher — OBS,
vMix, ffmpeg, Wirecast alike. Its acknowledged rate, RTT, retransmissions and backlog are read from
the kernel (Linux: NETLINK_SOCK_DIAG; Windows: GetPerTcpConnectionEStats, as administrator).

On a terminal a table is redrawn each second until Ctrl-C or --for. The end — and --json, after
--for (default 10s with --json) — is one document in the shape of check --json: the verdict, and
per target a record whose result {"probe": "live", …} sums the publishers' rates and backlogs and
keeps their worst RTT and retransmit ratio, with the findings of the watch (live.stalled,
live.congested, live.below_bitrate, live.retransmits, live.reconnects; live.no_publisher when
nothing publishes, which is not an error). URLs are matched by address and port only and shown
redacted. With no URL or NAME, the configured targets with live = true are watched.

Exit codes: 0 go or warn (no publisher included), 1 no-go or the watch is not available on this
system, 2 usage or config error.
`

// defaultWatchJSONFor is how long `watch --json` watches when --for is not given: two windows.
const defaultWatchJSONFor = 10 * time.Second

func cmdWatchLive(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet(e, "watch", watchLiveUsage)
	cfgPath := fs.String("config", "", "config file (default "+defaultConfigPath()+" when it exists)")
	asJSON := fs.Bool("json", false, "print one JSON document at the end instead of the table")
	dur := fs.Duration("for", 0, "watch this long, e.g. 30s (default: until Ctrl-C; with --json, 10s)")
	bitrate := fs.String("bitrate", "", `the show's bitrate, e.g. "2500k" or "6M": live.below_bitrate is judged against it (default: the target's bitrate key)`)
	resolver := fs.String("resolver", "", "DNS resolver to use instead of the system's, IP[:port]")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if *dur < 0 {
		return exitUsage, usagef("watch: --for must be positive (see ingestprobe watch --help)")
	}
	cfg, err := loadConfigForCheck(*cfgPath)
	if err != nil {
		return exitUsage, usageError{err}
	}
	if *resolver != "" {
		r, err := config.ParseResolver(*resolver)
		if err != nil {
			return exitUsage, usagef("--resolver: %v", err)
		}
		cfg.Agent.Resolvers = []string{r}
	}
	targets, err := watchTargets(cfg, pos)
	if err != nil {
		return exitUsage, err
	}
	if *bitrate != "" {
		r, err := live.ParseRate(*bitrate)
		if err != nil {
			return exitUsage, usagef("--bitrate: %v", err)
		}
		for i := range targets {
			targets[i].Bitrate = r
		}
	}
	if *asJSON && *dur == 0 {
		*dur = defaultWatchJSONFor
	}

	w, err := live.NewWatcher()
	if err != nil {
		fmt.Fprintf(e.stderr, "ingestprobe: %v\n", err)
		return exitNoGo, nil
	}
	defer w.Close()
	for _, t := range targets {
		lt, ok := agent.LiveTarget(ctx, t, cfg.Agent.Resolvers)
		if !ok {
			return exitNoGo, fmt.Errorf("%s: the ingest's host resolves to no address: nothing to watch", t.Name)
		}
		w.Set(lt)
	}
	o := agent.WatchOptions{For: *dur}
	redraw := e.stdoutTTY && !*asJSON
	if redraw {
		first := true
		o.Frame = func(elapsed time.Duration, rs []live.Result) {
			var b strings.Builder
			if first {
				b.WriteString(ansiHome + ansiClearAll)
				first = false
			}
			b.WriteString(ansiHome)
			for _, line := range strings.Split(liveTable(targets, rs, elapsed, *dur), "\n") {
				b.WriteString(line + ansiClearLine + "\n")
			}
			b.WriteString(ansiClearDown)
			io.WriteString(e.stdout, b.String())
		}
	}
	recs := agent.Watch(ctx, w, cfg.Agent.ID, targets, o)
	if redraw {
		fmt.Fprintln(e.stdout)
	}
	return writeRecords(e, recs, *asJSON)
}

// watchTargets: URLs and names as check takes them; with neither, the configured live targets.
func watchTargets(cfg *config.Config, pos []string) ([]agent.Target, error) {
	var targets []agent.Target
	if len(pos) == 0 {
		for _, t := range agent.TargetsFromConfig(cfg) {
			if t.Live {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			return nil, usagef("nothing to watch: give the ingest's URL (ingestprobe watch rtmp://host/app/stream) or set live = true on a target in %s", displayPath(cfg))
		}
	} else {
		var err error
		if targets, err = selectTargets(cfg, pos, ""); err != nil {
			return nil, err
		}
	}
	for _, t := range targets {
		if !strings.HasPrefix(t.URL, "rtmp://") && !strings.HasPrefix(t.URL, "rtmps://") {
			return nil, usagef("%s: the live watch follows TCP connections (rtmp://, rtmps://); this URL is not one", t.Name)
		}
	}
	return targets, nil
}

// liveTable is the terminal frame: a line per publisher (or per target without one).
func liveTable(targets []agent.Target, rs []live.Result, elapsed, total time.Duration) string {
	var b strings.Builder
	until := "Ctrl-C to stop"
	if total > 0 {
		until = fmt.Sprintf("until %s", total)
	}
	fmt.Fprintf(&b, "ingestprobe watch — %s — %s\n\n", elapsed.Round(time.Second), until)
	fmt.Fprintf(&b, "%-16s %-22s %-16s %12s %9s %8s %18s\n", "TARGET", "PUBLISHER", "PROCESS", "RATE", "RTT", "RETRANS", "BACKLOG")
	for i, r := range rs {
		name := targets[i].Name
		switch {
		case r.Error != live.OK:
			fmt.Fprintf(&b, "%-16s %s\n", name, "the watch failed: "+r.Detail)
		case len(r.Connections) == 0:
			fmt.Fprintf(&b, "%-16s %s\n", name, "no publisher to "+r.Ingest)
		}
		for _, c := range r.Connections {
			proc := c.Process
			if c.PID > 0 {
				proc = fmt.Sprintf("%s[%d]", c.Process, c.PID)
			}
			if c.FiguresUnknown != "" {
				fmt.Fprintf(&b, "%-16s %-22s %-16s figures unknown: %s\n", name, c.Local, trunc(proc, 16), c.FiguresUnknown)
				continue
			}
			backlog := kb(c.BacklogBytes)
			if r.StreamBps > 0 {
				backlog += fmt.Sprintf(" (%.2f s)", float64(c.BacklogBytes)*8/r.StreamBps)
			}
			fmt.Fprintf(&b, "%-16s %-22s %-16s %12s %9s %7.2f%% %18s\n", name, c.Local, trunc(proc, 16),
				fmt.Sprintf("%.2f Mbit/s", c.AckedBps/1e6), fmt.Sprintf("%.1f ms", c.RTTSeconds*1000), c.RetransmitRatio*100, backlog)
		}
		if r.StalledSeconds >= 1 {
			fmt.Fprintf(&b, "%-16s nothing acknowledged for %.0f s\n", "", r.StalledSeconds)
		}
		if r.Reconnects > 0 {
			fmt.Fprintf(&b, "%-16s %d reconnect(s) in the last 5 min\n", "", r.Reconnects)
		}
	}
	return b.String()
}

func kb(n uint64) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d KB", n>>10)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
