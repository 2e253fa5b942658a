package config

import (
	"strings"
	"testing"
	"time"
)

func TestLiveKeys(t *testing.T) {
	c, err := Parse([]byte(`[[targets]]
name = "main"
url = "rtmp://push.example.com/live/show"
live = true
bitrate = "2.5M"
`))
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Targets[0]
	if !tg.Live || tg.LiveEvery.D() != 5*time.Second || tg.LiveQuiet.D() != 2*time.Minute || tg.BitrateBPS != 2.5e6 {
		t.Errorf("got live %v every %s quiet %s bitrate %v; want true, 5s, 2m, 2.5e6", tg.Live, tg.LiveEvery.D(), tg.LiveQuiet.D(), tg.BitrateBPS)
	}
	for _, c := range []struct{ body, want string }{
		{"live = true\nlive_every = \"100ms\"", "live_every: 100ms is under 1s"},
		{"bitrate = \"fast\"", "bitrate: \"fast\" is not a bitrate"},
		{"live_quiet = \"-1s\"", "live_quiet: must be positive"},
	} {
		_, err := Parse([]byte("[[targets]]\nname = \"main\"\nurl = \"rtmp://push.example.com/live/show\"\n" + c.body + "\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want an error with %q", c.body, err, c.want)
		}
	}
	_, err = Parse([]byte("[[targets]]\nname = \"s\"\nurl = \"srt://push.example.com:9000?streamid=x\"\nlive = true\n"))
	if err == nil || !strings.Contains(err.Error(), "TCP connections") {
		t.Errorf("srt:// with live: got %v; want the watch refused", err)
	}
}
