package render

import (
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/path"
)

func TestPathStep(t *testing.T) {
	te := func(ttl int, a string) path.Hop { return path.Hop{TTL: ttl, Address: a, Answer: path.TimeExceeded} }
	for _, tt := range []struct {
		name     string
		in       path.Result
		ok, soft bool
		want     string
	}{
		{"dropped", path.Result{Address: "10.231.2.10", Port: 1935, OK: true, Sent: 8,
			Hops: []path.Hop{te(1, "10.231.1.1"), te(2, "10.231.3.2"), {TTL: 3, Answer: path.NoAnswer}}},
			false, false, "10.231.2.10 port 1935: 10.231.1.1 → 10.231.3.2 → * (dropped after hop 2; 8 SYNs)"},
		{"reached", path.Result{Address: "fd31:2::10", Port: 443, OK: true, Reached: true, ReachedTTL: 2, Sent: 8,
			Hops: []path.Hop{te(1, "fd31:1::1"), {TTL: 2, Address: "fd31:2::10", Answer: path.SynAck}}},
			true, false, "[fd31:2::10] port 443: fd31:1::1 → fd31:2::10 (reaches the server at hop 2; 8 SYNs)"},
		{"rejected", path.Result{Address: "10.231.2.10", Port: 1935, OK: true, Sent: 8,
			Hops: []path.Hop{te(1, "10.231.1.1"), {TTL: 2, Address: "10.231.1.1", Answer: path.Unreachable, Reason: "communication administratively prohibited"}}},
			false, false, "10.231.2.10 port 1935: 10.231.1.1 (rejected by 10.231.1.1: communication administratively prohibited; 8 SYNs)"},
		{"one SYN", path.Result{Address: "127.0.0.1", Port: 1, OK: true, Sent: 1,
			Hops: []path.Hop{{TTL: 1, Address: "127.0.0.1", Answer: path.Reset}}},
			false, false, "127.0.0.1 port 1: 127.0.0.1 (reset at hop 1; 1 SYN)"},
		{"not traced", path.Result{Address: "10.231.2.10", Port: 1935, Error: path.Unsupported, Reason: "path not traced: needs Linux"},
			false, true, "10.231.2.10 port 1935: path not traced: needs Linux"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, soft, got := pathStep(tt.in, palette{})
			if ok != tt.ok || soft != tt.soft || got != tt.want {
				t.Errorf("got %v %v %q; want %v %v %q", ok, soft, got, tt.ok, tt.soft, tt.want)
			}
		})
	}
}
