package live

import (
	"context"
	"os"
	"slices"
	"sync"
	"time"
)

// Source lists the established TCP connections of this host (both families) with their
// statistics: one call is one dump of the kernel's table.
type Source interface {
	// Dump lists the connections to any of ports (every connection when ports is empty).
	Dump(ctx context.Context, ports []uint16) ([]Conn, error)
	Close() error
}

// owner is a connection's process, as the platform names it.
type owner struct {
	pid  int
	name string
	own  bool // this process's: the agent's own probe, not a publisher
}

// Watcher makes one dump per sample and hands every target its connections. Safe for concurrent
// use: the daemon's sampler samples while the pipeline asks whether a show is live.
type Watcher struct {
	mu       sync.Mutex
	src      Source
	trackers map[string]*Tracker
	order    []string
	names    map[uint64]owner // by connection ID, for the connections of some target
	now      func() time.Time
	owners   func(map[uint64]bool) (map[uint64]owner, bool)
	err      error // the last sample's
	sampled  bool
}

// NewWatcher opens this system's source. Where there is none it returns an error wrapping
// ErrUnavailable, which says why.
func NewWatcher() (*Watcher, error) {
	src, err := newSource()
	if err != nil {
		return nil, err
	}
	return NewWatcherWith(src), nil
}

// NewWatcherWith watches through src (a recorded source in tests, or the bench's).
func NewWatcherWith(src Source) *Watcher {
	return &Watcher{src: src, trackers: map[string]*Tracker{}, names: map[uint64]owner{}, now: time.Now, owners: owners}
}

// Set adds a target, or updates its addresses and bitrate while keeping its history.
func (w *Watcher) Set(t Target) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k := w.trackers[t.Name]; k != nil {
		k.SetTarget(t)
		return
	}
	w.trackers[t.Name] = NewTracker(t)
	w.order = append(w.order, t.Name)
}

// Targets is the names watched, in the order they were added.
func (w *Watcher) Targets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.order)
}

// Sample makes one dump and hands it to every target. On error the targets keep their last state
// and the next Window says the sample failed.
func (w *Watcher) Sample(ctx context.Context) error {
	w.mu.Lock()
	var ports []uint16
	for _, k := range w.trackers {
		if p := uint16(k.t.Port); p != 0 && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	w.mu.Unlock()
	if len(ports) == 0 {
		ports = []uint16{0} // nothing to watch yet: ask for nothing rather than everything
	}
	conns, err := w.src.Dump(ctx, ports)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
	if err != nil {
		return err
	}
	w.sampled = true
	now := w.now()
	// Only connections to some target are looked at further (named, or found to be this
	// process's own): the host's other connections are not this watch's business.
	var mine []Conn
	for _, c := range conns {
		for _, k := range w.trackers {
			if k.t.Matches(c) {
				mine = append(mine, c)
				break
			}
		}
	}
	w.name(mine)
	keep := mine[:0]
	seen := map[uint64]bool{}
	for _, c := range mine {
		o, named := w.names[c.ID]
		seen[c.ID] = true
		if named && o.own {
			continue
		}
		if named {
			c.PID, c.Process = o.pid, o.name
		}
		keep = append(keep, c)
	}
	for id := range w.names {
		if !seen[id] {
			delete(w.names, id)
		}
	}
	for _, k := range w.trackers {
		k.Observe(now, keep)
	}
	return nil
}

// name looks up the owners of connections not seen before, once each.
func (w *Watcher) name(conns []Conn) {
	wanted := map[uint64]bool{}
	for _, c := range conns {
		if _, ok := w.names[c.ID]; ok {
			continue
		}
		if c.PID != 0 { // the platform said (Windows)
			w.names[c.ID] = owner{pid: c.PID, name: c.Process, own: c.PID == os.Getpid()}
			continue
		}
		if c.Inode != 0 {
			wanted[c.Inode] = true
		}
	}
	if len(wanted) == 0 {
		return
	}
	found, complete := w.owners(wanted)
	for _, c := range conns {
		if _, ok := w.names[c.ID]; ok || !wanted[c.Inode] {
			continue
		}
		if o, ok := found[c.Inode]; ok {
			if o.name == "" {
				o.name = ProcessUnknown
			}
			w.names[c.ID] = o
		} else if complete {
			// Nobody holds it: closed between the dump and the scan (a short probe's socket).
			w.names[c.ID] = owner{own: true}
		} else {
			w.names[c.ID] = owner{name: ProcessUnknown}
		}
	}
}

// Window closes the current window of target name.
func (w *Watcher) Window(name string) Result { return w.view(name, (*Tracker).Window) }

// Peek is target name's figures between the last two samples.
func (w *Watcher) Peek(name string) Result { return w.view(name, (*Tracker).Peek) }

// Total is target name's figures over the whole watch.
func (w *Watcher) Total(name string) Result { return w.view(name, (*Tracker).Total) }

func (w *Watcher) view(name string, f func(*Tracker, time.Time) Result) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.trackers[name]
	if k == nil {
		return Result{Probe: "live", Error: Failed, Detail: "not watched", Connections: []Connection{}}
	}
	r := f(k, w.now())
	if w.err != nil {
		r.Error, r.Detail = Failed, w.err.Error()
	}
	return r
}

// Live says whether target name has a publisher now, or had one within quiet: the show is on, and
// the agent must not publish over it. It returns the publishers of the last sample and how long
// ago one was seen (-1: never). A watch that has not sampled yet, or whose last sample failed,
// says live: it cannot tell that the show is off.
func (w *Watcher) Live(name string, quiet time.Duration) (live bool, publishers int, ago time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.trackers[name]
	if k == nil {
		return false, 0, -1
	}
	n, last := k.Publishers()
	ago = -1
	if !last.IsZero() {
		ago = w.now().Sub(last)
	}
	if !w.sampled || w.err != nil {
		return true, n, ago
	}
	return n > 0 || (ago >= 0 && ago < quiet), n, ago
}

// Close releases the source.
func (w *Watcher) Close() error { return w.src.Close() }
