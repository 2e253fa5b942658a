//go:build linux

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
)

// The uplink soak's benchmarks (issue 13, docs/performance.md "Uplink soak"): how close the
// achieved rate comes to what a tbf-shaped path carries, and what a soak costs beside an encoder.
// Both need root and the lab (nginx with the RTMP module); they skip otherwise.

// buildIngestprobe builds the binary the benchmarks run.
func buildIngestprobe(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "ingestprobe")
	cmd := exec.Command("go", "build", "-tags", "nethttpomithttp2", "-o", bin, "../cmd/ingestprobe")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// soakDoc runs one soak from the venue and returns its uplink result and the process's CPU time
// and peak RSS.
func soakDoc(b *testing.B, l *lab.Lab, bin, cfg, rate, window string) (uplink.Result, time.Duration, int64) {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 2*time.Minute)
	defer cancel()
	cmd := l.VenueCommand(ctx, bin, "check", "--config", cfg, "--json", "rtmp://"+lab.NameOpen+"/live/benchsoak", "--uplink", rate, "--uplink-for", window)
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState == nil {
		b.Fatalf("soak: %v", err)
	}
	var doc struct {
		Targets []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Targets) != 1 {
		b.Fatalf("soak output: %v\n%s", err, out)
	}
	var u uplink.Result
	for _, raw := range doc.Targets[0].Results {
		var head struct{ Probe string }
		_ = json.Unmarshal(raw, &head)
		if head.Probe == "uplink" {
			_ = json.Unmarshal(raw, &u)
		}
	}
	// `ip netns exec` execs the binary in its own process: its rusage is the binary's.
	st := cmd.ProcessState
	ru, _ := st.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss * 1024
	}
	return u, st.UserTime() + st.SystemTime(), rss
}

func benchLab(b *testing.B) (*lab.Lab, string, string) {
	if os.Geteuid() != 0 {
		b.Skip("the uplink benchmarks shape the lab's links: run as root")
	}
	l := lab.Start(b, lab.Options{})
	if !l.RTMP {
		b.Skip("the uplink benchmarks need nginx's RTMP module (libnginx-mod-rtmp)")
	}
	cfg := filepath.Join(b.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[agent]\ntimeout = \"2s\"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return l, buildIngestprobe(b), cfg
}

// BenchmarkUplinkAccuracy: for tbf at 2, 5, 10 and 20 Mbit/s, a soak offered more than the path
// carries (RATE = 1.2 × tbf, so 1.25 × RATE = 1.5 × tbf) against the path measured on its own by
// a bulk TCP transfer. Target: within ±5 %.
func BenchmarkUplinkAccuracy(b *testing.B) {
	l, bin, cfg := benchLab(b)
	for _, mbit := range []int{2, 5, 10, 20} {
		b.Run(fmt.Sprintf("tbf=%dmbit", mbit), func(b *testing.B) {
			if err := l.Shape(b.Context(), fmt.Sprintf("%dmbit", mbit)); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = l.Unshape(context.WithoutCancel(b.Context())) }()
			for range b.N {
				path := pathRate(b, l, 8*time.Second)
				u, _, _ := soakDoc(b, l, bin, cfg, fmt.Sprintf("%dk", mbit*1200), "10s")
				b.ReportMetric(path/1e6, "path_Mbit/s")
				b.ReportMetric(u.AchievedBPS/1e6, "achieved_Mbit/s")
				b.ReportMetric(100*(u.AchievedBPS-path)/path, "error_%")
				if u.RTMPAckBPS > 0 {
					b.ReportMetric(100*(u.RTMPAckBPS-path)/path, "rtmp_ack_error_%")
				}
			}
		})
	}
}

// BenchmarkUplinkCost: CPU and peak RSS of `check --uplink` with a 10 s window (12 s of soak, plus
// the check itself) at 6 and 20 Mbit/s over the unshaped lab. Target: ≤ 2 % of one core at 6 Mbit/s.
func BenchmarkUplinkCost(b *testing.B) {
	l, bin, cfg := benchLab(b)
	// The fixed cost: the same check with a 2 s publish and no soak.
	b.Run("publish-only", func(b *testing.B) {
		for range b.N {
			ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
			cmd := l.VenueCommand(ctx, bin, "check", "--config", cfg, "--json", "--publish", "rtmp://"+lab.NameOpen+"/live/benchsoak")
			_ = cmd.Run()
			cancel()
			st := cmd.ProcessState
			b.ReportMetric((st.UserTime()+st.SystemTime()).Seconds()*1000, "cpu_ms")
		}
	})
	for _, rate := range []string{"6M", "20M"} {
		b.Run("rate="+rate, func(b *testing.B) {
			for range b.N {
				u, cpu, rss := soakDoc(b, l, bin, cfg, rate, "10s")
				soak := uplink.DefaultWarmup.Seconds() + u.DurationSeconds
				b.ReportMetric(100*cpu.Seconds()/soak, "cpu_%_of_core")
				b.ReportMetric(cpu.Seconds()*1000, "cpu_ms")
				b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
				b.ReportMetric(u.AchievedBPS/1e6, "achieved_Mbit/s")
			}
		})
	}
}

// pathRate is the path measured on its own (lab.PathRate), in bit/s.
func pathRate(b *testing.B, l *lab.Lab, d time.Duration) float64 {
	b.Helper()
	bps, err := l.PathRate(d)
	if err != nil {
		b.Fatal(err)
	}
	return bps
}
