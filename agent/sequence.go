package agent

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sequenceBlock is how many record ids are reserved per write of the sequence file: one fsync per
// 1024 records instead of one per record. A crash loses at most the unused rest of a block — a gap
// in the ids, never a repeat, which is all a collector de-duplicating by id needs.
const sequenceBlock = 1024

// Sequence hands out record sequence numbers that stay unique across restarts and crashes.
type Sequence struct {
	mu       sync.Mutex
	path     string
	next     uint64
	reserved uint64 // numbers below this are reserved on disk
}

// OpenSequence reads (or starts) the sequence kept in dir/sequence.
func OpenSequence(dir string) (*Sequence, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sequence: %w", err)
	}
	s := &Sequence{path: filepath.Join(dir, "sequence")}
	b, err := os.ReadFile(s.path)
	switch {
	case os.IsNotExist(err):
		s.next = 1
	case err != nil:
		return nil, fmt.Errorf("sequence: %w", err)
	default:
		n, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("sequence: %s holds %q, not a number: remove it to start again", s.path, truncate(string(b), 20))
		}
		s.next = n
	}
	s.reserved = s.next
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ClockSequence hands out numbers from now in microseconds on, one by one, and keeps nothing on
// disk: for an agent without a usable state directory that nothing else needs (no push sink).
// Its ids stay unique across restarts as long as the agent makes fewer than a million records a
// second and the clock does not go back.
func ClockSequence(now time.Time) *Sequence {
	n := uint64(max(now.UnixMicro(), 1))
	return &Sequence{next: n, reserved: math.MaxUint64}
}

// Next returns the next number, reserving a new block on disk first when the current one is used up.
func (s *Sequence) Next() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path != "" && s.next >= s.reserved {
		if err := s.reserve(s.next + sequenceBlock); err != nil {
			return 0, err
		}
	}
	n := s.next
	s.next++
	return n, nil
}

// reserve durably records that every number below upto is taken: write, fsync, rename.
func (s *Sequence) reserve(upto uint64) error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("sequence: %w", err)
	}
	_, err = f.WriteString(strconv.FormatUint(upto, 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		return fmt.Errorf("sequence: reserve: %w", err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	s.reserved = upto
	return nil
}
