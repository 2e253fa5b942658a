package record

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// The SRT result travels after the TCP connects ({"probe": "srt", "ok", "rtt_seconds",
// "reject_reason", …}) and reads back into its own field; it holds no stream id or passphrase.
func TestResultsSRTRoundTrip(t *testing.T) {
	in := Results{
		TCP: []tcp.Result{{Probe: "tcp", Address: "10.0.0.2", Port: 443, Role: "alternative", OK: true, ConnectSeconds: 0.01}},
		SRT: &srt.Result{Probe: "srt", Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseConclusion, Error: srt.Rejected,
			RejectReason: srt.RejectBadSecret, RejectCode: 10, Encrypted: true, StreamID: true, KeyLength: 16, RTTSeconds: 0.0004, Sends: 2},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["probe"] != "tcp" || list[1]["probe"] != "srt" {
		t.Fatalf("got list %s; want tcp then srt", b)
	}
	for _, k := range []string{"ok", "rtt_seconds", "reject_reason", "reject_code", "phase", "stream_id", "encrypted"} {
		if _, ok := list[1][k]; !ok {
			t.Errorf("srt result %s: no %q", b, k)
		}
	}
	if strings.Contains(string(b), "passphrase\"") || strings.Contains(string(b), "streamid") {
		t.Errorf("srt result %s: names a secret's value field", b)
	}
	var out Results
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %+v after a round trip; want %+v", out, in)
	}
}
