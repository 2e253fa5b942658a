package spool

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// On-disk layout (see docs/spool.md):
//
//	<dir>/segments/<first seq, 20 digits>.seg   append-only record frames
//	<dir>/cursors/<sink name>                   acknowledged seq of one sink
//
// A frame is a 24-byte little-endian header followed by the payload:
//
//	[0:4)   payload length
//	[4:8)   CRC-32C over [0:4) and [8:24+length)
//	[8:16)  sequence number
//	[16:24) append time, Unix nanoseconds
//
// The length is inside the checksum so that a torn or zero-filled header
// can never pass as a valid empty record.
const headerLen = 24

// MaxPayload is the largest payload Append accepts (a smaller
// SegmentBytes lowers it further). Results are small JSON documents; anything
// near this size is a bug upstream, not data worth keeping.
const MaxPayload = 1 << 20

const (
	defaultMaxBytes   = 128 << 20
	defaultSegment    = 4 << 20
	minSegment        = 64
	defaultMaxAge     = 24 * time.Hour
	defaultSyncPeriod = time.Second
	segmentSuffix     = ".seg"
	readBuffer        = 64 << 10
	// readBufferMin is the least read buffer: a cursor that keeps up reads a few records at a
	// time, and its decoder, which lives as long as the cursor, keeps no more than that needs.
	readBufferMin = 4 << 10
	// ageRollDivisor bounds how long a segment stays active, so that
	// MaxAge, which can only delete whole segments, is honoured within
	// MaxAge/ageRollDivisor even when results arrive slowly.
	ageRollDivisor = 16
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("spool: closed")
	// ErrPayloadTooLarge is returned by Append for oversized payloads.
	ErrPayloadTooLarge = errors.New("spool: payload too large")

	// errBadFrame marks bytes that do not form a whole frame with a
	// good checksum: a torn write or corruption.
	errBadFrame = errors.New("spool: bad frame")
)

// SyncPolicy says when appended records are fsynced. Every policy writes the
// record to the kernel before Append returns, so a killed process loses
// nothing; the policies differ only in what survives a power loss or kernel
// crash.
type SyncPolicy int

const (
	// SyncInterval fsyncs the active segment every SyncPeriod when it has
	// new data. It is the default (the zero value).
	SyncInterval SyncPolicy = iota
	// SyncEveryAppend fsyncs before Append returns.
	SyncEveryAppend
	// SyncNever leaves write-back to the operating system.
	SyncNever
)

func (p SyncPolicy) String() string {
	switch p {
	case SyncInterval:
		return "interval"
	case SyncEveryAppend:
		return "every-append"
	case SyncNever:
		return "never"
	}
	return "SyncPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Options configures Open. Zero fields take defaults.
type Options struct {
	// MaxBytes bounds the segment bytes on disk (default 128 MiB). When an
	// Append would exceed it, the oldest segments are dropped and counted.
	MaxBytes int64
	// MaxAge drops segments whose newest record is older than this
	// (default 24h; negative disables the age bound).
	MaxAge time.Duration
	// SegmentBytes is the size at which a new segment is started
	// (default min(4 MiB, MaxBytes/8)). MaxBytes must be at least twice it.
	SegmentBytes int64
	// Sync is the fsync policy (default SyncInterval).
	Sync SyncPolicy
	// SyncPeriod is the SyncInterval period (default 1s).
	SyncPeriod time.Duration

	now func() time.Time // test hook; time.Now when nil
}

func (o Options) normalize() (Options, error) {
	if o.MaxBytes == 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = max(minSegment, min(defaultSegment, o.MaxBytes/8))
	}
	if o.MaxAge == 0 {
		o.MaxAge = defaultMaxAge
	}
	if o.SyncPeriod == 0 {
		o.SyncPeriod = defaultSyncPeriod
	}
	if o.now == nil {
		o.now = time.Now
	}
	switch {
	case o.SegmentBytes < minSegment:
		return o, fmt.Errorf("spool: options: SegmentBytes %d below minimum %d", o.SegmentBytes, minSegment)
	case o.MaxBytes < 2*o.SegmentBytes:
		// Dropping works on whole segments; with less than two segments of
		// room the newest record could not be kept.
		return o, fmt.Errorf("spool: options: MaxBytes %d must be at least twice SegmentBytes %d", o.MaxBytes, o.SegmentBytes)
	case o.Sync < SyncInterval || o.Sync > SyncNever:
		return o, fmt.Errorf("spool: options: unknown sync policy %v", o.Sync)
	case o.SyncPeriod < 0:
		return o, fmt.Errorf("spool: options: negative SyncPeriod %v", o.SyncPeriod)
	}
	return o, nil
}

// Record is one appended payload.
type Record struct {
	Seq     uint64
	Time    time.Time // when it was appended
	Payload []byte
}

// Stats is a snapshot of the spool's counters.
type Stats struct {
	Records         uint64 // readable records on disk
	Bytes           int64  // segment bytes on disk, counted against MaxBytes
	Segments        int
	DroppedTotal    uint64 // records removed by MaxBytes/MaxAge before every cursor acknowledged them
	FirstSeq        uint64 // oldest readable record, 0 when empty
	LastSeq         uint64 // newest appended record, 0 when none ever
	TornTailsCut    uint64 // final segments truncated at open after a torn or corrupt tail
	CorruptSegments uint64 // non-final segments whose rest was skipped after corruption
	SyncErrors      uint64 // failed background fsyncs (SyncInterval); retried next period
}

// segmentFile is the in-memory index entry of one segment file.
type segmentFile struct {
	path     string
	firstSeq uint64    // from the file name: the seq its first record has
	lastSeq  uint64    // last readable record; firstSeq-1 while empty
	size     int64     // bytes on disk
	end      int64     // readable prefix; below size only after corruption
	oldest   time.Time // first record's time, for rolling by age
	newest   time.Time // newest record's time, for MaxAge
	corrupt  bool      // no more appends: bytes past end are unreadable
	removed  bool      // deleted; cursor hints into it are stale
}

func (g *segmentFile) records() uint64 {
	if g.lastSeq < g.firstSeq {
		return 0
	}
	return g.lastSeq - g.firstSeq + 1
}

// Spool is a durable, bounded, append-only queue of records with one
// persistent cursor per sink. All methods are safe for concurrent use.
type Spool struct {
	segDir, curDir string
	opt            Options
	maxPayload     int

	// wmu serialises writers (Append, the interval syncer, Close) so that
	// fsyncs never run under mu and readers are not held up by the disk.
	wmu    sync.Mutex
	active *os.File // file of segs[len(segs)-1]
	dirty  bool     // active has unsynced writes
	frame  []byte   // encode scratch

	mu          sync.Mutex
	segs        []*segmentFile // ascending; the last one is active
	bytes       int64
	cursors     map[string]*Cursor
	nextSeq     uint64 // seq the next Append gets
	lastSeq     uint64 // newest published seq
	dropped     uint64
	tornCut     uint64
	corrupt     uint64
	syncErrors  uint64
	notify      chan struct{} // closed on publish; nil without waiters
	closed      bool
	unlinkRetry []string // removals that failed, retried with the next ones

	done chan struct{} // closed by Close; stops the syncer and waiters
	wg   sync.WaitGroup
}

// Open opens or creates the spool in dir. A torn or corrupt tail of
// the last segment is cut; corruption inside an older segment skips the
// rest of that segment. Both are counted in Stats, never fatal.
func Open(dir string, opt Options) (*Spool, error) {
	opt, err := opt.normalize()
	if err != nil {
		return nil, err
	}
	s := &Spool{
		segDir:     filepath.Join(dir, "segments"),
		curDir:     filepath.Join(dir, "cursors"),
		opt:        opt,
		maxPayload: int(min(MaxPayload, opt.SegmentBytes-headerLen)),
		cursors:    map[string]*Cursor{},
		done:       make(chan struct{}),
	}
	for _, d := range []string{s.segDir, s.curDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("spool: open %s: %w", d, err)
		}
	}
	if err := s.loadSegments(); err != nil {
		return nil, err
	}
	if err := s.loadCursors(); err != nil {
		s.closeActive()
		return nil, err
	}
	// Continue after the newest record on disk, but never behind a cursor:
	// if records a sink acknowledged were lost (power loss under
	// SyncInterval), reusing their seqs would make that sink skip new data.
	last := s.segs[len(s.segs)-1]
	s.nextSeq = max(1, last.lastSeq+1)
	for _, c := range s.cursors {
		s.nextSeq = max(s.nextSeq, c.acked+1)
	}
	s.lastSeq = s.nextSeq - 1

	s.mu.Lock()
	gone := s.trimLocked(opt.now(), 0)
	s.mu.Unlock()
	s.removeFiles(gone)

	if opt.Sync == SyncInterval {
		s.wg.Add(1)
		go s.syncLoop()
	}
	return s, nil
}

// loadSegments indexes the segment files, cuts a torn tail off the last one
// and opens it for appending.
func (s *Spool) loadSegments() error {
	ents, err := os.ReadDir(s.segDir)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w", s.segDir, err)
	}
	for _, e := range ents {
		seq, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue // not ours; leave it alone
		}
		s.segs = append(s.segs, &segmentFile{path: filepath.Join(s.segDir, e.Name()), firstSeq: seq, lastSeq: seq - 1})
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].firstSeq < s.segs[j].firstSeq })

	var dec frameDecoder
	for i, g := range s.segs {
		final := i == len(s.segs)-1
		maxSeq := uint64(math.MaxUint64)
		if !final {
			maxSeq = s.segs[i+1].firstSeq - 1
		}
		flag := os.O_RDONLY
		if final {
			flag = os.O_RDWR
		}
		f, err := os.OpenFile(g.path, flag, 0)
		if err != nil {
			s.closeActive()
			return fmt.Errorf("spool: open segment %s: %w", g.path, err)
		}
		bad, err := scanSegment(f, g, maxSeq, &dec)
		if err == nil && bad && final {
			// A torn tail is the expected result of a crash mid-write.
			// Cutting it lets appends continue at a frame boundary.
			err = f.Truncate(g.end)
			if err == nil && s.opt.Sync != SyncNever {
				err = f.Sync()
			}
			g.size = g.end
			s.tornCut++
		} else if bad {
			// Nothing after the corruption can be trusted or framed; keep
			// the file for inspection and read only its valid prefix.
			g.corrupt = true
			s.corrupt++
		}
		if err != nil {
			f.Close()
			s.closeActive()
			return fmt.Errorf("spool: open segment %s: %w", g.path, err)
		}
		s.bytes += g.size
		if final {
			s.active = f
		} else {
			f.Close()
		}
	}
	if len(s.segs) > 0 {
		return nil
	}
	f, g, err := s.createSegment(1)
	if err != nil {
		return err
	}
	s.active = f
	s.segs = append(s.segs, g)
	return nil
}

// parseSegmentName returns the first seq encoded in a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || seq == 0 {
		return 0, false // seq 0 is never assigned
	}
	return seq, true
}

// scanSegment validates g's frames from the start, filling in its index
// entry. bad reports bytes after the last valid frame; a non-nil error is an
// I/O failure, not corruption.
func scanSegment(f *os.File, g *segmentFile, maxSeq uint64, dec *frameDecoder) (bad bool, err error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	g.size = fi.Size()
	dec.reset(io.NewSectionReader(f, 0, g.size), g.size)
	expect := g.firstSeq
	// Each frame consumes at least headerLen bytes of a finite file.
	for {
		seq, nanos, _, n, err := dec.next()
		if err == io.EOF {
			return false, nil
		}
		if errors.Is(err, errBadFrame) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if seq != expect || seq > maxSeq {
			return true, nil // a frame from elsewhere, or overlapping the next segment
		}
		t := time.Unix(0, nanos)
		if expect == g.firstSeq {
			g.oldest = t
		}
		if t.After(g.newest) {
			g.newest = t
		}
		g.end += n
		g.lastSeq = seq
		expect++
	}
}

// frameDecoder reads frames from one segment section.
type frameDecoder struct {
	r       *bufio.Reader
	remain  int64 // unread bytes; stops garbage lengths from allocating
	hdr     [headerLen]byte
	payload []byte
}

// reset starts reading size bytes from r. The read buffer fits the section, from
// readBufferMin up to readBuffer in powers of two, and only grows.
func (d *frameDecoder) reset(r io.Reader, size int64) {
	want := readBufferMin
	for int64(want) < size && want < readBuffer {
		want *= 2
	}
	if d.r == nil || d.r.Size() < want {
		d.r = bufio.NewReaderSize(r, want)
	} else {
		d.r.Reset(r)
	}
	d.remain = size
}

// next decodes one frame and returns its size n. It returns io.EOF at a clean
// end and errBadFrame when the bytes do not form a whole frame with a
// good checksum. The payload aliases the decoder's buffer until the next call.
func (d *frameDecoder) next() (seq uint64, nanos int64, payload []byte, n int64, err error) {
	if d.remain == 0 {
		return 0, 0, nil, 0, io.EOF
	}
	if d.remain < headerLen {
		return 0, 0, nil, 0, errBadFrame
	}
	if _, err := io.ReadFull(d.r, d.hdr[:]); err != nil {
		return 0, 0, nil, 0, readErr(err)
	}
	size := binary.LittleEndian.Uint32(d.hdr[0:4])
	n = headerLen + int64(size)
	if size > MaxPayload || n > d.remain {
		return 0, 0, nil, 0, errBadFrame
	}
	if cap(d.payload) < int(size) {
		d.payload = make([]byte, size)
	}
	payload = d.payload[:size]
	if _, err := io.ReadFull(d.r, payload); err != nil {
		return 0, 0, nil, 0, readErr(err)
	}
	crc := crc32.Update(0, crcTable, d.hdr[0:4])
	crc = crc32.Update(crc, crcTable, d.hdr[8:])
	crc = crc32.Update(crc, crcTable, payload)
	if crc != binary.LittleEndian.Uint32(d.hdr[4:8]) {
		return 0, 0, nil, 0, errBadFrame
	}
	d.remain -= n
	seq = binary.LittleEndian.Uint64(d.hdr[8:16])
	nanos = int64(binary.LittleEndian.Uint64(d.hdr[16:24]))
	return seq, nanos, payload, n, nil
}

// readErr maps a short read (the file shrank under us) to a bad frame.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errBadFrame
	}
	return err
}

// encodeFrame appends the frame for one record to dst.
func encodeFrame(dst []byte, seq uint64, t time.Time, payload []byte) []byte {
	var hdr [headerLen]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(hdr[8:16], seq)
	binary.LittleEndian.PutUint64(hdr[16:24], uint64(t.UnixNano()))
	crc := crc32.Update(0, crcTable, hdr[0:4])
	crc = crc32.Update(crc, crcTable, hdr[8:])
	crc = crc32.Update(crc, crcTable, payload)
	binary.LittleEndian.PutUint32(hdr[4:8], crc)
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// createSegment creates the empty segment whose first record will be seq.
// The directory is synced so that records fsynced into the file cannot be
// lost with a directory entry that never reached the disk.
func (s *Spool) createSegment(seq uint64) (*os.File, *segmentFile, error) {
	path := filepath.Join(s.segDir, fmt.Sprintf("%020d%s", seq, segmentSuffix))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("spool: create segment %s: %w", path, err)
	}
	if s.opt.Sync != SyncNever {
		if err := syncDir(s.segDir); err != nil {
			f.Close()
			os.Remove(path)
			return nil, nil, fmt.Errorf("spool: create segment %s: %w", path, err)
		}
	}
	return f, &segmentFile{path: path, firstSeq: seq, lastSeq: seq - 1}, nil
}

// syncDir makes creations, renames and removals in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; NTFS journals metadata
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Spool) closeActive() {
	if s.active != nil {
		s.active.Close()
		s.active = nil
	}
}

// Append stores payload and returns its sequence number. When it returns,
// the record is written to the kernel, and with SyncEveryAppend also
// fsynced. Append never fails because the spool is full: the oldest
// segments are dropped and counted instead.
func (s *Spool) Append(payload []byte) (uint64, error) {
	if len(payload) > s.maxPayload {
		return 0, fmt.Errorf("spool: append %d bytes (max %d): %w", len(payload), s.maxPayload, ErrPayloadTooLarge)
	}
	frameLen := int64(headerLen + len(payload))

	s.wmu.Lock()
	defer s.wmu.Unlock()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	now := s.opt.now()
	seq := s.nextSeq
	act := s.segs[len(s.segs)-1]
	roll := act.corrupt || act.lastSeq+1 != seq ||
		(act.size > 0 && act.size+frameLen > s.opt.SegmentBytes) ||
		(s.opt.MaxAge > 0 && act.records() > 0 && now.Sub(act.oldest) >= s.opt.MaxAge/ageRollDivisor)
	s.mu.Unlock()

	if roll {
		if err := s.roll(seq); err != nil {
			return 0, err
		}
	}

	s.mu.Lock()
	gone := s.trimLocked(now, frameLen)
	act = s.segs[len(s.segs)-1]
	off := act.size
	s.mu.Unlock()
	s.removeFiles(gone)

	// WriteAt at the indexed end rather than O_APPEND: a failed, partial
	// write is then overwritten by the next attempt instead of leaving
	// garbage in front of it.
	s.frame = encodeFrame(s.frame[:0], seq, now, payload)
	if _, err := s.active.WriteAt(s.frame, off); err != nil {
		return 0, fmt.Errorf("spool: append seq %d to %s: %w", seq, act.path, err)
	}
	if s.opt.Sync == SyncEveryAppend {
		if err := s.active.Sync(); err != nil {
			return 0, fmt.Errorf("spool: sync segment %s: %w", act.path, err)
		}
	} else {
		s.dirty = true
	}

	s.mu.Lock()
	act.size = off + frameLen
	s.bytes += frameLen
	if !act.corrupt {
		act.end = act.size
		act.lastSeq = seq
		if seq == act.firstSeq {
			act.oldest = now
		}
		if now.After(act.newest) {
			act.newest = now
		}
	}
	s.nextSeq = seq + 1
	s.lastSeq = seq
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
	s.mu.Unlock()
	return seq, nil
}

// roll seals the active segment and starts one whose first record is seq.
// The caller holds wmu.
func (s *Spool) roll(seq uint64) error {
	if s.opt.Sync != SyncNever && s.dirty {
		// Sealed segments must be durable: the interval syncer only looks
		// after the active file.
		if err := s.active.Sync(); err != nil {
			return fmt.Errorf("spool: sync segment %s: %w", s.active.Name(), err)
		}
	}
	f, g, err := s.createSegment(seq)
	if err != nil {
		return err
	}
	// The old file is synced (or SyncNever accepts the loss); a close error
	// has nothing left to report.
	s.active.Close()
	s.active = f
	s.dirty = false
	s.mu.Lock()
	s.segs = append(s.segs, g)
	s.mu.Unlock()
	return nil
}

// trimLocked drops the oldest sealed segments that every cursor has passed,
// that are empty, or that the byte (with incoming more bytes) or age bound
// forces out. It returns the files to remove. The caller holds mu.
func (s *Spool) trimLocked(now time.Time, incoming int64) []string {
	minAcked, haveCursors := uint64(math.MaxUint64), false
	for _, c := range s.cursors {
		minAcked, haveCursors = min(minAcked, c.acked), true
	}
	var gone []string
	// Never the active segment: it is the writer's. Bounded by len(segs).
	for len(s.segs) > 1 {
		g := s.segs[0]
		n := g.records()
		delivered := haveCursors && g.lastSeq <= minAcked
		overBytes := s.bytes+incoming > s.opt.MaxBytes
		expired := s.opt.MaxAge > 0 && n > 0 && now.Sub(g.newest) > s.opt.MaxAge
		if n > 0 && !delivered && !overBytes && !expired {
			break
		}
		if n > 0 && !delivered {
			// Count only what some cursor has not acknowledged; without
			// cursors everything is undelivered, kept for sinks to come.
			from := g.firstSeq - 1
			if haveCursors {
				from = max(minAcked, from)
			}
			s.dropped += g.lastSeq - from
		}
		g.removed = true
		s.bytes -= g.size
		gone = append(gone, g.path)
		s.segs[0] = nil
		s.segs = s.segs[1:]
	}
	return gone
}

// removeFiles deletes dropped segment files outside mu. Failures (a reader
// on Windows still has the file open) are retried with the next removal.
func (s *Spool) removeFiles(paths []string) {
	s.mu.Lock()
	paths = append(paths, s.unlinkRetry...)
	s.unlinkRetry = nil
	s.mu.Unlock()
	if len(paths) == 0 {
		return
	}
	var failed []string
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed = append(failed, p)
		}
	}
	if s.opt.Sync != SyncNever {
		// Best effort: a removal lost in a crash brings back records that
		// were delivered or dropped, and reopening handles both.
		_ = syncDir(s.segDir)
	}
	if len(failed) > 0 {
		s.mu.Lock()
		s.unlinkRetry = append(s.unlinkRetry, failed...)
		s.mu.Unlock()
	}
}

// syncLoop implements SyncInterval; it exits when Close closes done.
func (s *Spool) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opt.SyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.wmu.Lock()
			if s.dirty && s.active != nil {
				if err := s.active.Sync(); err != nil {
					s.mu.Lock()
					s.syncErrors++
					s.mu.Unlock()
				} else {
					s.dirty = false
				}
			}
			s.wmu.Unlock()
		}
	}
}

// Stats returns a snapshot of the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Bytes:           s.bytes,
		Segments:        len(s.segs),
		DroppedTotal:    s.dropped,
		LastSeq:         s.lastSeq,
		TornTailsCut:    s.tornCut,
		CorruptSegments: s.corrupt,
		SyncErrors:      s.syncErrors,
	}
	for _, g := range s.segs {
		n := g.records()
		if n > 0 && st.FirstSeq == 0 {
			st.FirstSeq = g.firstSeq
		}
		st.Records += n
	}
	return st
}

// Close syncs (unless SyncNever) and closes the active segment and stops the
// background syncer. Blocked Wait calls return ErrClosed.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.wg.Wait()

	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err error
	if s.dirty && s.opt.Sync != SyncNever {
		if serr := s.active.Sync(); serr != nil {
			err = fmt.Errorf("spool: sync segment %s: %w", s.active.Name(), serr)
		}
	}
	if cerr := s.active.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("spool: close segment %s: %w", s.active.Name(), cerr)
	}
	s.active = nil
	return err
}

// Cursor is one sink's position in the spool: everything up to Acked
// is delivered. Next and Ack are meant for a single sink goroutine but are
// safe for concurrent use.
type Cursor struct {
	s          *Spool
	name, path string

	mu    sync.Mutex   // serialises Next and Ack of this cursor
	hints [2]position  // start and end of the last batch, to avoid rescans
	dec   frameDecoder // read buffers, reused across Next calls

	// acked and skip are guarded by s.mu, because trimming reads every
	// cursor, and change only while mu is held too.
	acked uint64
	skip  uint64
}

// position is the offset of the frame with seq inside seg.
type position struct {
	seg *segmentFile
	off int64
	seq uint64
}

// validCursorName keeps names usable as plain file names on every OS.
func validCursorName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' {
		return false // a leading dot is reserved for temporary files
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// loadCursors reads the persisted cursors so that segments are kept for
// sinks that have not asked for their cursor yet in this run.
func (s *Spool) loadCursors() error {
	ents, err := os.ReadDir(s.curDir)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w", s.curDir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(s.curDir, name)) // an interrupted Ack
			continue
		}
		if !validCursorName(name) || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(s.curDir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("spool: read cursor %s: %w", path, err)
		}
		// An unreadable cursor restarts at zero: delivering twice is
		// better than losing records.
		var acked uint64
		if len(b) == 12 && crc32.Checksum(b[:8], crcTable) == binary.LittleEndian.Uint32(b[8:]) {
			acked = binary.LittleEndian.Uint64(b[:8])
		}
		s.cursors[name] = &Cursor{s: s, name: name, path: path, acked: acked}
	}
	return nil
}

// writeCursor persists acked atomically: write a temporary file, sync it,
// rename it over the old one and sync the directory.
func (s *Spool) writeCursor(name string, acked uint64) error {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], acked)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], crcTable))
	path := filepath.Join(s.curDir, name)
	tmp := filepath.Join(s.curDir, "."+name+".tmp")
	sync := s.opt.Sync != SyncNever
	err := func() error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return err
		}
		_, err = f.Write(b[:])
		if err == nil && sync {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err == nil && sync {
			err = syncDir(s.curDir)
		}
		return err
	}()
	if err != nil {
		return fmt.Errorf("spool: write cursor %s: %w", path, err)
	}
	return nil
}

// Cursor returns the cursor of the named sink, creating and persisting it
// at the oldest record still spooled when it does not exist. Names are 1-64
// characters of [A-Za-z0-9._-] and do not start with a dot. Calls with the
// same name return the same cursor.
func (s *Spool) Cursor(name string) (*Cursor, error) {
	if !validCursorName(name) {
		return nil, fmt.Errorf("spool: cursor %q: invalid name", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if c, ok := s.cursors[name]; ok {
		return c, nil
	}
	acked := s.lastSeq
	for _, g := range s.segs {
		if g.records() > 0 {
			acked = g.firstSeq - 1
			break
		}
	}
	// Persist before registering, so that a restart keeps protecting this
	// sink's records. Under mu: it happens once per sink and run.
	if err := s.writeCursor(name, acked); err != nil {
		return nil, err
	}
	c := &Cursor{s: s, name: name, path: filepath.Join(s.curDir, name), acked: acked}
	s.cursors[name] = c
	return c, nil
}

// Name returns the sink name the cursor was opened with.
func (c *Cursor) Name() string { return c.name }

// Acked returns the acknowledged position: every record ≤ Acked is done.
func (c *Cursor) Acked() uint64 {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.acked
}

// LastSeq is the sequence number of the spool's newest record (0 when none was ever appended).
func (c *Cursor) LastSeq() uint64 { return c.s.Stats().LastSeq }

// Skipped returns how many records this cursor stepped over in this run
// because they were dropped by the byte or age bound, or lost to corruption,
// before it acknowledged them.
func (c *Cursor) Skipped() uint64 {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.skip
}

// Next returns up to max records after the acknowledged position, in order
// and with contiguous seqs. Until Ack moves the position, Next returns the
// same records again, which is how a sink retries a failed push. When
// records after the position are gone (dropped by a bound or lost to
// corruption) the cursor moves past them and Skipped grows. An empty result
// means nothing is pending; use Wait to block for more.
func (c *Cursor) Next(max int) ([]Record, error) {
	if max <= 0 {
		return nil, fmt.Errorf("spool: next %s: max %d must be positive", c.name, max)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s

	var out []Record
	var first, after position
	// Each round reads one segment and the next round starts in a later one,
	// so the segments present at the start bound the rounds; segments added
	// meanwhile are left for the next call.
	s.mu.Lock()
	rounds := len(s.segs) + 1
	s.mu.Unlock()
	for ; rounds > 0 && len(out) < max; rounds-- {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		want := c.acked + 1
		if len(out) > 0 {
			want = out[len(out)-1].Seq + 1
		}
		g := s.findLocked(want)
		if g == nil {
			if len(out) == 0 && s.lastSeq > c.acked {
				// Everything after the position is gone; step over it so
				// that Wait blocks instead of spinning.
				c.skip += s.lastSeq - c.acked
				c.acked = s.lastSeq
			}
			s.mu.Unlock()
			break
		}
		if g.firstSeq > want {
			if len(out) > 0 {
				s.mu.Unlock()
				break // end the batch at the gap; the next call steps over it
			}
			c.skip += g.firstSeq - want
			c.acked = g.firstSeq - 1
			want = g.firstSeq
		}
		pos := position{seg: g, seq: g.firstSeq}
		for _, h := range c.hints {
			if h.seg == g && h.seq <= want && h.seq > pos.seq && h.off <= g.end {
				pos = h
			}
		}
		end := g.end
		// Open under mu so the file cannot be removed before we hold it;
		// reading happens without the lock and survives a later removal.
		f, err := os.Open(g.path)
		s.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("spool: open segment %s: %w", g.path, err)
		}
		n0 := len(out)
		var bad bool
		out, first, after, bad, err = c.readSegment(f, pos, end, want, max, out, first)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("spool: read segment %s: %w", g.path, err)
		}
		if bad {
			s.markCorrupt(g, after)
		}
		if len(out) == n0 && !bad {
			break // defensive: no progress means the index and file disagree
		}
	}
	if len(out) > 0 {
		c.hints = [2]position{first, after}
	}
	return out, nil
}

// findLocked returns the first segment holding a readable record ≥ want.
func (s *Spool) findLocked(want uint64) *segmentFile {
	// lastSeq is non-decreasing across segments, empty ones included.
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].lastSeq >= want })
	for ; i < len(s.segs); i++ {
		if s.segs[i].records() > 0 {
			return s.segs[i]
		}
	}
	return nil
}

// readSegment appends the records ≥ want of one segment to out, reading
// from pos up to end. after is the position following the last frame read
// cleanly; bad reports a frame that failed to decode there.
func (c *Cursor) readSegment(f *os.File, pos position, end int64, want uint64, max int, out []Record, first position) (_ []Record, _, after position, bad bool, err error) {
	c.dec.reset(io.NewSectionReader(f, pos.off, end-pos.off), end-pos.off)
	after = pos
	for len(out) < max {
		seq, nanos, payload, n, err := c.dec.next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errBadFrame) || (err == nil && seq != after.seq) {
			return out, first, after, true, nil
		}
		if err != nil {
			return out, first, after, false, err
		}
		if seq >= want {
			if len(out) == 0 {
				first = after
			}
			out = append(out, Record{Seq: seq, Time: time.Unix(0, nanos), Payload: append([]byte(nil), payload...)})
		}
		after.off += n
		after.seq++
	}
	return out, first, after, false, nil
}

// markCorrupt records that g cannot be read past at (found after open, e.g.
// a failing disk). Later records of g are lost and stepped over by cursors.
func (s *Spool) markCorrupt(g *segmentFile, at position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.removed || at.off >= g.end {
		return
	}
	g.end = at.off
	g.lastSeq = at.seq - 1
	if !g.corrupt {
		g.corrupt = true // the writer rolls away from it
		s.corrupt++
	}
}

// Ack marks every record ≤ seq as delivered and persists the position.
// Segments every cursor has passed are deleted. Acknowledging a position at
// or behind the current one is a no-op.
func (c *Cursor) Ack(seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if seq > s.lastSeq {
		last := s.lastSeq
		s.mu.Unlock()
		return fmt.Errorf("spool: ack %s seq %d: beyond last record %d", c.name, seq, last)
	}
	if seq <= c.acked {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	// Persist first: deleting segments on an acknowledgement that a crash
	// could lose would turn redelivery into loss.
	if err := s.writeCursor(c.name, seq); err != nil {
		return err
	}
	s.mu.Lock()
	c.acked = max(c.acked, seq)
	gone := s.trimLocked(s.opt.now(), 0)
	s.mu.Unlock()
	s.removeFiles(gone)
	return nil
}

// Wait blocks until a record after the cursor's acknowledged position is
// available, ctx is done (returning ctx.Err()) or the spool is closed
// (returning ErrClosed). It returns at once when records are pending.
func (c *Cursor) Wait(ctx context.Context) error {
	s := c.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.lastSeq > c.acked {
		s.mu.Unlock()
		return nil
	}
	if s.notify == nil {
		s.notify = make(chan struct{})
	}
	ch := s.notify
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}
