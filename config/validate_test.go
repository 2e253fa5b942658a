package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/sink"
)

// Each section is validated by a function of its own; these tables pin what each accepts, what it
// fills in, and how it refuses.

func TestValidateAgent(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Agent
		err  string // substring; "" = valid
		then func(Agent) bool
	}{
		{"defaults", Agent{}, "", func(a Agent) bool {
			return a.ID != "" && a.Interval.D() == DefaultInterval && a.Timeout.D() == DefaultTimeout && a.StateDir == DefaultStateDir &&
				a.SpoolMaxMB == DefaultSpoolMaxMB && a.SpoolMaxAge.D() == DefaultSpoolMaxAge && a.Concurrency == 0
		}},
		{"timeout follows a short interval", Agent{Interval: Dur(4 * time.Second)}, "", func(a Agent) bool { return a.Timeout.D() == 2*time.Second }},
		{"bad id", Agent{ID: "enc 1"}, `agent.id "enc 1"`, nil},
		{"timeout not under interval", Agent{Interval: Dur(time.Second), Timeout: Dur(time.Second)}, "must be less than agent.interval", nil},
		{"negative interval", Agent{Interval: Dur(-time.Second)}, "agent.interval: must be positive", nil},
		{"reserved label", Agent{Labels: map[string]string{"target": "x"}}, `"target" is reserved`, nil},
		{"bad label", Agent{Labels: map[string]string{"9x": "x"}}, "not a valid label name", nil},
		{"resolver normalised", Agent{Resolvers: []string{"192.0.2.53"}}, "", func(a Agent) bool { return a.Resolvers[0] == "192.0.2.53:53" }},
		{"bad resolver", Agent{Resolvers: []string{"dns.example"}}, "agent.resolvers[0]", nil},
		{"ntp normalised", Agent{NTPServer: "Time.Example"}, "", func(a Agent) bool { return a.NTPServer == "time.example:123" }},
		{"skew order", Agent{ClockSkewWarn: Dur(time.Minute), ClockSkewError: Dur(time.Second)}, "clock_skew_warn (1m0s) must be less", nil},
		{"skew error follows warn", Agent{ClockSkewWarn: Dur(10 * time.Minute)}, "", func(a Agent) bool { return a.ClockSkewError.D() == 20*time.Minute }},
		{"negative concurrency", Agent{Concurrency: -1}, "agent.concurrency", nil},
		{"negative spool", Agent{SpoolMaxMB: -1}, "agent.spool_max_mb", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.in
			err := validateAgent(&a)
			checkErr(t, err, tc.err)
			if err == nil && tc.then != nil && !tc.then(a) {
				t.Errorf("got %+v; not what the defaults promise", a)
			}
		})
	}
}

func TestValidateProviders(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]Provider
		err  string
	}{
		{"ok", map[string]Provider{"ours": {PushCNAMESuffixes: []string{".push.example"}}}, ""},
		{"auto is reserved", map[string]Provider{"auto": {}}, `"auto" is reserved`},
		{"bad name", map[string]Provider{"a b": {}}, "providers.a b"},
		{"suffix without dot", map[string]Provider{"ours": {PlaybackCNAMESuffixes: []string{"cdn.example"}}}, "playback_cname_suffixes[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, validateProviders(tc.in), tc.err) })
	}
}

func TestValidateSink(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []sink.Config
		err  string
		then func([]sink.Config) bool
	}{
		{"jsonl default", []sink.Config{{Type: sink.JSONL}}, "", func(s []sink.Config) bool { return s[0].Name == "jsonl" }},
		{"second of a type numbered", []sink.Config{{Type: sink.JSONL}, {Type: sink.JSONL, Path: "x"}}, "", func(s []sink.Config) bool { return s[1].Name == "jsonl-1" }},
		{"prometheus listen default", []sink.Config{{Type: sink.Prometheus}}, "", func(s []sink.Config) bool { return s[0].Listen == sink.DefaultListen }},
		{"push defaults", []sink.Config{{Type: sink.HTTP, URL: "http://127.0.0.1/x"}}, "", func(s []sink.Config) bool {
			return s[0].Timeout.D() == sink.DefaultTimeout && s[0].BatchSize == sink.DefaultBatchSize
		}},
		{"no type", []sink.Config{{}}, "type is required", nil},
		{"unknown type", []sink.Config{{Type: "kafka"}}, `type "kafka" is not one of`, nil},
		{"key of another type", []sink.Config{{Type: sink.JSONL, URL: "http://x"}}, "url does not apply to a jsonl sink", nil},
		{"push without url", []sink.Config{{Type: sink.RemoteWrite}}, "url is required", nil},
		{"push url scheme", []sink.Config{{Type: sink.HTTP, URL: "ftp://x"}}, "must start with http://", nil},
		{"bad listen", []sink.Config{{Type: sink.Prometheus, Listen: "9935"}}, "not host:port", nil},
		{"duplicate name", []sink.Config{{Type: sink.JSONL, Name: "a"}, {Type: sink.Prometheus, Name: "a"}}, `"a" is already used by sinks[0]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{Sinks: slices.Clone(tc.in)}
			names := map[string]int{}
			var err error
			for i := range c.Sinks {
				if err = c.validateSink(i, names); err != nil {
					break
				}
			}
			checkErr(t, err, tc.err)
			if err == nil && tc.then != nil && !tc.then(c.Sinks) {
				t.Errorf("got %+v; not what the defaults promise", c.Sinks)
			}
		})
	}
}

func TestValidateTargetSections(t *testing.T) {
	u, err := ingesturl.Parse("rtmp://push.example.com/live/show")
	if err != nil {
		t.Fatal(err)
	}
	agent := Agent{Interval: Dur(30 * time.Second), Timeout: Dur(5 * time.Second)}
	for _, tc := range []struct {
		name  string
		check func(*Target) error
		in    Target
		err   string
		then  func(Target) bool
	}{
		{"alt ports default", func(t *Target) error { return validateAltPorts(t, u) }, Target{}, "", func(t Target) bool { return slices.Equal(t.AltPorts, []int{443, 80}) }},
		{"alt port is the ingest port", func(t *Target) error { return validateAltPorts(t, u) }, Target{AltPorts: []int{1935}}, "is the ingest port itself", nil},
		{"alt port out of range", func(t *Target) error { return validateAltPorts(t, u) }, Target{AltPorts: []int{0}}, "0 is not a port", nil},
		{"schedule from the agent", func(t *Target) error { return validateTargetSchedule(t, &agent) }, Target{}, "", func(t Target) bool {
			return t.Interval.D() == 30*time.Second && t.Timeout.D() == 5*time.Second
		}},
		{"schedule order", func(t *Target) error { return validateTargetSchedule(t, &agent) }, Target{Interval: Dur(2 * time.Second), Timeout: Dur(3 * time.Second)}, "timeout (3s) must be less than interval (2s)", nil},
		{"rtmp default", func(t *Target) error { return (&Config{}).validateRTMP(t, u) }, Target{}, "", func(t Target) bool { return t.RTMP == "handshake" }},
		{"rtmp level", func(t *Target) error { return (&Config{}).validateRTMP(t, u) }, Target{RTMP: "play"}, `rtmp "play"`, nil},
		{"ca_file needs rtmps", func(t *Target) error { return (&Config{}).validateRTMP(t, u) }, Target{CAFile: "/x.pem"}, "only used with rtmps://", nil},
		{"icmp defaults", validateICMP, Target{}, "", func(t Target) bool {
			return *t.ICMP && t.ICMPCount == 5 && *t.LossWarnRatio == 0.02 && *t.LossErrorRatio == 0.2 && t.LatencyWarn.D() == 150*time.Millisecond
		}},
		{"icmp count bound", validateICMP, Target{ICMPCount: 21}, "icmp_count: 21 is not between 1 and 20", nil},
		{"loss order", validateICMP, Target{LossWarnRatio: ptr(0.5), LossErrorRatio: ptr(0.1)}, "loss_warn_ratio (0.5) must be less", nil},
		{"trace default", validateTrace, Target{}, "", func(t Target) bool { return t.Trace == "auto" }},
		{"trace always", validateTrace, Target{Trace: "always"}, "", func(t Target) bool { return t.Trace == "always" }},
		{"trace mode", validateTrace, Target{Trace: "yes"}, `trace "yes": must be auto, off or always`, nil},
		{"url doctor defaults", func(t *Target) error { return (&Config{}).validateURLDoctor(t, "targets[0]") }, Target{}, "", func(t Target) bool { return t.MinURLValidity.D() == 12*time.Hour }},
		{"mode", func(t *Target) error { return (&Config{}).validateURLDoctor(t, "targets[0]") }, Target{Mode: "webrtc"}, `mode "webrtc"`, nil},
		{"backup key alone", func(t *Target) error { return (&Config{}).validateURLDoctor(t, "targets[0]") }, Target{SignBackupKeyFile: "k"}, "needs sign_key_file too", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.in
			err := tc.check(&tg)
			checkErr(t, err, tc.err)
			if err == nil && tc.then != nil && !tc.then(tg) {
				t.Errorf("got %+v; not what the defaults promise", tg)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("got %v; want no error", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("got %v; want an error with %q", err, want)
	}
}
