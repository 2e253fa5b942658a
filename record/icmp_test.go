package record

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// TestResultsRoundTrip: the results list names each probe and reads back into the same Results,
// ICMP included; an unknown probe is an error, not silently dropped.
func TestResultsICMPRoundTrip(t *testing.T) {
	in := Results{
		DNS:  &dns.Result{Probe: "dns", Host: "push.example.com", A: []string{"192.0.2.1"}},
		TCP:  []tcp.Result{{Probe: "tcp", Address: "192.0.2.1", Port: 1935, OK: true}},
		ICMP: &icmp.Result{Probe: "icmp", Address: "192.0.2.1", Privileged: true, Sent: 5, Received: 4, LossRatio: 0.2, RTTAvgSeconds: 0.012},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var probes []string
	var list []map[string]any
	json.Unmarshal(b, &list)
	for _, o := range list {
		probes = append(probes, o["probe"].(string))
	}
	if got := strings.Join(probes, ","); got != "dns,tcp,icmp" {
		t.Errorf("got probes %s; want dns,tcp,icmp", got)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("got %+v; want %+v", back, in)
	}
	if err := json.Unmarshal([]byte(`[{"probe":"smtp"}]`), &back); err == nil {
		t.Errorf("got no error for an unknown probe")
	}
}
