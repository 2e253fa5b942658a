package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExampleLoads(t *testing.T) {
	c, err := Load("../config.example.toml")
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if c.Agent.ID != "berlin-enc1" || c.Agent.Interval.D() != 30*time.Second || c.Agent.Timeout.D() != 5*time.Second {
		t.Errorf("got agent %+v; want id berlin-enc1, 30s, 5s", c.Agent)
	}
	if len(c.Targets) != 3 || c.Targets[0].Name != "main-ingest" || c.Targets[1].Provider != "mycdn" {
		t.Errorf("got targets %+v; want main-ingest, backup-ingest (mycdn) and srt-ingest", c.Targets)
	}
	for _, tg := range c.Targets {
		if tg.Name == "srt-ingest" && (tg.Parsed == nil || tg.Parsed.SRT().Passphrase == "" || !slices.Equal(tg.AltPorts, []int{443, 80})) {
			t.Errorf("srt-ingest: got alt_ports %v, parsed %v; want its URL parsed with a passphrase, alt_ports 443 and 80", tg.AltPorts, tg.Parsed != nil)
		}
	}
	if p := c.Profiles()["mycdn"]; !slices.Equal(p.PushSuffixes, []string{".ingest.mycdn.example"}) {
		t.Errorf("got mycdn profile %+v", p)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte("[[targets]]\nname = \"a\"\nurl = \"rtmp://h/live/s\"\n[[targets]]\nname = \"b\"\nurl = \"rtmps://h/live/s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if c.Agent.ID != host || c.Agent.Interval.D() != DefaultInterval || c.Agent.Timeout.D() != DefaultTimeout || c.Agent.StateDir != DefaultStateDir {
		t.Errorf("got agent %+v; want the defaults", c.Agent)
	}
	a, b := c.Targets[0], c.Targets[1]
	if a.Provider != "auto" || !slices.Equal(a.AltPorts, []int{443, 80}) || a.Interval.D() != DefaultInterval || a.Timeout.D() != DefaultTimeout {
		t.Errorf("got target %+v; want auto, [443 80], 30s, 5s", a)
	}
	if !slices.Equal(b.AltPorts, []int{80, 1935}) {
		t.Errorf("rtmps alt ports: got %v; want [80 1935]", b.AltPorts)
	}
	// A short interval pulls the default timeout down with it.
	c, err = Parse([]byte("[agent]\ninterval = \"4s\"\n"))
	if err != nil || c.Agent.Timeout.D() != 2*time.Second {
		t.Errorf("got %v %v; want timeout 2s", c, err)
	}
}

// TestBadConfigs: each broken config gets its own clear message, with the key and the line.
func TestBadConfigs(t *testing.T) {
	const target = "[[targets]]\nname = \"main\"\nurl = \"rtmp://push.example.com/live/s\"\n"
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", "[agent]\nintervall = \"30s\"\n", `:2:1: unknown key "agent.intervall"`},
		{"unknown table", "[agnet]\nid = \"x\"\n", `:1:2: unknown key "agnet"`},
		{"unknown target key", target + "ur1 = \"x\"\n", `:4:1: unknown key "targets.ur1"`},
		{"syntax", "[agent\nid = \"x\"\n", `:1:7: expected ']' to close table name`},
		{"wrong type", "[agent]\ninterval = 30\n", `:2:11: interval: "30" is not a duration (write it like "30s", "5m" or "12h")`},
		{"bad duration", "[agent]\ninterval = \"30 seconds\"\n", `:2:12: agent.interval: "30 seconds" is not a duration (write it like "30s", "5m" or "12h")`},
		{"negative interval", "[agent]\ninterval = \"-5s\"\n", `:2:1: agent.interval: must be positive, got -5s`},
		{"timeout not below interval", "[agent]\ninterval = \"10s\"\ntimeout = \"10s\"\n", `:3:1: agent.timeout (10s) must be less than agent.interval (10s)`},
		{"bad agent id", "[agent]\nid = \"enc 1\"\n", `: agent.id "enc 1": use letters, digits, '-', '_' and '.' only (at most 64)`},
		{"bad label name", "[agent]\nlabels = { \"1venue\" = \"x\" }\n", `: agent.labels: "1venue" is not a valid label name (letters, digits and '_', not starting with a digit)`},
		{"reserved label", "[agent]\nlabels = { target = \"x\" }\n", `: agent.labels: "target" is reserved for the agent's own use`},
		{"bad resolver", "[agent]\nresolvers = [\"dns.google\"]\n", `: agent.resolvers[0]: "dns.google" is not an IP address or IP:port`},
		{"provider named auto", "[providers.auto]\npush_cname_suffixes = [\".x.com\"]\n", `: providers.auto: "auto" is reserved (it means: detect from the URL)`},
		{"suffix without dot", "[providers.x]\npush_cname_suffixes = [\"tlivepush.com\"]\n", `: providers.x.push_cname_suffixes[0]: "tlivepush.com" must start with "." (like ".tlivepush.com")`},
		{"target without name", "[[targets]]\nurl = \"rtmp://h/live/s\"\n", `: targets[0]: name is required (it labels the target everywhere instead of its URL)`},
		{"bad target name", "[[targets]]\nname = \"main ingest\"\nurl = \"rtmp://h/live/s\"\n", `: targets[0]: name "main ingest": use letters, digits, '-', '_' and '.' only (at most 64)`},
		{"duplicate name", target + target, `: targets[1]: name "main" is already used by targets[0]`},
		{"no url", "[[targets]]\nname = \"main\"\n", `: targets[0] (main): url is required`},
		{"url without host", "[[targets]]\nname = \"main\"\nurl = \"rtmp:///live/s\"\n", `:3:1: targets[0] (main): url: invalid publishing URL: missing host`},
		{"url unknown scheme", "[[targets]]\nname = \"main\"\nurl = \"ftp://h/live/s\"\n", `:3:1: targets[0] (main): url: invalid publishing URL: unknown scheme "ftp"`},
		{"unknown provider", target + "provider = \"akamai\"\n", `: targets[0] (main): provider "akamai" is not defined (known: auto, aws-ivs, facebook, generic, tencent, twitch, youtube)`},
		{"alt port out of range", target + "alt_ports = [443, 70000]\n", `: targets[0] (main): alt_ports: 70000 is not a port (1-65535)`},
		{"alt port is ingest port", target + "alt_ports = [1935]\n", `: targets[0] (main): alt_ports: 1935 is the ingest port itself`},
		{"target timeout not below interval", target + "interval = \"5s\"\ntimeout = \"6s\"\n", `:5:1: targets[0] (main): timeout (6s) must be less than interval (5s)`},
		{"targets not an array of tables", "targets = \"x\"\n", `:1:11: targets: cannot decode TOML string into struct field config.Config.Targets of type []config.Target`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text))
			if err == nil {
				t.Fatalf("got no error; want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestLoadErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.toml")
	os.WriteFile(p, []byte("[agent]\nbogus = 1\n"), 0o644)
	_, err := Load(p)
	if err == nil || err.Error() != "config "+p+`:2:1: unknown key "agent.bogus"` {
		t.Errorf("got %v; want the file, line and key", err)
	}
	_, err = Load(filepath.Join(dir, "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "config: open ") {
		t.Errorf("got %v; want a not-exist error naming the file", err)
	}
}

// TestSecretNotInErrors: a config error about a URL never repeats the URL.
func TestSecretNotInErrors(t *testing.T) {
	_, err := Parse([]byte("[[targets]]\nname = \"m\"\nurl = \"rtmp://h:99999/live/SECRETKEY?txSecret=abc\"\n"))
	if err == nil || strings.Contains(err.Error(), "SECRETKEY") || strings.Contains(err.Error(), "abc") {
		t.Errorf("got %v; want an error without the stream key", err)
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("../config.example.toml")
	f.Add(b)
	f.Add([]byte("[agent]\ninterval = \"1s\"\ntimeout = \"500ms\"\n"))
	f.Add([]byte("[[targets]]\nname = \"a\"\nurl = \"rtmp://[::1]:1935/live/x?txTime=1\"\nalt_ports = []\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if c != nil {
				t.Fatalf("got a config with error %v", err)
			}
			return
		}
		// A config that loads is usable: every invariant the agent relies on holds.
		if c.Agent.Timeout.D() <= 0 || c.Agent.Timeout.D() >= c.Agent.Interval.D() {
			t.Fatalf("agent timeout %v interval %v", c.Agent.Timeout, c.Agent.Interval)
		}
		for _, tg := range c.Targets {
			if tg.Name == "" || tg.Timeout.D() <= 0 || tg.Timeout.D() >= tg.Interval.D() {
				t.Fatalf("target %+v", tg)
			}
		}
	})
}

// TestNameMatchers: the hand-written name and label checks accept exactly what their regexps say.
func TestNameMatchers(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		s           string
		name, label bool
	}{
		{"main-ingest", true, false},
		{"enc1.berlin_2", true, false},
		{"venue", true, true},
		{"_venue", false, true},
		{"Venue_2", true, true},
		{"9lives", true, false},
		{"-x", false, false},
		{".x", false, false},
		{"", false, false},
		{"a b", false, false},
		{"ümlaut", false, false},
		{"a/b", false, false},
		{long, true, true},
		{long + "a", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := nameRE.MatchString(tt.s); got != tt.name {
				t.Errorf("name %q: got %v; want %v", tt.s, got, tt.name)
			}
			if got := labelRE.MatchString(tt.s); got != tt.label {
				t.Errorf("label %q: got %v; want %v", tt.s, got, tt.label)
			}
		})
	}
}

// TestFilePathsRelativeToConfig: every *_file key (and ca_file) is read from the config file's
// directory when relative, as sign_key_file is — not from wherever the agent was started.
func TestFilePathsRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.toml")
	text := "[[targets]]\nname = \"a\"\nurl = \"rtmp://h/live/s\"\n" +
		"[[sinks]]\ntype = \"http\"\nurl = \"https://c.example/ingest\"\ntoken_file = \"tok\"\nca_file = \"ca.pem\"\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Sinks[0]; k.TokenFile != filepath.Join(dir, "tok") || k.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("got token_file %q ca_file %q; want both under %s", k.TokenFile, k.CAFile, dir)
	}
}

// TestStateDirFor: each platform's default state directory is its own, so a Windows agent with
// no state_dir never reaches for /var/lib.
func TestStateDirFor(t *testing.T) {
	t.Setenv("ProgramData", `D:\PD`)
	for goos, want := range map[string]string{
		"linux":   "/var/lib/ingestprobe",
		"freebsd": "/var/lib/ingestprobe",
		"darwin":  "/usr/local/var/lib/ingestprobe",
		"windows": `D:\PD\ingestprobe\state`,
	} {
		if got := StateDirFor(goos); got != want {
			t.Errorf("StateDirFor(%q) = %q; want %q", goos, got, want)
		}
	}
	t.Setenv("ProgramData", "")
	if got := StateDirFor("windows"); got != `C:\ProgramData\ingestprobe\state` {
		t.Errorf("without ProgramData: got %q", got)
	}
}
