package agent

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
)

// TestPipelineOneConnectionPerIngest: a receiver that takes one connection (`ffmpeg -listen 1`)
// completes the RTMP handshake, because the session continues on the TCP probe's connection —
// the receiver sees exactly one client.
func TestPipelineOneConnectionPerIngest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	accepts := 0
	wg.Go(func() {
		c, err := ln.Accept()
		ln.Close() // one connection only, as ffmpeg -listen 1
		if err != nil {
			return
		}
		accepts++
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		c0c1 := make([]byte, 1537)
		if _, err := io.ReadFull(c, c0c1); err != nil {
			return
		}
		if _, err := c.Write(append(append([]byte{3}, make([]byte, 1536)...), c0c1[1:]...)); err != nil {
			return
		}
		_, _ = io.ReadFull(c, make([]byte, 1536))
		_, _ = io.Copy(io.Discard, c)
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	port := ln.Addr().(*net.TCPAddr).Port
	p := &Pipeline{}
	rec := p.Run(t.Context(), Target{Name: "t", URL: fmt.Sprintf("rtmp://127.0.0.1:%d/live/s", port), Timeout: 2 * time.Second,
		RTMP: rtmp.LevelHandshake, SkipICMP: true, AltPorts: []int{}})
	r := rec.Results.RTMP
	if r == nil || !r.OK || !r.ReusedConnection || r.BytesReceived != 3073 {
		t.Fatalf("got RTMP %+v; want a completed handshake on the TCP probe's connection", r)
	}
	if len(rec.Results.TCP) != 1 || !rec.Results.TCP[0].OK || rec.Results.TCP[0].ConnectSeconds <= 0 {
		t.Errorf("got TCP %+v; want the ingest port connected and measured", rec.Results.TCP)
	}
	ln.Close()
	wg.Wait()
	if accepts != 1 {
		t.Errorf("the receiver accepted %d connections; want 1", accepts)
	}
}
