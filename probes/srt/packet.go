package srt

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// The wire format of the few SRT control packets the probe sends and reads: the 16-byte header
// and the handshake's control information field (CIF) with its extensions. Every multi-byte field
// is big-endian, as on the wire; the two exceptions libsrt makes (the peer address and the stream
// id are stored as little-endian 32-bit words) are noted where they occur.

const (
	headerLen    = 16 // the SRT packet header
	handshakeLen = 48 // the handshake CIF before its extensions
	// maxDatagram is the read buffer: larger than any handshake a listener sends (the CIF, HSRSP,
	// a 512-byte stream id, key material and a few more extensions fit in a few hundred bytes) and
	// than SRT's default MTU, so a longer datagram is not SRT.
	maxDatagram = 1500
	// maxStreamID is the longest stream id libsrt accepts (SRTO_STREAMID).
	maxStreamID = 512
)

// Control types (draft-sharabayko-srt, "SRT Control Packet Types").
const (
	ctrlHandshake uint16 = 0x0000
	ctrlShutdown  uint16 = 0x0005
)

// Handshake types. A rejection is any other value: rejectBase + the reason code.
const (
	hsInduction  uint32 = 0x00000001
	hsConclusion uint32 = 0xFFFFFFFF
	hsWaveahand  uint32 = 0x00000000
	hsAgreement  uint32 = 0xFFFFFFFE
	hsDone       uint32 = 0xFFFFFFFD
	// rejectBase: "when transferred on the wire, the API value is incremented by 1000 to become
	// the Handshake Type field value" (SRT's rejection codes document).
	rejectBase uint32 = 1000
)

// Handshake field values.
const (
	hsMagic        uint16 = 0x4A17 // the extension field of a v5 listener's induction response
	udtDgram       uint16 = 2      // the extension field of a v4 induction request: UDT's SOCK_DGRAM
	defaultMTU     uint32 = 1500
	defaultFlowWin uint32 = 8192
)

// Extension flags (in the conclusion's extension field) and extension types.
const (
	extFlagHSREQ  uint16 = 0x1
	extFlagKMREQ  uint16 = 0x2
	extFlagCONFIG uint16 = 0x4

	extHSREQ uint16 = 1
	extHSRSP uint16 = 2
	extKMREQ uint16 = 3
	extKMRSP uint16 = 4
	extSID   uint16 = 5
)

// SRT flags of the HSREQ extension: what a live-mode HSv5 caller sets (libsrt sets the same).
const (
	flagTSBPDSND    uint32 = 0x01
	flagTSBPDRCV    uint32 = 0x02
	flagCRYPT       uint32 = 0x04
	flagTLPKTDROP   uint32 = 0x08
	flagPERIODICNAK uint32 = 0x10
	flagREXMITFLG   uint32 = 0x20
	callerFlags            = flagTSBPDSND | flagTSBPDRCV | flagCRYPT | flagTLPKTDROP | flagPERIODICNAK | flagREXMITFLG
)

// callerVersion is the SRT version the probe announces in HSREQ: the handshake it speaks is
// libsrt 1.5's (HSv5, stream id, key material).
const callerVersion uint32 = 0x010500

var (
	errShort       = errors.New("srt: packet too short")
	errNotControl  = errors.New("srt: not a control packet")
	errNotHS       = errors.New("srt: not a handshake")
	errExtOverflow = errors.New("srt: handshake extension runs past the packet")
)

// header is the SRT packet header of a control packet.
type header struct {
	ctrlType  uint16
	subtype   uint16
	typeInfo  uint32
	timestamp uint32 // microseconds since the sender's socket started
	dstSocket uint32
}

func (h header) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, 0x8000|h.ctrlType) // F = 1: a control packet
	b = binary.BigEndian.AppendUint16(b, h.subtype)
	b = binary.BigEndian.AppendUint32(b, h.typeInfo)
	b = binary.BigEndian.AppendUint32(b, h.timestamp)
	return binary.BigEndian.AppendUint32(b, h.dstSocket)
}

// parseHeader reads the header of a control packet and returns its CIF.
func parseHeader(b []byte) (header, []byte, error) {
	if len(b) < headerLen {
		return header{}, nil, errShort
	}
	w0 := binary.BigEndian.Uint16(b[0:])
	if w0&0x8000 == 0 {
		return header{}, nil, errNotControl
	}
	h := header{
		ctrlType:  w0 & 0x7FFF,
		subtype:   binary.BigEndian.Uint16(b[2:]),
		typeInfo:  binary.BigEndian.Uint32(b[4:]),
		timestamp: binary.BigEndian.Uint32(b[8:]),
		dstSocket: binary.BigEndian.Uint32(b[12:]),
	}
	return h, b[headerLen:], nil
}

// extension is one handshake extension block: its type and contents (a whole number of words).
type extension struct {
	typ  uint16
	data []byte
}

// handshake is the handshake CIF.
type handshake struct {
	version    uint32
	encryption uint16 // the cipher advertised: 0 none, 2 AES-128, 3 AES-192, 4 AES-256
	extension  uint16 // induction response: the magic; conclusion: the extension flags
	isn        uint32 // initial packet sequence number
	mtu        uint32
	flowWindow uint32
	hsType     uint32
	socketID   uint32 // the sender's socket
	cookie     uint32
	peerIP     [16]byte // as on the wire
	exts       []extension
}

func (hs *handshake) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, hs.version)
	b = binary.BigEndian.AppendUint16(b, hs.encryption)
	b = binary.BigEndian.AppendUint16(b, hs.extension)
	b = binary.BigEndian.AppendUint32(b, hs.isn)
	b = binary.BigEndian.AppendUint32(b, hs.mtu)
	b = binary.BigEndian.AppendUint32(b, hs.flowWindow)
	b = binary.BigEndian.AppendUint32(b, hs.hsType)
	b = binary.BigEndian.AppendUint32(b, hs.socketID)
	b = binary.BigEndian.AppendUint32(b, hs.cookie)
	b = append(b, hs.peerIP[:]...)
	for _, e := range hs.exts {
		b = binary.BigEndian.AppendUint16(b, e.typ)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.data)/4))
		b = append(b, e.data...)
	}
	return b
}

// parseHandshake reads a handshake CIF and its extensions. Extension contents alias cif.
func parseHandshake(cif []byte) (handshake, error) {
	if len(cif) < handshakeLen {
		return handshake{}, errShort
	}
	be := binary.BigEndian
	hs := handshake{
		version:    be.Uint32(cif[0:]),
		encryption: be.Uint16(cif[4:]),
		extension:  be.Uint16(cif[6:]),
		isn:        be.Uint32(cif[8:]),
		mtu:        be.Uint32(cif[12:]),
		flowWindow: be.Uint32(cif[16:]),
		hsType:     be.Uint32(cif[20:]),
		socketID:   be.Uint32(cif[24:]),
		cookie:     be.Uint32(cif[28:]),
	}
	copy(hs.peerIP[:], cif[32:48])
	rest := cif[handshakeLen:]
	// Extensions are read only from a v5 conclusion: in other handshakes the bytes after the CIF
	// mean nothing (and an induction response carries none).
	if hs.version != 5 || hs.hsType != hsConclusion {
		return hs, nil
	}
	for len(rest) >= 4 {
		typ, words := be.Uint16(rest[0:]), int(be.Uint16(rest[2:]))
		rest = rest[4:]
		if words*4 > len(rest) {
			return handshake{}, errExtOverflow
		}
		hs.exts = append(hs.exts, extension{typ: typ, data: rest[:words*4]})
		rest = rest[words*4:]
	}
	return hs, nil
}

// parsePacket reads a datagram as a handshake packet.
func parsePacket(b []byte) (header, handshake, error) {
	h, cif, err := parseHeader(b)
	if err != nil {
		return h, handshake{}, err
	}
	if h.ctrlType != ctrlHandshake {
		return h, handshake{}, errNotHS
	}
	hs, err := parseHandshake(cif)
	return h, hs, err
}

// ext returns the contents of the first extension of type t.
func (hs *handshake) ext(t uint16) ([]byte, bool) {
	for _, e := range hs.exts {
		if e.typ == t {
			return e.data, true
		}
	}
	return nil, false
}

// peerAddress is an address in the handshake's Peer IP field as libsrt writes it: libsrt copies
// the address bytes into 32-bit words in host order and sends the words in network order, so on
// the (little-endian) hosts it runs on each word's bytes arrive reversed. An IPv4 address fills
// the first word.
func peerAddress(a netip.Addr) [16]byte {
	var raw [16]byte
	if a.Unmap().Is4() {
		v4 := a.Unmap().As4()
		copy(raw[:4], v4[:])
	} else {
		raw = a.As16()
	}
	return swapWords(raw[:])
}

func swapWords(b []byte) (out [16]byte) {
	for i := 0; i+4 <= len(b) && i < 16; i += 4 {
		out[i], out[i+1], out[i+2], out[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return out
}

// streamIDBlock is the SID extension's contents: the stream id padded with zeros to whole words,
// each word's bytes reversed — libsrt stores the string in 32-bit words in host order, then sends
// the words in network order.
func streamIDBlock(sid string) []byte {
	n := (len(sid) + 3) / 4 * 4
	b := make([]byte, n)
	copy(b, sid)
	for i := 0; i < n; i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return b
}

// decodeStreamID reverses streamIDBlock (for the tests' listener).
func decodeStreamID(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, b[i+3], b[i+2], b[i+1], b[i])
	}
	for len(out) > 0 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	return string(out)
}

// hsExt is the HSREQ/HSRSP extension.
type hsExt struct {
	version   uint32
	flags     uint32
	recvDelay uint16 // milliseconds
	sendDelay uint16
}

func (e hsExt) bytes() []byte {
	b := binary.BigEndian.AppendUint32(nil, e.version)
	b = binary.BigEndian.AppendUint32(b, e.flags)
	b = binary.BigEndian.AppendUint16(b, e.recvDelay)
	return binary.BigEndian.AppendUint16(b, e.sendDelay)
}

func parseHSExt(b []byte) (hsExt, bool) {
	if len(b) < 12 {
		return hsExt{}, false
	}
	return hsExt{
		version:   binary.BigEndian.Uint32(b[0:]),
		flags:     binary.BigEndian.Uint32(b[4:]),
		recvDelay: binary.BigEndian.Uint16(b[8:]),
		sendDelay: binary.BigEndian.Uint16(b[10:]),
	}, true
}
