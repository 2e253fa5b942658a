package config

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/internal/secret"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/status"
)

// validate fills in defaults and checks the config, one section at a time. A default comes from
// the package that owns the setting (sink, diagnose, the probes); this file only applies it.
func (c *Config) validate() error {
	if err := validateAgent(&c.Agent); err != nil {
		return err
	}
	if err := validateProviders(c.Providers); err != nil {
		return err
	}
	names := map[string]int{}
	for i := range c.Sinks {
		if err := c.validateSink(i, names); err != nil {
			return err
		}
	}
	if err := c.validateStatus(); err != nil {
		return err
	}
	profiles := c.Profiles()
	seen := map[string]int{}
	for i := range c.Targets {
		if err := c.validateTarget(i, profiles, seen); err != nil {
			return err
		}
	}
	return nil
}

func validateAgent(a *Agent) error {
	if a.ID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "ingestprobe"
		}
		a.ID = h
	} else if !nameRE.MatchString(a.ID) {
		return fmt.Errorf("agent.id %q: use letters, digits, '-', '_' and '.' only (at most 64)", a.ID)
	}
	if err := validateSchedule(a); err != nil {
		return err
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
	if err := validateClock(a); err != nil {
		return err
	}
	if a.Concurrency < 0 {
		return fmt.Errorf("agent.concurrency: must be positive, got %d", a.Concurrency)
	}
	return validateSpool(a)
}

func validateSchedule(a *Agent) error {
	if a.Interval.D() == 0 {
		a.Interval = Dur(DefaultInterval)
	}
	if a.Timeout.D() == 0 {
		a.Timeout = Dur(min(DefaultTimeout, a.Interval.D()/2))
	}
	if a.Interval.D() < 0 {
		return fmt.Errorf("agent.interval: must be positive, got %s", a.Interval.D())
	}
	if a.Timeout.D() < 0 {
		return fmt.Errorf("agent.timeout: must be positive, got %s", a.Timeout.D())
	}
	if a.Timeout.D() >= a.Interval.D() {
		return fmt.Errorf("agent.timeout (%s) must be less than agent.interval (%s)", a.Timeout.D(), a.Interval.D())
	}
	return nil
}

func validateClock(a *Agent) error {
	if a.NTPServer != "" {
		norm, err := ParseNTPServer(a.NTPServer)
		if err != nil {
			return fmt.Errorf("agent.ntp_server: %w", err)
		}
		a.NTPServer = norm
	}
	if a.ClockSkewWarn.D() == 0 {
		a.ClockSkewWarn = Dur(diagnose.DefaultClockSkewWarn)
	}
	if a.ClockSkewError.D() == 0 {
		a.ClockSkewError = Dur(max(diagnose.DefaultClockSkewError, a.ClockSkewWarn.D()*2))
	}
	if a.ClockSkewWarn.D() < 0 || a.ClockSkewError.D() < 0 {
		return fmt.Errorf("agent.clock_skew_warn and agent.clock_skew_error must be positive")
	}
	if a.ClockSkewWarn.D() >= a.ClockSkewError.D() {
		return fmt.Errorf("agent.clock_skew_warn (%s) must be less than agent.clock_skew_error (%s)", a.ClockSkewWarn.D(), a.ClockSkewError.D())
	}
	return nil
}

func validateSpool(a *Agent) error {
	if a.SpoolMaxMB < 0 {
		return fmt.Errorf("agent.spool_max_mb: must be positive, got %d", a.SpoolMaxMB)
	}
	if a.SpoolMaxMB == 0 {
		a.SpoolMaxMB = DefaultSpoolMaxMB
	}
	if a.SpoolMaxAge.D() < 0 {
		return fmt.Errorf("agent.spool_max_age: must be positive, got %s", a.SpoolMaxAge.D())
	}
	if a.SpoolMaxAge.D() == 0 {
		a.SpoolMaxAge = Dur(DefaultSpoolMaxAge)
	}
	return nil
}

func validateProviders(ps map[string]Provider) error {
	for name, p := range ps {
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
	return nil
}

// validateSink checks sinks[i]; names maps the sink names seen so far to their index + 1.
func (c *Config) validateSink(i int, names map[string]int) error {
	k := &c.Sinks[i]
	where := fmt.Sprintf("sinks[%d]", i)
	switch {
	case k.Type == "":
		return fmt.Errorf("%s: type is required (jsonl, http, prometheus or remote_write)", where)
	case !slices.Contains(sink.Types, k.Type):
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
	set, uses := k.Set(), sink.Keys(k.Type)
	for _, f := range []string{"path", "listen", "url", "token_file", "ca_file", "timeout", "batch_size"} {
		if set[f] && !slices.Contains(uses, f) {
			return fmt.Errorf("%s: %s does not apply to a %s sink", where, f, k.Type)
		}
	}
	switch k.Type {
	case sink.Prometheus:
		if k.Listen == "" {
			k.Listen = sink.DefaultListen
		}
		if !validListen(k.Listen) {
			return fmt.Errorf("%s: listen %q is not host:port (a port from 0 to 65535)", where, k.Listen)
		}
	case sink.HTTP, sink.RemoteWrite:
		if k.URL == "" {
			return fmt.Errorf("%s: url is required", where)
		}
		if !strings.HasPrefix(k.URL, "http://") && !strings.HasPrefix(k.URL, "https://") {
			return fmt.Errorf("%s: url must start with http:// or https://", where)
		}
		if k.Timeout.D() < 0 || k.BatchSize < 0 {
			return fmt.Errorf("%s: timeout and batch_size must be positive", where)
		}
		if k.Timeout.D() == 0 {
			k.Timeout = Dur(sink.DefaultTimeout)
		}
		if k.BatchSize == 0 {
			k.BatchSize = sink.DefaultBatchSize
		}
	}
	return nil
}

// validateTarget checks targets[i]; seen maps the target names seen so far to their index.
func (c *Config) validateTarget(i int, profiles map[string]provider.Profile, seen map[string]int) error {
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
	t.Parsed = u
	if t.Provider == "" {
		t.Provider = provider.Auto
	}
	if _, ok := provider.Resolve(t.Provider, u, profiles); !ok {
		return fmt.Errorf("%s: provider %q is not defined (known: %s)", where, t.Provider, strings.Join(profileNames(profiles), ", "))
	}
	for _, check := range []func(*Target, *ingesturl.URL) error{
		validateAltPorts,
		func(t *Target, _ *ingesturl.URL) error { return validateTargetSchedule(t, &c.Agent) },
		func(t *Target, _ *ingesturl.URL) error { return c.validateURLDoctor(t, where) },
		func(t *Target, u *ingesturl.URL) error { return c.validateRTMP(t, u) },
		func(t *Target, _ *ingesturl.URL) error { return validateICMP(t) },
		func(t *Target, _ *ingesturl.URL) error { return validateTrace(t) },
		validateLive,
		validateUplink,
	} {
		if err := check(t, u); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

func validateAltPorts(t *Target, u *ingesturl.URL) error {
	if t.AltPorts == nil {
		t.AltPorts = tcp.AlternativePorts(u.Port)
	}
	for _, p := range t.AltPorts {
		if p < 1 || p > 65535 {
			return fmt.Errorf("alt_ports: %d is not a port (1-65535)", p)
		}
		if p == u.Port {
			return fmt.Errorf("alt_ports: %d is the ingest port itself", p)
		}
	}
	return nil
}

func validateTargetSchedule(t *Target, a *Agent) error {
	if t.Interval.D() == 0 {
		t.Interval = a.Interval
	}
	if t.Timeout.D() == 0 {
		t.Timeout = Dur(min(a.Timeout.D(), t.Interval.D()/2))
	}
	if t.Interval.D() < 0 || t.Timeout.D() < 0 {
		return fmt.Errorf("interval and timeout must be positive")
	}
	if t.Timeout.D() >= t.Interval.D() {
		return fmt.Errorf("timeout (%s) must be less than interval (%s)", t.Timeout.D(), t.Interval.D())
	}
	return nil
}

func (c *Config) validateRTMP(t *Target, u *ingesturl.URL) error {
	if t.CAFile != "" {
		t.CAFile = c.resolve(t.CAFile)
	}
	t.RTMPSet = t.RTMP != ""
	if t.RTMP == "" {
		t.RTMP = string(rtmp.LevelHandshake) // touches no stream: a daemon probing every 30 s must not occupy one
	}
	if _, err := rtmp.ParseLevel(t.RTMP); err != nil {
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
		// Checked here with a pool of its own: the system's roots are not parsed for it.
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

// validateUplink checks the soak's keys: a bitrate uplink.ParseRate reads, a window and a schedule
// in bounds, an RTMP URL to publish to; uplink_for and uplink_every need uplink.
func validateUplink(t *Target, u *ingesturl.URL) error {
	if t.Uplink == "" {
		if t.UplinkFor.D() != 0 || t.UplinkEvery.D() != 0 {
			return fmt.Errorf("uplink_for and uplink_every need uplink (the show's bitrate, e.g. uplink = \"6M\")")
		}
		return nil
	}
	bps, err := uplink.ParseRate(t.Uplink)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	t.UplinkBPS = bps
	if u.Scheme != "rtmp" && u.Scheme != "rtmps" {
		return fmt.Errorf("uplink: the soak publishes over RTMP; %s:// URLs are not supported", u.Scheme)
	}
	if t.RTMP == string(rtmp.LevelOff) {
		return fmt.Errorf("uplink: the soak publishes, which rtmp = \"off\" forbids")
	}
	if t.UplinkFor.D() == 0 {
		t.UplinkFor = Dur(uplink.DefaultWindow)
	}
	if err := uplink.CheckWindow(t.UplinkFor.D()); err != nil {
		return fmt.Errorf("uplink_for %w", err)
	}
	if t.UplinkEvery.D() == 0 {
		t.UplinkEvery = Dur(uplink.DefaultEvery)
	}
	if t.UplinkEvery.D() < uplink.MinEvery {
		return fmt.Errorf("uplink_every %s: at least %s (each soak occupies the stream and sends the show's bitrate)", t.UplinkEvery.D(), uplink.MinEvery)
	}
	return nil
}

func validateICMP(t *Target) error {
	if t.ICMP == nil {
		t.ICMP = new(bool)
		*t.ICMP = true
	}
	switch {
	case t.ICMPCount == 0:
		t.ICMPCount = icmp.DefaultCount
	case t.ICMPCount < 0 || t.ICMPCount > icmp.MaxCount:
		return fmt.Errorf("icmp_count: %d is not between 1 and %d", t.ICMPCount, icmp.MaxCount)
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
	if t.LatencyWarn.D() < 0 {
		return fmt.Errorf("latency_warn: must be positive, got %s", t.LatencyWarn.D())
	}
	if t.LatencyWarn.D() == 0 {
		t.LatencyWarn = Dur(d.LatencyWarn)
	}
	return nil
}

// ICMPThresholds of a validated target.
func (t *Target) ICMPThresholds() diagnose.ICMPThresholds {
	return diagnose.ICMPThresholds{LossWarnRatio: *t.LossWarnRatio, LossErrorRatio: *t.LossErrorRatio, LatencyWarn: t.LatencyWarn.D()}
}

func (c *Config) validateURLDoctor(t *Target, where string) error {
	switch ingesturl.Mode(t.Mode) {
	case "", ingesturl.ModeRTMP, ingesturl.ModeRTC:
	default:
		return fmt.Errorf("mode %q: want \"rtmp\" or \"rtc\" (or leave it out to infer it from the URL)", t.Mode)
	}
	if t.MinURLValidity.D() < 0 {
		return fmt.Errorf("min_url_validity: must be positive, got %s", t.MinURLValidity.D())
	}
	if t.MinURLValidity.D() == 0 {
		t.MinURLValidity = Dur(diagnose.DefaultMinURLValidity)
	}
	if t.SignKey != "" && t.SignKeyFile != "" {
		return fmt.Errorf("set sign_key_file or sign_key, not both")
	}
	if t.SignBackupKeyFile != "" && t.SignKey == "" && t.SignKeyFile == "" {
		return fmt.Errorf("sign_backup_key_file needs sign_key_file too (the backup is tried after the primary)")
	}
	t.SignKeys = nil
	switch {
	case t.SignKeyFile != "":
		k, err := c.readKey(where, "sign_key_file", t.SignKeyFile)
		if err != nil {
			return err
		}
		t.SignKeys = append(t.SignKeys, k)
	case t.SignKey != "":
		c.warnings = append(c.warnings, where+": sign_key is written in the config itself, so anyone who can read the config can sign push URLs: move it to a file readable only by ingestprobe and set sign_key_file")
		t.SignKeys = append(t.SignKeys, ingesturl.Key(strings.TrimSpace(string(t.SignKey))))
	}
	if t.SignBackupKeyFile != "" {
		k, err := c.readKey(where, "sign_backup_key_file", t.SignBackupKeyFile)
		if err != nil {
			return err
		}
		t.SignKeys = append(t.SignKeys, k)
	}
	return nil
}

// readKey reads a signing key file named by key, noting the warning about a file every user may read.
func (c *Config) readKey(where, key, path string) (ingesturl.Key, error) {
	k, warn, err := secret.ReadFile(c.resolve(path))
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if warn != "" {
		c.warnings = append(c.warnings, fmt.Sprintf("%s: %s %s", where, key, warn))
	}
	return ingesturl.Key(k), nil
}

func (c *Config) resolve(p string) string {
	if c.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
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

// validateStatus checks [status], the board: on loopback by default; any other address serves the
// venue network, so it needs a token.
func (c *Config) validateStatus() error {
	s := c.Status
	if s == nil {
		return nil
	}
	if s.Listen == "" {
		s.Listen = status.DefaultListen
	}
	_, port, err := net.SplitHostPort(s.Listen)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("status.listen %q is not host:port", s.Listen)
	}
	if s.TokenFile != "" {
		s.TokenFile = c.resolve(s.TokenFile)
	} else if !status.Loopback(s.Listen) {
		return fmt.Errorf("status.listen %q is not a loopback address: set status.token_file (a bearer token the crew's link carries), or listen on %s", s.Listen, status.DefaultListen)
	}
	return nil
}

// validationKeyRE reads the key a validation error starts with: "agent.timeout …",
// "status.listen …", "targets[1] (name): url: …", "sinks[0] (name): listen …".
var validationKeyRE = regexp.MustCompile(`^(?:(agent|status)\.([a-z_]+)|(targets|sinks)\[(\d+)\] \([^)]*\): ([a-z_]+))`)

// positioned are the keys whose validation errors are given a position so far: the schedule and
// the URL, the errors README.md shows.
var positioned = map[string]bool{"interval": true, "timeout": true, "url": true}

// keyPosition finds the line and column of the key a validation error names, so that it reads
// like a decoding error ("config c.toml:3:1: agent.timeout …"). ok is false when the error names
// no key or the key is not written in the file (a default).
func keyPosition(doc []byte, msg string) (row, col int, ok bool) {
	m := validationKeyRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, 0, false
	}
	table, index, key := m[1], 0, m[2]
	if table == "" {
		table, key = m[3], m[5]
		index, _ = strconv.Atoi(m[4])
	}
	if !positioned[key] {
		return 0, 0, false
	}
	current, seen := "", -1
	for i, line := range strings.Split(string(doc), "\n") {
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "[["):
			current = strings.TrimSpace(strings.Trim(strings.SplitN(l, "#", 2)[0], "[] \t"))
			if current == table {
				seen++
			}
		case strings.HasPrefix(l, "["):
			current = strings.TrimSpace(strings.Trim(strings.SplitN(l, "#", 2)[0], "[] \t"))
		default:
			k, _, found := strings.Cut(l, "=")
			if !found || current != table || strings.TrimSpace(k) != key || (m[3] != "" && seen != index) {
				continue
			}
			return i + 1, len(line) - len(strings.TrimLeft(line, " \t")) + 1, true
		}
	}
	return 0, 0, false
}

func validateTrace(t *Target) error {
	m, err := path.ParseMode(t.Trace)
	if err != nil {
		return fmt.Errorf("trace %q: must be auto, off or always", t.Trace)
	}
	t.Trace = string(m)
	return nil
}
