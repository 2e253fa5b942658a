package ingesturl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SignRequest is what a signed Tencent push URL is built from.
type SignRequest struct {
	Scheme  string // rtmp (default), rtmps or webrtc
	Domain  string // the push domain, optionally with :port
	App     string // default "live"
	Stream  string // the stream name: a secret
	Key     Key
	Expires time.Time // an instant; only its Unix time is used
}

// ErrSign is wrapped by every SignTencent error. The errors never repeat the stream name or the key.
var ErrSign = errors.New("cannot sign URL")

// SignTencent builds a signed push URL:
//
//	scheme://domain/app/stream?txSecret=MD5(KEY+stream+txTime)&txTime=HEX
//
// with txTime in uppercase hex, as Tencent's console writes it. Names are limited to characters that
// need no escaping in a URL, so the stream name signed is byte for byte the one an encoder sends.
func SignTencent(r SignRequest) (string, error) {
	if r.Scheme == "" {
		r.Scheme = "rtmp"
	}
	if r.App == "" {
		r.App = "live"
	}
	switch r.Scheme {
	case "rtmp", "rtmps", "webrtc", "srt":
	default:
		return "", fmt.Errorf("%w: scheme %q: want rtmp, rtmps, webrtc or srt", ErrSign, truncate(r.Scheme, 16))
	}
	host := r.Domain
	if h, p, ok := strings.Cut(r.Domain, ":"); ok {
		host = h
		if p == "" || !isDecimal(p) || len(p) > 5 {
			return "", fmt.Errorf("%w: domain: bad port", ErrSign)
		}
	}
	if host == "" || !validHostname(host) || strings.ContainsAny(host, "_") {
		return "", fmt.Errorf("%w: domain %q is not a host name", ErrSign, truncate(r.Domain, 64))
	}
	if !plainName(r.App, true) {
		return "", fmt.Errorf("%w: app %q: use letters, digits and - _ . ~ only", ErrSign, truncate(r.App, 32))
	}
	if !plainName(r.Stream, false) {
		// The stream name is secret: say what is wrong without repeating it.
		return "", fmt.Errorf("%w: stream name: use letters, digits and - _ . ~ only (no '?', '&', '/', '%%' or spaces), at most 256", ErrSign)
	}
	if r.Key == "" {
		return "", fmt.Errorf("%w: empty key", ErrSign)
	}
	sec := r.Expires.Unix()
	if sec <= 0 || sec > math.MaxUint32 {
		return "", fmt.Errorf("%w: expiry out of txTime's range (1970–2106)", ErrSign)
	}
	txTime := FormatTxTime(r.Expires)
	if r.Scheme == "srt" {
		// Tencent's SRT push: the signature, over the same StreamName, inside the stream id.
		authority := strings.ToLower(r.Domain)
		if !strings.Contains(authority, ":") {
			authority += ":" + strconv.Itoa(defaultPorts["srt"])
		}
		return fmt.Sprintf("srt://%s?%s=#!::h=%s,r=%s/%s,%s=%s,%s=%s", authority, ParamStreamID, strings.ToLower(host), r.App, r.Stream,
			ParamTxSecret, TencentSecret(r.Key, r.Stream, txTime), ParamTxTime, txTime), nil
	}
	return fmt.Sprintf("%s://%s/%s/%s?%s=%s&%s=%s", r.Scheme, strings.ToLower(r.Domain), r.App, r.Stream,
		ParamTxSecret, TencentSecret(r.Key, r.Stream, txTime), ParamTxTime, txTime), nil
}

func plainName(s string, slash bool) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~':
		case c == '/' && slash && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}
