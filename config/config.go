// Package config loads and validates the agent's TOML configuration. Decoding is strict: an unknown
// key is an error naming the key and its line, because a misspelt key silently ignored is a probe
// silently misconfigured.
package config

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/provider"
)

// DefaultPath is where the installed agent reads its config.
const DefaultPath = "/etc/ingestprobe/config.toml"

// Defaults. The probe timeout is 5 s because an RTMP encoder (OBS, ffmpeg) gives up on a connect
// after roughly that long; a 30 s interval keeps a fleet of encoders light while still catching a
// venue firewall change within a minute.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 5 * time.Second
	DefaultStateDir = "/var/lib/ingestprobe"
)

// DefaultAltPorts are tried beside the ingest port: 443 and 80 are open on almost every network, so
// they tell a venue firewall from a dead server.
var DefaultAltPorts = []int{443, 80, 1935}

// Duration is a time.Duration written as a string in TOML ("30s", "5m", "12h").
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like \"30s\", \"5m\" or \"12h\")", string(b))
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is the whole file.
type Config struct {
	Agent     Agent               `toml:"agent"`
	Providers map[string]Provider `toml:"providers"`
	Targets   []Target            `toml:"targets"`

	path string
}

// Agent holds settings for the whole agent.
type Agent struct {
	ID        string            `toml:"id"`
	Interval  Duration          `toml:"interval"`
	Timeout   Duration          `toml:"timeout"`
	StateDir  string            `toml:"state_dir"`
	Labels    map[string]string `toml:"labels"`
	Resolvers []string          `toml:"resolvers"`
}

// Provider adds or overrides a provider profile.
type Provider struct {
	PushCNAMESuffixes     []string `toml:"push_cname_suffixes"`
	PlaybackCNAMESuffixes []string `toml:"playback_cname_suffixes"`
}

// Target is one ingest to probe.
type Target struct {
	Name     string   `toml:"name"`
	URL      string   `toml:"url"`
	Provider string   `toml:"provider"`
	AltPorts []int    `toml:"alt_ports"`
	Interval Duration `toml:"interval"`
	Timeout  Duration `toml:"timeout"`
	// RTMP is how far the RTMP probe goes: off, handshake (the default: no stream is touched),
	// connect (to the app), or publish (occupies the stream for about 2 s each run).
	RTMP               string `toml:"rtmp"`
	CAFile             string `toml:"ca_file"`              // PEM CA trusted besides the system's, for rtmps://
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"` // rtmps:// without verifying the certificate
}

// RTMPLevels are the values of a target's rtmp key, in order.
var RTMPLevels = []string{"off", "handshake", "connect", "publish"}

// DefaultRTMPLevel touches no stream: a daemon probing every 30 s must not occupy one.
const DefaultRTMPLevel = "handshake"

// Path is the file the config was read from ("" for one built in memory).
func (c *Config) Path() string { return c.path }

// Load reads, decodes and validates a config file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s%w", path, err)
	}
	c.path = path
	return c, nil
}

// Parse decodes and validates config text. Errors begin with ":line:col: " when the position is
// known, or ": " otherwise, so Load can prefix the file name.
func Parse(b []byte) (*Config, error) {
	var c Config
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(err)
	}
	if err := c.setDefaultsAndValidate(); err != nil {
		return nil, fmt.Errorf(": %w", err)
	}
	return &c, nil
}

// Default is the config used when none is given: no targets, every default.
func Default() *Config {
	c := &Config{}
	if err := c.setDefaultsAndValidate(); err != nil {
		panic(err) // the defaults are constants; a failure is a bug caught by tests
	}
	return c
}

func decodeError(err error) error {
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
	return fmt.Errorf(": %w", err)
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`)
)

// reservedLabels are set by the agent itself on every series and record.
var reservedLabels = []string{"agent", "target", "probe", "port", "phase", "code", "severity", "job", "instance"}

func (c *Config) setDefaultsAndValidate() error {
	a := &c.Agent
	if a.ID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "ingestprobe"
		}
		a.ID = h
	} else if !nameRE.MatchString(a.ID) {
		return fmt.Errorf("agent.id %q: use letters, digits, '-', '_' and '.' only (at most 64)", a.ID)
	}
	if a.Interval == 0 {
		a.Interval = Duration(DefaultInterval)
	}
	if a.Timeout == 0 {
		a.Timeout = Duration(min(DefaultTimeout, a.Interval.D()/2))
	}
	if a.Interval < 0 {
		return fmt.Errorf("agent.interval: must be positive, got %s", a.Interval.D())
	}
	if a.Timeout < 0 {
		return fmt.Errorf("agent.timeout: must be positive, got %s", a.Timeout.D())
	}
	if a.Timeout >= a.Interval {
		return fmt.Errorf("agent.timeout (%s) must be less than agent.interval (%s)", a.Timeout.D(), a.Interval.D())
	}
	if a.StateDir == "" {
		a.StateDir = DefaultStateDir
	}
	for k := range a.Labels {
		if !labelRE.MatchString(k) {
			return fmt.Errorf("agent.labels: %q is not a valid label name (letters, digits and '_', not starting with a digit)", k)
		}
		if slices.Contains(reservedLabels, k) {
			return fmt.Errorf("agent.labels: %q is reserved for the agent's own use", k)
		}
	}
	for i, r := range a.Resolvers {
		norm, err := ParseResolver(r)
		if err != nil {
			return fmt.Errorf("agent.resolvers[%d]: %q is not an IP address or IP:port", i, r)
		}
		a.Resolvers[i] = norm
	}
	for name, p := range c.Providers {
		if name == provider.Auto {
			return fmt.Errorf("providers.%s: %q is reserved (it means: detect from the URL)", name, name)
		}
		if !nameRE.MatchString(name) {
			return fmt.Errorf("providers.%s: use letters, digits, '-', '_' and '.' only", name)
		}
		for field, list := range map[string][]string{"push_cname_suffixes": p.PushCNAMESuffixes, "playback_cname_suffixes": p.PlaybackCNAMESuffixes} {
			for i, s := range list {
				if !strings.HasPrefix(s, ".") || len(s) < 3 {
					return fmt.Errorf("providers.%s.%s[%d]: %q must start with \".\" (like \".tlivepush.com\")", name, field, i, s)
				}
			}
		}
	}
	profiles := c.Profiles()
	seen := map[string]int{}
	for i := range c.Targets {
		t := &c.Targets[i]
		where := fmt.Sprintf("targets[%d]", i)
		if t.Name == "" {
			return fmt.Errorf("%s: name is required (it labels the target everywhere instead of its URL)", where)
		}
		if !nameRE.MatchString(t.Name) {
			return fmt.Errorf("%s: name %q: use letters, digits, '-', '_' and '.' only (at most 64)", where, t.Name)
		}
		if j, dup := seen[t.Name]; dup {
			return fmt.Errorf("%s: name %q is already used by targets[%d]", where, t.Name, j)
		}
		seen[t.Name] = i
		where = fmt.Sprintf("targets[%d] (%s)", i, t.Name)
		if t.URL == "" {
			return fmt.Errorf("%s: url is required", where)
		}
		u, err := ingesturl.Parse(t.URL)
		if err != nil {
			return fmt.Errorf("%s: url: %w", where, err)
		}
		if t.Provider == "" {
			t.Provider = provider.Auto
		}
		if _, ok := provider.Resolve(t.Provider, u, profiles); !ok {
			return fmt.Errorf("%s: provider %q is not defined (known: %s)", where, t.Provider, strings.Join(profileNames(profiles), ", "))
		}
		if t.AltPorts == nil {
			t.AltPorts = DefaultAltPortsFor(u.Port)
		}
		for _, p := range t.AltPorts {
			if p < 1 || p > 65535 {
				return fmt.Errorf("%s: alt_ports: %d is not a port (1-65535)", where, p)
			}
			if p == u.Port {
				return fmt.Errorf("%s: alt_ports: %d is the ingest port itself", where, p)
			}
		}
		if t.Interval == 0 {
			t.Interval = a.Interval
		}
		if t.Timeout == 0 {
			t.Timeout = Duration(min(a.Timeout.D(), t.Interval.D()/2))
		}
		if t.Interval < 0 || t.Timeout < 0 {
			return fmt.Errorf("%s: interval and timeout must be positive", where)
		}
		if t.Timeout >= t.Interval {
			return fmt.Errorf("%s: timeout (%s) must be less than interval (%s)", where, t.Timeout.D(), t.Interval.D())
		}
		if err := validateRTMP(t, u); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

func validateRTMP(t *Target, u *ingesturl.URL) error {
	if t.RTMP == "" {
		t.RTMP = DefaultRTMPLevel
	}
	if !slices.Contains(RTMPLevels, t.RTMP) {
		return fmt.Errorf("rtmp %q: must be off, handshake, connect or publish", t.RTMP)
	}
	if u.Scheme != "rtmps" {
		if t.CAFile != "" {
			return fmt.Errorf("ca_file is only used with rtmps:// URLs")
		}
		if t.InsecureSkipVerify {
			return fmt.Errorf("insecure_skip_verify is only used with rtmps:// URLs")
		}
		return nil
	}
	if t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return fmt.Errorf("ca_file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			return fmt.Errorf("ca_file %s: no PEM certificate in it", t.CAFile)
		}
	}
	return nil
}

// DefaultAltPortsFor is DefaultAltPorts without the ingest port itself.
func DefaultAltPortsFor(ingestPort int) []int {
	var out []int
	for _, p := range DefaultAltPorts {
		if p != ingestPort && !(p == 1935 && ingestPort != 443) {
			out = append(out, p)
		}
	}
	return out
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
