package live

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"
)

var (
	ingest = netip.MustParseAddr("10.231.2.10")
	t0     = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
)

func target(bitrate float64) Target {
	return Target{Name: "main", Addrs: []netip.Addr{ingest, netip.MustParseAddr("2001:db8::10")}, Port: 1935, Bitrate: bitrate}
}

// conn is a connection from local port lport with the counters given.
func conn(lport uint16, acked, segs, retrans, notsent, unacked uint64) Conn {
	return Conn{Local: netip.AddrPortFrom(netip.MustParseAddr("10.231.1.2"), lport), Remote: netip.AddrPortFrom(ingest, 1935),
		ID: uint64(lport), Inode: uint64(lport) + 1000, BytesAcked: acked, SegsOut: segs, TotalRetrans: retrans,
		NotsentBytes: notsent, Unacked: unacked, RTT: 20 * time.Millisecond, RTTVar: 5 * time.Millisecond}
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Abs(want) }

// A healthy publisher at 2 Mbit/s: its rate, RTT, no condition; other hosts' connections and the
// ingest's other ports are not publishers.
func TestTrackerHealthy(t *testing.T) {
	k := NewTracker(target(0))
	other := conn(5000, 0, 0, 0, 0, 0)
	other.Remote = netip.AddrPortFrom(netip.MustParseAddr("192.0.2.9"), 1935)
	port443 := conn(5001, 0, 0, 0, 0, 0)
	port443.Remote = netip.AddrPortFrom(ingest, 443)
	for i := range 7 {
		k.Observe(t0.Add(time.Duration(i)*5*time.Second), []Conn{conn(40000, uint64(i)*1250000, uint64(i)*1000, 0, 1000, 4000), other, port443})
	}
	r := k.Window(t0.Add(30 * time.Second))
	if r.Publishers != 1 || !near(r.AckedBps, 2e6, 0.001) || r.RTTSeconds != 0.02 || r.RetransmitRatio != 0 || r.BacklogBytes != 5000 {
		t.Fatalf("got %+v; want one publisher at 2 Mbit/s, RTT 20 ms, backlog 5000", r)
	}
	if r.StalledSeconds != 0 || r.CongestedSeconds != 0 || r.BacklogGrowing != 0 || r.Reconnects != 0 || !near(r.StreamBps, 2e6, 0.001) {
		t.Errorf("got %+v; want no condition, stream rate 2 Mbit/s", r)
	}
	if want := 5000 * 8 / 2e6; !near(r.BacklogSeconds, want, 0.001) {
		t.Errorf("backlog %v s; want %v", r.BacklogSeconds, want)
	}
	if len(r.Connections) != 1 || r.Connections[0].Process != ProcessUnknown || r.Connections[0].Remote != "10.231.2.10:1935" {
		t.Errorf("connections %+v", r.Connections)
	}
	// The next window starts where this one ended: one more sample, one more 5 s.
	k.Observe(t0.Add(35*time.Second), []Conn{conn(40000, 6*1250000+625000, 7000, 70, 0, 0)})
	r = k.Window(t0.Add(35 * time.Second))
	if r.WindowSeconds != 5 || !near(r.AckedBps, 1e6, 0.001) || r.RetransmitRatio != 0.07 {
		t.Errorf("second window %+v; want 5 s at 1 Mbit/s with 7 %% retransmitted", r)
	}
}

// Nothing acknowledged while data waits: stalled, growing from the last time bytes moved.
func TestTrackerStalled(t *testing.T) {
	k := NewTracker(target(0))
	k.Observe(t0, []Conn{conn(40000, 1e6, 100, 0, 0, 2000)})
	k.Observe(t0.Add(5*time.Second), []Conn{conn(40000, 2e6, 200, 0, 0, 2000)})
	k.Window(t0.Add(5 * time.Second))
	for i := 2; i <= 4; i++ {
		k.Observe(t0.Add(time.Duration(i)*5*time.Second), []Conn{conn(40000, 2e6, 200+uint64(i), uint64(i), 50000*uint64(i), 30000)})
	}
	r := k.Window(t0.Add(20 * time.Second))
	if r.StalledSeconds != 15 || r.AckedBps != 0 {
		t.Fatalf("got stalled %v s at %v bit/s; want 15 s, 0", r.StalledSeconds, r.AckedBps)
	}
	// A connection first seen while stalled dates the stall from its last ACK.
	k2 := NewTracker(target(0))
	c := conn(40001, 1e6, 100, 0, 10000, 2000)
	c.LastAckRecv = 7 * time.Second
	k2.Observe(t0, []Conn{c})
	if r := k2.Window(t0); r.StalledSeconds != 7 {
		t.Errorf("first sight: stalled %v s; want 7 (tcpi_last_ack_recv)", r.StalledSeconds)
	}
	// An idle connection (nothing waits) is not stalled.
	k3 := NewTracker(target(0))
	for i := range 4 {
		k3.Observe(t0.Add(time.Duration(i)*5*time.Second), []Conn{conn(40002, 1e6, 100, 0, 0, 0)})
	}
	if r := k3.Window(t0.Add(15 * time.Second)); r.StalledSeconds != 0 {
		t.Errorf("idle: stalled %v s; want 0", r.StalledSeconds)
	}
}

// The uplink carries less than the stream: the backlog grows (three samples: congested), passes a
// second of the stream, and the rate stays under 90 % of the bitrate.
func TestTrackerCongestedAndBelowBitrate(t *testing.T) {
	k := NewTracker(target(2e6))
	var acked, backlog uint64
	var r Result
	for i := range 9 {
		now := t0.Add(time.Duration(i) * 5 * time.Second)
		k.Observe(now, []Conn{conn(40000, acked, uint64(i)*500, 0, backlog, 20000)})
		r = k.Window(now)
		if i == 3 && (r.BacklogGrowing != 3 || r.CongestedSeconds != 0) {
			t.Errorf("sample %d: %+v; want growing 3, congested from now", i, r)
		}
		acked += 1250000 / 2 // 1 Mbit/s of a 2 Mbit/s show
		backlog += 100000
	}
	if r.CongestedSeconds != 25 || r.BelowBitrateSeconds < 30 || !near(r.AckedBps, 1e6, 0.001) || r.StreamBps != 2e6 {
		t.Errorf("got %+v; want congested 25 s, below the bitrate ≥ 30 s, 1 Mbit/s acknowledged", r)
	}
	if want := float64(800000+20000) * 8 / 2e6; !near(r.BacklogSeconds, want, 0.001) {
		t.Errorf("backlog %v s; want %v", r.BacklogSeconds, want)
	}
	// Total keeps the worst of the watch after the uplink recovered.
	k.Observe(t0.Add(45*time.Second), []Conn{conn(40000, acked+1250000*5, 5000, 0, 0, 0)})
	if r := k.Window(t0.Add(45 * time.Second)); r.CongestedSeconds != 0 || r.BelowBitrateSeconds != 0 {
		t.Errorf("recovered: %+v; want no condition", r)
	}
	if tot := k.Total(t0.Add(45 * time.Second)); tot.CongestedSeconds != 25 || tot.BacklogGrowing < 3 || tot.WindowSeconds != 45 {
		t.Errorf("total %+v; want the worst congestion (25 s) over 45 s", tot)
	}
}

// A new connection after one ended is a reconnect; a second one at the same time is not; they age
// out of the window but not out of the total.
func TestTrackerReconnects(t *testing.T) {
	k := NewTracker(target(0))
	k.Observe(t0, []Conn{conn(40000, 1e6, 10, 0, 0, 0), conn(40001, 1e6, 10, 0, 0, 0)})
	k.Observe(t0.Add(5*time.Second), []Conn{conn(40001, 2e6, 20, 0, 0, 0), conn(40002, 0, 1, 0, 0, 0)}) // 40000 → 40002
	k.Observe(t0.Add(10*time.Second), []Conn{conn(40001, 3e6, 30, 0, 0, 0)})                            // 40002 ends
	k.Observe(t0.Add(15*time.Second), []Conn{conn(40001, 4e6, 40, 0, 0, 0), conn(40003, 0, 1, 0, 0, 0)})
	r := k.Window(t0.Add(15 * time.Second))
	if r.Reconnects != 2 || r.ReconnectsTotal != 2 || r.Publishers != 2 {
		t.Fatalf("got %d reconnects (%d total), %d publishers; want 2, 2, 2", r.Reconnects, r.ReconnectsTotal, r.Publishers)
	}
	k.Observe(t0.Add(6*time.Minute), []Conn{conn(40001, 5e6, 50, 0, 0, 0)})
	if r := k.Window(t0.Add(6 * time.Minute)); r.Reconnects != 0 || r.ReconnectsTotal != 2 {
		t.Errorf("after 6 min: %d reconnects (%d total); want 0 (2)", r.Reconnects, r.ReconnectsTotal)
	}
}

// No publisher: never seen, then seen and gone.
func TestTrackerNoPublisher(t *testing.T) {
	k := NewTracker(target(0))
	k.Observe(t0, nil)
	if r := k.Window(t0); r.Publishers != 0 || r.LastSeenSecondsAgo != -1 || r.Connections == nil {
		t.Errorf("never seen: %+v", r)
	}
	k.Observe(t0.Add(5*time.Second), []Conn{conn(40000, 1, 1, 0, 0, 0)})
	k.Observe(t0.Add(10*time.Second), nil)
	if r := k.Window(t0.Add(12 * time.Second)); r.Publishers != 0 || r.LastSeenSecondsAgo != 7 {
		t.Errorf("gone: %+v; want last seen 7 s ago", r)
	}
}

type fakeSource struct {
	conns [][]Conn
	err   error
	i     int
}

func (f *fakeSource) Dump(context.Context, []uint16) ([]Conn, error) {
	if f.err != nil {
		return nil, f.err
	}
	c := f.conns[min(f.i, len(f.conns)-1)]
	f.i++
	return c, nil
}
func (f *fakeSource) Close() error { return nil }

// The watcher names each publisher once, leaves out this process's own connection and one that
// closed before it could be named, and says whether the show is live until quiet has passed.
func TestWatcher(t *testing.T) {
	enc, own, gone := conn(40000, 1e6, 10, 0, 0, 0), conn(40001, 1e6, 10, 0, 0, 0), conn(40002, 1e6, 10, 0, 0, 0)
	src := &fakeSource{conns: [][]Conn{{enc, own, gone}, {enc, own}, {}}}
	w := NewWatcherWith(src)
	now := t0
	w.now = func() time.Time { return now }
	lookups := 0
	w.owners = func(wanted map[uint64]bool) (map[uint64]owner, bool) {
		lookups++
		return map[uint64]owner{enc.Inode: {pid: 4242, name: "obs"}, own.Inode: {pid: 1, own: true}}, true
	}
	w.Set(target(0))
	if live, _, _ := w.Live("main", time.Minute); !live {
		t.Errorf("before the first sample: not live; want live (it cannot tell)")
	}
	for i := range 2 {
		if err := w.Sample(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(5 * time.Second)
		r := w.Window("main")
		if r.Publishers != 1 || r.Connections[0].Process != "obs" || r.Connections[0].PID != 4242 {
			t.Fatalf("sample %d: %+v; want only obs (pid 4242)", i, r)
		}
	}
	if lookups != 1 {
		t.Errorf("%d owner lookups; want 1 (each connection is named once)", lookups)
	}
	w.Sample(context.Background())
	if live, n, ago := w.Live("main", time.Minute); !live || n != 0 || ago != 5*time.Second {
		t.Errorf("just gone: live %v, %d publishers, seen %s ago; want live (quiet not over), 0, 5s", live, n, ago)
	}
	now = now.Add(2 * time.Minute)
	if live, _, _ := w.Live("main", time.Minute); live {
		t.Errorf("after quiet: live; want not live")
	}
	src.err = errors.New("boom")
	w.Sample(context.Background())
	if r := w.Window("main"); r.Error != Failed || r.Detail != "boom" {
		t.Errorf("failed dump: %+v", r)
	}
	if live, _, _ := w.Live("main", time.Minute); !live {
		t.Errorf("failed dump: not live; want live (it cannot tell)")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"2500k": 2.5e6, "2.5M": 2.5e6, "2.5 Mbit/s": 2.5e6, "6000kbps": 6e6, "2500000": 2.5e6, "1G": 1e9} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "-1M", "0", "10", "2.5X", "NaN"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// A connection whose statistics cannot be read (Windows without administrator rights) is a
// publisher with its figures marked unknown and the reason: never zeros in the sums, never a stall
// or a rate under the bitrate; reconnects still count. When figures come back it is counted anew
// from there: the gap is neither a burst nor a stall.
func TestTrackerFiguresUnknown(t *testing.T) {
	const why = "per-connection statistics need the agent to run as administrator or LocalSystem"
	blind := func(lport uint16) Conn {
		c := conn(lport, 9e9, 9e6, 9e5, 1e6, 1e6) // whatever the counters say, they are not figures
		c.Unknown, c.PID, c.Process = why, 4242, "obs64.exe"
		return c
	}
	k := NewTracker(target(2e6))
	for i := range 8 {
		k.Observe(t0.Add(time.Duration(i)*5*time.Second), []Conn{blind(40000)})
	}
	r := k.Window(t0.Add(35 * time.Second))
	if r.Publishers != 1 || r.UnknownConnections != 1 || r.FiguresUnknown != why || r.HasFigures() {
		t.Fatalf("got %+v; want one publisher with its figures unknown and why", r)
	}
	if r.AckedBps != 0 || r.BacklogBytes != 0 || r.RTTSeconds != 0 || r.SegsOut != 0 || r.StalledSeconds != 0 || r.BelowBitrateSeconds != 0 || r.CongestedSeconds != 0 {
		t.Errorf("got %+v; want no figure and no condition from a connection without figures", r)
	}
	if c := r.Connections; len(c) != 1 || c[0].FiguresUnknown != why || c[0].Process != "obs64.exe" || c[0].PID != 4242 || c[0].BacklogBytes != 0 {
		t.Errorf("connections %+v", c)
	}
	// Two restarts: reconnects, figures or not.
	k.Observe(t0.Add(40*time.Second), []Conn{blind(40001)})
	k.Observe(t0.Add(45*time.Second), []Conn{blind(40002)})
	if r := k.Window(t0.Add(45 * time.Second)); r.Reconnects != 2 || r.Publishers != 1 {
		t.Errorf("got %d reconnects, %d publishers; want 2, 1", r.Reconnects, r.Publishers)
	}

	// Beside a connection with figures: the sums are that one's; the bitrate is not judged on a part.
	k = NewTracker(target(4e6))
	for i := range 8 {
		k.Observe(t0.Add(time.Duration(i)*5*time.Second), []Conn{conn(40000, uint64(i)*1250000, uint64(i)*1000, 0, 0, 1000), blind(40001)})
	}
	r = k.Window(t0.Add(35 * time.Second))
	if r.Publishers != 2 || r.UnknownConnections != 1 || !r.HasFigures() || !near(r.AckedBps, 2e6, 0.001) || r.BacklogBytes != 1000 || r.BelowBitrateSeconds != 0 {
		t.Errorf("got %+v; want 2 publishers, the known one's 2 Mbit/s and 1000 bytes, no below-bitrate", r)
	}

	// Figures, then none for three samples, then figures again with a counter that moved on.
	k = NewTracker(target(0))
	k.Observe(t0, []Conn{conn(40000, 1e6, 1000, 0, 0, 0)})
	k.Observe(t0.Add(5*time.Second), []Conn{conn(40000, 2.25e6, 2000, 0, 0, 0)})
	gap := blind(40000)
	for i := 2; i <= 4; i++ {
		k.Observe(t0.Add(time.Duration(i)*5*time.Second), []Conn{gap})
	}
	if r := k.Peek(t0.Add(20 * time.Second)); r.FiguresUnknown != why || r.StalledSeconds != 0 {
		t.Errorf("during the gap %+v; want figures unknown, no stall", r)
	}
	k.Observe(t0.Add(25*time.Second), []Conn{conn(40000, 50e6, 50000, 10, 0, 2000)})
	k.Observe(t0.Add(30*time.Second), []Conn{conn(40000, 51.25e6, 51000, 10, 0, 2000)})
	r = k.Peek(t0.Add(30 * time.Second))
	if r.FiguresUnknown != "" || !near(r.AckedBps, 2e6, 0.001) || r.StalledSeconds != 0 || r.Reconnects != 0 {
		t.Errorf("after the gap %+v; want 2 Mbit/s, figures known, no stall, no reconnect", r)
	}
	// The whole watch: what was counted before the gap and after it, and that some was unknown.
	tot := k.Total(t0.Add(30 * time.Second))
	if want := (1.25e6 + 1.25e6) * 8 / 30; !near(tot.AckedBps, want, 0.001) || tot.FiguresUnknown != why {
		t.Errorf("total %+v; want %v bit/s and the reason figures were unknown", tot, want)
	}
}
