package record

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// The RTMP result travels in the results list after TCP, and reads back into its own field.
func TestResultsRTMPRoundTrip(t *testing.T) {
	in := Results{
		TCP:  []tcp.Result{{Probe: "tcp", Address: "10.0.0.2", Port: 1935, Role: "ingest", OK: true, ConnectSeconds: 0.01}},
		RTMP: &rtmp.Result{Probe: "rtmp", Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish, Error: rtmp.InUse, Status: rtmp.StatusPublishBadName, BytesReceived: 3073},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var list []struct{ Probe string }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Probe != "tcp" || list[1].Probe != "rtmp" {
		t.Fatalf("got list %s; want tcp then rtmp", b)
	}
	var out Results
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %+v after a round trip; want %+v", out, in)
	}
}
