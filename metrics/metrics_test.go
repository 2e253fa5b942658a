package metrics

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
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
				ICMP: &icmp.Result{Probe: "icmp", Address: "192.0.2.1", Sent: 5, Received: 4, LossRatio: 0.2,
					RTTMinSeconds: 0.011, RTTAvgSeconds: 0.0125, RTTMaxSeconds: 0.015, RTTStddevSeconds: 0.0015}}},
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
	m := New("v1.0.0", "abc123", prometheus.Labels{"agent": "enc1"})
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
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}
