package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestTextICMPLine: the checklist has one icmp line saying what was measured, marked bad only
// for loss, and "not measured" (never a failure mark) when no echo could be sent or answered.
func TestTextICMPLine(t *testing.T) {
	tests := []struct {
		name string
		r    *icmp.Result
		want string // the icmp line, trimmed
	}{
		{"all answered", &icmp.Result{Address: "192.0.2.1", Sent: 5, Received: 5, RTTMinSeconds: 0.011, RTTAvgSeconds: 0.0125, RTTMaxSeconds: 0.015},
			"✔ icmp 192.0.2.1 5/5 echoes answered, rtt min/avg/max 11.0/12.5/15.0 ms"},
		{"loss", &icmp.Result{Address: "192.0.2.1", Sent: 5, Received: 3, LossRatio: 0.4, RTTMinSeconds: 0.2, RTTAvgSeconds: 0.25, RTTMaxSeconds: 0.3},
			"✘ icmp 192.0.2.1 3/5 echoes answered (40 % lost), rtt min/avg/max 200.0/250.0/300.0 ms"},
		{"loopback", &icmp.Result{Address: "127.0.0.1", Sent: 5, Received: 5, RTTMinSeconds: 0.000031, RTTAvgSeconds: 0.000042, RTTMaxSeconds: 0.0012},
			"✔ icmp 127.0.0.1 5/5 echoes answered, rtt min/avg/max 0.03/0.04/1.2 ms"},
		{"filtered", &icmp.Result{Address: "192.0.2.1", Sent: 5, LossRatio: 1}, "– icmp 192.0.2.1 answered none of 5 echoes (ICMP filtered?)"},
		{"no socket", &icmp.Result{Address: "192.0.2.1", Error: icmp.Unavailable}, "– icmp 192.0.2.1 not measured: unavailable"},
		{"local firewall", &icmp.Result{Address: "192.0.2.1", Error: icmp.Denied, Errno: "EPERM"}, "– icmp 192.0.2.1 not measured: denied (EPERM)"},
		{"not run", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			rec := record.Record{Target: "main", URL: "rtmp://h/live/<redacted>", Verdict: record.Go, Results: record.Results{ICMP: tt.r}}
			if err := Checklist(&b, []record.Record{rec}, Options{}); err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, line := range strings.Split(b.String(), "\n") {
				if strings.Contains(line, " icmp ") {
					got = strings.TrimSpace(line)
				}
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestMS: times below a millisecond keep two decimals, so a LAN connect does not read "0.0 ms".
func TestMS(t *testing.T) {
	for in, want := range map[float64]string{0.00004: "0.04 ms", 0.0009: "0.90 ms", 0.0123: "12.3 ms", 0.999: "999.0 ms", 3: "3.0 s", 0: "0.00 ms"} {
		if got := ms(in); got != want {
			t.Errorf("ms(%v) = %q; want %q", in, got, want)
		}
	}
}
