package rtmp

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Message type IDs of media on the publish stream (RTMP spec §7.1).
const (
	typeAudio = 8
	typeVideo = 9
	typeData  = 18 // AMF0 data: @setDataFrame onMetaData
)

// Chunk streams of the media, as OBS uses them: audio and video on streams of their own, so a
// large video frame does not share a header state with the audio between it.
const (
	csAudio = 4 // the publish command's stream: audio and data follow it there
	csVideo = 6
)

// Stream is an accepted publish, handed to Config.Stream. Its writers send media on the publish
// stream; a reader of its own (one goroutine, ended before Config.Stream's caller returns) answers
// pings, keeps the server's Acknowledgements and notices an error status or a close. Safe for use
// by one writer at a time; Acknowledged and Err may be called from any goroutine.
type Stream struct {
	s *session

	wmu     sync.Mutex // the writers and the reader's ping replies
	out     []byte
	written atomic.Uint64 // session.written after the last write, readable while a write blocks

	mu       sync.Mutex
	ackSeq   uint64 // the last Acknowledgement's sequence number, unwrapped past 2^32
	ackAt    time.Time
	acks     int
	readErr  error
	received int // messages read while streaming
}

// Conn is the TCP connection under the session (under TLS for rtmps://), for socket statistics
// such as TCP_INFO. Reading from or writing to it would break the session.
func (st *Stream) Conn() net.Conn { return st.s.raw }

// WriteAudio sends an FLV audio tag body (RTMP message type 8) with its timestamp in milliseconds.
func (st *Stream) WriteAudio(ts uint32, payload []byte) error {
	return st.writeMessage(csAudio, typeAudio, ts, payload)
}

// WriteVideo sends an FLV video tag body (RTMP message type 9) with its timestamp in milliseconds.
func (st *Stream) WriteVideo(ts uint32, payload []byte) error {
	return st.writeMessage(csVideo, typeVideo, ts, payload)
}

// WriteData sends an AMF0 data message (type 18), such as @setDataFrame onMetaData.
func (st *Stream) WriteData(payload []byte) error {
	return st.writeMessage(csAudio, typeData, 0, payload)
}

func (st *Stream) writeMessage(csid, typeID uint8, ts uint32, payload []byte) error {
	if err := st.Err(); err != nil {
		return err
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.out = appendMessageAt(st.out[:0], csid, typeID, st.s.streamID, ts, outChunkSize, payload)
	err := st.s.write(st.out)
	st.written.Store(st.s.written)
	return err
}

// SetAckWindow asks the server for an Acknowledgement every n bytes it receives (Window
// Acknowledgement Size, RTMP spec §5.4.4). Servers that honour it (nginx-rtmp does) then report
// what arrived often enough to measure a rate by; others keep their own window.
func (st *Stream) SetAckWindow(n uint32) error {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.out = appendMessage(st.out[:0], csControl, typeWindowAckSize, 0, outChunkSize, binary.BigEndian.AppendUint32(nil, n))
	err := st.s.write(st.out)
	st.written.Store(st.s.written)
	return err
}

// Written is the number of bytes written to the session since the handshake (plaintext for
// rtmps://): what a server's Acknowledgement counts. A write still blocked is not counted yet.
func (st *Stream) Written() uint64 { return st.written.Load() }

// Acknowledged is the last Acknowledgement from the server: the bytes it says it received since
// the handshake, when it arrived, and how many arrived while streaming (0: none yet).
func (st *Stream) Acknowledged() (bytes uint64, at time.Time, count int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ackSeq, st.ackAt, st.acks
}

// Err is why the server ended the publish — an error status, a close, a broken chunk stream or
// the connection ending — or nil while it is accepted.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.readErr
}

// stream runs Config.Stream in place of the hold, with a reader beside it. It fails as the hold
// does (the server's error status or close, a broken chunk stream), or with the writer's error.
func (s *session) stream() error {
	end := s.deadline.Add(-cleanupReserve)
	if !end.After(s.p.now()) {
		return nil
	}
	ctx, cancel := context.WithDeadline(s.ctx, end)
	defer cancel()
	st := &Stream{s: s}
	st.written.Store(s.written)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		st.read()
	}()
	err := s.p.cfg.Stream(ctx, st)
	// Stop the reader: expire the read deadline, wait for it, and give the release its deadline
	// back (unless the run was canceled meanwhile).
	s.mu.Lock()
	_ = s.raw.SetReadDeadline(time.Unix(1, 0))
	s.mu.Unlock()
	<-readerDone
	s.mu.Lock()
	if !s.canceled {
		_ = s.raw.SetReadDeadline(s.deadline)
	}
	s.mu.Unlock()
	if rerr := st.Err(); rerr != nil && !errors.Is(rerr, errReaderStopped) {
		return rerr
	}
	if err != nil && s.ctx.Err() == context.Canceled {
		return context.Canceled
	}
	return err
}

// errReaderStopped marks the reader's end when the stream was over: not a failure.
var errReaderStopped = errors.New("reader stopped")

// read reads the server's messages while the stream runs, until the read deadline is expired by
// stream or the server fails the publish. At most maxMessagesPerHold messages per minute of
// streaming are taken without complaint; a server flooding more is broken or hostile.
func (st *Stream) read() {
	s := st.s
	for {
		m, err := s.chunks.next()
		if err != nil {
			if class, _ := classifyIO(err); class == Timeout {
				err = errReaderStopped
			}
			st.fail(err)
			return
		}
		st.mu.Lock()
		st.received++
		n := st.received
		st.mu.Unlock()
		if n > maxMessagesPerHold*16 {
			st.fail(errProtocolFlood)
			return
		}
		switch m.typeID {
		case typeAck:
			if len(m.payload) >= 4 {
				st.ack(binary.BigEndian.Uint32(m.payload))
			}
		case typeUserControl:
			if len(m.payload) >= 6 && binary.BigEndian.Uint16(m.payload) == 6 {
				pong := append([]byte{0, 7}, m.payload[2:6]...)
				st.wmu.Lock()
				err := s.write(appendMessage(nil, csControl, typeUserControl, 0, outChunkSize, pong))
				st.wmu.Unlock()
				if err != nil {
					st.fail(err)
					return
				}
			}
		case typeCommandAMF0, typeCommandAMF3:
			payload := m.payload
			if m.typeID == typeCommandAMF3 && len(payload) > 0 {
				payload = payload[1:]
			}
			c, err := parseCommand(payload)
			if err != nil {
				st.fail(errors.Join(errProtocol, err))
				return
			}
			if level, code, _ := c.info(); c.name == "onStatus" && level == "error" || c.name == "close" {
				s.setStatus(code, "")
				st.fail(&statusError{command: "publish", code: orName(code, c.name)})
				return
			}
		}
	}
}

var errProtocolFlood = errors.Join(errProtocol, errors.New("the server sent too many messages while streaming"))

func (st *Stream) fail(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.readErr == nil {
		st.readErr = err
	}
}

// ack keeps an Acknowledgement's sequence number, which wraps at 2^32.
func (st *Stream) ack(seq uint32) {
	st.mu.Lock()
	defer st.mu.Unlock()
	prev := uint32(st.ackSeq)
	st.ackSeq += uint64(seq - prev)
	st.ackAt = time.Now()
	st.acks++
}
