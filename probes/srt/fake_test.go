package srt

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// fakeListener is an SRT listener on 127.0.0.1:0 that answers as the test tells it: it accepts,
// rejects with a given handshake type, answers in HSv4, with garbage, or not at all. It checks the
// caller's handshake the way libsrt does — the cookie, the key material against its passphrase —
// and records what it received (the stream id decoded), so the tests see what a server would.
type fakeListener struct {
	passphrase string // the listener's; "" = not encrypted
	// What to answer.
	rejectInduction  uint32 // a handshake type to answer the induction with (a rejection); 0 = the v5 answer
	rejectConclusion uint32 // the same for the conclusion; 0 = decide from the key material
	v4               bool   // answer the induction as a v4 listener (SRT < 1.3)
	badMagic         bool   // answer v5 without the magic
	garbage          bool   // answer every packet with bytes that are not SRT
	silentConclusion bool   // answer the induction, never the conclusion
	silent           bool   // read everything, answer nothing
	dropInductions   int    // ignore this many inductions first (lost datagrams)
	kmrsp            []byte // the KMRSP to answer with; nil = echo the key material
	advertiseKeyLen  int    // 16, 24 or 32 in the induction answer's encryption field

	pc   net.PacketConn
	addr netip.AddrPort
	done chan struct{}

	mu          sync.Mutex
	inductions  int
	conclusions int
	shutdowns   int
	streamIDs   []string
	kmOK        []bool // per conclusion with key material: it unwrapped with the listener's passphrase
}

const (
	fakeCookie   = 0x5eed1e55
	fakeSocketID = 0x01234567
)

func startFake(t *testing.T, f *fakeListener) *fakeListener {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.pc, f.done = pc, make(chan struct{})
	f.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	go f.serve()
	t.Cleanup(func() {
		pc.Close()
		<-f.done
	})
	return f
}

func (f *fakeListener) serve() {
	defer close(f.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := f.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := f.handle(buf[:n]); reply != nil {
			_, _ = f.pc.WriteTo(reply, from)
		}
	}
}

func (f *fakeListener) handle(b []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, cif, err := parseHeader(b)
	if err != nil {
		return nil
	}
	if h.ctrlType == ctrlShutdown {
		f.shutdowns++
		return nil
	}
	if f.silent {
		return nil
	}
	if f.garbage {
		return []byte("HTTP/1.1 400 Bad Request\r\n\r\n")
	}
	hs, err := parseHandshake(cif)
	if err != nil {
		return nil
	}
	answer := handshake{version: 5, extension: hsMagic, isn: hs.isn, mtu: hs.mtu, flowWindow: hs.flowWindow,
		hsType: hs.hsType, socketID: fakeSocketID, cookie: fakeCookie}
	switch hs.hsType {
	case hsInduction:
		f.inductions++
		if f.inductions <= f.dropInductions {
			return nil
		}
		switch {
		case f.rejectInduction != 0:
			answer.hsType, answer.extension = f.rejectInduction, 0
		case f.v4:
			answer.version, answer.extension = 4, udtDgram
		case f.badMagic:
			answer.extension = 0
		}
		answer.encryption = uint16(f.advertiseKeyLen / 8)
	case hsConclusion:
		f.conclusions++
		if f.silentConclusion || hs.cookie != fakeCookie {
			return nil // libsrt ignores a conclusion with a wrong cookie
		}
		if sid, ok := hs.ext(extSID); ok {
			f.streamIDs = append(f.streamIDs, decodeStreamID(sid))
		}
		answer.extension = 0
		km, hasKM := hs.ext(extKMREQ)
		reject := f.rejectConclusion
		if hasKM {
			_, err := openKeyMaterial(km, f.passphrase)
			f.kmOK = append(f.kmOK, f.passphrase != "" && err == nil)
			if reject == 0 && f.kmrsp == nil {
				switch {
				case f.passphrase == "":
					reject = rejectBase + 11 // SRT_REJ_UNSECURE
				case errors.Is(err, errUnwrap):
					reject = rejectBase + 10 // SRT_REJ_BADSECRET
				case err != nil:
					reject = rejectBase + 4 // SRT_REJ_ROGUE
				}
			}
		} else if reject == 0 && f.passphrase != "" {
			reject = rejectBase + 11
		}
		if reject != 0 {
			answer.hsType = reject
			break
		}
		answer.exts = append(answer.exts, extension{extHSRSP, hsExt{version: 0x010501, flags: callerFlags, recvDelay: 200, sendDelay: 120}.bytes()})
		switch {
		case f.kmrsp != nil:
			answer.exts = append(answer.exts, extension{extKMRSP, f.kmrsp})
		case hasKM:
			answer.exts = append(answer.exts, extension{extKMRSP, km})
		}
	default:
		return nil
	}
	return answer.appendTo(header{ctrlType: ctrlHandshake, dstSocket: hs.socketID}.appendTo(nil))
}

func (f *fakeListener) stats() (inductions, conclusions, shutdowns int, sids []string, kmOK []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inductions, f.conclusions, f.shutdowns, append([]string(nil), f.streamIDs...), append([]bool(nil), f.kmOK...)
}

// kmState1 is a one-word KMRSP as libsrt sends it from a little-endian host.
func kmState1(state uint32) []byte { return binary.LittleEndian.AppendUint32(nil, state) }
