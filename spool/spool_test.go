package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// spoolTestPayload is a deterministic JSON-ish payload for seq, size bytes
// long (or just the seq prefix when size is smaller), so that a reader can
// check content without shared state.
func spoolTestPayload(seq uint64, size int) []byte {
	b := fmt.Appendf(nil, `{"seq":%d,"pad":"`, seq)
	for i := 0; len(b) < size-2; i++ {
		b = append(b, byte('a'+(int(seq)+i)%26))
	}
	return append(b, `"}`...)
}

type spoolFakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSpoolFakeClock() *spoolFakeClock {
	return &spoolFakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *spoolFakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *spoolFakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openSpoolT(t testing.TB, dir string, opt Options) *Spool {
	t.Helper()
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("Open(%s) = %v; want nil error", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func cursorT(t testing.TB, s *Spool, name string) *Cursor {
	t.Helper()
	c, err := s.Cursor(name)
	if err != nil {
		t.Fatalf("Cursor(%q) = %v; want nil error", name, err)
	}
	return c
}

// appendT appends n payloads of size bytes and checks that the seqs continue
// from the spool's last seq.
func appendT(t testing.TB, s *Spool, n, size int) {
	t.Helper()
	for range n {
		want := s.Stats().LastSeq + 1
		seq, err := s.Append(spoolTestPayload(want, size))
		if err != nil {
			t.Fatalf("Append() = %v; want nil error", err)
		}
		if seq != want {
			t.Fatalf("Append() seq = %d; want %d", seq, want)
		}
	}
}

// seqs returns the seqs of recs.
func seqs(recs []Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func nextT(t testing.TB, c *Cursor, max int) []Record {
	t.Helper()
	recs, err := c.Next(max)
	if err != nil {
		t.Fatalf("Next(%d) = %v; want nil error", max, err)
	}
	return recs
}

// drainT reads and acknowledges everything pending on c, checking payloads
// of the given size, and returns the seqs seen.
func drainT(t testing.TB, c *Cursor, size int) []uint64 {
	t.Helper()
	var got []uint64
	for range 100000 { // bound: far more batches than any test appends
		recs := nextT(t, c, 7)
		if len(recs) == 0 {
			return got
		}
		for _, r := range recs {
			if want := spoolTestPayload(r.Seq, size); !bytes.Equal(r.Payload, want) {
				t.Fatalf("payload of seq %d = %q; want %q", r.Seq, r.Payload, want)
			}
			got = append(got, r.Seq)
		}
		if err := c.Ack(recs[len(recs)-1].Seq); err != nil {
			t.Fatalf("Ack(%d) = %v; want nil error", recs[len(recs)-1].Seq, err)
		}
	}
	t.Fatalf("drain did not finish")
	return nil
}

func segmentNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "segments"))
	if err != nil {
		t.Fatalf("ReadDir = %v", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func segName(seq uint64) string { return fmt.Sprintf("%020d.seg", seq) }

func TestSpoolAppendNextAck(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncInterval, SyncEveryAppend, SyncNever} {
		t.Run(policy.String(), func(t *testing.T) {
			clock := newSpoolFakeClock()
			s := openSpoolT(t, t.TempDir(), Options{Sync: policy, now: clock.now})
			for i := range 10 {
				seq, err := s.Append(spoolTestPayload(uint64(i+1), 50))
				if err != nil || seq != uint64(i+1) {
					t.Fatalf("Append #%d = %d, %v; want %d, nil", i, seq, err, i+1)
				}
				clock.advance(time.Second)
			}
			c := cursorT(t, s, "collector")
			steps := []struct {
				name string
				max  int
				ack  uint64 // 0: no Ack after Next
				want []uint64
			}{
				{"first batch", 4, 0, seqRange(1, 4)},
				{"same batch again without ack", 4, 4, seqRange(1, 4)},
				{"rest after ack", 100, 0, seqRange(5, 10)},
				{"partial ack", 3, 6, seqRange(5, 7)},
				{"after partial ack", 100, 10, seqRange(7, 10)},
				{"nothing pending", 100, 0, nil},
			}
			for _, st := range steps {
				recs := nextT(t, c, st.max)
				if got := seqs(recs); !slices.Equal(got, st.want) {
					t.Fatalf("%s: Next(%d) seqs = %v; want %v", st.name, st.max, got, st.want)
				}
				for _, r := range recs {
					if want := spoolTestPayload(r.Seq, 50); !bytes.Equal(r.Payload, want) {
						t.Fatalf("%s: payload %d = %q; want %q", st.name, r.Seq, r.Payload, want)
					}
					wantTime := newSpoolFakeClock().t.Add(time.Duration(r.Seq-1) * time.Second)
					if !r.Time.Equal(wantTime) {
						t.Fatalf("%s: time of %d = %v; want %v", st.name, r.Seq, r.Time, wantTime)
					}
				}
				if st.ack != 0 {
					if err := c.Ack(st.ack); err != nil {
						t.Fatalf("%s: Ack(%d) = %v; want nil", st.name, st.ack, err)
					}
				}
			}
			if err := c.Ack(3); err != nil {
				t.Fatalf("Ack(3) behind position = %v; want nil (no-op)", err)
			}
			if got := c.Acked(); got != 10 {
				t.Fatalf("Acked() = %d; want 10", got)
			}
			if err := c.Ack(11); err == nil {
				t.Fatalf("Ack(11) beyond last = nil; want error")
			}
			if _, err := c.Next(0); err == nil {
				t.Fatalf("Next(0) = nil error; want error")
			}
			st := s.Stats()
			if st.Records != 10 || st.LastSeq != 10 || st.FirstSeq != 1 || st.Segments != 1 || st.DroppedTotal != 0 {
				t.Fatalf("Stats() = %+v; want 10 records, seqs 1..10, 1 segment, none dropped", st)
			}
			if want := int64(10 * (headerLen + 50)); st.Bytes != want {
				t.Fatalf("Stats().Bytes = %d; want %d", st.Bytes, want)
			}
		})
	}
}

func TestSpoolReopenContinuesSeq(t *testing.T) {
	tests := []struct {
		name     string
		opt      Options
		appends  []int // records appended per run; the spool is reopened between runs
		ack      uint64
		wantNext []uint64
	}{
		{"one segment", Options{}, []int{5, 3}, 2, seqRange(3, 8)},
		{"many segments", Options{SegmentBytes: 256, MaxBytes: 1 << 20}, []int{9, 4, 2}, 7, seqRange(8, 15)},
		{"empty runs", Options{SegmentBytes: 256, MaxBytes: 1 << 20}, []int{0, 4, 0, 0, 1}, 0, seqRange(1, 5)},
		{"every-append", Options{Sync: SyncEveryAppend}, []int{2, 2}, 2, seqRange(3, 4)},
		{"never", Options{Sync: SyncNever}, []int{2, 2}, 1, seqRange(2, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for run, n := range tt.appends {
				s := openSpoolT(t, dir, tt.opt)
				c := cursorT(t, s, "sink")
				appendT(t, s, n, 100)
				if run == 0 && tt.ack != 0 {
					if err := c.Ack(tt.ack); err != nil {
						t.Fatalf("Ack(%d) = %v", tt.ack, err)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatalf("Close() = %v; want nil", err)
				}
			}
			s := openSpoolT(t, dir, tt.opt)
			total := uint64(0)
			for _, n := range tt.appends {
				total += uint64(n)
			}
			if got := s.Stats().LastSeq; got != total {
				t.Fatalf("LastSeq after reopen = %d; want %d", got, total)
			}
			c := cursorT(t, s, "sink")
			if got := c.Acked(); got != tt.ack {
				t.Fatalf("Acked() after reopen = %d; want %d", got, tt.ack)
			}
			if got := drainT(t, c, 100); !slices.Equal(got, tt.wantNext) {
				t.Fatalf("records after reopen = %v; want %v", got, tt.wantNext)
			}
			seq, err := s.Append([]byte("x"))
			if err != nil || seq != total+1 {
				t.Fatalf("Append after reopen = %d, %v; want %d, nil", seq, err, total+1)
			}
		})
	}
}

func TestSpoolCursorsIndependent(t *testing.T) {
	// 100-byte payloads make 124-byte frames: two per 256-byte segment.
	opt := Options{SegmentBytes: 256, MaxBytes: 1 << 20}
	steps := []struct {
		name         string
		cursor       string
		ack          uint64
		wantSegments int
		wantRecords  uint64
	}{
		{"fast sink acks all, slow holds everything", "fast", 20, 10, 20},
		{"slow sink acks part", "slow", 9, 6, 12},
		{"slow sink acks the rest", "slow", 20, 1, 2},
	}
	s := openSpoolT(t, t.TempDir(), opt)
	fast, slow := cursorT(t, s, "fast"), cursorT(t, s, "slow")
	appendT(t, s, 20, 100)
	if got := seqs(nextT(t, fast, 100)); !slices.Equal(got, seqRange(1, 20)) {
		t.Fatalf("fast Next = %v; want 1..20", got)
	}
	for _, st := range steps {
		c := map[string]*Cursor{"fast": fast, "slow": slow}[st.cursor]
		if err := c.Ack(st.ack); err != nil {
			t.Fatalf("%s: Ack(%d) = %v", st.name, st.ack, err)
		}
		got := s.Stats()
		if got.Segments != st.wantSegments || got.Records != st.wantRecords {
			t.Fatalf("%s: Stats() = %d segments, %d records; want %d, %d", st.name, got.Segments, got.Records, st.wantSegments, st.wantRecords)
		}
		if got.DroppedTotal != 0 {
			t.Fatalf("%s: DroppedTotal = %d; want 0", st.name, got.DroppedTotal)
		}
	}
	if got := seqs(nextT(t, fast, 100)); got != nil {
		t.Fatalf("fast Next after ack = %v; want none", got)
	}
	if got, want := fast.Skipped()+slow.Skipped(), uint64(0); got != want {
		t.Fatalf("Skipped = %d; want %d", got, want)
	}
}

func TestSpoolCursorPersistedProtectsData(t *testing.T) {
	dir := t.TempDir()
	opt := Options{SegmentBytes: 256, MaxBytes: 1 << 20}
	s := openSpoolT(t, dir, opt)
	cursorT(t, s, "offline") // created, then its sink never runs again
	appendT(t, s, 10, 100)
	s.Close()

	s = openSpoolT(t, dir, opt)
	online := cursorT(t, s, "online")
	drainT(t, online, 100)
	if got := s.Stats().Records; got != 10 {
		t.Fatalf("Records after online acked all = %d; want 10 (offline cursor still needs them)", got)
	}
	offline := cursorT(t, s, "offline")
	if got := drainT(t, offline, 100); !slices.Equal(got, seqRange(1, 10)) {
		t.Fatalf("offline cursor reads %v; want 1..10", got)
	}
	if got := s.Stats().Segments; got != 1 {
		t.Fatalf("Segments after both acked = %d; want 1", got)
	}
}

func TestSpoolByteBoundDropsOldest(t *testing.T) {
	// 124-byte frames, two per 256-byte segment, at most 1024 bytes: after 40
	// appends the newest four segments (records 33..40) remain.
	tests := []struct {
		name        string
		cursor      bool
		ackFirst    uint64 // acknowledged after the first 12 appends
		wantDropped uint64
		wantSkipped uint64
	}{
		{"no cursor", false, 0, 32, 0},
		{"cursor never acked", true, 0, 32, 32},
		// 1..4 are dropped before the ack (counted), 5..10 deleted as
		// delivered (not counted), 11..32 dropped later (counted, skipped).
		{"cursor acked some", true, 10, 26, 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpoolT(t, t.TempDir(), Options{SegmentBytes: 256, MaxBytes: 1024})
			var c *Cursor
			if tt.cursor {
				c = cursorT(t, s, "sink")
			}
			for i := range 40 {
				if i == 12 && tt.ackFirst != 0 {
					if err := c.Ack(tt.ackFirst); err != nil {
						t.Fatalf("Ack = %v", err)
					}
				}
				appendT(t, s, 1, 100)
				if b := s.Stats().Bytes; b > 1024 {
					t.Fatalf("Bytes after append %d = %d; want ≤ 1024", i+1, b)
				}
			}
			st := s.Stats()
			if st.Records != 8 || st.FirstSeq != 33 || st.LastSeq != 40 || st.Segments != 4 {
				t.Fatalf("Stats() = %+v; want 8 records 33..40 in 4 segments", st)
			}
			if st.DroppedTotal != tt.wantDropped {
				t.Fatalf("DroppedTotal = %d; want %d", st.DroppedTotal, tt.wantDropped)
			}
			if !tt.cursor {
				return
			}
			recs := nextT(t, c, 100)
			if got := seqs(recs); !slices.Equal(got, seqRange(33, 40)) {
				t.Fatalf("Next after drop = %v; want 33..40", got)
			}
			if got := c.Skipped(); got != tt.wantSkipped {
				t.Fatalf("Skipped() = %d; want %d", got, tt.wantSkipped)
			}
		})
	}
}

func TestSpoolAgeBound(t *testing.T) {
	tests := []struct {
		name        string
		maxAge      time.Duration
		gaps        []time.Duration // clock advance before each append
		wantFirst   uint64
		wantDropped uint64
	}{
		// Appends at 0, 0, 0, 30m, 70m: the first segment's newest record
		// (0m) is over an hour old at 70m; the 30m segment is not.
		{"drops expired segment", time.Hour, []time.Duration{0, 0, 0, 30 * time.Minute, 40 * time.Minute}, 4, 3},
		{"nothing old enough", time.Hour, []time.Duration{0, 0, 0, 30 * time.Minute, 20 * time.Minute}, 1, 0},
		{"everything but the newest", time.Hour, []time.Duration{0, 10 * time.Minute, 5 * time.Hour}, 3, 2},
		{"disabled", -1, []time.Duration{0, 0, 0, 30 * time.Minute, 400 * time.Hour}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newSpoolFakeClock()
			s := openSpoolT(t, t.TempDir(), Options{MaxAge: tt.maxAge, now: clock.now})
			for _, gap := range tt.gaps {
				clock.advance(gap)
				appendT(t, s, 1, 20)
			}
			st := s.Stats()
			if st.FirstSeq != tt.wantFirst || st.DroppedTotal != tt.wantDropped {
				t.Fatalf("Stats() first %d dropped %d; want first %d dropped %d (%+v)", st.FirstSeq, st.DroppedTotal, tt.wantFirst, tt.wantDropped, st)
			}
			if want := uint64(len(tt.gaps)) - tt.wantFirst + 1; st.Records != want {
				t.Fatalf("Records = %d; want %d", st.Records, want)
			}
		})
	}
}

func TestSpoolSegmentRolloverAndDeletion(t *testing.T) {
	// Two 124-byte frames per 256-byte segment: ten records make segments
	// starting at 1, 3, 5, 7 and 9.
	tests := []struct {
		name      string
		acks      map[string]uint64
		wantFiles []string
	}{
		{"no acks keeps all", map[string]uint64{}, []string{segName(1), segName(3), segName(5), segName(7), segName(9)}},
		{"one cursor behind", map[string]uint64{"a": 10, "b": 0}, []string{segName(1), segName(3), segName(5), segName(7), segName(9)}},
		{"slowest decides", map[string]uint64{"a": 10, "b": 5}, []string{segName(5), segName(7), segName(9)}},
		{"mid-segment ack keeps it", map[string]uint64{"a": 3, "b": 3}, []string{segName(3), segName(5), segName(7), segName(9)}},
		{"active segment stays", map[string]uint64{"a": 10, "b": 10}, []string{segName(9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSpoolT(t, dir, Options{SegmentBytes: 256, MaxBytes: 1 << 20})
			a, b := cursorT(t, s, "a"), cursorT(t, s, "b")
			appendT(t, s, 10, 100)
			for name, seq := range tt.acks {
				if seq == 0 {
					continue
				}
				if err := map[string]*Cursor{"a": a, "b": b}[name].Ack(seq); err != nil {
					t.Fatalf("Ack = %v", err)
				}
			}
			if got := segmentNames(t, dir); !slices.Equal(got, tt.wantFiles) {
				t.Fatalf("segment files = %v; want %v", got, tt.wantFiles)
			}
			if got := s.Stats().Segments; got != len(tt.wantFiles) {
				t.Fatalf("Stats().Segments = %d; want %d", got, len(tt.wantFiles))
			}
			if got := s.Stats().DroppedTotal; got != 0 {
				t.Fatalf("DroppedTotal = %d; want 0", got)
			}
		})
	}
}

func TestSpoolTornTail(t *testing.T) {
	dir := t.TempDir()
	s := openSpoolT(t, dir, Options{})
	appendT(t, s, 3, 40)
	s.Close()
	path := filepath.Join(dir, "segments", segName(1))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lastStart := len(orig) - (headerLen + 40)
	for cut := lastStart; cut < len(orig); cut++ {
		t.Run(fmt.Sprintf("cut=%d", cut), func(t *testing.T) {
			if err := os.WriteFile(path, orig[:cut], 0o640); err != nil {
				t.Fatal(err)
			}
			s := openSpoolT(t, dir, Options{})
			st := s.Stats()
			wantCut := uint64(0)
			if cut > lastStart {
				wantCut = 1
			}
			if st.Records != 2 || st.LastSeq != 2 || st.TornTailsCut != wantCut {
				t.Fatalf("Stats() = %+v; want 2 records, LastSeq 2, TornTailsCut %d", st, wantCut)
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() != int64(lastStart) {
				t.Fatalf("segment size after open = %v, %v; want %d", fi.Size(), err, lastStart)
			}
			c := cursorT(t, s, fmt.Sprintf("c%d", cut))
			if got := drainT(t, c, 40); !slices.Equal(got, []uint64{1, 2}) {
				t.Fatalf("records = %v; want [1 2]", got)
			}
			appendT(t, s, 1, 40) // continues at 3 after the cut
			s.Close()
			if err := os.RemoveAll(filepath.Join(dir, "cursors")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// spoolFrameOffsets returns the offset of every frame in a segment file.
func spoolFrameOffsets(t testing.TB, b []byte) []int {
	t.Helper()
	var offs []int
	for off := 0; off+headerLen <= len(b); {
		offs = append(offs, off)
		off += headerLen + int(binary.LittleEndian.Uint32(b[off:]))
	}
	return offs
}

func TestSpoolCorruption(t *testing.T) {
	// Six records of 100 bytes, two per 256-byte segment: segments 1, 3, 5.
	type mutation func(t *testing.T, dir string)
	edit := func(seg uint64, fn func(b []byte, offs []int) []byte) mutation {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, "segments", segName(seg))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, fn(b, spoolFrameOffsets(t, b)), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name        string
		mutate      mutation
		wantSeqs    []uint64
		wantTorn    uint64
		wantCorrupt uint64
		wantSkipped uint64
		wantNext    uint64 // seq of the next Append
	}{
		{"payload flip in final segment", edit(5, func(b []byte, o []int) []byte { b[o[1]+40] ^= 0x20; return b }),
			seqRange(1, 5), 1, 0, 0, 6},
		{"checksum flip first record of final segment", edit(5, func(b []byte, o []int) []byte { b[o[0]+5] ^= 1; return b }),
			seqRange(1, 4), 1, 0, 0, 5},
		{"length flip in non-final segment", edit(1, func(b []byte, o []int) []byte { b[o[1]+2] = 0x7f; return b }),
			[]uint64{1, 3, 4, 5, 6}, 0, 1, 1, 7},
		{"checksum flip first record of middle segment", edit(3, func(b []byte, o []int) []byte { b[o[0]+4] ^= 0xff; return b }),
			[]uint64{1, 2, 5, 6}, 0, 1, 2, 7},
		{"zero-filled tail", edit(5, func(b []byte, o []int) []byte { return append(b, make([]byte, 4096)...) }),
			seqRange(1, 6), 1, 0, 0, 7},
		{"foreign seq with valid checksum", edit(5, func(b []byte, o []int) []byte {
			return encodeFrame(b, 99, time.Now(), []byte("stray"))
		}), seqRange(1, 6), 1, 0, 0, 7},
		{"final segment emptied", edit(5, func(b []byte, o []int) []byte { return nil }),
			seqRange(1, 4), 0, 0, 0, 5},
		{"unknown files ignored", func(t *testing.T, dir string) {
			for _, name := range []string{"notes.txt", "00000000000000000000.seg", "12.seg"} {
				if err := os.WriteFile(filepath.Join(dir, "segments", name), []byte("garbage"), 0o640); err != nil {
					t.Fatal(err)
				}
			}
		}, seqRange(1, 6), 0, 0, 0, 7},
	}
	opt := Options{SegmentBytes: 256, MaxBytes: 1 << 20}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSpoolT(t, dir, opt)
			appendT(t, s, 6, 100)
			s.Close()
			tt.mutate(t, dir)
			sizes := map[string]int64{}
			for _, n := range segmentNames(t, dir) {
				fi, _ := os.Stat(filepath.Join(dir, "segments", n))
				sizes[n] = fi.Size()
			}

			s = openSpoolT(t, dir, opt)
			st := s.Stats()
			if st.TornTailsCut != tt.wantTorn || st.CorruptSegments != tt.wantCorrupt {
				t.Fatalf("Stats() torn %d corrupt %d; want %d, %d", st.TornTailsCut, st.CorruptSegments, tt.wantTorn, tt.wantCorrupt)
			}
			if st.Records != uint64(len(tt.wantSeqs)) {
				t.Fatalf("Records = %d; want %d", st.Records, len(tt.wantSeqs))
			}
			// Older segments are evidence: only the final one may be cut.
			var names []string
			for _, n := range segmentNames(t, dir) {
				if _, ok := parseSegmentName(n); ok {
					names = append(names, n)
				}
			}
			for _, n := range names[:len(names)-1] {
				if fi, err := os.Stat(filepath.Join(dir, "segments", n)); err != nil || fi.Size() != sizes[n] {
					t.Fatalf("non-final segment %s: Stat = %v; want size %d (unchanged)", n, err, sizes[n])
				}
			}
			c := cursorT(t, s, "sink")
			if got := drainT(t, c, 100); !slices.Equal(got, tt.wantSeqs) {
				t.Fatalf("records = %v; want %v", got, tt.wantSeqs)
			}
			if got := c.Skipped(); got != tt.wantSkipped {
				t.Fatalf("Skipped() = %d; want %d", got, tt.wantSkipped)
			}
			if seq, err := s.Append([]byte("after")); err != nil || seq != tt.wantNext {
				t.Fatalf("Append = %d, %v; want %d, nil", seq, err, tt.wantNext)
			}
			s.Close()
			s = openSpoolT(t, dir, opt)
			if got := s.Stats().TornTailsCut; got != 0 {
				t.Fatalf("TornTailsCut on second reopen = %d; want 0 (the tail was cut)", got)
			}
		})
	}
}

func TestSpoolPayloadLimit(t *testing.T) {
	tests := []struct {
		name    string
		segment int64
		size    int
		wantErr bool
	}{
		{"empty", 0, 0, false},
		{"max", 0, MaxPayload, false},
		{"over max", 0, MaxPayload + 1, true},
		{"fits small segment", 256, 256 - headerLen, false},
		{"over small segment", 256, 256 - headerLen + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpoolT(t, t.TempDir(), Options{SegmentBytes: tt.segment, MaxBytes: 64 << 20})
			_, err := s.Append(make([]byte, tt.size))
			if got := errors.Is(err, ErrPayloadTooLarge); got != tt.wantErr {
				t.Fatalf("Append(%d bytes) = %v; want ErrPayloadTooLarge %v", tt.size, err, tt.wantErr)
			}
			if !tt.wantErr {
				c := cursorT(t, s, "c")
				if recs := nextT(t, c, 1); len(recs) != 1 || len(recs[0].Payload) != tt.size {
					t.Fatalf("Next = %d records; want 1 of %d bytes", len(recs), tt.size)
				}
			}
		})
	}
}

func TestSpoolOptions(t *testing.T) {
	tests := []struct {
		name    string
		opt     Options
		wantErr string
	}{
		{"defaults", Options{}, ""},
		{"small bound derives segment", Options{MaxBytes: 4096}, ""},
		{"segment too small", Options{SegmentBytes: 10}, "below minimum"},
		{"bound below two segments", Options{MaxBytes: 1000, SegmentBytes: 600}, "at least twice"},
		{"unknown policy", Options{Sync: 7}, "unknown sync policy"},
		{"negative period", Options{SyncPeriod: -time.Second}, "negative SyncPeriod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.TempDir(), tt.opt)
			if s != nil {
				defer s.Close()
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.wantErr == "") != (err == nil) || !strings.Contains(got, tt.wantErr) {
				t.Fatalf("Open(%+v) error = %q; want containing %q", tt.opt, got, tt.wantErr)
			}
		})
	}
}

func TestSpoolCursorNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"http-collector", true},
		{"prom_rw.1", true},
		{"", false},
		{".hidden", false},
		{"../escape", false},
		{"a/b", false},
		{`a\b`, false},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"naïve", false},
	}
	s := openSpoolT(t, t.TempDir(), Options{})
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			c, err := s.Cursor(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("Cursor(%q) error = %v; want ok %v", tt.name, err, tt.ok)
			}
			if tt.ok {
				if again := cursorT(t, s, tt.name); again != c {
					t.Fatalf("Cursor(%q) twice returned different cursors; want the same", tt.name)
				}
			}
		})
	}
}

func TestSpoolCursorAheadOfData(t *testing.T) {
	// A sink acknowledged seq 100, then the records were lost (power loss
	// under SyncInterval, or a wiped segments directory): new records must
	// not reuse seqs the sink considers delivered.
	dir := t.TempDir()
	s := openSpoolT(t, dir, Options{})
	c := cursorT(t, s, "sink")
	other := cursorT(t, s, "other")
	appendT(t, s, 100, 10)
	if err := c.Ack(100); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "segments")); err != nil {
		t.Fatal(err)
	}
	s = openSpoolT(t, dir, Options{})
	if seq, err := s.Append([]byte("new")); err != nil || seq != 101 {
		t.Fatalf("Append = %d, %v; want 101, nil", seq, err)
	}
	c, other = cursorT(t, s, "sink"), cursorT(t, s, "other")
	for _, cur := range []*Cursor{c, other} {
		if got := seqs(nextT(t, cur, 10)); !slices.Equal(got, []uint64{101}) {
			t.Fatalf("%s Next = %v; want [101]", cur.Name(), got)
		}
	}
	if got := other.Skipped(); got != 100 {
		t.Fatalf("other Skipped() = %d; want 100", got)
	}
}

func TestSpoolCorruptCursorFileRedelivers(t *testing.T) {
	dir := t.TempDir()
	s := openSpoolT(t, dir, Options{})
	c := cursorT(t, s, "sink")
	appendT(t, s, 5, 10)
	if err := c.Ack(4); err != nil {
		t.Fatal(err)
	}
	s.Close()
	tests := []struct {
		name string
		data []byte
		want []uint64
	}{
		{"truncated", []byte{4, 0, 0}, seqRange(1, 5)},
		{"bad checksum", []byte{4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, seqRange(1, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "cursors", "sink"), tt.data, 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "cursors", ".sink.tmp"), []byte("half"), 0o640); err != nil {
				t.Fatal(err)
			}
			s := openSpoolT(t, dir, Options{})
			if got := seqs(nextT(t, cursorT(t, s, "sink"), 10)); !slices.Equal(got, tt.want) {
				t.Fatalf("Next = %v; want %v", got, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "cursors", ".sink.tmp")); !os.IsNotExist(err) {
				t.Fatalf("stale temporary cursor file: Stat = %v; want not exist", err)
			}
			s.Close()
		})
	}
}

func TestSpoolWait(t *testing.T) {
	tests := []struct {
		name    string
		pending bool          // a record is appended before Wait
		act     func(*Spool)  // runs 20ms into Wait
		timeout time.Duration // of Wait's context
		want    error
	}{
		{"pending returns at once", true, nil, time.Second, nil},
		{"wakes on append", false, func(s *Spool) { s.Append([]byte("x")) }, 10 * time.Second, nil},
		{"context deadline", false, nil, 50 * time.Millisecond, context.DeadlineExceeded},
		{"close", false, func(s *Spool) { s.Close() }, 10 * time.Second, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpoolT(t, t.TempDir(), Options{})
			c := cursorT(t, s, "sink")
			if tt.pending {
				appendT(t, s, 1, 10)
			}
			var wg sync.WaitGroup
			if tt.act != nil {
				wg.Go(func() {
					time.Sleep(20 * time.Millisecond)
					tt.act(s)
				})
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			err := c.Wait(ctx)
			wg.Wait()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Wait() = %v; want %v", err, tt.want)
			}
			if tt.pending && time.Since(start) > 500*time.Millisecond {
				t.Fatalf("Wait() with pending data took %v; want immediate", time.Since(start))
			}
		})
	}
}

func TestSpoolClosed(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SyncPeriod: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := cursorT(t, s, "sink")
	appendT(t, s, 3, 10)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	goleak.VerifyNone(t) // the interval syncer is gone
	ops := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { _, err := s.Append(nil); return err }},
		{"Cursor", func() error { _, err := s.Cursor("x"); return err }},
		{"Next", func() error { _, err := c.Next(1); return err }},
		{"Ack", func() error { return c.Ack(1) }},
		{"Wait", func() error { return c.Wait(context.Background()) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			if err := op.call(); !errors.Is(err, ErrClosed) {
				t.Fatalf("%s after Close = %v; want ErrClosed", op.name, err)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close() = %v; want nil", err)
	}
}

// TestSpoolConcurrent runs appenders, sinks and stats readers together; run
// it with -race. Small segments make rollover and deletion race with reads.
func TestSpoolConcurrent(t *testing.T) {
	const writers, perWriter = 3, 400
	tests := []struct {
		name string
		opt  Options
	}{
		{"interval", Options{SegmentBytes: 2048, MaxBytes: 64 << 20, SyncPeriod: time.Millisecond}},
		{"never", Options{SegmentBytes: 2048, MaxBytes: 64 << 20, Sync: SyncNever}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpoolT(t, t.TempDir(), tt.opt)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sinks := []string{"a", "b", "c"}
			errs := make(chan error, writers+len(sinks)+1)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range perWriter {
						if _, err := s.Append(fmt.Appendf(nil, "w%d-%d", w, i)); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			for _, name := range sinks {
				c := cursorT(t, s, name)
				wg.Go(func() {
					next := make([]int, writers) // per writer, the i expected next
					want := uint64(1)
					for seen := 0; seen < writers*perWriter; {
						if err := c.Wait(ctx); err != nil {
							errs <- fmt.Errorf("sink %s after %d records: %w", name, seen, err)
							return
						}
						recs, err := c.Next(50)
						if err != nil {
							errs <- err
							return
						}
						for _, r := range recs {
							var w, i int
							if _, err := fmt.Sscanf(string(r.Payload), "w%d-%d", &w, &i); err != nil || r.Seq != want || i != next[w] {
								errs <- fmt.Errorf("sink %s: got seq %d payload %q; want seq %d and w%d-%d in order", name, r.Seq, r.Payload, want, w, next[w])
								return
							}
							next[w]++
							want++
							seen++
						}
						if len(recs) > 0 {
							if err := c.Ack(recs[len(recs)-1].Seq); err != nil {
								errs <- err
								return
							}
						}
					}
				})
			}
			wg.Go(func() {
				for ctx.Err() == nil && s.Stats().LastSeq < writers*perWriter {
					time.Sleep(time.Millisecond)
				}
			})
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			st := s.Stats()
			if st.LastSeq != writers*perWriter || st.DroppedTotal != 0 || st.Segments != 1 {
				t.Fatalf("Stats() = %+v; want LastSeq %d, nothing dropped, 1 segment left", st, writers*perWriter)
			}
		})
	}
}
