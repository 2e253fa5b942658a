package ingesturl

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, every error is a *ParseError wrapping ErrInvalid, and a parsed URL's Redacted() — what
// logs and reports show — holds neither the stream name nor any query value longer than 3 bytes.
// Short values are let through because "<redacted>", the host or the app may contain them by chance.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"rtmp://push.example.com/live/test?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099",
		"rtmp://push.example.com/live/te?st?txSecret=abcd&txTime=5C271099",
		"rtmp://push.example.com/live/te&st?txSecret=abcd&txTime=5C271099&txTime=5C271099",
		"rtmps://[2001:db8::1]:443/live/app2/secretstream",
		"trtc://cloud.tencent.com/push/streamid?sdkappid=1400188888&userId=A&usersig=xxxx",
		"srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/test,txSecret=abcd",
		"http://play.example.com/live/secret.flv?txSecret=abcd&txTime=5C271099",
		"webrtc://push.example.com/live/a%2Fb?x=%zz",
		"rtmp://h/live/stream#frag?txSecret=abcd",
		"RTMP://H:1935//live//stream//?",
		"rtmp://h:0/live/s", "rtmp://:1935/live/s", "rtmp://h/", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &pe) {
				t.Fatalf("got error %v; want a *ParseError wrapping ErrInvalid", err)
			}
			if len(s) > 12 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q repeats the input", err)
			}
			return
		}
		r := u.Redacted()
		public := u.Scheme + "://" + u.Authority() + "/" + u.App
		if r != public && r != public+"<redacted>" && r != public+"/<redacted>" && r != u.Scheme+"://"+u.Authority()+"/<redacted>" {
			t.Fatalf("Redacted() = %q; want %q followed by nothing or /<redacted>", r, public)
		}
		if u.Stream() == "" && u.RawQuery() == "" && u.App != "" && r != u.Scheme+"://"+u.Authority()+"/<redacted>" {
			t.Fatalf("Redacted() = %q shows a lone path segment, which may be a stream key", r)
		}
		secrets := []string{u.Stream(), u.LiteralStream(), u.RawQuery()}
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
		for _, p := range u.Params() {
			secrets = append(secrets, p.Value)
		}
		for _, v := range secrets {
			if len(v) > 3 && strings.Contains(r, v) && !strings.Contains(public, v) && !strings.Contains("/<redacted>", v) {
				t.Fatalf("Redacted() = %q contains the secret %q", r, v)
			}
		}
		// Whatever parsed must lint without panicking, with and without keys.
		_ = LintURL(u, LintOptions{Signed: true, Keys: []Key{"k", "k2"}})
		_ = LintURL(u, LintOptions{Mode: ModeRTC})
		// The ingest rules never put the stream name or the query into an issue.
		for _, i := range LintURL(u, LintOptions{Ingest: testRules()}).Issues {
			for _, v := range []string{u.Stream(), u.RawQuery()} {
				if len(v) > 3 && !strings.Contains(public, v) && (strings.Contains(i.Found, v) || strings.Contains(i.Want, v)) {
					t.Fatalf("issue %+v holds the secret %q", i, v)
				}
			}
		}
	})
}
