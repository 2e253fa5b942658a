// Tests of what ships beside the binary: the alert rules and their unit tests, the Grafana
// dashboard, the cross-builds, and the .deb installed into a Debian root.
package packaging

import (
	"bytes"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
)

// pendingSeries are written against by the rules but not emitted yet. Empty: every series is.
var pendingSeries = map[string]bool{}

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	return p
}

// TestAlertRules: promtool accepts the rules, and their unit tests pass.
func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	for _, args := range [][]string{{"check", "rules", "prometheus/alerts.yml"}, {"test", "rules", "prometheus/alerts_test.yml"}} {
		out, err := exec.Command(pt, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type ruleTests struct {
	Tests []struct {
		Name        string `yaml:"name"`
		InputSeries []struct {
			Series string `yaml:"series"`
		} `yaml:"input_series"`
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestAlertCoverage: every alert has a unit test where it fires and one where it stays silent,
// and its annotations name a summary, a description and a runbook section that exists.
func TestAlertCoverage(t *testing.T) {
	var rules ruleFile
	var tests ruleTests
	readYAML(t, "prometheus/alerts.yml", &rules)
	readYAML(t, "prometheus/alerts_test.yml", &tests)
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := headingAnchors(string(runbooks))
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !fires[r.Alert] || !silent[r.Alert] {
				t.Errorf("%s: a unit test where it fires: %v, where it is silent: %v; want both", r.Alert, fires[r.Alert], silent[r.Alert])
			}
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[k] == "" {
					t.Errorf("%s: no %s", r.Alert, k)
				}
			}
			const prefix = "https://github.com/ingestprobe/ingestprobe/blob/main/docs/runbooks.md#"
			u := r.Annotations["runbook_url"]
			if !strings.HasPrefix(u, prefix) || !anchors[strings.TrimPrefix(u, prefix)] {
				t.Errorf("%s: runbook_url %s is not a section of docs/runbooks.md", r.Alert, u)
			}
		}
	}
	if n < 6 {
		t.Errorf("got %d alerts; want at least the 6 of the issue", n)
	}
}

// headingAnchors are the GitHub anchors of a markdown file's headings.
func headingAnchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		h = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(h, "")
		out[strings.ReplaceAll(h, " ", "-")] = true
	}
	return out
}

// emitted is every series shape the agent exports: metric name → label-name sets ("a,b,c").
func emitted(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	add := func(name string, labels []string) {
		sort.Strings(labels)
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		out[name][strings.Join(labels, ",")] = true
	}
	t0 := time.Unix(1_800_000_000, 0)
	for _, static := range []map[string]string{nil, {"venue": "berlin"}} {
		rec := record.Record{Agent: "enc1", Target: "main", Time: t0, Verdict: record.NoGo, Labels: static,
			Findings: []record.Finding{{Code: "tcp.blocked", Severity: record.Error}},
			Results: record.Results{
				DNS:  &dns.Result{Probe: "dns", Host: "h", A: []string{"192.0.2.1"}},
				TCP:  []tcp.Result{{Probe: "tcp", Address: "192.0.2.1", Port: 1935, OK: true}},
				ICMP: &icmp.Result{Probe: "icmp", Address: "192.0.2.1", Sent: 5, Received: 5},
				URL:  &ingesturl.Lint{Probe: "url", Scheme: "rtmp", Expires: t0.Add(time.Hour)},
				RTMP: &rtmp.Result{Probe: "rtmp", OK: true, HandshakeSeconds: 0.001},
				Uplink: &uplink.Result{Probe: "uplink", OK: true, TargetBPS: 6_000_000, AchievedBPS: 7_000_000,
					RTTIdleSeconds: 0.01, RTTMinSeconds: 0.01, RTTAvgSeconds: 0.02, RTTMaxSeconds: 0.03},
			}}
		// A live window (live = true targets) of the same target.
		win := record.Record{Agent: "enc1", Target: "main", Time: t0, Verdict: record.NoGo, Labels: static,
			Findings: []record.Finding{{Code: "live.stalled", Severity: record.Error}},
			Results:  record.Results{Live: &live.Result{Probe: "live", Publishers: 1, StreamBps: 1e6, AckedBps: 1e6}}}
		for _, s := range append(metrics.TargetSamples(rec, 30*time.Second), metrics.TargetSamples(win, 30*time.Second)...) {
			var names []string
			for _, l := range s.Labels {
				names = append(names, l.Name)
			}
			add(s.Name, names)
		}
	}
	// The agent's own series carry its static labels too (cmd/ingestprobe's newDaemon).
	for _, static := range []map[string]string{{"agent": "enc1"}, {"agent": "enc1", "venue": "berlin"}} {
		m := metrics.New("v", "c", static)
		m.Dropped.WithLabelValues("remote_write").Add(1)
		m.Queue.WithLabelValues("remote_write").Set(1)
		for _, f := range m.Families() {
			for _, s := range f.Samples {
				var names []string
				for _, l := range s.Labels {
					names = append(names, l.Name)
				}
				add(s.Name, names)
			}
		}
	}
	return out
}

var seriesRE = regexp.MustCompile(`^([a-z_:][a-z0-9_:]*)\{(.*)\}$`)
var labelRE = regexp.MustCompile(`([a-z_][a-z0-9_]*)="([^"]*)"`)

// TestAlertSeriesAreEmitted: the unit tests feed the rules series with exactly the names and
// labels the agent exports (metrics.TargetSamples and the self-metrics), finding codes from the
// catalogue — so a rule that passes its tests matches what a real agent sends.
func TestAlertSeriesAreEmitted(t *testing.T) {
	shapes := emitted(t)
	var tests ruleTests
	readYAML(t, "prometheus/alerts_test.yml", &tests)
	for _, tc := range tests.Tests {
		for _, in := range tc.InputSeries {
			m := seriesRE.FindStringSubmatch(in.Series)
			if m == nil {
				t.Errorf("%s: cannot read series %q", tc.Name, in.Series)
				continue
			}
			var names []string
			for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
				names = append(names, l[1])
				if l[1] == "code" && !diagnose.Known(l[2]) {
					t.Errorf("%s: finding code %q is not in the catalogue", tc.Name, l[2])
				}
			}
			sort.Strings(names)
			if pendingSeries[m[1]] {
				continue
			}
			if !shapes[m[1]][strings.Join(names, ",")] {
				t.Errorf("%s: series %s{%s} is not one the agent emits (it emits %s with %v)", tc.Name, m[1], strings.Join(names, ","), m[1], keys(shapes[m[1]]))
			}
		}
	}
	// And the rules' and dashboard's metric names exist.
	for _, f := range []string{"prometheus/alerts.yml", "grafana/ingestprobe.json"} {
		b, _ := os.ReadFile(f)
		for _, name := range regexp.MustCompile(`ingestprobe_[a-z_]+`).FindAllString(string(b), -1) {
			if _, ok := shapes[name]; !ok && !pendingSeries[name] {
				t.Errorf("%s: uses %s, which the agent does not emit", f, name)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDashboard: the dashboard is valid JSON with the panels the issue asks for, and every query
// parses as PromQL (promtool checks them as recording rules, template variables filled in).
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/ingestprobe.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var titles, exprs []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, want := range []string{"GO / NO-GO", "round trip", "packet loss", "Active findings"} {
		if !slices.ContainsFunc(titles, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no panel titled like %q in %v", want, titles)
		}
	}
	pt := promtool(t)
	r := strings.NewReplacer("$agent", ".*", "$venue", ".*", "$__rate_interval", "1m")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(r.Replace(e))
		fmt.Fprintf(&rules, "      - record: dashboard:query%d\n        expr: %s\n", i, q)
	}
	f := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	os.WriteFile(f, []byte(rules.String()), 0o644)
	if out, err := exec.Command(pt, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("a dashboard query does not parse: %v\n%s", err, out)
	}
}

// TestCrossBuild runs `make cross` and checks each binary is for its platform.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds take a while")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-C", "..", "cross")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make cross: %v\n%s", err, out)
	}
	check := map[string]func(string) error{
		"../bin/windows-amd64/ingestprobe.exe": func(p string) error {
			f, err := pe.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
				return fmt.Errorf("machine %#x", f.Machine)
			}
			return nil
		},
		"../bin/darwin-arm64/ingestprobe": func(p string) error {
			f, err := macho.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if f.Cpu != macho.CpuArm64 {
				return fmt.Errorf("cpu %v", f.Cpu)
			}
			return nil
		},
		"../bin/linux-arm64/ingestprobe": func(p string) error {
			f, err := elf.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 {
				return fmt.Errorf("machine %v", f.Machine)
			}
			return nil
		},
	}
	for p, ok := range check {
		if err := ok(p); err != nil {
			t.Errorf("%s: %v; want a binary for its platform", p, err)
		}
	}
}

// run runs a command with a deadline and returns its combined output.
func run(t *testing.T, d time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func fileBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// debootstrapRoot builds a minimal Debian bookworm (plus procps, which the package depends on, and
// systemd, whose systemctl and units the maintainer scripts and systemd-analyze use offline) in a
// temporary directory removed at the end. INGESTPROBE_DEBOOTSTRAP_CACHE names a directory that
// keeps the downloaded .debs between runs; INGESTPROBE_DEBIAN_MIRROR another mirror. It returns
// an error instead of failing the test, so it can run beside the package build.
func debootstrapRoot(t *testing.T) (string, error) {
	dir, err := os.MkdirTemp("", "ingestprobe-debroot")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() {
		// Mounts are made only in private mount namespaces; never remove a tree with one inside.
		mi, _ := os.ReadFile("/proc/self/mountinfo")
		if bytes.Contains(mi, []byte(dir)) {
			t.Errorf("%s still has a mount: not removed", dir)
			return
		}
		os.RemoveAll(dir)
	})
	root := filepath.Join(dir, "root")
	mirror := os.Getenv("INGESTPROBE_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = "http://deb.debian.org/debian"
	}
	args := []string{"--variant=minbase", "--include=procps,systemd"}
	if c := os.Getenv("INGESTPROBE_DEBOOTSTRAP_CACHE"); c != "" {
		os.MkdirAll(c, 0o755)
		args = append(args, "--cache-dir="+c)
	}
	args = append(args, "bookworm", root, mirror)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, "debootstrap", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("debootstrap: %w\n%s", err, out)
	}
	t.Logf("debootstrap: %s", time.Since(t0).Round(time.Second))
	return root, nil
}

// inRoot runs a command chrooted into root, in a private mount namespace with its own /proc
// (systemctl and the Go runtime read it); the mount disappears with the process.
func inRootCmd(root string, args ...string) *exec.Cmd {
	a := append([]string{"--mount", "--propagation", "private", "--", "sh", "-ec",
		`mount -t proc proc "$0/proc"; exec chroot "$0" "$@"`, root}, args...)
	return exec.Command("unshare", a...)
}

func inRoot(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := inRootCmd(root, args...)
	done := make(chan struct{})
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill(); close(done) })
	out, err := cmd.CombinedOutput()
	if !timer.Stop() {
		<-done
	}
	if err != nil {
		t.Fatalf("in root: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type account struct{ uid, gid, home, shell string }

func lookupAccount(t *testing.T, root, name string) (account, bool) {
	t.Helper()
	for _, line := range strings.Split(string(fileBytes(t, filepath.Join(root, "etc/passwd"))), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == name {
			return account{uid: f[2], gid: f[3], home: f[5], shell: f[6]}, true
		}
	}
	return account{}, false
}

// TestIntegrationPackage builds the .deb and .rpm with `make package`, installs the .deb into a
// Debian root made by debootstrap, and checks what it laid down — user, unit, conffile, state
// directory, enablement — that systemd-analyze accepts the unit, that the agent runs there as the
// unit runs it (user ingestprobe, CAP_NET_RAW only: it waits on the shipped config, then probes
// with raw ICMP after a reload), and that reinstall, remove and purge keep or remove what they
// should. Then `ingestprobe service install` in the same root, under a systemd it detects.
func TestIntegrationPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("integration: needs root (debootstrap, chroot, dpkg)")
	}
	for tool, pkg := range map[string]string{"debootstrap": "debootstrap", "unshare": "util-linux", "make": "make", "setpriv": "util-linux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("integration: needs %s (Debian package %s)", tool, pkg)
		}
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("integration: packages are built for amd64 and arm64, not %s", runtime.GOARCH)
	}
	// Both at once: the packages build while debootstrap downloads.
	type built struct {
		root string
		err  error
	}
	rootc := make(chan built, 1)
	go func() {
		r, err := debootstrapRoot(t)
		rootc <- built{r, err}
	}()
	dist := t.TempDir()
	run(t, 3*time.Minute, "make", "-C", "..", "package", "DIST="+dist, "VERSION=v9.8.7-test", "COMMIT=abc1234")
	deb := filepath.Join(dist, "ingestprobe_9.8.7.test_"+runtime.GOARCH+".deb")
	rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	rpm := filepath.Join(dist, "ingestprobe-9.8.7.test-1."+rpmArch+".rpm")
	if b := fileBytes(t, rpm); !bytes.HasPrefix(b, []byte{0xed, 0xab, 0xee, 0xdb}) {
		t.Errorf("%s is not an rpm", rpm)
	}
	b := <-rootc
	if b.err != nil {
		t.Fatal(b.err)
	}
	root := b.root
	os.WriteFile(filepath.Join(root, "tmp/ingestprobe.deb"), fileBytes(t, deb), 0o644)

	out := inRoot(t, root, "dpkg", "-i", "/tmp/ingestprobe.deb")
	if !strings.Contains(out, "It has no target yet and waits") {
		t.Errorf("postinst did not tell what to do next:\n%s", out)
	}
	acct, ok := lookupAccount(t, root, "ingestprobe")
	if uid, _ := strconv.Atoi(acct.uid); !ok || uid >= 1000 || uid == 0 || acct.home != "/var/lib/ingestprobe" || !strings.HasSuffix(acct.shell, "nologin") {
		t.Errorf("got account %+v (found %v); want a system user with no login", acct, ok)
	}
	if v := inRoot(t, root, "/usr/bin/ingestprobe", "version"); v != "ingestprobe v9.8.7-test (commit abc1234)\n" {
		t.Errorf("got version %q; want the stamped version and commit", v)
	}
	if !bytes.Equal(fileBytes(t, filepath.Join(root, "usr/lib/systemd/system/ingestprobe.service")), fileBytes(t, "systemd/ingestprobe.service")) {
		t.Error("the installed unit differs from packaging/systemd/ingestprobe.service")
	}
	cfg := filepath.Join(root, "etc/ingestprobe/config.toml")
	if !bytes.Equal(fileBytes(t, cfg), fileBytes(t, "config.toml")) {
		t.Error("the installed config differs from packaging/config.toml")
	}
	if uid, gid, mode := ownerOf(t, cfg); uid != "0" || gid != acct.gid || mode.Perm() != 0o640 {
		t.Errorf("config: got owner %s:%s mode %v; want root:ingestprobe 0640 (it holds stream keys)", uid, gid, mode.Perm())
	}
	if cf := inRoot(t, root, "dpkg-query", "-W", "-f", "${Conffiles}", "ingestprobe"); !strings.Contains(cf, "/etc/ingestprobe/config.toml") {
		t.Errorf("got conffiles %q; want the config among them (upgrades keep edits)", cf)
	}
	if uid, gid, mode := ownerOf(t, filepath.Join(root, "var/lib/ingestprobe")); uid != acct.uid || gid != acct.gid || mode.Perm() != 0o750 {
		t.Errorf("state dir: got %s:%s %v; want ingestprobe:ingestprobe 0750", uid, gid, mode.Perm())
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ingestprobe.service")
	if target, err := os.Readlink(wants); err != nil || !strings.HasSuffix(target, "/systemd/system/ingestprobe.service") {
		t.Errorf("got enable link %q %v; want the unit enabled for multi-user.target", target, err)
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		out, _ := exec.Command(analyze, "verify", "--root="+root, "/usr/lib/systemd/system/ingestprobe.service").CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "ingestprobe") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	} else {
		t.Log("systemd-analyze not installed on this host (Debian package systemd): unit not verified")
	}

	t.Run("runs as the unit runs it", func(t *testing.T) { runLikeUnit(t, root, cfg) })

	// Reinstall: the edited config stays, the user is the same.
	edited := fileBytes(t, cfg)
	inRoot(t, root, "dpkg", "-i", "/tmp/ingestprobe.deb")
	if again, _ := lookupAccount(t, root, "ingestprobe"); again != acct || !bytes.Equal(fileBytes(t, cfg), edited) {
		t.Errorf("reinstall: got account %+v and config changed %v; want both kept", again, !bytes.Equal(fileBytes(t, cfg), edited))
	}
	// Remove: program, unit and enablement go; config, spool and user stay.
	inRoot(t, root, "dpkg", "-r", "ingestprobe")
	for _, p := range []string{"usr/bin/ingestprobe", "usr/lib/systemd/system/ingestprobe.service", "etc/systemd/system/multi-user.target.wants/ingestprobe.service"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("remove left /%s", p)
		}
	}
	for _, p := range []string{"etc/ingestprobe/config.toml", "var/lib/ingestprobe/records.jsonl"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("remove deleted /%s: %v; want it kept", p, err)
		}
	}
	// Purge: config and state go too.
	inRoot(t, root, "dpkg", "-P", "ingestprobe")
	for _, p := range []string{"etc/ingestprobe", "var/lib/ingestprobe"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("purge left /%s", p)
		}
	}

	t.Run("service install", func(t *testing.T) { serviceInstall(t, root) })
}

// runLikeUnit runs the installed agent as the unit does — user ingestprobe, CAP_NET_RAW as its
// only capability, no new privileges — on the shipped config (it must wait, not exit), then
// reloads it with a loopback target: records appear with ICMP measured.
func runLikeUnit(t *testing.T, root, cfg string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	logPath := filepath.Join(t.TempDir(), "stderr")
	logf, _ := os.Create(logPath)
	t.Cleanup(func() { logf.Close() })
	logs := func() string { return string(fileBytes(t, logPath)) }
	cmd := inRootCmd(root, "setpriv", "--reuid=ingestprobe", "--regid=ingestprobe", "--clear-groups",
		"--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw", "--bounding-set=-all,+net_raw", "--no-new-privs",
		"/usr/bin/ingestprobe", "service", "run", "--config", "/etc/ingestprobe/config.toml")
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	waitFor(t, 10*time.Second, "the agent to say it waits for targets", func() bool {
		return strings.Contains(logs(), "no [[targets]] in the config")
	})
	// unshare, sh, chroot and setpriv exec one another: the pid is the agent's.
	status := string(fileBytes(t, fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)))
	for _, want := range []string{"CapEff:\t0000000000002000", "CapBnd:\t0000000000002000", "CapAmb:\t0000000000002000", "NoNewPrivs:\t1"} {
		if !strings.Contains(status, want) {
			t.Errorf("agent's /proc status lacks %q (CAP_NET_RAW = 0x2000 only):\n%s", want, status)
		}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	conf := fmt.Sprintf("[agent]\nid = \"pkgtest\"\ninterval = \"1s\"\ntimeout = \"900ms\"\n"+
		"[[targets]]\nname = \"loop\"\nurl = \"rtmp://127.0.0.1:%d/live/k\"\nalt_ports = []\nicmp_count = 2\nrtmp = \"off\"\n"+
		"[[sinks]]\ntype = \"jsonl\"\npath = \"/var/lib/ingestprobe/records.jsonl\"\n", port)
	if err := os.WriteFile(cfg, []byte(conf), 0o640); err != nil { // keeps owner and mode
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	var rec record.Record
	waitFor(t, 15*time.Second, "a record with ICMP measured", func() bool {
		b, err := os.ReadFile(filepath.Join(root, "var/lib/ingestprobe/records.jsonl"))
		if err != nil {
			return false
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return json.Unmarshal([]byte(lines[len(lines)-1]), &rec) == nil && rec.Results.ICMP != nil
	})
	i := rec.Results.ICMP
	t.Logf("record %s: verdict %s; icmp privileged=%v %d/%d answered, avg rtt %.3f ms", rec.ID, rec.Verdict, i.Privileged, i.Received, i.Sent, i.RTTAvgSeconds*1000)
	if rec.Verdict != record.Go || i.Error != "" || i.Sent == 0 || i.Received != i.Sent {
		t.Errorf("got verdict %s, ICMP %+v; want go and every echo answered\n%s", rec.Verdict, i, logs())
	}
	if outsidePingGroups(t, root) && !i.Privileged {
		t.Errorf("got an unprivileged ICMP socket; want the raw one CAP_NET_RAW allows (ping_group_range excludes the user)")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", exitErr, logs())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("the agent did not stop within 15 s of SIGTERM")
	}
}

// outsidePingGroups says the ingestprobe group may not open ping sockets on this host.
func outsidePingGroups(t *testing.T, root string) bool {
	acct, _ := lookupAccount(t, root, "ingestprobe")
	gid, _ := strconv.Atoi(acct.gid)
	var lo, hi int
	fmt.Sscan(string(fileBytes(t, "/proc/sys/net/ipv4/ping_group_range")), &lo, &hi)
	return gid < lo || gid > hi
}

// systemctlShim stands in for systemctl in the root, where no systemd runs: enabling, disabling
// and listing unit files go to the root's real systemctl (offline, with --root); reload, start,
// stop and is-active — which need a running systemd — are recorded and simulated.
const systemctlShim = `#!/bin/sh
echo "$*" >> /var/log/systemctl-shim.log
case "$1" in
  enable|disable|list-unit-files) exec /usr/bin/systemctl --root=/ "$@" ;;
  --version) exec /usr/bin/systemctl --version ;;
  daemon-reload) exit 0 ;;
  start|restart) touch /run/shim-active; exit 0 ;;
  stop) rm -f /run/shim-active; exit 0 ;;
  is-active) if [ -f /run/shim-active ]; then echo active; exit 0; fi; echo inactive; exit 3 ;;
esac
echo "systemctl shim: $* not simulated" >&2
exit 1
`

// serviceInstall runs `ingestprobe service install` from /usr/local/bin in the root, with
// /run/systemd/system present so kardianos detects systemd as on a booted host, and the
// systemctl shim first in PATH.
func serviceInstall(t *testing.T, root string) {
	os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "usr/local/sbin/systemctl"), []byte(systemctlShim), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	inRoot(t, root, "userdel", "ingestprobe")
	exe := filepath.Join(root, "usr/local/bin/ingestprobe")
	os.MkdirAll(filepath.Dir(exe), 0o755)
	if err := os.WriteFile(exe, fileBytes(t, "../bin/linux-"+runtime.GOARCH+"/ingestprobe"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := inRoot(t, root, "/usr/local/bin/ingestprobe", "service", "install")
	for _, want := range []string{"created system user ingestprobe", "wrote a default config /etc/ingestprobe/config.toml",
		"installed the linux-systemd service (/etc/systemd/system/ingestprobe.service), enabled at boot", "started the service",
		"no [[targets]] in /etc/ingestprobe/config.toml yet: the service waits"} {
		if !strings.Contains(out, want) {
			t.Errorf("install said:\n%s\nwant %q", out, want)
		}
	}
	unit := filepath.Join(root, "etc/systemd/system/ingestprobe.service")
	want := strings.ReplaceAll(string(fileBytes(t, "systemd/ingestprobe.service")), "/usr/bin/ingestprobe", "/usr/local/bin/ingestprobe")
	if string(fileBytes(t, unit)) != want {
		t.Errorf("installed unit differs from the packaged one with /usr/local/bin:\n%s", fileBytes(t, unit))
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ingestprobe.service")
	if _, err := os.Lstat(wants); err != nil {
		t.Errorf("unit not enabled: %v", err)
	}
	acct, ok := lookupAccount(t, root, "ingestprobe")
	cfg := filepath.Join(root, "etc/ingestprobe/config.toml")
	if uid, gid, mode := ownerOf(t, cfg); !ok || uid != "0" || gid != acct.gid || mode.Perm() != 0o640 {
		t.Errorf("config: got %s:%s %v; want root:ingestprobe 0640", uid, gid, mode.Perm())
	}
	if uid, _, _ := ownerOf(t, filepath.Join(root, "var/lib/ingestprobe")); uid != acct.uid {
		t.Errorf("state dir owned by %s; want ingestprobe (%s)", uid, acct.uid)
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		out, _ := exec.Command(analyze, "verify", "--root="+root, "/etc/systemd/system/ingestprobe.service").CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "ingestprobe") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	}

	calls := string(fileBytes(t, filepath.Join(root, "var/log/systemctl-shim.log")))
	for _, want := range []string{"enable ingestprobe.service", "daemon-reload", "start ingestprobe.service"} {
		if !strings.Contains(calls, want+"\n") {
			t.Errorf("systemctl was not asked to %q:\n%s", want, calls)
		}
	}

	out = inRoot(t, root, "/usr/local/bin/ingestprobe", "service", "install")
	if !strings.Contains(out, "already installed (/etc/systemd/system/ingestprobe.service): unchanged") || !strings.Contains(out, "the service is running") ||
		strings.Contains(out, "created") || strings.Contains(out, "wrote") {
		t.Errorf("second install said:\n%s\nwant unchanged, running, nothing created", out)
	}
	if out := inRoot(t, root, "/usr/local/bin/ingestprobe", "service", "status"); !strings.Contains(out, "ingestprobe service (linux-systemd): running") {
		t.Errorf("status said:\n%s", out)
	}

	out = inRoot(t, root, "/usr/local/bin/ingestprobe", "service", "uninstall")
	if _, err := os.Lstat(unit); err == nil || !strings.Contains(out, "removed the linux-systemd service") {
		t.Errorf("uninstall said:\n%s\nunit still there: %v", out, err == nil)
	}
	if _, err := os.Lstat(wants); err == nil {
		t.Error("uninstall left the unit enabled")
	}
	if _, err := os.Stat(cfg); err != nil {
		t.Errorf("uninstall removed the config: %v", err)
	}
	inRoot(t, root, "/usr/local/bin/ingestprobe", "service", "uninstall", "--purge")
	for _, p := range []string{"etc/ingestprobe", "var/lib/ingestprobe"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("uninstall --purge left /%s", p)
		}
	}
}

// waitFor polls cond every 50 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
