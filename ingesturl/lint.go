package ingesturl

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Mode is how a pusher publishes: over RTMP (rtmp, rtmps, srt, …) or over RTC (trtc, webrtc). The
// Tencent SDK's V2TXLivePusher is created in one mode and refuses URLs of the other (seed check 6).
type Mode string

const (
	ModeRTMP Mode = "rtmp"
	ModeRTC  Mode = "rtc"
)

// ModeOf is the mode a scheme implies.
func ModeOf(scheme string) Mode {
	if scheme == "trtc" || scheme == "webrtc" {
		return ModeRTC
	}
	return ModeRTMP
}

// Key is a URL signing key. It formats as "<redacted>" — with %v, %s, %#v, JSON and zap — so it
// cannot reach a log or a report by accident; string(k) is the only way to the value.
type Key string

func (Key) String() string               { return "<redacted>" }
func (Key) GoString() string             { return "ingesturl.Key(<redacted>)" }
func (Key) MarshalText() ([]byte, error) { return []byte("<redacted>"), nil }

// Format covers every verb: without it %x or %d would print the bytes of the underlying string.
func (Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "<redacted>") }

// Param is one occurrence of a query parameter: the name decoded, the value exactly as written.
// Signatures are computed over the literal value, so it is never decoded or normalised.
type Param struct {
	Name  string
	Value string
}

// Params is every parameter of the query, in order, duplicates kept.
func (u *URL) Params() []Param {
	var out []Param
	for _, part := range strings.Split(u.rawQuery, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		out = append(out, Param{Name: name, Value: value})
	}
	return out
}

// The Tencent signature parameters, spelt as Tencent spells them: the names are case-sensitive.
const (
	ParamTxSecret = "txSecret"
	ParamTxTime   = "txTime"
)

// TRTC push URL parameters (trtc://cloud.tencent.com/push/streamid?sdkappid=…&userId=…&usersig=…).
// The SDK reads these names without regard to case, and Tencent's own samples write both userId and
// userid, so they are matched case-insensitively.
var trtcParams = []string{"sdkappid", "userId", "usersig"}

// LintOptions say what the target declares about its URL.
type LintOptions struct {
	Mode   Mode  // declared by the target; "" = inferred from the scheme
	Signed bool  // the provider signs push URLs with txSecret and txTime (Tencent)
	Keys   []Key // signing keys, primary first; none = the signature is not checked
	// Ingest, when set, is the platform's ingest rules (scheme, host, port, application) the
	// URL is checked against (ingest.go).
	Ingest *IngestRules
}

// IssueKind is a bounded name for one thing wrong with a URL.
type IssueKind string

const (
	SchemePlayback IssueKind = "scheme_playback" // http(s)://…flv or .m3u8: a playback URL, not a push URL
	SchemeHTTP     IssueKind = "scheme_http"     // another http(s) URL: not a publishing protocol
	SchemeTRTC     IssueKind = "scheme_trtc"     // trtc://: RTC mode only, and an SDK edition with TRTC
	SchemeWebRTC   IssueKind = "scheme_webrtc"   // webrtc://: a WebRTC (LEB) push, not for RTMP encoders
	ModeMismatch   IssueKind = "mode_mismatch"   // declared mode ≠ the scheme's
	StreamMissing  IssueKind = "stream_missing"  // no app or no stream name in the path (Reason: ReasonNoPath, ReasonOneSegment, or "" for a signed URL)
	ExtraQuestion  IssueKind = "extra_question"  // a second '?': the stream name or a value holds one
	ParamMissing   IssueKind = "param_missing"
	ParamDuplicate IssueKind = "param_duplicate"
	ParamMalformed IssueKind = "param_malformed"
	ParamCase      IssueKind = "param_case" // present only in another letter case (txtime for txTime)
)

// Malformation reasons: a bounded set.
const (
	ReasonEmpty   = "empty"
	ReasonNotHex  = "not_hex"
	ReasonLength  = "length"
	ReasonDecimal = "decimal" // txTime written as decimal Unix seconds instead of hex
)

// Issue is one problem found in a URL. It holds no part of the URL that could be secret: parameter
// names are canonical ones, never names as written, since a misplaced '?' puts stream-name text there.
type Issue struct {
	Kind   IssueKind `json:"kind"`
	Param  string    `json:"param,omitempty"`
	Count  int       `json:"count,omitempty"`  // for ParamDuplicate
	Reason string    `json:"reason,omitempty"` // for ParamMalformed
	Found  string    `json:"found,omitempty"`  // for ParamCase: the name as written, which differs from Param only in case; for the ingest kinds: the scheme, port or application found
	Want   string    `json:"want,omitempty"`   // for the ingest kinds: what the platform requires
}

// ReasonNoPath marks a StreamMissing issue of a URL with no path at all (rtmp://host:1935).
const ReasonNoPath = "no_path"

// Signature is the outcome of checking txSecret against the configured keys.
type Signature string

const (
	SigNotChecked Signature = "not_checked" // no key configured
	SigOK         Signature = "ok"          // matches the primary key
	SigOKBackup   Signature = "ok_backup"   // matches the backup key
	SigMismatch   Signature = "mismatch"
)

// Hint says which part of a mismatching signature to look at. It is found by recomputing the digest
// over the usual mistakes; it never carries the key or the expected secret.
type Hint string

const (
	HintNone          Hint = ""
	HintSecretCase    Hint = "secret_uppercase" // the digest is right but written in uppercase
	HintTxTimeCase    Hint = "txtime_case"      // signed over txTime in another letter case
	HintTxTimeDecimal Hint = "txtime_decimal"   // signed over the expiry in decimal, not the hex in the URL
	HintKeyWhitespace Hint = "key_whitespace"   // the signer's key kept a trailing newline or space
	HintStreamWithApp Hint = "stream_with_app"  // signed over app/stream instead of the stream name
	HintStreamEscape  Hint = "stream_escaping"  // signed over the decoded stream name; the URL has it escaped
	HintFieldOrder    Hint = "field_order"      // signed over KEY+txTime+StreamName
	HintStreamOrTime  Hint = "stream_or_txtime" // none of the above: the stream name, txTime or key differs from what was signed
)

// Lint is what the URL doctor found in one URL, offline. It holds nothing secret, so it travels in
// the record's results ("probe": "url"); diagnose turns it into findings.
type Lint struct {
	Probe        string    `json:"probe"` // always "url"
	Scheme       string    `json:"scheme"`
	Mode         Mode      `json:"mode"` // declared, else inferred
	ModeDeclared bool      `json:"mode_declared,omitempty"`
	Issues       []Issue   `json:"issues,omitempty"`
	TxTime       string    `json:"tx_time,omitempty"` // the literal txTime, when well-formed: an expiry, not a secret
	Expires      time.Time `json:"expires,omitzero"`  // txTime as a time, UTC
	Signature    Signature `json:"signature,omitempty"`
	Hint         Hint      `json:"signature_hint,omitempty"`
	KeysTried    int       `json:"keys_tried,omitempty"`
	IngestRules  string    `json:"ingest_rules,omitempty"` // the provider whose ingest rules were checked
}

// Has says the lint found an issue of kind k.
func (l *Lint) Has(k IssueKind) bool {
	for _, i := range l.Issues {
		if i.Kind == k {
			return true
		}
	}
	return false
}

// LintURL checks a parsed URL against what its scheme, its provider and its target require. It does
// no I/O and reads no clock: whether txTime is past is for the caller to judge against a clock it
// trusts.
func LintURL(u *URL, o LintOptions) Lint {
	l := Lint{Probe: "url", Scheme: u.Scheme, Mode: ModeOf(u.Scheme)}
	add := func(i Issue) { l.Issues = append(l.Issues, i) }
	if o.Mode != "" {
		l.ModeDeclared = true
		if o.Mode != l.Mode {
			add(Issue{Kind: ModeMismatch})
		}
		l.Mode = o.Mode
	}
	if o.Ingest != nil {
		lintIngest(u, o.Ingest, &l)
	}
	switch u.Scheme {
	case "http", "https":
		ext := strings.ToLower(path.Ext(u.Stream()))
		if ext == ".flv" || ext == ".m3u8" {
			add(Issue{Kind: SchemePlayback})
		} else {
			add(Issue{Kind: SchemeHTTP})
		}
		return l // a playback URL's parameters say nothing about a push
	case "trtc":
		if !l.Has(ModeMismatch) {
			add(Issue{Kind: SchemeTRTC})
		}
		lintTRTC(u, &l)
		return l
	case "webrtc":
		if !l.Has(ModeMismatch) {
			add(Issue{Kind: SchemeWebRTC})
		}
	case "srt":
		lintSRT(u, o, &l) // srt.go: the signature is inside the stream id
		return l
	}
	if strings.Contains(u.rawQuery, "?") {
		add(Issue{Kind: ExtraQuestion})
	}
	if !o.Signed && o.Ingest == nil && (u.Scheme == "rtmp" || u.Scheme == "rtmps") && (u.App == "" || u.stream == "") {
		// Any push URL is <application>/<stream name>: an encoder given less is refused. Which
		// part is missing is not told apart: one segment may be either (and may be a stream key).
		reason := ReasonNoPath
		if u.App != "" {
			reason = ReasonOneSegment
		}
		add(Issue{Kind: StreamMissing, Reason: reason})
	}
	if !o.Signed {
		return l
	}
	if u.App == "" || u.stream == "" {
		add(Issue{Kind: StreamMissing})
	}
	secret, okSecret := lintParam(u.Params(), ParamTxSecret, &l, checkSecret)
	txTime, okTime := lintParam(u.Params(), ParamTxTime, &l, checkTxTime)
	if okTime {
		l.TxTime = txTime
		l.Expires, _ = ParseTxTime(txTime)
	}
	if !okSecret || !okTime || u.stream == "" {
		return l
	}
	if len(o.Keys) == 0 {
		l.Signature = SigNotChecked
		return l
	}
	l.KeysTried = len(o.Keys)
	for i, k := range o.Keys {
		if equalSecret(secret, TencentSecret(k, u.rawStream, txTime)) {
			l.Signature = SigOK
			if i > 0 {
				l.Signature = SigOKBackup
			}
			return l
		}
	}
	l.Signature = SigMismatch
	l.Hint = hintFor(o.Keys, u, secret, txTime)
	return l
}

// lintParam checks that name occurs exactly once among params and is well-formed, and returns its
// literal value.
func lintParam(params []Param, name string, l *Lint, check func(string) string) (string, bool) {
	var values []string
	var otherCase string
	for _, p := range params {
		switch {
		case p.Name == name:
			values = append(values, p.Value)
		case strings.EqualFold(p.Name, name) && otherCase == "":
			otherCase = p.Name
		}
	}
	switch {
	case len(values) == 0 && otherCase != "":
		l.Issues = append(l.Issues, Issue{Kind: ParamCase, Param: name, Found: otherCase})
		return "", false
	case len(values) == 0:
		l.Issues = append(l.Issues, Issue{Kind: ParamMissing, Param: name})
		return "", false
	case len(values) > 1:
		// Servers disagree on which one counts (first, last, or refuse): ambiguous is broken.
		l.Issues = append(l.Issues, Issue{Kind: ParamDuplicate, Param: name, Count: len(values)})
		return "", false
	}
	if reason := check(values[0]); reason != "" {
		l.Issues = append(l.Issues, Issue{Kind: ParamMalformed, Param: name, Reason: reason})
		return "", false
	}
	return values[0], true
}

func lintTRTC(u *URL, l *Lint) {
	if u.stream == "" {
		l.Issues = append(l.Issues, Issue{Kind: StreamMissing})
	}
	for _, want := range trtcParams {
		n, empty := 0, false
		for _, p := range u.Params() {
			if strings.EqualFold(p.Name, want) {
				n++
				empty = empty || p.Value == ""
			}
		}
		switch {
		case n == 0:
			l.Issues = append(l.Issues, Issue{Kind: ParamMissing, Param: want})
		case n > 1:
			l.Issues = append(l.Issues, Issue{Kind: ParamDuplicate, Param: want, Count: n})
		case empty:
			l.Issues = append(l.Issues, Issue{Kind: ParamMalformed, Param: want, Reason: ReasonEmpty})
		}
	}
}

func checkSecret(v string) string {
	switch {
	case v == "":
		return ReasonEmpty
	case !isHex(v):
		return ReasonNotHex
	case len(v) != 32: // an MD5 digest in hex
		return ReasonLength
	}
	return ""
}

func checkTxTime(v string) string {
	_, reason := parseTxTime(v)
	return reason
}

// ParseTxTime reads txTime: the expiry as hexadecimal Unix seconds (Tencent writes it with 8
// uppercase digits; either case parses). ok is false for anything else.
func ParseTxTime(v string) (time.Time, bool) {
	t, reason := parseTxTime(v)
	return t, reason == ""
}

func parseTxTime(v string) (time.Time, string) {
	switch {
	case v == "":
		return time.Time{}, ReasonEmpty
	case !isHex(v):
		return time.Time{}, ReasonNotHex
	case len(v) > 8:
		// Eight hex digits reach the year 2106. Ten decimal digits are what a signer that forgot the
		// hex conversion writes (1700000000 is November 2023).
		if len(v) == 10 && isDecimal(v) {
			return time.Time{}, ReasonDecimal
		}
		return time.Time{}, ReasonLength
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return time.Time{}, ReasonNotHex
	}
	return time.Unix(int64(n), 0).UTC(), ""
}

// DecimalTxTime reads a txTime written as decimal Unix seconds by mistake, so a message can say
// which time was meant and what its hex form is.
func DecimalTxTime(v string) (time.Time, bool) {
	if !isDecimal(v) || len(v) > 10 {
		return time.Time{}, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(n), 0).UTC(), true
}

// FormatTxTime writes an expiry as Tencent does: uppercase hex Unix seconds. It takes the Unix time
// of t — an instant — so the zone t was made in cannot shift it.
func FormatTxTime(t time.Time) string { return strings.ToUpper(strconv.FormatInt(t.Unix(), 16)) }

// TencentSecret is Tencent's push signature: lowercase hex MD5(KEY + StreamName + txTime), over the
// literal txTime string from the URL (its case matters) and the stream name as sent.
func TencentSecret(key Key, stream, txTime string) string {
	sum := md5.Sum([]byte(string(key) + stream + txTime))
	return hex.EncodeToString(sum[:])
}

func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// hintFor recomputes the signature over the usual mistakes, in the order they are met in practice,
// and names the first that matches.
func hintFor(keys []Key, u *URL, secret, txTime string) Hint {
	stream := u.rawStream
	try := func(f func(k Key) string) bool {
		for _, k := range keys {
			if equalSecret(secret, f(k)) {
				return true
			}
		}
		return false
	}
	if try(func(k Key) string { return strings.ToUpper(TencentSecret(k, stream, txTime)) }) {
		return HintSecretCase
	}
	lowerT, upperT := strings.ToLower(txTime), strings.ToUpper(txTime)
	if (lowerT != txTime && try(func(k Key) string { return TencentSecret(k, stream, lowerT) })) ||
		(upperT != txTime && try(func(k Key) string { return TencentSecret(k, stream, upperT) })) {
		return HintTxTimeCase
	}
	if t, ok := ParseTxTime(txTime); ok {
		dec := strconv.FormatInt(t.Unix(), 10)
		if try(func(k Key) string { return TencentSecret(k, stream, dec) }) {
			return HintTxTimeDecimal
		}
	}
	for _, ws := range []string{"\n", "\r\n", " "} {
		if try(func(k Key) string { return TencentSecret(k+Key(ws), stream, txTime) }) {
			return HintKeyWhitespace
		}
	}
	if u.App != "" {
		for _, s := range []string{u.App + "/" + stream, "/" + u.App + "/" + stream} {
			if try(func(k Key) string { return TencentSecret(k, s, txTime) }) {
				return HintStreamWithApp
			}
		}
	}
	if u.stream != stream && try(func(k Key) string { return TencentSecret(k, u.stream, txTime) }) {
		return HintStreamEscape
	}
	if try(func(k Key) string { return TencentSecret(k, txTime, stream) }) {
		return HintFieldOrder
	}
	return HintStreamOrTime
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
