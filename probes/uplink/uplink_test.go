package uplink

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tcpPublisher is a Publisher over a real loopback TCP connection whose far end reads and
// discards: TCP_INFO measures it as it would an ingest.
type tcpPublisher struct {
	c       net.Conn
	mu      sync.Mutex
	written uint64
	msgs    map[string]int
}

func (p *tcpPublisher) Conn() net.Conn { return p.c }
func (p *tcpPublisher) write(kind string, b []byte) error {
	n, err := p.c.Write(b)
	p.mu.Lock()
	p.written += uint64(n)
	p.msgs[kind]++
	p.mu.Unlock()
	return err
}
func (p *tcpPublisher) WriteAudio(ts uint32, b []byte) error { return p.write("audio", b) }
func (p *tcpPublisher) WriteVideo(ts uint32, b []byte) error { return p.write("video", b) }
func (p *tcpPublisher) WriteData(b []byte) error             { return p.write("data", b) }
func (p *tcpPublisher) SetAckWindow(uint32) error            { return nil }
func (p *tcpPublisher) Written() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written
}
func (p *tcpPublisher) Acknowledged() (uint64, time.Time, int) { return 0, time.Time{}, 0 }
func (p *tcpPublisher) Err() error                             { return nil }

func loopback(t *testing.T) *tcpPublisher {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return &tcpPublisher{c: c, msgs: map[string]int{}}
}

// TestStreamLoopback: over loopback, which carries far more than 2.5 Mbit/s, the soak writes
// about 1.25 × the rate (the filler is what makes it) and TCP_INFO measures what was written as
// acknowledged. On systems without TCP_INFO there is no Acknowledgement here: unmeasured.
func TestStreamLoopback(t *testing.T) {
	pub := loopback(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var progress []Progress
	var mu sync.Mutex
	r, err := New(Config{Rate: 2_000_000, Window: MinWindow, Warmup: time.Second, Progress: func(p Progress) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	}}).Stream(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := readTCPInfo(pub.c); !ok {
		if r.Error != Unmeasured {
			t.Errorf("got %+v; want unmeasured without TCP_INFO", r)
		}
		return
	}
	if !r.OK || r.MeasuredBy != "tcp_info" || r.VideoCodec != "h264" || r.AudioCodec != "aac" {
		t.Fatalf("got %+v; want measured by tcp_info", r)
	}
	// The rate written follows the clock within a frame or two over the window; loopback
	// acknowledges all of it.
	if r.SentBPS < 2.3e6 || r.SentBPS > 2.7e6 {
		t.Errorf("sent %.0f bit/s; want about 2.5 Mbit/s (1.25 × 2 Mbit/s)", r.SentBPS)
	}
	if r.AchievedBPS < 0.9*r.SentBPS || r.AchievedBPS > 1.1*r.SentBPS {
		t.Errorf("achieved %.0f bit/s; want about what was sent (%.0f) on loopback", r.AchievedBPS, r.SentBPS)
	}
	// Loopback loses nothing, but a paced flow may still see a tail loss probe (counted as a
	// retransmission) when a loaded machine delays an ACK: a little, never the 2 % that warns.
	if r.DurationSeconds < 2.9 || r.DurationSeconds > 3.5 || r.RetransmitRatio >= 0.02 || r.RecommendedMaxBPS != Recommended(r.AchievedBPS) {
		t.Errorf("got %+v; want a 3 s window, next to no retransmission, the recommendation from achieved", r)
	}
	if pub.msgs["data"] != 1 || pub.msgs["video"] < 25*3 || pub.msgs["audio"] < 46*3 {
		t.Errorf("messages %v; want onMetaData once, 25 video and ~47 audio frames a second", pub.msgs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) < 10 || !progress[0].Warmup || progress[len(progress)-1].Warmup || progress[len(progress)-1].BPS <= 0 {
		t.Errorf("progress %+v; want a sample every 250 ms, warm-up first, a rate at the end", progress)
	}
}

// TestStreamCanceled: a canceled soak returns at once, measuring nothing.
func TestStreamCanceled(t *testing.T) {
	pub := loopback(t)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	r, _ := New(Config{Rate: 1_000_000, Window: MinWindow}).Stream(ctx, pub)
	if r.OK || r.Error != Canceled || time.Since(start) > 2*time.Second {
		t.Errorf("got %+v after %s; want canceled at once", r, time.Since(start))
	}
}

// TestClip: the embedded clip is what onMetaData and the loop assume — AVC with 4-byte NAL
// lengths and AAC, starting on a keyframe, a keyframe at most every 2 s (ingests require it,
// across the loop's seam too), no B-frames (composition time 0), 64 frames and 120 AAC frames a
// loop, all before clipPeriod.
func TestClip(t *testing.T) {
	c, err := parseClip(clipFLV)
	if err != nil {
		t.Fatal(err)
	}
	if c.nalLength != 4 {
		t.Errorf("NAL length size %d; want 4", c.nalLength)
	}
	var video, audio int
	var keys []uint32
	for _, f := range c.frames {
		if f.ts >= clipPeriod {
			t.Errorf("frame at %d ms; want all before %d", f.ts, clipPeriod)
		}
		switch f.typ {
		case tagVideo:
			video++
			if f.key {
				keys = append(keys, f.ts)
			}
			if cts := uint32(f.body[2])<<16 | uint32(f.body[3])<<8 | uint32(f.body[4]); cts != 0 {
				t.Errorf("video frame at %d ms has composition time %d; want 0 (no B-frames)", f.ts, cts)
			}
		case tagAudio:
			audio++
		}
	}
	if video != 64 || audio != 120 {
		t.Errorf("got %d video and %d audio frames a loop; want 64 and 120", video, audio)
	}
	if len(keys) == 0 || !c.frames[0].key && c.frames[0].typ == tagVideo {
		t.Fatalf("keyframes at %v; want the clip to start with one", keys)
	}
	keys = append(keys, keys[0]+clipPeriod) // the seam
	for i := 1; i < len(keys); i++ {
		if d := keys[i] - keys[i-1]; d > maxKeyframeInterval {
			t.Errorf("keyframes %d ms apart (at %d and %d); want at most %d", d, keys[i-1], keys[i], maxKeyframeInterval)
		}
	}
	// The SPS in the AVC sequence header: profile 77 (Main).
	if p := c.avcConfig.body[5+1]; p != 77 {
		t.Errorf("AVC profile %d; want 77 (Main)", p)
	}
	// AAC LC at 48 kHz stereo: AudioSpecificConfig object type 2, frequency index 3, 2 channels.
	if asc := c.aacConfig.body[2:]; len(asc) < 2 || asc[0]>>3 != 2 || (asc[0]&7)<<1|asc[1]>>7 != 3 || (asc[1]>>3)&0xf != 2 {
		t.Errorf("AudioSpecificConfig % x; want AAC LC, 48 kHz, stereo", asc)
	}
}

func TestFillerNAL(t *testing.T) {
	b := fillerNAL([]byte{0x17}, 4, 10)
	want := []byte{0x17, 0, 0, 0, 6, 0x0c, 0xff, 0xff, 0xff, 0xff, 0x80}
	if !bytes.Equal(b, want) {
		t.Errorf("got % x; want % x", b, want)
	}
	if b := fillerNAL(nil, 1, 3); !bytes.Equal(b, []byte{2, 0x0c, 0x80}) {
		t.Errorf("1-byte length: got % x", b)
	}
	if b := fillerNAL(nil, 2, 300); len(b) != 300 || binary.BigEndian.Uint16(b) != 298 {
		t.Errorf("2-byte length: got %d bytes, length field %d", len(b), binary.BigEndian.Uint16(b))
	}
}

func TestMetadata(t *testing.T) {
	b := metadata(5936, 64)
	for _, s := range []string{"@setDataFrame", "onMetaData", "width", "height", "framerate", "videodatarate", "audiodatarate", "encoder", "ingestprobe"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("onMetaData lacks %q", s)
		}
	}
	if !bytes.HasSuffix(b, []byte{0, 0, 9}) {
		t.Errorf("onMetaData does not end with the object end marker")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{"6M": 6_000_000, "4500k": 4_500_000, "6000000": 6_000_000, "2.5M": 2_500_000,
		"1G": 1_000_000_000, "800K": 800_000, "6 Mbit/s": 6_000_000, "6Mbps": 6_000_000, "6m": 6_000_000} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5M", "abc", "1.1G", "2G", "NaN", "Inf", "6X", "0.1"} {
		if got, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %d; want an error", in, got)
		}
	}
	if _, err := ParseRate(strings.Repeat("9", 100)); err == nil || len(err.Error()) > 120 {
		t.Errorf("a long input: got %v; want a short error", err)
	}
}

func TestFormatRate(t *testing.T) {
	for in, want := range map[float64]string{6e6: "6.0 Mbit/s", 7.56e6: "7.6 Mbit/s", 750e3: "750 kbit/s", 1.5e9: "1.50 Gbit/s", 12: "12 bit/s"} {
		if got := FormatRate(in); got != want {
			t.Errorf("FormatRate(%v) = %q; want %q", in, got, want)
		}
	}
	if got := Recommended(4.75e6); got != 3_800_000 {
		t.Errorf("Recommended(4.75 Mbit/s) = %d; want 3800000", got)
	}
}
