package live

import (
	"net"
	"slices"
	"strconv"
	"time"
)

// Bounds of the tracker's memory: a minute of samples for the stream's rate, and the reconnects of
// ReconnectWindow (at most maxEvents of them; an encoder reconnecting more often than that is
// reported as maxEvents).
const (
	rateHistory = time.Minute
	rateSpan    = 5 * time.Second // the acknowledged rate the conditions read is over this long
	maxEvents   = 1000
	maxPoints   = 600
)

// Congestion thresholds that are measurement, not judgement: a backlog counts as growing only above
// growFloor seconds of the stream (or growFloorBytes when the rate is unknown), so an encoder's
// ordinary burst of a frame does not read as congestion; below is under 90 % of the bitrate.
const (
	congestedBacklog = time.Second
	growFloor        = 250 * time.Millisecond
	growFloorBytes   = 64 << 10
	growSamples      = 3
	belowRatio       = 0.9
)

// Tracker follows the publishers of one target from sample to sample. It is not safe for
// concurrent use; the Watcher serialises it.
type Tracker struct {
	t        Target
	start    time.Time // first Observe
	lastObs  time.Time
	conns    map[uint64]*connState
	goneAck  uint64      // bytes acknowledged on connections that have ended, since first seen
	goneSegs [2]uint64   // segs out, retransmitted, of ended connections
	ended    []time.Time // connections that ended and were not yet followed by a new one
	recon    []time.Time // reconnects within ReconnectWindow
	reconN   int
	seenAny  bool
	lastSeen time.Time
	unknown  string // the first reason a connection's figures were unknown in this watch, for Total

	points []point // cumulative acknowledged bytes over time, for rates

	growing        int
	prevBacklog    uint64
	congestedSince time.Time
	belowSince     time.Time
	max            conditions // the worst of the watch, for Total
}

type conditions struct {
	stalled, congested, below float64
	growing                   int
}

type point struct {
	at  time.Time
	cum uint64
}

type connState struct {
	first       time.Time
	firstConn   Conn
	base        Conn // at the window's start (or when first seen in it)
	baseAt      time.Time
	prev, last  Conn
	prevAt      time.Time
	lastAt      time.Time
	lastAdvance time.Time // when bytes_acked last moved, or nothing waited
	// unknown is why the last sample had no figures of this connection; the counters above then
	// stay those of the last sample that had them.
	unknown string
}

// NewTracker follows t.
func NewTracker(t Target) *Tracker {
	return &Tracker{t: t, conns: map[uint64]*connState{}}
}

// Target is what the tracker follows.
func (k *Tracker) Target() Target { return k.t }

// SetTarget changes the addresses or bitrate followed (the host resolved anew), keeping history.
func (k *Tracker) SetTarget(t Target) { k.t = t }

// Observe takes one sample: conns are every connection of the dump (the tracker keeps its own).
func (k *Tracker) Observe(now time.Time, all []Conn) {
	if k.start.IsZero() {
		k.start = now
	}
	k.lastObs = now
	present := map[uint64]Conn{}
	for _, c := range all {
		if k.t.Matches(c) {
			if c.Unknown != "" {
				// Its counters are not figures: nothing of them may reach a sum.
				c = Conn{Local: c.Local, Remote: c.Remote, ID: c.ID, Inode: c.Inode, PID: c.PID, Process: c.Process, Unknown: c.Unknown}
				if k.unknown == "" {
					k.unknown = c.Unknown
				}
			}
			present[c.ID] = c
		}
	}
	// Ended first, so a restart between two samples reads as end then start: a reconnect.
	for id, st := range k.conns {
		if _, ok := present[id]; ok {
			continue
		}
		k.goneAck += st.last.BytesAcked - st.firstConn.BytesAcked
		k.goneSegs[0] += st.last.SegsOut - st.firstConn.SegsOut
		k.goneSegs[1] += st.last.TotalRetrans - st.firstConn.TotalRetrans
		k.ended = append(k.ended, now)
		delete(k.conns, id)
	}
	k.ended = prune(k.ended, now)
	k.recon = prune(k.recon, now)
	ids := make([]uint64, 0, len(present))
	for id := range present {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := present[id]
		st := k.conns[id]
		if st == nil {
			st = &connState{first: now, firstConn: c, base: c, baseAt: now, prev: c, prevAt: now, last: c, lastAt: now, lastAdvance: now, unknown: c.Unknown}
			if c.Backlog() > 0 && c.LastAckRecv > 0 {
				st.lastAdvance = now.Add(-c.LastAckRecv)
			}
			k.conns[id] = st
			if k.seenAny && len(k.ended) > 0 {
				k.ended = k.ended[1:]
				if len(k.recon) < maxEvents {
					k.recon = append(k.recon, now)
				}
				k.reconN++
			}
			continue
		}
		if c.Unknown != "" {
			st.unknown = c.Unknown
			continue
		}
		if st.unknown != "" {
			// Figures again after a sample without: count this connection anew from here (what it
			// carried before is kept), so the gap reads as neither a burst nor a stall.
			k.goneAck += st.last.BytesAcked - st.firstConn.BytesAcked
			k.goneSegs[0] += st.last.SegsOut - st.firstConn.SegsOut
			k.goneSegs[1] += st.last.TotalRetrans - st.firstConn.TotalRetrans
			*st = connState{first: st.first, firstConn: c, base: c, baseAt: now, prev: c, prevAt: now, last: c, lastAt: now, lastAdvance: now}
			continue
		}
		st.prev, st.prevAt = st.last, st.lastAt
		st.last, st.lastAt = c, now
		if c.BytesAcked > st.prev.BytesAcked || c.Backlog() == 0 {
			st.lastAdvance = now
		}
	}
	if len(present) > 0 {
		k.seenAny = true
		k.lastSeen = now
	}
	k.points = append(k.points, point{now, k.cumAcked()})
	for len(k.points) > 2 && (now.Sub(k.points[1].at) > rateHistory || len(k.points) > maxPoints) {
		k.points = k.points[1:]
	}
	k.updateConditions(now, len(present))
}

// prune drops events older than ReconnectWindow.
func prune(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > ReconnectWindow {
		i++
	}
	return ts[i:]
}

func (k *Tracker) cumAcked() uint64 {
	n := k.goneAck
	for _, st := range k.conns {
		n += st.last.BytesAcked - st.firstConn.BytesAcked
	}
	return n
}

// rateAt is the acknowledged rate, bits per second, over the rateSpan ending at points[i].
func (k *Tracker) rateAt(i int) (float64, bool) {
	end := k.points[i]
	for j := i - 1; j >= 0; j-- {
		if d := end.at.Sub(k.points[j].at); d >= rateSpan || j == 0 {
			if d <= 0 {
				return 0, false
			}
			return float64(end.cum-k.points[j].cum) * 8 / d.Seconds(), d >= rateSpan
		}
	}
	return 0, false
}

// streamRate is the rate the backlog is measured in: the bitrate, else the highest acknowledged
// rate of the last minute.
func (k *Tracker) streamRate() float64 {
	if k.t.Bitrate > 0 {
		return k.t.Bitrate
	}
	best := 0.0
	for i := range k.points {
		if r, _ := k.rateAt(i); r > best {
			best = r
		}
	}
	return best
}

func (k *Tracker) updateConditions(now time.Time, publishers int) {
	if publishers == 0 {
		k.growing, k.prevBacklog = 0, 0
		k.congestedSince, k.belowSince = time.Time{}, time.Time{}
		return
	}
	var backlog uint64
	stalled := 0.0
	unknown := false
	for _, st := range k.conns {
		if st.unknown != "" {
			unknown = true
			continue
		}
		backlog += st.last.Backlog()
		if st.last.Backlog() > 0 {
			stalled = max(stalled, now.Sub(st.lastAdvance).Seconds())
		}
	}
	rate := k.streamRate()
	floor := float64(growFloorBytes)
	if rate > 0 {
		floor = rate / 8 * growFloor.Seconds()
	}
	if backlog > k.prevBacklog && float64(backlog) >= floor {
		k.growing++
	} else {
		k.growing = 0
	}
	k.prevBacklog = backlog
	congested := k.growing >= growSamples || (rate > 0 && float64(backlog)*8 > rate*congestedBacklog.Seconds())
	switch {
	case !congested:
		k.congestedSince = time.Time{}
	case k.congestedSince.IsZero():
		k.congestedSince = now
	}
	below := false
	// With a publisher's figures unknown the rate is only part of the stream's: not judged.
	if k.t.Bitrate > 0 && !unknown {
		if r, full := k.rateAt(len(k.points) - 1); full || now.Sub(k.start) >= rateSpan {
			below = r < belowRatio*k.t.Bitrate
		}
	}
	switch {
	case !below:
		k.belowSince = time.Time{}
	case k.belowSince.IsZero():
		k.belowSince = now
	}
	c := k.current(now)
	c.stalled = stalled
	k.max.stalled = max(k.max.stalled, c.stalled)
	k.max.congested = max(k.max.congested, c.congested)
	k.max.below = max(k.max.below, c.below)
	k.max.growing = max(k.max.growing, c.growing)
}

// current is the conditions as they stand (stalled is filled in by the caller).
func (k *Tracker) current(now time.Time) conditions {
	c := conditions{growing: k.growing}
	if !k.congestedSince.IsZero() {
		c.congested = now.Sub(k.congestedSince).Seconds()
	}
	if !k.belowSince.IsZero() {
		c.below = now.Sub(k.belowSince).Seconds()
	}
	for _, st := range k.conns {
		if st.unknown == "" && st.last.Backlog() > 0 {
			c.stalled = max(c.stalled, now.Sub(st.lastAdvance).Seconds())
		}
	}
	return c
}

// Publishers is the number of connections seen in the last sample, and when one was last seen
// (zero: never).
func (k *Tracker) Publishers() (int, time.Time) { return len(k.conns), k.lastSeen }

// Window is the result since the last Window (or the first sample), with the conditions as they
// stand; the next window starts here.
func (k *Tracker) Window(now time.Time) Result {
	r := k.result(now, func(st *connState) (Conn, time.Time) { return st.base, st.baseAt }, k.current(now))
	for _, st := range k.conns {
		st.base, st.baseAt = st.last, st.lastAt
	}
	return r
}

// Peek is the result between the last two samples (what a live table shows), without starting a
// new window.
func (k *Tracker) Peek(now time.Time) Result {
	return k.result(now, func(st *connState) (Conn, time.Time) { return st.prev, st.prevAt }, k.current(now))
}

// Total is the result over the whole watch: the rate from the first sample to the last (ended
// connections included), the retransmit ratio over every segment, and the worst of each condition.
func (k *Tracker) Total(now time.Time) Result {
	r := k.result(now, func(st *connState) (Conn, time.Time) { return st.firstConn, st.first }, k.max)
	if len(k.points) > 0 && !k.start.IsZero() {
		if d := k.lastObs.Sub(k.start).Seconds(); d > 0 {
			r.WindowSeconds = round(d)
			first := point{k.start, 0}
			r.AckedBps = round(float64(k.points[len(k.points)-1].cum-first.cum) * 8 / d)
		}
	}
	r.SegsOut += k.goneSegs[0]
	r.RetransSegs += k.goneSegs[1]
	if r.FiguresUnknown == "" {
		r.FiguresUnknown = k.unknown // some connection had no figures for part of the watch
	}
	if r.SegsOut > 0 {
		r.RetransmitRatio = max(r.RetransmitRatio, round(float64(r.RetransSegs)/float64(r.SegsOut)))
	}
	return r
}

func (k *Tracker) result(now time.Time, base func(*connState) (Conn, time.Time), cond conditions) Result {
	r := Result{Probe: "live", Ingest: k.ingest(), Connections: []Connection{}, Publishers: len(k.conns),
		BitrateBps: k.t.Bitrate, Reconnects: len(prune(k.recon, now)), ReconnectsTotal: k.reconN}
	var oldest time.Time
	ids := make([]uint64, 0, len(k.conns))
	for id := range k.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	worstRTT := -1.0
	for _, id := range ids {
		st := k.conns[id]
		b, at := base(st)
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
		c := st.last
		x := Connection{Local: c.Local.String(), Remote: c.Remote.String(), Process: c.Process, PID: c.PID,
			RTTSeconds: c.RTT.Seconds(), RTTVarSeconds: c.RTTVar.Seconds(), BacklogBytes: c.Backlog(), NotsentBytes: c.NotsentBytes,
			DeliveryBps: float64(c.DeliveryRate) * 8, AgeSeconds: round(now.Sub(st.first).Seconds())}
		if x.Process == "" {
			x.Process = ProcessUnknown
		}
		if st.unknown != "" {
			x = Connection{Local: x.Local, Remote: x.Remote, Process: x.Process, PID: x.PID, AgeSeconds: x.AgeSeconds, FiguresUnknown: st.unknown}
			if r.FiguresUnknown == "" {
				r.FiguresUnknown = st.unknown
			}
			r.UnknownConnections++
			r.Connections = append(r.Connections, x)
			continue
		}
		if d := st.lastAt.Sub(at).Seconds(); d > 0 {
			x.AckedBps = round(float64(c.BytesAcked-b.BytesAcked) * 8 / d)
		}
		segs, re := c.SegsOut-b.SegsOut, c.TotalRetrans-b.TotalRetrans
		if segs > 0 {
			x.RetransmitRatio = round(float64(re) / float64(segs))
		}
		r.SegsOut += segs
		r.RetransSegs += re
		r.AckedBps += x.AckedBps
		r.DeliveryBps += x.DeliveryBps
		r.BacklogBytes += x.BacklogBytes
		r.NotsentBytes += x.NotsentBytes
		r.RetransmitRatio = max(r.RetransmitRatio, x.RetransmitRatio)
		if x.RTTSeconds > worstRTT {
			worstRTT = x.RTTSeconds
			r.RTTSeconds, r.RTTVarSeconds = x.RTTSeconds, x.RTTVarSeconds
		}
		r.Connections = append(r.Connections, x)
	}
	if !oldest.IsZero() {
		r.WindowSeconds = round(k.lastObs.Sub(oldest).Seconds())
	}
	r.AckedBps = round(r.AckedBps)
	r.StreamBps = round(k.streamRate())
	if r.StreamBps > 0 {
		r.BacklogSeconds = round(float64(r.BacklogBytes) * 8 / r.StreamBps)
	}
	if r.Publishers > 0 {
		r.StalledSeconds = round(cond.stalled)
		r.CongestedSeconds = round(cond.congested)
		r.BacklogGrowing = cond.growing
		r.BelowBitrateSeconds = round(cond.below)
	} else if k.seenAny {
		r.LastSeenSecondsAgo = round(now.Sub(k.lastSeen).Seconds())
	} else {
		r.LastSeenSecondsAgo = -1
	}
	return r
}

// ingest is "addr:port" of the first address, or ":port" when none is known yet.
func (k *Tracker) ingest() string {
	host := ""
	if len(k.t.Addrs) > 0 {
		host = k.t.Addrs[0].String()
	}
	return net.JoinHostPort(host, strconv.Itoa(k.t.Port))
}

// round keeps 6 significant decimals: records and documents stay readable.
func round(f float64) float64 {
	if f == 0 {
		return 0
	}
	const p = 1e6
	if f >= 1e6 || f <= -1e6 {
		return float64(int64(f))
	}
	return float64(int64(f*p+0.5*sign(f))) / p
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}
