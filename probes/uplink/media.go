package uplink

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// clipFLV is the soak's media: a short H.264/AAC clip encoded once (media/README.md has the
// command). It is parsed when a soak starts, not at init.
//
//go:embed media/clip.flv
var clipFLV []byte

// FLV tag types (FLV spec E.4.1).
const (
	tagAudio  = 8
	tagVideo  = 9
	tagScript = 18
)

// Media facts of the clip that go into onMetaData. Checked against the clip by TestClip.
const (
	clipWidth     = 640
	clipHeight    = 360
	clipFrameRate = 25
	// clipPeriod is the loop length in milliseconds: 64 video frames at 25 fps, 120 AAC frames of
	// 1024 samples at 48 kHz. Tags at or after it are left out, so loops never overlap.
	clipPeriod = 2560
	// maxKeyframeInterval is what ingests require (YouTube, Twitch: at most 2 s); TestClip checks it.
	maxKeyframeInterval = 2000
)

// tag is one FLV tag body with its timestamp in milliseconds.
type tag struct {
	typ  uint8
	ts   uint32
	body []byte
	key  bool // a video keyframe
}

// clip is the parsed media: the sequence headers, sent once, and the frames, looped.
type clip struct {
	avcConfig, aacConfig tag   // the AVC and AAC sequence headers
	frames               []tag // audio and video frames in decode order, ts < clipPeriod
	nalLength            int   // bytes of each NAL unit's length prefix (1, 2 or 4)
	bytesPerLoop         int   // the frames' body bytes in one loop
}

var errClip = errors.New("uplink: the embedded clip is not usable FLV H.264/AAC")

// parseClip reads an FLV file: header, then tags with their previous-tag-size fields.
func parseClip(b []byte) (*clip, error) {
	if len(b) < 13 || string(b[:3]) != "FLV" {
		return nil, fmt.Errorf("%w: no FLV header", errClip)
	}
	off := int(binary.BigEndian.Uint32(b[5:9])) + 4 // header, then PreviousTagSize0
	c := &clip{}
	for off+11 <= len(b) {
		typ := b[off] & 0x1f
		size := int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		ts := uint32(b[off+4])<<16 | uint32(b[off+5])<<8 | uint32(b[off+6]) | uint32(b[off+7])<<24
		start := off + 11
		if start+size+4 > len(b) {
			return nil, fmt.Errorf("%w: tag at %d runs past the end", errClip, off)
		}
		body := b[start : start+size]
		off = start + size + 4
		if len(body) < 2 {
			continue
		}
		switch typ {
		case tagVideo:
			if body[0]&0x0f != 7 { // AVC
				return nil, fmt.Errorf("%w: video codec %d is not AVC", errClip, body[0]&0x0f)
			}
			switch body[1] {
			case 0:
				c.avcConfig = tag{typ: tagVideo, body: body, key: true}
			case 1:
				if ts < clipPeriod {
					c.frames = append(c.frames, tag{typ: tagVideo, ts: ts, body: body, key: body[0]>>4 == 1})
				}
			}
		case tagAudio:
			if body[0]>>4 != 10 { // AAC
				return nil, fmt.Errorf("%w: audio format %d is not AAC", errClip, body[0]>>4)
			}
			switch body[1] {
			case 0:
				c.aacConfig = tag{typ: tagAudio, body: body}
			case 1:
				if ts < clipPeriod {
					c.frames = append(c.frames, tag{typ: tagAudio, ts: ts, body: body})
				}
			}
		}
	}
	// AVCDecoderConfigurationRecord after the 5-byte AVC video header: lengthSizeMinusOne is
	// the low 2 bits of its fifth byte.
	if len(c.avcConfig.body) < 5+5 || c.aacConfig.body == nil || len(c.frames) == 0 {
		return nil, fmt.Errorf("%w: a sequence header or the frames are missing", errClip)
	}
	c.nalLength = int(c.avcConfig.body[5+4]&0x03) + 1
	if c.nalLength == 3 {
		return nil, fmt.Errorf("%w: 3-byte NAL lengths", errClip)
	}
	if !c.frames[0].key && c.frames[0].typ == tagVideo {
		return nil, fmt.Errorf("%w: the clip does not start with a keyframe", errClip)
	}
	for _, f := range c.frames {
		c.bytesPerLoop += len(f.body)
	}
	return c, nil
}

// fillerNAL appends a filler-data NAL unit (nal_unit_type 12, H.264 §7.3.2.7) of n bytes in all,
// length prefix included, as x264 pads in CBR mode: a header byte, 0xff bytes, and the RBSP
// trailing bits. n must be at least nalLength+2.
func fillerNAL(dst []byte, nalLength, n int) []byte {
	payload := n - nalLength
	switch nalLength {
	case 1:
		dst = append(dst, byte(payload))
	case 2:
		dst = binary.BigEndian.AppendUint16(dst, uint16(payload))
	default:
		dst = binary.BigEndian.AppendUint32(dst, uint32(payload))
	}
	dst = append(dst, 0x0c) // forbidden_zero_bit 0, nal_ref_idc 0, type 12
	for n := payload - 2; n > 0; {
		k := min(n, len(ffs))
		dst = append(dst, ffs[:k]...)
		n -= k
	}
	return append(dst, 0x80)
}

// ffs is the filler's 0xff bytes, appended a block at a time (a byte at a time cost the soak more
// CPU than the rest of it at 6 Mbit/s).
var ffs = bytes.Repeat([]byte{0xff}, 4096)

// maxFillerNAL bounds one filler NAL so its length fits the prefix (255 for a 1-byte one).
func maxFillerNAL(nalLength int) int {
	switch nalLength {
	case 1:
		return 0xff
	case 2:
		return 0xffff
	}
	return 1 << 24
}

// metadata is the AMF0 body of "@setDataFrame" "onMetaData" {…}, as encoders send it before the
// media. Rates are in kbit/s, as FLV has them.
func metadata(videoKbps, audioKbps float64) []byte {
	var b []byte
	b = amfString(b, "@setDataFrame")
	b = amfString(b, "onMetaData")
	b = append(b, 0x08) // ECMA array
	props := []struct {
		k string
		v any
	}{
		{"width", float64(clipWidth)}, {"height", float64(clipHeight)}, {"framerate", float64(clipFrameRate)},
		{"videocodecid", 7.0}, {"videodatarate", math.Round(videoKbps)},
		{"audiocodecid", 10.0}, {"audiodatarate", math.Round(audioKbps)}, {"audiosamplerate", 48000.0},
		{"audiosamplesize", 16.0}, {"stereo", true}, {"encoder", "ingestprobe uplink soak"},
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(props)))
	for _, p := range props {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.k)))
		b = append(b, p.k...)
		switch v := p.v.(type) {
		case float64:
			b = append(b, 0x00)
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		case bool:
			x := byte(0)
			if v {
				x = 1
			}
			b = append(b, 0x01, x)
		case string:
			b = amfString(b, v)
		}
	}
	return append(b, 0, 0, 0x09) // object end
}

func amfString(b []byte, s string) []byte {
	b = append(b, 0x02)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
