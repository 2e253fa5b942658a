// Command ingestprobe checks, from the host's own network, whether publishing to a live-streaming
// ingest will work — and why not. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

// Set by the linker: -X main.version=… -X main.commit=….
var (
	version = "dev"
	commit  = "none"
)

// Exit codes, as documented in README.md: 0 every target go or warn, 1 any no-go or a failure at
// run time (a port taken, a disk full: the unit restarts on it), 2 usage or config (it does not).
const (
	exitOK      = 0
	exitNoGo    = 1
	exitFailure = 1
	exitUsage   = 2
	exitStopped = 130
)

// usageError is a mistake in the command line or the config: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// unknownCommandError is a first argument that names no command: run answers it with the main
// usage as well. name is already redacted; url says the argument looked like a URL.
type unknownCommandError struct {
	name string
	url  bool
}

func (e unknownCommandError) Error() string {
	if e.url {
		return fmt.Sprintf("unknown command %q: to check a URL, run: ingestprobe check URL", e.name)
	}
	return fmt.Sprintf("unknown command %q", e.name)
}

const mainUsage = `ingestprobe tells, from this network, whether publishing to a live-streaming ingest will work.

Usage:
  ingestprobe check [URL|NAME …] [--config F] [--json] [--timeout D]   one-shot GO / NO-GO
  ingestprobe check --watch [--every 10s] [URL|NAME …]                 the same, redrawn until Ctrl-C
  ingestprobe watch [URL|NAME …] [--for D] [--bitrate RATE] [--json]  during the show: the encoder's own connection
  ingestprobe run [--config F]                                        the agent, in the foreground
  ingestprobe url check URL [--key-file F] [--json]                    lint a publishing URL offline
  ingestprobe url sign --domain D --stream S --key-file F [--valid 24h] print a signed Tencent push URL
  ingestprobe explain "MESSAGE" [URL] [--publish]                      what an encoder's error means, and check it
  ingestprobe service install|uninstall|start|stop|restart|status     the agent as a system service
  ingestprobe config validate [FILE]                                  check a config file
  ingestprobe version                                                 print the version

Run "ingestprobe COMMAND --help" for a command's flags.
Exit codes: 0 every target go or warn, 1 any target no-go or a failure at run time, 2 usage or
config error.
`

// env is what a command may touch: its streams and environment, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	stdoutTTY      bool
	stderrTTY      bool
	stderrWidth    int // columns of the terminal on stderr; 0 = unknown
	getenv         func(string) string
	stdin          io.Reader        // nil = none
	now            func() time.Time // nil = time.Now
}

func main() {
	e := env{
		stdout: os.Stdout, stderr: os.Stderr,
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		getenv:    os.Getenv,
		stdin:     os.Stdin,
	}
	if e.stderrTTY {
		e.stderrWidth, _, _ = term.GetSize(int(os.Stderr.Fd()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, mainUsage)
		return exitUsage
	}
	var code int
	var err error
	switch args[0] {
	case "check":
		code, err = cmdCheck(ctx, e, args[1:])
	case "watch":
		code, err = cmdWatchLive(ctx, e, args[1:])
	case "run":
		code, err = cmdRun(ctx, e, args[1:])
	case "config":
		code, err = cmdConfig(e, args[1:])
	case "url":
		code, err = cmdURL(ctx, e, args[1:])
	case "explain":
		code, err = cmdExplain(ctx, e, args[1:])
	case "service":
		code, err = cmdService(ctx, e, args[1:])
	case "version", "--version":
		if len(args) > 1 && (args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
			fmt.Fprint(e.stdout, "Usage: ingestprobe version\n\nPrints the version and the commit it was built from.\n")
			return exitOK
		}
		fmt.Fprintf(e.stdout, "ingestprobe %s (commit %s)\n", version, commit)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, mainUsage)
	default:
		name := args[0]
		if strings.Contains(name, "://") || len(name) > 32 {
			name = ingesturl.Redact(name) // it may be a URL with its stream key
		}
		err = usageError{unknownCommandError{name: name, url: strings.Contains(args[0], "://")}}
	}
	switch {
	case err == nil:
		return code
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(e.stderr, "ingestprobe: %v\n", err)
		if errors.As(err, new(unknownCommandError)) {
			fmt.Fprint(e.stderr, mainUsage)
		}
		return exitUsage
	case ctx.Err() != nil:
		fmt.Fprintln(e.stderr, "ingestprobe: stopped")
		return exitStopped
	default:
		// A failure at run time (a port taken, a disk full): exit 1, which the unit restarts.
		fmt.Fprintf(e.stderr, "ingestprobe: %v\n", err)
		return exitFailure
	}
}

// parseFlags parses flags placed before, between or after positional arguments, as users type them
// ("check URL --json"); everything after "--" is positional. --help (or -h) prints the command's
// help on stdout and returns flag.ErrHelp (exit 0); a wrong flag is a one-line usage error that
// names it as --flag and points at --help (exit 2) — the usage is not printed around it.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	help := fs.Usage
	fs.Usage = func() {} // flag calls it on errors too: help is printed only when asked for
	defer func() { fs.Usage = help }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, err
			}
			return nil, usageError{flagError(fs, err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--" and drops it; if the arg before the rest was "--", the rest is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

var (
	flagUndefinedRE = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagValueRE     = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -+([^:]+): (.*)$`)
	flagArgRE       = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// flagError rewrites the flag package's error in this tool's words: flags as --flag, a duration
// without its unit explained, and where to read more.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	switch {
	case flagUndefinedRE.MatchString(msg):
		msg = "unknown flag --" + flagUndefinedRE.FindStringSubmatch(msg)[1]
	case flagArgRE.MatchString(msg):
		msg = "--" + flagArgRE.FindStringSubmatch(msg)[1] + " needs a value"
	case flagValueRE.MatchString(msg):
		m := flagValueRE.FindStringSubmatch(msg)
		val, name, why := truncate(m[1], 40), m[2], m[3]
		if f := fs.Lookup(name); f != nil {
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isDur := g.Get().(time.Duration); isDur {
					why = fmt.Sprintf("%q is not a duration (write it like \"3s\" or \"500ms\")", val)
					if _, err := strconv.ParseFloat(val, 64); err == nil {
						why = fmt.Sprintf("%q is not a duration (write it like %q)", val, val+"s")
					}
				}
			}
		}
		msg = "--" + name + ": " + why
	}
	return fmt.Errorf("%s (see ingestprobe %s --help)", msg, fs.Name())
}

func newFlagSet(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once, by run
	fs.Usage = func() { writeHelp(e.stdout, fs, usage) }
	return fs
}

// writeHelp prints a command's help: its usage text, then its flags written --flag (none: no
// Flags section).
func writeHelp(w io.Writer, fs *flag.FlagSet, usage string) {
	var b strings.Builder
	b.WriteString(usage)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if n == 0 {
			b.WriteString("\nFlags:\n")
		}
		n++
		typ, text := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if typ != "" {
			fmt.Fprintf(&b, " %s", typ)
		}
		fmt.Fprintf(&b, "\n        %s", text)
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	io.WriteString(w, b.String())
}

// newHumanLogger is the log of the commands a person runs (check, url check, url sign): on stderr,
// "warning: message" with the fields after it, terminal or not — JSON lines are for `run`.
func newHumanLogger(e env, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", level)
	}
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		LevelKey: "level", MessageKey: "msg", ConsoleSeparator: " ",
		EncodeLevel: func(l zapcore.Level, pe zapcore.PrimitiveArrayEncoder) {
			name := l.String()
			if l == zapcore.WarnLevel {
				name = "warning"
			}
			pe.AppendString(name + ":")
		},
	})
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(e.stderr)), lvl)), nil
}

// newLogger logs to stderr: readable when a person watches, JSON lines when a machine collects.
func newLogger(e env, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", level)
	}
	var enc zapcore.Encoder
	if e.stderrTTY {
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	} else {
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.RFC3339NanoTimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	}
	// Locked: targets are probed in parallel and log to one writer, which need not be safe for
	// concurrent use (a test's buffer is not).
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(e.stderr)), lvl)), nil
}
