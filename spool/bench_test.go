package spool

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// spoolResultSize is a typical JSON probe result.
const spoolResultSize = 300

func BenchmarkSpoolAppend(b *testing.B) {
	for _, policy := range []SyncPolicy{SyncEveryAppend, SyncInterval, SyncNever} {
		b.Run(policy.String(), func(b *testing.B) {
			s := openSpoolT(b, b.TempDir(), Options{Sync: policy})
			payload := spoolTestPayload(1, spoolResultSize)
			b.SetBytes(spoolResultSize)
			n := 0
			for b.Loop() {
				if _, err := s.Append(payload); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "results/s")
		})
	}
}

// BenchmarkSpoolReplay measures a sink catching up on 100k spooled results:
// Next in batches of 1000 and an Ack per batch. With the default policy each
// Ack fsyncs the cursor file and its directory; under SyncNever the figure
// is the read and decode path alone.
func BenchmarkSpoolReplay(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	s := openSpoolT(b, dir, Options{Sync: SyncNever})
	appendT(b, s, n, spoolResultSize)
	s.Close()
	cursors := 0 // names must be new on every run: -count reruns share dir
	for _, policy := range []SyncPolicy{SyncInterval, SyncNever} {
		b.Run(policy.String(), func(b *testing.B) {
			s := openSpoolT(b, dir, Options{Sync: policy})
			defer s.Close()
			total := 0
			for b.Loop() {
				cursors++
				c := cursorT(b, s, "replay-"+strconv.Itoa(cursors))
				for range n { // bound; ends at the first empty batch
					recs := nextT(b, c, 1000)
					if len(recs) == 0 {
						break
					}
					total += len(recs)
					if err := c.Ack(recs[len(recs)-1].Seq); err != nil {
						b.Fatal(err)
					}
				}
				if got := c.Acked(); got != n {
					b.Fatalf("replayed up to %d; want %d", got, n)
				}
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "results/s")
		})
	}
}

// BenchmarkSpoolRecovery measures Open on 100k results left by a child
// process killed with SIGKILL, with a torn frame at the tail to cut each time.
func BenchmarkSpoolRecovery(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	lines := spoolRunHelper(b, dir, []string{spoolHelperFillEnv + "=" + strconv.Itoa(n)}, 0)
	if len(lines) != 1 || lines[0] != "filled" {
		b.Fatalf("helper printed %q; want [filled]", lines)
	}
	last, _ := spoolLastSegment(b, dir)
	torn := encodeFrame(nil, n+1, time.Now(), spoolTestPayload(n+1, spoolResultSize))[:headerLen+100]
	iters := 0
	for b.Loop() {
		b.StopTimer()
		f, err := os.OpenFile(filepath.Join(dir, "segments", last), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(torn); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.StartTimer()

		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		if st := s.Stats(); st.Records != n || st.TornTailsCut != 1 {
			b.Fatalf("Stats() = %+v; want %d records and 1 torn tail cut", st, n)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		iters++
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(iters), "ms/reopen")
	b.ReportMetric(float64(n*iters)/b.Elapsed().Seconds(), "records/s")
}
