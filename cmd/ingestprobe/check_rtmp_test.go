package main

import (
	"testing"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
)

func TestRTMPLevelFlag(t *testing.T) {
	cases := []struct {
		rtmp    string
		publish bool
		want    rtmp.Level
		wantErr string
	}{
		{"", false, "", ""},
		{"", true, rtmp.LevelPublish, ""},
		{"connect", false, rtmp.LevelConnect, ""},
		{"publish", true, rtmp.LevelPublish, ""},
		{"off", false, rtmp.LevelOff, ""},
		{"handshake", true, "", "--publish contradicts --rtmp handshake"},
		{"play", false, "", `--rtmp: "play" is not an RTMP level (off, handshake, connect or publish)`},
	}
	for _, c := range cases {
		t.Run(c.rtmp, func(t *testing.T) {
			got, err := rtmpLevelFlag(c.rtmp, c.publish)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("got error %v; want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestCheckDefaultLevelConnect: `check` connects to the application by default — a wrong
// application name (rtmp://host/nosuchapp/x) was GO with the handshake alone — for URLs and for
// configured targets that do not set rtmp; a target's own rtmp and --rtmp still decide.
func TestCheckDefaultLevelConnect(t *testing.T) {
	cfg, err := config.Parse([]byte("[[targets]]\nname = \"plain\"\nurl = \"rtmp://push.example.com/live/a\"\n" +
		"[[targets]]\nname = \"set\"\nurl = \"rtmp://push.example.com/live/b\"\nrtmp = \"handshake\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := selectTargets(cfg, []string{"plain", "set", "rtmp://127.0.0.1/nosuchapp/x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]rtmp.Level{}
	for _, tg := range checkLevels(cfg, ts, "") {
		got[tg.Name] = tg.RTMP
	}
	if got["plain"] != rtmp.LevelConnect || got["set"] != rtmp.LevelHandshake || got["127.0.0.1"] != rtmp.LevelConnect {
		t.Errorf("got %v; want plain and the URL at connect, set at its own handshake", got)
	}
	for _, tg := range checkLevels(cfg, ts, rtmp.LevelOff) {
		if tg.RTMP != rtmp.LevelOff {
			t.Errorf("--rtmp off: %s at %q", tg.Name, tg.RTMP)
		}
	}
}
