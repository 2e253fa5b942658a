package diagnose

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// Tencent's test vector: KEY, StreamName test, txTime 5C271099 (2018-12-29 06:13:45 UTC).
const (
	vecKey    ingesturl.Key = "e12c46f2612d5106e2034781ab261ca3"
	vecSecret               = "f85a2ab363fe4deaffef9754d79da6fe"
	vecTxTime               = "5C271099"
	otherKey  ingesturl.Key = "0123456789abcdef0123456789abcdef"
)

var vecExpiry = time.Unix(0x5C271099, 0)

type urlCase struct {
	url      string
	provider string // "" = auto
	mode     ingesturl.Mode
	keys     []ingesturl.Key
	now      time.Time // zero = two days before vecExpiry
	minValid time.Duration
	eventEnd time.Time
	clock    *clock.Result
}

func (c urlCase) input(t *testing.T) Input {
	t.Helper()
	now := c.now
	if now.IsZero() {
		now = vecExpiry.Add(-48 * time.Hour)
	}
	in := Input{Now: now, MinValidity: c.minValid, EventEnd: c.eventEnd}
	u, err := ingesturl.Parse(c.url)
	in.URL, in.URLError = u, err
	in.Results.Clock = c.clock
	if err != nil {
		return in
	}
	prof, ok := provider.Resolve(c.provider, u, provider.Builtin())
	if !ok {
		t.Fatalf("provider %q unknown", c.provider)
	}
	in.Provider = prof
	l := ingesturl.LintURL(u, ingesturl.LintOptions{Mode: c.mode, Signed: prof.SignedURL, Keys: c.keys})
	in.Results.URL = &l
	return in
}

func push(stream, query string) string { return "rtmp://push.example.com/live/" + stream + "?" + query }

func vec() string { return push("test", "txSecret="+vecSecret+"&txTime="+vecTxTime) }

// srtWant are the URL doctor's findings expected of an srt:// URL: srt:// is probed, so none says
// its transport was not checked.
func srtWant(ws ...want) []want { return ws }

// srtVec is Tencent's SRT push URL: the signature in the stream id.
func srtVec(secret, txTime string) string {
	return "srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/test,txSecret=" + secret + ",txTime=" + txTime
}

type want struct {
	code string
	sev  record.Severity
	in   string // a piece of the message
}

func codes(fs []record.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code+"/"+string(f.Severity))
	}
	return out
}

func TestURLFindings(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	ntp := func(offset time.Duration) *clock.Result {
		return &clock.Result{Probe: "clock", Source: "ntp", Server: "ntp.example.net:123", OK: true, OffsetSeconds: offset.Seconds(), RTTSeconds: 0.021, Stratum: 2}
	}
	tests := []struct {
		name string
		c    urlCase
		want []want
	}{
		{"tencent vector with its key: go", urlCase{url: vec(), keys: []ingesturl.Key{vecKey}}, nil},
		{"no key: signature not judged", urlCase{url: vec()}, nil},
		{"backup key", urlCase{url: vec(), keys: []ingesturl.Key{otherKey, vecKey}}, nil},
		{"generic provider: no parameters required", urlCase{url: "rtmp://ingest.example.com/live/show", provider: "generic"}, nil},
		// A push URL needs an application and a stream name, signed or not.
		{"generic: no path", urlCase{url: "rtmp://ingest.example.com:1935", provider: "generic"},
			[]want{{"url.missing_param", record.Error, "no application and no stream name"}}},
		{"generic: no stream name", urlCase{url: "rtmp://ingest.example.com/live", provider: "generic"},
			[]want{{"url.missing_param", record.Error, "one part in its path where a push URL has two"}}},
		{"generic rtmps: no stream name", urlCase{url: "rtmps://ingest.example.com:443/live/", provider: "generic"},
			[]want{{"url.missing_param", record.Error, "the application or the stream name is missing"}}},

		{"unparsable", urlCase{url: "rtmp:/push.example.com/live"}, []want{{"url.invalid", record.Error, "cannot be parsed"}}},
		{"wrong key", urlCase{url: vec(), keys: []ingesturl.Key{otherKey}},
			[]want{{"url.txsecret_mismatch", record.Error, "does not match the configured key"}}},
		{"wrong primary and backup", urlCase{url: vec(), keys: []ingesturl.Key{otherKey, otherKey + "0"}},
			[]want{{"url.txsecret_mismatch", record.Error, "either configured key"}}},
		{"lowercase txTime", urlCase{url: push("test", "txSecret="+vecSecret+"&txTime=5c271099"), keys: []ingesturl.Key{vecKey}},
			[]want{{"url.txsecret_mismatch", record.Error, "another letter case"}}},
		{"uppercase txSecret", urlCase{url: push("test", "txSecret="+strings.ToUpper(vecSecret)+"&txTime="+vecTxTime), keys: []ingesturl.Key{vecKey}},
			[]want{{"url.txsecret_mismatch", record.Error, "uppercase"}}},
		{"signed over live/test", urlCase{url: push("test", "txSecret="+ingesturl.TencentSecret(vecKey, "live/test", vecTxTime)+"&txTime="+vecTxTime), keys: []ingesturl.Key{vecKey}},
			[]want{{"url.txsecret_mismatch", record.Error, "AppName/StreamName"}}},
		{"decimal txTime", urlCase{url: push("test", "txSecret="+vecSecret+"&txTime=1546064025"), keys: []ingesturl.Key{vecKey}},
			[]want{{"url.missing_param", record.Error, "txTime 1546064025 is decimal Unix seconds (2018-12-29T06:13:45Z): Tencent reads it as hexadecimal, which is 5C271099"}}},
		{"txTime not hex", urlCase{url: push("test", "txSecret="+vecSecret+"&txTime=5C27109Z")},
			[]want{{"url.missing_param", record.Error, "txTime is not hexadecimal"}}},
		{"txSecret missing", urlCase{url: push("test", "txTime="+vecTxTime)},
			[]want{{"url.missing_param", record.Error, "txSecret is missing"}}},
		{"both missing on a tencent push domain", urlCase{url: "rtmp://abc.livepush.myqcloud.com/live/test"},
			[]want{{"url.missing_param", record.Error, "txSecret is missing"}, {"url.missing_param", record.Error, "txTime is missing"}}},
		{"txTime twice", urlCase{url: vec() + "&txTime=" + vecTxTime, keys: []ingesturl.Key{vecKey}},
			[]want{{"url.missing_param", record.Error, "txTime appears 2 times"}}},
		{"txtime lowercase name", urlCase{url: push("test", "txSecret="+vecSecret+"&txtime="+vecTxTime)},
			[]want{{"url.missing_param", record.Error, "the URL has txtime, not txTime"}}},
		{"short txSecret", urlCase{url: push("test", "txSecret=abc&txTime="+vecTxTime)},
			[]want{{"url.missing_param", record.Error, "txSecret is not an MD5 digest"}}},
		{"no stream name", urlCase{url: "rtmp://push.example.com/live?txSecret=" + vecSecret + "&txTime=" + vecTxTime},
			[]want{{"url.missing_param", record.Error, "no stream name"}}},
		{"stream name with ?", urlCase{url: push("te?st", "txSecret="+vecSecret+"&txTime="+vecTxTime), keys: []ingesturl.Key{vecKey}},
			[]want{{"url.missing_param", record.Warning, "second '?'"}, {"url.missing_param", record.Error, "txSecret is missing"}}},
		{"stream name with & signed as written", urlCase{url: push("te&st", "txSecret="+ingesturl.TencentSecret(vecKey, "te&st", vecTxTime)+"&txTime="+vecTxTime), keys: []ingesturl.Key{vecKey}}, nil},
		{"stream name with & signed without it", urlCase{url: push("te&st", "txSecret="+vecSecret+"&txTime="+vecTxTime), keys: []ingesturl.Key{vecKey}},
			[]want{{"url.txsecret_mismatch", record.Error, "stream name"}}},

		{"trtc undeclared", urlCase{url: "trtc://cloud.tencent.com/push/s1?sdkappid=1400188888&userId=A&usersig=abc"},
			[]want{{"url.scheme_unsupported", record.Error, "its transport was not checked"}}},
		// A transport ingestprobe cannot probe is never a GO, even on a target that says it is an
		// RTC pusher.
		{"trtc declared rtc: an error all the same, the transport not checked", urlCase{url: "trtc://cloud.tencent.com/push/s1?sdkappid=1400188888&userId=A&usersig=abc", mode: ingesturl.ModeRTC},
			[]want{{"url.scheme_unsupported", record.Error, "TRTC (RTC) URL: its transport was not checked"}}},
		{"trtc missing usersig", urlCase{url: "trtc://cloud.tencent.com/push/s1?sdkappid=1400188888&userId=A", mode: ingesturl.ModeRTC},
			[]want{{"url.scheme_unsupported", record.Error, "TRTC"}, {"url.missing_param", record.Error, "usersig is missing"}}},
		{"webrtc push", urlCase{url: "webrtc://push.example.com/live/test?txSecret=" + vecSecret + "&txTime=" + vecTxTime, keys: []ingesturl.Key{vecKey}},
			[]want{{"url.scheme_unsupported", record.Error, "WebRTC (LEB)"}}},
		{"srt signed right: srt:// is probed, nothing to say", urlCase{url: srtVec(vecSecret, vecTxTime), keys: []ingesturl.Key{vecKey}}, srtWant()},
		{"srt signed with another key", urlCase{url: srtVec(vecSecret, vecTxTime), keys: []ingesturl.Key{otherKey}},
			srtWant(want{"url.txsecret_mismatch", record.Error, "txSecret does not match"})},
		{"srt signed over live/test", urlCase{url: srtVec(ingesturl.TencentSecret(vecKey, "live/test", vecTxTime), vecTxTime), keys: []ingesturl.Key{vecKey}},
			srtWant(want{"url.txsecret_mismatch", record.Error, "AppName/StreamName"})},
		{"srt txSecret malformed", urlCase{url: srtVec("x", vecTxTime)},
			srtWant(want{"url.missing_param", record.Error, "txSecret is not an MD5 digest"})},
		{"srt txTime decimal", urlCase{url: srtVec(vecSecret, "1546064025")},
			srtWant(want{"url.missing_param", record.Error, "txTime 1546064025 is decimal Unix seconds"})},
		{"srt txTime missing", urlCase{url: "srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/test,txSecret=" + vecSecret},
			srtWant(want{"url.missing_param", record.Error, "txTime is missing from the URL's stream id"})},
		{"srt without r=", urlCase{url: "srt://push.example.com:9000?streamid=#!::h=push.example.com,txSecret=" + vecSecret + ",txTime=" + vecTxTime, provider: "tencent"},
			srtWant(want{"url.missing_param", record.Error, "no r=<AppName>/<StreamName>"})},
		{"srt expired", urlCase{url: srtVec(vecSecret, vecTxTime), now: vecExpiry.Add(time.Hour)},
			srtWant(want{"url.txtime_expired", record.Error, "expired 1h00m ago"})},
		{"srt listener mode: not checked", urlCase{url: "srt://push.example.com:9000?streamid=s&mode=listener"},
			srtWant(want{"url.scheme_unsupported", record.Error, "mode=listener: the ingest calls the encoder"})},
		{"srt short passphrase", urlCase{url: "srt://push.example.com:9000?passphrase=short"},
			srtWant(want{"url.missing_param", record.Error, "10 to 79 characters"})},
		{"http-flv playback URL", urlCase{url: "http://play.example.com/live/test.flv?txSecret=" + vecSecret + "&txTime=" + vecTxTime},
			[]want{{"url.scheme_unsupported", record.Error, "playback URL"}}},
		{"rtc mode, rtmp URL", urlCase{url: vec(), mode: ingesturl.ModeRTC, keys: []ingesturl.Key{vecKey}},
			[]want{{"url.mode_mismatch", record.Error, "declared mode = \"rtc\" but the URL is rtmp://"}}},
		{"rtmp mode, trtc URL", urlCase{url: "trtc://cloud.tencent.com/push/s1?sdkappid=1&userId=A&usersig=x", mode: ingesturl.ModeRTMP},
			[]want{{"url.mode_mismatch", record.Error, "declared mode = \"rtmp\" but the URL is trtc://"}}},

		{"expired", urlCase{url: vec(), keys: []ingesturl.Key{vecKey}, now: vecExpiry.Add(90 * time.Minute)},
			[]want{{"url.txtime_expired", record.Error, "expired 1h30m ago, at 2018-12-29 06:13:45 UTC"}}},
		{"expires this second", urlCase{url: vec(), now: vecExpiry},
			[]want{{"url.txtime_expired", record.Error, "expired"}}},
		{"5 minutes left", urlCase{url: vec(), now: vecExpiry.Add(-5 * time.Minute)},
			[]want{{"url.txtime_short", record.Warning, "expires in 5m00s"}}},
		{"11h59m left", urlCase{url: vec(), now: vecExpiry.Add(-12*time.Hour + time.Minute)},
			[]want{{"url.txtime_short", record.Warning, "less than the 12h00m minimum"}}},
		{"12h01m left", urlCase{url: vec(), now: vecExpiry.Add(-12*time.Hour - time.Minute)}, nil},
		{"configured minimum 36h", urlCase{url: vec(), now: vecExpiry.Add(-24 * time.Hour), minValid: 36 * time.Hour},
			[]want{{"url.txtime_short", record.Warning, "less than the 36h00m minimum"}}},
		{"expires before the event ends", urlCase{url: vec(), now: vecExpiry.Add(-24 * time.Hour).In(cst), eventEnd: vecExpiry.Add(2 * time.Hour)},
			[]want{{"url.txtime_short", record.Warning, "2h00m before the event ends (2018-12-29 16:13 CST)"}}},
		{"expires after the event ends", urlCase{url: vec(), now: vecExpiry.Add(-24 * time.Hour), eventEnd: vecExpiry.Add(-2 * time.Hour)}, nil},
		{"local clock says expired, NTP says 2 days left", urlCase{url: vec(), now: vecExpiry.Add(time.Hour), clock: ntp(-49 * time.Hour)},
			[]want{{"clock.skew", record.Error, "ahead of NTP server"}}},
		{"local clock says 2 days left, NTP says expired", urlCase{url: vec(), clock: ntp(49 * time.Hour)},
			[]want{{"url.txtime_expired", record.Error, "judged by the time of NTP server ntp.example.net:123"}, {"clock.skew", record.Error, "behind NTP server"}}},
		{"failed clock reference: local clock used and said so", urlCase{url: vec(), now: vecExpiry.Add(time.Hour), clock: &clock.Result{Server: "ntp.example.net:123", Error: clock.Timeout}},
			[]want{{"url.txtime_expired", record.Error, "clock reference failed: timeout"}}},

		{"skew 10 s: nothing", urlCase{url: vec(), clock: ntp(10 * time.Second)}, nil},
		{"skew 45 s behind: warning", urlCase{url: vec(), clock: ntp(45 * time.Second)}, []want{{"clock.skew", record.Warning, "45s behind"}}},
		{"skew 45 s ahead: warning", urlCase{url: vec(), clock: ntp(-45 * time.Second)}, []want{{"clock.skew", record.Warning, "45s ahead of"}}},
		{"skew 6 min ahead: error", urlCase{url: vec(), clock: ntp(-6 * time.Minute)}, []want{{"clock.skew", record.Error, "6m00s ahead of"}}},
		{"skew 6 min behind: error", urlCase{url: vec(), clock: ntp(6 * time.Minute)}, []want{{"clock.skew", record.Error, "6m00s behind"}}},
		{"skew on an unparsable URL is still reported", urlCase{url: "nope", clock: ntp(6 * time.Minute)},
			[]want{{"url.invalid", record.Error, ""}, {"clock.skew", record.Error, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Findings(tt.c.input(t))
			var wantCodes []string
			for _, w := range tt.want {
				wantCodes = append(wantCodes, w.code+"/"+string(w.sev))
			}
			if got := codes(fs); !slices.Equal(got, wantCodes) {
				t.Fatalf("got %v; want %v\n%s", got, wantCodes, dump(fs))
			}
			for i, w := range tt.want {
				if !strings.Contains(fs[i].Message, w.in) {
					t.Errorf("finding %d message: got %q; want it to contain %q", i, fs[i].Message, w.in)
				}
				if fs[i].Remedy == "" || !Known(fs[i].Code) {
					t.Errorf("finding %d: got remedy %q, code %q known=%v; want a remedy and a catalogued code", i, fs[i].Remedy, fs[i].Code, Known(fs[i].Code))
				}
			}
			// No finding may carry the key, the secret, a stream name or a TRTC usersig.
			b, _ := json.Marshal(fs)
			for _, s := range []string{string(vecKey), string(otherKey), vecSecret, strings.ToUpper(vecSecret), "usersig=abc", "te?st", "te&st", "/test"} {
				if strings.Contains(string(b), s) {
					t.Errorf("findings contain %q: %s", s, b)
				}
			}
		})
	}
}

func TestExpiryEvidence(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	c := urlCase{url: vec(), now: vecExpiry.Add(-5 * time.Minute).In(cst)}
	fs := Findings(c.input(t))
	if len(fs) != 1 {
		t.Fatalf("got %v; want one url.txtime_short", codes(fs))
	}
	ev := fs[0].Evidence
	wantEv := map[string]any{
		"expires_utc":       "2018-12-29T06:13:45Z",
		"expires_local":     "2018-12-29T14:13:45+08:00",
		"time_left":         "5m00s",
		"time_left_seconds": 300.0,
		"tx_time":           vecTxTime,
		"time_reference":    "this host's clock",
	}
	for k, v := range wantEv {
		if ev[k] != v {
			t.Errorf("evidence %s: got %v; want %v", k, ev[k], v)
		}
	}
	if !strings.Contains(fs[0].Message, "2018-12-29 14:13 CST local") {
		t.Errorf("message: got %q; want the local time too", fs[0].Message)
	}
}

func TestLikelyCauses(t *testing.T) {
	rejected := record.Finding{Code: "rtmp.publish_rejected", Severity: record.Error, Message: "the server rejected the publish", Remedy: "Check the stream key.", Evidence: map[string]any{"status": "NetStream.Publish.BadName"}}
	expired := record.Finding{Code: "url.txtime_expired", Severity: record.Error, Message: "expired", Remedy: "Generate a new push URL."}
	mismatch := record.Finding{Code: "url.txsecret_mismatch", Severity: record.Error, Message: "mismatch", Remedy: "Check the key."}
	shortW := record.Finding{Code: "url.txtime_short", Severity: record.Warning, Message: "short", Remedy: "Longer."}
	tests := []struct {
		name   string
		in     []record.Finding
		cause  string
		prefix string
	}{
		{"expired explains a rejected publish", []record.Finding{expired, rejected}, "url.txtime_expired", "Generate a new push URL."},
		{"expiry wins over a mismatch", []record.Finding{mismatch, expired, rejected}, "url.txtime_expired", "Generate a new push URL."},
		{"mismatch explains a rejected publish", []record.Finding{mismatch, rejected}, "url.txsecret_mismatch", "Check the key."},
		{"a warning explains nothing", []record.Finding{shortW, rejected}, "", ""},
		{"no URL finding", []record.Finding{rejected}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			out := likelyCauses(in)
			got := out[len(out)-1]
			if tt.cause == "" {
				if got.Message != rejected.Message || got.Evidence["likely_cause"] != nil {
					t.Errorf("got %+v; want the finding unchanged", got)
				}
				return
			}
			if got.Evidence["likely_cause"] != tt.cause || !strings.Contains(got.Message, "("+tt.cause+")") {
				t.Errorf("got message %q, evidence %v; want the cause %s named", got.Message, got.Evidence, tt.cause)
			}
			if !strings.HasPrefix(got.Remedy, tt.prefix) || !strings.HasSuffix(got.Remedy, rejected.Remedy) {
				t.Errorf("remedy: got %q; want %q first, then the publish remedy", got.Remedy, tt.prefix)
			}
			if got.Evidence["status"] != "NetStream.Publish.BadName" || rejected.Evidence["likely_cause"] != nil {
				t.Errorf("evidence: got %v; want the original kept, and the original map not mutated", got.Evidence)
			}
		})
	}
	// Through Findings: the post-pass runs on every diagnosis.
	c := urlCase{url: vec(), keys: []ingesturl.Key{vecKey}, now: vecExpiry.Add(time.Hour)}
	fs := Findings(c.input(t))
	if len(fs) != 1 || fs[0].Code != "url.txtime_expired" {
		t.Fatalf("got %v; want url.txtime_expired", codes(fs))
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{12 * time.Second, "12s"},
		{4*time.Minute + 30*time.Second, "4m30s"},
		{7*time.Hour + 12*time.Minute, "7h12m"},
		{-90 * time.Minute, "1h30m"},
		{75 * time.Hour, "3d3h"},
	}
	for _, tt := range tests {
		if got := human(tt.d); got != tt.want {
			t.Errorf("human(%s): got %s; want %s", tt.d, got, tt.want)
		}
	}
}

func dump(fs []record.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s: %s\n", f.Severity, f.Code, f.Message)
	}
	return b.String()
}
