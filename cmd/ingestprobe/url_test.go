package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testKey    = "e12c46f2612d5106e2034781ab261ca3"
	testKey2   = "0123456789abcdef0123456789abcdef"
	testStream = "venueShowStream42"
)

type result struct {
	code           int
	stdout, stderr string
}

func runStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, stdin: strings.NewReader(stdin)}
	code := run(t.Context(), e, args)
	return result{code, out.String(), errb.String()}
}

func keyFile(t *testing.T, dir, name, key string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkDoc is the part of check's JSON document the tests read.
type checkDoc struct {
	Verdict string `json:"verdict"`
	Targets []struct {
		URL      string `json:"url"`
		Verdict  string `json:"verdict"`
		Findings []struct {
			Code     string `json:"code"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"findings"`
		Results []map[string]any `json:"results"`
	} `json:"targets"`
}

func decode(t *testing.T, r result) checkDoc {
	t.Helper()
	var d checkDoc
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("stdout is not check's JSON: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	if len(d.Targets) != 1 {
		t.Fatalf("got %d targets; want 1", len(d.Targets))
	}
	return d
}

func findingCodes(d checkDoc) []string {
	var out []string
	for _, f := range d.Targets[0].Findings {
		out = append(out, f.Code)
	}
	return out
}

func sign(t *testing.T, key string, extra ...string) string {
	t.Helper()
	args := append([]string{"url", "sign", "--domain", "push.example.com", "--stream", testStream, "--key-file", key}, extra...)
	r := runStdin(t, "", args...)
	if r.code != 0 {
		t.Fatalf("url sign: exit %d; want 0\n%s", r.code, r.stderr)
	}
	u := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(u, "rtmp://push.example.com/live/"+testStream+"?txSecret=") || strings.Count(u, "\n") != 0 {
		t.Fatalf("url sign printed %q; want one signed rtmp URL", u)
	}
	txTime := u[strings.LastIndex(u, "txTime=")+len("txTime="):]
	if txTime != strings.ToUpper(txTime) || len(txTime) != 8 {
		t.Fatalf("txTime %q; want 8 uppercase hex digits", txTime)
	}
	return u
}

func TestURLSignThenCheck(t *testing.T) {
	dir := t.TempDir()
	key, other := keyFile(t, dir, "k", testKey), keyFile(t, dir, "k2", testKey2)
	signed := sign(t, key)
	short := sign(t, key, "--valid", "1h")
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		verdict string
		codes   []string
	}{
		{"same key: go", []string{signed, "--key-file", key}, "", 0, "go", nil},
		{"same key from stdin: go", []string{signed, "--key-file", "-"}, testKey + "\n", 0, "go", nil},
		{"another key: mismatch", []string{signed, "--key-file", other}, "", 1, "no-go", []string{"url.txsecret_mismatch"}},
		{"another key, the signing key as backup: go", []string{signed, "--key-file", other, "--backup-key-file", key}, "", 0, "go", nil},
		{"valid 1h: short", []string{short, "--key-file", key}, "", 0, "warn", []string{"url.txtime_short"}},
		{"valid 24h, event ends in 30h: short", []string{signed, "--key-file", key, "--event-end", time.Now().Add(30 * time.Hour).Format(time.RFC3339)}, "", 0, "warn", []string{"url.txtime_short"}},
		{"valid 24h, minimum 36h: short", []string{signed, "--key-file", key, "--min-validity", "36h"}, "", 0, "warn", []string{"url.txtime_short"}},
		{"no key: the signature is not judged", []string{signed}, "", 0, "go", nil},
		{"declared rtc", []string{signed, "--mode", "rtc"}, "", 1, "no-go", []string{"url.mode_mismatch"}},
		{"trtc URL", []string{"trtc://cloud.tencent.com/push/s1?sdkappid=1400188888&userId=A&usersig=abc"}, "", 1, "no-go", []string{"url.scheme_unsupported"}},
		// Its transport was not checked: never a GO, whatever the target declares.
		{"trtc URL, declared rtc", []string{"trtc://cloud.tencent.com/push/s1?sdkappid=1400188888&userId=A&usersig=abc", "--mode", "rtc"}, "", 1, "no-go", []string{"url.scheme_unsupported"}},
		{"unparsable", []string{"rtmp//push.example.com/live/x"}, "", 1, "no-go", []string{"url.invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runStdin(t, tt.stdin, append([]string{"url", "check", "--json"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit: got %d; want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			d := decode(t, r)
			if d.Verdict != tt.verdict || !slices.Equal(findingCodes(d), tt.codes) {
				t.Errorf("got %s %v; want %s %v", d.Verdict, findingCodes(d), tt.verdict, tt.codes)
			}
			// check's shape: the results hold the url lint, and nothing probed the network.
			if tt.codes == nil || tt.codes[0] != "url.invalid" {
				if rs := d.Targets[0].Results; len(rs) != 1 || rs[0]["probe"] != "url" {
					t.Errorf("results: got %v; want the url lint alone", rs)
				}
			}
		})
	}
}

func TestURLSignUTCIndependent(t *testing.T) {
	// The same instant signed under different local zones gives the same URL: txTime comes from
	// Unix time, never from a formatted local time.
	dir := t.TempDir()
	key := keyFile(t, dir, "k", testKey)
	at := time.Unix(0x5C271099-24*3600, 0)
	var urls []string
	for _, zone := range []string{"UTC", "Asia/Shanghai", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skipf("no zone data for %s: %v", zone, err)
		}
		var out, errb bytes.Buffer
		e := env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, now: func() time.Time { return at.In(loc) }}
		if code := run(t.Context(), e, []string{"url", "sign", "--domain", "push.example.com", "--stream", "test", "--key-file", key}); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		urls = append(urls, strings.TrimSpace(out.String()))
	}
	// Tencent's test vector: stream test, txTime 5C271099 → this txSecret.
	want := "rtmp://push.example.com/live/test?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
	for i, u := range urls {
		if u != want {
			t.Errorf("zone %d: got %s; want %s", i, u, want)
		}
	}
}

func TestURLUsage(t *testing.T) {
	dir := t.TempDir()
	key := keyFile(t, dir, "k", testKey)
	u := "rtmp://push.example.com/live/" + testStream + "?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"url"}, `url: want "url check URL" or "url sign …"`},
		{"a URL in place of the subcommand", []string{"url", u}, "url: unknown subcommand (want check or sign)"},
		{"no URL", []string{"url", "check"}, "url check takes one URL, got 0"},
		{"two URLs", []string{"url", "check", u, u}, "url check takes one URL, got 2"},
		{"bad mode", []string{"url", "check", u, "--mode", "webrtc"}, "--mode: want rtmp or rtc"},
		{"bad event end", []string{"url", "check", u, "--event-end", "tomorrow"}, `--event-end: "tomorrow" is not an RFC 3339 time with a zone`},
		{"missing key file", []string{"url", "check", u, "--key-file", filepath.Join(dir, "nope")}, "--key-file: stat " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"backup without primary", []string{"url", "check", u, "--backup-key-file", key}, "--backup-key-file needs --key-file too"},
		{"both keys from stdin", []string{"url", "check", u, "--key-file", "-", "--backup-key-file", "-"}, "--key-file and --backup-key-file cannot both read standard input"},
		{"bad ntp", []string{"url", "check", u, "--ntp", "a b"}, `--ntp: "a b" is not a host name, IP address or host:port`},
		{"sign without stream", []string{"url", "sign", "--domain", "push.example.com", "--key-file", key}, "url sign: --stream is required"},
		{"sign without key", []string{"url", "sign", "--domain", "push.example.com", "--stream", testStream}, "url sign: --key-file is required"},
		{"sign zero validity", []string{"url", "sign", "--domain", "push.example.com", "--stream", testStream, "--key-file", key, "--valid", "0s"}, "--valid must be positive"},
		{"sign stream with ?", []string{"url", "sign", "--domain", "push.example.com", "--stream", testStream + "?x", "--key-file", key}, "cannot sign URL: stream name: use letters, digits and - _ . ~ only"},
		{"unknown command that is a URL", []string{u}, `unknown command "rtmp://push.example.com/live/<redacted>"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runStdin(t, "", tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit: got %d; want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr: got %q; want it to contain %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr+r.stdout, testStream) || strings.Contains(r.stderr+r.stdout, testKey) {
				t.Errorf("output repeats the stream name or the key:\n%s%s", r.stdout, r.stderr)
			}
		})
	}
}

// fakeNTP answers SNTP on loopback with the real time shifted by skew.
func fakeNTP(t *testing.T, skew time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 {
				continue
			}
			now := time.Now().Add(skew)
			b := make([]byte, 48)
			b[0], b[1] = 4<<3|4, 2
			copy(b[24:32], buf[40:48])
			sec, frac := uint32(now.Unix()+2208988800), uint32(uint64(now.Nanosecond())<<32/1e9)
			for _, off := range []int{32, 40} {
				binary.BigEndian.PutUint32(b[off:], sec)
				binary.BigEndian.PutUint32(b[off+4:], frac)
			}
			_, _ = pc.WriteTo(b, from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String()
}

func TestURLCheckClock(t *testing.T) {
	dir := t.TempDir()
	key := keyFile(t, dir, "k", testKey)
	signed := sign(t, key, "--valid", "24h")
	closed := func() string {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	}()
	tests := []struct {
		name  string
		ntp   string
		code  int
		codes []string
		in    string
	}{
		{"in step", fakeNTP(t, 0), 0, nil, ""},
		{"this host 2 min behind", fakeNTP(t, 2*time.Minute), 0, []string{"clock.skew"}, "behind NTP server"},
		{"this host 2 min ahead", fakeNTP(t, -2*time.Minute), 0, []string{"clock.skew"}, "ahead of NTP server"},
		{"this host 10 min ahead", fakeNTP(t, -10*time.Minute), 1, []string{"clock.skew"}, "ahead of NTP server"},
		// The local clock says 24 h left; the reference says the URL died an hour ago.
		{"this host 25 h behind: expired by NTP time", fakeNTP(t, 25*time.Hour), 1, []string{"url.txtime_expired", "clock.skew"}, "judged by the time of NTP server"},
		{"reference down: local clock, and said so", closed, 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runStdin(t, "", "url", "check", signed, "--key-file", key, "--ntp", tt.ntp, "--json")
			d := decode(t, r)
			if r.code != tt.code || !slices.Equal(findingCodes(d), tt.codes) {
				t.Fatalf("got exit %d %v; want %d %v\n%s", r.code, findingCodes(d), tt.code, tt.codes, r.stdout)
			}
			if tt.in != "" && !strings.Contains(d.Targets[0].Findings[0].Message, tt.in) {
				t.Errorf("message %q; want it to contain %q", d.Targets[0].Findings[0].Message, tt.in)
			}
			var clockRes map[string]any
			for _, res := range d.Targets[0].Results {
				if res["probe"] == "clock" {
					clockRes = res
				}
			}
			if clockRes == nil || clockRes["server"] != tt.ntp {
				t.Fatalf("results: got clock %v; want the measurement against %s", clockRes, tt.ntp)
			}
			if wantOK := tt.ntp != closed; clockRes["ok"] != wantOK || (!wantOK && clockRes["error"] != "refused") {
				t.Errorf("clock result: got ok %v error %v; want ok %v (refused when down)", clockRes["ok"], clockRes["error"], wantOK)
			}
			if tt.ntp == closed {
				txt := runStdin(t, "", "url", "check", signed, "--key-file", key, "--ntp", tt.ntp)
				if !strings.Contains(txt.stdout, "NTP "+closed+": refused — txTime judged by this host's clock") {
					t.Errorf("checklist: got\n%s\nwant the failed reference said", txt.stdout)
				}
			}
		})
	}
}

// TestNoSecretInOutput runs url check and check, as checklist and as JSON, with debug logs, on
// signed URLs that pass, fail the signature and have expired, and greps everything written for the
// keys, the secrets and the stream name.
func TestNoSecretInOutput(t *testing.T) {
	dir := t.TempDir()
	key, other := keyFile(t, dir, "k", testKey), keyFile(t, dir, "k2", testKey2)
	good := sign(t, key)
	goodSecret := good[strings.Index(good, "txSecret=")+9 : strings.Index(good, "&")]
	expired := "rtmp://push.example.com/live/" + testStream + "?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"

	// A target on a loopback port nothing listens on: check probes it for real and fails fast.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	local := strings.Replace(good, "push.example.com", fmt.Sprintf("127.0.0.1:%d", port), 1)
	cfg := filepath.Join(dir, "config.toml")
	cfgText := fmt.Sprintf(`[agent]
id = "test"
[[targets]]
name = "good"
url = %q
alt_ports = []
sign_key_file = %q
[[targets]]
name = "badsig"
url = %q
alt_ports = []
sign_key_file = %q
sign_backup_key_file = %q
`, local, key, strings.Replace(expired, "push.example.com", fmt.Sprintf("127.0.0.1:%d", port), 1), other, other)
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := []string{testKey, testKey2, goodSecret, "f85a2ab363fe4deaffef9754d79da6fe", testStream}
	runs := [][]string{
		{"url", "check", good, "--key-file", key},
		{"url", "check", good, "--key-file", other},
		{"url", "check", expired, "--key-file", key, "--backup-key-file", other},
		{"check", "--config", cfg, "--timeout", "2s"},
		{"check", "--config", cfg, "--timeout", "2s", "good"},
		{"check", local, "--timeout", "2s"},
		{"config", "validate", cfg},
	}
	for _, args := range runs {
		for _, format := range [][]string{nil, {"--json"}} {
			a := append(slices.Clone(args), format...)
			if args[0] != "config" {
				a = append(a, "--log-level", "debug")
			} else if format != nil {
				continue
			}
			t.Run(strings.Join(a[:2], " ")+strings.Join(format, ""), func(t *testing.T) {
				r := runStdin(t, "", a...)
				if r.code == exitUsage {
					t.Fatalf("exit 2: %s", r.stderr)
				}
				if args[0] != "config" && !strings.Contains(r.stderr, "debug: ") {
					t.Errorf("stderr has no debug log; want the logs included in the check:\n%s", r.stderr)
				}
				for _, s := range secrets {
					if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
						t.Errorf("output contains the secret %q:\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
					}
				}
				if args[0] != "config" && !strings.Contains(r.stdout, "<redacted>") && !strings.Contains(r.stdout, `\u003credacted\u003e`) {
					t.Errorf("stdout shows no redacted URL:\n%s", r.stdout)
				}
			})
		}
	}
}

func TestCheckNTPFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // an open port: the TCP step connects
	u := fmt.Sprintf("rtmp://%s/live/%s", ln.Addr(), testStream)
	r := runStdin(t, "", "check", u, "--ntp", fakeNTP(t, -10*time.Minute), "--json", "--timeout", "2s", "--config", writeEmptyConfig(t))
	d := decode(t, r)
	if r.code != exitNoGo || !slices.Contains(findingCodes(d), "clock.skew") {
		t.Fatalf("got exit %d %v; want 1 with clock.skew\n%s%s", r.code, findingCodes(d), r.stdout, r.stderr)
	}
	r = runStdin(t, "", "check", u, "--ntp", "a b", "--config", writeEmptyConfig(t))
	if r.code != exitUsage || !strings.Contains(r.stderr, `--ntp: "a b" is not a host name`) {
		t.Errorf("got exit %d %q; want 2 and the --ntp error", r.code, r.stderr)
	}
}

func writeEmptyConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(p, []byte("[agent]\nid = \"test\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
