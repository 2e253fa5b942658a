package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPreflight: `config validate` makes every check start-up makes short of binding ports, so
// each of these configs — which `run` refused while `config validate` said "valid" — is refused
// by Preflight, naming the key.
func TestPreflight(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	token := write("token", "0123456789abcdef0123\n")
	write("lines", "one\ntwo\n")
	write("junk.pem", "not a certificate\n")
	write("short", "abc\n")
	stateFile := write("state-file", "")
	os.Mkdir(filepath.Join(dir, "subdir"), 0o700)
	if runtime.GOOS != "windows" {
		if err := mkfifo(filepath.Join(dir, "fifo")); err != nil {
			t.Fatal(err)
		}
	}
	state := "[agent]\nstate_dir = \"" + filepath.Join(dir, "state") + "\"\n"
	http := func(extra string) string {
		return state + "[[sinks]]\ntype = \"http\"\nurl = \"https://collector.example/ingest\"\n" + extra
	}
	for _, tc := range []struct {
		name, text, err string
	}{
		{"valid", http("token_file = \"" + token + "\"\n"), ""},
		{"missing token", http("token_file = \"nope\"\n"), "sinks[0] (http): token_file:"},
		{"multi-line token", http("token_file = \"lines\"\n"), "more than one line"},
		{"directory token", http("token_file = \"subdir\"\n"), "is a directory, not a regular file"},
		{"fifo token", http("token_file = \"fifo\"\n"), "is a named pipe (FIFO), not a regular file"},
		{"dev zero token", http("token_file = \"/dev/zero\"\n"), "is a device, not a regular file"},
		{"bad ca", http("ca_file = \"junk.pem\"\n"), "sinks[0] (http): ca_file: " + filepath.Join(dir, "junk.pem") + " holds no PEM certificate"},
		{"missing ca", http("ca_file = \"none.pem\"\n"), "sinks[0] (http): ca_file:"},
		{"status token short", state + "[status]\ntoken_file = \"short\"\n", "status.token_file: the token has 3 characters"},
		{"status token missing", state + "[status]\ntoken_file = \"nope\"\n", "status.token_file:"},
		{"listen twice", state + "[[sinks]]\ntype = \"prometheus\"\nlisten = \"127.0.0.1:9817\"\n[status]\n", `status.listen "127.0.0.1:9817" is also sinks[0] (prometheus)'s listen`},
		{"state_dir a file", "[agent]\nstate_dir = \"" + stateFile + "\"\n[[sinks]]\ntype = \"http\"\nurl = \"https://collector.example/ingest\"\n", "agent.state_dir " + stateFile + " is a file, not a directory"},
		{"jsonl dir missing", state + "[[sinks]]\ntype = \"jsonl\"\npath = \"" + filepath.Join(dir, "no", "such", "r.jsonl") + "\"\n", "sinks[0] (jsonl): path: the directory " + filepath.Join(dir, "no", "such") + " does not exist"},
		{"empty file", "\n# nothing but comments\n\n", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.Contains(tc.name, "fifo") {
				t.Skip("no FIFOs")
			}
			c, err := Load(write("config.toml", tc.text))
			if err != nil {
				t.Fatalf("Load: %v (the file itself is valid; Preflight should refuse it)", err)
			}
			done := make(chan error, 1)
			go func() { done <- c.Preflight() }()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Preflight blocked for 10 s")
			}
			checkErr(t, err, tc.err)
		})
	}
}

// TestListenSyntax: a listen address whose port is not a number from 0 to 65535 is refused when
// the file is read, as the board's always was.
func TestListenSyntax(t *testing.T) {
	for _, l := range []string{"127.0.0.1:99999", "127.0.0.1:http", "127.0.0.1", "bad host:9935"} {
		_, err := Parse([]byte("[[sinks]]\ntype = \"prometheus\"\nlisten = \"" + l + "\"\n"))
		if err == nil || !strings.Contains(err.Error(), "listen") {
			t.Errorf("listen %q: got %v; want an error naming listen", l, err)
		}
	}
}

// TestStateDirUnwritable: a state_dir this user cannot create says which setting to change.
func TestStateDirUnwritable(t *testing.T) {
	defer func(w func(string) error) { writable = w }(writable)
	writable = func(string) error { return os.ErrPermission }
	c, err := Parse([]byte("[agent]\nstate_dir = \"/var/lib/ingestprobe-test-nowhere\"\n[[sinks]]\ntype = \"remote_write\"\nurl = \"http://127.0.0.1:9090/api/v1/write\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Preflight()
	if err == nil || !strings.Contains(err.Error(), "agent.state_dir /var/lib/ingestprobe-test-nowhere") || !strings.Contains(err.Error(), "set agent.state_dir") {
		t.Errorf("got %v; want an error naming agent.state_dir and what to do", err)
	}
	// Without a push sink nothing needs the directory: a warning, and the agent runs without it.
	c, err = Parse([]byte("[agent]\nstate_dir = \"/var/lib/ingestprobe-test-nowhere\"\n[[sinks]]\ntype = \"jsonl\"\npath = \"-\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Preflight(); err != nil {
		t.Errorf("jsonl only: got %v; want no error", err)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "agent.state_dir") || !strings.Contains(w, "runs without it") {
		t.Errorf("jsonl only: warnings %q; want one naming agent.state_dir", w)
	}
}

// TestZeroDurationRefused: `interval = "0s"` silently became 30 s. A zero duration is an error
// naming the line and the key; leaving the key out gives the default.
func TestZeroDurationRefused(t *testing.T) {
	for _, text := range []string{
		"[agent]\ninterval = \"0s\"\n",
		"[agent]\nspool_max_age = \"0h\"\n",
		"[[sinks]]\ntype = \"http\"\nurl = \"http://127.0.0.1:1/\"\ntimeout = \"0s\"\n",
		"[[targets]]\nname = \"a\"\nurl = \"rtmp://h/live/s\"\ntimeout = \"0ms\"\n",
	} {
		_, err := Parse([]byte(text))
		if err == nil || !strings.Contains(err.Error(), "zero") || !strings.Contains(err.Error(), "leave the key out") {
			t.Errorf("%q: got %v; want an error: zero is not allowed, leave the key out for the default", text, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), ":"+strings.Split(strings.TrimPrefix(err.Error(), ":"), ":")[0]+":") || strings.HasPrefix(err.Error(), ": ") {
			t.Errorf("%q: got %v; want the line named", text, err)
		}
	}
}

// TestValidationErrorsNameTheLine: an error found after decoding (a timeout not below its
// interval, a bad URL) names the line of its key, as decoding errors do.
func TestValidationErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[agent]\ninterval = \"1s\"\ntimeout = \"2s\"\n", ":3:1: agent.timeout (2s) must be less than agent.interval (1s)"},
		{"[agent]\nid = \"a\"\n\n[[targets]]\nname = \"a\"\nurl = \"rtmp://h/live/a\"\n[[targets]]\nname = \"b\"\n  url = \"rtmp:/h/live/b\"\n", ":9:3: targets[1] (b): url:"},
		{"[[targets]]\nname = \"a\"\nurl = \"rtmp://h/live/a\"\ninterval = \"2s\"\ntimeout = \"3s\"\n", ":5:1: targets[0] (a): timeout (3s) must be less than interval (2s)"},
	} {
		_, err := Parse([]byte(tc.text))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v; want it to begin %q", tc.text, err, tc.want)
		}
	}
}
