package agent

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/nodemedia"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestIntegrationNodeMediaFindings: against node-media-server, which answers a refused signature
// and a second publisher alike (Publish.Start, then a close), the pipeline's finding names both
// causes; the publish that is let through is GO.
func TestIntegrationNodeMediaFindings(t *testing.T) {
	const secret = "nms-test-secret"
	nms := nodemedia.Start(t, nodemedia.Config{Secret: secret})
	base := "rtmp://127.0.0.1:" + strconv.Itoa(int(nms.RTMPAddr.Port())) + "/live/"
	run := func(url string) record.Record {
		return (&Pipeline{}).Run(t.Context(), Target{Name: "nms", URL: url, Timeout: 3 * time.Second, RTMP: rtmp.LevelPublish,
			SkipICMP: true, AltPorts: []int{}})
	}
	good := run(base + "show?sign=" + nodemedia.Sign("/live/show", secret, time.Now().Add(time.Hour)))
	if good.Verdict != record.Go || good.Results.RTMP == nil || !good.Results.RTMP.ReusedConnection {
		t.Errorf("signed publish: got %s %+v %+v; want GO on the TCP check's connection", good.Verdict, good.Findings, good.Results.RTMP)
	}
	bad := run(base + "show?sign=" + nodemedia.Sign("/live/show", "another-secret", time.Now().Add(time.Hour)))
	var f *record.Finding
	for i := range bad.Findings {
		if bad.Findings[i].Code == "rtmp.publish_rejected" {
			f = &bad.Findings[i]
		}
	}
	if f == nil {
		t.Fatalf("bad signature: got %+v; want rtmp.publish_rejected", bad.Findings)
	}
	if got, _ := f.Evidence["causes"].([]string); !slices.Equal(got, []string{"stream_in_use", "stream_key"}) {
		t.Errorf("got causes %v; want another encoder, then the stream key (the URL carries no signature the doctor knows)", got)
	}
	if !strings.Contains(f.Message, "then closed the connection at once: the stream is already being published by another encoder, or the ingest refused the stream key") {
		t.Errorf("got message %q", f.Message)
	}
}
