package ingesturl

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The Tencent vector of lint_test.go, in an SRT stream id.
var vecSRT = "srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/" + vecStream + ",txSecret=" + vecSecret + ",txTime=" + vecTxTime

func TestParseSRT(t *testing.T) {
	want := "#!::h=push.example.com,r=live/test,txSecret=" + vecSecret + ",txTime=" + vecTxTime
	for _, raw := range []string{vecSRT, strings.Replace(vecSRT, "=#!", "=%23!", 1)} {
		u, err := Parse(raw + "&passphrase=venue-pass-0123&latency=200&pbkeylen=24&mode=caller")
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		o := u.SRT()
		// '#' does not start a fragment in an srt:// query: the stream id is all of it.
		if o.StreamID != want || o.Passphrase != "venue-pass-0123" || o.Latency != 200*time.Millisecond || o.KeyLength != 24 || o.Mode != "caller" {
			t.Errorf("SRT() of %q: got %q %q %s %d %q", raw, o.StreamID, o.Passphrase, o.Latency, o.KeyLength, o.Mode)
		}
		if u.Port != 9000 || u.Host != "push.example.com" || !u.SRTSigned() {
			t.Errorf("got host %q port %d signed %v", u.Host, u.Port, u.SRTSigned())
		}
	}
}

func TestSRTOptions(t *testing.T) {
	tests := []struct {
		query string
		want  SRTOptions
	}{
		{"", SRTOptions{Mode: "caller"}},
		{"latency=120", SRTOptions{Mode: "caller", Latency: 120 * time.Millisecond}},
		{"latency=2000000", SRTOptions{Mode: "caller", Latency: 2 * time.Second}}, // ffmpeg's microseconds
		{"latency=x&pbkeylen=20", SRTOptions{Mode: "caller"}},
		{"mode=LISTENER", SRTOptions{Mode: "listener"}},
		{"streamid=a+b%2Cc", SRTOptions{Mode: "caller", StreamID: "a b,c"}}, // decoded as ffmpeg decodes it
	}
	for _, tt := range tests {
		u, err := Parse("srt://h:9000?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.SRT(); got != tt.want {
			t.Errorf("%q: got %#v; want %#v", tt.query, fmt.Sprintf("%+v", []any{got.StreamID, got.Passphrase, got.Latency, got.KeyLength, got.Mode}),
				fmt.Sprintf("%+v", []any{tt.want.StreamID, tt.want.Passphrase, tt.want.Latency, tt.want.KeyLength, tt.want.Mode}))
		}
	}
	o := SRTOptions{StreamID: "secret-sid", Passphrase: "secret-pass"}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v %#v %x %q", o, o, o, o)} {
		if strings.Contains(s, "secret") {
			t.Errorf("SRTOptions formats as %q", s)
		}
	}
}

// TestSRTRedacted: the stream id, the passphrase and unknown parameters never show; settings do.
func TestSRTRedacted(t *testing.T) {
	for in, want := range map[string]string{
		vecSRT: "srt://push.example.com:9000?streamid=<redacted>",
		"srt://10.0.0.1:10080?streamid=live/feed&passphrase=venue-pass-0123&latency=200&pbkeylen=32": "srt://10.0.0.1:10080?streamid=<redacted>&passphrase=<redacted>&latency=200&pbkeylen=32",
		"srt://h:9000?token=abc&key=def&latency=200":                                                 "srt://h:9000?<redacted>&latency=200",
		"srt://h:9000?latency=2000000000000":                                                         "srt://h:9000?<redacted>",
		"srt://h:9000/live/secretpath?streamid=x":                                                    "srt://h:9000/<redacted>?streamid=<redacted>",
		"srt://h":                   "srt://h",
		"srt://h:0?streamid=secret": "srt://h:0?<redacted>",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q): got %q; want %q", in, got, want)
		}
	}
	u, _ := Parse(vecSRT + "&passphrase=venue-pass-0123")
	b, _ := json.Marshal(u)
	for _, s := range []string{u.String(), fmt.Sprintf("%v %+v %#v", u, u, u), string(b)} {
		for _, secret := range []string{vecSecret, "venue-pass-0123", "live/test", "txTime"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q holds %q", s, secret)
			}
		}
	}
}

// srtIssues are the issues expected of an srt:// URL (nil for none, as LintURL leaves them).
func srtIssues(is ...Issue) []Issue { return is }

func TestLintSRT(t *testing.T) {
	expired := "srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/test,txSecret=" + vecSecret + ",txTime=" + vecTxTime
	tests := []struct {
		name    string
		url     string
		opts    LintOptions
		issues  []Issue
		sig     Signature
		hint    Hint
		expires bool
	}{
		{name: "signed, right key", url: vecSRT, opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, issues: srtIssues(), sig: SigOK, expires: true},
		{name: "signed, backup key", url: vecSRT, opts: LintOptions{Signed: true, Keys: []Key{"other", vecKey}}, issues: srtIssues(), sig: SigOKBackup, expires: true},
		{name: "signed, wrong key", url: expired, opts: LintOptions{Signed: true, Keys: []Key{"other"}}, issues: srtIssues(), sig: SigMismatch, hint: HintStreamOrTime, expires: true},
		{name: "signed over live/test", url: strings.Replace(vecSRT, vecSecret, TencentSecret(vecKey, "live/test", vecTxTime), 1),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, issues: srtIssues(), sig: SigMismatch, hint: HintStreamWithApp, expires: true},
		{name: "signed, no key", url: vecSRT, opts: LintOptions{Signed: true}, issues: srtIssues(), sig: SigNotChecked, expires: true},
		{name: "no stream id", url: "srt://push.example.com:9000", opts: LintOptions{Signed: true},
			issues: srtIssues(Issue{Kind: ParamMissing, Param: ParamStreamID})},
		{name: "stream id without txSecret", url: "srt://push.example.com:9000?streamid=#!::r=live/test,txTime=5C271099", opts: LintOptions{Signed: true},
			issues: srtIssues(Issue{Kind: ParamMissing, Param: ParamTxSecret}), expires: true},
		{name: "stream id with txsecret in lower case", url: "srt://h:9000?streamid=#!::r=live/test,txsecret=" + vecSecret + ",txTime=5C271099", opts: LintOptions{Signed: true},
			issues: srtIssues(Issue{Kind: ParamCase, Param: ParamTxSecret, Found: "txsecret"}), expires: true},
		{name: "r without an app", url: "srt://h:9000?streamid=#!::r=test,txSecret=" + vecSecret + ",txTime=5C271099", opts: LintOptions{Signed: true, Keys: []Key{vecKey}},
			issues: srtIssues(Issue{Kind: StreamMissing}), sig: SigOK, expires: true},
		{name: "plain stream id, signed provider", url: "srt://h:9000?streamid=live/test", opts: LintOptions{Signed: true},
			issues: srtIssues(Issue{Kind: StreamMissing}, Issue{Kind: ParamMissing, Param: ParamTxSecret}, Issue{Kind: ParamMissing, Param: ParamTxTime})},
		{name: "generic: nothing to check", url: "srt://h:9000?streamid=anything&passphrase=venue-pass-0123", issues: srtIssues()},
		{name: "passphrase too short", url: "srt://h:9000?passphrase=short",
			issues: srtIssues(Issue{Kind: ParamMalformed, Param: ParamPassphrase, Reason: ReasonLength})},
		{name: "passphrase too long", url: "srt://h:9000?passphrase=" + strings.Repeat("p", 80),
			issues: srtIssues(Issue{Kind: ParamMalformed, Param: ParamPassphrase, Reason: ReasonLength})},
		{name: "stream id too long", url: "srt://h:9000?streamid=" + strings.Repeat("s", 513),
			issues: srtIssues(Issue{Kind: ParamMalformed, Param: ParamStreamID, Reason: ReasonLength})},
		{name: "listener mode", url: "srt://h:9000?mode=listener", issues: srtIssues(Issue{Kind: SRTModeNotCaller})},
		{name: "rendezvous mode", url: "srt://h:9000?mode=rendezvous", issues: srtIssues(Issue{Kind: SRTModeNotCaller})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			l := LintURL(u, tt.opts)
			if !reflect.DeepEqual(l.Issues, tt.issues) {
				t.Errorf("issues: got %+v; want %+v", l.Issues, tt.issues)
			}
			if l.Signature != tt.sig || l.Hint != tt.hint {
				t.Errorf("signature: got %q hint %q; want %q %q", l.Signature, l.Hint, tt.sig, tt.hint)
			}
			if !l.Expires.IsZero() != tt.expires {
				t.Errorf("expires: got %v; want set = %v", l.Expires, tt.expires)
			}
			b, _ := json.Marshal(l)
			for _, secret := range []string{string(vecKey), vecSecret, "live/test", "venue-pass"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("lint JSON %s contains %q", b, secret)
				}
			}
		})
	}
}

// TestSignTencentSRT: url sign --scheme srt writes Tencent's SRT push URL, which the URL doctor
// then finds correctly signed (the vector of lint_test.go).
func TestSignTencentSRT(t *testing.T) {
	for _, tt := range []struct{ domain, want string }{
		{"Push.Example.com", vecSRT},
		{"push.example.com:10080", strings.Replace(vecSRT, ":9000", ":10080", 1)},
	} {
		got, err := SignTencent(SignRequest{Scheme: "srt", Domain: tt.domain, Stream: vecStream, Key: vecKey, Expires: time.Unix(0x5C271099, 0)})
		if err != nil || got != tt.want {
			t.Fatalf("got %s, %v; want %s", got, err, tt.want)
		}
		u, err := Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if l := LintURL(u, LintOptions{Signed: true, Keys: []Key{vecKey}}); l.Signature != SigOK || len(l.Issues) != 0 || !u.SRTSigned() {
			t.Errorf("lint of the signed SRT URL: got %+v; want signature ok, no issues", l)
		}
	}
}
