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
		"srt://10.0.0.1:10080?streamid=live/feed&passphrase=0123456789&latency=200&pbkeylen=32&x=y",
		"srt://h:9000/path?streamid=%23!::r=a/b,m=publish&passphrase=short&mode=listener",
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
		if u.Scheme == "srt" {
			// srt:// keeps the names of its parameters and the values of its settings (srt.go).
			public = u.Scheme + "://" + u.Authority()
			if !strings.HasPrefix(r, public) {
				t.Fatalf("Redacted() = %q; want it to start with %q", r, public)
			}
		} else {
			if r != public && r != public+"<redacted>" && r != public+"/<redacted>" && r != u.Scheme+"://"+u.Authority()+"/<redacted>" {
				t.Fatalf("Redacted() = %q; want %q followed by nothing or /<redacted>", r, public)
			}
			if u.Stream() == "" && u.RawQuery() == "" && u.App != "" && r != u.Scheme+"://"+u.Authority()+"/<redacted>" {
				t.Fatalf("Redacted() = %q shows a lone path segment, which may be a stream key", r)
			}
		}
		secrets := []string{u.Stream(), u.LiteralStream()}
		if u.Scheme != "srt" {
			secrets = append(secrets, u.RawQuery()) // srt:// shows its known parameter names
		}
		for name, vs := range u.Query() {
			for _, v := range vs {
				if u.Scheme == "srt" && srtSafe[strings.ToLower(name)] && safeValue(v) {
					continue // a setting (latency=200), shown on purpose
				}
				secrets = append(secrets, v)
			}
		}
		for _, p := range u.Params() {
			name := strings.ToLower(p.Name)
			if u.Scheme == "srt" && !srtSafe[name] && name != ParamStreamID && name != ParamPassphrase {
				secrets = append(secrets, p.Name) // an unknown name may be a misplaced secret
			}
			if u.Scheme == "srt" && srtSafe[name] && safeValue(p.Value) {
				continue // a setting (latency=200), shown on purpose
			}
			secrets = append(secrets, p.Value)
		}
		if u.Scheme == "srt" {
			secrets = append(secrets, u.SRT().StreamID, u.SRT().Passphrase)
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
