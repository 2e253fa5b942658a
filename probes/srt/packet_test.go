package srt

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestPeerAddress: libsrt's byte order for the Peer IP field (each 32-bit word reversed).
func TestPeerAddress(t *testing.T) {
	got := peerAddress(netip.MustParseAddr("127.0.0.1"))
	want := [16]byte{1, 0, 0, 127}
	if got != want {
		t.Errorf("127.0.0.1: got % x; want % x", got, want)
	}
	got = peerAddress(netip.MustParseAddr("2001:db8::1"))
	want = [16]byte{0xb8, 0x0d, 0x01, 0x20, 12: 1, 0, 0, 0}
	if got != want {
		t.Errorf("2001:db8::1: got % x; want % x", got, want)
	}
}

// TestStreamIDBlock: the SID extension holds the stream id in 32-bit words with their bytes
// reversed and zero padding, as libsrt sends it ("abcde" → "dcba\0\0\0e").
func TestStreamIDBlock(t *testing.T) {
	got := streamIDBlock("abcde")
	if want := []byte("dcba\x00\x00\x00e"); !bytes.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
	for _, s := range []string{"", "a", "abcd", "#!::r=live/show,m=publish"} {
		if back := decodeStreamID(streamIDBlock(s)); back != s {
			t.Errorf("round trip of %q: got %q", s, back)
		}
	}
}

// TestHandshakeRoundTrip: what the probe sends parses back to what it meant.
func TestHandshakeRoundTrip(t *testing.T) {
	hs := handshake{version: 5, encryption: 2, extension: extFlagHSREQ | extFlagCONFIG, isn: 7, mtu: 1500, flowWindow: 8192,
		hsType: hsConclusion, socketID: 42, cookie: 0xc00c1e, peerIP: peerAddress(netip.MustParseAddr("10.0.0.1")),
		exts: []extension{{extHSREQ, hsExt{callerVersion, callerFlags, 120, 120}.bytes()}, {extSID, streamIDBlock("live/x")}}}
	b := hs.appendTo(header{ctrlType: ctrlHandshake, timestamp: 9, dstSocket: 3}.appendTo(nil))
	h, got, err := parsePacket(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.ctrlType != ctrlHandshake || h.timestamp != 9 || h.dstSocket != 3 {
		t.Errorf("header: got %+v", h)
	}
	if got.version != 5 || got.cookie != 0xc00c1e || got.socketID != 42 || len(got.exts) != 2 {
		t.Fatalf("handshake: got %+v", got)
	}
	if e, ok := parseHSExt(got.exts[0].data); !ok || e.version != callerVersion || e.flags != callerFlags || e.recvDelay != 120 {
		t.Errorf("HSREQ: got %+v", e)
	}
	if sid, _ := got.ext(extSID); decodeStreamID(sid) != "live/x" {
		t.Errorf("SID: got %q", decodeStreamID(sid))
	}
}

func TestRejectFromWire(t *testing.T) {
	for _, tt := range []struct {
		wire   uint32
		code   int
		reason RejectReason
		symbol string
	}{
		{1010, 10, RejectBadSecret, "SRT_REJ_BADSECRET"},
		{1011, 11, RejectUnsecure, "SRT_REJ_UNSECURE"},
		{1000, 0, RejectUnknown, "SRT_REJ_UNKNOWN"},
		{2401, 1401, RejectXUnauthorized, "SRT_REJX_UNAUTHORIZED"},
		{1401, 1401, RejectXUnauthorized, "SRT_REJX_UNAUTHORIZED"}, // gosrt's wire value
		{2409, 1409, RejectXConflict, "SRT_REJX_CONFLICT"},
		{1200, 200, RejectOther, ""},
		{3000, 2000, RejectUser, ""},
		{0xFFFFFFFC, 0xFFFFFFFC - 1000, RejectUser, ""},
	} {
		code, reason := rejectFromWire(tt.wire)
		if code != tt.code || reason != tt.reason || reason.Symbol() != tt.symbol {
			t.Errorf("wire %d: got %d %q %q; want %d %q %q", tt.wire, code, reason, reason.Symbol(), tt.code, tt.reason, tt.symbol)
		}
	}
	for _, hs := range []uint32{hsInduction, hsConclusion, hsWaveahand, hsAgreement, hsDone, 999} {
		if isRejection(hs) {
			t.Errorf("handshake type %#x read as a rejection", hs)
		}
	}
}
