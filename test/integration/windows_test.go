//go:build linux

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/record"
)

// wineBound bounds one run of the Windows binary under Wine: the first one in a fresh Wine server
// starts Wine's services too (a few seconds).
const wineBound = 60 * time.Second

// TestIntegrationWindows runs the Windows build (GOOS=windows) under Wine in the lab's venue
// namespace: its Wine server is started there, so the sockets it makes for the binary live in the
// venue and meet the router's nftables rules. It needs the prefix scripts/wine-test.sh makes (with
// the ProcessPrng shim) and skips, saying so, without it.
//
// The URLs name the ingest by address: Wine 8 cannot dial UDP (WSAIoctl(SIO_UDP_CONNRESET) is not
// implemented), so the DNS probe cannot run there.
func TestIntegrationWindows(t *testing.T) {
	w := wineFromEnv(t)
	l := lab.Start(t, lab.Options{})
	exe := buildWindowsBinary(t)
	w.startServer(t, l)

	// Wine sees the host's files under Z:.
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	url := "rtmp://" + lab.IngestAddr.String() + "/live/" + streamKey
	check := func(t *testing.T, rules ...lab.Rule) run {
		t.Helper()
		if err := l.SetFirewall(t.Context(), rules...); err != nil {
			t.Fatal(err)
		}
		return w.run(t, l, exe, "check", "--config", winPath(cfg), "--json", "--timeout", probeTimeout.String(), url)
	}

	t.Run("help names ProgramData", func(t *testing.T) {
		r := w.run(t, l, exe, "config", "validate", "--help")
		// Help goes to stdout, with exit 0, as every command's does.
		if r.exit != 0 || !strings.Contains(r.stdout, `C:\ProgramData\ingestprobe\config.toml`) || strings.Contains(r.stdout, "/etc/ingestprobe") {
			t.Errorf("config validate --help: exit %d; want 0 and the default C:\\ProgramData\\ingestprobe\\config.toml and no Linux path:\n%s%s", r.exit, r.stdout, r.stderr)
		}
	})
	t.Run("config validate the example", func(t *testing.T) {
		example, err := filepath.Abs("../../config.example.toml")
		if err != nil {
			t.Fatal(err)
		}
		r := w.run(t, l, exe, "config", "validate", winPath(example))
		if r.exit != 0 || !strings.Contains(r.stdout, "valid") {
			t.Errorf("config validate %s: exit %d\nstdout: %s\nstderr: %s", example, r.exit, r.stdout, r.stderr)
		}
	})
	t.Run("open: GO, ICMP without administrator rights", func(t *testing.T) {
		r := check(t)
		rec := r.expect(t, 0, record.Go, nil)
		ic := rec.Results.ICMP
		if ic == nil || ic.Error != "" || ic.Privileged || ic.Sent == 0 || ic.Received != ic.Sent || ic.RTTAvgSeconds <= 0 {
			t.Errorf("icmp: got %+v; want every echo answered through the ICMP API (privileged false)", ic)
		}
	})
	t.Run("everything reset: tcp.refused, ECONNREFUSED", func(t *testing.T) {
		r := check(t, lab.ResetIngest())
		wantEvidence(t, r.expectCode(t, "tcp.refused"), "errno", "ECONNREFUSED")
	})
	t.Run("everything admin-prohibited: unreachable, EHOSTUNREACH", func(t *testing.T) {
		r := check(t, lab.ProhibitIngest())
		f := r.expectCode(t, "tcp.unreachable")
		wantEvidence(t, f, "errno", "EHOSTUNREACH")
	})
	t.Run("1935 reset: tcp.rejected, ECONNREFUSED", func(t *testing.T) {
		r := check(t, lab.ResetPort(1935))
		f := r.expectCode(t, "tcp.rejected")
		wantEvidence(t, f, "error", "refused")
		wantEvidence(t, f, "errno", "ECONNREFUSED")
	})
	t.Run("1935 admin-prohibited: tcp.rejected, EHOSTUNREACH", func(t *testing.T) {
		r := check(t, lab.ProhibitPort(1935))
		f := r.expectCode(t, "tcp.rejected")
		wantEvidence(t, f, "error", "unreachable")
		wantEvidence(t, f, "errno", "EHOSTUNREACH")
	})
	t.Run("1935 dropped: tcp.blocked within the timeout", func(t *testing.T) {
		r := check(t, lab.DropPort(1935))
		f := r.expectCode(t, "tcp.blocked")
		wantEvidence(t, f, "error", "timeout")
		d := time.Duration(r.record(t).DurationSeconds * float64(time.Second))
		if lo, hi := probeTimeout-100*time.Millisecond, probeTimeout+2*time.Second; d < lo || d > hi {
			t.Errorf("record duration: got %s; want the probe timeout %s waited out, and not much more", d, probeTimeout)
		}
	})
}

// expectCode checks the NO-GO (exit 1) and that the first error finding is code, and returns it.
func (r run) expectCode(t *testing.T, code string) record.Finding {
	t.Helper()
	r.expect(t, 1, record.NoGo, []string{code})
	return r.finding(t, code)
}

// winPath is a host path as Wine shows it to a Windows program (the host's / is drive Z:).
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// wine is Wine as scripts/wine-test.sh prepared it.
type wine struct {
	loader, server, prefix string
}

func wineFromEnv(t *testing.T) *wine {
	t.Helper()
	w := &wine{loader: os.Getenv("INGESTPROBE_WINE"), server: os.Getenv("INGESTPROBE_WINESERVER"), prefix: os.Getenv("INGESTPROBE_WINEPREFIX")}
	if w.loader == "" || w.server == "" || w.prefix == "" {
		t.Skip("Wine: run by scripts/wine-test.sh (make test-wine), which makes the prefix with the ProcessPrng shim and sets INGESTPROBE_WINE, INGESTPROBE_WINESERVER and INGESTPROBE_WINEPREFIX")
	}
	if _, err := os.Stat(filepath.Join(w.prefix, "system.reg")); err != nil {
		t.Fatalf("Wine prefix %s: %v", w.prefix, err)
	}
	// A copy of the prefix (files hard-linked, the registry copied, as Wine rewrites it): a Wine
	// server belongs to one prefix, and this one must be the venue's only.
	cp := w.prefix + ".venue-" + strings.ReplaceAll(t.Name(), "/", "_") + "-" + time.Now().Format("150405.000")
	if out, err := exec.Command("cp", "-al", w.prefix, cp).CombinedOutput(); err != nil {
		t.Fatalf("copy the prefix: %v\n%s", err, out)
	}
	t.Cleanup(func() { os.RemoveAll(cp) })
	regs, _ := filepath.Glob(filepath.Join(cp, "*.reg"))
	for _, f := range regs {
		b, err := os.ReadFile(f)
		if err == nil {
			err = os.Remove(f)
		}
		if err == nil {
			err = os.WriteFile(f, b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	w.prefix = cp
	return w
}

func (w *wine) env() []string {
	return []string{"WINEPREFIX=" + w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=", "WINELOADER=" + w.loader, "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
}

// startServer starts the prefix's Wine server in the venue namespace, and stops it (and the Wine
// processes it serves) when the test ends.
func (w *wine) startServer(t *testing.T, l *lab.Lab) {
	t.Helper()
	cmd := l.VenueCommand(context.Background(), "env", append(w.env(), w.server, "--foreground", "--persistent")...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("wineserver in the venue: %v", err)
	}
	t.Cleanup(func() {
		kill := exec.Command("env", append(w.env(), w.server, "-k")...)
		kill.Run()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// run runs the Windows binary under Wine in the venue namespace, bounded by wineBound.
func (w *wine) run(t *testing.T, l *lab.Lab, exe string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wineBound)
	defer cancel()
	cmd := l.VenueCommand(ctx, "env", append(append(w.env(), w.loader, exe), args...)...)
	// Files, not pipes: the Wine processes the binary's start spawns (services, winedevice) inherit
	// its stdout and stderr and outlive it, and Wait would wait for them to close a pipe.
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	outb, _ := os.ReadFile(stdout.Name())
	errb, _ := os.ReadFile(stderr.Name())
	r := run{stdout: string(outb), stderr: string(errb), wall: wall}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.exit = ee.ExitCode()
	default:
		t.Fatalf("wine %s %s: %v (after %s)\nstderr: %s", filepath.Base(exe), strings.Join(args, " "), err, r.wall, r.stderr)
	}
	if strings.Contains(r.stdout, streamKey) || strings.Contains(r.stderr, streamKey) {
		t.Errorf("output holds the stream key:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if slices.Contains(args, "--json") {
		if err := jsonDecode(r.stdout, &r.doc); err != nil {
			t.Fatalf("decode --json output: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
		}
	}
	t.Logf("wine %s %s: exit %d in %.2f s", filepath.Base(exe), args[0], r.exit, r.wall.Seconds())
	return r
}

// buildWindowsBinary builds cmd/ingestprobe for windows/amd64 into the test's directory.
func buildWindowsBinary(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	exe := filepath.Join(t.TempDir(), "ingestprobe.exe")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", exe, "github.com/ingestprobe/ingestprobe/cmd/ingestprobe")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (windows): %v\n%s", err, out)
	}
	return exe
}

func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }
