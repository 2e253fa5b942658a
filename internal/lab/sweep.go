//go:build linux

package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Found describes a lab found on this host.
type Found struct {
	ID      string
	Venue   string
	Dir     string
	Created time.Time // when its first namespace was made
	Keep    bool      // kept for manual use (INGESTPROBE_LAB_KEEP=1, labctl up)
	Owned   bool      // the process that built it is still running
	RTMP    bool
}

// List finds the labs on this host: from the namespaces named Prefix+id+"-…", and from state
// directories and /etc/netns entries a half-removed lab left behind.
func List() ([]Found, error) {
	byID := map[string]*Found{}
	var order []string
	add := func(id string, t time.Time) {
		f := byID[id]
		if f == nil {
			f = &Found{ID: id, Venue: Prefix + id + "-venue", Dir: filepath.Join(stateRoot, id)}
			byID[id] = f
			order = append(order, id)
		}
		if f.Created.IsZero() || t.Before(f.Created) {
			f.Created = t
		}
	}
	for _, dir := range []string{netnsDir, etcNetnsDir, stateRoot} {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			id := e.Name()
			if dir != stateRoot {
				rest, ok := strings.CutPrefix(id, Prefix)
				if !ok {
					continue
				}
				if id, _, ok = strings.Cut(rest, "-"); !ok {
					continue
				}
			}
			if !validID(id) {
				continue
			}
			if fi, err := e.Info(); err == nil {
				add(id, fi.ModTime())
			}
		}
	}
	out := make([]Found, 0, len(order))
	for _, id := range order {
		f := byID[id]
		if b, err := os.ReadFile(filepath.Join(f.Dir, "lab.json")); err == nil {
			var in info
			if json.Unmarshal(b, &in) == nil {
				f.Keep, f.RTMP = in.Keep, in.RTMP
				f.Owned = alive(in.OwnerPID, in.OwnerStart)
				if !in.Created.IsZero() && in.Created.Before(f.Created) {
					f.Created = in.Created
				}
			}
		}
		out = append(out, *f)
	}
	return out, nil
}

// validID says s looks like an id newID made: 8 lowercase hex digits. Nothing else under the
// lab's directories is ever removed.
func validID(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// leftover says a lab is debris of an earlier run: not kept, its builder gone, and made before
// before (so a lab another run is building right now is never touched).
func (f Found) leftover(before time.Time) bool {
	return !f.Keep && !f.Owned && f.Created.Before(before)
}

// Sweep removes leftover labs made before before. With kept, labs kept for manual use go too
// (but never one whose builder is still running). It returns the ids removed.
func Sweep(before time.Time, kept bool) ([]string, error) {
	labs, err := List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, f := range labs {
		if !f.leftover(before) && !(kept && f.Keep && !f.Owned) {
			continue
		}
		if err := teardown(f.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, f.ID)
	}
	return removed, errors.Join(errs...)
}

// Attach returns a handle on a lab another process built, by id, for changing its firewall. It
// cannot stop or start that lab's servers; Sweep or `labctl down` removes it.
func Attach(id string) (*Lab, error) {
	if !validID(id) {
		return nil, fmt.Errorf("lab: %q is not a lab id", id)
	}
	tools, err := FindTools()
	if err != nil {
		return nil, err
	}
	l := &Lab{ID: id, Venue: Prefix + id + "-venue", Router: Prefix + id + "-router", Server: Prefix + id + "-server",
		Dir: filepath.Join(stateRoot, id), tools: tools}
	for _, ns := range []string{l.Venue, l.Router, l.Server} {
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); err != nil {
			return nil, fmt.Errorf("lab %s: namespace %s: %w", id, ns, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(l.Dir, "lab.json")); err == nil {
		var in info
		if json.Unmarshal(b, &in) == nil {
			l.RTMP = in.RTMP
		}
	}
	return l, nil
}
