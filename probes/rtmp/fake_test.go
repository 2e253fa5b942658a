package rtmp

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a loopback server whose every connection runs handle. Close closes the listener
// and every connection, and waits for the handlers: after it, no goroutine of the server is left.
type fakeServer struct {
	ln     net.Listener
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func startFake(t testing.TB, tlsCfg *tls.Config, handle func(f *fakeConn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s := &fakeServer{ln: ln, done: make(chan struct{})}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns = append(s.conns, c)
			s.wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				handle(&fakeConn{Conn: c, br: br, chunks: newChunkReader(br), done: s.done})
			})
			s.mu.Unlock()
		}
	})
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.ln.Close()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *fakeServer) addr() netip.AddrPort {
	return netip.MustParseAddrPort(s.ln.Addr().String())
}

// fakeConn is the server side of one connection, with the few RTMP moves the fakes need.
type fakeConn struct {
	net.Conn
	br     *bufio.Reader
	chunks *chunkReader
	done   <-chan struct{}
}

// handshake answers the plain handshake: S0, S1, and S2 echoing C1; then reads C2.
func (f *fakeConn) handshake() error {
	c0c1 := make([]byte, 1537)
	if _, err := io.ReadFull(f.br, c0c1); err != nil {
		return err
	}
	reply := append(append([]byte{3}, make([]byte, 1536)...), c0c1[1:]...)
	if _, err := f.Write(reply); err != nil {
		return err
	}
	_, err := io.ReadFull(f.br, make([]byte, 1536))
	return err
}

// next returns the next AMF0 command from the client, with the message stream it came on.
func (f *fakeConn) next() (command, uint32, error) {
	for {
		m, err := f.chunks.next()
		if err != nil {
			return command{}, 0, err
		}
		if m.typeID == typeCommandAMF0 {
			c, err := parseCommand(m.payload)
			return c, m.streamID, err
		}
	}
}

func (f *fakeConn) send(csid uint8, streamID uint32, name string, txn float64, values ...any) error {
	p, err := encodeCommand(name, txn, values...)
	if err != nil {
		return err
	}
	_, err = f.Write(appendMessage(nil, csid, typeCommandAMF0, streamID, defaultChunkSize, p))
	return err
}

func status(level, code, desc string) map[string]any {
	return map[string]any{"level": level, "code": code, "description": desc}
}

// drain reads until the client closes or the server is closed.
func (f *fakeConn) drain() { _, _ = io.Copy(io.Discard, f) }

// script is a well-behaved RTMP server with knobs for how it answers.
type script struct {
	connect string // "" answer success; "error" _error Rejected; "silent"; "flood" onBWDone forever
	publish string // "" Publish.Start; "badname"; "close" close with no status; "drop" start, then close
	// enhanced is how the server meets the Enhanced RTMP offer: "" ignores it (as nginx-rtmp);
	// "list" answers fourCcList in its properties; "infomap" answers videoFourCcInfoMap in its
	// information object; "refuse" answers _error to a connect that carries fourCcList, and
	// success to one that does not; "close" closes on a connect that carries it.
	enhanced string
	seen     chan<- seen
	// offers, if set, receives the fourCcList of each connect as it arrives (comma-separated, ""
	// for none): seen comes when a connection ends, and connections may end out of order.
	offers chan<- string
}

// seen is what the server received, reported when the client releases the stream or leaves.
type seen struct {
	app, tcURL, flashVer string
	fourCCList           string // the offered codecs, comma-separated
	releaseName          string
	fcPublishName        string
	publishName          string
	deleted              bool
}

func (sc script) serve(f *fakeConn) {
	var got seen
	defer func() {
		if sc.seen != nil {
			sc.seen <- got
		}
	}()
	if f.handshake() != nil {
		return
	}
	for {
		c, _, err := f.next()
		if err != nil {
			return
		}
		switch c.name {
		case "connect":
			if len(c.args) > 0 {
				if obj, ok := c.args[0].(map[string]any); ok {
					got.app, _ = obj["app"].(string)
					got.tcURL, _ = obj["tcUrl"].(string)
					got.flashVer, _ = obj["flashVer"].(string)
					if list, ok := obj["fourCcList"].([]any); ok {
						var fs []string
						for _, v := range list {
							s, _ := v.(string)
							fs = append(fs, s)
						}
						got.fourCCList = strings.Join(fs, ",")
					}
				}
			}
			if sc.offers != nil {
				sc.offers <- got.fourCCList
			}
			props := map[string]any{"fmsVer": "FMS/3,0,1,123"}
			info := status("status", StatusConnectSuccess, "Connection succeeded.")
			switch {
			case sc.enhanced == "list":
				props["fourCcList"] = []any{"hvc1", "av01", "bad-fourcc", 7.0, "hvc1"}
			case sc.enhanced == "infomap":
				info["videoFourCcInfoMap"] = map[string]any{"hvc1": 5.0, "vp09": 2.0, "av01": 1.0}
				info["capsEx"] = 1.0
			case sc.enhanced == "refuse" && got.fourCCList != "":
				_ = f.send(3, 0, "_error", c.txn, nil, status("error", "NetConnection.Connect.Rejected", "unknown property fourCcList"))
				continue
			case sc.enhanced == "close" && got.fourCCList != "":
				return
			}
			switch sc.connect {
			case "error":
				_ = f.send(3, 0, "_error", c.txn, nil, status("error", "NetConnection.Connect.Rejected", "[ AccessManager.Reject ] : [ authmod=adobe ]"))
			case "silent":
			case "flood":
				for range 2 * maxMessagesPerWait {
					if f.send(3, 0, "onBWDone", 0, nil) != nil {
						return
					}
				}
			default:
				_ = f.send(3, 0, "_result", c.txn, props, info)
			}
		case "releaseStream":
			got.releaseName = argString(c, 1)
		case "FCPublish":
			got.fcPublishName = argString(c, 1)
		case "createStream":
			_ = f.send(3, 0, "_result", c.txn, nil, 1.0)
		case "publish":
			got.publishName = argString(c, 1)
			switch sc.publish {
			case "badname":
				_ = f.send(5, 1, "onStatus", 0, nil, status("error", StatusPublishBadName, "Already publishing"))
			case "close":
				return
			case "drop":
				_ = f.send(5, 1, "onStatus", 0, nil, status("status", StatusPublishStart, "Start publishing"))
				return
			default:
				_ = f.send(5, 1, "onStatus", 0, nil, status("status", StatusPublishStart, "Start publishing"))
			}
		case "deleteStream":
			got.deleted = true
		}
	}
}

func argString(c command, i int) string {
	if i < len(c.args) {
		s, _ := c.args[i].(string)
		return s
	}
	return ""
}

// testPKI is a CA generated for one test, and a server certificate it signed.
type testPKI struct {
	caFile          string
	cert            tls.Certificate
	certPEM, keyPEM []byte
}

// newTestPKI makes a CA and a leaf for names (DNS names or IP literals), valid until notAfter.
func newTestPKI(t testing.TB, names []string, notAfter time.Time) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ingestprobe test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: now.Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	p := &testPKI{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	if p.cert, err = tls.X509KeyPair(p.certPEM, p.keyPEM); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p.caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *testPKI) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.cert}}
}
