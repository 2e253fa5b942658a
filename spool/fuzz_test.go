package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzSpoolDecode feeds arbitrary bytes to the frame decoder and to Open
// as a segment file: nothing may panic, and open must succeed, cutting a bad
// final segment to its valid prefix and never rewriting an older one.
func FuzzSpoolDecode(f *testing.F) {
	var valid []byte
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for seq := uint64(1); seq <= 3; seq++ {
		valid = encodeFrame(valid, seq, t0, spoolTestPayload(seq, 40))
	}
	flipped := bytes.Clone(valid)
	flipped[headerLen+64+3] ^= 0x10
	huge := bytes.Clone(valid[:headerLen])
	huge[3] = 0xff
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add(flipped)
	f.Add(huge)
	f.Add(make([]byte, 100))
	f.Add([]byte{})
	f.Add(encodeFrame(nil, 2, t0, []byte("wrong first seq")))

	f.Fuzz(func(t *testing.T, data []byte) {
		// The decoder alone: it consumes whole frames and stops.
		var dec frameDecoder
		dec.reset(bytes.NewReader(data), int64(len(data)))
		var consumed int64
		for range len(data)/headerLen + 1 {
			_, _, _, n, err := dec.next()
			if err == io.EOF || errors.Is(err, errBadFrame) {
				break
			}
			if err != nil {
				t.Fatalf("next() = %v; want only EOF or bad frame on in-memory input", err)
			}
			consumed += n
		}
		if consumed > int64(len(data)) {
			t.Fatalf("decoded %d bytes from %d", consumed, len(data))
		}

		// As the final segment.
		dir := t.TempDir()
		segDir := filepath.Join(dir, "segments")
		if err := os.MkdirAll(segDir, 0o750); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(segDir, segName(1))
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		opt := Options{Sync: SyncNever}
		s, err := Open(dir, opt)
		if err != nil {
			t.Fatalf("Open = %v; want nil", err)
		}
		st := s.Stats()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != st.Bytes || (st.TornTailsCut == 0) != (fi.Size() == int64(len(data))) {
			t.Fatalf("segment %d bytes of %d, Stats %+v; want Bytes = size and a cut exactly when shorter", fi.Size(), len(data), st)
		}
		c, err := s.Cursor("fuzz")
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(1)
		for range st.Records + 1 {
			recs, err := c.Next(16)
			if err != nil {
				t.Fatalf("Next = %v", err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if r.Seq != want {
					t.Fatalf("seq %d; want %d", r.Seq, want)
				}
				want++
			}
			if err := c.Ack(recs[len(recs)-1].Seq); err != nil {
				t.Fatal(err)
			}
		}
		if want-1 != st.Records || st.LastSeq != st.Records {
			t.Fatalf("read %d records, Stats %+v; want all of them, 1..LastSeq", want-1, st)
		}
		if seq, err := s.Append([]byte("next")); err != nil || seq != st.LastSeq+1 {
			t.Fatalf("Append = %d, %v; want %d, nil", seq, err, st.LastSeq+1)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		// As an older segment: skipped past, never modified.
		dir = t.TempDir()
		segDir = filepath.Join(dir, "segments")
		if err := os.MkdirAll(segDir, 0o750); err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(segDir, segName(1))
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(segDir, segName(1000)), nil, 0o640); err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir, opt)
		if err != nil {
			t.Fatalf("Open with older segment = %v; want nil", err)
		}
		if seq, err := s.Append([]byte("next")); err != nil || seq != 1000 {
			t.Fatalf("Append = %d, %v; want 1000, nil", seq, err)
		}
		readable := s.Stats().Records > 1
		s.Close()
		// With nothing readable left, the segment is deleted like any other
		// empty one; otherwise it must be byte for byte what it was.
		got, err := os.ReadFile(path)
		if readable && (err != nil || !bytes.Equal(got, data)) || !readable && err == nil && !bytes.Equal(got, data) {
			t.Fatalf("older segment changed by open (err %v, readable %v); want untouched", err, readable)
		}
	})
}
