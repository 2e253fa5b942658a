package agent

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

// While a show is live on a live = true target, its publish probe runs at connect level and the
// record says why; a target without live = true, or a show that is not live, publishes as set.
func TestPublishHeldWhileLive(t *testing.T) {
	var levels []rtmp.Level
	p := &Pipeline{Profiles: config.Default().Profiles(), icmp: noICMP}
	p.tcp = func(c tcp.Config) tcpProbe {
		return fakeTCP(func(context.Context) tcp.Result {
			return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
		})
	}
	p.rtmp = func(c rtmp.Config) rtmpProbe {
		levels = append(levels, c.Level)
		return fakeRun[rtmp.Result]{rtmp.Result{Probe: "rtmp", OK: true, Level: c.Level}}
	}
	showLive := true
	p.ShowLive = func(name string) *live.Result {
		if !showLive {
			return nil
		}
		return &live.Result{Probe: "live", Ingest: "192.0.2.1:1935", Publishers: 1, Connections: []live.Connection{{Process: "obs"}}}
	}
	tg := Target{Name: "main", URL: "rtmp://192.0.2.1/live/show", Timeout: time.Second, RTMP: rtmp.LevelPublish, Live: true}
	rec := p.Run(t.Context(), tg)
	if levels[0] != rtmp.LevelConnect || rec.Results.Live == nil || rec.Results.Live.HeldBack != "publish" || rec.Results.Live.Connections != nil {
		t.Fatalf("live show: level %s, live result %+v; want connect, held back, no connections", levels[0], rec.Results.Live)
	}
	if !hasCode(rec, "live.publish_held") || rec.Verdict != record.Go || rec.LiveWindow() {
		t.Errorf("live show: findings %+v (%s); want live.publish_held (info), go, a run record", rec.Findings, rec.Verdict)
	}
	tg.Live = false
	p.Run(t.Context(), tg)
	showLive = false
	tg.Live = true
	rec = p.Run(t.Context(), tg)
	if levels[1] != rtmp.LevelPublish || levels[2] != rtmp.LevelPublish || rec.Results.Live != nil {
		t.Errorf("levels %v; want publish for a target without live, and with no show live", levels)
	}
}

func hasCode(rec record.Record, code string) bool {
	for _, f := range rec.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

type fakeSource struct{ conns []live.Conn }

func (f *fakeSource) Dump(context.Context, []uint16) ([]live.Conn, error) { return f.conns, nil }
func (f *fakeSource) Close() error                                        { return nil }

// The sampler holds a target back while a publisher is connected and until live_quiet has passed,
// and each window is a record with the live result alone.
func TestLiveSamplerHolding(t *testing.T) {
	src := &fakeSource{conns: []live.Conn{{Local: netip.MustParseAddrPort("10.0.0.5:50000"), Remote: netip.MustParseAddrPort("192.0.2.1:1935"),
		ID: 7, PID: 4242, Process: "obs", BytesAcked: 1000}}}
	w := live.NewWatcherWith(src)
	tg := Target{Name: "main", URL: "rtmp://192.0.2.1/live/show", Live: true, LiveQuiet: 50 * time.Millisecond}
	s := NewLiveSamplerWith("enc1", []Target{tg, {Name: "other", URL: "rtmp://192.0.2.9/live/x"}}, w)
	s.Start(t.Context())
	if h := s.Holding("main"); h == nil || h.Publishers != 1 {
		t.Fatalf("publisher connected: holding %+v; want held", h)
	}
	if h := s.Holding("other"); h != nil {
		t.Errorf("a target without live = true: held")
	}
	rec := s.Record("main")
	if !rec.LiveWindow() || rec.Results.Live.Publishers != 1 || rec.Agent != "enc1" || rec.URL != "rtmp://192.0.2.1/live/<redacted>" {
		t.Errorf("record %+v", rec)
	}
	src.conns = nil
	s.sample(t.Context())
	if h := s.Holding("main"); h == nil || h.Publishers != 0 {
		t.Errorf("just gone: holding %+v; want held within live_quiet", h)
	}
	time.Sleep(60 * time.Millisecond)
	if h := s.Holding("main"); h != nil {
		t.Errorf("after live_quiet: held %+v", h)
	}
	// Run emits a record per window and ends with its context.
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	got := make(chan record.Record, 10)
	s.Emit = func(r record.Record) { got <- r }
	s.targets[0].LiveEvery = time.Second
	s.Run(ctx)
	if n := len(got); n < 2 || n > 3 {
		t.Errorf("%d records in 2.5 s at 1 s; want 2", n)
	}
}

// LiveTarget of an IP URL follows that address and the URL's port, without a lookup.
func TestLiveTargetIP(t *testing.T) {
	tg := TargetFromURL(config.Default().Agent, "rtmp://[2001:db8::5]:1936/live/x", "")
	tg.Bitrate = 2e6
	lt, ok := LiveTarget(t.Context(), tg, nil)
	if !ok || lt.Port != 1936 || len(lt.Addrs) != 1 || lt.Addrs[0] != netip.MustParseAddr("2001:db8::5") || lt.Bitrate != 2e6 {
		t.Fatalf("got %+v, %v", lt, ok)
	}
}
