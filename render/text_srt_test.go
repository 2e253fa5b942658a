package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestTextSRTLine(t *testing.T) {
	cases := []struct {
		name string
		r    srt.Result
		want string // "" = no srt line
	}{
		{"accepted", srt.Result{Address: "10.0.0.2", Port: 9000, OK: true, Phase: srt.PhaseConclusion, Encrypted: true, KeyLength: 16, StreamID: true,
			PeerVersion: "1.5.1", LatencySeconds: 0.12, RTTSeconds: 0.00014, InductionSeconds: 0.00014, ConclusionSeconds: 0.0048},
			"  ✔ srt  handshake with 10.0.0.2 port 9000 (UDP) ok: listener SRT 1.5.1, AES-128, passphrase accepted, stream id accepted, latency 120 ms  (rtt 0.14 ms, handshake 4.9 ms)\n"},
		{"accepted, open", srt.Result{Address: "10.0.0.2", Port: 9000, OK: true, Phase: srt.PhaseConclusion, RTTSeconds: 0.002},
			"  ✔ srt  handshake with 10.0.0.2 port 9000 (UDP) ok: not encrypted  (rtt 2.0 ms)\n"},
		{"wrong passphrase", srt.Result{Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseConclusion, Error: srt.Rejected, RejectReason: srt.RejectBadSecret, RejectCode: 10, RTTSeconds: 0.0001},
			"  ✘ srt  10.0.0.2 port 9000 (UDP) rejected the connection: SRT_REJ_BADSECRET  (rtt 0.10 ms)\n"},
		{"key material refused", srt.Result{Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseConclusion, Error: srt.Rejected, RejectReason: srt.RejectBadSecret, KMState: srt.KMBad},
			"  ✘ srt  10.0.0.2 port 9000 (UDP) rejected the connection: SRT_REJ_BADSECRET (key material bad_secret)\n"},
		{"user code", srt.Result{Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseConclusion, Error: srt.Rejected, RejectReason: srt.RejectUser, RejectCode: 2005},
			"  ✘ srt  10.0.0.2 port 9000 (UDP) rejected the connection: user\n"},
		{"dropped", srt.Result{Address: "2001:db8::2", Port: 10080, Phase: srt.PhaseInduction, Error: srt.Timeout, ElapsedSeconds: 2.0, Sends: 9},
			"  ✘ srt  [2001:db8::2] port 10080 (UDP): no answer to the handshake in 2.0 s (9 packets sent)\n"},
		{"conclusion unanswered", srt.Result{Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseConclusion, Error: srt.Timeout, ElapsedSeconds: 2.0, RTTSeconds: 0.001},
			"  ✘ srt  10.0.0.2 port 9000 (UDP) answered the first handshake packet, not the second, in 2.0 s  (rtt 1.0 ms)\n"},
		{"nothing listening", srt.Result{Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseInduction, Error: srt.Refused, Errno: "ECONNREFUSED", ElapsedSeconds: 0.0004},
			"  ✘ srt  10.0.0.2 port 9000 (UDP): ICMP port unreachable (ECONNREFUSED) after 0.40 ms\n"},
		{"canceled", srt.Result{Address: "10.0.0.2", Port: 9000, Error: srt.Canceled}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			r := c.r
			if err := Checklist(&b, []record.Record{{Target: "main", Results: record.Results{SRT: &r}}}, Options{}); err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if strings.Contains(b.String(), " srt ") {
					t.Errorf("got\n%s\nwant no srt line", b.String())
				}
				return
			}
			if !strings.Contains(b.String(), c.want) {
				t.Errorf("got\n%s\nwant a line\n%s", b.String(), c.want)
			}
		})
	}
}
