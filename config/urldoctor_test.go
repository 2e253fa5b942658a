package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

const testKey = "e12c46f2612d5106e2034781ab261ca3"

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
	return p
}

func target(extra string) string {
	return `[[targets]]
name = "main"
url = "rtmp://push.example.com/live/show?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
` + extra
}

func TestURLDoctorConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "tencent.key", testKey+"\n", 0o600)
	keyCRLF := writeFile(t, dir, "crlf.key", testKey+" \r\n", 0o600)
	backup := writeFile(t, dir, "backup.key", "0123456789abcdef0123456789abcdef", 0o600)

	c, err := Parse([]byte(fmt.Sprintf(`
[agent]
ntp_server = "time.example.net"
clock_skew_warn = "10s"
clock_skew_error = "1m"
`+target(`mode = "rtc"
sign_key_file = %q
sign_backup_key_file = %q
min_url_validity = "36h"
event_end = "2024-06-01T23:00:00+02:00"
`), keyFile, backup)))
	if err != nil {
		t.Fatalf("got %v; want a valid config", err)
	}
	tg := c.Targets[0]
	if tg.Mode != "rtc" || tg.MinURLValidity.D() != 36*time.Hour {
		t.Errorf("got mode %q min %s; want rtc, 36h", tg.Mode, tg.MinURLValidity.D())
	}
	if want := time.Date(2024, 6, 1, 21, 0, 0, 0, time.UTC); !tg.EventEnd.Equal(want) {
		t.Errorf("event_end: got %v; want %v", tg.EventEnd.Time, want)
	}
	if want := []ingesturl.Key{testKey, "0123456789abcdef0123456789abcdef"}; !slices.Equal(tg.SignKeys, want) {
		t.Errorf("keys: got %d keys (equal %v); want the primary trimmed of its newline, then the backup", len(tg.SignKeys), slices.Equal(tg.SignKeys, want))
	}
	if a := c.Agent; a.NTPServer != "time.example.net:123" || a.ClockSkewWarn.D() != 10*time.Second || a.ClockSkewError.D() != time.Minute {
		t.Errorf("agent: got %q %s %s; want time.example.net:123 10s 1m", a.NTPServer, a.ClockSkewWarn.D(), a.ClockSkewError.D())
	}
	if len(c.Warnings()) != 0 {
		t.Errorf("warnings: got %q; want none", c.Warnings())
	}

	// Defaults.
	c, err = Parse([]byte(target(fmt.Sprintf("sign_key_file = %q\n", keyCRLF))))
	if err != nil {
		t.Fatal(err)
	}
	if tg := c.Targets[0]; tg.Mode != "" || tg.MinURLValidity.D() != 12*time.Hour || !tg.EventEnd.IsZero() || len(tg.SignKeys) != 1 || tg.SignKeys[0] != testKey {
		t.Errorf("defaults: got mode %q min %s event_end %v keys %d; want \"\", 12h, zero, one trimmed key", tg.Mode, tg.MinURLValidity.D(), tg.EventEnd, len(tg.SignKeys))
	}
	if a := c.Agent; a.NTPServer != "" || a.ClockSkewWarn.D() != 30*time.Second || a.ClockSkewError.D() != 5*time.Minute {
		t.Errorf("agent defaults: got %q %s %s; want none, 30s, 5m", a.NTPServer, a.ClockSkewWarn.D(), a.ClockSkewError.D())
	}
}

func TestURLDoctorConfigErrors(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty.key", "\n\n", 0o600)
	twoLines := writeFile(t, dir, "two.key", testKey+"\n"+testKey+"\n", 0o600)
	key := writeFile(t, dir, "k.key", testKey, 0o600)
	missing := filepath.Join(dir, "missing.key")
	tests := []struct {
		name string
		toml string
		want string
	}{
		{"bad mode", target(`mode = "webrtc"`), `: targets[0] (main): mode "webrtc": want "rtmp" or "rtc" (or leave it out to infer it from the URL)`},
		{"negative validity", target(`min_url_validity = "-1h"`), `: targets[0] (main): min_url_validity: must be positive, got -1h0m0s`},
		{"bad validity", target(`min_url_validity = "12 hours"`), `:4:20: targets.min_url_validity: "12 hours" is not a duration (write it like "30s", "5m" or "12h")`},
		{"event_end without zone", target(`event_end = "2024-06-01T23:00:00"`), `:4:13: targets.event_end: "2024-06-01T23:00:00" is not an RFC 3339 time with a zone (write it like "2024-06-01T23:00:00+02:00" or "2024-06-01T21:00:00Z")`},
		{"key and key file", target(fmt.Sprintf("sign_key = %q\nsign_key_file = %q", testKey, key)), `: targets[0] (main): set sign_key_file or sign_key, not both`},
		{"backup alone", target(fmt.Sprintf("sign_backup_key_file = %q", key)), `: targets[0] (main): sign_backup_key_file needs sign_key_file too (the backup is tried after the primary)`},
		{"missing key file", target(fmt.Sprintf("sign_key_file = %q", missing)), `: targets[0] (main): sign_key_file: stat ` + missing + `: no such file or directory`},
		{"empty key file", target(fmt.Sprintf("sign_key_file = %q", empty)), `: targets[0] (main): sign_key_file: ` + empty + ` is empty`},
		{"two-line key file", target(fmt.Sprintf("sign_key_file = %q", twoLines)), `: targets[0] (main): sign_key_file: ` + twoLines + ` holds more than one line; want the key alone`},
		{"missing backup key file", target(fmt.Sprintf("sign_key_file = %q\nsign_backup_key_file = %q", key, missing)), `: targets[0] (main): sign_backup_key_file: stat ` + missing + `: no such file or directory`},
		{"bad ntp server", "[agent]\nntp_server = \"time example\"\n", `: agent.ntp_server: "time example" is not a host name, IP address or host:port`},
		{"ntp port 0", "[agent]\nntp_server = \"time.example.net:0\"\n", `: agent.ntp_server: "time.example.net:0" is not a host name, IP address or host:port`},
		{"skew warn above error", "[agent]\nclock_skew_warn = \"10m\"\nclock_skew_error = \"5m\"\n", `: agent.clock_skew_warn (10m0s) must be less than agent.clock_skew_error (5m0s)`},
		{"negative skew", "[agent]\nclock_skew_warn = \"-1s\"\n", `: agent.clock_skew_warn and agent.clock_skew_error must be positive`},
		{"misspelt key", target(`sign_keyfile = "x"`), `:4:1: unknown key "targets.sign_keyfile"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.toml))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v; want %s", err, tt.want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

func TestURLDoctorConfigWarnings(t *testing.T) {
	dir := t.TempDir()
	open := writeFile(t, dir, "open.key", testKey+"\n", 0o644)
	tests := []struct {
		name string
		toml string
		want string
	}{
		{"world-readable key file", target(fmt.Sprintf("sign_key_file = %q", open)),
			"targets[0] (main): sign_key_file " + open + " is readable by every user of this host (mode 0644): chmod 600 it, owned by the user ingestprobe runs as"},
		{"inline key", target(fmt.Sprintf("sign_key = %q", testKey)),
			"targets[0] (main): sign_key is written in the config itself, so anyone who can read the config can sign push URLs: move it to a file readable only by ingestprobe and set sign_key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.toml))
			if err != nil {
				t.Fatalf("got %v; want valid (a warning is not an error)", err)
			}
			if w := c.Warnings(); len(w) != 1 || w[0] != tt.want {
				t.Fatalf("got %q; want [%q]", w, tt.want)
			}
			if len(c.Targets[0].SignKeys) != 1 || c.Targets[0].SignKeys[0] != testKey {
				t.Errorf("got %d keys; want the key read", len(c.Targets[0].SignKeys))
			}
			if s := fmt.Sprintf("%v %+v %#v", c.Warnings(), c.Targets[0], c.Targets[0]); strings.Contains(s, testKey) {
				t.Errorf("printing the target shows the key: %s", s)
			}
		})
	}
}

func TestKeyFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tencent.key", testKey+"\n", 0o600)
	cfg := writeFile(t, dir, "config.toml", target(`sign_key_file = "tencent.key"`), 0o644)
	c, err := Load(cfg)
	if err != nil {
		t.Fatalf("got %v; want the key found beside the config", err)
	}
	if len(c.Targets[0].SignKeys) != 1 || c.Targets[0].SignKeys[0] != testKey {
		t.Errorf("got %d keys; want the one beside the config", len(c.Targets[0].SignKeys))
	}
}

func TestParseNTPServer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pool.ntp.org", "pool.ntp.org:123"},
		{"Time.Example.NET:1123", "time.example.net:1123"},
		{"10.0.0.1", "10.0.0.1:123"},
		{"10.0.0.1:1123", "10.0.0.1:1123"},
		{"2001:db8::1", "[2001:db8::1]:123"},
		{"[2001:db8::1]:1123", "[2001:db8::1]:1123"},
		{"time example", ""},
		{"time.example.net:0", ""},
		{"time.example.net:ntp", ""},
		{"udp://time.example.net", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNTPServer(tt.in)
			if (err != nil) != (tt.want == "") || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
