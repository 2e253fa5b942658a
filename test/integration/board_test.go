//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/status"
)

// The board's run: two targets every boardInterval, probes bounded by boardTimeout. The interval
// is short so that "NO-GO within two intervals" is seconds, and long enough that a chromium start
// (1–3 s on a loaded 2-core machine) fits inside it.
const (
	boardInterval = 5 * time.Second
	boardTimeout  = time.Second
	boardToken    = "lab-board-token-3c9e51d07a2f"
	// chromiumBound bounds one headless chromium; it renders the board in a second or two.
	chromiumBound = 60 * time.Second
)

// TestIntegrationBoard runs `ingestprobe run` with the status board in the lab's venue, renders
// the board in Debian's headless chromium (in the venue too: the board listens on its loopback),
// and checks what the crew would see: each target, its verdict, a finding and its remedy; then,
// when the venue's firewall starts dropping 1935, NO-GO with "blocked" within two intervals.
// Nothing on the page comes from elsewhere, no secret is on the page or in the API, and without
// the token the board answers 401.
func TestIntegrationBoard(t *testing.T) {
	l := lab.Start(t, lab.Options{})
	chromium := findChromium(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freeVenuePort(t, l)
	tokenPath := filepath.Join(dir, "board.token")
	if err := os.WriteFile(tokenPath, []byte(boardToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rtmpLevel := "handshake"
	if !l.RTMP {
		rtmpLevel = "off" // 1935 is plain HTTP without libnginx-mod-rtmp: not an RTMP ingest
	}
	// main: a generic ingest, GO while the network is open. backup: a Tencent URL that expires in
	// two hours, so url.txtime_short (a warning with a remedy) is on the board from the start.
	mainURL := "rtmp://" + lab.NameOpen + "/live/" + streamKey
	txTime := fmt.Sprintf("%X", time.Now().Add(2*time.Hour).Unix())
	backupURL := fmt.Sprintf("rtmp://%s/live/%s?txSecret=%s&txTime=%s", lab.NamePush, streamKey, txSecret, txTime)
	cfg := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf(`[agent]
id = "lab-enc1"
interval = %q
timeout = %q
state_dir = %q

[status]
listen = "127.0.0.1:%d"
token_file = %q

[[targets]]
name = "main-ingest"
url = %q
rtmp = %q

[[targets]]
name = "backup-ingest"
url = %q
rtmp = %q

[[sinks]]
type = "jsonl"
path = %q
`, boardInterval, boardTimeout, filepath.Join(dir, "state"), port, tokenPath, mainURL, rtmpLevel, backupURL, rtmpLevel, filepath.Join(dir, "records.jsonl"))
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	agentLog := startVenueAgent(t, l, bin, cfg)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	// Both targets measured: the API, with the token, says so.
	waitFor(t, 3*boardInterval, "a verdict for both targets", func() bool {
		r, err := tryVenueGet(l, base+"/api/status", "Bearer "+boardToken) // refused until the agent listens
		var doc status.Document
		if err != nil || r.status != 200 || json.Unmarshal([]byte(r.body), &doc) != nil || len(doc.Targets) != 2 {
			return false
		}
		return doc.Targets[0].Verdict != nil && doc.Targets[1].Verdict != nil
	}, agentLog)

	t.Run("the board as chromium renders it", func(t *testing.T) {
		page := renderBoard(t, l, chromium, base)
		tiles := page.tiles()
		main, backup := tiles["main-ingest"], tiles["backup-ingest"]
		if main.verdict != "GO" {
			t.Errorf("main-ingest: got verdict %q; want GO\n%s", main.verdict, page.dom)
		}
		if backup.verdict != "WARN" {
			t.Errorf("backup-ingest: got verdict %q; want WARN\n%s", backup.verdict, page.dom)
		}
		f, ok := backup.finding("url.txtime_short")
		if !ok || f.message == "" || f.remedy == "" {
			t.Errorf("backup-ingest: got findings %+v; want url.txtime_short with its message and remedy", backup.findings)
		}
		if main.url != "rtmp://open.lab.test/live/<redacted>" {
			t.Errorf("main-ingest url: got %q; want it redacted", main.url)
		}
		if !strings.Contains(main.when, "s ago") {
			t.Errorf("main-ingest: got %q; want when it was checked, as \"… s ago\"", main.when)
		}
		for _, want := range []string{"lab-enc1", "live"} {
			if !strings.Contains(page.text, want) {
				t.Errorf("page text lacks %q", want)
			}
		}
		t.Logf("rendered: main-ingest %s, backup-ingest %s with %s (→ %s)", main.verdict, backup.verdict, f.code, f.remedy)
	})

	t.Run("401 without the token", func(t *testing.T) {
		for _, path := range []string{"/", "/api/status", "/assets/board.js"} {
			for _, auth := range []string{"", "Bearer wrong-token-wrong-token"} {
				if r := venueGet(t, l, base+path, auth); r.status != 401 {
					t.Errorf("GET %s with %q: got %d; want 401", path, auth, r.status)
				}
			}
		}
		// chromium without the token link gets the 401 page, not the board.
		page := dumpDOM(t, l, chromium, base+"/")
		if strings.Contains(page, "main-ingest") || !strings.Contains(page, "401") {
			t.Errorf("chromium without the token: got\n%s\nwant the 401 answer", page)
		}
	})

	// The firewall now drops 1935: the next run of each target (within one interval) waits its
	// timeout out and reports tcp.blocked. The page must say so within two intervals.
	if err := l.SetFirewall(t.Context(), lab.DropPort(1935)); err != nil {
		t.Fatal(err)
	}
	dropped := time.Now()
	t.Run("NO-GO within two intervals of the drop", func(t *testing.T) {
		for n := 1; ; n++ {
			start := time.Now()
			if start.Sub(dropped) > 2*boardInterval {
				t.Fatalf("the board did not show main-ingest NO-GO with tcp.blocked within %s of the drop (%d renders)\n%s", 2*boardInterval, n-1, tail(agentLog, 20))
			}
			page := renderBoard(t, l, chromium, base)
			main := page.tiles()["main-ingest"]
			f, blocked := main.finding("tcp.blocked")
			if main.verdict == "NO-GO" && blocked {
				if !strings.Contains(f.message, "dropped") || !strings.Contains(f.remedy, "TCP 1935") {
					t.Errorf("tcp.blocked: got %q → %q; want the drop and what to ask venue IT", f.message, f.remedy)
				}
				if !strings.Contains(page.text, "NO-GO") || !strings.Contains(strings.ToLower(page.text), "blocked") {
					t.Errorf("page text lacks NO-GO or blocked")
				}
				t.Logf("measured: the board showed main-ingest NO-GO (tcp.blocked) in a render started %.1f s after the drop (interval %s, timeout %s, render %d)",
					start.Sub(dropped).Seconds(), boardInterval, boardTimeout, n)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("no secret on the page or in the API, no remote asset", func(t *testing.T) {
		page := renderBoard(t, l, chromium, base)
		api := venueGet(t, l, base+"/api/status", "Bearer "+boardToken)
		for name, s := range map[string]string{"page": page.dom, "api": api.body, "api headers": fmt.Sprint(api.header)} {
			// The query's values (the names txSecret and txTime are in remedies, and are no secret).
			for _, secret := range []string{streamKey, txSecret, txTime, boardToken} {
				if strings.Contains(s, secret) {
					t.Errorf("%s holds the secret %q", name, secret)
				}
			}
		}
		for _, ref := range page.refs {
			if strings.Contains(ref, "//") || strings.Contains(ref, ":") {
				t.Errorf("the page references %q: want its own assets only, by relative path", ref)
			}
		}
		if len(page.refs) < 3 {
			t.Errorf("page references: got %v; want the script, the style and the icon", page.refs)
		}
	})
}

// findChromium is Debian's chromium, or a skip (a failure with INGESTPROBE_LAB_REQUIRED=1).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	reason := "integration: missing chromium (apt-get install chromium) to render the status board"
	if os.Getenv(lab.EnvRequired) == "1" {
		t.Fatalf("%s (and %s=1 says it must run here)", reason, lab.EnvRequired)
	}
	t.Skip(reason)
	return ""
}

// freeVenuePort is a port nothing listens on in the venue's loopback.
func freeVenuePort(t *testing.T, l *lab.Lab) int {
	t.Helper()
	var port int
	err := l.Do(l.Venue, func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		return ln.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startVenueAgent runs `ingestprobe run` in the venue until the test ends (SIGTERM, then the lab
// kills what is left in its namespaces); it returns the path of its log.
func startVenueAgent(t *testing.T, l *lab.Lab, bin, cfg string) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "agent.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := l.VenueCommand(context.Background(), bin, "run", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // `ip netns exec` execs the agent: this PID is the agent's
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("the agent did not stop within 15 s of SIGTERM")
		}
	})
	return logPath
}

// waitFor polls cond every 200 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, logPath string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\nagent log:\n%s", d, what, tail(logPath, 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// answer is an HTTP response from the venue.
type answer struct {
	status int
	header http.Header
	body   string
}

// venueGet makes a GET from the venue's network namespace. The socket is made on the thread
// that joined the namespace (lab.Do), so the request is written and read there too, without
// net/http's transport (which dials on goroutines of its own).
func venueGet(t *testing.T, l *lab.Lab, url, auth string) answer {
	t.Helper()
	a, err := tryVenueGet(l, url, auth)
	if err != nil {
		t.Fatalf("GET %s from the venue: %v", url, err)
	}
	return a
}

func tryVenueGet(l *lab.Lab, url, auth string) (answer, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return answer{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Close = true
	var a answer
	err = l.Do(l.Venue, func() error {
		c, err := net.DialTimeout("tcp", req.URL.Host, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := req.Write(c); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil {
			return err
		}
		a = answer{status: resp.StatusCode, header: resp.Header, body: b.String()}
		return nil
	})
	return a, err
}

// dumpDOM is the DOM of url after chromium ran its scripts for a virtual 3 s (the page fetches
// api/status at once, then every 5 s).
func dumpDOM(t *testing.T, l *lab.Lab, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), chromiumBound)
	defer cancel()
	cmd := l.VenueCommand(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=3000", "--dump-dom", url)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, tailString(errb.String(), 20))
	}
	return out.String()
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// renderBoard opens the board as the crew does — the link with ?token=, which sets the cookie and
// sends the browser on to the board — and returns what chromium rendered.
func renderBoard(t *testing.T, l *lab.Lab, chromium, base string) board {
	t.Helper()
	dom := dumpDOM(t, l, chromium, base+"/?token="+boardToken)
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("parse the DOM: %v\n%s", err, dom)
	}
	b := board{dom: dom, root: doc, text: textOf(doc)}
	walk(doc, func(n *html.Node) {
		for _, a := range n.Attr {
			if a.Key == "src" || a.Key == "href" {
				b.refs = append(b.refs, a.Val)
			}
		}
	})
	if !strings.Contains(dom, `data-target="main-ingest"`) {
		t.Fatalf("the rendered board has no tile for main-ingest:\n%s", dom)
	}
	return b
}

// board is a rendered page.
type board struct {
	dom  string
	root *html.Node
	text string
	refs []string // every src and href
}

// tile is one target as rendered.
type tile struct {
	url, verdict, when string
	findings           []shownFinding
}

type shownFinding struct{ code, message, remedy string }

func (t tile) finding(code string) (shownFinding, bool) {
	for _, f := range t.findings {
		if f.code == code {
			return f, true
		}
	}
	return shownFinding{}, false
}

// tiles reads each tile: section.tile[data-target] with its .url, .verdict (the word, without
// the symbol), .when and the findings' .code, .msg and .remedy.
func (b board) tiles() map[string]tile {
	out := map[string]tile{}
	walk(b.root, func(n *html.Node) {
		name := attr(n, "data-target")
		if n.Type != html.ElementNode || n.Data != "section" || name == "" {
			return
		}
		var tl tile
		walk(n, func(c *html.Node) {
			switch {
			case hasClass(c, "url"):
				tl.url = textOf(c)
			case hasClass(c, "verdict"):
				tl.verdict = strings.TrimSpace(strings.TrimLeft(textOf(c), "✔✘! "))
			case hasClass(c, "when"):
				tl.when = textOf(c)
			case c.Type == html.ElementNode && c.Data == "li" && c.Parent != nil && hasClass(c.Parent, "findings"):
				var f shownFinding
				walk(c, func(d *html.Node) {
					switch {
					case hasClass(d, "code"):
						f.code = textOf(d)
					case hasClass(d, "msg"):
						f.message = textOf(d)
					case hasClass(d, "remedy"):
						f.remedy = textOf(d)
					}
				})
				tl.findings = append(tl.findings, f)
			}
		})
		out[name] = tl
	})
	return out
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.TrimSpace(b.String())
}
