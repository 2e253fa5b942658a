package agent

import (
	"testing"

	"github.com/ingestprobe/ingestprobe/config"
)

// TestTargetBitrate: the live watch judges a show by its bitrate key, else by the rate its uplink
// soak is run for; neither leaves it unknown (0), and live.below_bitrate is not made.
func TestTargetBitrate(t *testing.T) {
	c := &config.Config{Targets: []config.Target{
		{Name: "both", URL: "rtmp://h/live/s", BitrateBPS: 2.5e6, UplinkBPS: 6e6},
		{Name: "uplink", URL: "rtmp://h/live/s", UplinkBPS: 6e6},
		{Name: "none", URL: "rtmp://h/live/s"},
	}}
	want := map[string]float64{"both": 2.5e6, "uplink": 6e6, "none": 0}
	for _, tg := range TargetsFromConfig(c) {
		if tg.Bitrate != want[tg.Name] {
			t.Errorf("%s: bitrate %v; want %v", tg.Name, tg.Bitrate, want[tg.Name])
		}
	}
}
