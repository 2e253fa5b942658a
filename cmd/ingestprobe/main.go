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

// Exit codes, as documented in README.md: 0 every target go or warn, 1 any no-go, 2 usage or config.
const (
	exitOK      = 0
	exitNoGo    = 1
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
  ingestprobe service install|uninstall|start|stop|restart|status     the agent as a system service
  ingestprobe config validate [FILE]                                  check a config file
  ingestprobe version                                                 print the version

Run "ingestprobe COMMAND --help" for a command's flags.
Exit codes: 0 every target go or warn, 1 any target no-go, 2 usage or config error.
`

// env is what a command may touch: its streams and environment, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	stdoutTTY      bool
	stderrTTY      bool
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
	case "service":
		code, err = cmdService(ctx, e, args[1:])
	case "version", "--version":
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
		fmt.Fprintf(e.stderr, "ingestprobe: %v\n", err)
		return exitUsage
	}
}

// parseFlags parses flags placed before, between or after positional arguments, as users type them
// ("check URL --json"); everything after "--" is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
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

func newFlagSet(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usage)
		fmt.Fprintln(e.stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
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
