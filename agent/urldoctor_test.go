package agent

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

const (
	vecKey ingesturl.Key = "e12c46f2612d5106e2034781ab261ca3"
	vecURL               = "rtmp://push.example.com/live/test?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
)

var vecExpiry = time.Unix(0x5C271099, 0)

type fakeRun[R any] struct{ r R }

func (f fakeRun[R]) Run(context.Context) R { return f.r }

// fakeNet answers DNS with one address and every TCP connect with success, counting the calls.
func fakeNet(p *Pipeline, calls *atomic.Int32) {
	p.dns = func(c dns.Config) dnsProbe {
		calls.Add(1)
		return fakeRun[dns.Result]{dns.Result{Probe: "dns", Host: c.Host, A: []string{"192.0.2.10"}, CNAME: []string{"x.tlivepush.com"}}}
	}
	p.tcp = func(c tcp.Config) tcpProbe {
		calls.Add(1)
		return fakeRun[tcp.Result]{tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}}
	}
	p.icmp = func(c icmp.Config) icmpProbe {
		calls.Add(1)
		return fakeRun[icmp.Result]{icmp.Result{Probe: "icmp", Address: c.Address.String(), Sent: 5, Received: 5}}
	}
	p.rtmp = func(c rtmp.Config) rtmpProbe {
		calls.Add(1)
		return fakeRun[rtmp.Result]{rtmp.Result{Probe: "rtmp", OK: true, Level: c.Level}}
	}
	p.srt = func(c srt.Config) srtProbe {
		calls.Add(1)
		return fakeRun[srt.Result]{srt.Result{Probe: "srt", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}}
	}
}

func codesOf(r record.Record) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestPipelineURLDoctor(t *testing.T) {
	ntp := func(offset time.Duration) func(context.Context) clock.Result {
		return func(ctx context.Context) clock.Result {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("clock reference called without a deadline")
			}
			return clock.Result{Probe: "clock", Source: "ntp", Server: "ntp.test:123", OK: true, OffsetSeconds: offset.Seconds()}
		}
	}
	tests := []struct {
		name     string
		target   Target
		now      time.Time
		clock    func(context.Context) clock.Result
		offline  bool
		want     []string
		netCalls bool
	}{
		{name: "good URL, key configured", target: Target{URL: vecURL, SignKeys: []ingesturl.Key{vecKey}},
			now: vecExpiry.Add(-24 * time.Hour), want: nil, netCalls: true},
		{name: "wrong key", target: Target{URL: vecURL, SignKeys: []ingesturl.Key{"0123456789abcdef0123456789abcdef"}},
			now: vecExpiry.Add(-24 * time.Hour), want: []string{"url.txsecret_mismatch"}, netCalls: true},
		{name: "expired, judged by the local clock", target: Target{URL: vecURL},
			now: vecExpiry.Add(time.Minute), want: []string{"url.txtime_expired"}, netCalls: true},
		{name: "local clock a day fast: NTP time says 23 h left", target: Target{URL: vecURL},
			now: vecExpiry.Add(time.Hour), clock: ntp(-24 * time.Hour), want: []string{"clock.skew"}, netCalls: true},
		{name: "event end after expiry", target: Target{URL: vecURL, EventEnd: vecExpiry.Add(time.Hour)},
			now: vecExpiry.Add(-24 * time.Hour), want: []string{"url.txtime_short"}, netCalls: true},
		{name: "min validity 48h", target: Target{URL: vecURL, MinURLValidity: 48 * time.Hour},
			now: vecExpiry.Add(-24 * time.Hour), want: []string{"url.txtime_short"}, netCalls: true},
		{name: "rtc mode declared with an rtmp URL", target: Target{URL: vecURL, Mode: ingesturl.ModeRTC},
			now: vecExpiry.Add(-24 * time.Hour), want: []string{"url.mode_mismatch"}, netCalls: true},
		{name: "a key makes an unsigned-looking URL a signed one", target: Target{URL: "rtmp://ingest.example.com/live/test", Provider: provider.Generic, SignKeys: []ingesturl.Key{vecKey}},
			now: vecExpiry, want: []string{"url.missing_param", "url.missing_param"}, netCalls: true},
		{name: "offline: no DNS, no TCP", target: Target{URL: vecURL, SignKeys: []ingesturl.Key{vecKey}}, offline: true,
			now: vecExpiry.Add(time.Minute), want: []string{"url.txtime_expired"}},
		{name: "srt: probed, and its stream-id signature checked", target: Target{URL: "srt://push.example.com:9000?streamid=%23!::r=live/test,txSecret=f85a2ab363fe4deaffef9754d79da6fe,txTime=5C271099", SignKeys: []ingesturl.Key{"0123456789abcdef0123456789abcdef"}},
			now: vecExpiry.Add(-24 * time.Hour), want: []string{"url.txsecret_mismatch"}, netCalls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			p := &Pipeline{Profiles: provider.Builtin(), Clock: tt.clock, Offline: tt.offline, now: func() time.Time { return tt.now }}
			fakeNet(p, &calls)
			var stages []Stage
			var mu sync.Mutex
			p.Progress = func(_ string, s Stage) { mu.Lock(); stages = append(stages, s); mu.Unlock() }
			tt.target.Name = "t"
			rec := p.Run(t.Context(), tt.target)
			if got := codesOf(rec); !slices.Equal(got, tt.want) {
				t.Errorf("findings: got %v; want %v", got, tt.want)
			}
			if rec.Results.URL == nil || rec.Results.URL.Probe != "url" {
				t.Errorf("results: got url %+v; want the lint recorded", rec.Results.URL)
			}
			if (calls.Load() > 0) != tt.netCalls {
				t.Errorf("network probes called %d times; want called = %v", calls.Load(), tt.netCalls)
			}
			if tt.clock != nil && (rec.Results.Clock == nil || stages[0] != StageClock) {
				t.Errorf("clock: got result %v, stages %v; want the clock measured first", rec.Results.Clock, stages)
			}
			if tt.target.URL[:3] == "srt" && (rec.Results.SRT == nil || len(rec.Results.TCP) != 2) {
				t.Errorf("srt: got SRT %v and %d TCP results; want the handshake and TCP to the 2 alternative ports", rec.Results.SRT, len(rec.Results.TCP))
			}
		})
	}
}

func TestCachedClock(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var queries atomic.Int32
	ok := true
	c := &cachedClock{now: func() time.Time { return now }, probe: func(context.Context) clock.Result {
		queries.Add(1)
		if !ok {
			return clock.Result{Error: clock.Timeout}
		}
		return clock.Result{OK: true, OffsetSeconds: 1}
	}}
	// Eight targets at once: one query.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); c.get(t.Context()) }()
	}
	wg.Wait()
	steps := []struct {
		advance time.Duration
		ok      bool
		want    int32
	}{
		{0, true, 1},                         // the eight above
		{14 * time.Minute, true, 1},          // reused
		{2 * time.Minute, false, 2},          // 16 min: measured again, and it fails
		{30 * time.Second, true, 2},          // a failure is reused for 64 s
		{40 * time.Second, true, 3},          // then retried
		{clockMaxAge - time.Second, true, 3}, // and a success kept for 15 min
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		ok = s.ok
		c.get(t.Context())
		if got := queries.Load(); got != s.want {
			t.Fatalf("step %d: got %d queries; want %d", i, got, s.want)
		}
	}
	// A canceled measurement is not cached.
	c2 := &cachedClock{now: time.Now, probe: func(context.Context) clock.Result { queries.Add(1); return clock.Result{Error: clock.Canceled} }}
	before := queries.Load()
	c2.get(t.Context())
	c2.get(t.Context())
	if got := queries.Load() - before; got != 2 {
		t.Errorf("canceled: got %d queries; want 2 (not cached)", got)
	}
}

// TestCachedClockWaitersKeepTheirDeadline: a target waiting for another's measurement gives up at
// its own deadline (canceled), and measures itself when the one under way was canceled.
func TestCachedClockWaitersKeepTheirDeadline(t *testing.T) {
	release := make(chan struct{})
	var queries atomic.Int32
	c := &cachedClock{now: time.Now, probe: func(ctx context.Context) clock.Result {
		if queries.Add(1) == 1 {
			select { // the first measurement hangs until released or canceled
			case <-release:
			case <-ctx.Done():
				return clock.Result{Error: clock.Canceled}
			}
		}
		return clock.Result{OK: true}
	}}
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leader := make(chan clock.Result, 1)
	go func() { leader <- c.get(leaderCtx) }()
	for queries.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if r := c.get(short); r.Error != clock.Canceled || queries.Load() != 1 {
		t.Errorf("waiter with a 20 ms deadline: got %+v after %d queries; want canceled, no query of its own", r, queries.Load())
	}
	waiter := make(chan clock.Result, 1)
	go func() { waiter <- c.get(t.Context()) }()
	cancelLeader()
	if r := <-leader; r.Error != clock.Canceled {
		t.Errorf("leader: got %+v; want canceled", r)
	}
	if r := <-waiter; !r.OK || queries.Load() != 2 {
		t.Errorf("waiter after the leader was canceled: got %+v after %d queries; want its own measurement (2)", r, queries.Load())
	}
	close(release)
}
