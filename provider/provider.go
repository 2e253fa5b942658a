// Package provider holds what each streaming provider requires of a push domain and URL: the CNAME
// suffixes its push domains must resolve through, the suffixes that mark a playback (CDN) domain
// used for pushing by mistake, and whether its URLs are signed.
package provider

import (
	"slices"
	"strings"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

// Profile is one provider's rules.
type Profile struct {
	Name string `json:"name"`
	// PushSuffixes: a push domain must be, or resolve through a CNAME ending in, one of these.
	// Empty means the provider has no CNAME rule.
	PushSuffixes []string `json:"push_cname_suffixes,omitempty"`
	// ExtraPushSuffixes are accepted beside PushSuffixes: the suffix of a team's own DNS or load
	// balancer in front of the provider's ingest (config: extra_push_suffixes). They widen the
	// CNAME rule; they do not make one where PushSuffixes is empty, nor make "auto" pick this
	// provider for a URL (a team's own domain says nothing about who is behind it).
	ExtraPushSuffixes []string `json:"extra_push_suffixes,omitempty"`
	// PlaybackSuffixes mark a playback domain: pushing to one is a mistake of its own.
	PlaybackSuffixes []string `json:"playback_cname_suffixes,omitempty"`
	// SignedURL says push URLs carry txSecret/txTime.
	SignedURL bool `json:"signed_url,omitempty"`
}

// Names of the built-in profiles.
const (
	Auto    = "auto"
	Tencent = "tencent"
	Generic = "generic"
)

// Builtin returns the built-in profiles. The Tencent suffixes are from Tencent Cloud CSS's CNAME
// documentation: .tlivepush.com is current, .livepush.myqcloud.com the legacy push suffix; the
// others are playback CDNs.
func Builtin() map[string]Profile {
	return map[string]Profile{
		Tencent: {
			Name:             Tencent,
			PushSuffixes:     []string{".tlivepush.com", ".livepush.myqcloud.com"},
			PlaybackSuffixes: []string{".tlivecdn.com", ".txlivecdn.com", ".livecdn.liveplay.myqcloud.com"},
			SignedURL:        true,
		},
		Generic: {Name: Generic},
	}
}

// Resolve picks the profile for a target: the named one, or for "auto" (or "") the one the URL
// looks like — Tencent when it carries txSecret or txTime or its host is a Tencent push domain
// (by the provider's own push suffixes; ExtraPushSuffixes do not count).
// profiles holds the built-in ones merged with the configured ones; ok is false for an unknown name.
func Resolve(name string, u *ingesturl.URL, profiles map[string]Profile) (Profile, bool) {
	if name != "" && name != Auto {
		p, ok := profiles[name]
		return p, ok
	}
	if u != nil {
		q := u.Query()
		if q.Has("txSecret") || q.Has("txTime") || u.SRTSigned() { // srt://: in the stream id
			return profiles[Tencent], true
		}
		for _, p := range sortedProfiles(profiles) {
			if hasSuffix(u.Host, p.PushSuffixes) {
				return p, true
			}
		}
	}
	return profiles[Generic], true
}

func sortedProfiles(m map[string]Profile) []Profile {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Profile, 0, len(names))
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}

// AcceptedPushSuffixes is every suffix MatchesPush accepts: the provider's own, then the extra ones.
func (p Profile) AcceptedPushSuffixes() []string {
	return slices.Concat(p.PushSuffixes, p.ExtraPushSuffixes)
}

// MatchesPush says name ends in one of the accepted push suffixes (PushSuffixes or
// ExtraPushSuffixes).
func (p Profile) MatchesPush(name string) bool {
	return hasSuffix(name, p.PushSuffixes) || hasSuffix(name, p.ExtraPushSuffixes)
}

// MatchesPlayback says name ends in one of the playback suffixes.
func (p Profile) MatchesPlayback(name string) bool { return hasSuffix(name, p.PlaybackSuffixes) }

func hasSuffix(name string, suffixes []string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, s := range suffixes {
		s = strings.ToLower(s)
		if strings.HasSuffix(name, s) || "."+name == s {
			return true
		}
	}
	return false
}
