package rtmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	amf0 "github.com/yutopp/go-amf0"
)

// maxAMFDepth bounds the nesting of objects and arrays in a reply: real replies nest two levels
// (an info object holding a "data" object); a deeper one is hostile or broken.
const maxAMFDepth = 16

// AMF0 markers (AMF0 spec §2.1).
const (
	markerNumber      = 0x00
	markerBoolean     = 0x01
	markerString      = 0x02
	markerObject      = 0x03
	markerMovieClip   = 0x04
	markerNull        = 0x05
	markerUndefined   = 0x06
	markerReference   = 0x07
	markerECMAArray   = 0x08
	markerObjectEnd   = 0x09
	markerStrictArray = 0x0a
	markerDate        = 0x0b
	markerLongString  = 0x0c
	markerUnsupported = 0x0d
	markerXMLDocument = 0x0f
	markerTypedObject = 0x10
)

var errAMF = errors.New("malformed AMF0")

// decodeAMF0 decodes the AMF0 values of a command message. It is written here rather than taken
// from go-amf0 because that decoder allocates a strict array's declared length before reading a
// single element (5 bytes from a server can claim 2^31-1 elements) and rejects `undefined`, which
// servers do send. This one allocates only for bytes actually present and never recurses deeper
// than maxAMFDepth. Objects become map[string]any, numbers float64, null and undefined nil.
func decodeAMF0(b []byte) ([]any, error) {
	d := amfDecoder{b: b}
	var out []any
	for len(d.b) > 0 {
		v, err := d.value(0)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

type amfDecoder struct{ b []byte }

func (d *amfDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b) {
		return nil, fmt.Errorf("%w: %d bytes wanted, %d left", errAMF, n, len(d.b))
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v, nil
}

func (d *amfDecoder) u16() (int, error) {
	v, err := d.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(v)), nil
}

func (d *amfDecoder) u32() (uint32, error) {
	v, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(v), nil
}

func (d *amfDecoder) str(n int) (string, error) {
	v, err := d.take(n)
	return string(v), err
}

func (d *amfDecoder) value(depth int) (any, error) {
	if depth > maxAMFDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errAMF, maxAMFDepth)
	}
	m, err := d.take(1)
	if err != nil {
		return nil, err
	}
	switch m[0] {
	case markerNumber:
		v, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(v)), nil
	case markerBoolean:
		v, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return v[0] != 0, nil
	case markerString:
		n, err := d.u16()
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case markerLongString, markerXMLDocument:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if uint64(n) > uint64(len(d.b)) {
			return nil, fmt.Errorf("%w: long string of %d bytes, %d left", errAMF, n, len(d.b))
		}
		return d.str(int(n))
	case markerObject:
		return d.properties(depth)
	case markerTypedObject:
		n, err := d.u16()
		if err != nil {
			return nil, err
		}
		if _, err := d.take(n); err != nil { // the class name: not needed
			return nil, err
		}
		return d.properties(depth)
	case markerECMAArray:
		if _, err := d.u32(); err != nil { // the count is a hint; the end marker is authoritative
			return nil, err
		}
		return d.properties(depth)
	case markerStrictArray:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		// Each element takes at least one byte: a count beyond what is left is a lie, and is
		// refused before anything is allocated for it.
		if uint64(n) > uint64(len(d.b)) {
			return nil, fmt.Errorf("%w: array of %d elements, %d bytes left", errAMF, n, len(d.b))
		}
		var arr []any
		for range n {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	case markerDate:
		v, err := d.take(10) // milliseconds as a double, then a time zone we ignore
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(v[:8])), nil
	case markerNull, markerUndefined, markerUnsupported:
		return nil, nil
	case markerReference:
		_, err := d.u16() // references point into a table we do not keep: a reply never needs one
		return nil, err
	case markerObjectEnd:
		return nil, fmt.Errorf("%w: object end outside an object", errAMF)
	}
	return nil, fmt.Errorf("%w: unknown marker 0x%02x", errAMF, m[0])
}

func (d *amfDecoder) properties(depth int) (map[string]any, error) {
	obj := map[string]any{}
	for {
		n, err := d.u16()
		if err != nil {
			return nil, err
		}
		key, err := d.str(n)
		if err != nil {
			return nil, err
		}
		if key == "" && len(d.b) > 0 && d.b[0] == markerObjectEnd {
			d.b = d.b[1:]
			return obj, nil
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
}

// command is a decoded command message: its name, transaction ID and the values after them (the
// command object first, usually null, then the arguments).
type command struct {
	name string
	txn  float64
	args []any
}

func parseCommand(payload []byte) (command, error) {
	vals, err := decodeAMF0(payload)
	if err != nil {
		return command{}, err
	}
	if len(vals) == 0 {
		return command{}, fmt.Errorf("%w: empty command", errAMF)
	}
	name, ok := vals[0].(string)
	if !ok {
		return command{}, fmt.Errorf("%w: command name is not a string", errAMF)
	}
	c := command{name: name}
	if len(vals) > 1 {
		c.txn, _ = vals[1].(float64)
	}
	if len(vals) > 2 {
		c.args = vals[2:]
	}
	return c, nil
}

// info is the status object of a reply (_result, _error, onStatus): the first object argument
// carrying a "code", or else the last object argument.
func (c command) info() (level, code, description string) {
	var found map[string]any
	for _, a := range c.args {
		if m, ok := a.(map[string]any); ok {
			found = m
			if _, has := m["code"]; has {
				break
			}
		}
	}
	if found == nil {
		return "", "", ""
	}
	level, _ = found["level"].(string)
	code, _ = found["code"].(string)
	description, _ = found["description"].(string)
	return level, code, description
}

// encodeCommand encodes a command with go-amf0: name, transaction ID, then the values (nil is
// written as AMF0 null, a struct as an object in field order).
func encodeCommand(name string, txn float64, values ...any) ([]byte, error) {
	var buf bytes.Buffer
	enc := amf0.NewEncoder(&buf)
	for _, v := range append([]any{name, txn}, values...) {
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
	}
	return buf.Bytes(), nil
}

// connectObject is the command object of NetConnection.connect, with the fields an encoder sends
// for publishing (OBS and ffmpeg send these, with flashVer starting "FMLE/3.0").
type connectObject struct {
	App      string `amf0:"app"`
	Type     string `amf0:"type"`
	FlashVer string `amf0:"flashVer"`
	TCURL    string `amf0:"tcUrl"`
}

// enhancedConnectObject is connectObject with the Enhanced RTMP codec offer: fourCcList, a strict
// array of FourCC strings (Enhanced RTMP v2, "Enhancing NetConnection connect Command").
type enhancedConnectObject struct {
	App        string   `amf0:"app"`
	Type       string   `amf0:"type"`
	FlashVer   string   `amf0:"flashVer"`
	TCURL      string   `amf0:"tcUrl"`
	FourCCList []string `amf0:"fourCcList"`
}

// Capability flags of [audio|video]FourCcInfoMap (Enhanced RTMP v2): what a peer can do with a
// codec. An ingest that can decode or forward a codec takes it.
const (
	fourCCCanDecode  = 0x01
	fourCCCanForward = 0x04
)

// maxCodecs bounds the codecs kept from a reply: the known FourCCs are a dozen.
const maxCodecs = 16

// announcedCodecs reads the codecs an ingest announces in its connect reply: fourCcList, and the
// keys of videoFourCcInfoMap and audioFourCcInfoMap whose flags say it decodes or forwards them.
// The spec puts them in "an Object" of the _result without saying which, so both objects (the
// properties and the information) are read. Only well-formed FourCCs (four printable ASCII
// characters, or the wildcard "*") are kept, each once, at most maxCodecs.
func announcedCodecs(args []any) []string {
	var out []string
	keep := func(v any) {
		s, ok := v.(string)
		if !ok || len(out) >= maxCodecs || !isFourCC(s) {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, a := range args {
		obj, ok := a.(map[string]any)
		if !ok {
			continue
		}
		switch list := obj["fourCcList"].(type) {
		case []any: // a strict array, as the spec says
			for _, v := range list {
				keep(v)
			}
		case map[string]any: // an ECMA array, as some encoders write arrays
			for _, k := range sortedKeys(list) {
				keep(list[k])
			}
		}
		for _, name := range []string{"videoFourCcInfoMap", "audioFourCcInfoMap"} {
			m, ok := obj[name].(map[string]any)
			if !ok {
				continue
			}
			for _, k := range sortedKeys(m) {
				if f, ok := m[k].(float64); ok && int64(f)&(fourCCCanDecode|fourCCCanForward) != 0 {
					keep(k)
				}
			}
		}
	}
	return out
}

func isFourCC(s string) bool {
	if s == "*" {
		return true
	}
	if len(s) != 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
