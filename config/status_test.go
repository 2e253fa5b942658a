package config

import (
	"path/filepath"
	"testing"

	"github.com/ingestprobe/ingestprobe/status"
)

// TestValidateStatus: [status] is off without the section, listens on loopback by default, and
// refuses an address other hosts can reach unless a token guards it.
func TestValidateStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string // the [status] section; "" = none
		err    string // substring; "" = valid
		listen string // after validation; "" = no board
		token  string
	}{
		{"no section, no board", "", "", "", ""},
		{"empty section: the default address", "[status]\n", "", status.DefaultListen, ""},
		{"loopback", "[status]\nlisten = \"127.0.0.1:9000\"\n", "", "127.0.0.1:9000", ""},
		{"localhost", "[status]\nlisten = \"localhost:9000\"\n", "", "localhost:9000", ""},
		{"IPv6 loopback", "[status]\nlisten = \"[::1]:9000\"\n", "", "[::1]:9000", ""},
		{"any port", "[status]\nlisten = \"127.0.0.1:0\"\n", "", "127.0.0.1:0", ""},
		{"every address without a token", "[status]\nlisten = \":9817\"\n", `status.listen ":9817" is not a loopback address: set status.token_file`, "", ""},
		{"a LAN address without a token", "[status]\nlisten = \"192.168.1.20:9817\"\n", `status.listen "192.168.1.20:9817" is not a loopback address`, "", ""},
		{"0.0.0.0 without a token", "[status]\nlisten = \"0.0.0.0:9817\"\n", "is not a loopback address", "", ""},
		{"a host name without a token", "[status]\nlisten = \"encoder.local:9817\"\n", "is not a loopback address", "", ""},
		{"every address with a token, relative to the config", "[status]\nlisten = \"0.0.0.0:9817\"\ntoken_file = \"board.token\"\n", "", "0.0.0.0:9817", "board.token"},
		{"token on loopback too", "[status]\ntoken_file = \"/etc/ingestprobe/board.token\"\n", "", status.DefaultListen, "/etc/ingestprobe/board.token"},
		{"no port", "[status]\nlisten = \"127.0.0.1\"\n", `status.listen "127.0.0.1" is not host:port`, "", ""},
		{"port out of range", "[status]\nlisten = \"127.0.0.1:70000\"\n", "is not host:port", "", ""},
		{"port not a number", "[status]\nlisten = \"127.0.0.1:http\"\n", "is not host:port", "", ""},
		{"unknown key", "[status]\nport = 9817\n", `unknown key "status.port"`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := Load(writeFile(t, dir, "config.toml", tc.text, 0o644))
			checkErr(t, err, tc.err)
			if err != nil {
				return
			}
			switch {
			case tc.listen == "" && c.Status != nil:
				t.Errorf("got [status] %+v; want none", *c.Status)
			case tc.listen != "" && c.Status == nil:
				t.Errorf("got no [status]; want listen %s", tc.listen)
			case tc.listen != "" && c.Status.Listen != tc.listen:
				t.Errorf("listen: got %q; want %q", c.Status.Listen, tc.listen)
			}
			want := tc.token
			if want != "" && !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if c.Status != nil && c.Status.TokenFile != want {
				t.Errorf("token_file: got %q; want %q", c.Status.TokenFile, want)
			}
		})
	}
}

// TestExampleHasBoard: config.example.toml turns the board on, on loopback.
func TestExampleHasBoard(t *testing.T) {
	c, err := Load("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status == nil || c.Status.Listen != status.DefaultListen || c.Status.TokenFile != "" {
		t.Errorf("got [status] %+v; want listen %s without a token", c.Status, status.DefaultListen)
	}
}
