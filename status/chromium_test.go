package status

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/ingestprobe/ingestprobe/record"
)

// TestPageInChromium renders the board in Debian's headless chromium, from this process's own
// server on loopback, and reads what the script drew: a fresh target, one whose last record is
// older than three intervals (STALE, its old verdict still shown), one never checked (WAITING),
// and the history strip. The lab test (test/integration) renders the agent's board; this one
// pins the page's own logic. Without chromium it skips (fails with INGESTPROBE_LAB_REQUIRED=1).
func TestPageInChromium(t *testing.T) {
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		reason := "status: missing chromium (apt-get install chromium) to render the board"
		if os.Getenv("INGESTPROBE_LAB_REQUIRED") == "1" {
			t.Fatalf("%s (and INGESTPROBE_LAB_REQUIRED=1 says it must run here)", reason)
		}
		t.Skip(reason)
	}
	now := time.Now()
	b := NewBoard("1.2.3")
	iv := 10 * time.Second
	b.Configure("enc1", []Target{{Name: "fresh", Interval: iv}, {Name: "old", Interval: iv}, {Name: "never", Interval: iv}})
	for i := 50; i >= 1; i-- { // a run a minute, the 20th minute ago a no-go
		v := record.Go
		if i == 20 {
			v = record.NoGo
		}
		b.Observe(rec("fresh", now.Add(-time.Duration(i)*time.Minute), v, 0.001*float64(1+i%3)))
	}
	b.Observe(rec("fresh", now.Add(-2*time.Second), record.Go, 0.002))
	b.Observe(rec("old", now.Add(-45*time.Second), record.NoGo, -1))
	s := serve(t, b, "", defaultLimits)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=3000", "--dump-dom", "http://"+s.Addr()+"/")
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	doc, err := html.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	tiles := map[string]*html.Node{}
	var overall string
	walkNodes(doc, func(n *html.Node) {
		if name := attrOf(n, "data-target"); name != "" {
			tiles[name] = n
		}
		if attrOf(n, "id") == "overall" {
			overall = text(n)
		}
	})
	if len(tiles) != 3 {
		t.Fatalf("got tiles %v; want fresh, old, never\n%s", tiles, out.String())
	}
	in := func(name, class string) string { return text(find(tiles[name], class)) }

	if v := in("fresh", "verdict"); !strings.HasSuffix(v, "GO") || strings.Contains(v, "NO-GO") {
		t.Errorf("fresh: verdict %q; want GO", v)
	}
	if w := in("fresh", "when"); !strings.Contains(w, "s ago") || strings.Contains(w, "STALE") {
		t.Errorf("fresh: %q; want checked seconds ago, not stale", w)
	}
	if !strings.Contains(attrOf(tiles["old"], "class"), "stale") || !strings.Contains(in("old", "when"), "STALE") {
		t.Errorf("old (45 s, interval 10 s): class %q, %q; want it shown stale", attrOf(tiles["old"], "class"), in("old", "when"))
	}
	if v := in("old", "verdict"); !strings.HasSuffix(v, "NO-GO") {
		t.Errorf("old: verdict %q; want its last verdict, NO-GO, still shown", v)
	}
	if m, r := in("old", "msg"), in("old", "remedy"); m != "port 1935 is silently dropped" || r != "Ask venue IT to allow outbound TCP 1935" {
		t.Errorf("old: finding %q → %q; want the message and the remedy", m, r)
	}
	if v, w := in("never", "verdict"), in("never", "when"); v != "WAITING" || w != "not checked yet" {
		t.Errorf("never: %q, %q; want WAITING, not checked yet", v, w)
	}
	var cells, nogo int
	walkNodes(find(tiles["fresh"], "strip"), func(n *html.Node) {
		if hasClassName(n, "cell") {
			cells++
			if hasClassName(n, "c-no-go") {
				nogo++
			}
		}
	})
	if cells != 60 || nogo != 1 {
		t.Errorf("fresh: strip of %d cells, %d no-go; want 60 minutes, one no-go", cells, nogo)
	}
	if overall != "NO-GO — 1 of 3 NO-GO" {
		t.Errorf("overall: got %q; want NO-GO — 1 of 3 NO-GO", overall)
	}
}

func walkNodes(n *html.Node, fn func(*html.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkNodes(c, fn)
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClassName(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && strings.Contains(" "+attrOf(n, "class")+" ", " "+class+" ")
}

// find is the first element below n with class.
func find(n *html.Node, class string) *html.Node {
	var found *html.Node
	walkNodes(n, func(c *html.Node) {
		if found == nil && hasClassName(c, class) {
			found = c
		}
	})
	return found
}

func text(n *html.Node) string {
	var b strings.Builder
	walkNodes(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.TrimSpace(b.String())
}
