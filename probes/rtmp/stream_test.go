package rtmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// streamServer accepts a publish, then reads what the client streams and reports each message;
// after the first media message it sends an Acknowledgement, and with failWith set an onStatus
// error.
func streamServer(t *testing.T, failWith string, got chan<- chunkMessage) *fakeServer {
	return startFake(t, nil, func(f *fakeConn) {
		defer close(got)
		if f.handshake() != nil {
			return
		}
		for {
			m, err := f.chunks.next()
			if err != nil {
				return
			}
			switch m.typeID {
			case typeCommandAMF0:
				c, err := parseCommand(m.payload)
				if err != nil {
					return
				}
				switch c.name {
				case "connect":
					_ = f.send(3, 0, "_result", c.txn, nil, status("status", StatusConnectSuccess, ""))
				case "createStream":
					_ = f.send(3, 0, "_result", c.txn, nil, 1.0)
				case "publish":
					_ = f.send(5, 1, "onStatus", 0, nil, status("status", StatusPublishStart, ""))
				case "deleteStream":
					got <- m
					return
				}
			case typeWindowAckSize, typeAudio, typeData:
				got <- chunkMessage{typeID: m.typeID, streamID: m.streamID, payload: bytes.Clone(m.payload)}
			case typeVideo:
				got <- chunkMessage{typeID: m.typeID, streamID: m.streamID, payload: bytes.Clone(m.payload)}
				_, _ = f.Write(appendMessage(nil, csControl, typeAck, 0, defaultChunkSize, binary.BigEndian.AppendUint32(nil, 12345)))
				if failWith != "" {
					_ = f.send(5, 1, "onStatus", 0, nil, status("error", failWith, ""))
				}
			}
		}
	})
}

func TestStreamHook(t *testing.T) {
	got := make(chan chunkMessage, 16)
	srv := streamServer(t, "", got)
	var (
		acked        uint64
		acks         int
		written      uint64
		conn, hasErr bool
	)
	hook := func(ctx context.Context, st *Stream) error {
		conn = st.Conn() != nil
		if err := st.SetAckWindow(1 << 16); err != nil {
			return err
		}
		for _, w := range []func() error{
			func() error { return st.WriteData([]byte("meta")) },
			func() error { return st.WriteAudio(21, []byte{0xaf, 1, 2, 3}) },
			func() error { return st.WriteVideo(40, bytes.Repeat([]byte{0x17}, 9000)) }, // several chunks
		} {
			if err := w(); err != nil {
				return err
			}
		}
		for ctx.Err() == nil {
			if acked, _, acks = st.Acknowledged(); acks > 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		written, hasErr = st.Written(), st.Err() != nil
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	r := New(Config{Address: srv.addr(), URL: mustURL(t, "rtmp", "127.0.0.1", srv.addr().Port()), Level: LevelPublish, Stream: hook}).Run(ctx)
	if !r.OK || r.Phase != PhaseHold {
		t.Fatalf("got %+v; want ok in the hold phase", r)
	}
	if !conn || hasErr || acked != 12345 || acks != 1 {
		t.Errorf("hook saw conn %v, err %v, ack %d ×%d; want a conn, no error, ack 12345 once", conn, hasErr, acked, acks)
	}
	if written < 9000+4+4 {
		t.Errorf("written %d; want at least the payloads", written)
	}
	var types []uint8
	for m := range got {
		types = append(types, m.typeID)
		switch m.typeID {
		case typeWindowAckSize:
			if binary.BigEndian.Uint32(m.payload) != 1<<16 {
				t.Errorf("window ack size %d; want 65536", binary.BigEndian.Uint32(m.payload))
			}
		case typeVideo:
			if len(m.payload) != 9000 || m.streamID != 1 {
				t.Errorf("video: %d bytes on stream %d; want 9000 on 1", len(m.payload), m.streamID)
			}
		}
	}
	want := []uint8{typeWindowAckSize, typeData, typeAudio, typeVideo, typeCommandAMF0}
	if !bytes.Equal(types, want) {
		t.Errorf("server got message types %v; want %v (the release's deleteStream last)", types, want)
	}
}

// TestStreamHookServerError: an error status while streaming ends the hold as the hold's would,
// and the hook sees it.
func TestStreamHookServerError(t *testing.T) {
	got := make(chan chunkMessage, 16)
	srv := streamServer(t, "NetStream.Publish.Rejected", got)
	var sawErr error
	hook := func(ctx context.Context, st *Stream) error {
		if err := st.WriteVideo(0, []byte{0x17, 0}); err != nil {
			return err
		}
		for ctx.Err() == nil && st.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		sawErr = st.Err()
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	r := New(Config{Address: srv.addr(), URL: mustURL(t, "rtmp", "127.0.0.1", srv.addr().Port()), Level: LevelPublish, Stream: hook}).Run(ctx)
	var se *statusError
	if r.OK || r.Error != Rejected || r.Phase != PhaseHold || r.Status != "NetStream.Publish.Rejected" || !errors.As(sawErr, &se) {
		t.Errorf("got %+v, hook saw %v; want rejected in the hold with the status", r, sawErr)
	}
	for range got {
	}
}

// TestAppendMessageExtendedTimestamp: from 0xffffff the timestamp moves to the extended field,
// which every continuation chunk repeats.
func TestAppendMessageExtendedTimestamp(t *testing.T) {
	b := appendMessageAt(nil, 6, typeVideo, 1, 0x01020304, 4, []byte{1, 2, 3, 4, 5})
	want := []byte{6, 0xff, 0xff, 0xff, 0, 0, 5, typeVideo, 1, 0, 0, 0, 1, 2, 3, 4, 1, 2, 3, 4, 0xc6, 1, 2, 3, 4, 5}
	if !bytes.Equal(b, want) {
		t.Errorf("got % x; want % x", b, want)
	}
	b = appendMessageAt(nil, 4, typeAudio, 1, 0x123, 128, []byte{9})
	if want := []byte{4, 0, 0x01, 0x23, 0, 0, 1, typeAudio, 1, 0, 0, 0, 9}; !bytes.Equal(b, want) {
		t.Errorf("got % x; want % x", b, want)
	}
}
