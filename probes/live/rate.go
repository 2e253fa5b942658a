package live

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRate reads a bitrate as encoders write it: "2500k", "2.5M", "2.5 Mbit/s", "6000kbps",
// "2500000" (bits per second). k, M and G are decimal (1000), as in every encoder's settings.
func ParseRate(s string) (float64, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	for _, suf := range []string{"bit/s", "bps", "b/s", "b"} {
		if strings.HasSuffix(t, suf) {
			t = strings.TrimSuffix(t, suf)
			break
		}
	}
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult, t = 1e3, t[:n-1]
		case 'm':
			mult, t = 1e6, t[:n-1]
		case 'g':
			mult, t = 1e9, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v*mult >= 1e3 && v*mult <= 1e11) {
		return 0, fmt.Errorf("%q is not a bitrate (write it like \"2500k\", \"2.5M\" or \"6 Mbit/s\"; 1 kbit/s to 100 Gbit/s)", s)
	}
	return v * mult, nil
}
