package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/symptom"
)

const explainUsage = `Usage: ingestprobe explain "MESSAGE" [URL] [flags]

Maps a message an encoder showed — ffmpeg's "Input/output error", OBS's "Failed to connect to
server", the Tencent SDK's PUSH_WARNING_SERVER_DISCONNECT or a -2 from startPush — to the findings
that can cause it, and names the checks that tell them apart. With a URL it runs exactly those
checks from this network and says which of the causes it found. A publish is run only with
--publish (it occupies the stream for about 2 s: never on a live stream).

An unknown message says so and lists the closest known ones.

Exit codes: 0 explained (and, with a URL, no cause found), 1 a cause found (NO-GO), 2 usage error
or an unknown message.
`

func cmdExplain(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet(e, "explain", explainUsage)
	cfgPath := fs.String("config", "", "config file (default "+defaultConfigPath()+" when it exists)")
	publish := fs.Bool("publish", false, "with a URL, also publish for ~2 s when a publish tells the causes apart: briefly occupies the stream")
	timeout := fs.Duration("timeout", 0, "per-probe timeout, e.g. 3s (default: the config's, else 5s)")
	providerName := fs.String("provider", "", "provider for the URL: "+strings.Join(provider.Names(), ", ")+", or one from the config")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error (logs go to stderr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) == 0 || len(pos) > 2 || strings.TrimSpace(pos[0]) == "" {
		return exitUsage, usagef(`explain takes a message and, optionally, a URL: ingestprobe explain "Input/output error" rtmp://host/app/stream`)
	}
	if *timeout < 0 {
		return exitUsage, usagef("--timeout must be positive")
	}
	msg := pos[0]
	matched := symptom.Match(msg)
	if len(matched) == 0 {
		fmt.Fprintf(e.stdout, "ingestprobe does not know the message %q. The closest known ones:\n", truncate(msg, 120))
		for _, s := range symptom.Closest(msg, 3) {
			fmt.Fprintf(e.stdout, "  %q (%s): %s\n", s.Text, s.Source, s.Note)
		}
		fmt.Fprintln(e.stdout, "\nPaste the message as the encoder shows it, e.g. ingestprobe explain \"Input/output error\".")
		return exitUsage, nil
	}
	writeExplanation(e, matched)
	checks := symptom.ChecksOf(matched)
	if len(pos) == 1 {
		fmt.Fprintf(e.stdout, "\nTo run them from this network: ingestprobe explain %q rtmp://host/app/stream", truncate(msg, 60))
		if slices.Contains(checks, symptom.CheckPublish) {
			fmt.Fprint(e.stdout, " [--publish]")
		}
		fmt.Fprintln(e.stdout)
		return exitOK, nil
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
	targets, err := selectTargets(cfg, pos[1:2], *providerName)
	if err != nil {
		return exitUsage, err
	}
	if !strings.Contains(pos[1], "://") {
		return exitUsage, usagef("explain runs its checks on a URL, not a configured name: give the publishing URL")
	}
	t := targets[0]
	if *timeout > 0 {
		t.Timeout = *timeout
	}
	p := agent.NewPipeline(cfg, log)
	shapeTarget(&t, p, checks, matched, *publish)
	if t.RTMP == rtmp.LevelPublish {
		fmt.Fprintln(e.stderr, "warning: publishing to the stream for about 2 s: an encoder live on it may be refused or cut off meanwhile")
	} else if slices.Contains(checks, symptom.CheckPublish) && !p.Offline {
		fmt.Fprintln(e.stdout, "\nNot run: the publish (add --publish; it occupies the stream for about 2 s).")
	}
	fmt.Fprintln(e.stdout)
	targets = []agent.Target{t}
	stopGuard := guardShow(ctx, e, cfg, p, targets, false) // its publish keeps off a live show, as check's
	defer stopGuard()
	recs := agent.RunOnce(ctx, p, targets, 1)
	if ctx.Err() != nil {
		return exitStopped, ctx.Err()
	}
	code, err := writeRecords(e, recs, false)
	if err != nil {
		return code, err
	}
	writeFound(e, recs[0], symptom.Codes(matched))
	return code, nil
}

// writeExplanation prints each matched message with the findings that can cause it (code and
// title) and the checks that tell them apart.
func writeExplanation(e env, matched []symptom.Symptom) {
	for _, s := range matched {
		fmt.Fprintf(e.stdout, "%q (%s): %s.\n", s.Text, s.Source, s.Note)
	}
	fmt.Fprintln(e.stdout, "\nIt can be caused by:")
	for _, code := range symptom.Codes(matched) {
		fmt.Fprintf(e.stdout, "  %-24s %s\n", code, title(code))
	}
	var names []string
	for _, c := range symptom.ChecksOf(matched) {
		names = append(names, checkName(c))
	}
	fmt.Fprintf(e.stdout, "\nThe checks that tell them apart: %s.\n", strings.Join(names, ", "))
}

// writeFound says which of the message's causes the checks found.
func writeFound(e env, r record.Record, codes []string) {
	var found, other []string
	for _, f := range r.Findings {
		switch {
		case f.Severity == record.Info:
		case slices.Contains(codes, f.Code):
			if !slices.Contains(found, f.Code) {
				found = append(found, f.Code)
			}
		case f.Severity == record.Error && !slices.Contains(other, f.Code):
			other = append(other, f.Code)
		}
	}
	if len(found) == 0 && len(other) > 0 {
		// Something else fails from here: the message pasted may be an older one, or the encoder
		// words this failure differently. Either way it is what to fix first.
		fmt.Fprintf(e.stdout, "None of its causes was found, but the checks found another failure from here: %s. An encoder shows it with another message; fix it first (its remedy is above), then try again.\n", strings.Join(other, ", "))
		return
	}
	if len(found) == 0 {
		fmt.Fprintln(e.stdout, "None of its causes was found from here: if the encoder runs on this network, the cause is in the encoder's settings (compare its URL and stream key with the one checked here) or came and went.")
		return
	}
	fmt.Fprintf(e.stdout, "Of its causes, the checks found: %s.\n", strings.Join(found, ", "))
}

// shapeTarget runs exactly the checks that tell the causes apart: the RTMP level the furthest of
// them needs (publish only with --publish), the alternative ports only for TCP, ICMP only when a
// cause is a network-quality finding, and nothing on the network when the URL doctor alone decides.
func shapeTarget(t *agent.Target, p *agent.Pipeline, checks []symptom.Check, matched []symptom.Symptom, publish bool) {
	has := func(c symptom.Check) bool { return slices.Contains(checks, c) }
	switch {
	case has(symptom.CheckPublish) && publish:
		t.RTMP = rtmp.LevelPublish
	case has(symptom.CheckConnect) || has(symptom.CheckPublish):
		t.RTMP = rtmp.LevelConnect
	case has(symptom.CheckHandshake) || has(symptom.CheckTLS):
		t.RTMP = rtmp.LevelHandshake
	default:
		t.RTMP = rtmp.LevelOff
	}
	if !has(symptom.CheckTCP) {
		t.AltPorts = []int{}
	}
	t.SkipICMP = !slices.ContainsFunc(symptom.Codes(matched), func(c string) bool { return strings.HasPrefix(c, "net.") })
	if len(checks) == 1 && checks[0] == symptom.CheckURL {
		p.Offline = true
	}
}

func title(code string) string {
	for _, e := range diagnose.Catalogue {
		if e.Code == code {
			return e.Summary
		}
	}
	return ""
}

func checkName(c symptom.Check) string {
	switch c {
	case symptom.CheckURL:
		return "the URL doctor (offline)"
	case symptom.CheckDNS:
		return "DNS"
	case symptom.CheckTCP:
		return "TCP to the ingest port and the alternative ports"
	case symptom.CheckTLS:
		return "the RTMPS certificate"
	case symptom.CheckHandshake:
		return "the RTMP handshake"
	case symptom.CheckConnect:
		return "the RTMP connect to the application"
	case symptom.CheckPublish:
		return "a publish (--publish)"
	}
	return string(c)
}
