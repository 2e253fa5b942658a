// Package clock measures how far this host's clock is from a trusted reference — an NTP server asked
// once with SNTP (RFC 4330) — because signed push URLs (txTime) and TLS certificates are judged
// against the clock, and a venue laptop's clock is often minutes off.
package clock

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"time"

	"github.com/ingestprobe/ingestprobe/neterr"
)

// Class is the bounded reason a measurement failed. It is safe as a metric label.
type Class string

const (
	OK             Class = ""
	Timeout        Class = "timeout"        // no answer in time: a dead server, or UDP 123 dropped
	Refused        Class = "refused"        // ICMP port unreachable: nothing serves NTP there
	Unreachable    Class = "unreachable"    // no route, or an ICMP unreachable
	Resolve        Class = "resolve"        // the server's name did not resolve
	BadReply       Class = "bad_reply"      // replies came, but none was a valid answer to our request
	Unsynchronized Class = "unsynchronized" // the server does not know the time itself (LI=3, stratum > 15)
	Kiss           Class = "kiss"           // a kiss-o'-death: the server told us to go away (RATE, DENY, …)
	Canceled       Class = "canceled"
	Other          Class = "other"
)

// DefaultPort is NTP's.
const DefaultPort = "123"

// defaultTimeout applies when the caller's context has no deadline: one UDP round trip to an NTP
// server takes milliseconds; 5 s is the agent's probe default and no probe may wait forever.
const defaultTimeout = 5 * time.Second

// maxReads bounds how many datagrams are read while waiting for the answer: stale or spoofed ones
// are skipped, but a flood must not keep the probe reading until its deadline.
const maxReads = 8

// Config says which server to ask.
type Config struct {
	Server string // host:port
}

// Probe asks one NTP server for the time, once.
type Probe struct {
	cfg   Config
	dial  func(ctx context.Context, network, address string) (net.Conn, error)
	now   func() time.Time
	nonce func() [8]byte
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	var d net.Dialer
	return &Probe{cfg: cfg, dial: d.DialContext, now: time.Now, nonce: randomNonce}
}

// Result is what one exchange measured. The offset is the server's time minus this host's: positive
// when this host's clock is behind.
type Result struct {
	Probe           string  `json:"probe"`  // always "clock"
	Source          string  `json:"source"` // "ntp"; the HTTP sink's Date header will be "http_date"
	Server          string  `json:"server"`
	Address         string  `json:"address,omitempty"` // the address that answered
	OK              bool    `json:"ok"`
	Error           Class   `json:"error,omitempty"`
	Errno           string  `json:"errno,omitempty"`
	KissCode        string  `json:"kiss_code,omitempty"`
	Stratum         int     `json:"stratum,omitempty"`
	OffsetSeconds   float64 `json:"offset_seconds"`
	RTTSeconds      float64 `json:"rtt_seconds"` // round-trip delay, the server's own processing time excluded
	DurationSeconds float64 `json:"duration_seconds"`
}

// Offset is OffsetSeconds as a duration.
func (r Result) Offset() time.Duration {
	return time.Duration(r.OffsetSeconds * float64(time.Second))
}

// Run asks the server under ctx's deadline (5 s when ctx has none).
func (p *Probe) Run(ctx context.Context) Result {
	start := p.now()
	r := Result{Probe: "clock", Source: "ntp", Server: p.cfg.Server}
	defer func() { r.DurationSeconds = p.now().Sub(start).Seconds() }()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	p.exchange(ctx, &r)
	return r
}

func (p *Probe) exchange(ctx context.Context, r *Result) {
	conn, err := p.dial(ctx, "udp", p.cfg.Server)
	if err != nil {
		r.Error, r.Errno = classify(err)
		return
	}
	defer conn.Close()
	r.Address = conn.RemoteAddr().String()
	// The connection has no context: its deadline is the context's, and a cancel interrupts the read.
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = conn.SetDeadline(time.Unix(1, 0))
	})
	defer func() {
		if !stop() {
			<-fired // the hook's goroutine does not outlive the exchange
		}
	}()

	// The transmit timestamp carries a random nonce instead of our time (RFC 9109 §4): it cannot be
	// guessed by an off-path spoofer, and our clock, the thing being judged, is not sent.
	nonce := p.nonce()
	req := make([]byte, 48)
	req[0] = 0<<6 | 4<<3 | 3 // LI 0, version 4, mode 3 (client)
	copy(req[40:48], nonce[:])
	t1 := p.now()
	if _, err := conn.Write(req); err != nil {
		r.Error, r.Errno = classifyCtx(ctx, err)
		return
	}
	buf := make([]byte, 512)
	sawReply := false
	for range maxReads {
		n, err := conn.Read(buf)
		t4 := p.now()
		if err != nil {
			r.Error, r.Errno = classifyCtx(ctx, err)
			if r.Error == Timeout && sawReply {
				r.Error, r.Errno = BadReply, ""
			}
			return
		}
		if n < 48 || [8]byte(buf[24:32]) != nonce {
			// Too short, or not an answer to this request (late, duplicated or spoofed): keep waiting.
			sawReply = true
			continue
		}
		p.parse(buf[:n], t1, t4, r)
		return
	}
	r.Error = BadReply
}

// parse checks an answer that echoes our nonce and computes offset and delay (RFC 4330 §5):
// offset = ((T2−T1) + (T3−T4)) / 2, delay = (T4−T1) − (T3−T2).
func (p *Probe) parse(b []byte, t1, t4 time.Time, r *Result) {
	li, vn, mode := b[0]>>6, (b[0]>>3)&7, b[0]&7
	stratum := int(b[1])
	r.Stratum = stratum
	t2, t3 := ntpTime(b[32:40]), ntpTime(b[40:48])
	switch {
	case mode != 4 || vn < 3 || vn > 4:
		r.Error = BadReply
		return
	case stratum == 0:
		r.Error = Kiss
		r.KissCode = kissCode(b[12:16])
		return
	case li == 3 || stratum > 15:
		r.Error = Unsynchronized
		return
	case binary.BigEndian.Uint64(b[40:48]) == 0 || t3.Before(t2):
		r.Error = BadReply
		return
	}
	// T4 is taken as T1 plus the monotonic time elapsed, so a clock step during the exchange does not
	// enter the offset.
	t4 = t1.Add(t4.Sub(t1))
	offset := (t2.Sub(t1) + t3.Sub(t4)) / 2
	delay := t4.Sub(t1) - t3.Sub(t2)
	r.OK = true
	r.OffsetSeconds = offset.Seconds()
	r.RTTSeconds = max(delay, 0).Seconds()
}

// ntpEpoch is 1900-01-01 in Unix seconds.
const ntpEpoch = -2208988800

// ntpTime reads a 64-bit NTP timestamp. RFC 4330 §3: with the top bit of the seconds set the time is
// in 1968–2036 (era 0); with it clear, in 2036–2104 (era 1) — so the 2036 rollover reads right.
func ntpTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint32(b[0:4]))
	frac := int64(binary.BigEndian.Uint32(b[4:8]))
	if sec&0x80000000 == 0 {
		sec += 1 << 32
	}
	return time.Unix(sec+ntpEpoch, (frac*1e9)>>32)
}

// kissCode is the ASCII code of a kiss-o'-death, or "other" when it is not four capital letters:
// the field comes from the network and must not put arbitrary text in a label.
func kissCode(b []byte) string {
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return "other"
		}
	}
	return string(b)
}

func randomNonce() [8]byte {
	var n [8]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never fails on supported platforms
	return n
}

func classifyCtx(ctx context.Context, err error) (Class, string) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return Canceled, ""
	}
	return classify(err)
}

// classify maps neterr's classes to this probe's: UDP fails the ways TCP does, and a refused port is
// an ICMP port unreachable.
func classify(err error) (Class, string) {
	c, errno := neterr.Classify(err)
	name := neterr.ErrnoName(errno)
	switch c {
	case neterr.Canceled:
		return Canceled, ""
	case neterr.Timeout:
		return Timeout, name
	case neterr.Resolve:
		return Resolve, ""
	case neterr.Refused:
		return Refused, name
	case neterr.Unreachable:
		return Unreachable, name
	}
	return Other, name
}
