package metrics

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleRecords() []record.Record {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return []record.Record{
		{Agent: "enc1", Target: "main", Time: t0, DurationSeconds: 2.01, Verdict: record.NoGo, Labels: map[string]string{"venue": "berlin"},
			Findings: []record.Finding{{Code: "tcp.blocked", Severity: record.Error}, {Code: "dns.cname_unexpected", Severity: record.Error}, {Code: "net.packet_loss", Severity: record.Warning}},
			Results: record.Results{
				URL: &ingesturl.Lint{Probe: "url", Scheme: "rtmp", Expires: t0.Add(24 * time.Hour)},
				DNS: &dns.Result{Probe: "dns", Host: "push.example.com", Rcode: "NOERROR", A: []string{"192.0.2.1"}, DurationSeconds: 0.0031},
				TCP: []tcp.Result{
					{Probe: "tcp", Address: "192.0.2.1", Port: 1935, Role: "ingest", Error: tcp.Timeout, ConnectSeconds: 2},
					{Probe: "tcp", Address: "192.0.2.1", Port: 443, Role: "alternative", OK: true, ConnectSeconds: 0.0012},
					{Probe: "tcp", Address: "192.0.2.1", Port: 80, Role: "alternative", OK: true, ConnectSeconds: 0.0011},
				},
				Path: []path.Result{
					{Probe: "path", Address: "192.0.2.1", Port: 1935, Role: "ingest", OK: true, Sent: 8, Hops: []path.Hop{
						{TTL: 1, Address: "10.0.0.1", Answer: path.TimeExceeded}, {TTL: 2, Address: "198.51.100.1", Answer: path.TimeExceeded},
						{TTL: 3, Answer: path.NoAnswer}}},
					{Probe: "path", Address: "192.0.2.1", Port: 443, Role: "alternative", OK: true, Reached: true, ReachedTTL: 4},
				},
				ICMP: &icmp.Result{Probe: "icmp", Address: "192.0.2.1", Sent: 5, Received: 4, LossRatio: 0.2,
					RTTMinSeconds: 0.011, RTTAvgSeconds: 0.0125, RTTMaxSeconds: 0.015, RTTStddevSeconds: 0.0015}}},
		// backup's uplink soak, a minute before its latest check: the soak's series outlast the
		// checks that follow it.
		{Agent: "enc1", Target: "backup", Time: t0.Add(-time.Minute), DurationSeconds: 12.3, Verdict: record.Warn, Labels: map[string]string{"venue": "berlin"},
			Findings: []record.Finding{{Code: "uplink.no_headroom", Severity: record.Warning}},
			Results: record.Results{Uplink: &uplink.Result{Probe: "uplink", OK: true, MeasuredBy: "tcp_info", TargetBPS: 6_000_000, SentBPS: 7_500_000,
				AchievedBPS: 6_800_000, DurationSeconds: 10, RTTIdleSeconds: 0.012, RTTMinSeconds: 0.013, RTTAvgSeconds: 0.018, RTTMaxSeconds: 0.04,
				RetransmitRatio: 0.001, RecommendedMaxBPS: 5_400_000}}},
		{Agent: "enc1", Target: "backup", Time: t0, DurationSeconds: 0.004, Verdict: record.Go, Labels: map[string]string{"venue": "berlin"},
			Results: record.Results{TCP: []tcp.Result{
				{Probe: "tcp", Address: "192.0.2.2", Port: 1935, Role: "ingest", OK: true, ConnectSeconds: 0.0021},
			}, RTMP: &rtmp.Result{Probe: "rtmp", OK: true, Level: rtmp.LevelHandshake, HandshakeSeconds: 0.0012}}},
		// An SRT target whose passphrase is wrong: the ingest port is UDP, so the TCP connects are
		// all alternatives and there is no tcp success series; the stream id and passphrase are
		// nowhere (the result holds neither).
		{Agent: "enc1", Target: "srt-feed", Time: t0, DurationSeconds: 0.006, Verdict: record.NoGo, Labels: map[string]string{"venue": "berlin"},
			Findings: []record.Finding{{Code: "srt.rejected", Severity: record.Error}},
			Results: record.Results{
				TCP: []tcp.Result{
					{Probe: "tcp", Address: "192.0.2.3", Port: 443, Role: "alternative", OK: true, ConnectSeconds: 0.0011},
					{Probe: "tcp", Address: "192.0.2.3", Port: 80, Role: "alternative", Error: tcp.Refused, ConnectSeconds: 0.0009},
				},
				SRT: &srt.Result{Probe: "srt", Address: "192.0.2.3", Port: 9000, Phase: srt.PhaseConclusion, Error: srt.Rejected,
					RejectReason: srt.RejectBadSecret, RejectCode: 10, RTTSeconds: 0.0004, InductionSeconds: 0.0004, ConclusionSeconds: 0.0051}}},
		// A live window of "backup" (live = true): the encoder's connection, congested; its series
		// and findings join the target's run's.
		{Agent: "enc1", Target: "backup", Time: t0.Add(5 * time.Second), DurationSeconds: 5, Verdict: record.Warn, Labels: map[string]string{"venue": "berlin"},
			Findings: []record.Finding{{Code: "live.congested", Severity: record.Warning}},
			Results: record.Results{Live: &live.Result{Probe: "live", Ingest: "192.0.2.2:1935", WindowSeconds: 5, Publishers: 1, AckedBps: 1.2e6,
				RTTSeconds: 0.045, RetransmitRatio: 0.004, BacklogBytes: 300000, BacklogSeconds: 1.25, StreamBps: 1.92e6, ReconnectsTotal: 1,
				Connections: []live.Connection{{Local: "10.0.0.5:50000", Remote: "192.0.2.2:1935", Process: "obs"}}}}},
	}
}

// scrape serves the sample records on /metrics and returns the ingestprobe_ part of the scrape,
// without the build info (it names the Go version).
func scrape(t *testing.T) string {
	t.Helper()
	p := serveSamples(t)
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return ownSeries(string(b))
}

// serveSamples serves Handler with the sample records observed.
func serveSamples(t *testing.T) *httptest.Server {
	t.Helper()
	m := New("v1.0.0", "abc123", map[string]string{"agent": "enc1"})
	m.SetTargets(map[string]time.Duration{"main": 30 * time.Second, "backup": 30 * time.Second, "srt-feed": 30 * time.Second})
	for _, r := range sampleRecords() {
		m.Observe(r)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(m))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// ownSeries keeps the ingestprobe_ families of an exposition, without the build info.
func ownSeries(exposition string) string {
	var keep []string
	block := false
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, "# HELP ") {
			block = strings.HasPrefix(line, "# HELP ingestprobe_") && !strings.HasPrefix(line, "# HELP ingestprobe_build_info")
		}
		if block && line != "" {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n") + "\n"
}

// TestMetricsCompression: /metrics is gzip for a scraper that asks for it (as Prometheus does),
// plain otherwise, and the same exposition either way.
func TestMetricsCompression(t *testing.T) {
	p := serveSamples(t)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	get := func(acceptEncoding string) (http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("Accept-Encoding %q: %v", acceptEncoding, err)
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("Accept-Encoding %q: %v", acceptEncoding, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Accept-Encoding %q: %s", acceptEncoding, resp.Status)
		}
		return resp.Header, string(b)
	}
	_, plain := get("")
	if !strings.Contains(plain, "ingestprobe_target_verdict") {
		t.Fatalf("plain scrape without the catalogue:\n%s", plain)
	}
	for _, c := range []struct {
		accept string
		gzip   bool
	}{{"", false}, {"gzip", true}, {"deflate, gzip;q=0.5", true}, {"GZIP", true}, {"gzip;q=0", false}, {"identity", false}, {"br", false}} {
		h, body := get(c.accept)
		if got := h.Get("Content-Encoding") == "gzip"; got != c.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v; want %v", c.accept, got, c.gzip)
		}
		if !strings.Contains(h.Get("Vary"), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: Vary %q; want Accept-Encoding", c.accept, h.Get("Vary"))
		}
		if ownSeries(body) != ownSeries(plain) {
			t.Errorf("Accept-Encoding %q: exposition differs from the plain one:\n%s", c.accept, body)
		}
	}
}

// TestMetricCatalogue pins the metric names, labels and values of /metrics to a golden file
// (rewrite with -update), and has promtool lint it when installed.
func TestMetricCatalogue(t *testing.T) {
	got := scrape(t)
	const golden = "testdata/metrics.golden"
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("metrics differ from %s (run with -update if intended):\n%s", golden, got)
	}
	for _, forbidden := range []string{"rtmp://", "push.example.com", "192.0.2.1"} {
		if strings.Contains(got, forbidden) {
			t.Errorf("a metric label holds %q: labels must be bounded", forbidden)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (Debian package prometheus): lint skipped")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(got)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		// The uplink's rates are bits per second, the unit encoders, providers and issue 13 state
		// bitrates in; promtool's lint prefers bytes. That one complaint, for those two series, is
		// accepted; any other fails.
		var other []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if strings.HasPrefix(line, "ingestprobe_uplink_") && strings.HasSuffix(line, `_bits_per_second use base unit "bytes" instead of "bits"`) {
				continue
			}
			other = append(other, line)
		}
		if len(other) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, strings.Join(other, "\n"))
		}
	}
}

// TestRuntimeFamilies: /metrics carries the Go runtime's and the process's series under the names
// and types client_golang's collectors gave them (dashboards and rules written for those keep
// working), with the agent's own.
func TestRuntimeFamilies(t *testing.T) {
	p := serveSamples(t)
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q; want the text format 0.0.4", ct)
	}
	want := map[string]string{
		"go_gc_duration_seconds": "summary", "go_gc_gogc_percent": "gauge", "go_gc_gomemlimit_bytes": "gauge",
		"go_goroutines": "gauge", "go_info": "gauge", "go_memstats_alloc_bytes": "gauge",
		"go_memstats_alloc_bytes_total": "counter", "go_memstats_buck_hash_sys_bytes": "gauge",
		"go_memstats_frees_total": "counter", "go_memstats_gc_sys_bytes": "gauge", "go_memstats_heap_alloc_bytes": "gauge",
		"go_memstats_heap_idle_bytes": "gauge", "go_memstats_heap_inuse_bytes": "gauge", "go_memstats_heap_objects": "gauge",
		"go_memstats_heap_released_bytes": "gauge", "go_memstats_heap_sys_bytes": "gauge",
		"go_memstats_last_gc_time_seconds": "gauge", "go_memstats_mallocs_total": "counter",
		"go_memstats_mcache_inuse_bytes": "gauge", "go_memstats_mcache_sys_bytes": "gauge",
		"go_memstats_mspan_inuse_bytes": "gauge", "go_memstats_mspan_sys_bytes": "gauge", "go_memstats_next_gc_bytes": "gauge",
		"go_memstats_other_sys_bytes": "gauge", "go_memstats_stack_inuse_bytes": "gauge", "go_memstats_stack_sys_bytes": "gauge",
		"go_memstats_sys_bytes": "gauge", "go_sched_gomaxprocs_threads": "gauge", "go_threads": "gauge",
		"ingestprobe_build_info": "gauge",
	}
	if runtime.GOOS == "linux" {
		for n, typ := range map[string]string{"process_cpu_seconds_total": "counter", "process_max_fds": "gauge",
			"process_network_receive_bytes_total": "counter", "process_network_transmit_bytes_total": "counter",
			"process_open_fds": "gauge", "process_resident_memory_bytes": "gauge", "process_start_time_seconds": "gauge",
			"process_virtual_memory_bytes": "gauge", "process_virtual_memory_max_bytes": "gauge"} {
			want[n] = typ
		}
	}
	got := map[string]string{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			got[name] = typ
			order = append(order, name)
		}
	}
	for n, typ := range want {
		if got[n] != typ {
			t.Errorf("family %s: type %q; want %q", n, got[n], typ)
		}
	}
	if !slices.IsSorted(order) {
		t.Errorf("families not sorted by name: %v", order)
	}
	for _, s := range []string{`go_gc_duration_seconds{quantile="0.5"} `, "go_gc_duration_seconds_count ", `go_info{version="go`,
		`ingestprobe_build_info{agent="enc1",commit="abc123",goversion="go`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("no %q in the scrape", s)
		}
	}
}

// TestWriteExposition: label values and help are escaped as the text format wants, values formatted as
// Prometheus's own encoder does, series sorted by label values, empty families left out.
func TestWriteExposition(t *testing.T) {
	fams := []Family{
		{Name: "b", Help: "two\nlines \\ here", Type: typeCounter, Samples: []Sample{
			{Name: "b", Labels: []Label{{"k", "z"}}, Value: 1e21},
			{Name: "b", Labels: []Label{{"k", "a\"q\\\n"}}, Value: math.Inf(+1)},
		}},
		{Name: "a", Help: "h", Type: typeGauge, Samples: []Sample{{Name: "a", Value: 0.1}}},
		{Name: "empty", Help: "h", Type: typeGauge},
	}
	var buf bytes.Buffer
	if err := writeText(&buf, fams); err != nil {
		t.Fatal(err)
	}
	want := "# HELP a h\n# TYPE a gauge\na 0.1\n" +
		"# HELP b two\\nlines \\\\ here\n# TYPE b counter\nb{k=\"a\\\"q\\\\\\n\"} +Inf\nb{k=\"z\"} 1e+21\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestSelfSamples: the agent's own families become samples as a scrape reads them: counters and
// gauges with their constant labels, a summary as quantiles, _sum and _count.
func TestSelfSamples(t *testing.T) {
	c := newVec(typeCounter, "c_total", "h", nil, "sink")
	c.WithLabelValues("a").Add(3)
	g := newVec(typeGauge, "g", "h", []Label{{"agent", "enc1"}})
	g.WithLabelValues().Set(-2)
	sum := Family{Name: "s", Type: typeSummary, Samples: []Sample{
		{Name: "s", Labels: []Label{{"quantile", "0.5"}}, Value: 4}, {Name: "s_sum", Value: 4}, {Name: "s_count", Value: 1}}}
	got := SelfSamples([]Family{c.family(), g.family(), sum})
	var lines []string
	for _, x := range got {
		var ls []string
		for _, l := range x.Labels {
			ls = append(ls, l.Name+"="+l.Value)
		}
		lines = append(lines, fmt.Sprintf("%s{%s} %v", x.Name, strings.Join(ls, ","), x.Value))
	}
	want := []string{
		"c_total{sink=a} 3",
		"g{agent=enc1} -2",
		"s{quantile=0.5} 4", "s_sum{} 4", "s_count{} 1",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestRTMPSuccessWhenNotReached: an rtmp:// target whose DNS or ingest port failed has
// probe_success{probe="rtmp"} 0, not no series at all (an alert on == 0 would never see it);
// an srt:// target has none.
func TestRTMPSuccessWhenNotReached(t *testing.T) {
	rtmpSuccess := func(rec record.Record) (float64, bool) {
		for _, s := range TargetSamples(rec, 0) {
			if s.Name == mSuccess && slices.Contains(s.Labels, Label{"probe", "rtmp"}) {
				return s.Value, true
			}
		}
		return 0, false
	}
	lint := func(scheme string) *ingesturl.Lint { return &ingesturl.Lint{Probe: "url", Scheme: scheme} }
	for _, tt := range []struct {
		name    string
		res     record.Results
		want    float64
		present bool
	}{
		{"tcp refused", record.Results{URL: lint("rtmp"), DNS: &dns.Result{Probe: "dns", A: []string{"192.0.2.1"}},
			TCP: []tcp.Result{{Probe: "tcp", Address: "192.0.2.1", Port: 1935, Role: "ingest", Error: tcp.Refused}}}, 0, true},
		{"dns failed", record.Results{URL: lint("rtmps"), DNS: &dns.Result{Probe: "dns", Error: "nxdomain"}}, 0, true},
		{"reached", record.Results{URL: lint("rtmp"), TCP: []tcp.Result{{Probe: "tcp", Port: 1935, Role: "ingest", OK: true}},
			RTMP: &rtmp.Result{Probe: "rtmp", OK: true}}, 1, true},
		{"srt", record.Results{URL: lint("srt"), TCP: []tcp.Result{{Probe: "tcp", Port: 443, Role: "alternative"}}}, 0, false},
	} {
		v, ok := rtmpSuccess(record.Record{Agent: "a", Target: "t", Results: tt.res})
		if ok != tt.present || v != tt.want {
			t.Errorf("%s: rtmp success %v (present %v); want %v (present %v)", tt.name, v, ok, tt.want, tt.present)
		}
	}
}

// A live window whose publishers' statistics cannot be read (Windows without administrator
// rights) exports the publishers, not zeros for the rate, RTT, retransmits and backlog.
func TestLiveFiguresUnknown(t *testing.T) {
	names := func(l *live.Result) []string {
		var out []string
		for _, s := range TargetSamples(record.Record{Agent: "a", Target: "t", Results: record.Results{Live: l}}, 0) {
			if strings.HasPrefix(s.Name, "ingestprobe_live_") {
				out = append(out, s.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	blind := &live.Result{Probe: "live", Publishers: 1, UnknownConnections: 1, FiguresUnknown: live.WhyAdmin, StreamBps: 0}
	if got := names(blind); !slices.Equal(got, []string{mLivePublishers, mLiveReconnects}) {
		t.Errorf("figures unknown: %v; want publishers and reconnects only", got)
	}
	seen := &live.Result{Probe: "live", Publishers: 2, UnknownConnections: 1, FiguresUnknown: live.WhyAdmin, AckedBps: 1e6, StreamBps: 1e6}
	if got := names(seen); !slices.Contains(got, mLiveAcked) || !slices.Contains(got, mLiveRTT) {
		t.Errorf("one of two with figures: %v; want its figures", got)
	}
}
