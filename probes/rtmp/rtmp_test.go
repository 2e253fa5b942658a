package rtmp

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The publish name carries a signature, as Tencent's push URLs do; it must reach the server intact
// and appear nowhere in a result.
const (
	testStream = "show42"
	testQuery  = "txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
)

func mustURL(t testing.TB, scheme, host string, port uint16) *ingesturl.URL {
	t.Helper()
	u, err := ingesturl.Parse(scheme + "://" + host + ":" + strconv.Itoa(int(port)) + "/live/" + testStream + "?" + testQuery)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// hostile is one server behaviour and what the probe must make of it.
type hostile struct {
	name      string
	level     Level
	scheme    string      // "rtmp" by default
	host      string      // "127.0.0.1" by default; "localhost" for certificate names
	serverTLS *tls.Config // the server speaks TLS
	caFile    bool        // trust the test CA
	insecure  bool
	handle    func(f *fakeConn)
	wantClass Class
	wantPhase Phase
	check     func(t *testing.T, r Result)
}

// caseTimeout is each case's deadline: long enough for a loopback session, short enough that a
// suite of hanging servers finishes quickly. Every case must end within it plus endSlack.
const (
	caseTimeout = time.Second
	endSlack    = 500 * time.Millisecond
	testHold    = 200 * time.Millisecond
)

func runHostile(t *testing.T, c hostile) {
	ignore := goleak.IgnoreCurrent()
	srv := startFake(t, c.serverTLS, c.handle)
	scheme, host := c.scheme, c.host
	if scheme == "" {
		scheme = "rtmp"
	}
	if host == "" {
		host = "127.0.0.1"
	}
	cfg := Config{Address: srv.addr(), URL: mustURL(t, scheme, host, srv.addr().Port()), Level: c.level, InsecureSkipVerify: c.insecure, Hold: testHold}
	if c.caFile {
		cfg.CAFile = pkiFor(t).caFile
	}
	ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
	defer cancel()
	start := time.Now()
	r := New(cfg).Run(ctx)
	elapsed := time.Since(start)
	srv.Close()
	goleak.VerifyNone(t, ignore)

	if r.Error != c.wantClass || r.Phase != c.wantPhase {
		t.Errorf("got error %q in phase %q; want %q in %q (result %+v)", r.Error, r.Phase, c.wantClass, c.wantPhase, r)
	}
	if r.OK != (c.wantClass == OK) {
		t.Errorf("got ok %v; want %v", r.OK, c.wantClass == OK)
	}
	if elapsed > caseTimeout+endSlack {
		t.Errorf("got run time %s; want at most %s", elapsed, caseTimeout+endSlack)
	}
	b, _ := json.Marshal(r)
	for _, secret := range []string{testStream, "txSecret", "f85a2ab3", "5C271099"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("got %s in the result %s; want no stream name or query", secret, b)
		}
	}
	if c.check != nil {
		c.check(t, r)
	}
}

// pki is shared by the cases of one test run: generating keys per case costs more than the cases.
var pkiCache = map[string]*testPKI{}

func pkiFor(t *testing.T) *testPKI {
	const key = "localhost"
	if p := pkiCache[key]; p != nil {
		return p
	}
	p := newTestPKI(t, []string{"localhost", "127.0.0.1"}, time.Now().Add(24*time.Hour))
	pkiCache[key] = p
	return p
}

func readC0C1(f *fakeConn) bool {
	_, err := io.ReadFull(f.br, make([]byte, 1537))
	return err == nil
}

func TestHostileServers(t *testing.T) {
	good := newTestPKI(t, []string{"localhost", "127.0.0.1"}, time.Now().Add(24*time.Hour))
	pkiCache["localhost"] = good
	otherName := newTestPKI(t, []string{"ingest.example.net"}, time.Now().Add(24*time.Hour))
	expired := newTestPKI(t, []string{"localhost"}, time.Now().Add(-time.Hour))

	cases := []hostile{
		{
			name:      "accepts and stays silent",
			handle:    func(f *fakeConn) { f.drain() },
			wantClass: Timeout, wantPhase: PhaseHandshake,
			check: func(t *testing.T, r Result) {
				if r.BytesReceived != 0 {
					t.Errorf("got %d bytes received; want 0", r.BytesReceived)
				}
			},
		},
		{
			name: "garbage instead of S0",
			handle: func(f *fakeConn) {
				if readC0C1(f) {
					f.Write([]byte("\xde\xad\xbe\xef garbage that is no handshake"))
					f.drain()
				}
			},
			wantClass: NotRTMP, wantPhase: PhaseHandshake,
			check: func(t *testing.T, r Result) {
				if r.S0 != "0xde" || r.LooksLike != "" {
					t.Errorf("got s0 %q looks like %q; want 0xde and nothing", r.S0, r.LooksLike)
				}
			},
		},
		{
			name: "wrong version byte",
			handle: func(f *fakeConn) {
				if readC0C1(f) {
					f.Write(append([]byte{6}, make([]byte, 3072)...)) // 6 = RTMPE, the encrypted variant
					f.drain()
				}
			},
			wantClass: NotRTMP, wantPhase: PhaseHandshake,
			check: func(t *testing.T, r Result) {
				if r.S0 != "0x06" {
					t.Errorf("got s0 %q; want 0x06", r.S0)
				}
			},
		},
		{
			name: "S1 dripped a byte a second",
			handle: func(f *fakeConn) {
				if !readC0C1(f) {
					return
				}
				f.Write([]byte{3})
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for range 10 { // bounded: the client gives up after caseTimeout
					select {
					case <-tick.C:
						if _, err := f.Write([]byte{0}); err != nil {
							return
						}
					case <-f.done:
						return
					}
				}
			},
			wantClass: Timeout, wantPhase: PhaseHandshake,
			check: func(t *testing.T, r Result) {
				if r.BytesReceived < 1 || r.BytesReceived > 3 {
					t.Errorf("got %d bytes received; want S0 and at most a byte or two of S1", r.BytesReceived)
				}
			},
		},
		{
			name: "closes mid-handshake",
			handle: func(f *fakeConn) {
				if readC0C1(f) {
					f.Write(append([]byte{3}, make([]byte, 700)...))
				}
			},
			wantClass: Closed, wantPhase: PhaseHandshake,
			check: func(t *testing.T, r Result) {
				if r.BytesReceived != 701 {
					t.Errorf("got %d bytes received; want 701", r.BytesReceived)
				}
			},
		},
		{
			name: "HTTP response from a captive portal",
			handle: func(f *fakeConn) {
				f.br.ReadByte()
				f.Write([]byte("HTTP/1.1 302 Found\r\nLocation: http://portal.example/login\r\nContent-Length: 0\r\n\r\n"))
			},
			wantClass: NotRTMP, wantPhase: PhaseHandshake,
			check: func(t *testing.T, r Result) {
				if r.LooksLike != "http" || r.HTTPStatus != 302 {
					t.Errorf("got looks like %q status %d; want http 302", r.LooksLike, r.HTTPStatus)
				}
			},
		},
		{
			name:      "TLS server on an rtmp:// URL",
			serverTLS: good.serverConfig(),
			handle:    func(f *fakeConn) { f.drain() },
			wantClass: Closed, wantPhase: PhaseHandshake,
		},
		{
			name:   "plain RTMP server on an rtmps:// URL",
			scheme: "rtmps",
			handle: func(f *fakeConn) {
				// Answers as soon as a first byte arrives, as eager servers do.
				if _, err := f.br.ReadByte(); err == nil {
					f.Write(append([]byte{3}, make([]byte, 3072)...))
					f.drain()
				}
			},
			wantClass: TLS, wantPhase: PhaseTLS,
			check: func(t *testing.T, r Result) {
				if r.TLSReason != TLSNotTLS {
					t.Errorf("got tls reason %q; want %q", r.TLSReason, TLSNotTLS)
				}
			},
		},
		{
			name:      "silent plain server on an rtmps:// URL",
			scheme:    "rtmps",
			handle:    func(f *fakeConn) { f.drain() },
			wantClass: TLS, wantPhase: PhaseTLS,
			check: func(t *testing.T, r Result) {
				if r.TLSReason != TLSTimeout {
					t.Errorf("got tls reason %q; want %q", r.TLSReason, TLSTimeout)
				}
			},
		},
		{
			name:      "answers connect with _error",
			level:     LevelConnect,
			handle:    script{connect: "error"}.serve,
			wantClass: Rejected, wantPhase: PhaseRTMPConnect,
			check: func(t *testing.T, r Result) {
				if r.Status != "NetConnection.Connect.Rejected" || r.StatusDescription != "[ AccessManager.Reject ] : [ authmod=adobe ]" {
					t.Errorf("got status %q %q; want the rejection and its description", r.Status, r.StatusDescription)
				}
			},
		},
		{
			name:      "never answers connect",
			level:     LevelConnect,
			handle:    script{connect: "silent"}.serve,
			wantClass: Timeout, wantPhase: PhaseRTMPConnect,
		},
		{
			name:      "talks without ever answering connect",
			level:     LevelConnect,
			handle:    script{connect: "flood"}.serve,
			wantClass: Protocol, wantPhase: PhaseRTMPConnect,
		},
		{
			name:  "huge chunk size and oversize message header",
			level: LevelConnect,
			handle: func(f *fakeConn) {
				if f.handshake() != nil {
					return
				}
				if _, _, err := f.next(); err != nil {
					return
				}
				msg := appendMessage(nil, 2, typeSetChunkSize, 0, 128, []byte{0x7f, 0xff, 0xff, 0xff})
				// A command message header claiming 16 MiB, then a little of it.
				msg = append(msg, 0x03, 0, 0, 0, 0xff, 0xff, 0xff, typeCommandAMF0, 0, 0, 0, 0)
				msg = append(msg, make([]byte, 1024)...)
				f.Write(msg)
				f.drain()
			},
			wantClass: Protocol, wantPhase: PhaseRTMPConnect,
		},
		{
			name:  "chunk size zero",
			level: LevelConnect,
			handle: func(f *fakeConn) {
				if f.handshake() == nil {
					f.Write(appendMessage(nil, 2, typeSetChunkSize, 0, 128, []byte{0, 0, 0, 0}))
					f.drain()
				}
			},
			wantClass: Protocol, wantPhase: PhaseRTMPConnect,
		},
		{
			name:  "continues a chunk stream it never started",
			level: LevelConnect,
			handle: func(f *fakeConn) {
				if f.handshake() == nil {
					f.Write([]byte{0xc5, 1, 2, 3}) // fmt 3 on chunk stream 5
					f.drain()
				}
			},
			wantClass: Protocol, wantPhase: PhaseRTMPConnect,
		},
		{
			name:  "AMF0 array claiming 2^31 elements",
			level: LevelConnect,
			handle: func(f *fakeConn) {
				if f.handshake() != nil {
					return
				}
				if _, _, err := f.next(); err != nil {
					return
				}
				p, _ := encodeCommand("_result", 1)
				p = append(p, markerStrictArray, 0x7f, 0xff, 0xff, 0xff, markerNull)
				f.Write(appendMessage(nil, 3, typeCommandAMF0, 0, 128, p))
				f.drain()
			},
			wantClass: Protocol, wantPhase: PhaseRTMPConnect,
		},
		{
			name:      "publish refused as already publishing",
			level:     LevelPublish,
			handle:    script{publish: "badname"}.serve,
			wantClass: InUse, wantPhase: PhasePublish,
			check: func(t *testing.T, r Result) {
				if r.Status != StatusPublishBadName || r.StatusDescription != "" {
					t.Errorf("got status %q description %q; want %s and no description", r.Status, r.StatusDescription, StatusPublishBadName)
				}
			},
		},
		{
			name:      "closes after publish without a status",
			level:     LevelPublish,
			handle:    script{publish: "close"}.serve,
			wantClass: Closed, wantPhase: PhasePublish,
		},
		{
			name:      "accepts the publish, then drops it",
			level:     LevelPublish,
			handle:    script{publish: "drop"}.serve,
			wantClass: Closed, wantPhase: PhaseHold,
			check: func(t *testing.T, r Result) {
				if r.Status != StatusPublishStart {
					t.Errorf("got status %q; want %s", r.Status, StatusPublishStart)
				}
			},
		},
		{
			name:      "certificate from an unknown authority",
			scheme:    "rtmps",
			host:      "localhost",
			serverTLS: good.serverConfig(),
			handle:    script{}.serve,
			wantClass: TLS, wantPhase: PhaseTLS,
			check: func(t *testing.T, r Result) {
				if r.TLSReason != TLSUnknownAuthority {
					t.Errorf("got tls reason %q; want %q", r.TLSReason, TLSUnknownAuthority)
				}
				if c := r.Certificate; c == nil || c.IssuerCN != "ingestprobe test CA" || c.SubjectCN != "localhost" || c.SelfSigned ||
					!slices.Equal(c.Names, []string{"localhost", "127.0.0.1"}) || c.NotAfter.IsZero() {
					t.Errorf("got certificate %+v; want the test CA's leaf for localhost", r.Certificate)
				}
			},
		},
		{
			name:      "TLS verification skipped",
			scheme:    "rtmps",
			host:      "localhost",
			serverTLS: expired.serverConfig(),
			insecure:  true,
			level:     LevelConnect,
			handle:    script{}.serve,
			wantClass: OK, wantPhase: PhaseRTMPConnect,
			check: func(t *testing.T, r Result) {
				if !r.InsecureSkipVerify {
					t.Errorf("got insecure_skip_verify false; want true")
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runHostile(t, c) })
	}

	// Name mismatch and expiry need the CA that signed the server's certificate.
	t.Run("certificate names another host", func(t *testing.T) {
		pkiCache["localhost"] = otherName
		defer func() { pkiCache["localhost"] = good }()
		runHostile(t, hostile{scheme: "rtmps", host: "localhost", serverTLS: otherName.serverConfig(), caFile: true,
			handle: script{}.serve, wantClass: TLS, wantPhase: PhaseTLS,
			check: func(t *testing.T, r Result) {
				if r.TLSReason != TLSNameMismatch {
					t.Errorf("got tls reason %q; want %q", r.TLSReason, TLSNameMismatch)
				}
			}})
	})
	t.Run("certificate expired", func(t *testing.T) {
		pkiCache["localhost"] = expired
		defer func() { pkiCache["localhost"] = good }()
		runHostile(t, hostile{scheme: "rtmps", host: "localhost", serverTLS: expired.serverConfig(), caFile: true,
			handle: script{}.serve, wantClass: TLS, wantPhase: PhaseTLS,
			check: func(t *testing.T, r Result) {
				if r.TLSReason != TLSExpired {
					t.Errorf("got tls reason %q; want %q", r.TLSReason, TLSExpired)
				}
			}})
	})
}

func TestGoodServer(t *testing.T) {
	pki := newTestPKI(t, []string{"localhost", "127.0.0.1"}, time.Now().Add(24*time.Hour))
	pkiCache["localhost"] = pki
	for _, c := range []struct {
		name      string
		level     Level
		tls       bool
		wantPhase Phase
	}{
		{"handshake", LevelHandshake, false, PhaseHandshake},
		{"connect", LevelConnect, false, PhaseRTMPConnect},
		{"publish", LevelPublish, false, PhaseHold},
		{"rtmps publish with the CA file", LevelPublish, true, PhaseHold},
	} {
		t.Run(c.name, func(t *testing.T) {
			seenCh := make(chan seen, 1)
			h := hostile{level: c.level, handle: script{seen: seenCh}.serve, wantClass: OK, wantPhase: c.wantPhase}
			if c.tls {
				h.scheme, h.host, h.serverTLS, h.caFile = "rtmps", "localhost", pki.serverConfig(), true
			}
			h.check = func(t *testing.T, r Result) {
				if c.level == LevelHandshake && r.BytesReceived != 3073 {
					t.Errorf("got %d bytes received; want 3073 (S0+S1+S2)", r.BytesReceived)
				}
				if r.HandshakeSeconds <= 0 || (c.level != LevelHandshake && r.RTMPConnectSeconds <= 0) {
					t.Errorf("got handshake %v s, connect %v s; want both measured", r.HandshakeSeconds, r.RTMPConnectSeconds)
				}
				if c.level != LevelPublish {
					return
				}
				if r.Status != StatusPublishStart || r.HoldSeconds < testHold.Seconds()*0.9 {
					t.Errorf("got status %q held %.3f s; want %s held %.1f s", r.Status, r.HoldSeconds, StatusPublishStart, testHold.Seconds())
				}
				got := <-seenCh
				scheme := "rtmp"
				if c.tls {
					scheme = "rtmps"
				}
				want := seen{app: "live", tcURL: scheme + "://" + h.hostOr() + ":PORT/live", flashVer: flashVer, fourCCList: "hvc1,av01,vp09",
					releaseName: testStream + "?" + testQuery, fcPublishName: testStream + "?" + testQuery,
					publishName: testStream + "?" + testQuery, deleted: true}
				got.tcURL = portless(got.tcURL)
				if got != want {
					t.Errorf("server saw %+v; want %+v", got, want)
				}
			}
			runHostile(t, h)
		})
	}
}

func (h hostile) hostOr() string {
	if h.host == "" {
		return "127.0.0.1"
	}
	return h.host
}

// portless replaces the port of a tcUrl with PORT: fakes listen on a new port each time.
func portless(tcURL string) string {
	i := strings.LastIndexByte(tcURL, ':')
	j := strings.LastIndexByte(tcURL, '/')
	if i < 0 || j < i {
		return tcURL
	}
	return tcURL[:i+1] + "PORT" + tcURL[j:]
}

// A canceled run ends at once, with the class that says so, whatever phase it was in.
func TestCanceled(t *testing.T) {
	accepted := make(chan struct{})
	srv := startFake(t, nil, func(f *fakeConn) {
		f.br.ReadByte() // C0: the client is in the handshake
		close(accepted)
		f.drain()
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	go func() {
		<-accepted
		cancel()
	}()
	start := time.Now()
	r := New(Config{Address: srv.addr(), URL: mustURL(t, "rtmp", "127.0.0.1", srv.addr().Port())}).Run(ctx)
	if r.Error != Canceled || r.Phase != PhaseHandshake {
		t.Errorf("got %q in %q; want %q in %q", r.Error, r.Phase, Canceled, PhaseHandshake)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("got %s to stop; want well under the 10 s deadline", d)
	}
}

// A refused TCP connect is a connect-phase failure with the errno.
func TestConnectRefused(t *testing.T) {
	srv := startFake(t, nil, func(f *fakeConn) {})
	addr := srv.addr()
	srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	r := New(Config{Address: addr, URL: mustURL(t, "rtmp", "127.0.0.1", addr.Port())}).Run(ctx)
	if r.Error != ConnectFailed || r.Phase != PhaseConnect || r.Errno != "ECONNREFUSED" {
		t.Errorf("got %q %q %q; want %q in %q with ECONNREFUSED", r.Error, r.Phase, r.Errno, ConnectFailed, PhaseConnect)
	}
}

// The strict-array case above proves the class; this proves the memory: go-amf0 would have
// allocated for the declared count before failing.
func TestAMFArrayBombAllocatesLittle(t *testing.T) {
	p, _ := encodeCommand("_result", 1)
	p = append(p, markerStrictArray, 0x7f, 0xff, 0xff, 0xff, markerNull)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := parseCommand(p)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("got no error; want the array refused")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("got %d bytes allocated; want under 1 MiB", n)
	}
}

// A ping request from the server is answered, or servers that check liveness drop the publisher.
func TestPingAnswered(t *testing.T) {
	pong := make(chan uint32, 1)
	srv := startFake(t, nil, func(f *fakeConn) {
		defer close(pong)
		if f.handshake() != nil {
			return
		}
		if _, _, err := f.next(); err != nil {
			return
		}
		f.Write(appendMessage(nil, 2, typeUserControl, 0, 128, []byte{0, 6, 0, 0, 0x12, 0x34}))
		f.send(3, 0, "_result", txnConnect, nil, status("status", StatusConnectSuccess, ""))
		for {
			m, err := f.chunks.next()
			if err != nil {
				return
			}
			if m.typeID == typeUserControl && len(m.payload) == 6 && binary.BigEndian.Uint16(m.payload) == 7 {
				pong <- binary.BigEndian.Uint32(m.payload[2:])
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	r := New(Config{Address: srv.addr(), URL: mustURL(t, "rtmp", "127.0.0.1", srv.addr().Port()), Level: LevelConnect}).Run(ctx)
	if !r.OK {
		t.Fatalf("got %+v; want ok", r)
	}
	// The handler ends by itself once it has read the pong, or the client's close after it.
	select {
	case ts := <-pong:
		if ts != 0x1234 {
			t.Errorf("got pong timestamp %#x; want 0x1234", ts)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("got no ping response in 2 s; want one")
	}
}
