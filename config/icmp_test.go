package config

import (
	"testing"
	"time"
)

// TestICMPKeys: the target's ICMP keys default sensibly, take what is written, and refuse values
// that cannot be meant, with the key in the message.
func TestICMPKeys(t *testing.T) {
	const target = "[[targets]]\nname = \"main\"\nurl = \"rtmp://push.example.com/live/s\"\n"
	t.Run("defaults", func(t *testing.T) {
		c, err := Parse([]byte(target))
		if err != nil {
			t.Fatal(err)
		}
		g := c.Targets[0]
		th := g.ICMPThresholds()
		if !*g.ICMP || g.ICMPCount != 5 || th.LossWarnRatio != 0.02 || th.LossErrorRatio != 0.2 || th.LatencyWarn != 150*time.Millisecond {
			t.Errorf("got icmp %v count %d thresholds %+v; want true 5 {0.02 0.2 150ms}", *g.ICMP, g.ICMPCount, th)
		}
	})
	t.Run("set", func(t *testing.T) {
		c, err := Parse([]byte(target + "icmp = false\nicmp_count = 10\nloss_warn_ratio = 0\nloss_error_ratio = 0.1\nlatency_warn = \"80ms\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		g := c.Targets[0]
		th := g.ICMPThresholds()
		if *g.ICMP || g.ICMPCount != 10 || th.LossWarnRatio != 0 || th.LossErrorRatio != 0.1 || th.LatencyWarn != 80*time.Millisecond {
			t.Errorf("got icmp %v count %d thresholds %+v; want false 10 {0 0.1 80ms}", *g.ICMP, g.ICMPCount, th)
		}
	})
	bad := []struct{ name, text, want string }{
		{"count too high", "icmp_count = 50\n", `: targets[0] (main): icmp_count: 50 is not between 1 and 20`},
		{"count negative", "icmp_count = -1\n", `: targets[0] (main): icmp_count: -1 is not between 1 and 20`},
		{"percent written as a number", "loss_warn_ratio = 2\n", `: targets[0] (main): loss_warn_ratio: 2 is not a ratio from 0 to below 1 (write 2 % as 0.02)`},
		{"warn above error", "loss_warn_ratio = 0.3\n", `: targets[0] (main): loss_warn_ratio (0.3) must be less than loss_error_ratio (0.2)`},
		{"negative latency", "latency_warn = \"-1ms\"\n", `: targets[0] (main): latency_warn: must be positive, got -1ms`},
		{"icmp not a bool", "icmp = \"yes\"\n", `:4:8: targets.icmp: cannot decode TOML string into struct field config.Target.ICMP of type bool`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(target + tt.text))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}
