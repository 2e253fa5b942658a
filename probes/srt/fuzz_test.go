package srt

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// FuzzParsePacket: the parser never panics, never reads past its input, and what it parses
// encodes back to a packet that parses the same.
func FuzzParsePacket(f *testing.F) {
	ind := handshake{version: 5, extension: hsMagic, hsType: hsInduction, socketID: 1, cookie: 2}
	con := handshake{version: 5, hsType: hsConclusion, socketID: 1, exts: []extension{
		{extHSRSP, hsExt{0x010501, callerFlags, 120, 120}.bytes()}, {extKMRSP, []byte{4, 0, 0, 0}}, {extSID, streamIDBlock("live/x")}}}
	for _, hs := range []handshake{ind, con, {version: 5, hsType: 1010}} {
		f.Add(hs.appendTo(header{ctrlType: ctrlHandshake, dstSocket: 7}.appendTo(nil)))
	}
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Add(append(header{ctrlType: ctrlHandshake}.appendTo(nil), make([]byte, 48)...))
	f.Add(append(con.appendTo(header{ctrlType: ctrlHandshake}.appendTo(nil)), 0, 1, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		h, hs, err := parsePacket(b)
		if !bytes.Equal(in, b) {
			t.Fatal("parsePacket modified its input")
		}
		if err != nil {
			return
		}
		again := hs.appendTo(h.appendTo(nil))
		h2, hs2, err := parsePacket(again)
		if err != nil || h2 != h || hs2.version != hs.version || hs2.hsType != hs.hsType || hs2.cookie != hs.cookie || len(hs2.exts) != len(hs.exts) {
			t.Fatalf("re-encoded packet parses differently: %+v %+v, %v; want %+v %+v", h2, hs2, err, h, hs)
		}
		_, _ = parseHSExt(b)
		_ = kmState(hs)
		_ = decodeStreamID(b)
		if isRejection(hs.hsType) {
			_, r := rejectFromWire(hs.hsType)
			_ = r.Symbol()
		}
	})
}

// replayConn is a UDP socket whose peer answers every packet with the next of a fixed list of
// datagrams: it lets the fuzzer drive a whole handshake without a network.
type replayConn struct {
	mu       sync.Mutex
	answers  [][]byte
	pending  [][]byte
	deadline time.Time
}

func (c *replayConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.answers) > 0 {
		c.pending = append(c.pending, c.answers[0])
		c.answers = c.answers[1:]
	}
	return len(b), nil
}

func (c *replayConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		n := copy(b, c.pending[0])
		c.pending = c.pending[1:]
		c.mu.Unlock()
		return n, nil
	}
	d := c.deadline
	c.mu.Unlock()
	time.Sleep(time.Until(d))
	return 0, os.ErrDeadlineExceeded
}

func (c *replayConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.UDPAddr{} }
func (c *replayConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

// fuzzSocketID is the socket id the probe draws from fuzzRandom's zero bytes (bit 0 forced).
const fuzzSocketID = 1

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

var allClasses = []Class{OK, Timeout, Refused, Unreachable, Denied, Canceled, Other, Rejected, NotSRT}

// FuzzListenerAnswer feeds two arbitrary datagrams to a whole handshake as the listener's answers
// to the induction and the conclusion: the probe must never panic, must end by its deadline, and
// must report a known class.
func FuzzListenerAnswer(f *testing.F) {
	ind := handshake{version: 5, extension: hsMagic, hsType: hsInduction, socketID: 9, cookie: 2, encryption: 4}
	con := handshake{version: 5, hsType: hsConclusion, socketID: 9, exts: []extension{
		{extHSRSP, hsExt{0x010501, callerFlags, 120, 120}.bytes()}, {extKMRSP, []byte{4, 0, 0, 0}}}}
	pkt := func(hs handshake) []byte {
		return hs.appendTo(header{ctrlType: ctrlHandshake, dstSocket: fuzzSocketID}.appendTo(nil))
	}
	f.Add(pkt(ind), pkt(con))
	f.Add(pkt(ind), pkt(handshake{version: 5, hsType: 2401}))
	f.Add(pkt(handshake{version: 4, hsType: hsInduction}), []byte{})
	f.Add([]byte("garbage"), []byte("more"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		conn := &replayConn{answers: [][]byte{a, b}}
		p := New(Config{Address: netip.MustParseAddrPort("192.0.2.1:9000"), StreamID: "s", Passphrase: "0123456789"})
		p.random = zeroReader{}
		p.dial = func(context.Context, string, string) (net.Conn, error) { return conn, nil }
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := p.Run(ctx)
		if el := time.Since(start); el > time.Second {
			t.Fatalf("took %s with a 5 ms deadline", el)
		}
		if !slices.Contains(allClasses, r.Error) || r.OK != (r.Error == OK) {
			t.Fatalf("got ok=%v class %q", r.OK, r.Error)
		}
	})
}
