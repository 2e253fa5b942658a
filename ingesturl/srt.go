package ingesturl

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// SRT URLs: srt://host:port?streamid=…&passphrase=…&latency=…, as encoders (OBS and ffmpeg,
// srt-live-transmit, hardware) take them. The stream id and the passphrase are secrets.
//
// Stream ids in the SRT access-control syntax start with "#!::" and are written unescaped —
// Tencent's push URL is srt://<domain>:9000?streamid=#!::h=<domain>,r=live/<stream>,txSecret=…,
// txTime=… — so for srt:// a '#' after the '?' belongs to the query, not to a fragment.

// SRT URL parameters.
const (
	ParamStreamID   = "streamid"
	ParamPassphrase = "passphrase"
)

// srtQueryHash keeps a '#' in an srt:// query as part of it, escaped, so the URL parser does not
// cut the stream id at it. Parse calls it on the text after "scheme://".
func srtQueryHash(scheme, rest string) string {
	if scheme != "srt" {
		return rest
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		return rest[:i] + strings.ReplaceAll(rest[i:], "#", "%23")
	}
	return rest
}

// srtSafe are the SRT options whose values are shown in a redacted URL: settings, never secrets.
// Any other parameter is shown as <redacted>, name and value.
var srtSafe = map[string]bool{
	"mode": true, "latency": true, "rcvlatency": true, "peerlatency": true, "pbkeylen": true,
	"transtype": true, "conntimeo": true, "timeout": true, "maxbw": true, "inputbw": true, "oheadbw": true,
	"payloadsize": true, "pkt_size": true, "mss": true, "fc": true, "rcvbuf": true, "sndbuf": true,
	"tlpktdrop": true, "nakreport": true, "enforcedencryption": true, "congestion": true, "messageapi": true,
	"tsbpdmode": true, "lossmaxttl": true, "minversion": true, "ipttl": true, "iptos": true, "linger": true,
	"packetfilter": true, "smoother": true,
}

// srtRedacted is the redacted form of an srt:// URL: the host and port, every secret parameter
// (streamid, passphrase and any unknown one) replaced, and the settings kept, so a reader sees
// what is configured: srt://push.example.com:9000?streamid=<redacted>&passphrase=<redacted>&latency=200.
func (u *URL) srtRedacted() string {
	s := u.Scheme + "://" + u.Authority()
	if u.App != "" || u.stream != "" {
		s += "/<redacted>"
	}
	var parts []string
	hidden := false
	for _, p := range u.Params() {
		name := strings.ToLower(p.Name)
		switch {
		case name == ParamStreamID || name == ParamPassphrase:
			parts = append(parts, name+"=<redacted>")
		case srtSafe[name] && safeValue(p.Value):
			parts = append(parts, name+"="+p.Value)
		case !hidden:
			hidden = true
			parts = append(parts, "<redacted>")
		}
	}
	if len(parts) > 0 {
		s += "?" + strings.Join(parts, "&")
	}
	return s
}

// safeValue: a short number or word, which a setting is and a secret is not.
func safeValue(v string) bool {
	if v == "" || len(v) > 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SRTOptions are what an SRT caller takes from the URL. StreamID and Passphrase are secrets: the
// struct formats as <redacted> with every verb, so it cannot reach a log by accident.
type SRTOptions struct {
	StreamID   string        // decoded, as OBS and ffmpeg send it; "" = none
	Passphrase string        // "" = not encrypted
	Latency    time.Duration // 0 = not set (the caller's default)
	KeyLength  int           // pbkeylen in bytes (16, 24, 32); 0 = not set
	Mode       string        // "caller" (also when not set), "listener" or "rendezvous"
}

func (SRTOptions) String() string             { return "<redacted>" }
func (SRTOptions) GoString() string           { return "ingesturl.SRTOptions(<redacted>)" }
func (SRTOptions) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "<redacted>") }

// SRT reads the SRT options of the URL. Values that do not parse are left at their zero value
// (the URL doctor reports them).
//
// latency is in milliseconds as srt-live-transmit and libsrt's URI syntax take it; ffmpeg (and so
// OBS) takes microseconds. A value above 60000 — a minute, far beyond any SRT latency in
// milliseconds — is read as microseconds.
func (u *URL) SRT() SRTOptions {
	o := SRTOptions{Mode: "caller"}
	q := u.Query()
	o.StreamID = q.Get(ParamStreamID)
	o.Passphrase = q.Get(ParamPassphrase)
	if v, err := strconv.ParseInt(q.Get("latency"), 10, 64); err == nil && v > 0 {
		if v > 60000 {
			o.Latency = time.Duration(v) * time.Microsecond
		} else {
			o.Latency = time.Duration(v) * time.Millisecond
		}
	}
	if v, err := strconv.Atoi(q.Get("pbkeylen")); err == nil && (v == 16 || v == 24 || v == 32) {
		o.KeyLength = v
	}
	if m := strings.ToLower(q.Get("mode")); m != "" {
		o.Mode = m
	}
	return o
}

// StreamIDFields are the key=value pairs of an SRT access-control stream id ("#!::k=v,k=v"), in
// order, values as written; nil when the stream id is not in that syntax.
func StreamIDFields(sid string) []Param {
	rest, ok := strings.CutPrefix(sid, "#!::")
	if !ok {
		return nil
	}
	out := []Param{}
	for _, kv := range strings.Split(rest, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, Param{Name: k, Value: v})
	}
	return out
}

// SRTSigned says the URL carries a Tencent signature in its stream id (txSecret or txTime), so
// provider detection can pick tencent for srt:// as it does from an rtmp:// query.
func (u *URL) SRTSigned() bool {
	if u.Scheme != "srt" {
		return false
	}
	for _, p := range StreamIDFields(u.Query().Get(ParamStreamID)) {
		if p.Name == ParamTxSecret || p.Name == ParamTxTime {
			return true
		}
	}
	return false
}

// SRT option limits of libsrt (SRTO_PASSPHRASE, SRTO_STREAMID): an encoder refuses others.
const (
	srtPassphraseMin = 10
	srtPassphraseMax = 79
	srtStreamIDMax   = 512
)

// Issue kinds of SRT URLs.
const (
	// SRTModeNotCaller: mode=listener or rendezvous — the ingest is not the listener an encoder
	// calls, so there is nothing to probe from here.
	SRTModeNotCaller IssueKind = "srt_mode"
)

// lintSRT checks an srt:// URL: the options libsrt would refuse, and, when signed, Tencent's
// signature and expiry inside the stream id (r=<app>/<stream>, txSecret, txTime), exactly as for
// rtmp://.
func lintSRT(u *URL, o LintOptions, l *Lint) {
	add := func(i Issue) { l.Issues = append(l.Issues, i) }
	opts := u.SRT()
	if opts.Mode != "caller" {
		add(Issue{Kind: SRTModeNotCaller})
	}
	q := u.Query()
	if q.Has(ParamPassphrase) {
		if n := len(opts.Passphrase); n < srtPassphraseMin || n > srtPassphraseMax {
			add(Issue{Kind: ParamMalformed, Param: ParamPassphrase, Reason: ReasonLength})
		}
	}
	if len(opts.StreamID) > srtStreamIDMax {
		add(Issue{Kind: ParamMalformed, Param: ParamStreamID, Reason: ReasonLength})
	}
	if !o.Signed {
		return
	}
	if opts.StreamID == "" {
		add(Issue{Kind: ParamMissing, Param: ParamStreamID})
		return
	}
	fields := StreamIDFields(opts.StreamID)
	var resource string
	for _, f := range fields {
		if f.Name == "r" {
			resource = f.Value
		}
	}
	app, stream := "", strings.Trim(resource, "/")
	if i := strings.LastIndexByte(stream, '/'); i >= 0 {
		app, stream = stream[:i], stream[i+1:]
	}
	if app == "" || stream == "" {
		add(Issue{Kind: StreamMissing})
	}
	secret, okSecret := lintParam(fields, ParamTxSecret, l, checkSecret)
	txTime, okTime := lintParam(fields, ParamTxTime, l, checkTxTime)
	if okTime {
		l.TxTime = txTime
		l.Expires, _ = ParseTxTime(txTime)
	}
	if !okSecret || !okTime || stream == "" {
		return
	}
	if len(o.Keys) == 0 {
		l.Signature = SigNotChecked
		return
	}
	l.KeysTried = len(o.Keys)
	for i, k := range o.Keys {
		if equalSecret(secret, TencentSecret(k, stream, txTime)) {
			l.Signature = SigOK
			if i > 0 {
				l.Signature = SigOKBackup
			}
			return
		}
	}
	l.Signature = SigMismatch
	// The stream id's r= stands where an rtmp:// URL's path does; it is signed the same way.
	l.Hint = hintFor(o.Keys, &URL{App: app, stream: stream, rawStream: stream}, secret, txTime)
}
