package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelpConvention: one convention for every command. --help and -h print the command's help on
// stdout, with flags written --flag, and exit 0; a wrong flag is one line of error naming it as
// --flag, plus where to look, on stderr, and exit 2 — not the error, the whole usage and the
// error again.
func TestHelpConvention(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"check", "--help"}, {"check", "-h"}, {"run", "--help"}, {"service", "--help"}, {"service", "-h"},
		{"service", "install", "--help"}, {"config", "--help"}, {"config", "validate", "--help"}, {"version", "--help"},
		{"url", "--help"}, {"url", "check", "--help"}, {"url", "sign", "--help"},
	} {
		code, out, errs := runCmd(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage") || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want the help on stdout and exit 0", args, code, out, errs)
		}
		if regexp.MustCompile(`\n  -[a-z]`).MatchString(out) || strings.HasSuffix(strings.TrimSpace(out), "Flags:") {
			t.Errorf("%v: flags written -flag, or an empty Flags: section:\n%s", args, out)
		}
		if strings.Contains(out, "ingestprobe dev (commit") {
			t.Errorf("%v: printed the version, not the help", args)
		}
	}
	code, out, errs := runCmd(t, "check", "--bogus")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != exitUsage || out != "" || len(lines) != 1 || !strings.Contains(errs, "--bogus") || !strings.Contains(errs, "ingestprobe check --help") {
		t.Errorf("wrong flag: exit %d, stdout %q, stderr %q; want one line naming --bogus and check --help, exit 2", code, out, errs)
	}
}

// TestTimeoutFlag: a duration without a unit says how to write it; zero is an error, not a
// silent default.
func TestTimeoutFlag(t *testing.T) {
	for _, tt := range []struct{ arg, want string }{
		{"2", `--timeout: "2" is not a duration (write it like "2s")`},
		{"0s", "--timeout must be more than 0"},
		{"-1s", "--timeout must be more than 0"},
	} {
		code, _, errs := runCmd(t, "check", "rtmp://127.0.0.1/live/k", "--timeout", tt.arg)
		if code != exitUsage || !strings.Contains(errs, tt.want) {
			t.Errorf("--timeout %s: exit %d, stderr %q; want 2 and %q", tt.arg, code, errs, tt.want)
		}
	}
}
