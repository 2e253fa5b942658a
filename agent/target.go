package agent

import (
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
)

// Target is one ingest, as the pipeline needs it.
type Target struct {
	Name     string
	URL      string // raw: a secret; never logged
	Provider string
	AltPorts []int // nil = the defaults for the ingest port
	Timeout  time.Duration
	Labels   map[string]string

	// The URL doctor's settings.
	Mode           ingesturl.Mode  // declared; "" = inferred from the scheme
	SignKeys       []ingesturl.Key // primary first; none = the signature is not checked
	MinURLValidity time.Duration   // 0 = diagnose.DefaultMinURLValidity
	EventEnd       time.Time       // zero = none
	// RTMP is how far the RTMP probe goes ("" = handshake); CAFile and InsecureSkipVerify shape
	// its TLS for rtmps:// URLs.
	RTMP               rtmp.Level
	CAFile             string
	InsecureSkipVerify bool
	// SkipICMP turns the ICMP burst off (icmp = false); ICMPCount 0 and zero ICMPThresholds take
	// the defaults, so a target built from a bare URL gets ICMP as configured targets do.
	SkipICMP       bool
	ICMPCount      int
	ICMPThresholds diagnose.ICMPThresholds
	// Trace is when the ingest port's path is traced ("" = path.DefaultMode, auto: when it failed).
	Trace path.Mode
	// Live watches this host's connections to the ingest during the show (agent/live.go): a
	// window every LiveEvery, no publish probe while a publisher is connected or was seen within
	// LiveQuiet (0s = the defaults); Bitrate (bits/s, 0 = unknown) is the show's.
	Live                 bool
	LiveEvery, LiveQuiet time.Duration
	Bitrate              float64
	// Uplink is the show's bitrate in bit/s for the uplink soak (0 = none); UplinkFor its
	// measured window (0 = uplink.DefaultWindow) and UplinkEvery the daemon's soak schedule
	// (0 = uplink.DefaultEvery). Soak marks a run that soaks: check --uplink, and the runs of
	// the daemon's soak schedule; Pipeline.soakNow has the last word.
	Uplink      int64
	UplinkFor   time.Duration
	UplinkEvery time.Duration
	Soak        bool

	// parsed is URL parsed, once, by TargetFromURL or the config; nil (with parseErr nil) for a
	// target built by hand, which Run parses itself.
	parsed   *ingesturl.URL
	parseErr error
}

// parse is the target's URL, parsed.
func (t *Target) parse() (*ingesturl.URL, error) {
	if t.parsed != nil || t.parseErr != nil {
		return t.parsed, t.parseErr
	}
	return ingesturl.Parse(t.URL)
}

// TargetsFromConfig turns configured targets into pipeline targets.
func TargetsFromConfig(c *config.Config) []Target {
	out := make([]Target, 0, len(c.Targets))
	for _, t := range c.Targets {
		out = append(out, Target{Name: t.Name, URL: t.URL, Provider: t.Provider, AltPorts: t.AltPorts, Timeout: t.Timeout.D(), Labels: c.Agent.Labels,
			Mode: ingesturl.Mode(t.Mode), SignKeys: t.SignKeys, MinURLValidity: t.MinURLValidity.D(), EventEnd: t.EventEnd.Time,
			RTMP: rtmp.Level(t.RTMP), CAFile: t.CAFile, InsecureSkipVerify: t.InsecureSkipVerify,
			SkipICMP: t.ICMP != nil && !*t.ICMP, ICMPCount: t.ICMPCount, ICMPThresholds: icmpThresholds(t),
			Trace: path.Mode(t.Trace), Live: t.Live, LiveEvery: t.LiveEvery.D(), LiveQuiet: t.LiveQuiet.D(), Bitrate: t.BitrateBPS,
			Uplink: t.UplinkBPS, UplinkFor: t.UplinkFor.D(), UplinkEvery: t.UplinkEvery.D(),
			parsed: t.Parsed})
		if t.BitrateBPS == 0 && t.UplinkBPS > 0 {
			out[len(out)-1].Bitrate = float64(t.UplinkBPS) // the show's bitrate: bitrate, else uplink
		}
	}
	return out
}

// TargetFromURL is the target of a URL given on the command line (`check URL`, `url check URL`):
// named after the URL's host — the label everywhere, never the URL — with the agent section's
// timeout and labels, and every probe setting at its default. providerName "" is auto.
func TargetFromURL(a config.Agent, rawURL, providerName string) Target {
	t := Target{Name: "url", URL: rawURL, Provider: providerName, Timeout: a.Timeout.D(), Labels: a.Labels}
	t.parsed, t.parseErr = ingesturl.Parse(rawURL)
	if t.parseErr == nil {
		t.Name = t.parsed.Host
	}
	return t
}

// icmpThresholds of a configured target; zero (the defaults) for one not validated by config.
func icmpThresholds(t config.Target) diagnose.ICMPThresholds {
	if t.LossWarnRatio == nil || t.LossErrorRatio == nil {
		return diagnose.ICMPThresholds{}
	}
	return t.ICMPThresholds()
}
