package bench

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ingestprobe/ingestprobe/internal/lab"
)

func TestMain(m *testing.M) {
	if IsChild() { // the listener and scale children are this test binary again
		ChildMain()
	}
	goleak.VerifyTestMain(m)
}

func TestPercentile(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i) // 100 … 1, unsorted
	}
	d := DistOf(xs)
	tests := []struct {
		name      string
		got, want float64
	}{
		{"p50", d.P50, 50},
		{"p99", d.P99, 99},
		{"max", d.Max, 100},
		{"n", float64(d.N), 100},
		{"p99 of 3", Percentile([]float64{1, 2, 3}, 99), 3},
		{"p50 of 1", Percentile([]float64{7}, 50), 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v; want %v", tt.got, tt.want)
			}
		})
	}
	if e := DistOf(nil); e.N != 0 || !math.IsNaN(e.P50) {
		t.Errorf("empty sample: got %+v; want n 0 and NaN", e)
	}
}

func TestParseProc(t *testing.T) {
	// A command name with a space and a parenthesis, as /proc allows.
	stat := "1234 (my (prog) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 9 0 4242 1000000 2500 18446744073709551615"
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 3800*time.Millisecond {
		t.Errorf("parseStatCPU: got %v, %v; want 3.8s (250+130 ticks)", cpu, err)
	}
	if _, err := parseStatCPU("1234 (x) S 1 2"); err == nil {
		t.Errorf("parseStatCPU of a short line: got no error; want one")
	}
	m := parseStatusMem("Name:\tx\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nRssAnon:\t    4096 kB\nThreads:\t9\n")
	if m["VmRSS"] != 10<<20 || m["VmHWM"] != 20<<20 || m["RssAnon"] != 4<<20 || len(m) != 3 {
		t.Errorf("parseStatusMem: got %v; want VmRSS %d, VmHWM %d, RssAnon %d and nothing else", m, 10<<20, 20<<20, 4<<20)
	}
	s, err := ReadProc(os.Getpid())
	if n := parseStatusThreads("Name:\tx\nThreads:\t9\nVmRSS:\t 1 kB\n"); n != 9 {
		t.Errorf("parseStatusThreads: got %d; want 9", n)
	}
	if err != nil || s.RSS <= 0 || s.HWM < s.RSS || s.Threads < 1 {
		t.Errorf("ReadProc(self): got %+v, %v; want RSS > 0 and HWM ≥ RSS", s, err)
	}
}

func TestParseBlackboxProbe(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    BlackboxProbe
		wantErr bool
	}{
		{"success", "# HELP probe_success x\n# TYPE probe_success gauge\nprobe_success 1\nprobe_duration_seconds 0.000213\nprobe_ip_protocol 4\n", BlackboxProbe{true, 0.000213}, false},
		{"failure", "probe_duration_seconds 5.0001\nprobe_success 0\n", BlackboxProbe{false, 5.0001}, false},
		{"missing duration", "probe_success 1\n", BlackboxProbe{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBlackboxProbe([]byte(tt.in))
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("got %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseSpoolBench(t *testing.T) {
	out := `goos: linux
BenchmarkSpoolAppend/every-append-2         	    1000	   1500000 ns/op	   0.20 MB/s	       666.0 results/s
BenchmarkSpoolAppend/interval-2             	  300000	      7000 ns/op	  42.86 MB/s	    142857 results/s
BenchmarkSpoolReplay/interval-2             	      10	 250000000 ns/op	    400000 results/s
BenchmarkSpoolRecovery-2                    	      50	  25000000 ns/op	        25.00 ms/reopen	   4000000 records/s
PASS`
	var f SpoolFigures
	if err := parseSpoolBench(out, &f); err != nil {
		t.Fatal(err)
	}
	if f.AppendPerS["interval"] != 142857 || f.AppendPerS["every-append"] != 666 || f.ReplayPerS["interval"] != 400000 ||
		f.RecoveryMS != 25 || f.RecoveryRecords != 4e6 {
		t.Errorf("got %+v; want append 142857/666, replay 400000, recovery 25 ms at 4e6 records/s", f)
	}
	if err := parseSpoolBench("PASS\n", &f); err == nil {
		t.Errorf("no benchmark lines: got no error; want one")
	}
}

func TestCountRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	lines := `{"target":"a","time":"2026-01-01T00:00:01Z","verdict":"go","results":[{"probe":"dns"},{"probe":"tcp"},{"probe":"tcp","error":"timeout"}]}
{"target":"b","time":"2026-01-01T00:00:05Z","verdict":"no-go","results":[{"probe":"tcp"}]}
{"target":"c","time":"2026-01-01T00:00:09Z","verdict":"go","results":[{"probe":"rtmp"}]}
{"target":"d","time":"2026-01-01T00:00:08Z","verdict":"go","results":[{"probe":"url"},{"probe":"rtmp"}]}
`
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := CountRecords(path, from, from.Add(9*time.Second)) // c is outside [from, to)
	if err != nil {
		t.Fatal(err)
	}
	if c.Records != 3 || c.Probes != 5 || c.ByProbe["tcp"] != 3 || c.ByProbe["dns"] != 1 || c.ByProbe["url"] != 1 || c.Failed != 1 || c.Verdicts["no-go"] != 1 {
		t.Errorf("got %+v; want 3 records, 5 network probes (dns 1, tcp 3, rtmp 1; the url lint listed, not counted), 1 failed, 1 no-go", c)
	}
}

// TestListenersServeRTMPHandshake: the RTMP listener answers C0C1 with S0, S1 and an S2 that
// echoes C1, as the RTMP probe expects of a real server.
func TestListenersServeRTMPHandshake(t *testing.T) {
	port, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	srv, err := Serve(t.Context(), ListenSpec{RTMP: []netip.AddrPort{ap}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := net.DialTimeout("tcp", ap.String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c1 := make([]byte, 1+rtmpHandshakeSize)
	c1[0] = 3
	for i := range c1[1:] {
		c1[1+i] = byte(i * 7)
	}
	if _, err := c.Write(c1); err != nil {
		t.Fatal(err)
	}
	s := make([]byte, 1+2*rtmpHandshakeSize)
	if _, err := io.ReadFull(c, s); err != nil {
		t.Fatalf("reading S0S1S2: %v", err)
	}
	if s[0] != 3 || string(s[1+rtmpHandshakeSize:]) != string(c1[1:]) {
		t.Errorf("got S0 %d and an S2 that %s C1; want S0 3 and S2 = C1", s[0], map[bool]string{true: "equals", false: "differs from"}[string(s[1+rtmpHandshakeSize:]) == string(c1[1:])])
	}
}

// TestBenchHarnessSmoke runs every phase with tiny sizes for a second or two each, and checks that
// each produced its figures — not what they are: timings on a shared machine prove nothing here.
// Phases whose tools are missing (not root, no blackbox_exporter …) are skipped with the reason.
func TestBenchHarnessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke of the benchmark harness: builds the binary and runs each phase for seconds")
	}
	if runtime.GOOS != "linux" {
		t.Skip("bench smoke: the suite measures through /proc, TCP_INFO and network namespaces, on Linux only")
	}
	for _, tool := range []string{"dnsmasq"} {
		if _, err := LookTool(tool); err != nil {
			t.Skipf("bench smoke: %v (apt-get install dnsmasq-base)", err)
		}
	}
	bin := filepath.Join(t.TempDir(), "ingestprobe")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/ingestprobe")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	o := Smoke()
	o.Bin, o.Repo, o.GoBin, o.Dir = bin, "..", "go", t.TempDir()
	o.Log = t.Logf
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	r := Run(ctx, o)
	var sb strings.Builder
	r.WriteTable(&sb)
	t.Logf("\n%s", sb.String())

	_, bbErr := LookTool(BlackboxBinary)
	labReason := lab.CannotRun()
	skipIf := func(t *testing.T, cond bool, why string) {
		t.Helper()
		if cond {
			if os.Getenv(lab.EnvRequired) == "1" && why == labReason {
				t.Fatalf("%s (and %s=1)", why, lab.EnvRequired)
			}
			t.Skip(why)
		}
	}
	t.Run("preflight open", func(t *testing.T) {
		p := r.PreflightOpen
		if p == nil || p.WallMS.N != o.PreflightRuns || p.WallMS.P50 <= 0 || p.Verdict != "go" {
			t.Errorf("got %+v (error %q); want %d timed runs with verdict go", p, r.Errors["preflight_open"], o.PreflightRuns)
		}
	})
	t.Run("preflight dropped", func(t *testing.T) {
		skipIf(t, labReason != "", labReason)
		p := r.PreflightDropped
		if p == nil || p.WallMS.N != o.DroppedRuns || p.WallMS.P50 < float64(o.DroppedTimeout.Milliseconds()) {
			t.Errorf("got %+v (error %q); want %d runs, each at least the timeout", p, r.Errors["preflight_dropped"], o.DroppedRuns)
		}
	})
	t.Run("preflight dropped, traced", func(t *testing.T) {
		skipIf(t, labReason != "", labReason)
		p := r.PreflightDroppedTraced
		if p == nil || p.WallMS.N != o.DroppedRuns || p.WallMS.P50 < float64(o.DroppedTimeout.Milliseconds()) {
			t.Errorf("got %+v (error %q); want %d runs, each at least the timeout", p, r.Errors["preflight_dropped_traced"], o.DroppedRuns)
		}
	})
	t.Run("trace", func(t *testing.T) {
		skipIf(t, labReason != "", labReason)
		tr := r.Trace
		if tr == nil || tr.BlockedMS.N != o.DroppedRuns || tr.BlockedSent == 0 || tr.OpenSent == 0 {
			t.Errorf("got %+v (error %q); want %d traces of each port, SYNs counted", tr, r.Errors["trace"], o.DroppedRuns)
		}
	})
	t.Run("footprint ours", func(t *testing.T) {
		f := r.Ours
		if f == nil || f.Probes == 0 || f.SteadyRSSMB <= 0 || f.IdleRSSMB <= 0 || f.PeakRSSMB < f.SteadyRSSMB || f.Counts.ByProbe["tcp"] == 0 {
			t.Errorf("got %+v (error %q); want probes counted and RSS figures", f, r.Errors["footprint_ours"])
		}
	})
	t.Run("footprint blackbox", func(t *testing.T) {
		skipIf(t, bbErr != nil, "bench smoke: no blackbox_exporter (apt-get install prometheus-blackbox-exporter)")
		f := r.Blackbox
		if f == nil || f.Probes == 0 || f.SteadyRSSMB <= 0 || f.Scrapes.ByModule["tcp"] == 0 {
			t.Errorf("got %+v (error %q); want probes counted and RSS figures", f, r.Errors["footprint_blackbox"])
		}
	})
	t.Run("timing", func(t *testing.T) {
		tm := r.Timing
		if tm == nil || tm.Samples != o.TimingSamples || tm.BareUS.N != o.TimingSamples || tm.OursUS.P50 <= 0 {
			t.Fatalf("got %+v (error %q); want %d pairs", tm, r.Errors[PhaseTiming], o.TimingSamples)
		}
		if bbErr == nil && tm.BlackboxUS.N != o.TimingSamples {
			t.Errorf("got %d blackbox samples; want %d", tm.BlackboxUS.N, o.TimingSamples)
		}
	})
	t.Run("scale", func(t *testing.T) {
		s := r.Scale
		if s == nil || s.Runs == 0 || s.LagMS.N != s.Runs || s.MaxGoroutine == 0 || s.Counts.Records == 0 {
			t.Errorf("got %+v (error %q); want runs with their lags and records", s, r.Errors[PhaseScale])
		}
	})
	t.Run("board", func(t *testing.T) {
		b := r.Board
		if b == nil || b.Answers == 0 || b.Failed != 0 || b.Without.CPUSeconds < 0 || b.Idle.SteadyRSSMB <= 0 || b.Watched.SteadyRSSMB <= 0 || b.Watched.Probes == 0 {
			t.Errorf("got %+v (error %q); want three footprints and the viewers' answers", b, r.Errors[PhaseBoard])
		}
	})
	t.Run("spool", func(t *testing.T) {
		s := r.Spool
		if s == nil || s.AppendPerS["interval"] <= 0 || s.ReplayPerS["interval"] <= 0 || s.RecoveryMS <= 0 {
			t.Errorf("got %+v (error %q); want append, replay and recovery figures", s, r.Errors[PhaseSpool])
		}
	})
}

// TestDistJSONEmpty: an empty sample (NaN figures) encodes as nulls instead of failing the report.
func TestDistJSONEmpty(t *testing.T) {
	b, err := json.Marshal(struct{ D Dist }{DistOf(nil)})
	if err != nil || string(b) != `{"D":{"n":0,"p50":null,"p99":null,"max":null}}` {
		t.Errorf("got %s, %v; want nulls", b, err)
	}
	b, err = json.Marshal(DistOf([]float64{2, 1}))
	if err != nil || string(b) != `{"n":2,"p50":1,"p99":2,"max":2}` {
		t.Errorf("got %s, %v", b, err)
	}
}
