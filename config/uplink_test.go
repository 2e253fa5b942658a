package config

import (
	"strings"
	"testing"
	"time"
)

// TestUplinkKeys: uplink is off by default; set, it is parsed with the window and the schedule at
// their defaults; wrong values are refused with the key in the message.
func TestUplinkKeys(t *testing.T) {
	const target = "[[targets]]\nname = \"main\"\nurl = \"rtmp://push.example.com/live/s\"\n"
	c, err := Parse([]byte(target))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Targets[0]; g.UplinkBPS != 0 || g.UplinkFor.D() != 0 || g.UplinkEvery.D() != 0 {
		t.Errorf("got uplink %d for %s every %s; want none", g.UplinkBPS, g.UplinkFor.D(), g.UplinkEvery.D())
	}
	c, err = Parse([]byte(target + "uplink = \"6M\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Targets[0]; g.UplinkBPS != 6_000_000 || g.UplinkFor.D() != 10*time.Second || g.UplinkEvery.D() != time.Hour {
		t.Errorf("got uplink %d for %s every %s; want 6000000 for 10s every 1h", g.UplinkBPS, g.UplinkFor.D(), g.UplinkEvery.D())
	}
	c, err = Parse([]byte(target + "uplink = \"4500k\"\nuplink_for = \"30s\"\nuplink_every = \"15m\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Targets[0]; g.UplinkBPS != 4_500_000 || g.UplinkFor.D() != 30*time.Second || g.UplinkEvery.D() != 15*time.Minute {
		t.Errorf("got uplink %d for %s every %s; want 4500000 for 30s every 15m", g.UplinkBPS, g.UplinkFor.D(), g.UplinkEvery.D())
	}
	for _, tt := range []struct{ name, text, want string }{
		{"zero", "uplink = \"0\"\n", "uplink: \"0\": the bitrate must be above 0"},
		{"too high", "uplink = \"2G\"\n", "at most 1G"},
		{"not a rate", "uplink = \"fast\"\n", "is not a bitrate"},
		{"window too short", "uplink = \"6M\"\nuplink_for = \"2s\"\n", "uplink_for 2s: the measured window must be from 3s to 5m0s"},
		{"window too long", "uplink = \"6M\"\nuplink_for = \"10m\"\n", "uplink_for 10m0s"},
		{"too often", "uplink = \"6M\"\nuplink_every = \"30s\"\n", "uplink_every 30s: at least 1m0s"},
		{"for without uplink", "uplink_for = \"10s\"\n", "uplink_for and uplink_every need uplink"},
		{"rtmp off", "uplink = \"6M\"\nrtmp = \"off\"\n", "rtmp = \"off\" forbids"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(target + tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "targets[0] (main)") {
				t.Errorf("got  %v\nwant it to name the target and say %s", err, tt.want)
			}
		})
	}
	_, err = Parse([]byte("[[targets]]\nname = \"s\"\nurl = \"srt://push.example.com:9000?streamid=x\"\nuplink = \"6M\"\n"))
	if err == nil || !strings.Contains(err.Error(), "srt:// URLs are not supported") {
		t.Errorf("srt target with uplink: got %v; want refused", err)
	}
}
