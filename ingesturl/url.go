// Package ingesturl parses publishing (ingest) URLs into the parts the probes need, and redacts them
// so that a stream key or a signature never reaches a log, a metric or a report.
package ingesturl

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Schemes known to the parser, with the port each uses when the URL names none.
// trtc and webrtc run over UDP media paths we do not probe; their port is the signalling one.
var defaultPorts = map[string]int{
	"rtmp":   1935,
	"rtmps":  443,
	"srt":    9000,
	"trtc":   443,
	"webrtc": 443,
	"http":   80,
	"https":  443,
}

// ErrInvalid is wrapped by every parse error, so callers can tell a bad URL from other failures.
var ErrInvalid = errors.New("invalid publishing URL")

// ParseError is the error Parse returns: why the URL did not parse, so a caller can show the reason
// on its own without taking the message apart. It wraps ErrInvalid.
type ParseError struct {
	Reason string // "missing host", "port out of range" …; never repeats the input
}

func (e *ParseError) Error() string { return ErrInvalid.Error() + ": " + e.Reason }
func (e *ParseError) Unwrap() error { return ErrInvalid }

func invalid(reason string) error { return &ParseError{Reason: reason} }

// URL is a parsed publishing URL. Its String form is redacted; the secret parts are reachable only
// through explicit accessors, so printing a URL by mistake leaks nothing.
type URL struct {
	Scheme       string
	Host         string // host name or IP literal, without brackets or port
	Port         int    // the explicit port, or the scheme's default
	PortExplicit bool
	App          string // the path before the stream name ("live"); may contain '/'
	stream       string // the stream name, without the query
	rawStream    string // the stream name as written, percent escapes kept: what an encoder sends
	rawQuery     string
	query        url.Values
}

// Parse parses a publishing URL such as rtmp://push.example.com/live/show?txSecret=…&txTime=….
// The error is a *ParseError and never repeats the input, since the input usually holds a stream key.
func Parse(s string) (*URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, invalid("empty")
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, invalid("no scheme (want rtmp://host/app/stream)")
	}
	scheme = strings.ToLower(scheme)
	if _, known := defaultPorts[scheme]; !known {
		return nil, invalid(fmt.Sprintf("unknown scheme %q", truncate(scheme, 16)))
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return nil, invalid("contains white space")
	}
	u, err := url.Parse(scheme + "://" + srtQueryHash(scheme, rest))
	if err != nil {
		// url.Error repeats the whole input; keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, invalid(scrub(err.Error(), s))
	}
	host := u.Hostname()
	if host == "" {
		return nil, invalid("missing host")
	}
	if strings.HasPrefix(u.Host, "[") {
		if _, err := netip.ParseAddr(host); err != nil {
			return nil, invalid("bad IPv6 literal")
		}
	} else if !validHostname(host) {
		return nil, invalid("bad host name")
	}
	out := &URL{Scheme: scheme, Host: strings.ToLower(host), Port: defaultPorts[scheme], rawQuery: u.RawQuery}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, invalid("port out of range")
		}
		out.Port, out.PortExplicit = n, true
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, invalid("empty port")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, invalid("malformed query")
	}
	out.query = q
	path := strings.Trim(u.Path, "/")
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		out.App, out.stream = path[:i], path[i+1:]
	} else {
		out.App = path
	}
	if out.stream != "" {
		raw := strings.Trim(u.EscapedPath(), "/")
		out.rawStream = raw[strings.LastIndexByte(raw, '/')+1:]
	}
	return out, nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// scrub removes the raw input from a library error message, in case it quotes it.
func scrub(msg, raw string) string {
	if raw != "" {
		msg = strings.ReplaceAll(msg, raw, "<url>")
	}
	return truncate(msg, 80)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Stream is the stream name without its query: a secret.
func (u *URL) Stream() string { return u.stream }

// LiteralStream is the stream name as written in the URL, percent escapes kept: the bytes an encoder
// sends in `publish`, and so the bytes a signature is computed over. A secret.
func (u *URL) LiteralStream() string { return u.rawStream }

// Query is the parsed query: it may hold secrets (txSecret).
func (u *URL) Query() url.Values { return u.query }

// RawQuery is the query exactly as written: signatures are computed over its literal values.
func (u *URL) RawQuery() string { return u.rawQuery }

// PublishName is what an RTMP client sends in `publish`: the stream name with its query as written,
// percent escapes kept, as OBS and ffmpeg send it — the same bytes LiteralStream gives the
// signature check. A secret.
func (u *URL) PublishName() string {
	if u.rawQuery == "" {
		return u.rawStream
	}
	return u.rawStream + "?" + u.rawQuery
}

// HostPort is host:port for dialing, with IPv6 literals bracketed.
func (u *URL) HostPort() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

// IP returns the host as an address when the URL names an IP literal.
func (u *URL) IP() (netip.Addr, bool) {
	a, err := netip.ParseAddr(u.Host)
	return a, err == nil
}

// Authority is the host with the port when it was written explicitly.
func (u *URL) Authority() string {
	if u.PortExplicit {
		return u.HostPort()
	}
	if strings.Contains(u.Host, ":") {
		return "[" + u.Host + "]"
	}
	return u.Host
}

// TCURL is the RTMP tcUrl: scheme://host[:port]/app. It holds no secret.
func (u *URL) TCURL() string { return u.Scheme + "://" + u.Authority() + "/" + u.App }

// Redacted is the URL with the stream name and query replaced: rtmp://host/app/<redacted>.
// A path of one segment is redacted too: it is the application or, as often, a stream key pasted
// where the application goes (rtmp://a.rtmp.youtube.com/KEY), and nothing tells the two apart.
// For srt://, the stream id, the passphrase and any unknown parameter are redacted (srt.go).
func (u *URL) Redacted() string {
	if u.Scheme == "srt" {
		return u.srtRedacted() // srt://host:port?streamid=<redacted>&…
	}
	s := u.Scheme + "://" + u.Authority() + "/" + u.App
	if u.stream == "" && u.rawQuery == "" && u.App != "" {
		return u.Scheme + "://" + u.Authority() + "/<redacted>"
	}
	if u.stream != "" || u.rawQuery != "" {
		if u.App != "" {
			s += "/"
		}
		s += "<redacted>"
	}
	return s
}

// String is Redacted, so a URL formatted by accident leaks nothing.
func (u *URL) String() string { return u.Redacted() }

// Redact redacts a raw URL string, for text that failed to parse: it keeps at most the scheme.
func Redact(raw string) string {
	if u, err := Parse(raw); err == nil {
		return u.Redacted()
	}
	if scheme, rest, ok := strings.Cut(raw, "://"); ok && len(scheme) <= 8 {
		// Unparsable: keep the host and port, which are not secret and tell a bad URL among
		// several apart; drop user info and everything after the authority.
		authority, tail := rest, ""
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority, tail = rest[:i], rest[i:]
		}
		if i := strings.LastIndexByte(authority, '@'); i >= 0 {
			authority = authority[i+1:]
		}
		out := strings.ToLower(scheme) + "://"
		if authority == "" || len(authority) > 64 {
			return out + "<redacted>"
		}
		switch {
		case strings.HasPrefix(tail, "?"):
			return out + authority + "?<redacted>"
		case tail != "":
			return out + authority + "/<redacted>"
		}
		return out + authority
	}
	return "<redacted>"
}

// GoString keeps %#v from printing the secret fields.
func (u *URL) GoString() string { return "ingesturl.URL(" + strconv.Quote(u.Redacted()) + ")" }

// MarshalJSON writes the redacted form.
func (u *URL) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(u.Redacted())), nil }
