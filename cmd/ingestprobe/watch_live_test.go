package main

import (
	"encoding/json"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// watch follows the help convention: --help on stdout with exit 0, a wrong flag one line and exit 2.
func TestWatchLiveUsage(t *testing.T) {
	code, out, errOut := runCmd(t, "watch", "--help")
	if code != exitOK || !strings.Contains(out, "Usage: ingestprobe watch") || !strings.Contains(out, "--bitrate") || errOut != "" {
		t.Errorf("--help: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--nope"}, "unknown flag --nope (see ingestprobe watch --help)"},
		{[]string{"watch", "rtmp://127.0.0.1/live/k", "--bitrate", "fast"}, "--bitrate"},
		{[]string{"watch", "srt://127.0.0.1:9000?streamid=k"}, "TCP connections"},
		{[]string{"watch", "--config", "/nonexistent/ingestprobe.toml"}, "config"},
	} {
		code, out, errOut := runCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("%v: code %d, stderr %q; want 2 and one line with %q", c.args, code, errOut, c.want)
		}
		if strings.Contains(errOut, "streamid=k") {
			t.Errorf("%v: the stream id in %q", c.args, errOut)
		}
	}
}

// watch --json on this host: one document in check's shape, the publisher found by address and
// port with its process, its rate measured; the stream key appears nowhere.
func TestWatchLiveJSON(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the live watch is tested on Linux here; Windows on recorded structures")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		io.Copy(io.Discard, s)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() { // 1 Mbit/s in 12.5 KB steps
		defer close(sent)
		buf := make([]byte, 12500)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				c.Write(buf)
			}
		}
	}()
	defer func() { close(stop); <-sent; c.Close(); <-done }()
	// This process is the publisher here, and the watch leaves its own connections out — so
	// the test cannot see itself as one; it checks the document's shape and the exclusion.
	code, out, errOut := runCmd(t, "watch", "rtmp://"+ln.Addr().String()+"/live/secret-key?txSecret=abc", "--json", "--for", "1500ms")
	if code != exitOK {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	if strings.Contains(out, "secret-key") || strings.Contains(out, "abc") {
		t.Errorf("the stream key or its query in the document: %s", out)
	}
	var doc struct {
		Verdict string
		Targets []struct {
			Findings []struct{ Code, Severity string }
			Results  []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Verdict != "go" || len(doc.Targets) != 1 || len(doc.Targets[0].Results) != 1 {
		t.Fatalf("document %s", out)
	}
	r := doc.Targets[0].Results[0]
	for _, k := range []string{"probe", "publishers", "acked_bps", "rtt_seconds", "retransmit_ratio", "backlog_bytes", "backlog_seconds", "reconnects", "connections"} {
		if _, ok := r[k]; !ok {
			t.Errorf("result without %q: %v", k, r)
		}
	}
	if r["probe"] != "live" || r["publishers"] != 0.0 || len(doc.Targets[0].Findings) != 1 || doc.Targets[0].Findings[0].Code != "live.no_publisher" {
		t.Errorf("own connection counted, or no live.no_publisher: %s", out)
	}
}
