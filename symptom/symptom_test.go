package symptom

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/diagnose"
)

// TestEachSymptomMapsToItsFindings: every catalogued message, pasted as the encoder shows it or
// inside a log line, maps to its own entry, whose findings are all catalogued and whose checks
// are known.
func TestEachSymptomMapsToItsFindings(t *testing.T) {
	for _, s := range Catalogue {
		t.Run(s.Source+": "+s.Text, func(t *testing.T) {
			if len(s.Codes) == 0 || len(s.Checks) == 0 || s.Note == "" {
				t.Fatalf("got %+v; want codes, checks and a note", s)
			}
			for _, c := range s.Codes {
				if !diagnose.Known(c) {
					t.Errorf("code %q is not in the findings catalogue", c)
				}
			}
			for _, c := range s.Checks {
				if !slices.Contains(Checks, c) {
					t.Errorf("check %q is unknown", c)
				}
			}
			for _, pasted := range []string{s.Text, "[rtmp @ 0x55d0c8a3e2c0] " + s.Text + "\n", strings.ToUpper(s.Text)} {
				got := Match(pasted)
				if !slices.ContainsFunc(got, func(g Symptom) bool { return g.Text == s.Text }) {
					t.Errorf("Match(%q) = %v; want it to include %q", pasted, texts(got), s.Text)
				}
				if codes := Codes(got); !containsAll(codes, s.Codes) {
					t.Errorf("Match(%q) codes %v; want %v among them", pasted, codes, s.Codes)
				}
			}
		})
	}
}

// TestMatchExamples: the messages of the issue, as a crew pastes them.
func TestMatchExamples(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string // codes that must be among the findings
		not  []string // symptom texts that must not match
	}{
		{"rtmp://push.example.com/live/show: Input/output error", []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "tls.failed"}, nil},
		{"Failed to connect to server", []string{"tcp.blocked", "dns.nxdomain"}, nil},
		{"onWarning PUSH_WARNING_SERVER_DISCONNECT", []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "url.txtime_expired"}, nil},
		{"startPush returned -2", []string{"url.scheme_unsupported", "url.mode_mismatch"}, []string{"V2TXLIVE_ERROR_REQUEST_TIMEOUT (-6)"}},
		{"-2304", nil, []string{"startPush returns -2 (V2TXLIVE_ERROR_INVALID_PARAMETER)"}},
		{"[tcp @ 0x5581] Connection to tcp://push.example.com:1935 failed: Connection timed out", []string{"tcp.blocked"}, nil},
	} {
		got := Match(c.in)
		if !containsAll(Codes(got), c.want) {
			t.Errorf("Match(%q) codes %v; want %v among them", c.in, Codes(got), c.want)
		}
		for _, n := range c.not {
			if slices.Contains(texts(got), n) {
				t.Errorf("Match(%q) = %v; want no %q", c.in, texts(got), n)
			}
		}
	}
}

// TestUnknownGetsClosest: a message the catalogue does not know matches nothing and gets the
// closest known ones.
func TestUnknownGetsClosest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Could not connect to the streaming server", "Failed to connect to server"},
		{"handshake failed with server", "Cannot read RTMP handshake response"},
		{"zzqx", "Input/output error"}, // nothing in common: the commonest messages
	} {
		if m := Match(c.in); len(m) != 0 {
			t.Fatalf("Match(%q) = %v; want none", c.in, texts(m))
		}
		got := Closest(c.in, 3)
		if len(got) == 0 || !slices.Contains(texts(got), c.want) {
			t.Errorf("Closest(%q) = %v; want %q among them", c.in, texts(got), c.want)
		}
	}
}

// TestDocumented: docs/findings.md lists every message under the findings it can stand for.
func TestDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/findings.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## Symptoms")
	if i < 0 {
		t.Fatal("docs/findings.md has no ## Symptoms section")
	}
	sec := doc[i:]
	for _, s := range Catalogue {
		if !strings.Contains(sec, s.Text) {
			t.Errorf("docs/findings.md ## Symptoms does not list %q", s.Text)
		}
	}
	for _, e := range diagnose.Catalogue {
		ss := ForCode(e.Code)
		if len(ss) == 0 {
			continue
		}
		// The row of the code names each of its messages.
		j := strings.Index(sec, "| `"+e.Code+"` |")
		if j < 0 {
			t.Errorf("## Symptoms has no row for %s", e.Code)
			continue
		}
		row := sec[j:]
		row = row[:strings.IndexByte(row, '\n')]
		for _, s := range ss {
			if !strings.Contains(row, s.Text) {
				t.Errorf("## Symptoms row %s lacks %q", e.Code, s.Text)
			}
		}
	}
}

func texts(ss []Symptom) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Text)
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
