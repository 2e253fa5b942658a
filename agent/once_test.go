package agent

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// TestRunOnce: every target runs once, at most concurrency at a time, and the records come back
// in the order of the targets, each with the agent's id.
func TestRunOnce(t *testing.T) {
	cfg := config.Default()
	cfg.Agent.ID = "enc1"
	var inFlight, most atomic.Int32
	p := NewPipeline(cfg, nil)
	p.tcp = func(c tcp.Config) tcpProbe {
		return fakeTCP(func(ctx context.Context) tcp.Result {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
		})
	}
	var targets []Target
	for i := range 6 {
		tg := TargetFromURL(cfg.Agent, fmt.Sprintf("rtmp://127.0.0.%d:1935/live/s", i+1), "")
		tg.AltPorts, tg.SkipICMP, tg.RTMP = []int{}, true, rtmp.LevelOff
		targets = append(targets, tg)
	}
	recs := RunOnce(t.Context(), p, targets, 2)
	if len(recs) != len(targets) {
		t.Fatalf("got %d records; want %d", len(recs), len(targets))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("127.0.0.%d", i+1); r.Target != want || r.Agent != "enc1" || len(r.Results.TCP) != 1 {
			t.Errorf("record %d: target %q agent %q, %d connects; want %q, enc1, 1", i, r.Target, r.Agent, len(r.Results.TCP), want)
		}
	}
	if m := most.Load(); m > 2 {
		t.Errorf("at most %d runs in flight; want at most 2 (the concurrency given)", m)
	}
}

// TestTargetFromURL: a URL given on the command line is named after its host, never the URL, and
// takes the agent's timeout and labels; one that does not parse is still a target, whose record
// says url.invalid.
func TestTargetFromURL(t *testing.T) {
	a := config.Default().Agent
	a.Labels = map[string]string{"venue": "berlin"}
	tg := TargetFromURL(a, "rtmp://push.example.com/live/SECRETKEY?txSecret=abc&txTime=5C271099", "tencent")
	if tg.Name != "push.example.com" || tg.Provider != "tencent" || tg.Timeout != a.Timeout.D() || tg.Labels["venue"] != "berlin" {
		t.Errorf("got %+v; want the host as name, the provider, the agent's timeout and labels", tg)
	}
	if u, err := tg.parse(); err != nil || u.Host != "push.example.com" {
		t.Errorf("parsed URL: got %v, %v", u, err)
	}
	bad := TargetFromURL(a, "rtmp://:99/live/SECRETKEY", "")
	if bad.Name != "url" {
		t.Errorf("unparseable URL: name %q; want \"url\" (the URL may hold its key)", bad.Name)
	}
	p := NewPipeline(config.Default(), nil)
	p.Offline = true
	rec := p.Run(t.Context(), bad)
	if len(rec.Findings) == 0 || rec.Findings[0].Code != "url.invalid" {
		t.Errorf("unparseable URL: findings %+v; want url.invalid", rec.Findings)
	}
}
