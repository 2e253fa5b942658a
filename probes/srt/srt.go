// Package srt probes an SRT ingest the way an encoder in caller mode connects to it — induction,
// the listener's v5 induction response (magic 0x4A17 and a SYN cookie), then the conclusion with
// the SRT extensions (HSREQ, the stream id, key material wrapped with a passphrase-derived key) —
// and records how far it got: the conclusion response (the listener accepted), a rejection with
// its reason (wrong passphrase, passphrase required, stream id refused, resource busy, …), ICMP
// port unreachable (nothing listens), or silence. It never sends media: once accepted, it closes
// the connection with a SHUTDOWN.
//
// Why the handshake is written here rather than taken from github.com/datarhei/gosrt (v0.9.0),
// measured against Haivision's srt-live-transmit 1.5.1 on loopback (right and wrong passphrase,
// none, nothing listening, a UDP port that reads and never answers) with goleak:
//
//   - Dial takes no context and no deadline but its ConnectionTimeout; a run cannot be canceled.
//   - On a rejection Dial returns without stopping its ConnectionTimeout timer, whose callback then
//     blocks for good sending on an unbuffered channel no one reads: one goroutine leaked per
//     wrong passphrase (2 after the two rejections measured, still there 3 s later).
//   - The reason exists only as text, in base 32: "connection rejected: REJECT (vi)" is 1010,
//     SRT_REJ_BADSECRET; a caller would have to parse the message.
//   - Nothing listening took the whole ConnectionTimeout (2.0 s) and read "server didn't respond":
//     the ICMP port unreachable its socket received is dropped, so srt.unreachable cannot be told
//     from srt.timeout. It sends the induction once and never again, so one lost datagram is a
//     timeout too.
//
// The handshake a probe needs is small: four packet shapes, PBKDF2 (crypto/pbkdf2) and AES key
// wrap (RFC 3394, km.go). The probe owns one connected UDP socket, so the kernel's ICMP port
// unreachable arrives as ECONNREFUSED on the next read (Linux, macOS; Go turns that reporting off
// on Windows, where nothing listening reads as a timeout). Every read and write runs under the
// deadline taken from the context; the only goroutine is context.AfterFunc's, which cancellation
// uses to expire that deadline, and Run waits for it before returning. The packet parser is fuzzed
// (fuzz_test.go).
package srt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/ingestprobe/ingestprobe/neterr"
)

// Timing constants.
const (
	// DefaultLatency is the TSBPD delay announced when the URL sets none: libsrt's default for
	// live mode. It does not decide whether the handshake succeeds; the listener answers with the
	// latency it will use.
	DefaultLatency = 120 * time.Millisecond
	// resendInterval is how often an unanswered handshake packet is sent again: libsrt's caller
	// repeats its connection request every 250 ms, so one lost datagram costs what it costs an
	// encoder, not the whole timeout.
	resendInterval = 250 * time.Millisecond
	// fallbackTimeout bounds a run whose context has no deadline: every network operation has one.
	fallbackTimeout = 5 * time.Second
)

// Class is the bounded reason a probe failed. It is safe as a metric label.
type Class string

const (
	OK                = Class(neterr.OK)
	Timeout           = Class(neterr.Timeout)     // no answer before the deadline: UDP dropped, or nothing answers
	Refused           = Class(neterr.Refused)     // ICMP port unreachable (ECONNREFUSED on the connected socket): nothing listens
	Unreachable       = Class(neterr.Unreachable) // ICMP host/network unreachable or admin-prohibited, or no route
	Denied            = Class(neterr.Denied)      // this host's own firewall or policy refused to send
	Canceled          = Class(neterr.Canceled)    // the run was stopped
	Other             = Class(neterr.Other)
	Rejected    Class = "rejected" // the listener refused the connection (RejectReason says why)
	NotSRT      Class = "not_srt"  // the port answered, but not with an SRT handshake
)

// Phase is a step of the handshake. A result's Phase is the one it stopped in: the failing one,
// or the conclusion when the listener accepted.
type Phase string

const (
	PhaseInduction  Phase = "induction"  // induction request → the listener's v5 induction response
	PhaseConclusion Phase = "conclusion" // conclusion with HSREQ, SID, KMREQ → conclusion response
)

// KM states of the listener's answer to the key material (libsrt's SRT_KM_STATE), for KMState.
const (
	KMSecured  = "secured"    // the listener unwrapped the key: the passphrases match
	KMNoSecret = "no_secret"  // the listener has no passphrase
	KMBad      = "bad_secret" // the listener's passphrase differs
	KMNone     = "none"       // the listener ignored the key material
	KMOther    = "unsecured"  // unsecured or still securing
)

// Config says what to connect to and with what.
type Config struct {
	Address netip.AddrPort
	// StreamID is sent in the SID extension. A secret: it never reaches a result, log or error.
	StreamID string
	// Passphrase, when set, sends key material wrapped with a key derived from it. A secret.
	Passphrase string
	// KeyLength is the AES key length in bytes (pbkeylen: 16, 24 or 32); 0 = what the listener
	// advertises, else 16 — as libsrt's caller does.
	KeyLength int
	// Latency is the TSBPD delay announced; 0 = DefaultLatency.
	Latency time.Duration
}

// Probe runs one SRT handshake.
type Probe struct {
	cfg    Config
	dial   func(ctx context.Context, network, address string) (net.Conn, error) // nil = net.Dialer
	random io.Reader                                                            // socket id, sequence number, salt and key
	resend time.Duration
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	return &Probe{cfg: cfg, random: rand.Reader, resend: resendInterval}
}

// Result is what one handshake measured. It holds neither the stream id nor the passphrase: only
// whether each was sent.
type Result struct {
	Probe   string `json:"probe"` // always "srt"
	Address string `json:"address"`
	Port    int    `json:"port"`
	OK      bool   `json:"ok"`
	Error   Class  `json:"error,omitempty"`
	Errno   string `json:"errno,omitempty"`
	Phase   Phase  `json:"phase"`
	// RejectReason names why the listener refused, RejectCode is the code as libsrt's
	// srt_getrejectreason gives it (10 = SRT_REJ_BADSECRET, 1401 = SRT_REJX_UNAUTHORIZED); 0 when
	// the refusal was in the key material answer (KMState) rather than a rejection.
	RejectReason RejectReason `json:"reject_reason,omitempty"`
	RejectCode   int          `json:"reject_code,omitempty"`
	// KMState is the listener's answer to the key material, when a passphrase was sent.
	KMState string `json:"km_state,omitempty"`
	// Detail says more about a not_srt result or an HSv4 listener: "hsv4", "bad_magic", "version".
	Detail     string `json:"detail,omitempty"`
	StreamID   bool   `json:"stream_id"`            // a stream id was sent
	Encrypted  bool   `json:"encrypted"`            // a passphrase was set: key material was sent
	KeyLength  int    `json:"key_length,omitempty"` // AES key bytes of the key material sent
	ListenerKL int    `json:"listener_key_length,omitempty"`
	// PeerVersion is the listener's SRT version from its HSRSP ("1.5.1").
	PeerVersion string `json:"peer_version,omitempty"`
	// LatencySeconds is the receiver latency the listener answered with (its TSBPD delay for
	// this stream).
	LatencySeconds float64 `json:"latency_seconds,omitempty"`
	// RTTSeconds is one UDP round trip: the induction's, or the conclusion's when the induction
	// had to be sent again (a resent packet's answer cannot be matched to one send). 0 when both
	// were resent.
	RTTSeconds        float64 `json:"rtt_seconds,omitempty"`
	InductionSeconds  float64 `json:"induction_seconds,omitempty"`  // first induction sent → its answer
	ConclusionSeconds float64 `json:"conclusion_seconds,omitempty"` // first conclusion sent → its answer
	ElapsedSeconds    float64 `json:"elapsed_seconds"`              // the whole run
	Sends             int     `json:"sends"`                        // handshake packets sent, resends included
	Strays            int     `json:"strays,omitempty"`             // datagrams from the port that were not an answer to this handshake
}

// Run performs the handshake under ctx's deadline. It never fails: failure is in the result.
func (p *Probe) Run(ctx context.Context) (r Result) {
	r = Result{Probe: "srt", Address: p.cfg.Address.Addr().String(), Port: int(p.cfg.Address.Port()),
		Phase: PhaseInduction, StreamID: p.cfg.StreamID != "", Encrypted: p.cfg.Passphrase != ""}
	start := time.Now()
	defer func() { r.ElapsedSeconds = time.Since(start).Seconds() }()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(fallbackTimeout)
	}
	dial := p.dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	// A UDP "dial" sends nothing: it binds a local port and fixes the peer, so the kernel delivers
	// only the listener's datagrams and its ICMP errors to this socket.
	conn, err := dial(ctx, "udp", p.cfg.Address.String())
	if err != nil {
		r.fail(ctx, err)
		return r
	}
	s := newSession(ctx, conn, deadline, p.resend)
	defer s.close()
	p.handshake(ctx, s, &r)
	r.Sends, r.Strays = s.sends, s.strays
	return r
}

func (p *Probe) handshake(ctx context.Context, s *session, r *Result) {
	var ids [8]byte
	if _, err := io.ReadFull(p.random, ids[:]); err != nil {
		r.Error = Other
		return
	}
	// libsrt's socket ids stay below 2^30 (bit 30 marks a group); zero is "no socket".
	socketID := binary.BigEndian.Uint32(ids[:4])&(1<<30-1) | 1
	isn := binary.BigEndian.Uint32(ids[4:]) & 0x7FFFFFFF
	peer := peerAddress(p.cfg.Address.Addr())

	// Induction: a v4-shaped request; a v5 listener answers with the magic and a cookie.
	ind := handshake{version: 4, extension: udtDgram, isn: isn, mtu: defaultMTU, flowWindow: defaultFlowWin,
		hsType: hsInduction, socketID: socketID, peerIP: peer}
	ans, x, err := s.exchange(socketID, ind, func(hs handshake) bool { return hs.hsType == hsInduction || isRejection(hs.hsType) })
	if err != nil {
		r.fail(ctx, err)
		return
	}
	r.InductionSeconds, r.RTTSeconds = x.elapsed.Seconds(), x.rtt.Seconds()
	if isRejection(ans.hsType) {
		r.reject(ans.hsType)
		return
	}
	switch {
	case ans.version == 4:
		// A listener older than SRT 1.3 speaks only the v4 handshake, which has no room for a
		// stream id or HSv5 key material.
		r.Error, r.RejectReason, r.Detail = Rejected, RejectVersion, "hsv4"
		return
	case ans.version != 5:
		r.Error, r.Detail = NotSRT, "version"
		return
	case ans.extension != hsMagic:
		r.Error, r.Detail = NotSRT, "bad_magic"
		return
	}
	r.ListenerKL = keyLenOf(ans.encryption)

	// Conclusion.
	r.Phase = PhaseConclusion
	latency := p.cfg.Latency
	if latency <= 0 {
		latency = DefaultLatency
	}
	ms := uint16(min(latency.Milliseconds(), 0xFFFF))
	con := handshake{version: 5, isn: isn, mtu: defaultMTU, flowWindow: defaultFlowWin, hsType: hsConclusion,
		socketID: socketID, cookie: ans.cookie, peerIP: peer, extension: extFlagHSREQ}
	con.exts = append(con.exts, extension{extHSREQ, hsExt{version: callerVersion, flags: callerFlags, recvDelay: ms, sendDelay: ms}.bytes()})
	if p.cfg.Passphrase != "" {
		kl := p.cfg.KeyLength
		if kl == 0 {
			kl = r.ListenerKL
		}
		if kl == 0 {
			kl = 16
		}
		km, err := keyMaterial(p.cfg.Passphrase, kl, p.random)
		if err != nil {
			r.Error = Other
			return
		}
		r.KeyLength = kl
		con.encryption = uint16(kl / 8)
		con.extension |= extFlagKMREQ
		con.exts = append(con.exts, extension{extKMREQ, km})
	}
	if p.cfg.StreamID != "" {
		con.extension |= extFlagCONFIG
		con.exts = append(con.exts, extension{extSID, streamIDBlock(p.cfg.StreamID)})
	}
	ans, x, err = s.exchange(socketID, con, func(hs handshake) bool { return hs.hsType == hsConclusion || isRejection(hs.hsType) })
	if err != nil {
		r.fail(ctx, err)
		return
	}
	r.ConclusionSeconds = x.elapsed.Seconds()
	if r.RTTSeconds == 0 {
		r.RTTSeconds = x.rtt.Seconds()
	}
	if isRejection(ans.hsType) {
		r.reject(ans.hsType)
		return
	}
	if ans.version != 5 {
		r.Error, r.Detail = NotSRT, "version"
		return
	}
	if b, ok := ans.ext(extHSRSP); ok {
		if e, ok := parseHSExt(b); ok {
			r.PeerVersion = fmt.Sprintf("%d.%d.%d", e.version>>16&0xFF, e.version>>8&0xFF, e.version&0xFF)
			r.LatencySeconds = float64(e.recvDelay) / 1000
		}
	}
	// Accepted: leave at once, so the listener does not keep a stream slot for a caller that
	// sends nothing (it would drop it after its peer idle timeout, 5 s by default).
	_ = s.send(header{ctrlType: ctrlShutdown, dstSocket: ans.socketID}, make([]byte, 4))
	if p.cfg.Passphrase != "" {
		r.KMState = kmState(ans)
		switch r.KMState {
		case KMSecured:
		case KMBad:
			// libsrt's caller, with encryption enforced (its default), gives up on this answer
			// with SRT_REJ_BADSECRET: an encoder would not stream.
			r.Error, r.RejectReason = Rejected, RejectBadSecret
			return
		default:
			r.Error, r.RejectReason = Rejected, RejectUnsecure
			return
		}
	}
	r.OK = true
}

// kmState reads the listener's KMRSP: the key material echoed back means it unwrapped the key; a
// single word is a state saying why not.
func kmState(hs handshake) string {
	b, ok := hs.ext(extKMRSP)
	switch {
	case !ok:
		return KMNone
	case len(b) > 4:
		return KMSecured
	case len(b) < 4:
		return KMOther
	}
	// libsrt copies key material into the packet as bytes already in network order, and treats
	// this one-word state the same way, so it arrives in the host order of the listener:
	// 04 00 00 00 for SRT_KM_S_BADSECRET from a little-endian host. Either order is read.
	state := binary.BigEndian.Uint32(b)
	if state > 0xFF {
		state = binary.LittleEndian.Uint32(b)
	}
	switch state {
	case kmSecured:
		return KMSecured
	case kmNoSecret:
		return KMNoSecret
	case kmBadSecret:
		return KMBad
	}
	return KMOther
}

func keyLenOf(enc uint16) int {
	if enc >= 2 && enc <= 4 {
		return int(enc) * 8
	}
	return 0
}

func (r *Result) reject(hsType uint32) {
	r.Error = Rejected
	r.RejectCode, r.RejectReason = rejectFromWire(hsType)
}

// errNotSRT ends an exchange whose port answered only with datagrams that are not SRT.
var errNotSRT = errors.New("srt: the port answered, but not with an SRT handshake")

// fail records a network error: its class and errno.
func (r *Result) fail(ctx context.Context, err error) {
	if errors.Is(err, errNotSRT) {
		r.Error = NotSRT
		return
	}
	c, errno := neterr.Classify(err)
	if ctx.Err() != nil {
		// The deadline (or a cancellation) ended a read: the context says which.
		c, errno = neterr.Classify(ctx.Err())
	}
	switch c {
	case neterr.Reset, neterr.Resolve, neterr.Unsupported:
		c = neterr.Other
	}
	r.Error, r.Errno = Class(c), neterr.ErrnoName(errno)
}

// session is the probe's UDP socket under one deadline.
type session struct {
	conn     net.Conn
	deadline time.Time
	resend   time.Duration
	start    time.Time
	buf      []byte

	mu        sync.Mutex
	canceled  bool
	stopWatch func() bool
	watchDone chan struct{}

	sends, strays int
}

func newSession(ctx context.Context, conn net.Conn, deadline time.Time, resend time.Duration) *session {
	s := &session{conn: conn, deadline: deadline, resend: resend, start: time.Now(), buf: make([]byte, maxDatagram+1)}
	_ = conn.SetDeadline(deadline)
	// Cancellation (not only the deadline) must stop a blocked read: expire the deadline then.
	s.watchDone = make(chan struct{})
	s.stopWatch = context.AfterFunc(ctx, func() {
		defer close(s.watchDone)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.canceled = true
		_ = conn.SetDeadline(time.Unix(1, 0))
	})
	return s
}

func (s *session) close() {
	if !s.stopWatch() {
		<-s.watchDone
	}
	_ = s.conn.Close()
}

// setReadDeadline moves the read deadline, never past the session's and never after a cancellation.
func (s *session) setReadDeadline(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.canceled {
		_ = s.conn.SetReadDeadline(t)
	}
}

func (s *session) timestamp() uint32 { return uint32(time.Since(s.start).Microseconds()) }

func (s *session) send(h header, cif []byte) error {
	h.timestamp = s.timestamp()
	_, err := s.conn.Write(append(h.appendTo(make([]byte, 0, headerLen+len(cif))), cif...))
	return err
}

// exchangeTimes are one exchange's measurements.
type exchangeTimes struct {
	elapsed time.Duration // first send → the answer
	rtt     time.Duration // the answer's round trip; 0 when the packet was sent more than once
}

// exchange sends hs, again every resend interval, until a handshake addressed to socketID that
// want accepts arrives, or the deadline passes. Other datagrams are counted as strays and skipped;
// if the port sent only datagrams that are not SRT control packets, the error is errNotSRT.
func (s *session) exchange(socketID uint32, hs handshake, want func(handshake) bool) (handshake, exchangeTimes, error) {
	cif := hs.appendTo(nil)
	var first, last time.Time
	sends, foreign, srtSeen := 0, 0, false
	for {
		now := time.Now()
		if sends == 0 || !now.Before(last.Add(s.resend)) {
			// The clock starts before the write, as ping's does: on loopback the kernel may run
			// the listener's answer before the write returns.
			last = time.Now()
			if err := s.send(header{ctrlType: ctrlHandshake}, cif); err != nil {
				return handshake{}, exchangeTimes{}, err
			}
			if sends == 0 {
				first = last
			}
			sends++
			s.sends++
		}
		next := last.Add(s.resend)
		if next.After(s.deadline) {
			next = s.deadline
		}
		s.setReadDeadline(next)
		n, err := s.conn.Read(s.buf)
		got := time.Now()
		if err != nil {
			switch {
			case neterr.Truncated(err):
				foreign++
				s.strays++
				continue
			case neterr.IsDeadline(err) && !s.isCanceled() && got.Before(s.deadline):
				continue // the resend interval passed: send again
			case neterr.IsDeadline(err) && foreign > 0 && !srtSeen:
				return handshake{}, exchangeTimes{}, fmt.Errorf("srt: %d datagrams, none an SRT control packet: %w", foreign, errNotSRT)
			}
			return handshake{}, exchangeTimes{}, err
		}
		h, ans, perr := parsePacket(s.buf[:n])
		switch {
		case n > maxDatagram || errors.Is(perr, errNotControl) || errors.Is(perr, errShort) && len(s.buf[:n]) < headerLen:
			foreign++ // not SRT: a data packet or anything else is not what a listener sends a caller here
			s.strays++
			continue
		case perr != nil || h.dstSocket != socketID || !want(ans):
			srtSeen = true // SRT, but not the answer: a late answer to an earlier packet, another control packet
			s.strays++
			continue
		}
		t := exchangeTimes{elapsed: got.Sub(first)}
		if sends == 1 {
			t.rtt = got.Sub(last)
		}
		return ans, t, nil
	}
}

func (s *session) isCanceled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.canceled
}
