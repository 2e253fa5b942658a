// Package config loads and validates the agent's TOML configuration. Decoding is strict: an unknown
// key is an error naming the key and its line, because a misspelt key silently ignored is a probe
// silently misconfigured.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/internal/duration"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/status"
)

// DefaultPath is where the installed agent reads its config.
const DefaultPath = "/etc/ingestprobe/config.toml"

// Defaults. The probe timeout is 5 s because an RTMP encoder (OBS, ffmpeg) gives up on a connect
// after roughly that long; a 30 s interval keeps a fleet of encoders light while still catching a
// venue firewall change within a minute.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 5 * time.Second
)

// DefaultStateDir is agent.state_dir when a config leaves it out: this platform's place
// (StateDirFor), so a Windows agent never reaches for /var/lib.
var DefaultStateDir = StateDirFor(runtime.GOOS)

// StateDirFor is where the installed agent keeps its sequence and spool on goos (a runtime.GOOS
// value): %ProgramData%\ingestprobe\state on Windows, /usr/local/var/lib/ingestprobe on macOS,
// /var/lib/ingestprobe elsewhere. service.LayoutFor installs to the same places.
func StateDirFor(goos string) string {
	switch goos {
	case "windows":
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return pd + `\ingestprobe\state`
	case "darwin":
		return "/usr/local/var/lib/ingestprobe"
	}
	return "/var/lib/ingestprobe"
}

// Duration is a time.Duration written as a string in TOML ("30s", "5m", "12h"); the type lives in
// a leaf package so that the sections other packages own (sink.Config) use it too.
type Duration = duration.Duration

// Dur makes a Duration.
func Dur(d time.Duration) Duration { return duration.Of(d) }

// Timestamp is an instant written as an RFC 3339 string with its zone offset,
// "2024-06-01T23:00:00+02:00": an event end without a zone would mean a different instant on every
// encoder's laptop.
type Timestamp struct{ time.Time }

// UnmarshalText parses RFC 3339.
func (t *Timestamp) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time with a zone (write it like \"2024-06-01T23:00:00+02:00\" or \"2024-06-01T21:00:00Z\")", string(b))
	}
	t.Time = v
	return nil
}

// MarshalText writes RFC 3339.
func (t Timestamp) MarshalText() ([]byte, error) { return []byte(t.Format(time.RFC3339)), nil }

// Config is the whole file.
type Config struct {
	Agent     Agent               `toml:"agent"`
	Providers map[string]Provider `toml:"providers"`
	Targets   []Target            `toml:"targets"`
	Sinks     []sink.Config       `toml:"sinks"`
	Status    *status.Config      `toml:"status"` // nil (no [status] section): no board

	path     string
	dir      string   // relative *_file paths are read from here: the config file's directory
	warnings []string // things valid but unwise, for the caller to log
	blank    bool     // the file holds no key at all: Preflight refuses it
}

// Agent holds settings for the whole agent.
type Agent struct {
	ID        string            `toml:"id"`
	Interval  Duration          `toml:"interval"`
	Timeout   Duration          `toml:"timeout"`
	StateDir  string            `toml:"state_dir"`
	Labels    map[string]string `toml:"labels"`
	Resolvers []string          `toml:"resolvers"`
	// Concurrency bounds target runs in flight at once; 0 = agent.DefaultConcurrency.
	Concurrency int `toml:"concurrency"`
	// SpoolMaxMB bounds the on-disk spool of push sinks; the oldest records are dropped (and
	// counted) beyond it. Default 256.
	SpoolMaxMB int `toml:"spool_max_mb"`
	// SpoolMaxAge drops spooled records older than this (default "168h": a week).
	SpoolMaxAge Duration `toml:"spool_max_age"`
	// NTPServer, host or host:port, is asked for the time before signed URLs are judged; empty = no
	// clock reference (txTime is judged by this host's clock).
	NTPServer      string   `toml:"ntp_server"`
	ClockSkewWarn  Duration `toml:"clock_skew_warn"`  // default 30s
	ClockSkewError Duration `toml:"clock_skew_error"` // default 5m
}

// Spool bounds: 256 MB and a week hold about a week of results of a few targets, or an outage of
// a day at a hundred; past them the oldest records go (and are counted).
const (
	DefaultSpoolMaxMB  = 256
	DefaultSpoolMaxAge = 7 * 24 * time.Hour
)

// Provider adds or overrides a provider profile.
type Provider struct {
	PushCNAMESuffixes     []string `toml:"push_cname_suffixes"`
	PlaybackCNAMESuffixes []string `toml:"playback_cname_suffixes"`
	ExtraPushSuffixes     []string `toml:"extra_push_suffixes"` // accepted beside the push suffixes: one's own DNS or load balancer
}

// Target is one ingest to probe.
type Target struct {
	Name     string   `toml:"name"`
	URL      string   `toml:"url"`
	Provider string   `toml:"provider"`
	AltPorts []int    `toml:"alt_ports"`
	Interval Duration `toml:"interval"`
	Timeout  Duration `toml:"timeout"`
	// The URL doctor's settings.
	Mode              string        `toml:"mode"`                 // "rtmp" | "rtc"; default: from the URL's scheme
	SignKeyFile       string        `toml:"sign_key_file"`        // the push domain's signing key, read from a file
	SignKey           ingesturl.Key `toml:"sign_key"`             // the key inline: discouraged, the config becomes a secret
	SignBackupKeyFile string        `toml:"sign_backup_key_file"` // the backup key, accepted as well
	MinURLValidity    Duration      `toml:"min_url_validity"`     // default 12h
	EventEnd          Timestamp     `toml:"event_end"`            // the URL must outlive it

	// Parsed is URL, parsed by the validation (the agent reuses it instead of parsing again).
	Parsed *ingesturl.URL `toml:"-"`

	// SignKeys holds the keys read from the files above, primary first. Never logged: a Key formats
	// as <redacted>.
	SignKeys []ingesturl.Key `toml:"-"`

	// RTMP is how far the RTMP probe goes: off, handshake (the default: no stream is touched),
	// connect (to the app), or publish (occupies the stream for about 2 s each run).
	RTMP               string `toml:"rtmp"`
	RTMPSet            bool   `toml:"-"`                    // rtmp was written in the file (check's own default is connect)
	CAFile             string `toml:"ca_file"`              // PEM CA trusted besides the system's, for rtmps://
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"` // rtmps:// without verifying the certificate

	// ICMP echo burst to the first resolved address, beside the TCP connects. Defaults are filled
	// in by Parse, so after it the pointers are never nil.
	ICMP           *bool    `toml:"icmp"`             // default true
	ICMPCount      int      `toml:"icmp_count"`       // echoes per run, 1 to MaxICMPCount; default 5
	LossWarnRatio  *float64 `toml:"loss_warn_ratio"`  // net.packet_loss warning above this; default 0.02
	LossErrorRatio *float64 `toml:"loss_error_ratio"` // net.packet_loss error above this; default 0.2
	LatencyWarn    Duration `toml:"latency_warn"`     // net.high_latency above this average; default "150ms"

	// Trace is when the path to the ingest port is traced: auto (when the port is blocked,
	// rejected or unreachable; the default), off, or always.
	Trace string `toml:"trace"`
	// The live watch of the encoder's own connection (probes/live, config/live.go).
	Live      bool     `toml:"live"`       // watch this host's connections to the ingest during the show
	LiveEvery Duration `toml:"live_every"` // a window every; default 5s
	LiveQuiet Duration `toml:"live_quiet"` // no publish probe until no publisher for this long; default 2m
	Bitrate   string   `toml:"bitrate"`    // the show's bitrate ("2500k", "6M"): live.below_bitrate
	// BitrateBPS is Bitrate in bits per second, set by the validation (0 = none).
	BitrateBPS float64 `toml:"-"`
	// The uplink soak (docs/findings.md, uplink.*): publish real H.264/AAC at the show's bitrate
	// for uplink_for, every uplink_every, on a schedule of its own beside the checks, and say
	// whether this network sustains it. Off without uplink.
	Uplink      string   `toml:"uplink"`       // the show's total bitrate: "6M", "4500k", "6000000"
	UplinkFor   Duration `toml:"uplink_for"`   // the measured window, 3s to 5m; default 10s
	UplinkEvery Duration `toml:"uplink_every"` // how often; at least 1m; default 1h
	// UplinkBPS is Uplink, parsed by the validation.
	UplinkBPS int64 `toml:"-"`
}

// Path is the file the config was read from ("" for one built in memory).
func (c *Config) Path() string { return c.path }

// Warnings are things the config does that are valid but unwise (a world-readable key file, a key
// written inline), for the caller to log. They hold file names, never secrets.
func (c *Config) Warnings() []string { return c.warnings }

// Load reads, decodes and validates a config file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s%w", path, err)
	}
	c.path = path
	return c, nil
}

// Parse decodes and validates config text. Errors begin with ":line:col: " when the position is
// known, or ": " otherwise, so Load can prefix the file name. Relative *_file paths are read from
// the current directory.
func Parse(b []byte) (*Config, error) { return parse(b, "") }

func parse(b []byte, dir string) (*Config, error) {
	c := Config{dir: dir, blank: blank(b)}
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(err, b)
	}
	if err := c.validate(); err != nil {
		if row, col, ok := keyPosition(b, err.Error()); ok {
			return nil, fmt.Errorf(":%d:%d: %w", row, col, err)
		}
		return nil, fmt.Errorf(": %w", err)
	}
	return &c, nil
}

// blank says whether config text holds nothing but spaces and comments.
func blank(b []byte) bool {
	for _, line := range strings.Split(string(b), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// Default is the config used when none is given: no targets, every default.
func Default() *Config {
	c := &Config{}
	if err := c.validate(); err != nil {
		panic(err) // the defaults are constants; a failure is a bug caught by tests
	}
	return c
}

func decodeError(err error, doc []byte) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		e := strict.Errors[0]
		row, col := e.Position()
		msg := fmt.Sprintf(":%d:%d: unknown key %q", row, col, strings.Join(e.Key(), "."))
		if n := len(strict.Errors); n > 1 {
			msg += fmt.Sprintf(" (and %d more)", n-1)
		}
		return errors.New(msg)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = strings.Join(k, ".") + ": " + msg
		}
		return fmt.Errorf(":%d:%d: %s", row, col, msg)
	}
	var de2 *duration.Error
	if errors.As(err, &de2) {
		// A bare number or a zero: find "key = 30" or "key = \"0s\"" to name the line and key.
		for i, line := range strings.Split(string(doc), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if v = strings.TrimSpace(strings.SplitN(v, "#", 2)[0]); ok && (v == de2.Text || v == strconv.Quote(de2.Text)) {
				return fmt.Errorf(":%d:%d: %s: %v", i+1, len(k)+2, strings.TrimSpace(k), err)
			}
		}
	}
	return fmt.Errorf(": %w", err)
}

// ParseNTPServer accepts "host", "host:port", an IP literal or "[IPv6]:port" and returns host:port,
// port 123 by default.
func ParseNTPServer(s string) (string, error) {
	bad := fmt.Errorf("%q is not a host name, IP address or host:port", s)
	host, port := s, clock.DefaultPort
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), port), nil
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", bad
		}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(host, port), nil
	}
	if _, err := ingesturl.Parse("rtmp://" + host + "/x"); err != nil || strings.ContainsAny(host, ":/[]") {
		return "", bad
	}
	return net.JoinHostPort(strings.ToLower(host), port), nil
}

// ParseResolver accepts "IP" or "IP:port" and returns IP:port (port 53 by default).
func ParseResolver(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("%q is not an IP address or IP:port", s)
	}
	return ap.String(), nil
}

// Profiles is the built-in provider profiles with the configured ones merged over them.
func (c *Config) Profiles() map[string]provider.Profile {
	out := provider.Builtin()
	for name, p := range c.Providers {
		base := out[name]
		base.Name = name
		if p.PushCNAMESuffixes != nil {
			base.PushSuffixes = p.PushCNAMESuffixes
		}
		if p.PlaybackCNAMESuffixes != nil {
			base.PlaybackSuffixes = p.PlaybackCNAMESuffixes
		}
		base.ExtraPushSuffixes = p.ExtraPushSuffixes
		out[name] = base
	}
	return out
}

func profileNames(m map[string]provider.Profile) []string {
	names := []string{provider.Auto}
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names[1:])
	return names
}
