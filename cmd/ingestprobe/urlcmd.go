package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/internal/secret"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/render"
)

const urlUsage = `Usage:
  ingestprobe url check URL [--key-file F] [--backup-key-file F] [--json] [flags]
  ingestprobe url sign --domain D [--app live] --stream S --key-file F [--valid 24h]

url check lints a publishing URL offline, in milliseconds — nothing is sent anywhere: its scheme and
mode, the parameters its provider requires, a platform's ingest rules (YouTube, Facebook, Twitch,
Amazon IVS: scheme, host, port, application; docs/providers.md), txTime's expiry (judged by --ntp's time when given, else this host's clock) and,
with the push domain's key, txSecret = lowercase hex MD5(KEY + StreamName + txTime). Its findings,
its JSON (--json) and its exit codes are check's: 0 go or warn, 1 no-go, 2 usage.

url sign prints a signed Tencent push URL valid for --valid from now: txTime is the expiry's Unix
time in uppercase hex, txSecret is computed over it. Keys are read from files ("-" = standard
input), never from the command line, where other users of the host can see them.
`

func cmdURL(ctx context.Context, e env, args []string) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, urlUsage)
		return exitUsage, usagef("url: want \"url check URL\" or \"url sign …\"")
	}
	switch args[0] {
	case "check":
		return cmdURLCheck(ctx, e, args[1:])
	case "sign":
		return cmdURLSign(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, urlUsage)
		return exitOK, nil
	}
	fmt.Fprint(e.stderr, urlUsage)
	// Not echoed: a URL typed in the subcommand's place would put its stream key on the terminal.
	return exitUsage, usagef("url: unknown subcommand (want check or sign)")
}

func cmdURLCheck(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet(e, "url check", urlUsage)
	keyFile := fs.String("key-file", "", "the push domain's signing key, in a file (\"-\" = standard input)")
	backupFile := fs.String("backup-key-file", "", "the backup signing key, accepted as well")
	providerName := fs.String("provider", provider.Auto, strings.Join(provider.Names(), ", "))
	mode := fs.String("mode", "", "the pusher's mode: rtmp or rtc (default: from the URL's scheme)")
	minValidity := fs.Duration("min-validity", diagnose.DefaultMinURLValidity, "warn when the URL expires sooner than this")
	eventEnd := fs.String("event-end", "", "warn when the URL expires before this RFC 3339 time, e.g. 2024-06-01T23:00:00+02:00")
	ntp := fs.String("ntp", "", "judge txTime by this NTP server's time (host[:port]) instead of this host's clock")
	asJSON := fs.Bool("json", false, "print check's JSON document instead of the checklist")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error (logs go to stderr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	log, err := newHumanLogger(e, *logLevel)
	if err != nil {
		return exitUsage, err
	}
	defer log.Sync()
	if len(pos) != 1 {
		return exitUsage, usagef("url check takes one URL, got %d", len(pos))
	}
	cfg := config.Default() // no config file: url check judges the URL alone, by the built-in profiles
	t := agent.TargetFromURL(cfg.Agent, pos[0], *providerName)
	t.Mode, t.MinURLValidity = ingesturl.Mode(*mode), *minValidity
	switch t.Mode {
	case "", ingesturl.ModeRTMP, ingesturl.ModeRTC:
	default:
		return exitUsage, usagef("--mode: want rtmp or rtc")
	}
	if *minValidity <= 0 {
		return exitUsage, usagef("--min-validity must be positive")
	}
	if *eventEnd != "" {
		var ts config.Timestamp
		if err := ts.UnmarshalText([]byte(*eventEnd)); err != nil {
			return exitUsage, usagef("--event-end: %v", err)
		}
		t.EventEnd = ts.Time
	}
	p := agent.NewPipeline(cfg, log)
	p.Offline = true
	if t.Provider != provider.Auto {
		if _, ok := p.Profiles[t.Provider]; !ok {
			return exitUsage, usagef("--provider: %q is not defined (known: %s)", truncate(t.Provider, 20), strings.Join(provider.Names(), ", "))
		}
	}
	if *backupFile != "" && *keyFile == "" {
		return exitUsage, usagef("--backup-key-file needs --key-file too")
	}
	if *keyFile == "-" && *backupFile == "-" {
		return exitUsage, usagef("--key-file and --backup-key-file cannot both read standard input")
	}
	for _, f := range []struct{ flag, path string }{{"--key-file", *keyFile}, {"--backup-key-file", *backupFile}} {
		if f.path == "" {
			continue
		}
		k, err := readKey(e, log, f.path)
		if err != nil {
			return exitUsage, usagef("%s: %v", f.flag, err)
		}
		t.SignKeys = append(t.SignKeys, k)
	}
	if *ntp != "" {
		server, err := config.ParseNTPServer(*ntp)
		if err != nil {
			return exitUsage, usagef("--ntp: %v", err)
		}
		p.Clock = agent.NTPClock(server)
	}
	recs := agent.RunOnce(ctx, p, []agent.Target{t}, 1)
	if ctx.Err() != nil {
		return exitStopped, ctx.Err()
	}
	return writeRecords(e, recs, *asJSON)
}

// writeRecords prints records as check does — the checklist, or the JSON document — and picks
// check's exit code.
func writeRecords(e env, recs []record.Record, asJSON bool) (int, error) {
	doc := render.NewDocument(recs)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // keep "<redacted>" readable
		if err := enc.Encode(doc); err != nil {
			return exitUsage, err
		}
	} else {
		if err := render.Checklist(e.stdout, recs, checklistOptions(e)); err != nil {
			return exitUsage, err
		}
	}
	if doc.Verdict == record.NoGo {
		return exitNoGo, nil
	}
	return exitOK, nil
}

// checklistOptions: colour on a terminal, unless NO_COLOR is set or the terminal is dumb.
func checklistOptions(e env) render.Options {
	return render.Options{Color: e.stdoutTTY && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"}
}

// readKey reads a signing key from a file, or from standard input for "-". A world-readable file
// is logged, by name only.
func readKey(e env, log *zap.Logger, path string) (ingesturl.Key, error) {
	if path == "-" {
		if e.stdin == nil {
			return "", fmt.Errorf("no standard input")
		}
		b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
		if err != nil {
			return "", err
		}
		s := strings.TrimRight(string(b), " \t\r\n")
		if s == "" || strings.ContainsAny(s, "\r\n") {
			return "", fmt.Errorf("standard input: want the key alone on one line")
		}
		return ingesturl.Key(s), nil
	}
	s, warn, err := secret.ReadFile(path)
	if err != nil {
		return "", err
	}
	if warn != "" {
		log.Warn("signing key file " + warn)
	}
	return ingesturl.Key(s), nil
}

func cmdURLSign(e env, args []string) (int, error) {
	fs := newFlagSet(e, "url sign", urlUsage)
	domain := fs.String("domain", "", "the push domain, e.g. push.example.com (required)")
	app := fs.String("app", "live", "the AppName")
	stream := fs.String("stream", "", "the StreamName (required)")
	keyFile := fs.String("key-file", "", "the push domain's signing key, in a file (\"-\" = standard input) (required)")
	valid := fs.Duration("valid", 24*time.Hour, "how long the URL stays valid from now")
	scheme := fs.String("scheme", "rtmp", "rtmp, rtmps, webrtc or srt (the signature in the stream id)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 0 {
		return exitUsage, usagef("url sign takes flags only, got %d argument(s)", len(pos))
	}
	switch {
	case *domain == "":
		return exitUsage, usagef("url sign: --domain is required")
	case *stream == "":
		return exitUsage, usagef("url sign: --stream is required")
	case *keyFile == "":
		return exitUsage, usagef("url sign: --key-file is required")
	case *valid <= 0:
		return exitUsage, usagef("--valid must be positive")
	}
	log, err := newHumanLogger(e, "warn")
	if err != nil {
		return exitUsage, err
	}
	defer log.Sync()
	key, err := readKey(e, log, *keyFile)
	if err != nil {
		return exitUsage, usagef("--key-file: %v", err)
	}
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	// The expiry is an instant, now plus the validity; FormatTxTime takes its Unix time, so no local
	// time string and no zone is ever parsed on the way.
	expires := now().Add(*valid)
	u, err := ingesturl.SignTencent(ingesturl.SignRequest{Scheme: *scheme, Domain: *domain, App: *app, Stream: *stream, Key: key, Expires: expires})
	if err != nil {
		return exitUsage, usageError{err}
	}
	fmt.Fprintln(e.stdout, u)
	fmt.Fprintf(e.stderr, "valid until %s (%s local), txTime %s\n", expires.UTC().Format(time.RFC3339),
		expires.Local().Format("2006-01-02 15:04 MST"), ingesturl.FormatTxTime(expires))
	if *valid < diagnose.DefaultMinURLValidity {
		fmt.Fprintf(e.stderr, "note: valid for %s, less than the %s Tencent advises: an encoder reconnecting after it expires is turned away\n",
			*valid, diagnose.DefaultMinURLValidity)
	}
	return exitOK, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
