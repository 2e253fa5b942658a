package diagnose

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestUnreachableRemedy: when no port of the server connects, a blocked path and a dead server
// look the same from the venue; the remedy must name both and the test that tells them apart,
// not only the venue's uplink.
func TestUnreachableRemedy(t *testing.T) {
	u, err := ingesturl.Parse("rtmp://192.0.2.10/live/stream")
	if err != nil {
		t.Fatal(err)
	}
	fail := func(port int, c tcp.Class, errno string) tcp.Result {
		return tcp.Result{Probe: "tcp", Address: "192.0.2.10", Port: port, Error: c, Errno: errno, ConnectSeconds: 2}
	}
	tests := []struct {
		name    string
		results []tcp.Result
	}{
		{"all dropped", []tcp.Result{fail(1935, tcp.Timeout, ""), fail(443, tcp.Timeout, ""), fail(80, tcp.Timeout, "")}},
		{"all admin-prohibited", []tcp.Result{fail(1935, tcp.Unreachable, "EHOSTUNREACH"), fail(443, tcp.Unreachable, "EHOSTUNREACH"), fail(80, tcp.Unreachable, "EHOSTUNREACH")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Findings(Input{URL: u, Results: record.Results{TCP: tt.results}})
			if len(fs) != 1 || fs[0].Code != "tcp.unreachable" {
				t.Fatalf("findings: got %+v; want one tcp.unreachable", fs)
			}
			for _, want := range []string{"uplink", "4G/5G", "ask venue IT", "server is down", "contact the provider"} {
				if !strings.Contains(fs[0].Remedy, want) {
					t.Errorf("remedy %q: want it to contain %q", fs[0].Remedy, want)
				}
			}
		})
	}
}
