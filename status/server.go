package status

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.uber.org/zap"
	"golang.org/x/net/netutil"

	"github.com/ingestprobe/ingestprobe/internal/acceptenc"
	"github.com/ingestprobe/ingestprobe/internal/secret"
	"github.com/ingestprobe/ingestprobe/record"
)

// Limits. A board has a handful of viewers (a laptop, a phone or two), each polling every few
// seconds over one or two kept-alive connections: 32 connections are plenty, and a client that
// opens more waits for a free one instead of costing the agent memory and goroutines. The
// timeouts bound what a slow or stalled client holds: headers within 5 s, a whole request within
// 10 s, a reply written within 10 s (a status document is a few kilobytes), an idle kept-alive
// connection 60 s — longer than the page's poll period, so a viewer keeps its connection.
const (
	MaxConns       = 32
	maxHeaderBytes = 8 << 10
)

// limits are the server's bounds; tests shorten the timeouts.
type limits struct {
	conns                         int
	readHeader, read, write, idle time.Duration
}

var defaultLimits = limits{conns: MaxConns, readHeader: 5 * time.Second, read: 10 * time.Second, write: 10 * time.Second, idle: 60 * time.Second}

// MinTokenLength keeps a token from being guessed over the network: 16 characters of a random
// token (openssl rand -hex 16 gives 32) are beyond any number of tries.
const MinTokenLength = 16

// cookieName holds the session a ?token= link opens; its value is derived from the token
// (HMAC-SHA256), so the token itself is never sent back in a response. A week covers a festival.
const (
	cookieName   = "ingestprobe_status"
	cookieMaxAge = 7 * 24 * time.Hour
)

// csp lets the page load only its own script, style and icon, and fetch only its own API; it may
// not be framed, post forms or use inline code. The page builds its DOM with textContent, never
// HTML strings, so Trusted Types can be required too.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'"

//go:embed assets
var assets embed.FS

// asset is an embedded file with its type and ETag.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Server serves the board on its own listener. As a local sink of the reporter it feeds every
// record to the Board; the Board outlives it (a reload makes a new Server over the same Board).
type Server struct {
	board    *Board
	log      *zap.Logger
	srv      *http.Server
	ln       net.Listener
	done     chan error
	token    []byte // "" = open, which config allows on loopback only
	session  string // the cookie's value when token is set
	assets   map[string]asset
	loopback bool
}

// Listen reads cfg.TokenFile (if set), listens on cfg.Listen and serves b.
func Listen(cfg Config, b *Board, log *zap.Logger) (*Server, error) {
	return listen(cfg, b, log, defaultLimits)
}

func listen(cfg Config, b *Board, log *zap.Logger, lim limits) (*Server, error) {
	s := &Server{board: b, log: log, done: make(chan error, 1), loopback: Loopback(cfg.Listen)}
	if cfg.TokenFile != "" {
		tok, warn, err := secret.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("status: token_file: %w", err)
		}
		if len(tok) < MinTokenLength {
			return nil, fmt.Errorf("status: token_file %s: the token has %d characters; use at least %d random ones (openssl rand -hex 16)", cfg.TokenFile, len(tok), MinTokenLength)
		}
		if warn != "" {
			log.Warn("status: token_file " + warn)
		}
		s.token = []byte(tok)
		m := hmac.New(sha256.New, s.token)
		m.Write([]byte("ingestprobe status board session v1"))
		s.session = hex.EncodeToString(m.Sum(nil))
	} else if !s.loopback {
		// config refuses this; a caller that builds a Config by hand gets the same answer.
		return nil, fmt.Errorf("status: listen %s is not a loopback address: set token_file", cfg.Listen)
	}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(log.Named("status").WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	go func() { s.done <- s.srv.Serve(netutil.LimitListener(ln, lim.conns)) }()
	return s, nil
}

func loadAssets() (map[string]asset, error) {
	files := map[string]string{
		"/":                 "assets/index.html",
		"/assets/board.js":  "assets/board.js",
		"/assets/board.css": "assets/board.css",
		"/assets/icon.svg":  "assets/icon.svg",
	}
	types := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	out := map[string]asset{}
	for path, file := range files {
		b, err := assets.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("status: embedded %s: %w", file, err)
		}
		sum := sha256.Sum256(b)
		out[path] = asset{body: b, ctype: types[file[strings.LastIndexByte(file, '.'):]], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return out, nil
}

// Addr is the address the board listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Name of the sink.
func (s *Server) Name() string { return "status" }

// Write gives the record to the board.
func (s *Server) Write(rec record.Record, _ []byte) error {
	s.board.Observe(rec)
	return nil
}

// Close stops serving: requests in flight end (each within the write timeout), then the listener
// closes. The board keeps its state.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// ServeHTTP answers GET and HEAD of the page, its assets and /api/status; nothing changes state.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: the board is read-only", http.StatusMethodNotAllowed)
		return
	}
	if s.token == nil && !s.hostAllowed(r.Host) {
		// An open board on loopback answers only to its own names: a web page elsewhere that
		// points its own domain at 127.0.0.1 (DNS rebinding) must not read it.
		http.Error(w, "403 forbidden: open the board as http://127.0.0.1:PORT/ or http://localhost:PORT/", http.StatusForbidden)
		return
	}
	if s.token != nil && !s.authorized(w, r) {
		return
	}
	switch r.URL.Path {
	case "/api/status":
		s.serveStatus(w, r)
		return
	}
	a, ok := s.assets[r.URL.Path]
	if !ok {
		http.Error(w, "404 not found", http.StatusNotFound)
		return
	}
	h.Set("Content-Type", a.ctype)
	if r.URL.Path != "/" {
		// Assets revalidate (a new version of the agent serves new ones) and are otherwise cached.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<redacted>" stays readable; the type and nosniff keep it data
	if err := enc.Encode(s.board.Status()); err != nil {
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Add("Vary", "Accept-Encoding")
	if b.Len() < gzipMin || !acceptenc.Gzip(r.Header.Values("Accept-Encoding")) {
		w.Write(b.Bytes())
		return
	}
	// An hour of history is ~25 KB a target, every 5 s, to each viewer — often a phone on the
	// venue's Wi-Fi. Compressed (stateless: no compressor state kept between polls) it is ~10×
	// smaller. Errors here are the viewer going away: nothing left to tell it.
	h.Set("Content-Encoding", "gzip")
	gz, _ := gzip.NewWriterLevel(w, gzip.StatelessCompression) // a valid level: no error
	gz.Write(b.Bytes())
	gz.Close()
}

// gzipMin: below it, compressing saves less than it costs (a board's first minutes).
const gzipMin = 2 << 10

// hostAllowed says whether an open board answers to Host: a loopback address or localhost.
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// authorized lets a request through with the bearer token or the session cookie. A GET with the
// right ?token= gets the cookie and is sent to the same address without the token, so the token
// leaves the address bar and the history at once. Anything else is 401.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	switch {
	case q.Has("token"):
		if !s.isToken(q.Get("token")) {
			break // a wrong token is refused, whatever cookie comes with it
		}
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.session, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: int(cookieMaxAge.Seconds())})
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		if _, ok := s.assets[u.Path]; !ok && u.Path != "/api/status" {
			u.Path = "/" // never "//host…", which a browser would take for another site
		}
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
		if s.isToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			return true
		}
	default:
		if c, err := r.Cookie(cookieName); err == nil && equal(c.Value, s.session) {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="ingestprobe status"`)
	http.Error(w, "401 unauthorized: open the board's link with ?token=… once, or send Authorization: Bearer …", http.StatusUnauthorized)
	return false
}

func (s *Server) isToken(t string) bool { return equal(t, string(s.token)) }

// equal compares in constant time (hashes first, so the length does not leak either).
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
