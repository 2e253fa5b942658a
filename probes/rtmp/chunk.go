package rtmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on what a server may make us hold. Replies to a publisher are command replies and control
// messages of a few hundred bytes; the limits are far above any real one and keep a hostile server
// from making the agent buffer 16 MiB per chunk stream.
const (
	maxMessageSize  = 64 << 10 // bytes in one message
	maxChunkStreams = 16       // chunk streams with state; real servers use two to six
)

// RTMP message type IDs (RTMP spec §5.4, §7.1).
const (
	typeSetChunkSize     = 1
	typeAbort            = 2
	typeAck              = 3
	typeUserControl      = 4
	typeWindowAckSize    = 5
	typeSetPeerBandwidth = 6
	typeCommandAMF3      = 17
	typeCommandAMF0      = 20
)

// defaultChunkSize is the chunk size both sides start with (RTMP spec §5.4.1).
const defaultChunkSize = 128

// errProtocol marks a server that broke the chunk stream or message rules.
var errProtocol = errors.New("protocol violation")

type chunkMessage struct {
	typeID   uint8
	streamID uint32
	payload  []byte
}

// chunkState is what a chunk stream remembers between chunks: the last message header, for the
// compressed headers (fmt 1–3) that omit it, and the message being assembled.
type chunkState struct {
	length   uint32
	typeID   uint8
	streamID uint32
	extended bool   // the last full header carried an extended timestamp, which fmt 3 repeats
	buf      []byte // the message being assembled; nil between messages
}

// chunkReader reassembles messages from the server's chunk stream (RTMP spec §5.3).
type chunkReader struct {
	r         io.Reader
	chunkSize uint32
	streams   map[uint32]*chunkState
	hdr       [11]byte
}

func newChunkReader(r io.Reader) *chunkReader {
	return &chunkReader{r: r, chunkSize: defaultChunkSize, streams: map[uint32]*chunkState{}}
}

func (c *chunkReader) read(n int) ([]byte, error) {
	if _, err := io.ReadFull(c.r, c.hdr[:n]); err != nil {
		return nil, err
	}
	return c.hdr[:n], nil
}

func u24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

// next returns the next complete message. Every chunk consumes input and adds at least one byte to
// a message bounded by maxMessageSize on one of at most maxChunkStreams streams, so the loop ends
// with the input (or the connection's deadline) without a count of its own.
func (c *chunkReader) next() (chunkMessage, error) {
	for {
		b, err := c.read(1)
		if err != nil {
			return chunkMessage{}, err
		}
		format := b[0] >> 6
		csid := uint32(b[0] & 0x3f)
		switch csid {
		case 0:
			b, err := c.read(1)
			if err != nil {
				return chunkMessage{}, err
			}
			csid = 64 + uint32(b[0])
		case 1:
			b, err := c.read(2)
			if err != nil {
				return chunkMessage{}, err
			}
			csid = 64 + uint32(b[0]) + uint32(b[1])*256
		}
		st := c.streams[csid]
		if st == nil {
			if format != 0 {
				return chunkMessage{}, fmt.Errorf("%w: chunk stream %d continues a message header it never sent", errProtocol, csid)
			}
			if len(c.streams) >= maxChunkStreams {
				return chunkMessage{}, fmt.Errorf("%w: more than %d chunk streams", errProtocol, maxChunkStreams)
			}
			st = &chunkState{}
			c.streams[csid] = st
		}
		if format != 3 && st.buf != nil {
			return chunkMessage{}, fmt.Errorf("%w: new message header on chunk stream %d before its message was complete", errProtocol, csid)
		}
		var ts uint32
		switch format {
		case 0:
			h, err := c.read(11)
			if err != nil {
				return chunkMessage{}, err
			}
			ts, st.length, st.typeID = u24(h[0:3]), u24(h[3:6]), h[6]
			st.streamID = binary.LittleEndian.Uint32(h[7:11])
		case 1:
			h, err := c.read(7)
			if err != nil {
				return chunkMessage{}, err
			}
			ts, st.length, st.typeID = u24(h[0:3]), u24(h[3:6]), h[6]
		case 2:
			h, err := c.read(3)
			if err != nil {
				return chunkMessage{}, err
			}
			ts = u24(h)
		}
		if format != 3 {
			st.extended = ts == 0xffffff
		}
		if st.extended {
			if _, err := c.read(4); err != nil { // timestamps are not used; only skipped
				return chunkMessage{}, err
			}
		}
		if st.length > maxMessageSize {
			return chunkMessage{}, fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", errProtocol, st.length, maxMessageSize)
		}
		if st.length == 0 {
			return chunkMessage{typeID: st.typeID, streamID: st.streamID}, nil
		}
		if st.buf == nil {
			st.buf = make([]byte, 0, st.length)
		}
		n := min(st.length-uint32(len(st.buf)), c.chunkSize)
		start := len(st.buf)
		st.buf = st.buf[:start+int(n)]
		if _, err := io.ReadFull(c.r, st.buf[start:]); err != nil {
			return chunkMessage{}, err
		}
		if uint32(len(st.buf)) < st.length {
			continue
		}
		m := chunkMessage{typeID: st.typeID, streamID: st.streamID, payload: st.buf}
		st.buf = nil
		if err := c.control(m); err != nil {
			return chunkMessage{}, err
		}
		return m, nil
	}
}

// control applies the protocol control messages that change how chunks are read.
func (c *chunkReader) control(m chunkMessage) error {
	switch m.typeID {
	case typeSetChunkSize:
		if len(m.payload) < 4 {
			return fmt.Errorf("%w: short Set Chunk Size", errProtocol)
		}
		size := binary.BigEndian.Uint32(m.payload) & 0x7fffffff
		if size == 0 {
			return fmt.Errorf("%w: chunk size 0", errProtocol)
		}
		c.chunkSize = size
	case typeAbort:
		if len(m.payload) >= 4 {
			if st := c.streams[binary.BigEndian.Uint32(m.payload)]; st != nil {
				st.buf = nil
			}
		}
	}
	return nil
}

// appendMessage appends msg as chunks of chunkSize on chunk stream csid (2–63): a full header
// (fmt 0, timestamp 0), then fmt 3 headers for the continuations.
func appendMessage(dst []byte, csid uint8, typeID uint8, streamID uint32, chunkSize int, payload []byte) []byte {
	return appendMessageAt(dst, csid, typeID, streamID, 0, chunkSize, payload)
}

// appendMessageAt is appendMessage with a timestamp (milliseconds): media messages carry theirs.
// A timestamp from 0xffffff up goes in the extended field, which each continuation repeats.
func appendMessageAt(dst []byte, csid uint8, typeID uint8, streamID, ts uint32, chunkSize int, payload []byte) []byte {
	ts24 := min(ts, 0xffffff)
	dst = append(dst, csid&0x3f,
		byte(ts24>>16), byte(ts24>>8), byte(ts24),
		byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload)),
		typeID)
	dst = binary.LittleEndian.AppendUint32(dst, streamID)
	if ts24 == 0xffffff {
		dst = binary.BigEndian.AppendUint32(dst, ts)
	}
	for i := 0; ; {
		n := min(chunkSize, len(payload)-i)
		dst = append(dst, payload[i:i+n]...)
		i += n
		if i >= len(payload) {
			return dst
		}
		dst = append(dst, 0xc0|csid&0x3f)
		if ts24 == 0xffffff {
			dst = binary.BigEndian.AppendUint32(dst, ts)
		}
	}
}
