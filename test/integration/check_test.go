//go:build linux

// Package integration runs the built ingestprobe binary from a venue network namespace against
// real components — nginx, dnsmasq and nftables rules on a router namespace (internal/lab) — and
// checks the GO / NO-GO it reports. It needs root; it skips with the reason otherwise.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/render"
)

// probeTimeout is what every check here runs with: long enough that nothing in the lab (all
// answers within milliseconds) comes near it, short enough that the scenarios that must wait for
// it — silent drops — keep the suite quick.
const probeTimeout = 2 * time.Second

// checkBound bounds one run of the binary: a hung check fails the scenario instead of the suite.
const checkBound = 20 * time.Second

// Secrets in the URLs used here. They must never appear in anything the binary prints.
const (
	streamKey = "labkey7f3a91"
	txSecret  = "5ec1e7d00dd1ab5ec1e7d00dd1ab5ec1"
)

func TestIntegrationCheck(t *testing.T) {
	l := lab.Start(t, lab.Options{})
	// The scenarios run back to back, far more often than anyone checks from a venue, and since
	// failed ports are traced (probes/path), each costs the router's ICMP rate limit (per
	// destination: 6 answers, then 1 a second) a time-exceeded or two: the scenarios that count on
	// an ICMP reject for every connect would find it spent. The limit is off for this lab.
	if err := l.Do(l.Router, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/icmp_ratelimit", []byte("0\n"), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	// An empty config: a developer's /etc/ingestprobe/config.toml (resolvers!) must not change
	// what the lab measures.
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	generic := func(host string) string { return "rtmp://" + host + "/live/" + streamKey }
	// A Tencent URL: txSecret/txTime make the provider "tencent"; txTime is a day ahead so no
	// expiry check (present or to come) turns a GO into a NO-GO.
	tencent := func(host string) string {
		return fmt.Sprintf("rtmp://%s/live/%s?txSecret=%s&txTime=%X", host, streamKey, txSecret, time.Now().Add(24*time.Hour).Unix())
	}

	tests := []struct {
		name    string
		rules   []lab.Rule
		stopDNS bool
		config  string // the config file's text; empty by default
		url     string
		exit    int
		verdict record.Verdict
		codes   []string
		check   func(t *testing.T, r run)
	}{
		{
			name: "open", url: generic(lab.NameOpen), exit: 0, verdict: record.Go,
			check: func(t *testing.T, r run) {
				rec := r.record(t)
				if d := rec.Results.DNS; d == nil || !slices.Equal(d.A, []string{lab.IngestAddr.String()}) {
					t.Errorf("dns result: got %+v; want A %s", d, lab.IngestAddr)
				}
				if got := openPorts(rec); !slices.Equal(got, []int{80, 443, 1935}) {
					t.Errorf("ports that connected: got %v; want [80 443 1935]", got)
				}
			},
		},
		{
			name: "tencent push domain with its CNAME", url: tencent(lab.NamePush), exit: 0, verdict: record.Go,
			check: func(t *testing.T, r run) {
				rec := r.record(t)
				if rec.Provider != "tencent" {
					t.Errorf("provider: got %q; want tencent (from txSecret/txTime)", rec.Provider)
				}
				if d := rec.Results.DNS; d == nil || !slices.Equal(d.CNAME, []string{"push.lab.test.tlivepush.com"}) {
					t.Errorf("cname chain: got %+v; want [push.lab.test.tlivepush.com]", d)
				}
			},
		},
		{name: "tencent legacy push suffix", url: tencent(lab.NameLegacy), exit: 0, verdict: record.Go},
		{
			name: "1935 dropped", rules: []lab.Rule{lab.DropPort(1935)}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"tcp.blocked"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "tcp.blocked")
				wantEvidence(t, f, "port", 1935)
				wantEvidence(t, f, "error", "timeout")
				wantEvidence(t, f, "open_ports", []any{80.0, 443.0})
				for _, s := range []string{"port 1935", "port 443"} {
					if !strings.Contains(f.Message, s) {
						t.Errorf("message %q: want it to name %q", f.Message, s)
					}
				}
				if !strings.Contains(f.Remedy, "TCP 1935") {
					t.Errorf("remedy %q: want it to name TCP 1935", f.Remedy)
				}
				// A silent drop is only known by waiting: the check must have waited for the
				// probe timeout, and not much longer. The upper bound is loose on purpose: it
				// includes starting the process, on a CI machine that may be busy.
				d := time.Duration(r.record(t).DurationSeconds * float64(time.Second))
				if min := probeTimeout - 100*time.Millisecond; d < min {
					t.Errorf("record duration: got %s; want at least %s (the drop must be waited out)", d, min)
				}
				if max := probeTimeout + 3*time.Second; r.wall > max {
					t.Errorf("wall time: got %s; want under %s", r.wall, max)
				}
				t.Logf("measured: check with 1935 silently dropped returned in %.3f s wall (probe timeout %s; record duration_seconds %.3f)",
					r.wall.Seconds(), probeTimeout, r.record(t).DurationSeconds)
			},
		},
		{
			name: "1935 reset", rules: []lab.Rule{lab.ResetPort(1935)}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"tcp.rejected"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "tcp.rejected")
				wantEvidence(t, f, "port", 1935)
				wantEvidence(t, f, "error", "refused")
				wantEvidence(t, f, "errno", "ECONNREFUSED")
				wantEvidence(t, f, "open_ports", []any{80.0, 443.0})
			},
		},
		{
			// Linux ends a connect that meets ICMP admin-prohibited at once with EHOSTUNREACH; the
			// tcp probe calls that "unreachable". With 443 and 80 connecting at the same moment
			// it is one port actively rejected — tcp.rejected, the remedy of a reset — not a
			// dead path (tcp.unreachable is kept for when nothing connects).
			name: "1935 admin-prohibited", rules: []lab.Rule{lab.ProhibitPort(1935)}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"tcp.rejected"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "tcp.rejected")
				wantEvidence(t, f, "port", 1935)
				wantEvidence(t, f, "error", "unreachable")
				wantEvidence(t, f, "errno", "EHOSTUNREACH")
				wantEvidence(t, f, "open_ports", []any{80.0, 443.0})
			},
		},
		{
			name: "everything dropped", rules: []lab.Rule{lab.DropIngest()}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"tcp.unreachable"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "tcp.unreachable")
				wantEvidence(t, f, "error", "timeout")
				wantEvidence(t, f, "open_ports", nil)
				// Three ports time out together, not one after another.
				if d, max := r.record(t).DurationSeconds, 2*probeTimeout.Seconds(); d > max {
					t.Errorf("record duration: got %.3f s; want under %.1f s (the ports are probed in parallel)", d, max)
				}
				t.Logf("measured: check with everything dropped returned in %.3f s wall (record duration_seconds %.3f)", r.wall.Seconds(), r.record(t).DurationSeconds)
			},
		},
		{
			name: "everything reset", rules: []lab.Rule{lab.ResetIngest()}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"tcp.refused"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "tcp.refused")
				wantEvidence(t, f, "port", 1935)
				wantEvidence(t, f, "errno", "ECONNREFUSED")
			},
		},
		{
			name: "everything admin-prohibited", rules: []lab.Rule{lab.ProhibitIngest()}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"tcp.unreachable"},
			check: func(t *testing.T, r run) {
				wantEvidence(t, r.finding(t, "tcp.unreachable"), "errno", "EHOSTUNREACH")
			},
		},
		{
			name: "tencent push domain without CNAME", url: tencent(lab.NameNoCNAME),
			exit: 1, verdict: record.NoGo, codes: []string{"dns.cname_missing"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "dns.cname_missing")
				wantEvidence(t, f, "host", lab.NameNoCNAME)
				wantEvidence(t, f, "provider", "tencent")
				// The network is fine; only the DNS setup is wrong.
				if got := openPorts(r.record(t)); !slices.Equal(got, []int{80, 443, 1935}) {
					t.Errorf("ports that connected: got %v; want [80 443 1935]", got)
				}
			},
		},
		{
			name: "tencent push domain CNAME to a playback domain", url: tencent(lab.NamePlayback),
			exit: 1, verdict: record.NoGo, codes: []string{"dns.cname_unexpected"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "dns.cname_unexpected")
				if f.Severity != record.Error {
					t.Errorf("severity: got %s; want error (a playback domain never accepts a push)", f.Severity)
				}
				wantEvidence(t, f, "cname", []any{"play.lab.test.tlivecdn.com"})
			},
		},
		{
			// The push goes to lb.lab.test, not to Tencent: an error, not a warning — unless the
			// team says lb.lab.test is its own front (the next case).
			name: "tencent push domain CNAME to one's own name", url: tencent(lab.NameOwnLB),
			exit: 1, verdict: record.NoGo, codes: []string{"dns.cname_unexpected"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "dns.cname_unexpected")
				if f.Severity != record.Error {
					t.Errorf("severity: got %s; want error (the chain misses every accepted push suffix)", f.Severity)
				}
				wantEvidence(t, f, "cname_final", "lb.lab.test")
				if !strings.Contains(f.Remedy, "extra_push_suffixes in [providers.tencent]") {
					t.Errorf("remedy %q: want it to name extra_push_suffixes in [providers.tencent]", f.Remedy)
				}
			},
		},
		{
			name:   "tencent push domain CNAME to one's own load balancer, listed in extra_push_suffixes",
			config: "[providers.tencent]\nextra_push_suffixes = [\".lb.lab.test\"]\n", url: tencent(lab.NameOwnLB),
			exit: 0, verdict: record.Go,
		},
		{
			name: "nxdomain", url: generic(lab.NameMissing),
			exit: 1, verdict: record.NoGo, codes: []string{"dns.nxdomain"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "dns.nxdomain")
				wantEvidence(t, f, "rcode", "NXDOMAIN")
				wantEvidence(t, f, "resolver", lab.ResolverAddr.String()+":53")
				if n := len(r.record(t).Results.TCP); n != 0 {
					t.Errorf("tcp results: got %d; want none for a name that does not exist", n)
				}
			},
		},
		{
			name: "resolver dropped", rules: []lab.Rule{lab.DropDNS()}, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"dns.timeout"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "dns.timeout")
				if !strings.Contains(f.Message, "no DNS answer") {
					t.Errorf("message %q: want it to say no DNS answer came", f.Message)
				}
			},
		},
		{
			name: "resolver stopped", stopDNS: true, url: generic(lab.NameOpen),
			exit: 1, verdict: record.NoGo, codes: []string{"dns.timeout"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "dns.timeout")
				if !strings.Contains(f.Message, "could not be reached") {
					t.Errorf("message %q: want it to say the resolver could not be reached", f.Message)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetFirewall(ctx, tt.rules...); err != nil {
				t.Fatal(err)
			}
			if tt.stopDNS {
				if err := l.StopDNS(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := l.StartDNS(context.Background()); err != nil {
						t.Errorf("restart dnsmasq: %v", err)
					}
				})
			}
			cfg := cfg
			if tt.config != "" {
				cfg = filepath.Join(t.TempDir(), "config.toml")
				if err := os.WriteFile(cfg, []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := runCheck(t, l, bin, "check", "--config", cfg, "--json", "--timeout", probeTimeout.String(), tt.url)
			r.expect(t, tt.exit, tt.verdict, tt.codes)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}

	// The same dropped port as a venue technician reads it: the checklist, not the JSON.
	t.Run("1935 dropped, human output", func(t *testing.T) {
		if err := l.SetFirewall(ctx, lab.DropPort(1935)); err != nil {
			t.Fatal(err)
		}
		r := runCheck(t, l, bin, "check", "--config", cfg, "--timeout", probeTimeout.String(), tencent(lab.NamePush))
		if r.exit != 1 {
			t.Errorf("exit code: got %d; want 1", r.exit)
		}
		for _, want := range []string{"rtmp://push.lab.test/live/<redacted>", "tcp.blocked", "port 1935 is silently dropped", "port 443", "NO-GO"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("checklist: want %q in\n%s", want, r.stdout)
			}
		}
		t.Logf("checklist:\n%s", r.stdout)
	})
}

// run is one run of the binary.
type run struct {
	stdout, stderr string
	exit           int
	wall           time.Duration
	doc            render.Document // when --json
}

func (r run) record(t *testing.T) record.Record {
	t.Helper()
	if len(r.doc.Targets) != 1 {
		t.Fatalf("targets: got %d; want 1\nstdout: %s\nstderr: %s", len(r.doc.Targets), r.stdout, r.stderr)
	}
	return r.doc.Targets[0]
}

// expect checks the exit code, the verdict (of the document and of its one target) and the
// target's error and warning codes, in order, and returns the target's record. Information
// findings (icmp.unavailable when the firewall drops echoes too) do not change the verdict; the
// scenarios pin errors and warnings.
func (r run) expect(t *testing.T, exit int, verdict record.Verdict, codes []string) record.Record {
	t.Helper()
	if r.exit != exit {
		t.Errorf("exit code: got %d; want %d\nstderr: %s", r.exit, exit, r.stderr)
	}
	rec := r.record(t)
	if r.doc.Verdict != verdict || rec.Verdict != verdict {
		t.Errorf("verdict: got %s (target %s); want %s", r.doc.Verdict, rec.Verdict, verdict)
	}
	var got []string
	for _, f := range rec.Findings {
		if f.Severity != record.Info {
			got = append(got, f.Code)
		}
	}
	if !slices.Equal(got, codes) {
		t.Errorf("findings: got %v; want %v\n%s", got, codes, r.stdout)
	}
	return rec
}

func (r run) finding(t *testing.T, code string) record.Finding {
	t.Helper()
	for _, f := range r.record(t).Findings {
		if f.Code == code {
			return f
		}
	}
	t.Fatalf("finding %s: got none\n%s", code, r.stdout)
	return record.Finding{}
}

// runCheck runs the binary in the venue namespace, bounded by checkBound, and checks what every
// run must hold: no secret in its output, and a JSON document when --json was asked for.
func runCheck(t *testing.T, l *lab.Lab, bin string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), checkBound)
	defer cancel()
	cmd := l.VenueCommand(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.exit = ee.ExitCode()
	default:
		t.Fatalf("run %s: %v (after %s)\nstderr: %s", filepath.Base(bin), err, r.wall, r.stderr)
	}
	for _, secret := range []string{streamKey, txSecret} {
		if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
			t.Errorf("output holds the secret %q:\nstdout: %s\nstderr: %s", secret, r.stdout, r.stderr)
		}
	}
	if slices.Contains(args, "--json") {
		if err := json.Unmarshal(stdout.Bytes(), &r.doc); err != nil {
			t.Fatalf("decode --json output: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
		}
	}
	return r
}

// binDir holds the binary, built once per test process (go test -count=N reuses it).
var (
	binDir   string
	binOnce  sync.Once
	builtBin string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds cmd/ingestprobe, as a user would run it, once per test process.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binError = os.MkdirTemp("", "ingestprobe-integration-")
		if binError != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		path := filepath.Join(binDir, "ingestprobe")
		out, err := exec.CommandContext(ctx, goTool(), "build", "-o", path, "github.com/ingestprobe/ingestprobe/cmd/ingestprobe").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		builtBin = path
		t.Logf("built %s in %.1f s", path, time.Since(start).Seconds())
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return builtBin
}

// goTool is the go command that runs this test, even when it is not in PATH (sudo, CI).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	for _, root := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if p := filepath.Join(root, "bin", "go"); root != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return "go"
}

// openPorts are the ports that connected, sorted.
func openPorts(rec record.Record) []int {
	var out []int
	for _, r := range rec.Results.TCP {
		if r.OK {
			out = append(out, r.Port)
		}
	}
	slices.Sort(out)
	return out
}

// wantEvidence compares one evidence value, as it reads after a JSON round trip (numbers are
// float64, lists []any). want nil means the key must be absent.
func wantEvidence(t *testing.T, f record.Finding, key string, want any) {
	t.Helper()
	got, ok := f.Evidence[key]
	if want == nil {
		if ok {
			t.Errorf("%s evidence %s: got %v; want none", f.Code, key, got)
		}
		return
	}
	if n, isInt := want.(int); isInt {
		want = float64(n)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !ok || !bytes.Equal(gb, wb) {
		t.Errorf("%s evidence %s: got %s; want %s (evidence %v)", f.Code, key, gb, wb, f.Evidence)
	}
}
