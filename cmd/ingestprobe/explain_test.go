package main

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/symptom"
)

// TestExplainEachSymptom: every catalogued message is explained with its findings (code and title)
// and the checks that tell them apart, without touching the network.
func TestExplainEachSymptom(t *testing.T) {
	for _, s := range symptom.Catalogue {
		code, out, _ := runCmd(t, "explain", s.Text)
		if code != exitOK {
			t.Errorf("%q: got exit %d; want 0\n%s", s.Text, code, out)
			continue
		}
		for _, c := range s.Codes {
			if !strings.Contains(out, "  "+c+" ") || !strings.Contains(out, title(c)) {
				t.Errorf("%q: output lacks %s and its title:\n%s", s.Text, c, out)
			}
		}
		if !strings.Contains(out, "The checks that tell them apart: ") {
			t.Errorf("%q: output names no checks:\n%s", s.Text, out)
		}
	}
}

func TestExplainUnknownAndUsage(t *testing.T) {
	code, out, _ := runCmd(t, "explain", "Could not connect to the streaming server")
	if code != exitUsage || !strings.Contains(out, "does not know the message") || !strings.Contains(out, `"Failed to connect to server" (OBS)`) {
		t.Errorf("unknown: got exit %d\n%s; want 2 and the closest known messages", code, out)
	}
	if code, _, _ := runCmd(t, "explain"); code != exitUsage {
		t.Errorf("no message: got exit %d; want 2", code)
	}
}

// TestExplainRunsTheChecks: with a URL, explain runs the checks that tell the causes apart and
// says which it found — a refused port for ffmpeg's "Connection refused" — and runs no RTMP
// session when none of the checks needs one.
func TestExplainRunsTheChecks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // nothing listens: the connect is refused
	code, out, _ := runCmd(t, "explain", "Connection refused", "rtmp://127.0.0.1:"+port+"/live/s", "--timeout", "1s")
	if code != exitNoGo {
		t.Errorf("got exit %d; want 1\n%s", code, out)
	}
	for _, want := range []string{"tcp.refused", "Of its causes, the checks found: tcp.refused."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "✘ rtmp") || strings.Contains(out, "icmp") {
		t.Errorf("ran checks the message does not need:\n%s", out)
	}
	// The publish needs --publish: without it the session stops at the connect.
	code, out, _ = runCmd(t, "explain", "PUSH_WARNING_SERVER_DISCONNECT", "rtmp://127.0.0.1:"+port+"/live/s", "--timeout", "1s")
	if code != exitNoGo || !strings.Contains(out, "Not run: the publish (add --publish") {
		t.Errorf("got exit %d; want 1 and a note that the publish was not run:\n%s", code, out)
	}
	// A failure that is not among the message's causes is named, not "none found here".
	if !strings.Contains(out, "the checks found another failure from here: tcp.refused") || strings.Contains(out, "None of its causes was found from here") {
		t.Errorf("a refused port read as nothing found:\n%s", out)
	}
}
