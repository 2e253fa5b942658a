package ingesturl

import (
	"slices"
	"strconv"
	"strings"
)

// IngestRules are what a platform's ingest requires of a publishing URL — per scheme the port its
// ingest listens on and the host names that serve it, and the application name — so that a URL
// copied wrong is caught offline. They are facts about one platform; provider.Profile holds each
// platform's (docs/providers.md gives the sources), and LintURL checks a URL against them.
type IngestRules struct {
	Provider string   // the profile's name ("youtube"): recorded in the lint
	Title    string   // the platform as people name it ("YouTube Live"), for messages
	App      string   // the application name every URL must have ("live2"); "" = any
	Ingests  []Ingest // the schemes the platform takes, the preferred first
	// Fronts are host suffixes a team declared as its own names for the platform's ingest
	// (extra_push_suffixes): hosts ending in one are taken for the platform's.
	Fronts []string
	// SchemeNote says why a scheme is refused; SchemeException, in the remedy, when the platform
	// takes it after all and what to do then.
	SchemeNote, SchemeException string
	// Console says where the platform shows the server URL and the stream key.
	Console string
}

// Ingest is one scheme a platform takes.
type Ingest struct {
	Scheme string // rtmp, rtmps or srt
	Port   int    // the port the ingest listens on for this scheme
	// Hosts are the host names serving it, as suffixes: ".rtmp.youtube.com" matches
	// a.rtmp.youtube.com; a suffix also matches the name without its leading dot.
	Hosts   []string
	Example string // a URL to give in a remedy, stream key as "<stream key>"
}

// The kinds of issue the ingest rules find. Their values are data (the record's results), so
// they are never renamed.
const (
	IngestScheme     IssueKind = "ingest_scheme"      // the platform does not take this scheme
	IngestHostScheme IssueKind = "ingest_host_scheme" // the host is the platform's ingest for another scheme
	IngestHost       IssueKind = "ingest_host"        // the host is none of the platform's ingest hosts
	IngestPort       IssueKind = "ingest_port"        // not the port the platform listens on for the scheme
	IngestApp        IssueKind = "ingest_app"         // not the platform's application name
	IngestKeyMissing IssueKind = "ingest_key_missing" // no stream key after the application
)

// ReasonOneSegment marks an IngestApp issue on a URL whose path has a single segment: it is the
// application or the stream key, so it is not repeated anywhere.
const ReasonOneSegment = "one_segment"

// For returns the platform's ingest for scheme.
func (r *IngestRules) For(scheme string) (Ingest, bool) {
	for _, in := range r.Ingests {
		if in.Scheme == scheme {
			return in, true
		}
	}
	return Ingest{}, false
}

// Schemes lists the schemes the platform takes, the preferred first.
func (r *IngestRules) Schemes() []string {
	out := make([]string, 0, len(r.Ingests))
	for _, in := range r.Ingests {
		out = append(out, in.Scheme)
	}
	return out
}

// HostScheme says which of the platform's ingests serves host, by its host names (fronts aside):
// "" when none does.
func (r *IngestRules) HostScheme(host string) string {
	for _, in := range r.Ingests {
		if MatchSuffix(host, in.Hosts) {
			return in.Scheme
		}
	}
	return ""
}

// DefaultPort is the port a scheme means when the URL names none; 0 for a scheme not known here.
func DefaultPort(scheme string) int { return defaultPorts[scheme] }

// MatchSuffix says name ends in one of the suffixes at a label boundary, or is one of them
// without its leading dot. DNS names compare without regard to case or a trailing root dot.
func MatchSuffix(name string, suffixes []string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, s := range suffixes {
		s = strings.ToLower(s)
		if strings.HasSuffix(name, s) || "."+name == s {
			return true
		}
	}
	return false
}

// lintIngest checks u against a platform's rules. Only the schemes an encoder publishes over are
// judged: the others have lint issues of their own, and for SRT the rules say nothing unless the
// platform documents an SRT ingest (it may take SRT without that being known here).
func lintIngest(u *URL, r *IngestRules, l *Lint) {
	switch u.Scheme {
	case "rtmp", "rtmps", "srt":
	default:
		return
	}
	in, ok := r.For(u.Scheme)
	if !ok && u.Scheme == "srt" {
		return
	}
	l.IngestRules = r.Provider
	add := func(i Issue) { l.Issues = append(l.Issues, i) }
	if !ok {
		add(Issue{Kind: IngestScheme, Found: u.Scheme, Want: strings.Join(r.Schemes(), ",")})
	} else {
		// The host and the port are only judged for a scheme the platform takes: for another,
		// the scheme is what to change, and the remedy gives the whole URL.
		switch other := r.HostScheme(u.Host); {
		case MatchSuffix(u.Host, in.Hosts), MatchSuffix(u.Host, r.Fronts):
		case other != "":
			add(Issue{Kind: IngestHostScheme, Found: other, Want: u.Scheme})
		default:
			add(Issue{Kind: IngestHost})
		}
		if u.Port != in.Port {
			add(Issue{Kind: IngestPort, Found: strconv.Itoa(u.Port), Want: strconv.Itoa(in.Port)})
		}
	}
	if u.Scheme == "srt" {
		return // SRT carries the stream in its streamid parameter: no application, no path
	}
	oneSegment := u.stream == "" && u.rawQuery == ""
	if r.App != "" && u.App != r.App {
		if oneSegment && u.App != "" {
			// rtmp://host/KEY: the one segment may be the stream key, which must not be echoed.
			add(Issue{Kind: IngestApp, Want: r.App, Reason: ReasonOneSegment})
			return
		}
		add(Issue{Kind: IngestApp, Found: u.App, Want: r.App})
	}
	if oneSegment {
		add(Issue{Kind: IngestKeyMissing})
	}
}

// ingestKinds are the issue kinds lintIngest makes.
var ingestKinds = []IssueKind{IngestScheme, IngestHostScheme, IngestHost, IngestPort, IngestApp, IngestKeyMissing}

// IsIngest says k is a kind the ingest rules make.
func (k IssueKind) IsIngest() bool { return slices.Contains(ingestKinds, k) }
