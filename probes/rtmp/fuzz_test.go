package rtmp

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	amf0 "github.com/yutopp/go-amf0"
)

// replayConn is a connection whose server side is a fixed byte string: it lets the fuzzer drive a
// whole session — handshake, chunk stream, AMF0 replies — without a network.
type replayConn struct{ r *bytes.Reader }

func (c *replayConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *replayConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// serverReply is what a well-behaved server sends for a whole publish, as one byte string.
func serverReply(t testing.TB) []byte {
	b := append([]byte{3}, make([]byte, 3072)...)
	add := func(csid uint8, streamID uint32, name string, txn float64, values ...any) {
		p, err := encodeCommand(name, txn, values...)
		if err != nil {
			t.Fatal(err)
		}
		b = appendMessage(b, csid, typeCommandAMF0, streamID, defaultChunkSize, p)
	}
	b = appendMessage(b, 2, typeWindowAckSize, 0, 128, []byte{0, 0x4c, 0x4b, 0x40})
	b = appendMessage(b, 2, typeSetChunkSize, 0, 128, []byte{0, 0, 0x10, 0})
	add(3, 0, "_result", txnConnect, map[string]any{"fmsVer": "FMS/3,0,1,123"}, status("status", StatusConnectSuccess, "Connection succeeded."))
	add(3, 0, "onBWDone", 0, nil)
	add(3, 0, "_result", txnCreateStream, nil, 1.0)
	add(5, 1, "onStatus", 0, nil, status("status", StatusPublishStart, "Start publishing"))
	return b
}

var allClasses = []Class{OK, ConnectFailed, Timeout, Closed, NotRTMP, TLS, Rejected, InUse, Protocol, Canceled, Other}

// FuzzServerReply feeds arbitrary server bytes to a publish-level session: it must never panic,
// must end, and must report a known class in a known phase.
func FuzzServerReply(f *testing.F) {
	good := serverReply(f)
	f.Add(good)
	f.Add(good[:1537])
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: http://portal/\r\n\r\n"))
	f.Add([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46})
	f.Add(append(good[:3073:3073], 0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0))
	f.Add(append(good[:3073:3073], 0x02, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0x42, 0, 0, 0))
	u := mustURL(f, "rtmp", "127.0.0.1", 1935)
	f.Fuzz(func(t *testing.T, reply []byte) {
		p := New(Config{Address: netip.MustParseAddrPort("127.0.0.1:1935"), URL: u, Level: LevelPublish, Hold: time.Millisecond})
		p.dial = func(context.Context, string, string) (net.Conn, error) {
			return &replayConn{r: bytes.NewReader(reply)}, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		// A hang would stall the fuzzer silently; a panic makes it save the input.
		wd := time.AfterFunc(5*time.Second, func() { panic("FuzzServerReply: a run did not end in 5 s") })
		r := p.Run(ctx)
		wd.Stop()
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("got a run of %s from an in-memory reply; want it to end at once (result %+v)", d, r)
		}
		if !slices.Contains(allClasses, r.Error) {
			t.Fatalf("got class %q; want one of %v", r.Error, allClasses)
		}
		if r.Phase == "" || r.Phase == PhaseConnect || r.Phase == PhaseTLS {
			t.Fatalf("got phase %q; want one after the connect", r.Phase)
		}
		if r.Error == Timeout || r.Error == Canceled {
			t.Fatalf("got %q from a reply that ends; want the end of input to be seen", r.Error)
		}
	})
}

// FuzzDecodeAMF0 checks the reply decoder on its own: no panic, and what it decodes survives a
// round trip through go-amf0's encoder.
func FuzzDecodeAMF0(f *testing.F) {
	for _, vals := range [][]any{
		{"_result", 1.0, map[string]any{"fmsVer": "FMS/3,0,1,123"}, map[string]any{"level": "status", "code": StatusConnectSuccess}},
		{"onStatus", 0.0, nil, map[string]any{"level": "error", "code": StatusPublishBadName, "data": []any{1.0, true, "x"}}},
	} {
		var buf bytes.Buffer
		enc := amf0.NewEncoder(&buf)
		for _, v := range vals {
			if err := enc.Encode(v); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte{markerStrictArray, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{markerECMAArray, 0, 0, 0, 1, 0, 1, 'k', markerUndefined, 0, 0, markerObjectEnd})
	f.Add([]byte{markerLongString, 0xff, 0xff, 0xff, 0xff})
	{
		var buf bytes.Buffer
		enc := amf0.NewEncoder(&buf)
		for _, v := range []any{"_result", 1.0, map[string]any{"fourCcList": []any{"hvc1", "av01"}}, map[string]any{"videoFourCcInfoMap": map[string]any{"vp09": 5.0}}} {
			if err := enc.Encode(v); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := decodeAMF0(b)
		if err != nil {
			return
		}
		// Whatever a server sends, the codecs read from it are bounded and well-formed.
		codecs := announcedCodecs(vals)
		if len(codecs) > maxCodecs {
			t.Fatalf("got %d codecs; want at most %d", len(codecs), maxCodecs)
		}
		for _, c := range codecs {
			if !isFourCC(c) {
				t.Fatalf("kept %q, which is not a FourCC", c)
			}
		}
		var buf bytes.Buffer
		enc := amf0.NewEncoder(&buf)
		for _, v := range vals {
			if hasNaN(v) {
				return // NaN != NaN: the round trip cannot compare it
			}
			if err := enc.Encode(v); err != nil {
				return // values go-amf0 cannot write (long strings) are not ours to check
			}
		}
		again, err := decodeAMF0(buf.Bytes())
		if err != nil {
			t.Fatalf("re-decoding what go-amf0 wrote: %v", err)
		}
		if !reflect.DeepEqual(normalize(vals), normalize(again)) {
			t.Fatalf("got %#v after a round trip; want %#v", again, vals)
		}
	})
}

func hasNaN(v any) bool {
	switch v := v.(type) {
	case float64:
		return v != v
	case []any:
		return slices.ContainsFunc(v, hasNaN)
	case map[string]any:
		for _, e := range v {
			if hasNaN(e) {
				return true
			}
		}
	}
	return false
}

// normalize makes empty and nil slices equal: go-amf0 writes both as an empty array.
func normalize(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
