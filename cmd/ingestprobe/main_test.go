package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ingestprobe/ingestprobe/render"
)

func TestMain(m *testing.M) {
	// The test binary doubles as the ingestprobe binary for tests that need a real process
	// (signals, exit codes): see runBinary.
	if os.Getenv("INGESTPROBE_BE_MAIN") == "1" {
		os.Args = append([]string{"ingestprobe"}, strings.Fields(os.Getenv("INGESTPROBE_ARGS"))...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const streamKey = "SECRETSTREAMKEY"

func TestCheckExitCodesAndOutput(t *testing.T) {
	open := listen(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	empty := writeConfig(t, "")
	goURL := "rtmp://127.0.0.1:" + open + "/live/" + streamKey
	badURL := "rtmp://127.0.0.1:" + closed + "/live/" + streamKey
	cfg := writeConfig(t, "[agent]\ntimeout = \"2s\"\n[[targets]]\nname = \"main\"\nurl = \""+goURL+"\"\nalt_ports = []\nrtmp = \"off\"\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"go", []string{"check", "--config", empty, "--rtmp", "off", goURL, "--timeout", "1s"}, 0, []string{"✔ tcp  127.0.0.1 port " + open + " connected", "GO"}, nil},
		{"no-go", []string{"check", "--config", empty, badURL}, 1, []string{"✘ tcp.refused", "→ Check the ingest host", "NO-GO"}, nil},
		{"mixed", []string{"check", "--config=" + empty, "--rtmp=off", goURL, badURL}, 1, []string{"Overall: NO-GO — 1 of 2 targets NO-GO"}, nil},
		{"named target", []string{"check", "--config", cfg, "main"}, 0, []string{"main  rtmp://127.0.0.1:" + open + "/live/<redacted>"}, nil},
		{"all configured targets", []string{"check", "--config", cfg}, 0, []string{"main  "}, nil},
		{"unparseable url", []string{"check", "--config", empty, "rtmp://:99/live/" + streamKey}, 1, []string{"url.invalid"}, nil},
		{"unknown name", []string{"check", "--config", cfg, "nope"}, 2, nil, []string{`"nope" is neither a URL nor a target in ` + cfg}},
		{"nothing to check", []string{"check", "--config", empty}, 2, nil, []string{"nothing to check: give a publishing URL"}},
		{"bad config", []string{"check", "--config", writeConfig(t, "[agent]\nbogus = 1\n"), goURL}, 2, nil, []string{`unknown key "agent.bogus"`}},
		{"bad flag", []string{"check", "--jsn", goURL}, 2, nil, []string{"unknown flag --jsn (see ingestprobe check --help)"}},
		{"bad log level", []string{"check", "--log-level", "loud", goURL}, 2, nil, []string{"--log-level"}},
		{"bad resolver", []string{"check", "--config", empty, "--resolver", "x", goURL}, 2, nil, []string{`--resolver: "x" is not an IP address or IP:port`}},
		{"unknown command", []string{"chek"}, 2, nil, []string{`unknown command "chek"`, "Usage:"}},
		{"help", []string{"check", "--help"}, 0, []string{"Usage: ingestprobe check", "--timeout duration"}, nil},
		{"version", []string{"version"}, 0, []string{"ingestprobe dev"}, nil},
		{"config validate", []string{"config", "validate", cfg}, 0, []string{cfg + ": valid", "1 target(s)"}, nil},
		{"config validate bad", []string{"config", "validate", writeConfig(t, "[agent]\ninterval = \"1s\"\ntimeout = \"2s\"\n")}, 2, nil, []string{"agent.timeout (2s) must be less than agent.interval (1s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit: got %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errs)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if strings.Contains(out+errs, streamKey) {
				t.Errorf("output holds the stream key:\n%s\n%s", out, errs)
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("colour codes in non-terminal output:\n%q", out)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	open := listen(t)
	empty := writeConfig(t, "")
	txTime := strings.ToUpper(strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 16))
	code, out, errs := runCmd(t, "check", "--json", "--config", empty, "--log-level", "debug", "--rtmp", "off",
		"rtmp://127.0.0.1:"+open+"/live/"+streamKey+"?txSecret=0123456789abcdef0123456789abcdef&txTime="+txTime)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc render.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if doc.Verdict != "go" || len(doc.Targets) != 1 {
		t.Fatalf("got %+v; want one go target", doc)
	}
	r := doc.Targets[0]
	if r.Target != "127.0.0.1" || r.URL != "rtmp://127.0.0.1:"+open+"/live/<redacted>" || r.Provider != "tencent" || len(r.Results.TCP) != 3 || r.Results.URL == nil {
		t.Errorf("got %+v; want target 127.0.0.1, the redacted URL, provider tencent, 3 connects", r)
	}
	if strings.Contains(out+errs, streamKey) || strings.Contains(out+errs, "0123456789abcdef0123456789abcdef") {
		t.Errorf("output or logs hold a secret:\n%s\n%s", out, errs)
	}
}

func TestParseFlags(t *testing.T) {
	fs := newFlagSet(env{stderr: &bytes.Buffer{}}, "x", "")
	j := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, []string{"a", "--json", "b", "--", "--c"})
	if err != nil || !*j || strings.Join(pos, " ") != "a b --c" {
		t.Errorf("got %v %v %v; want [a b --c], json set", pos, *j, err)
	}
}
