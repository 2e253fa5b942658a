package record

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// Traces travel after the TCP connects, one "path" object each, and read back in order.
func TestResultsPathRoundTrip(t *testing.T) {
	in := Results{
		TCP: []tcp.Result{{Probe: "tcp", Address: "10.0.0.2", Port: 1935, Role: "ingest", Error: tcp.Timeout}},
		Path: []path.Result{
			{Probe: "path", Address: "10.0.0.2", Port: 1935, Role: "ingest", Method: "tcp_connect", OK: true, Sent: 8,
				Hops: []path.Hop{{TTL: 1, Address: "10.0.1.1", Answer: path.TimeExceeded, ICMPType: 11, RTTSeconds: 0.001}, {TTL: 2, Answer: path.NoAnswer}}},
			{Probe: "path", Address: "10.0.0.2", Port: 443, Role: "alternative", OK: true, Reached: true, ReachedTTL: 2, Sent: 8,
				Hops: []path.Hop{{TTL: 1, Address: "10.0.1.1", Answer: path.TimeExceeded}, {TTL: 2, Address: "10.0.0.2", Answer: path.SynAck}}},
		},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"probe":"tcp"`) || strings.Index(string(b), `"probe":"tcp"`) > strings.Index(string(b), `"probe":"path"`) {
		t.Errorf("got %s; want tcp before path", b)
	}
	var out Results
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %+v after a round trip; want %+v", out, in)
	}
}

// The MTU black-hole retries are rtmp objects with max_segment: they read back into RTMPSegments,
// and the first session stays RTMP.
func TestResultsRTMPSegmentsRoundTrip(t *testing.T) {
	in := Results{
		RTMP: &rtmp.Result{Probe: "rtmp", Address: "10.0.0.2", Port: 1935, Phase: rtmp.PhaseHandshake, Error: rtmp.Timeout},
		RTMPSegments: []rtmp.Result{
			{Probe: "rtmp", Address: "10.0.0.2", Port: 1935, OK: true, Phase: rtmp.PhaseHandshake, MaxSegment: 1200, BytesReceived: 3073},
			{Probe: "rtmp", Address: "10.0.0.2", Port: 1935, Phase: rtmp.PhaseHandshake, Error: rtmp.Timeout, MaxSegment: 1330},
		},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Results
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %+v after a round trip; want %+v", out, in)
	}
}
