package ingesturl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in                            string
		scheme, host, app, stream, pn string
		port                          int
		redacted, tcURL               string
	}{
		{in: "rtmp://push.example.com/live/show?txSecret=abc&txTime=5C271099", scheme: "rtmp", host: "push.example.com", port: 1935, app: "live", stream: "show",
			pn: "show?txSecret=abc&txTime=5C271099", redacted: "rtmp://push.example.com/live/<redacted>", tcURL: "rtmp://push.example.com/live"},
		{in: "RTMP://Push.Example.com:1936/live/s", scheme: "rtmp", host: "push.example.com", port: 1936, app: "live", stream: "s", pn: "s",
			redacted: "rtmp://push.example.com:1936/live/<redacted>", tcURL: "rtmp://push.example.com:1936/live"},
		{in: "rtmps://h.example.com/app/sub/stream", scheme: "rtmps", host: "h.example.com", port: 443, app: "app/sub", stream: "stream", pn: "stream",
			redacted: "rtmps://h.example.com/app/sub/<redacted>", tcURL: "rtmps://h.example.com/app/sub"},
		{in: "rtmp://[2001:db8::1]:1935/live/s", scheme: "rtmp", host: "2001:db8::1", port: 1935, app: "live", stream: "s", pn: "s",
			redacted: "rtmp://[2001:db8::1]:1935/live/<redacted>", tcURL: "rtmp://[2001:db8::1]:1935/live"},
		{in: "rtmp://192.0.2.1/live", scheme: "rtmp", host: "192.0.2.1", port: 1935, app: "live", redacted: "rtmp://192.0.2.1/<redacted>", tcURL: "rtmp://192.0.2.1/live"},
		{in: "  rtmp://h/live/s  ", scheme: "rtmp", host: "h", port: 1935, app: "live", stream: "s", pn: "s", redacted: "rtmp://h/live/<redacted>", tcURL: "rtmp://h/live"},
		{in: "rtmp://user:pw@h/live/s", scheme: "rtmp", host: "h", port: 1935, app: "live", stream: "s", pn: "s", redacted: "rtmp://h/live/<redacted>", tcURL: "rtmp://h/live"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(u.Scheme, u.Host, u.Port, u.App, u.Stream(), u.PublishName())
			want := fmt.Sprint(tt.scheme, tt.host, tt.port, tt.app, tt.stream, tt.pn)
			if got != want {
				t.Errorf("got %s; want %s", got, want)
			}
			if u.Redacted() != tt.redacted || fmt.Sprint(u) != tt.redacted || fmt.Sprintf("%#v", u) != fmt.Sprintf("ingesturl.URL(%q)", tt.redacted) {
				t.Errorf("redacted: got %q / %v / %#v; want %q", u.Redacted(), u, u, tt.redacted)
			}
			if u.TCURL() != tt.tcURL {
				t.Errorf("tcUrl: got %q; want %q", u.TCURL(), tt.tcURL)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"push.example.com/live/s", "no scheme (want rtmp://host/app/stream)"},
		{"ftp://h/live/s", `unknown scheme "ftp"`},
		{"rtmp:///live/s", "missing host"},
		{"rtmp://h:0/live/s", "port out of range"},
		{"rtmp://h:99999/live/s", "port out of range"},
		{"rtmp://h:/live/s", "empty port"},
		{"rtmp://h/live/a b", "contains white space"},
		{"rtmp://bad_host!/live/s", "bad host name"},
		{"rtmp://h/live/s?a=%zz", "malformed query"},
		{"rtmp://h/live/%zz", `invalid URL escape "%zz"`}, // url.Parse's reason, without the URL it quotes
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, ErrInvalid) || err.Error() != ErrInvalid.Error()+": "+tt.want {
				t.Errorf("got %v; want %q", err, tt.want)
			}
			// The reason is there on its own, for messages that say it in their own words.
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason != tt.want {
				t.Errorf("got %#v; want a *ParseError with reason %q", err, tt.want)
			}
			if wrapped := fmt.Errorf("targets[0]: url: %w", err); !errors.As(wrapped, &pe) || pe.Reason != tt.want || !errors.Is(wrapped, ErrInvalid) {
				t.Errorf("wrapped: got reason %q; want %q, and ErrInvalid matched", pe.Reason, tt.want)
			}
			if tt.in != "" && strings.Contains(err.Error(), "/live/") {
				t.Errorf("error repeats the URL: %v", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"rtmp://h/live/key?txSecret=x": "rtmp://h/live/<redacted>",
		// Unparsable: the host stays (only the path and query may be secret), so a bad URL among
		// several can be told apart; user info and what follows the host do not.
		"rtmp://h:0/live/key":                "rtmp://h:0/<redacted>",
		"rtmp://bad host:1935/live/key?x=1":  "rtmp://bad host:1935/<redacted>",
		"RTMP://user:pw@h:99999/live/key":    "rtmp://h:99999/<redacted>",
		"rtmp://h:99999":                     "rtmp://h:99999",
		"rtmp://h:99999?txSecret=abc":        "rtmp://h:99999?<redacted>",
		"rtmp://" + strings.Repeat("k", 100): "rtmp://<redacted>",
		"not a url key":                      "<redacted>",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q): got %q; want %q", in, got, want)
		}
	}
}

// TestPublishNameKeepsEscapes: the probe publishes the stream name as written, the bytes the
// signature is checked over (LiteralStream), not its decoded form.
func TestPublishNameKeepsEscapes(t *testing.T) {
	u, err := Parse("rtmp://push.example.com/live/a%2Db?txSecret=abc&txTime=5C271099")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.PublishName(), "a%2Db?txSecret=abc&txTime=5C271099"; got != want || u.LiteralStream() != "a%2Db" {
		t.Errorf("PublishName %q, LiteralStream %q; want %q and a%%2Db", got, u.LiteralStream(), want)
	}
}
