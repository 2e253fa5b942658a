package spool

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var spoolCrashes = flag.Int("spool.crashes", 50, "SIGKILL iterations of TestSpoolCrash (env "+spoolCrashesEnv+" overrides)")

const (
	spoolCrashesEnv   = "INGESTPROBE_SPOOL_CRASHES"
	spoolHelperDirEnv = "INGESTPROBE_SPOOL_HELPER_DIR"
	// spoolHelperFillEnv makes the helper append that many records with
	// SyncNever, print "filled" and wait to be killed.
	spoolHelperFillEnv = "INGESTPROBE_SPOOL_HELPER_FILL"
)

// spoolCrashOptions are shared by the helper and the verifying parent.
var spoolCrashOptions = Options{Sync: SyncEveryAppend, SegmentBytes: 1 << 20, MaxBytes: 256 << 20}

// spoolCrashPayload mixes small records with 256 KiB ones: a write that large
// is copied page by page and SIGKILL can interrupt it, which is how a kill
// leaves a torn tail.
func spoolCrashPayload(seq uint64) []byte {
	size := 64 + int(seq*37%900)
	if seq%5 == 0 {
		size = 256 << 10
	}
	return spoolTestPayload(seq, size)
}

// TestHelperAppender is the child process of TestSpoolCrash and
// BenchmarkSpoolRecovery, not a test of its own.
func TestHelperAppender(t *testing.T) {
	dir := os.Getenv(spoolHelperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestSpoolCrash and BenchmarkSpoolRecovery")
	}
	fail := func(format string, args ...any) {
		fmt.Printf("error "+format+"\n", args...)
		os.Exit(2)
	}
	if fill := os.Getenv(spoolHelperFillEnv); fill != "" {
		n, err := strconv.Atoi(fill)
		if err != nil {
			fail("%s: %v", spoolHelperFillEnv, err)
		}
		s, err := Open(dir, Options{Sync: SyncNever})
		if err != nil {
			fail("open: %v", err)
		}
		for i := range n {
			if _, err := s.Append(spoolTestPayload(uint64(i+1), 300)); err != nil {
				fail("append: %v", err)
			}
		}
		fmt.Println("filled")
		time.Sleep(time.Minute) // the parent kills us; the bound covers a parent that died
		os.Exit(3)
	}

	s, err := Open(dir, spoolCrashOptions)
	if err != nil {
		fail("open: %v", err)
	}
	next := s.Stats().LastSeq + 1
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
		seq, err := s.Append(spoolCrashPayload(next))
		if err != nil || seq != next {
			fail("append = %d, %v; want %d", seq, err, next)
		}
		// Printed only after Append returned: with SyncEveryAppend the
		// record is on disk, so the parent may rely on it.
		fmt.Printf("ack %d\n", seq)
		next++
	}
	s.Close()
	os.Exit(0)
}

// spoolRunHelper starts the helper on dir, waits for its first line, lets it
// run for delay and kills it with SIGKILL. It returns the complete lines the
// child printed.
func spoolRunHelper(t testing.TB, dir string, env []string, delay time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperAppender$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), spoolHelperDirEnv+"="+dir), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe = %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}

	var (
		mu      sync.Mutex
		lines   []string
		started = make(chan struct{})
		drained = make(chan struct{})
	)
	go func() {
		defer close(drained)
		br := bufio.NewReader(stdout)
		once := sync.OnceFunc(func() { close(started) })
		defer once()
		// Bounded by the child's lifetime: EOF once it is dead.
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return // a line cut by the kill has no newline: not acknowledged
			}
			mu.Lock()
			lines = append(lines, strings.TrimSuffix(line, "\n"))
			mu.Unlock()
			once()
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Errorf("helper printed nothing in 20s")
	}
	time.Sleep(delay)
	cmd.Process.Kill() // SIGKILL on Unix
	<-drained
	cmd.Wait()
	if stderr.Len() > 0 && testing.Verbose() {
		t.Logf("helper stderr: %s", stderr.Bytes())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, l := range lines {
		if strings.HasPrefix(l, "error") {
			t.Fatalf("helper: %s", l)
		}
	}
	return lines
}

func spoolLastSegment(t testing.TB, dir string) (string, int64) {
	t.Helper()
	var last string
	for _, n := range segmentNames(t, dir) {
		if _, ok := parseSegmentName(n); ok {
			last = n
		}
	}
	if last == "" {
		t.Fatalf("no segment in %s", dir)
	}
	return last, spoolSegmentSize(t, dir, last)
}

// TestSpoolCrash kills an appending child process at random moments and
// checks after each kill that every acknowledged record survived, seqs are
// contiguous and a torn tail is cut.
func TestSpoolCrash(t *testing.T) {
	n := *spoolCrashes
	if v := os.Getenv(spoolCrashesEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("%s=%q: %v", spoolCrashesEnv, v, err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d crashes", seed, n)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	start := time.Now()
	var prevLast, verified uint64
	var torn int
	for i := range n {
		delay := time.Duration(rng.IntN(25_000)) * time.Microsecond
		lines := spoolRunHelper(t, dir, nil, delay)
		var acks []uint64
		for _, l := range lines {
			seq, err := strconv.ParseUint(strings.TrimPrefix(l, "ack "), 10, 64)
			if err != nil {
				t.Fatalf("crash %d: helper line %q", i, l)
			}
			acks = append(acks, seq)
		}
		for j, seq := range acks {
			if seq != prevLast+1+uint64(j) {
				t.Fatalf("crash %d: helper acknowledged %d at position %d; want %d", i, seq, j, prevLast+1+uint64(j))
			}
		}
		lastName, rawSize := spoolLastSegment(t, dir)

		s, err := Open(dir, spoolCrashOptions)
		if err != nil {
			t.Fatalf("crash %d: reopen = %v; want nil", i, err)
		}
		st := s.Stats()
		if len(acks) > 0 && acks[len(acks)-1] > st.LastSeq {
			t.Fatalf("crash %d: acknowledged seq %d lost: LastSeq = %d", i, acks[len(acks)-1], st.LastSeq)
		}
		c := cursorT(t, s, "verify")
		want := prevLast + 1
		for range 100_000 { // bound: far more batches than a child appends
			recs := nextT(t, c, 64)
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if r.Seq != want {
					t.Fatalf("crash %d: seq %d after %d; want contiguous %d", i, r.Seq, want-1, want)
				}
				if !bytes.Equal(r.Payload, spoolCrashPayload(r.Seq)) {
					t.Fatalf("crash %d: payload of seq %d (%d bytes) differs from what was appended", i, r.Seq, len(r.Payload))
				}
				want++
			}
			if err := c.Ack(recs[len(recs)-1].Seq); err != nil {
				t.Fatalf("crash %d: Ack = %v", i, err)
			}
		}
		if want-1 != st.LastSeq {
			t.Fatalf("crash %d: read up to %d; want LastSeq %d", i, want-1, st.LastSeq)
		}
		if size := spoolSegmentSize(t, dir, lastName); st.TornTailsCut == 0 && size != rawSize || st.TornTailsCut > 0 && size >= rawSize {
			t.Fatalf("crash %d: %s is %d bytes after open, %d before, TornTailsCut %d; want shorter exactly when cut", i, lastName, size, rawSize, st.TornTailsCut)
		}
		torn += int(st.TornTailsCut)
		verified += st.LastSeq - prevLast
		prevLast = st.LastSeq
		if err := s.Close(); err != nil {
			t.Fatalf("crash %d: Close = %v", i, err)
		}
	}
	t.Logf("%d crashes in %v: %d records verified, %d torn tails cut", n, time.Since(start).Round(time.Millisecond), verified, torn)
}

func spoolSegmentSize(t testing.TB, dir, name string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, "segments", name))
	if err != nil {
		t.Fatalf("Stat(%s) = %v", name, err)
	}
	return fi.Size()
}
