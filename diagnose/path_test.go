package diagnose

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestPathInTCPFindings(t *testing.T) {
	const server = "203.0.113.10" // a public address: the hops can be placed inside or upstream
	u, err := ingesturl.Parse("rtmp://" + server + "/live/stream")
	if err != nil {
		t.Fatal(err)
	}
	conn := func(port int, c tcp.Class, errno string) tcp.Result {
		return tcp.Result{Probe: "tcp", Address: server, Port: port, OK: c == tcp.OK, Error: c, Errno: errno, ConnectSeconds: 0.02}
	}
	te := func(ttl int, a string) path.Hop {
		return path.Hop{TTL: ttl, Address: a, Answer: path.TimeExceeded, ICMPType: 11}
	}
	trace := func(port int, hops ...path.Hop) path.Result {
		r := path.Result{Probe: "path", Address: server, Port: port, OK: true, Hops: hops, Sent: 8}
		if h, ok := r.Terminal(); ok && (h.Answer == path.SynAck || h.Answer == path.Reset) {
			r.Reached, r.ReachedTTL = true, h.TTL
		}
		return r
	}
	reach443 := trace(443, te(1, "192.168.1.1"), te(2, "198.51.100.1"), path.Hop{TTL: 3, Address: server, Answer: path.SynAck})
	blocked := []tcp.Result{conn(1935, tcp.Timeout, ""), conn(443, tcp.OK, "")}

	tests := []struct {
		name     string
		tcp      []tcp.Result
		traces   []path.Result
		code     string
		msg      []string
		remedy   []string
		evidence map[string]any
	}{
		{"dropped upstream", blocked,
			[]path.Result{trace(1935, te(1, "192.168.1.1"), te(2, "198.51.100.1"), path.Hop{TTL: 3, Answer: path.NoAnswer}), reach443},
			"tcp.blocked",
			[]string{"port 1935 is silently dropped after hop 2 (198.51.100.1), upstream of this network", "port 443 reaches the server at hop 3"},
			[]string{"last seen after hop 2", "ISP"},
			map[string]any{"alt_reached_ttl": 3, "last_hop": map[string]any{"ttl": 2, "address": "198.51.100.1"}}},
		{"dropped by the venue", blocked,
			[]path.Result{trace(1935, te(1, "192.168.1.1"), path.Hop{TTL: 2, Answer: path.NoAnswer}), reach443},
			"tcp.blocked",
			[]string{"dropped after hop 1 (192.168.1.1), inside this network (venue firewall)"},
			[]string{"the venue's own firewall drops them"},
			map[string]any{"last_hop": map[string]any{"ttl": 1, "address": "192.168.1.1"}}},
		{"no router answers", blocked,
			[]path.Result{trace(1935, path.Hop{TTL: 1, Answer: path.NoAnswer}), reach443},
			"tcp.blocked", []string{"silently dropped by this network"}, nil,
			map[string]any{"path": "no router answered a traced SYN"}},
		{"not traced", blocked,
			[]path.Result{{Probe: "path", Address: server, Port: 1935, Error: path.Unsupported, Reason: "path not traced: needs Linux"}},
			"tcp.blocked", []string{"silently dropped by this network"}, nil,
			map[string]any{"path": "path not traced: needs Linux"}},
		{"admin-prohibited by the venue's router", []tcp.Result{conn(1935, tcp.Unreachable, "EHOSTUNREACH"), conn(443, tcp.OK, "")},
			[]path.Result{trace(1935, te(1, "192.168.1.1"), path.Hop{TTL: 2, Address: "192.168.1.1", Answer: path.Unreachable, ICMPType: 3, ICMPCode: 13,
				Reason: "communication administratively prohibited"}), reach443},
			"tcp.rejected",
			[]string{"was rejected by 192.168.1.1 (hop 1) with ICMP communication administratively prohibited, a firewall's reject"}, nil,
			map[string]any{"rejected_by": map[string]any{"ttl": 2, "hop": 1, "address": "192.168.1.1", "icmp_type": 3, "icmp_code": 13,
				"reason": "communication administratively prohibited", "kind": "firewall"}}},
		{"IPv6 admin-prohibited is not this host's firewall", []tcp.Result{conn(1935, tcp.Denied, "EACCES"), conn(443, tcp.OK, "")},
			[]path.Result{trace(1935, path.Hop{TTL: 1, Address: "2001:db8::1", Answer: path.Unreachable, ICMPType: 1, ICMPCode: 1,
				Reason: "communication administratively prohibited"})},
			"tcp.rejected", []string{"rejected by 2001:db8::1 (answering TTL 1) with ICMP communication administratively prohibited"}, nil, nil},
		{"reset before the server", []tcp.Result{conn(1935, tcp.Refused, "ECONNREFUSED"), conn(443, tcp.OK, "")},
			[]path.Result{trace(1935, te(1, "192.168.1.1"), path.Hop{TTL: 2, Address: server, Answer: path.Reset}), reach443},
			"tcp.rejected", []string{"with a TCP reset at hop 2, before the server (hop 3)"}, nil, map[string]any{"reset_ttl": 2}},
		{"host unreachable, nothing connects", []tcp.Result{conn(1935, tcp.Unreachable, "EHOSTUNREACH"), conn(443, tcp.Unreachable, "EHOSTUNREACH")},
			[]path.Result{trace(1935, te(1, "192.168.1.1"), te(2, "198.51.100.1"), path.Hop{TTL: 3, Address: "198.51.100.1", Answer: path.Unreachable, ICMPType: 3, ICMPCode: 1,
				Reason: "host unreachable"})},
			"tcp.unreachable", []string{"rejected by 198.51.100.1 (hop 2) with ICMP host unreachable, a routing failure rather than a firewall"}, nil, nil},
		{"everything dropped", []tcp.Result{conn(1935, tcp.Timeout, ""), conn(443, tcp.Timeout, "")},
			[]path.Result{trace(1935, te(1, "192.168.1.1"), te(2, "198.51.100.1"), path.Hop{TTL: 3, Answer: path.NoAnswer})},
			"tcp.unreachable", []string{"timed out after 0.0 s; the SYNs are dropped after hop 2 (198.51.100.1), upstream of this network"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Findings(Input{URL: u, Results: record.Results{TCP: tt.tcp, Path: tt.traces}})
			if len(fs) != 1 || fs[0].Code != tt.code {
				t.Fatalf("got %+v; want one %s", fs, tt.code)
			}
			f := fs[0]
			for _, w := range tt.msg {
				if !strings.Contains(f.Message, w) {
					t.Errorf("message %q: want %q", f.Message, w)
				}
			}
			for _, w := range tt.remedy {
				if !strings.Contains(f.Remedy, w) {
					t.Errorf("remedy %q: want %q", f.Remedy, w)
				}
			}
			for k, v := range tt.evidence {
				if got := f.Evidence[k]; !equalJSON(got, v) {
					t.Errorf("evidence %s: got %#v; want %#v", k, got, v)
				}
			}
		})
	}
}

func equalJSON(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		if len(am) != len(bm) {
			return false
		}
		for k := range am {
			if !equalJSON(am[k], bm[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}
