package config

import (
	"fmt"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/live"
)

// validateLive checks the live watch's keys and fills in their defaults (live_every 5s,
// live_quiet 2m): the watch reads TCP connections, so it needs an rtmp:// or rtmps:// URL.
func validateLive(t *Target, u *ingesturl.URL) error {
	if t.Bitrate != "" {
		r, err := live.ParseRate(t.Bitrate)
		if err != nil {
			return fmt.Errorf("bitrate: %v", err)
		}
		t.BitrateBPS = r
	}
	if t.LiveEvery.D() == 0 {
		t.LiveEvery = Dur(live.DefaultEvery)
	}
	if t.LiveQuiet.D() == 0 {
		t.LiveQuiet = Dur(live.DefaultQuiet)
	}
	switch {
	case t.LiveEvery.D() < live.MinEvery:
		return fmt.Errorf("live_every: %s is under %s", t.LiveEvery.D(), live.MinEvery)
	case t.LiveQuiet.D() < 0:
		return fmt.Errorf("live_quiet: must be positive, got %s", t.LiveQuiet.D())
	case t.Live && u.Scheme != "rtmp" && u.Scheme != "rtmps":
		return fmt.Errorf("live: the live watch follows TCP connections (rtmp://, rtmps://); an %s:// ingest is not watched", u.Scheme)
	}
	return nil
}
