package status

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/ingestprobe/ingestprobe/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Secrets the tests feed in; none may come out.
const (
	testToken = "board-token-5f0c1e9a7d3b2468"
	streamKey = "streamkey-9d8c7b"
	txSecret  = "f85a2ab363fe4deaffef9754d79da6fe"
)

// serve starts a board server on a loopback port for t; tokenFile "" = open.
func serve(t *testing.T, b *Board, tokenFile string, lim limits) *Server {
	t.Helper()
	s, err := listen(Config{Listen: "127.0.0.1:0", TokenFile: tokenFile}, b, zaptest.NewLogger(t), lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func tokenFile(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "board.token")
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// boardWith is a board with one target and a record of it, whose URL carries the secrets as the
// raw URL would: the board must redact it again.
func boardWith(t *testing.T) *Board {
	t.Helper()
	b := NewBoard("1.2.3")
	raw := "rtmp://push.example.com/live/" + streamKey + "?txSecret=" + txSecret + "&txTime=6B080118"
	b.Configure("enc1", []Target{{Name: "main", URL: raw, Interval: 30 * time.Second}})
	r := rec("main", time.Now().Add(-12*time.Second), record.NoGo, -1)
	r.URL = raw
	b.Observe(r)
	return b
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   string
}

// fetch makes one request on a fresh connection (no keep-alive: no client goroutine outlives the
// test), without following redirects.
func fetch(t *testing.T, method, url string, hdr map[string]string) response {
	t.Helper()
	client := &http.Client{
		Timeout:       5 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// TestPage: the page, its script, style and icon come from the agent itself with the CSP, and
// nothing in them names a remote address.
func TestPage(t *testing.T) {
	s := serve(t, boardWith(t), "", defaultLimits)
	base := "http://" + s.Addr()
	page := fetch(t, "GET", base+"/", nil)
	if page.status != 200 || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: got %d %s; want 200 text/html", page.status, page.header.Get("Content-Type"))
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page.body, -1)
	if len(refs) < 3 {
		t.Fatalf("page references: got %v; want its script, style and icon", refs)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	for _, m := range refs {
		ref := m[1]
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
			t.Errorf("page references %q: want a path relative to the board, no scheme or host", ref)
			continue
		}
		if ref == "api/status" {
			continue
		}
		a := fetch(t, "GET", base+"/"+ref, nil)
		if want := types[filepath.Ext(ref)]; a.status != 200 || a.header.Get("Content-Type") != want {
			t.Errorf("GET %s: got %d %q; want 200 %q", ref, a.status, a.header.Get("Content-Type"), want)
		}
		if a.header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", ref)
		}
	}
	// The script and the style load nothing from elsewhere either: no URL but the SVG namespace
	// (a name, never fetched), no @import or url() in the style, no font.
	for _, f := range []string{"assets/board.js", "assets/board.css", "assets/index.html", "assets/icon.svg"} {
		b, err := assets.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'")]*`).FindAllString(string(b), -1) {
			if u != "http://www.w3.org/2000/svg" {
				t.Errorf("%s names %q: the board must load nothing from elsewhere", f, u)
			}
		}
		for _, bad := range []string{"@import", "url(", "@font-face", "innerHTML", "eval(", "new Function"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", f, bad)
			}
		}
	}
	// HEAD works like GET, without a body.
	if h := fetch(t, "HEAD", base+"/api/status", nil); h.status != 200 || h.body != "" {
		t.Errorf("HEAD /api/status: got %d with %d bytes; want 200 without a body", h.status, len(h.body))
	}
}

// TestHeaders: every answer — the page, the API, an error — carries the CSP and the other
// browser protections.
func TestHeaders(t *testing.T) {
	s := serve(t, boardWith(t), "", defaultLimits)
	for _, path := range []string{"/", "/api/status", "/assets/board.js", "/nope"} {
		r := fetch(t, "GET", "http://"+s.Addr()+path, nil)
		csp := r.header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: Content-Security-Policy %q allows unsafe code", path, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if r.header.Get(k) != v {
				t.Errorf("%s: %s: got %q; want %q", path, k, r.header.Get(k), v)
			}
		}
	}
}

// TestAPIStatus: /api/status is the document — agent, and per target name, url
// (redacted), verdict, checked_at, duration_seconds, findings {code, severity, message, remedy},
// history — plus the version, the agent's time, the interval and the staleness the page needs.
func TestAPIStatus(t *testing.T) {
	s := serve(t, boardWith(t), "", defaultLimits)
	r := fetch(t, "GET", "http://"+s.Addr()+"/api/status", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("got %d %s; want 200 application/json", r.status, r.header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.body)
	}
	keys := func(m any) string {
		ks := slices.Sorted(maps.Keys(m.(map[string]any)))
		return strings.Join(ks, ",")
	}
	if got, want := keys(doc), "agent,generated_at,targets,version"; got != want {
		t.Errorf("document keys: got %s; want %s", got, want)
	}
	tg := doc["targets"].([]any)[0].(map[string]any)
	if got, want := keys(tg), "checked_at,duration_seconds,findings,history,interval_seconds,name,stale,url,verdict"; got != want {
		t.Errorf("target keys: got %s; want %s", got, want)
	}
	if got, want := keys(tg["findings"].([]any)[0]), "code,message,remedy,severity"; got != want {
		t.Errorf("finding keys: got %s; want %s (no evidence)", got, want)
	}
	if got, want := keys(tg["history"].([]any)[0]), "connect_seconds,time,verdict"; got != want {
		t.Errorf("history keys: got %s; want %s", got, want)
	}
	if doc["agent"] != "enc1" || tg["name"] != "main" || tg["verdict"] != "no-go" || tg["url"] != "rtmp://push.example.com/live/<redacted>" {
		t.Errorf("got agent %v target %v verdict %v url %v; want enc1 main no-go rtmp://push.example.com/live/<redacted>", doc["agent"], tg["name"], tg["verdict"], tg["url"])
	}
}

// TestAPIStatusGzip: a browser (Accept-Encoding: gzip) gets an hour of history compressed; curl
// without it, and a short answer, go as they are.
func TestAPIStatusGzip(t *testing.T) {
	big := serve(t, benchBoard(t), "", defaultLimits)
	small := serve(t, boardWith(t), "", defaultLimits)
	plain := fetch(t, "GET", "http://"+big.Addr()+"/api/status", map[string]string{"Accept-Encoding": "identity"})
	zipped := fetch(t, "GET", "http://"+big.Addr()+"/api/status", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if plain.header.Get("Content-Encoding") != "" || zipped.header.Get("Content-Encoding") != "gzip" || zipped.header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("Content-Encoding: got %q without gzip, %q (Vary %q) with; want none, gzip (Vary Accept-Encoding)",
			plain.header.Get("Content-Encoding"), zipped.header.Get("Content-Encoding"), zipped.header.Get("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var a, b Document
	if json.Unmarshal([]byte(plain.body), &a) != nil || json.Unmarshal(unzipped, &b) != nil {
		t.Fatalf("the answers do not decode")
	}
	a.GeneratedAt, b.GeneratedAt = time.Time{}, time.Time{}
	if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
		t.Errorf("the gzip answer differs from the plain one")
	}
	if len(zipped.body)*5 > len(plain.body) {
		t.Errorf("gzip: %d bytes for %d; want at least 5× smaller", len(zipped.body), len(plain.body))
	}
	if r := fetch(t, "GET", "http://"+small.Addr()+"/api/status", map[string]string{"Accept-Encoding": "gzip"}); r.header.Get("Content-Encoding") != "" {
		t.Errorf("a %d-byte answer was compressed; want it as it is", len(r.body))
	}
	if r := fetch(t, "GET", "http://"+big.Addr()+"/api/status", map[string]string{"Accept-Encoding": "gzip;q=0"}); r.header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0: got %q; want no compression", r.header.Get("Content-Encoding"))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBadRequests: what the board does not serve gets a 4xx, and the server keeps serving.
func TestBadRequests(t *testing.T) {
	s := serve(t, boardWith(t), "", defaultLimits)
	base := "http://" + s.Addr()
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		status             int
	}{
		{"post", "POST", "/", nil, 405},
		{"put to the api", "PUT", "/api/status", nil, 405},
		{"delete", "DELETE", "/api/status", nil, 405},
		{"options", "OPTIONS", "/", nil, 405},
		{"unknown path", "GET", "/admin", nil, 404},
		{"below the api", "GET", "/api/status/main", nil, 404},
		{"asset directory", "GET", "/assets/", nil, 404},
		{"path traversal", "GET", "/assets/../server.go", nil, 404},
		{"another host's name (DNS rebinding)", "GET", "/api/status", map[string]string{"Host": "attacker.example:9817"}, 403},
		{"a LAN address as host", "GET", "/", map[string]string{"Host": "192.168.1.20:9817"}, 403},
		{"localhost", "GET", "/", map[string]string{"Host": "localhost:9817"}, 200},
		{"IPv6 loopback", "GET", "/", map[string]string{"Host": "[::1]:9817"}, 200},
		{"a token where none is set", "GET", "/?token=x", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, tc.method, base+tc.path, tc.hdr)
			if r.status != tc.status {
				t.Errorf("got %d; want %d\n%s", r.status, tc.status, r.body)
			}
			if tc.status == 405 && r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow: got %q; want GET, HEAD", r.header.Get("Allow"))
			}
		})
	}
	t.Run("headers too large", func(t *testing.T) {
		// Go answers 431 and hangs up with the rest of the request unread, so the client may see
		// a reset before the answer: either way the request is refused, never served.
		got := rawRequest(t, s.Addr(), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fill: "+strings.Repeat("a", 16<<10)+"\r\n\r\n")
		if got != "" && !strings.HasPrefix(got, "HTTP/1.1 431") {
			t.Errorf("got %q; want a 431 (or a reset)", got)
		}
	})
	t.Run("malformed request line", func(t *testing.T) {
		if got := rawRequest(t, s.Addr(), "GARBAGE\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
			t.Errorf("got %q; want a 400", got)
		}
	})
	if r := fetch(t, "GET", base+"/api/status", nil); r.status != 200 {
		t.Errorf("after the bad requests: got %d; want the board still serving", r.status)
	}
}

// rawRequest writes req on a new connection and returns the first line of the answer.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestAuth: with token_file set, the bearer token or the cookie of a ?token= link lets a request
// in; anything else is 401, on every path.
func TestAuth(t *testing.T) {
	s := serve(t, boardWith(t), tokenFile(t, testToken), defaultLimits)
	base := "http://" + s.Addr()
	// The link: 303 to the same place without the token, with the session cookie.
	link := fetch(t, "GET", base+"/?token="+testToken+"&view=phone", nil)
	if link.status != 303 || link.header.Get("Location") != "/?view=phone" {
		t.Fatalf("?token=: got %d to %q; want 303 to /?view=phone", link.status, link.header.Get("Location"))
	}
	cookie := link.header.Get("Set-Cookie")
	for _, want := range []string{cookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q: want %s", cookie, want)
		}
	}
	if strings.Contains(cookie, testToken) {
		t.Errorf("Set-Cookie %q holds the token itself", cookie)
	}
	session := strings.SplitN(cookie, ";", 2)[0]
	// The redirect stays on the board: a path that is not one of its own goes to "/".
	for path, want := range map[string]string{"/api/status": "/api/status", "//attacker.example/x": "/", "/\\attacker.example": "/", "/nope": "/"} {
		r := fetch(t, "GET", base+path+"?token="+testToken, nil)
		if r.status != 303 || r.header.Get("Location") != want {
			t.Errorf("%s?token=: got %d to %q; want 303 to %q", path, r.status, r.header.Get("Location"), want)
		}
	}
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		status     int
	}{
		{"nothing", "/", nil, 401},
		{"nothing, api", "/api/status", nil, 401},
		{"nothing, asset", "/assets/board.js", nil, 401},
		{"wrong bearer", "/api/status", map[string]string{"Authorization": "Bearer nope-nope-nope-nope"}, 401},
		{"basic auth", "/api/status", map[string]string{"Authorization": "Basic " + testToken}, 401},
		{"wrong ?token=", "/?token=nope", nil, 401},
		{"empty ?token=", "/?token=", nil, 401},
		{"wrong cookie", "/api/status", map[string]string{"Cookie": cookieName + "=" + strings.Repeat("0", 64)}, 401},
		{"the token as cookie", "/api/status", map[string]string{"Cookie": cookieName + "=" + testToken}, 401},
		{"wrong ?token= with a good cookie", "/?token=nope", map[string]string{"Cookie": session}, 401},
		{"bearer", "/api/status", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"cookie", "/", map[string]string{"Cookie": session}, 200},
		{"cookie, api", "/api/status", map[string]string{"Cookie": session}, 200},
		{"cookie, another host name", "/api/status", map[string]string{"Cookie": session, "Host": "encoder.local:9817"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, "GET", base+tc.path, tc.hdr)
			if r.status != tc.status {
				t.Errorf("got %d; want %d", r.status, tc.status)
			}
			if r.status == 401 {
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if strings.Contains(r.body, "main") || strings.Contains(r.body, "tcp.blocked") {
					t.Errorf("401 body shows the board: %q", r.body)
				}
			}
		})
	}
}

// TestNoSecret: neither the stream key, the query nor the token appears in any answer — page,
// assets, API, redirect, errors — headers included.
func TestNoSecret(t *testing.T) {
	s := serve(t, boardWith(t), tokenFile(t, testToken), defaultLimits)
	base := "http://" + s.Addr()
	link := fetch(t, "GET", base+"/?token="+testToken, nil)
	session := strings.SplitN(link.header.Get("Set-Cookie"), ";", 2)[0]
	answers := []response{link, fetch(t, "GET", base+"/", nil), fetch(t, "GET", base+"/nope", map[string]string{"Cookie": session})}
	for _, p := range []string{"/", "/api/status", "/assets/board.js", "/assets/board.css"} {
		answers = append(answers, fetch(t, "GET", base+p, map[string]string{"Cookie": session}))
	}
	if !strings.Contains(answers[4].body, "/live/<redacted>") {
		t.Fatalf("api: got %s; want the redacted URL", answers[4].body)
	}
	for _, a := range answers {
		var all strings.Builder
		all.WriteString(a.body)
		for k, vs := range a.header {
			all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		for _, secret := range []string{streamKey, txSecret, "6B080118", "txSecret", testToken} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("an answer (%d) holds %q:\n%s", a.status, secret, all.String())
			}
		}
	}
}

// TestWrite: as a sink, the server hands each record to the board.
func TestWrite(t *testing.T) {
	b := NewBoard("1.2.3")
	b.Configure("enc1", []Target{{Name: "main", Interval: 30 * time.Second}})
	s := serve(t, b, "", defaultLimits)
	if err := s.Write(rec("main", time.Now(), record.Warn, 0.01), nil); err != nil {
		t.Fatal(err)
	}
	if v := b.Status().Targets[0].Verdict; v == nil || *v != record.Warn {
		t.Errorf("got verdict %v; want warn", v)
	}
	if s.Name() != "status" {
		t.Errorf("name: got %q; want status", s.Name())
	}
}

// TestLimits: a client cannot hold more than the connection bound, and one that sends its headers
// too slowly is cut off.
func TestLimits(t *testing.T) {
	t.Run("connections", func(t *testing.T) {
		s := serve(t, boardWith(t), "", limits{conns: 2, readHeader: 10 * time.Second, read: 10 * time.Second, write: 10 * time.Second, idle: 10 * time.Second})
		var held []net.Conn
		for range 2 {
			c, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		client := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := client.Get("http://" + s.Addr() + "/api/status"); err == nil {
			resp.Body.Close()
			t.Fatalf("a third connection was served (%d) while two were held; want it to wait", resp.StatusCode)
		}
		held[0].Close()
		held = held[1:]
		if r := fetch(t, "GET", "http://"+s.Addr()+"/api/status", nil); r.status != 200 {
			t.Errorf("after one connection closed: got %d; want 200", r.status)
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		s := serve(t, boardWith(t), "", limits{conns: 2, readHeader: 200 * time.Millisecond, read: time.Second, write: time.Second, idle: time.Second})
		c, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n") // and never the blank line
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the connection was still open after %s; want it closed after the 200 ms header timeout", time.Since(start))
		}
	})
}

// TestListenRefuses: an open board only on loopback; a token that is missing or too short stops
// the start with the reason.
func TestListenRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"open on every address", Config{Listen: "0.0.0.0:0"}, "is not a loopback address: set token_file"},
		{"missing token file", Config{Listen: "127.0.0.1:0", TokenFile: "/nonexistent/board.token"}, "token_file"},
		{"short token", Config{Listen: "127.0.0.1:0", TokenFile: tokenFile(t, "short")}, "the token has 5 characters; use at least 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Listen(tc.cfg, NewBoard("x"), zaptest.NewLogger(t))
			if err == nil {
				s.Close(t.Context())
				t.Fatalf("got no error; want one with %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "short\n") {
				t.Errorf("error %v quotes the token", err)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:9817": true, "127.0.0.2:9817": true, "[::1]:9817": true, "localhost:9817": true, "LOCALHOST:1": true,
		":9817": false, "0.0.0.0:9817": false, "[::]:9817": false, "192.168.1.20:9817": false, "encoder.local:9817": false, "127.0.0.1": false,
	} {
		if got := Loopback(listen); got != want {
			t.Errorf("Loopback(%q): got %v; want %v", listen, got, want)
		}
	}
}
