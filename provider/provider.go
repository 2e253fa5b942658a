// Package provider holds what each streaming provider requires of a push domain and URL: the CNAME
// suffixes its push domains must resolve through, the suffixes that mark a playback (CDN) domain
// used for pushing by mistake, whether its URLs are signed, and, for the platforms (YouTube,
// Facebook, Twitch, Amazon IVS), the scheme, host, port and application name their ingests take.
// The facts and their public sources are in docs/providers.md.
package provider

import (
	"slices"

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
	// CNAME rule and, for a platform, the ingest hosts (a host ending in one is taken for the
	// platform's); they do not make a CNAME rule where PushSuffixes is empty, nor make "auto" pick
	// this provider for a URL (a team's own domain says nothing about who is behind it).
	ExtraPushSuffixes []string `json:"extra_push_suffixes,omitempty"`
	// PlaybackSuffixes mark a playback domain: pushing to one is a mistake of its own.
	PlaybackSuffixes []string `json:"playback_cname_suffixes,omitempty"`
	// SignedURL says push URLs carry txSecret/txTime.
	SignedURL bool `json:"signed_url,omitempty"`
	// HostSuffixes make "auto" pick this provider for a URL whose host ends in one (the platforms'
	// own domains, which need no CNAME rule).
	HostSuffixes []string `json:"host_suffixes,omitempty"`
	// Ingest is what the platform's ingest takes (scheme, port, host, application), checked offline
	// by the URL doctor; nil for providers without such rules.
	Ingest *ingesturl.IngestRules `json:"ingest,omitempty"`
}

// Names of the built-in profiles.
const (
	Auto     = "auto"
	Tencent  = "tencent"
	Generic  = "generic"
	YouTube  = "youtube"
	Facebook = "facebook"
	Twitch   = "twitch"
	AWSIVS   = "aws-ivs"
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
		Generic:  {Name: Generic},
		YouTube:  youtube(),
		Facebook: facebook(),
		Twitch:   twitch(),
		AWSIVS:   awsIVS(),
	}
}

// Names is the names a target's provider may take: auto, then the built-in profiles.
func Names() []string {
	names := []string{Auto}
	for n := range Builtin() {
		names = append(names, n)
	}
	slices.Sort(names[1:])
	return names
}

// Resolve picks the profile for a target: the named one, or for "auto" (or "") the one the URL
// looks like — Tencent when it carries txSecret or txTime, else the provider whose push suffixes
// or host suffixes its host ends in (the longest match wins: Twitch's
// ingest.global-contribute.live-video.net before Amazon IVS's .global-contribute.live-video.net);
// ExtraPushSuffixes do not count. profiles holds the built-in ones merged with the configured
// ones; ok is false for an unknown name.
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
		best, bestLen := Profile{}, 0
		for _, p := range sortedProfiles(profiles) {
			if n := matchLen(u.Host, slices.Concat(p.PushSuffixes, p.HostSuffixes)); n > bestLen {
				best, bestLen = p, n
			}
		}
		if bestLen > 0 {
			return best, true
		}
	}
	return profiles[Generic], true
}

// matchLen is the length of the longest suffix name matches (hasSuffix's rule), 0 for none.
func matchLen(name string, suffixes []string) int {
	n := 0
	for _, s := range suffixes {
		if hasSuffix(name, []string{s}) && len(s) > n {
			n = len(s)
		}
	}
	return n
}

// IngestRules is the profile's ingest rules with the team's own front names (ExtraPushSuffixes)
// accepted as hosts, or nil when the profile has none.
func (p Profile) IngestRules() *ingesturl.IngestRules {
	if p.Ingest == nil {
		return nil
	}
	r := *p.Ingest
	r.Provider = p.Name
	r.Fronts = slices.Clone(p.ExtraPushSuffixes)
	return &r
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

func hasSuffix(name string, suffixes []string) bool { return ingesturl.MatchSuffix(name, suffixes) }
