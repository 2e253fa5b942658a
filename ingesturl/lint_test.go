package ingesturl

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vector of Tencent's "Hotlink Protection URL Calculation" document.
const (
	vecKey    Key = "e12c46f2612d5106e2034781ab261ca3"
	vecStream     = "test"
	vecTxTime     = "5C271099"
	vecSecret     = "f85a2ab363fe4deaffef9754d79da6fe"
)

func TestTencentSecret(t *testing.T) {
	tests := []struct {
		name, stream, txTime string
		key                  Key
		want                 string
		equal                bool
	}{
		{"tencent test vector", vecStream, vecTxTime, vecKey, vecSecret, true},
		{"lowercase txTime is another digest", vecStream, "5c271099", vecKey, vecSecret, false},
		{"another stream is another digest", "test2", vecTxTime, vecKey, vecSecret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TencentSecret(tt.key, tt.stream, tt.txTime)
			if (got == tt.want) != tt.equal {
				t.Errorf("got %s; want equal(%s) = %v", got, tt.want, tt.equal)
			}
			if got != strings.ToLower(got) || len(got) != 32 {
				t.Errorf("got %q; want 32 lowercase hex digits", got)
			}
		})
	}
}

func TestParseTxTime(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Time
		reason string
	}{
		{"5C271099", time.Date(2018, 12, 29, 6, 13, 45, 0, time.UTC), ""},
		{"5c271099", time.Date(2018, 12, 29, 6, 13, 45, 0, time.UTC), ""},
		{"5867D600", time.Date(2017, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).UTC(), ""}, // Tencent's doc: 2017-01-01 00:00 Beijing
		{"FFFFFFFF", time.Unix(1<<32-1, 0).UTC(), ""},
		{"", time.Time{}, ReasonEmpty},
		{"5C27109G", time.Time{}, ReasonNotHex},
		{"0x5C2710", time.Time{}, ReasonNotHex},
		{"1700000000", time.Time{}, ReasonDecimal},
		{"100000000", time.Time{}, ReasonLength},
		{"5C2710995C", time.Time{}, ReasonLength},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, reason := parseTxTime(tt.in)
			if reason != tt.reason || !got.Equal(tt.want) {
				t.Errorf("got %v, %q; want %v, %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestFormatTxTime(t *testing.T) {
	// The same instant in three zones: txTime is an instant, the zone must not move it.
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("PDT", -7*3600)} {
		in := time.Unix(0x5C271099, 0).In(loc)
		if got := FormatTxTime(in); got != vecTxTime {
			t.Errorf("%s: got %s; want %s", loc, got, vecTxTime)
		}
	}
}

func signedURL(stream, query string) string {
	return "rtmp://push.example.com/live/" + stream + "?" + query
}

func vecQuery() string { return "txSecret=" + vecSecret + "&txTime=" + vecTxTime }

func TestLintURL(t *testing.T) {
	appTest := TencentSecret(vecKey, "live/test", vecTxTime)
	decimal := TencentSecret(vecKey, vecStream, strconv.FormatInt(0x5C271099, 10))
	tests := []struct {
		name    string
		url     string
		opts    LintOptions
		issues  []Issue
		sig     Signature
		hint    Hint
		expires bool
	}{
		{name: "tencent vector, key configured", url: signedURL(vecStream, vecQuery()),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigOK, expires: true},
		{name: "parameters in the other order", url: signedURL(vecStream, "txTime="+vecTxTime+"&txSecret="+vecSecret),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigOK, expires: true},
		{name: "backup key matches", url: signedURL(vecStream, vecQuery()),
			opts: LintOptions{Signed: true, Keys: []Key{"0123456789abcdef0123456789abcdef", vecKey}}, sig: SigOKBackup, expires: true},
		{name: "no key: not checked", url: signedURL(vecStream, vecQuery()),
			opts: LintOptions{Signed: true}, sig: SigNotChecked, expires: true},
		{name: "wrong key", url: signedURL(vecStream, vecQuery()),
			opts: LintOptions{Signed: true, Keys: []Key{"0123456789abcdef0123456789abcdef"}}, sig: SigMismatch, hint: HintStreamOrTime, expires: true},
		{name: "lowercase txTime with the uppercase signature", url: signedURL(vecStream, "txSecret="+vecSecret+"&txTime=5c271099"),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintTxTimeCase, expires: true},
		{name: "lowercase txTime signed as written", url: signedURL(vecStream, "txSecret="+TencentSecret(vecKey, vecStream, "5c271099")+"&txTime=5c271099"),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigOK, expires: true},
		{name: "uppercase secret", url: signedURL(vecStream, "txSecret="+strings.ToUpper(vecSecret)+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintSecretCase, expires: true},
		{name: "signed over the decimal expiry", url: signedURL(vecStream, "txSecret="+decimal+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintTxTimeDecimal, expires: true},
		{name: "signer kept the key's newline", url: signedURL(vecStream, "txSecret="+TencentSecret(vecKey+"\n", vecStream, vecTxTime)+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintKeyWhitespace, expires: true},
		{name: "signed over app/stream", url: signedURL(vecStream, "txSecret="+appTest+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintStreamWithApp, expires: true},
		{name: "signed over KEY+txTime+stream", url: signedURL(vecStream, "txSecret="+TencentSecret(vecKey, vecTxTime, vecStream)+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintFieldOrder, expires: true},
		{name: "stream name with & is signed as written", url: signedURL("te&st", "txSecret="+TencentSecret(vecKey, "te&st", vecTxTime)+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigOK, expires: true},
		{name: "escaped stream name signed decoded", url: signedURL("te%26st", "txSecret="+TencentSecret(vecKey, "te&st", vecTxTime)+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigMismatch, hint: HintStreamEscape, expires: true},
		{name: "stream name with ? hides txSecret", url: signedURL("te?st", vecQuery()),
			opts:   LintOptions{Signed: true, Keys: []Key{vecKey}},
			issues: []Issue{{Kind: ExtraQuestion}, {Kind: ParamMissing, Param: ParamTxSecret}}, expires: true},
		{name: "txSecret missing", url: signedURL(vecStream, "txTime="+vecTxTime),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamMissing, Param: ParamTxSecret}}, expires: true},
		{name: "both missing", url: "rtmp://push.example.com/live/test",
			opts:   LintOptions{Signed: true},
			issues: []Issue{{Kind: ParamMissing, Param: ParamTxSecret}, {Kind: ParamMissing, Param: ParamTxTime}}},
		{name: "not signed provider: nothing required", url: "rtmp://push.example.com/live/test", opts: LintOptions{}},
		{name: "txTime duplicated", url: signedURL(vecStream, vecQuery()+"&txTime="+vecTxTime),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamDuplicate, Param: ParamTxTime, Count: 2}}},
		{name: "txSecret duplicated", url: signedURL(vecStream, vecQuery()+"&txSecret="+vecSecret),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamDuplicate, Param: ParamTxSecret, Count: 2}}, expires: true},
		{name: "txtime in the wrong case", url: signedURL(vecStream, "txSecret="+vecSecret+"&txtime="+vecTxTime),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamCase, Param: ParamTxTime, Found: "txtime"}}},
		{name: "decimal txTime", url: signedURL(vecStream, "txSecret="+vecSecret+"&txTime=1546063993"),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamMalformed, Param: ParamTxTime, Reason: ReasonDecimal}}},
		{name: "empty txTime", url: signedURL(vecStream, "txSecret="+vecSecret+"&txTime="),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamMalformed, Param: ParamTxTime, Reason: ReasonEmpty}}},
		{name: "short txSecret", url: signedURL(vecStream, "txSecret=f85a2ab3&txTime="+vecTxTime),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamMalformed, Param: ParamTxSecret, Reason: ReasonLength}}, expires: true},
		{name: "txSecret not hex", url: signedURL(vecStream, "txSecret=zz5a2ab363fe4deaffef9754d79da6fe&txTime="+vecTxTime),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamMalformed, Param: ParamTxSecret, Reason: ReasonNotHex}}, expires: true},
		{name: "no stream name", url: "rtmp://push.example.com/live?" + vecQuery(),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, issues: []Issue{{Kind: StreamMissing}}, expires: true},
		{name: "trtc without mode", url: "trtc://cloud.tencent.com/push/stream1?sdkappid=1400188888&userId=A&usersig=abc",
			issues: []Issue{{Kind: SchemeTRTC}}},
		{name: "trtc with userid in lowercase", url: "trtc://cloud.tencent.com/push/stream1?sdkappid=1400188888&userid=A&usersig=abc",
			opts: LintOptions{Mode: ModeRTC}, issues: []Issue{{Kind: SchemeTRTC}}},
		{name: "trtc missing usersig", url: "trtc://cloud.tencent.com/push/stream1?sdkappid=1400188888&userId=A",
			opts: LintOptions{Mode: ModeRTC}, issues: []Issue{{Kind: SchemeTRTC}, {Kind: ParamMissing, Param: "usersig"}}},
		{name: "rtc mode with rtmp URL", url: signedURL(vecStream, vecQuery()),
			opts: LintOptions{Mode: ModeRTC, Signed: true, Keys: []Key{vecKey}}, issues: []Issue{{Kind: ModeMismatch}}, sig: SigOK, expires: true},
		{name: "rtmp mode with trtc URL", url: "trtc://cloud.tencent.com/push/stream1?sdkappid=1&userId=A&usersig=x",
			opts: LintOptions{Mode: ModeRTMP}, issues: []Issue{{Kind: ModeMismatch}}},
		{name: "webrtc push", url: "webrtc://push.example.com/live/test?" + vecQuery(),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, issues: []Issue{{Kind: SchemeWebRTC}}, sig: SigOK, expires: true},
		{name: "http-flv playback URL", url: "http://play.example.com/live/test.flv?" + vecQuery(),
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: SchemePlayback}}},
		{name: "https hls playback URL", url: "https://play.example.com/live/test.m3u8", issues: []Issue{{Kind: SchemePlayback}}},
		{name: "other http URL", url: "https://push.example.com/whip/endpoint", issues: []Issue{{Kind: SchemeHTTP}}},
		{name: "srt", url: "srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/test,txSecret=x,txTime=5C271099",
			opts: LintOptions{Signed: true}, issues: []Issue{{Kind: ParamMalformed, Param: ParamTxSecret, Reason: ReasonNotHex}}, expires: true},
		{name: "rtmps fine", url: "rtmps://push.example.com:443/live/test?" + vecQuery(),
			opts: LintOptions{Signed: true, Keys: []Key{vecKey}}, sig: SigOK, expires: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.url)
			if err != nil {
				t.Fatalf("Parse: got %v; want nil", err)
			}
			l := LintURL(u, tt.opts)
			if !reflect.DeepEqual(l.Issues, tt.issues) {
				t.Errorf("issues: got %+v; want %+v", l.Issues, tt.issues)
			}
			if l.Signature != tt.sig {
				t.Errorf("signature: got %q; want %q", l.Signature, tt.sig)
			}
			if l.Hint != tt.hint {
				t.Errorf("hint: got %q; want %q", l.Hint, tt.hint)
			}
			if !l.Expires.IsZero() != tt.expires {
				t.Errorf("expires: got %v; want set = %v", l.Expires, tt.expires)
			}
			// Nothing secret may reach the lint, which travels in records.
			b, _ := json.Marshal(l)
			for _, secret := range []string{string(vecKey), vecSecret, "stream1", "usersig=abc", "te&st", "te?st"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("lint JSON %s contains %q", b, secret)
				}
			}
		})
	}
}

func TestLintModeInferred(t *testing.T) {
	tests := []struct {
		url  string
		mode Mode
	}{
		{"rtmp://h/live/s", ModeRTMP},
		{"rtmps://h/live/s", ModeRTMP},
		{"srt://h:9000", ModeRTMP},
		{"trtc://h/push/s", ModeRTC},
		{"webrtc://h/live/s", ModeRTC},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			l := LintURL(u, LintOptions{})
			if l.Mode != tt.mode || l.ModeDeclared {
				t.Errorf("got mode %q declared %v; want %q, not declared", l.Mode, l.ModeDeclared, tt.mode)
			}
		})
	}
}

func TestParamsLiteral(t *testing.T) {
	u, err := Parse("rtmp://h/live/a%20b?txTime=5C27%31099&x&txSecret=abc&n%61me=v%2F")
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{{"txTime", "5C27%31099"}, {"x", ""}, {"txSecret", "abc"}, {"name", "v%2F"}}
	if got := u.Params(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
	if got, want := u.LiteralStream(), "a%20b"; got != want {
		t.Errorf("LiteralStream: got %q; want %q", got, want)
	}
	if got, want := u.Stream(), "a b"; got != want {
		t.Errorf("Stream: got %q; want %q", got, want)
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := Key("e12c46f2612d5106e2034781ab261ca3")
	var outs []string
	for _, verb := range []string{"%v", "%s", "%q", "%x", "%X", "%d", "%#v", "%+v", "%10s"} {
		outs = append(outs, fmt.Sprintf(verb, k))
	}
	outs = append(outs, fmt.Sprint(k), fmt.Sprintf("%v", []Key{k}), fmt.Sprintf("%+v", struct{ K Key }{k}))
	b, _ := json.Marshal(map[string]any{"k": k, "ks": []Key{k}})
	outs = append(outs, string(b))
	for _, o := range outs {
		if strings.Contains(o, "e12c") || strings.Contains(o, "6531") { // the value, and its %x form
			t.Errorf("got %q; want no part of the key", o)
		}
	}
}

func TestSignTencent(t *testing.T) {
	expires := time.Unix(0x5C271099, 0).In(time.FixedZone("CST", 8*3600))
	got, err := SignTencent(SignRequest{Domain: "Push.Example.com", Stream: vecStream, Key: vecKey, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	want := "rtmp://push.example.com/live/test?txSecret=" + vecSecret + "&txTime=" + vecTxTime
	if got != want {
		t.Errorf("got %s; want %s", got, want)
	}
	u, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if l := LintURL(u, LintOptions{Signed: true, Keys: []Key{vecKey}}); l.Signature != SigOK || len(l.Issues) != 0 {
		t.Errorf("lint of a signed URL: got %+v; want signature ok, no issues", l)
	}

	bad := []struct {
		name string
		req  SignRequest
	}{
		{"stream with ?", SignRequest{Domain: "push.example.com", Stream: "sec?ret", Key: vecKey, Expires: expires}},
		{"stream with &", SignRequest{Domain: "push.example.com", Stream: "sec&ret", Key: vecKey, Expires: expires}},
		{"stream with /", SignRequest{Domain: "push.example.com", Stream: "sec/ret", Key: vecKey, Expires: expires}},
		{"stream with %", SignRequest{Domain: "push.example.com", Stream: "sec%20ret", Key: vecKey, Expires: expires}},
		{"empty stream", SignRequest{Domain: "push.example.com", Key: vecKey, Expires: expires}},
		{"no key", SignRequest{Domain: "push.example.com", Stream: "secret", Expires: expires}},
		{"bad domain", SignRequest{Domain: "push example.com", Stream: "secret", Key: vecKey, Expires: expires}},
		{"bad scheme", SignRequest{Scheme: "trtc", Domain: "push.example.com", Stream: "secret", Key: vecKey, Expires: expires}},
		{"expiry before 1970", SignRequest{Domain: "push.example.com", Stream: "secret", Key: vecKey, Expires: time.Unix(-5, 0)}},
		{"expiry after 2106", SignRequest{Domain: "push.example.com", Stream: "secret", Key: vecKey, Expires: time.Unix(1<<32, 0)}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SignTencent(tt.req)
			if !errors.Is(err, ErrSign) {
				t.Fatalf("got %v; want an ErrSign", err)
			}
			for _, s := range []string{"sec?ret", "sec&ret", "sec/ret", "sec%20ret", "secret", string(vecKey)} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q repeats %q", err, s)
				}
			}
		})
	}
}
