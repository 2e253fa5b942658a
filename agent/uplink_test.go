package agent

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
)

// TestPipelineSoak: a run marked Soak publishes with the soak in place of the hold, under a
// deadline with room for warm-up and window; an unmarked run of the same target does not soak;
// a publish refused before the soak records that nothing was sent.
func TestPipelineSoak(t *testing.T) {
	a2 := netip.MustParseAddrPort("127.0.0.2:1935")
	var got []rtmp.Config
	var deadlines []time.Duration
	p := fakePipeline(map[netip.AddrPort]bool{a2: true}, &got, &deadlines)
	tgt := Target{Name: "t", URL: "rtmp://push.example.com/live/s", Timeout: time.Second, SkipICMP: true, Uplink: 6_000_000, UplinkFor: 3 * time.Second}

	rec := p.Run(t.Context(), tgt)
	if len(got) != 1 || got[0].Level != rtmp.LevelHandshake || got[0].Stream != nil || rec.Results.Uplink != nil {
		t.Fatalf("unmarked run: got %+v, uplink %+v; want a handshake and no soak", got, rec.Results.Uplink)
	}

	got, deadlines = nil, nil
	tgt.Soak = true
	rec = p.Run(t.Context(), tgt)
	if len(got) != 1 || got[0].Level != rtmp.LevelPublish || got[0].Stream == nil {
		t.Fatalf("soak run: got %+v; want a publish with a Stream", got)
	}
	if min := time.Second + uplink.DefaultWarmup + 3*time.Second; deadlines[0] < min {
		t.Errorf("soak budget %s; want at least %s", deadlines[0], min)
	}
	// The fake RTMP probe never calls Stream: as a refused publish, nothing was sent.
	if u := rec.Results.Uplink; u == nil || u.Error != uplink.NotPublished || u.TargetBPS != 6_000_000 {
		t.Errorf("uplink %+v; want not_published for 6 Mbit/s", u)
	}
}

// TestSoakOneAtATime: two soaks never overlap, however many targets ask; and a publish check of
// a target whose soak runs connects instead of finding its own stream in use.
func TestSoakOneAtATime(t *testing.T) {
	a2 := netip.MustParseAddrPort("127.0.0.2:1935")
	var mu sync.Mutex
	running, most := 0, 0
	var levels []rtmp.Level
	started := make(chan struct{}, 4)
	release := make(chan struct{})
	var got []rtmp.Config
	var deadlines []time.Duration
	p := fakePipeline(map[netip.AddrPort]bool{a2: true}, &got, &deadlines)
	p.rtmp = func(c rtmp.Config) rtmpRunner {
		return runFunc[rtmp.Result](func(ctx context.Context) rtmp.Result {
			mu.Lock()
			levels = append(levels, c.Level)
			mu.Unlock()
			if c.Stream != nil {
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				started <- struct{}{}
				select {
				case <-release:
				case <-ctx.Done():
				}
				mu.Lock()
				running--
				mu.Unlock()
			}
			return rtmp.Result{Probe: "rtmp", OK: true, Level: c.Level}
		})
	}
	soak := Target{URL: "rtmp://push.example.com/live/s", Timeout: time.Second, SkipICMP: true, Uplink: 1_000_000, Soak: true}
	a, b := soak, soak
	a.Name, b.Name = "a", "b"
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(t.Context(), a) })
	wg.Go(func() { p.Run(t.Context(), b) })
	<-started
	// While a soak runs, a publish check of the soaking target connects only.
	check := Target{Name: "a", URL: soak.URL, Timeout: time.Second, SkipICMP: true, RTMP: rtmp.LevelPublish}
	if _, busy := p.soaking.Load("a"); !busy {
		check.Name = "b"
	}
	p.Run(t.Context(), check)
	release <- struct{}{}
	<-started
	release <- struct{}{}
	wg.Wait()
	if most != 1 {
		t.Errorf("at most %d soaks ran at once; want 1", most)
	}
	if !containsLevel(levels, rtmp.LevelConnect) {
		t.Errorf("levels %v; want the publish check of the soaking target to connect instead", levels)
	}
}

func containsLevel(ls []rtmp.Level, l rtmp.Level) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

func TestSoakSchedule(t *testing.T) {
	in := []Scheduled{
		{Target: Target{Name: "plain"}, Interval: 30 * time.Second},
		{Target: Target{Name: "show", Uplink: 6_000_000}, Interval: 30 * time.Second},
		{Target: Target{Name: "often", Uplink: 6_000_000, UplinkEvery: 10 * time.Minute}, Interval: 30 * time.Second},
	}
	out := SoakSchedule(in)
	if len(out) != 2 || out[0].Name != "show" || out[0].Interval != uplink.DefaultEvery || !out[0].Soak ||
		out[1].Name != "often" || out[1].Interval != 10*time.Minute || !out[1].Soak {
		t.Errorf("got %+v; want show every 1h and often every 10m, both soaking", out)
	}
	if in[1].Soak {
		t.Errorf("the check schedule's target was marked Soak")
	}
}
