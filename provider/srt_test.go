package provider

import (
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

// Tencent's SRT push carries its signature in the stream id, not the query: auto still picks
// tencent from it, so the URL doctor checks the signature and the CNAME rule applies.
func TestResolveAutoSRTStreamID(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/show,txSecret=abc,txTime=5C271099", Tencent},
		{"srt://push.example.com:9000?streamid=%23!::r=live/show,txTime=5C271099", Tencent},
		{"srt://push.example.com:9000?streamid=#!::r=live/show,m=publish", Generic},
		{"srt://push.example.com:9000?streamid=txSecret", Generic},
	} {
		u, err := ingesturl.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := Resolve(Auto, u, Builtin()); !ok || got.Name != tt.want {
			t.Errorf("Resolve(auto, %s): got %q, %v; want %q", tt.url, got.Name, ok, tt.want)
		}
	}
}
