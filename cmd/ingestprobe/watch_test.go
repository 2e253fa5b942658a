package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/render"
)

// roundsWriter collects a command's stdout and ends the command (cancels its ctx, as Ctrl-C
// does) once marker has appeared n times.
type roundsWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	n      int
	cancel context.CancelFunc
}

func (w *roundsWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Count(w.buf.String(), w.marker) >= w.n {
		w.cancel()
	}
	return len(p), nil
}

func (w *roundsWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// watchRounds runs `check --watch …` in-process until marker has been written n times.
func watchRounds(t *testing.T, tty bool, marker string, n int, args ...string) (int, string, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out := &roundsWriter{marker: marker, n: n, cancel: cancel}
	var errb bytes.Buffer
	e := env{stdout: out, stderr: &errb, stdoutTTY: tty, getenv: func(string) string { return "" }}
	start := time.Now()
	code := run(ctx, e, append([]string{"check", "--watch"}, args...))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("no %d rounds within 20 s:\n%s\n%s", n, out.String(), errb.String())
	}
	return code, out.String(), errb.String(), time.Since(start)
}

// TestWatchPrintsRounds: without a terminal each round is printed after the last, under a line
// naming it, a round every --every; Ctrl-C ends it with the last round's exit code.
func TestWatchPrintsRounds(t *testing.T) {
	open := listen(t)
	url := "rtmp://127.0.0.1:" + open + "/live/" + streamKey
	code, out, errs, took := watchRounds(t, false, "  GO\n", 2, "--config", writeConfig(t, ""), "--rtmp", "off", "--every", "1s", url)
	if code != exitOK {
		t.Errorf("exit: got %d; want 0 (the last round was go)\n%s", code, errs)
	}
	for _, want := range []string{"== ingestprobe check --watch — round 1 at ", "== ingestprobe check --watch — round 2 at ", "every 1s", "rtmp://127.0.0.1:" + open + "/live/<redacted>"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if took < time.Second {
		t.Errorf("two rounds took %s; want the second to start --every 1s after the first", took)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("terminal codes in piped output:\n%q", out)
	}
	if strings.Contains(out+errs, streamKey) {
		t.Errorf("output holds the stream key")
	}
}

// TestWatchRedraws: on a terminal the first frame clears the screen, each later one goes back home
// and overwrites the last, line by line, clearing what is left of it.
func TestWatchRedraws(t *testing.T) {
	closed := "rtmp://127.0.0.1:1/live/" + streamKey
	code, out, _, _ := watchRounds(t, true, "NO-GO", 2, "--config", writeConfig(t, ""), "--rtmp", "off", "--every", "1s", closed)
	if code != exitNoGo {
		t.Errorf("exit: got %d; want 1 (the last round was no-go)", code)
	}
	frames := strings.Split(out, ansiHome)
	// "", then the clear of the first frame, then one part per frame.
	if len(frames) != 4 || frames[0] != "" || frames[1] != ansiClearAll {
		t.Fatalf("got %d parts %q; want the screen cleared once, then two frames from home", len(frames), frames)
	}
	for i, f := range frames[2:] {
		if !strings.HasPrefix(f, "ingestprobe check --watch — round ") || !strings.HasSuffix(strings.TrimRight(f, "\n"), ansiClearDown) {
			t.Errorf("frame %d: got %q; want the round line first and a clear-below last", i+1, f)
		}
		for _, line := range strings.Split(strings.TrimSuffix(strings.TrimRight(f, "\n"), ansiClearDown), "\n") {
			if line != "" && !strings.HasSuffix(line, ansiClearLine) {
				t.Errorf("frame %d: line %q does not clear the rest of the old line", i+1, line)
			}
		}
	}
	if !strings.Contains(frames[3], "round 2") || !strings.Contains(frames[3], "tcp.refused") {
		t.Errorf("second frame: got %q; want round 2 with its findings", frames[3])
	}
}

// TestWatchJSON: with --json, a document per round, one per line.
func TestWatchJSON(t *testing.T) {
	open := listen(t)
	url := "rtmp://127.0.0.1:" + open + "/live/" + streamKey
	code, out, _, _ := watchRounds(t, false, "\n", 2, "--config", writeConfig(t, ""), "--rtmp", "off", "--every", "1s", "--json", url)
	if code != exitOK {
		t.Errorf("exit: got %d; want 0", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines; want 2 documents:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var doc render.Document
		if err := json.Unmarshal([]byte(l), &doc); err != nil || doc.Verdict != "go" || len(doc.Targets) != 1 {
			t.Errorf("line %q: got %+v, %v; want a go document of one target", l, doc, err)
		}
	}
}

func TestWatchFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--every", "5s", "rtmp://127.0.0.1:1/live/x"}, "--every needs --watch"},
		{[]string{"check", "--watch", "--every", "500ms", "rtmp://127.0.0.1:1/live/x"}, "--every 500ms: want at least 1s"},
		{[]string{"check", "--watch", "--every", "0", "rtmp://127.0.0.1:1/live/x"}, "--every 0s: want at least 1s"},
		{[]string{"check", "--watch", "--every", "-3s", "rtmp://127.0.0.1:1/live/x"}, "want at least 1s"},
		{[]string{"check", "--watch", "--every", "soon", "rtmp://127.0.0.1:1/live/x"}, `--every: "soon" is not a duration`},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			code, _, errs := runCmd(t, tc.args...)
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("got exit %d, stderr %q; want 2 and %q", code, errs, tc.want)
			}
		})
	}
}

// TestWatchCtrlC: the real process stops at SIGINT (Ctrl-C) between rounds and during one, at
// once, with the last complete round's exit code.
func TestWatchCtrlC(t *testing.T) {
	open := listen(t)
	url := "rtmp://127.0.0.1:" + open + "/live/" + streamKey
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INGESTPROBE_BE_MAIN=1",
		"INGESTPROBE_ARGS=check --watch --every 1s --rtmp off --config "+writeConfig(t, "")+" "+url)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}) // closed when the child has exited; then waitErr is its status
	var waitErr error
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill() // our own child, by PID
			<-done
		}
	})
	rounds := make(chan string, 64) // room for every round a test that fails could see
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "== ") {
				select {
				case rounds <- sc.Text():
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		waitErr = cmd.Wait()
		close(done)
	}()
	for i := range 2 {
		select {
		case <-rounds:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d did not come within 10 s", i+1)
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("exit: got %v; want status 0 (the last round was go)", waitErr)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("stopped %s after SIGINT; want at once", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGINT")
	}
}
