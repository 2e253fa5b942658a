// Package rtmp probes an RTMP or RTMPS ingest the way an encoder uses it — TCP connect, TLS for
// rtmps://, the C0/C1 → S0/S1/S2 → C2 handshake, then by level NetConnection.connect to the app and
// a publish of the stream — and records how far it got, why it stopped (a bounded class and the
// server's status code) and how long each phase took.
//
// What comes from github.com/yutopp/go-rtmp, and why not more: the probe uses its handshake package
// (the S0/C0, S1/C1 and S2/C2 wire types with their Encoder and Decoder) and encodes the commands it
// sends with github.com/yutopp/go-amf0. It does not use go-rtmp's client (rtmp.Dial, ClientConn),
// its ChunkStreamer or go-amf0's decoder, because none of them can be driven under a deadline
// against a hostile server without leaking or crashing:
//
//   - Dial takes no context, and ClientConn.Connect and CreateStream wait for the reply on a channel
//     with context.TODO() that nothing closes when the connection dies: against a server that
//     completes the handshake and never answers connect, Connect was still blocked 3 s after
//     ClientConn.Close — a goroutine leaked for good on every such probe.
//   - ChunkStreamer starts a writer goroutine per connection, writes under its own fixed 5 s
//     timeout, and panics ("invalid state") on a zero-length message from the server.
//   - go-amf0's decoder allocates a strict array's declared length before reading an element: five
//     bytes claiming 2^24 elements allocated 256 MiB (and a count of up to 2^31-1 is accepted). It
//     also rejects `undefined`, which servers send.
//
// So this package writes its few client messages itself, reads the chunk stream with limits on
// message size and chunk streams (chunk.go), and decodes replies with a bounded AMF0 decoder
// (amf.go). Every read and write runs under the connection deadline taken from the context; the
// only goroutine is context.AfterFunc's, which cancellation uses to expire that deadline, and Run
// waits for it before returning.
//
// Enhanced RTMP: the connect command offers the codecs an HEVC, AV1 or VP9 encoder would
// (fourCcList: hvc1, av01, vp09), and the result records those the ingest announces back. An
// ingest that ignores the offer is unaffected; one that refuses a connect carrying it is asked
// again without it, so the offer never fails an ingest a plain H.264 encoder would get into.
package rtmp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yutopp/go-rtmp/handshake"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/neterr"
)

// Level says how far a probe goes.
type Level string

const (
	LevelOff       Level = "off"       // no RTMP probe
	LevelHandshake Level = "handshake" // the handshake only: no application or stream is touched
	LevelConnect   Level = "connect"   // NetConnection.connect to the app, no stream
	LevelPublish   Level = "publish"   // publish the stream, hold it briefly, unpublish: occupies the stream
)

// Levels in order, for validation messages and flags.
var Levels = []Level{LevelOff, LevelHandshake, LevelConnect, LevelPublish}

// ParseLevel accepts the names of Levels; "" is LevelHandshake, the default.
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return LevelHandshake, nil
	}
	for _, l := range Levels {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("%q is not an RTMP level (off, handshake, connect or publish)", s)
}

// Phase is a step of the probe. A result's Phase is the one it stopped in: the failing one, or
// the last one completed when the probe succeeded.
type Phase string

const (
	PhaseConnect      Phase = "connect"       // TCP connect
	PhaseTLS          Phase = "tls"           // TLS handshake (rtmps)
	PhaseHandshake    Phase = "handshake"     // C0/C1 → S0/S1/S2 → C2
	PhaseRTMPConnect  Phase = "rtmp_connect"  // NetConnection.connect → _result
	PhaseCreateStream Phase = "create_stream" // releaseStream, FCPublish, createStream → _result
	PhasePublish      Phase = "publish"       // publish → onStatus
	PhaseHold         Phase = "hold"          // holding the accepted publish
)

// Class is the bounded reason a probe failed. It is safe as a metric label.
type Class string

const (
	OK            Class = ""
	ConnectFailed Class = "connect_failed" // TCP connect failed other than by timeout (Errno says how)
	Timeout       Class = "timeout"        // the phase did not finish before the deadline
	Closed        Class = "closed"         // the server closed or reset the connection
	NotRTMP       Class = "not_rtmp"       // the reply to C0/C1 is not an RTMP handshake
	TLS           Class = "tls"            // the TLS session failed (TLSReason says why)
	Rejected      Class = "rejected"       // the server answered with an error status (Status says which)
	InUse         Class = "in_use"         // NetStream.Publish.BadName: someone already publishes the stream
	Protocol      Class = "protocol"       // the server broke the chunk stream or AMF0 rules, or exceeded a limit
	Canceled      Class = "canceled"       // the run was stopped
	Other         Class = "other"
)

// Timing constants.
const (
	// DefaultHold is how long an accepted publish is held: 2 s catches the servers that accept and
	// then drop (a signature or on_publish check finishing late) while occupying the stream briefly.
	DefaultHold = 2 * time.Second
	// fallbackTimeout bounds a run whose context has no deadline: every network operation has one.
	fallbackTimeout = 5 * time.Second
	// sniffWait is how long a wrong first byte waits for more bytes, to tell HTTP from TLS from
	// garbage: an HTTP or TLS reply arrives in one segment, so a fraction of an RTT is plenty.
	sniffWait = 200 * time.Millisecond
	// cleanupReserve is kept back from the hold for FCUnpublish/deleteStream and the close, so an
	// accepted publish is always released before the deadline.
	cleanupReserve = 300 * time.Millisecond
	// closeWait bounds waiting for the server to close after deleteStream: its close tells us the
	// stream is released, so the encoder that publishes next is not refused as a duplicate.
	closeWait = time.Second
)

// Protocol constants.
const (
	rtmpVersion = 3
	// outChunkSize is announced with Set Chunk Size before connect, as OBS and ffmpeg do, so a
	// publish name with a long signed query travels in one chunk.
	outChunkSize = 4096
	// flashVer marks the client as a live encoder (FMLE), which is what ingest servers expect from
	// a publisher.
	flashVer = "FMLE/3.0 (compatible; ingestprobe)"
	// maxMessagesPerWait bounds the messages read while waiting for one reply (servers send a few
	// control messages and onBWDone first); maxMessagesPerHold bounds them during the hold.
	maxMessagesPerWait = 64
	maxMessagesPerHold = 1024
	// Transaction IDs, in the order OBS uses them.
	txnConnect, txnReleaseStream, txnFCPublish, txnCreateStream, txnPublish, txnFCUnpublish, txnDeleteStream = 1, 2, 3, 4, 5, 6, 7
	// Chunk stream IDs: 2 for protocol control (RTMP spec §5.4), 3 for commands on stream 0, 4 for
	// the publish on the new message stream.
	csControl, csCommand, csStream = 2, 3, 4
)

// OfferedCodecs are the Enhanced RTMP codecs offered in connect (fourCcList): HEVC, AV1, VP9.
var OfferedCodecs = []string{"hvc1", "av01", "vp09"}

// Status codes with a meaning of their own.
const (
	StatusConnectSuccess = "NetConnection.Connect.Success"
	StatusPublishStart   = "NetStream.Publish.Start"
	StatusPublishBadName = "NetStream.Publish.BadName"
)

// Config says what to probe.
type Config struct {
	Address netip.AddrPort // the resolved address to connect to
	// URL gives the scheme (rtmps = TLS), the host for SNI and verification, the app, tcUrl and the
	// publish name. It holds the stream key: never log it.
	URL                *ingesturl.URL
	Level              Level         // "" = LevelHandshake
	CAFile             string        // PEM roots trusted besides the system's, for rtmps
	InsecureSkipVerify bool          // rtmps without verifying the certificate
	Hold               time.Duration // how long to hold an accepted publish; 0 = DefaultHold
	// Conn, when set, is an open TCP connection to Address (the agent hands over the TCP probe's
	// connection to the ingest port): the session continues on it instead of dialing, so a
	// receiver that takes one connection works and the ingest sees one client per run. The probe
	// owns it from New on and closes it, whether Run uses it or not.
	Conn net.Conn
	// MaxSegment, when set, is TCP_MAXSEG on the socket before it connects: the MSS announced in
	// the SYN and the largest segment sent, so segments both ways stay under it — the retry that
	// tells a path MTU black hole from a dead server (maxseg.go). A handed-over Conn was dialed
	// without it; the agent hands none to a retry.
	MaxSegment int
	// Stream, if set with LevelPublish, runs in place of the hold once the server has accepted
	// the publish: it is handed the publish stream to send media on (stream.go). Its context ends
	// early enough for the release; its error (a failed write) ends the hold phase like a drop.
	// The uplink soak (probes/uplink, wired by the agent) is what uses it.
	Stream func(ctx context.Context, st *Stream) error
}

// Probe runs one RTMP session against Config.Address.
type Probe struct {
	cfg    Config
	connMu sync.Mutex
	conn   net.Conn // Config.Conn until a session takes it
	dial   func(ctx context.Context, network, address string) (net.Conn, error)
	now    func() time.Time
	random func([]byte)
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	if cfg.Level == "" {
		cfg.Level = LevelHandshake
	}
	if cfg.Hold <= 0 {
		cfg.Hold = DefaultHold
	}
	var d net.Dialer
	if cfg.MaxSegment > 0 {
		d.Control = maxSegment(cfg.MaxSegment)
	}
	return &Probe{cfg: cfg, conn: cfg.Conn, dial: d.DialContext, now: time.Now, random: func(b []byte) { _, _ = rand.Read(b) }}
}

// Result is what one session measured. It holds no stream name, query or key: the status
// description is kept only for connect replies, which are sent before the server sees any secret.
type Result struct {
	Probe              string    `json:"probe"` // always "rtmp"
	Address            string    `json:"address"`
	Port               int       `json:"port"`
	TLS                bool      `json:"tls"`
	Level              Level     `json:"level"`
	OK                 bool      `json:"ok"`
	Phase              Phase     `json:"phase,omitempty"`
	Error              Class     `json:"error,omitempty"`
	Errno              string    `json:"errno,omitempty"`
	TLSReason          TLSReason `json:"tls_reason,omitempty"`
	InsecureSkipVerify bool      `json:"insecure_skip_verify,omitempty"`
	// Certificate is the server's certificate when verifying it failed (tls_reason unknown
	// authority, name mismatch, expired, not yet valid).
	Certificate *Certificate `json:"certificate,omitempty"`
	// ReusedConnection: the session ran on the TCP probe's connection (Config.Conn), so it has no
	// TCP connect of its own (connect_seconds 0).
	ReusedConnection bool `json:"reused_connection,omitempty"`
	// What came back instead of a handshake: the first byte (S0) in hex when it was not 3, what
	// the reply looks like (http, tls, ssh), and an HTTP status code when one was readable.
	S0         string `json:"s0,omitempty"`
	LooksLike  string `json:"looks_like,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	// BytesReceived counts the bytes the server sent up to the end of the handshake phase (3073 for
	// a complete S0+S1+S2), to tell a silent server from a slow one.
	BytesReceived       int     `json:"bytes_received"`
	Status              string  `json:"status,omitempty"` // the last status code: NetConnection.Connect.Success, NetStream.Publish.BadName …
	StatusDescription   string  `json:"status_description,omitempty"`
	ConnectSeconds      float64 `json:"connect_seconds"`
	TLSSeconds          float64 `json:"tls_seconds,omitempty"`
	HandshakeSeconds    float64 `json:"handshake_seconds,omitempty"`
	RTMPConnectSeconds  float64 `json:"rtmp_connect_seconds,omitempty"`
	CreateStreamSeconds float64 `json:"create_stream_seconds,omitempty"`
	PublishSeconds      float64 `json:"publish_seconds,omitempty"` // publish sent → onStatus received
	HoldSeconds         float64 `json:"hold_seconds,omitempty"`
	// Codecs are the Enhanced RTMP codecs (FourCCs: hvc1, av01, vp09, …) the ingest announced in
	// its connect reply, in its order; none when it ignored the offer of OfferedCodecs.
	Codecs []string `json:"codecs,omitempty"`
	// MaxSegment is Config.MaxSegment: the session ran with TCP_MAXSEG lowered to it.
	MaxSegment int `json:"max_segment,omitempty"`
	// Role is set by the pipeline: "other_family" for the handshake on the second address family
	// of a host with both A and AAAA records.
	Role string `json:"role,omitempty"`
	// EnhancedRefused: the ingest refused the connect that offered Enhanced RTMP codecs and
	// accepted one without the offer; the rest of the result is the plain connect's.
	EnhancedRefused bool `json:"enhanced_rtmp_refused,omitempty"`
}

// Run probes under ctx's deadline (fallbackTimeout when it has none). It never returns an error:
// how far it got and why it stopped are in the Result.
func (p *Probe) Run(ctx context.Context) Result {
	defer p.dropConn()
	cfg := p.cfg
	r := Result{Probe: "rtmp", Address: cfg.Address.Addr().String(), Port: int(cfg.Address.Port()), Level: cfg.Level, MaxSegment: cfg.MaxSegment}
	if cfg.URL == nil {
		r.Error = Other
		return r
	}
	r.TLS = cfg.URL.Scheme == "rtmps"
	r.InsecureSkipVerify = r.TLS && cfg.InsecureSkipVerify
	if cfg.Level == LevelOff {
		return r
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fallbackTimeout)
		defer cancel()
	}
	first := p.attempt(ctx, r, true)
	if first.ReusedConnection && first.Phase == PhaseHandshake && first.Error == Closed && first.BytesReceived == 0 && ctx.Err() == nil {
		// The connection handed over was closed before the server said anything: the server
		// dropped it while it sat idle (the other TCP connects were still running). That says
		// nothing about RTMP: ask on a connection of our own.
		first = p.attempt(ctx, r, true)
	}
	if !refusedAtConnect(first) || ctx.Err() != nil {
		return first
	}
	// The connect that offered Enhanced RTMP codecs was refused: an ingest may choke on the offer
	// (a strict connect parser, an unknown property) and still take a plain H.264 encoder, which
	// would send none. Ask once more as that encoder does; only a plain connect that gets further
	// says the offer was the cause.
	plain := p.attempt(ctx, r, false)
	if plain.Connected() {
		plain.EnhancedRefused = true
		return plain
	}
	return first
}

// takeConn hands out Config.Conn once: the first session continues on it, a retry dials anew.
func (p *Probe) takeConn() net.Conn {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	c := p.conn
	p.conn = nil
	return c
}

// dropConn closes Config.Conn when no session took it (level off, no URL, canceled before).
func (p *Probe) dropConn() {
	if c := p.takeConn(); c != nil {
		_ = c.Close()
	}
}

// refusedAtConnect says the ingest refused the connect itself: an error status, a close, or a
// reply that broke the protocol — not a timeout, which a second connect could only repeat.
func refusedAtConnect(r Result) bool {
	if r.Phase != PhaseRTMPConnect || r.Level == LevelHandshake {
		return false
	}
	return r.Error == Rejected || r.Error == Closed || r.Error == Protocol
}

// Connected says the ingest accepted NetConnection.connect: the result ended after it, or with it
// at the connect level.
func (r Result) Connected() bool {
	return r.Phase.after(PhaseRTMPConnect) || (r.OK && r.Phase == PhaseRTMPConnect)
}

// phaseOrder is the order of the phases a session goes through.
var phaseOrder = []Phase{PhaseConnect, PhaseTLS, PhaseHandshake, PhaseRTMPConnect, PhaseCreateStream, PhasePublish, PhaseHold}

// after says ph comes after q in a session.
func (ph Phase) after(q Phase) bool {
	return slices.Index(phaseOrder, ph) > slices.Index(phaseOrder, q)
}

// attempt runs one session from r (the result's fixed fields), offering the Enhanced RTMP codecs
// in connect when enhanced is set.
func (p *Probe) attempt(ctx context.Context, r Result, enhanced bool) Result {
	s := &session{p: p, ctx: ctx, res: &r, addr: p.cfg.Address.String(), enhanced: enhanced}
	s.deadline, _ = ctx.Deadline()
	err := s.run()
	s.release()
	s.close()
	if err == nil {
		r.OK = true
		return r
	}
	r.Error, r.Errno = s.classify(err)
	if r.Phase == PhaseTLS && r.Error != Canceled {
		r.Error, r.TLSReason = TLS, classifyTLS(err)
		r.Certificate = CertificateOf(err)
	}
	return r
}

// session is one connection's state.
type session struct {
	p        *Probe
	ctx      context.Context
	res      *Result
	addr     string
	deadline time.Time

	enhanced bool     // offer the Enhanced RTMP codecs in connect
	raw      net.Conn // the TCP connection: deadlines are set on it
	conn     net.Conn // raw, or the TLS client over it
	received int      // bytes read from conn
	br       *bufio.Reader
	chunks   *chunkReader
	out      []byte
	streamID uint32

	mu         sync.Mutex
	canceled   bool
	stopWatch  func() bool
	watchDone  chan struct{}
	publishing bool
	written    uint64 // bytes written since the handshake: what an RTMP Acknowledgement counts
}

// countingReader counts the bytes the server sent.
type countingReader struct {
	r io.Reader
	n *int
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += n
	return n, err
}

func (s *session) run() error {
	r := s.res
	if c := s.p.takeConn(); c != nil {
		// The TCP probe's connection: its connect was measured there (connect_seconds stays 0).
		r.Phase, r.ReusedConnection = PhaseConnect, true
		if err := s.use(c); err != nil {
			return fmt.Errorf("rtmp: %s: %w", s.addr, err)
		}
	} else if err := s.phase(PhaseConnect, &r.ConnectSeconds, s.dial); err != nil {
		return err
	}
	if r.TLS {
		if err := s.phase(PhaseTLS, &r.TLSSeconds, s.tls); err != nil {
			return err
		}
	}
	s.br = bufio.NewReaderSize(countingReader{s.conn, &s.received}, 4096)
	err := s.phase(PhaseHandshake, &r.HandshakeSeconds, s.handshake)
	r.BytesReceived = s.received
	s.written = 0 // a server's Acknowledgement counts from here
	if err != nil || r.Level == LevelHandshake {
		return err
	}
	s.chunks = newChunkReader(s.br)
	if err := s.phase(PhaseRTMPConnect, &r.RTMPConnectSeconds, s.rtmpConnect); err != nil || r.Level == LevelConnect {
		return err
	}
	if err := s.phase(PhaseCreateStream, &r.CreateStreamSeconds, s.createStream); err != nil {
		return err
	}
	if err := s.phase(PhasePublish, &r.PublishSeconds, s.publish); err != nil {
		return err
	}
	if s.p.cfg.Stream != nil {
		return s.phase(PhaseHold, &r.HoldSeconds, s.stream)
	}
	return s.phase(PhaseHold, &r.HoldSeconds, s.hold)
}

// phase runs f as ph, timing it and naming the operation in its error.
func (s *session) phase(ph Phase, dst *float64, f func() error) error {
	s.res.Phase = ph
	start := s.p.now()
	err := f()
	*dst = s.p.now().Sub(start).Seconds()
	if err != nil {
		return fmt.Errorf("rtmp: %s %s: %w", strings.ReplaceAll(string(ph), "_", " "), s.addr, err)
	}
	return nil
}

func (s *session) dial() error {
	c, err := s.p.dial(s.ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	return s.use(c)
}

// use makes c the session's connection, under the session's deadline and cancellation.
func (s *session) use(c net.Conn) error {
	s.raw, s.conn = c, c
	if err := c.SetDeadline(s.deadline); err != nil {
		return err
	}
	// Cancellation (not only the deadline) must stop a blocked read: expire the deadline then.
	s.watchDone = make(chan struct{})
	s.stopWatch = context.AfterFunc(s.ctx, func() {
		defer close(s.watchDone)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.canceled = true
		_ = s.raw.SetDeadline(time.Unix(1, 0))
	})
	return nil
}

// setDeadline moves the connection deadline, unless the run was canceled: a late deadline must not
// revive a canceled connection.
func (s *session) setDeadline(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.canceled {
		_ = s.raw.SetDeadline(t)
	}
}

func (s *session) close() {
	if s.stopWatch != nil && !s.stopWatch() {
		<-s.watchDone
	}
	if s.raw != nil {
		_ = s.raw.Close()
	}
}

func (s *session) tls() error {
	cfg, err := tlsConfig(s.p.cfg.URL.Host, s.p.cfg.CAFile, s.p.cfg.InsecureSkipVerify)
	if err != nil {
		return err
	}
	tc := tls.Client(s.raw, cfg)
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return err
	}
	s.conn = tc
	return nil
}

func (s *session) write(b []byte) error {
	n, err := s.conn.Write(b)
	s.written += uint64(n)
	return err
}

// notRTMPError is a reply to C0/C1 that is not an RTMP handshake.
type notRTMPError struct {
	s0         byte
	looksLike  string
	httpStatus int
}

func (e *notRTMPError) Error() string {
	if e.looksLike != "" {
		return fmt.Sprintf("the server answered with %s, not an RTMP handshake (first byte 0x%02x)", strings.ToUpper(e.looksLike), e.s0)
	}
	return fmt.Sprintf("the server answered version 0x%02x instead of %d", e.s0, rtmpVersion)
}

func (s *session) handshake() error {
	// C0 and C1 go in one write: servers answer S0 and S1 only after C1 is complete. A C1 version
	// of zero asks for the plain handshake, which every server supports, rather than the digest one.
	var buf bytes.Buffer
	buf.Grow(1 + 1536)
	enc := handshake.NewEncoder(&buf)
	c0 := handshake.S0C0(rtmpVersion)
	c1 := handshake.S1C1{}
	s.p.random(c1.Random[:])
	if err := enc.EncodeS0C0(&c0); err != nil {
		return err
	}
	if err := enc.EncodeS1C1(&c1); err != nil {
		return err
	}
	if err := s.write(buf.Bytes()); err != nil {
		return fmt.Errorf("sending C0+C1: %w", err)
	}
	s0, err := s.br.ReadByte()
	if err != nil {
		return fmt.Errorf("waiting for S0: %w", err)
	}
	if s0 != rtmpVersion {
		return s.notRTMP(s0)
	}
	dec := handshake.NewDecoder(s.br)
	var s1 handshake.S1C1
	if err := dec.DecodeS1C1(&s1); err != nil {
		return fmt.Errorf("reading S1: %w", err)
	}
	// C2 echoes S1 and is sent before S2 is read: some servers hold S2 until they have C2.
	buf.Reset()
	c2 := handshake.S2C2{Time: s1.Time, Random: s1.Random}
	if err := handshake.NewEncoder(&buf).EncodeS2C2(&c2); err != nil {
		return err
	}
	if err := s.write(buf.Bytes()); err != nil {
		return fmt.Errorf("sending C2: %w", err)
	}
	var s2 handshake.S2C2
	if err := dec.DecodeS2C2(&s2); err != nil {
		return fmt.Errorf("reading S2: %w", err)
	}
	// S2 should echo C1, but servers using the digest handshake do not: its content is not checked.
	return nil
}

// notRTMP describes a wrong first byte, reading a little more to tell what the server speaks.
func (s *session) notRTMP(s0 byte) error {
	const want = 16
	if s.br.Buffered() < want {
		s.setDeadline(minTime(s.deadline, s.p.now().Add(sniffWait)))
		_, _ = s.br.Peek(want) // returns what arrived by then
		s.setDeadline(s.deadline)
	}
	rest, _ := s.br.Peek(min(s.br.Buffered(), want))
	e := &notRTMPError{s0: s0}
	e.looksLike, e.httpStatus = sniff(append([]byte{s0}, rest...))
	s.res.S0 = fmt.Sprintf("0x%02x", s0)
	s.res.LooksLike, s.res.HTTPStatus = e.looksLike, e.httpStatus
	return e
}

// sniff names the protocol of a reply that is not RTMP, from its first bytes: an HTTP response
// (a captive portal or web proxy), a TLS record (the port speaks TLS: rtmps), or an SSH banner.
func sniff(b []byte) (looksLike string, httpStatus int) {
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/")):
		// "HTTP/1.1 302 Found": the status code follows the first space.
		if i := bytes.IndexByte(b, ' '); i > 0 && len(b) >= i+4 {
			code := 0
			for _, c := range b[i+1 : i+4] {
				if c < '0' || c > '9' {
					return "http", 0
				}
				code = code*10 + int(c-'0')
			}
			return "http", code
		}
		return "http", 0
	case len(b) >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03:
		return "tls", 0
	case bytes.HasPrefix(b, []byte("SSH-")):
		return "ssh", 0
	case bytes.HasPrefix(b, []byte("<")):
		return "html", 0
	}
	return "", 0
}

// statusError is a reply refusing what we asked: an _error, or an onStatus of level "error".
type statusError struct {
	command string
	code    string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("the server answered %s %s", e.command, e.code)
}

// send encodes and writes commands as one write.
func (s *session) send(msgs ...func([]byte) ([]byte, error)) error {
	s.out = s.out[:0]
	for _, m := range msgs {
		var err error
		if s.out, err = m(s.out); err != nil {
			return err
		}
	}
	return s.write(s.out)
}

func cmd(csid uint8, streamID uint32, name string, txn float64, values ...any) func([]byte) ([]byte, error) {
	return func(dst []byte) ([]byte, error) {
		payload, err := encodeCommand(name, txn, values...)
		if err != nil {
			return nil, err
		}
		return appendMessage(dst, csid, typeCommandAMF0, streamID, outChunkSize, payload), nil
	}
}

func setChunkSize(dst []byte) ([]byte, error) {
	return appendMessage(dst, csControl, typeSetChunkSize, 0, defaultChunkSize, binary.BigEndian.AppendUint32(nil, outChunkSize)), nil
}

// await reads messages until handle says done or fails, answering pings on the way. At most limit
// messages are read: a server that talks without ever answering is broken or hostile.
func (s *session) await(limit int, handle func(c command, streamID uint32) (bool, error)) error {
	for range limit {
		m, err := s.chunks.next()
		if err != nil {
			return err
		}
		switch m.typeID {
		case typeUserControl:
			// A ping request (event 6) is answered with a ping response (event 7), or some servers
			// drop the connection as dead.
			if len(m.payload) >= 6 && binary.BigEndian.Uint16(m.payload) == 6 {
				pong := append([]byte{0, 7}, m.payload[2:6]...)
				if err := s.write(appendMessage(nil, csControl, typeUserControl, 0, outChunkSize, pong)); err != nil {
					return err
				}
			}
			continue
		case typeCommandAMF0, typeCommandAMF3:
		default:
			continue
		}
		payload := m.payload
		if m.typeID == typeCommandAMF3 && len(payload) > 0 {
			payload = payload[1:] // an AMF3 command message carries AMF0 values after a 0 byte
		}
		c, err := parseCommand(payload)
		if err != nil {
			return fmt.Errorf("%w: %w", errProtocol, err)
		}
		if done, err := handle(c, m.streamID); done || err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: no reply among %d messages", errProtocol, limit)
}

func (s *session) rtmpConnect() error {
	u := s.p.cfg.URL
	var obj any = connectObject{App: u.App, Type: "nonprivate", FlashVer: flashVer, TCURL: u.TCURL()}
	if s.enhanced {
		obj = enhancedConnectObject{App: u.App, Type: "nonprivate", FlashVer: flashVer, TCURL: u.TCURL(), FourCCList: OfferedCodecs}
	}
	if err := s.send(setChunkSize, cmd(csCommand, 0, "connect", txnConnect, obj)); err != nil {
		return fmt.Errorf("sending connect: %w", err)
	}
	return s.await(maxMessagesPerWait, func(c command, _ uint32) (bool, error) {
		level, code, desc := c.info()
		switch {
		case (c.name == "_result" || c.name == "_error") && c.txn == txnConnect:
			s.setStatus(code, desc)
			if c.name == "_error" || level == "error" {
				return true, &statusError{command: "connect", code: orName(code, c.name)}
			}
			s.res.Codecs = announcedCodecs(c.args)
			return true, nil
		case c.name == "onStatus" && level == "error", c.name == "close":
			s.setStatus(code, desc)
			return true, &statusError{command: "connect", code: orName(code, c.name)}
		}
		return false, nil
	})
}

func (s *session) createStream() error {
	name := s.p.cfg.URL.PublishName()
	err := s.send(
		cmd(csCommand, 0, "releaseStream", txnReleaseStream, nil, name),
		cmd(csCommand, 0, "FCPublish", txnFCPublish, nil, name),
		cmd(csCommand, 0, "createStream", txnCreateStream, nil))
	if err != nil {
		return fmt.Errorf("sending createStream: %w", err)
	}
	return s.await(maxMessagesPerWait, func(c command, _ uint32) (bool, error) {
		level, code, _ := c.info()
		switch {
		case c.name == "_result" && c.txn == txnCreateStream:
			for _, a := range c.args {
				if id, ok := a.(float64); ok && id >= 1 && id <= 1<<24 {
					s.streamID = uint32(id)
					return true, nil
				}
			}
			return true, fmt.Errorf("%w: createStream result without a stream ID", errProtocol)
		case c.name == "_error" && c.txn == txnCreateStream:
			s.setStatus(code, "")
			return true, &statusError{command: "createStream", code: orName(code, c.name)}
		case c.name == "onStatus" && level == "error", c.name == "close":
			s.setStatus(code, "")
			return true, &statusError{command: "createStream", code: orName(code, c.name)}
		}
		return false, nil
	})
}

func (s *session) publish() error {
	name := s.p.cfg.URL.PublishName()
	if err := s.send(cmd(csStream, s.streamID, "publish", txnPublish, nil, name, "live")); err != nil {
		return fmt.Errorf("sending publish: %w", err)
	}
	return s.await(maxMessagesPerWait, func(c command, _ uint32) (bool, error) {
		level, code, _ := c.info()
		switch {
		case c.name == "onStatus" && level == "error", c.name == "_error" && c.txn == txnPublish, c.name == "close":
			s.setStatus(code, "")
			return true, &statusError{command: "publish", code: orName(code, c.name)}
		case c.name == "onStatus" && code == StatusPublishStart:
			s.setStatus(code, "")
			s.publishing = true
			return true, nil
		}
		return false, nil
	})
}

// hold keeps the accepted publish open for Config.Hold (less the time the cleanup needs, when the
// deadline is nearer) and fails if the server drops it or sends an error status meanwhile.
func (s *session) hold() error {
	end := minTime(s.p.now().Add(s.p.cfg.Hold), s.deadline.Add(-cleanupReserve))
	if !end.After(s.p.now()) {
		return nil
	}
	s.setDeadline(end)
	err := s.await(maxMessagesPerHold, func(c command, _ uint32) (bool, error) {
		level, code, _ := c.info()
		if c.name == "onStatus" && level == "error" || c.name == "close" {
			s.setStatus(code, "")
			return true, &statusError{command: "publish", code: orName(code, c.name)}
		}
		return false, nil
	})
	if err == nil || s.ctx.Err() == context.Canceled {
		return err
	}
	var se *statusError
	if class, _ := classifyIO(err); class == Timeout && !errors.As(err, &se) && !errors.Is(err, errProtocol) {
		return nil // held to the end without trouble
	}
	return err
}

// release unpublishes and deletes the stream, then waits for the server to close, so the stream
// is free again when this probe returns.
func (s *session) release() {
	if !s.publishing {
		return
	}
	s.setDeadline(minTime(s.deadline, s.p.now().Add(closeWait)))
	name := s.p.cfg.URL.PublishName()
	err := s.send(
		cmd(csCommand, 0, "FCUnpublish", txnFCUnpublish, nil, name),
		cmd(csCommand, 0, "deleteStream", txnDeleteStream, nil, float64(s.streamID)))
	if err != nil {
		return
	}
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// Read to the server's close, at most 64 KiB of whatever it still sends.
	_, _ = io.Copy(io.Discard, io.LimitReader(s.br, 64<<10))
}

func (s *session) setStatus(code, desc string) {
	s.res.Status = clean(code, 64, false)
	// Only connect replies keep their description: they come before the server has seen the
	// stream name or its query, so they cannot echo a secret back.
	if s.res.Phase == PhaseRTMPConnect {
		s.res.StatusDescription = clean(desc, 160, true)
	} else {
		s.res.StatusDescription = ""
	}
}

func orName(code, name string) string {
	if code != "" {
		return code
	}
	return name
}

// clean keeps a server-sent string printable and short: it ends up in reports and labels. Codes
// keep only the characters status codes use.
func clean(s string, n int, text bool) string {
	var b strings.Builder
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if text {
			ok = c >= ' ' && c < 0x7f
		}
		if ok {
			b.WriteRune(c)
		}
		if b.Len() >= n {
			break
		}
	}
	return b.String()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// classify turns the error that ended the run into a class, with errors.Is/As only.
func (s *session) classify(err error) (Class, string) {
	var (
		se *statusError
		ne *notRTMPError
	)
	switch {
	case s.ctx.Err() == context.Canceled || errors.Is(err, context.Canceled):
		return Canceled, ""
	case errors.As(err, &se):
		if se.code == StatusPublishBadName {
			return InUse, ""
		}
		return Rejected, ""
	case errors.As(err, &ne):
		return NotRTMP, ""
	case errors.Is(err, errProtocol), errors.Is(err, errAMF):
		return Protocol, ""
	}
	if s.res.Phase == PhaseConnect {
		switch c, errno := neterr.Classify(err); c {
		case neterr.Timeout:
			return Timeout, neterr.ErrnoName(errno)
		case neterr.Canceled:
			return Canceled, ""
		default:
			return ConnectFailed, neterr.ErrnoName(errno)
		}
	}
	return classifyIO(err)
}

// classifyIO classifies a read or write error.
func classifyIO(err error) (Class, string) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return Closed, ""
	}
	switch c, errno := neterr.Classify(err); c {
	case neterr.Timeout:
		return Timeout, neterr.ErrnoName(errno)
	case neterr.Reset:
		return Closed, neterr.ErrnoName(errno)
	case neterr.Canceled:
		return Canceled, ""
	default:
		return Other, neterr.ErrnoName(errno)
	}
}
