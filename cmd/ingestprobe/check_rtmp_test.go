package main

import (
	"testing"

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
