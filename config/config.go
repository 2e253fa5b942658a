// Package config loads and validates the agent's TOML configuration. Decoding is strict: an unknown
// key is an error naming the key and its line, because a misspelt key silently ignored is a probe
// silently misconfigured.
package config

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
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

	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
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

// Duration is a time.Duration written as a string in TOML ("30s", "5m", "12h"). It is a struct so
// that a bare integer (interval = 30) is an error rather than 30 nanoseconds.
type Duration struct{ d time.Duration }

// Dur makes a Duration.
func Dur(d time.Duration) Duration { return Duration{d} }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &durationError{text: string(b)}
	}
	d.d = v
	return nil
}

// durationError is a bad duration. go-toml gives no position for one written as a bare number, so
// Parse finds its line itself.
type durationError struct{ text string }

func (e *durationError) Error() string {
	return fmt.Sprintf("%q is not a duration (write it like \"30s\", \"5m\" or \"12h\")", e.text)
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.d.String()), nil }

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return d.d }

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
	Sinks     []Sink              `toml:"sinks"`

	path     string
	dir      string   // relative *_file paths are read from here: the config file's directory
	warnings []string // things valid but unwise, for the caller to log
}

// Agent holds settings for the whole agent.
type Agent struct {
	ID        string            `toml:"id"`
	Interval  Duration          `toml:"interval"`
	Timeout   Duration          `toml:"timeout"`
	StateDir  string            `toml:"state_dir"`
	Labels    map[string]string `toml:"labels"`
	Resolvers []string          `toml:"resolvers"`
	// Concurrency bounds target runs in flight at once (default 64).
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

// Sink types.
const (
	SinkJSONL       = "jsonl"
	SinkHTTP        = "http"
	SinkPrometheus  = "prometheus"
	SinkRemoteWrite = "remote_write"
)

// Sink is one place results go.
type Sink struct {
	Type      string   `toml:"type"`
	Name      string   `toml:"name"`       // default: the type; names the spool cursor and the metrics' sink label
	Path      string   `toml:"path"`       // jsonl: "-" (stdout, default) or a file
	Listen    string   `toml:"listen"`     // prometheus: address of /metrics (default 127.0.0.1:9935)
	URL       string   `toml:"url"`        // http, remote_write
	TokenFile string   `toml:"token_file"` // http, remote_write: bearer token read from a file
	CAFile    string   `toml:"ca_file"`    // http, remote_write: extra CA for the collector's TLS
	Timeout   Duration `toml:"timeout"`    // http, remote_write: per request (default 10s)
	BatchSize int      `toml:"batch_size"` // http, remote_write: records per request (default 500)
}

// Sink defaults.
const (
	DefaultPrometheusListen = "127.0.0.1:9935"
	DefaultSinkTimeout      = 10 * time.Second
	DefaultBatchSize        = 500
	DefaultSpoolMaxMB       = 256
	DefaultSpoolMaxAge      = 7 * 24 * time.Hour
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

	// SignKeys holds the keys read from the files above, primary first. Never logged: a Key formats
	// as <redacted>.
	SignKeys []ingesturl.Key `toml:"-"`

	// RTMP is how far the RTMP probe goes: off, handshake (the default: no stream is touched),
	// connect (to the app), or publish (occupies the stream for about 2 s each run).
	RTMP               string `toml:"rtmp"`
	CAFile             string `toml:"ca_file"`              // PEM CA trusted besides the system's, for rtmps://
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"` // rtmps:// without verifying the certificate

	// ICMP echo burst to the first resolved address, beside the TCP connects. Defaults are filled
	// in by Parse, so after it the pointers are never nil.
	ICMP           *bool    `toml:"icmp"`             // default true
	ICMPCount      int      `toml:"icmp_count"`       // echoes per run, 1 to MaxICMPCount; default 5
	LossWarnRatio  *float64 `toml:"loss_warn_ratio"`  // net.packet_loss warning above this; default 0.02
	LossErrorRatio *float64 `toml:"loss_error_ratio"` // net.packet_loss error above this; default 0.2
	LatencyWarn    Duration `toml:"latency_warn"`     // net.high_latency above this average; default "150ms"
}

// MaxICMPCount bounds icmp_count: a burst is a sample of the path, not a load test; 20 echoes at most 20 ms apart plus the reply wait stay well inside the default
// 5 s timeout; more would be cut short by the deadline anyway.
const MaxICMPCount = 20

// RTMPLevels are the values of a target's rtmp key, in order.
var RTMPLevels = []string{"off", "handshake", "connect", "publish"}

// DefaultRTMPLevel touches no stream: a daemon probing every 30 s must not occupy one.
const DefaultRTMPLevel = "handshake"

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
	c := Config{dir: dir}
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(err, b)
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
	var de2 *durationError
	if errors.As(err, &de2) {
		// A bare number: find "key = 30" to name the line and key.
		for i, line := range strings.Split(string(doc), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(strings.SplitN(v, "#", 2)[0]) == de2.text {
				return fmt.Errorf(":%d:%d: %s: %v", i+1, len(k)+2, strings.TrimSpace(k), err)
			}
		}
	}
	return fmt.Errorf(": %w", err)
}

// nameRE is ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ and labelRE ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$, checked by
// hand: compiled, each `{0,63}` is a 64-fold regexp program, and building the two cost every start
// of the binary about a millisecond (GODEBUG=inittrace=1), `check` included.
var (
	nameRE  = charsRE{first: isAlnum, rest: func(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == '-' }, max: 64}
	labelRE = charsRE{first: func(c byte) bool { return isLetter(c) || c == '_' }, rest: func(c byte) bool { return isAlnum(c) || c == '_' }, max: 64}
)

// charsRE matches 1 to max bytes: the first in one class, the rest in another.
type charsRE struct {
	first, rest func(byte) bool
	max         int
}

func (m charsRE) MatchString(s string) bool {
	if len(s) == 0 || len(s) > m.max || !m.first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !m.rest(s[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || '0' <= c && c <= '9' }

// reservedLabels are set by the agent itself on every series and record.
var reservedLabels = []string{"agent", "target", "probe", "port", "phase", "code", "severity", "stat", "job", "instance"}

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
	if a.Interval.d == 0 {
		a.Interval = Dur(DefaultInterval)
	}
	if a.Timeout.d == 0 {
		a.Timeout = Dur(min(DefaultTimeout, a.Interval.D()/2))
	}
	if a.Interval.d < 0 {
		return fmt.Errorf("agent.interval: must be positive, got %s", a.Interval.D())
	}
	if a.Timeout.d < 0 {
		return fmt.Errorf("agent.timeout: must be positive, got %s", a.Timeout.D())
	}
	if a.Timeout.d >= a.Interval.d {
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
	if a.NTPServer != "" {
		norm, err := ParseNTPServer(a.NTPServer)
		if err != nil {
			return fmt.Errorf("agent.ntp_server: %w", err)
		}
		a.NTPServer = norm
	}
	if a.ClockSkewWarn.d == 0 {
		a.ClockSkewWarn = Dur(diagnose.DefaultClockSkewWarn)
	}
	if a.ClockSkewError.d == 0 {
		a.ClockSkewError = Dur(max(diagnose.DefaultClockSkewError, a.ClockSkewWarn.D()*2))
	}
	if a.ClockSkewWarn.d < 0 || a.ClockSkewError.d < 0 {
		return fmt.Errorf("agent.clock_skew_warn and agent.clock_skew_error must be positive")
	}
	if a.ClockSkewWarn.d >= a.ClockSkewError.d {
		return fmt.Errorf("agent.clock_skew_warn (%s) must be less than agent.clock_skew_error (%s)", a.ClockSkewWarn.D(), a.ClockSkewError.D())
	}
	for name, p := range c.Providers {
		if name == provider.Auto {
			return fmt.Errorf("providers.%s: %q is reserved (it means: detect from the URL)", name, name)
		}
		if !nameRE.MatchString(name) {
			return fmt.Errorf("providers.%s: use letters, digits, '-', '_' and '.' only", name)
		}
		for field, list := range map[string][]string{"push_cname_suffixes": p.PushCNAMESuffixes, "playback_cname_suffixes": p.PlaybackCNAMESuffixes, "extra_push_suffixes": p.ExtraPushSuffixes} {
			for i, s := range list {
				if !strings.HasPrefix(s, ".") || len(s) < 3 {
					return fmt.Errorf("providers.%s.%s[%d]: %q must start with \".\" (like \".tlivepush.com\")", name, field, i, s)
				}
			}
		}
	}
	if a.Concurrency < 0 {
		return fmt.Errorf("agent.concurrency: must be positive, got %d", a.Concurrency)
	}
	if a.Concurrency == 0 {
		a.Concurrency = 64
	}
	if a.SpoolMaxMB < 0 {
		return fmt.Errorf("agent.spool_max_mb: must be positive, got %d", a.SpoolMaxMB)
	}
	if a.SpoolMaxMB == 0 {
		a.SpoolMaxMB = DefaultSpoolMaxMB
	}
	if a.SpoolMaxAge.d < 0 {
		return fmt.Errorf("agent.spool_max_age: must be positive, got %s", a.SpoolMaxAge.d)
	}
	if a.SpoolMaxAge.d == 0 {
		a.SpoolMaxAge = Dur(DefaultSpoolMaxAge)
	}
	if err := c.validateSinks(); err != nil {
		return err
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
		if t.Interval.d == 0 {
			t.Interval = a.Interval
		}
		if t.Timeout.d == 0 {
			t.Timeout = Dur(min(a.Timeout.D(), t.Interval.D()/2))
		}
		if t.Interval.d < 0 || t.Timeout.d < 0 {
			return fmt.Errorf("%s: interval and timeout must be positive", where)
		}
		if t.Timeout.d >= t.Interval.d {
			return fmt.Errorf("%s: timeout (%s) must be less than interval (%s)", where, t.Timeout.D(), t.Interval.D())
		}
		if err := c.validateURLDoctor(t, where); err != nil {
			return err
		}
		if t.CAFile != "" {
			t.CAFile = c.resolve(t.CAFile)
		}
		if err := validateRTMP(t, u); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := t.setICMPDefaults(); err != nil {
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

func (t *Target) setICMPDefaults() error {
	if t.ICMP == nil {
		t.ICMP = new(bool)
		*t.ICMP = true
	}
	switch {
	case t.ICMPCount == 0:
		t.ICMPCount = icmp.DefaultCount
	case t.ICMPCount < 0 || t.ICMPCount > MaxICMPCount:
		return fmt.Errorf("icmp_count: %d is not between 1 and %d", t.ICMPCount, MaxICMPCount)
	}
	d := diagnose.DefaultICMPThresholds
	for _, r := range []struct {
		key string
		v   **float64
		def float64
	}{{"loss_warn_ratio", &t.LossWarnRatio, d.LossWarnRatio}, {"loss_error_ratio", &t.LossErrorRatio, d.LossErrorRatio}} {
		if *r.v == nil {
			*r.v = new(float64)
			**r.v = r.def
		}
		if x := **r.v; x < 0 || x >= 1 {
			return fmt.Errorf("%s: %v is not a ratio from 0 to below 1 (write 2 %% as 0.02)", r.key, x)
		}
	}
	if *t.LossWarnRatio >= *t.LossErrorRatio {
		return fmt.Errorf("loss_warn_ratio (%v) must be less than loss_error_ratio (%v)", *t.LossWarnRatio, *t.LossErrorRatio)
	}
	if t.LatencyWarn.d < 0 {
		return fmt.Errorf("latency_warn: must be positive, got %s", t.LatencyWarn.D())
	}
	if t.LatencyWarn.d == 0 {
		t.LatencyWarn = Dur(d.LatencyWarn)
	}
	return nil
}

// ICMPThresholds of a validated target.
func (t *Target) ICMPThresholds() diagnose.ICMPThresholds {
	return diagnose.ICMPThresholds{LossWarnRatio: *t.LossWarnRatio, LossErrorRatio: *t.LossErrorRatio, LatencyWarn: t.LatencyWarn.D()}
}

func (c *Config) validateSinks() error {
	names := map[string]int{}
	for i := range c.Sinks {
		k := &c.Sinks[i]
		where := fmt.Sprintf("sinks[%d]", i)
		uses := map[string]bool{}
		switch k.Type {
		case SinkJSONL:
			uses["path"] = true
		case SinkPrometheus:
			uses["listen"] = true
		case SinkHTTP, SinkRemoteWrite:
			for _, f := range []string{"url", "token_file", "ca_file", "timeout", "batch_size"} {
				uses[f] = true
			}
		case "":
			return fmt.Errorf("%s: type is required (jsonl, http, prometheus or remote_write)", where)
		default:
			return fmt.Errorf("%s: type %q is not one of jsonl, http, prometheus, remote_write", where, k.Type)
		}
		if k.Name == "" {
			k.Name = k.Type
			if names[k.Name] > 0 {
				k.Name = fmt.Sprintf("%s-%d", k.Type, i)
			}
		}
		if !nameRE.MatchString(k.Name) {
			return fmt.Errorf("%s: name %q: use letters, digits, '-', '_' and '.' only", where, k.Name)
		}
		if j, dup := names[k.Name]; dup {
			return fmt.Errorf("%s: name %q is already used by sinks[%d]", where, k.Name, j-1)
		}
		names[k.Name] = i + 1
		where = fmt.Sprintf("sinks[%d] (%s)", i, k.Name)
		// Like every *_file key, relative to the config file's directory.
		if k.TokenFile != "" {
			k.TokenFile = c.resolve(k.TokenFile)
		}
		if k.CAFile != "" {
			k.CAFile = c.resolve(k.CAFile)
		}
		set := map[string]bool{"path": k.Path != "", "listen": k.Listen != "", "url": k.URL != "", "token_file": k.TokenFile != "",
			"ca_file": k.CAFile != "", "timeout": k.Timeout.d != 0, "batch_size": k.BatchSize != 0}
		for _, f := range []string{"path", "listen", "url", "token_file", "ca_file", "timeout", "batch_size"} {
			if set[f] && !uses[f] {
				return fmt.Errorf("%s: %s does not apply to a %s sink", where, f, k.Type)
			}
		}
		switch k.Type {
		case SinkPrometheus:
			if k.Listen == "" {
				k.Listen = DefaultPrometheusListen
			}
			if _, _, err := net.SplitHostPort(k.Listen); err != nil {
				return fmt.Errorf("%s: listen %q is not host:port", where, k.Listen)
			}
		case SinkHTTP, SinkRemoteWrite:
			if k.URL == "" {
				return fmt.Errorf("%s: url is required", where)
			}
			if !strings.HasPrefix(k.URL, "http://") && !strings.HasPrefix(k.URL, "https://") {
				return fmt.Errorf("%s: url must start with http:// or https://", where)
			}
			if k.Timeout.d < 0 || k.BatchSize < 0 {
				return fmt.Errorf("%s: timeout and batch_size must be positive", where)
			}
			if k.Timeout.d == 0 {
				k.Timeout = Dur(DefaultSinkTimeout)
			}
			if k.BatchSize == 0 {
				k.BatchSize = DefaultBatchSize
			}
		}
	}
	return nil
}

func (c *Config) validateURLDoctor(t *Target, where string) error {
	switch ingesturl.Mode(t.Mode) {
	case "", ingesturl.ModeRTMP, ingesturl.ModeRTC:
	default:
		return fmt.Errorf("%s: mode %q: want \"rtmp\" or \"rtc\" (or leave it out to infer it from the URL)", where, t.Mode)
	}
	if t.MinURLValidity.d < 0 {
		return fmt.Errorf("%s: min_url_validity: must be positive, got %s", where, t.MinURLValidity.D())
	}
	if t.MinURLValidity.d == 0 {
		t.MinURLValidity = Dur(diagnose.DefaultMinURLValidity)
	}
	if t.SignKey != "" && t.SignKeyFile != "" {
		return fmt.Errorf("%s: set sign_key_file or sign_key, not both", where)
	}
	if t.SignBackupKeyFile != "" && t.SignKey == "" && t.SignKeyFile == "" {
		return fmt.Errorf("%s: sign_backup_key_file needs sign_key_file too (the backup is tried after the primary)", where)
	}
	t.SignKeys = nil
	switch {
	case t.SignKeyFile != "":
		k, warn, err := ReadSecretFile(c.resolve(t.SignKeyFile))
		if err != nil {
			return fmt.Errorf("%s: sign_key_file: %w", where, err)
		}
		if warn != "" {
			c.warnings = append(c.warnings, fmt.Sprintf("%s: sign_key_file %s", where, warn))
		}
		t.SignKeys = append(t.SignKeys, ingesturl.Key(k))
	case t.SignKey != "":
		c.warnings = append(c.warnings, where+": sign_key is written in the config itself, so anyone who can read the config can sign push URLs: move it to a file readable only by ingestprobe and set sign_key_file")
		t.SignKeys = append(t.SignKeys, ingesturl.Key(strings.TrimSpace(string(t.SignKey))))
	}
	if t.SignBackupKeyFile != "" {
		k, warn, err := ReadSecretFile(c.resolve(t.SignBackupKeyFile))
		if err != nil {
			return fmt.Errorf("%s: sign_backup_key_file: %w", where, err)
		}
		if warn != "" {
			c.warnings = append(c.warnings, fmt.Sprintf("%s: sign_backup_key_file %s", where, warn))
		}
		t.SignKeys = append(t.SignKeys, ingesturl.Key(k))
	}
	return nil
}

func (c *Config) resolve(p string) string {
	if c.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// maxSecretBytes bounds a secret file: a key or a token is a line, not a file of data.
const maxSecretBytes = 16 << 10

// ReadSecretFile reads a secret (a signing key, a token) from a file: one line, the trailing newline
// and spaces trimmed — editors and `echo` add one, and a key with a newline signs every URL wrong.
// warning is set, naming the file but not its content, when any user may read it. Errors never
// quote the content.
func ReadSecretFile(path string) (secret, warning string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", "", err
	}
	s := strings.TrimRight(string(b), " \t\r\n")
	switch {
	case len(b) > maxSecretBytes:
		return "", "", fmt.Errorf("%s is larger than %d bytes; it should hold one line", path, maxSecretBytes)
	case s == "":
		return "", "", fmt.Errorf("%s is empty", path)
	case strings.ContainsAny(s, "\r\n"):
		return "", "", fmt.Errorf("%s holds more than one line; want the key alone", path)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o004 != 0 {
			warning = fmt.Sprintf("%s is readable by every user of this host (mode %04o): chmod 600 it, owned by the user ingestprobe runs as", path, fi.Mode().Perm())
		}
	}
	return s, warning, nil
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
