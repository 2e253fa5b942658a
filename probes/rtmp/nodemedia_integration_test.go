package rtmp

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/internal/nodemedia"
)

// TestIntegrationNodeMedia runs the cases of TestIntegrationNginx against a second, independent
// server: node-media-server 4. It accepts every publish with NetStream.Publish.Start and only then
// checks it, closing the connection at once for a wrong signature and for a stream that already
// has a publisher alike — both read "accepted, then closed" at the hold.
func TestIntegrationNodeMedia(t *testing.T) {
	const secret = "nms-test-secret"
	nms := nodemedia.Start(t, nodemedia.Config{Secret: secret})
	base := "rtmp://127.0.0.1:" + strconv.Itoa(int(nms.RTMPAddr.Port()))
	signed := func(name string) string {
		return base + "/live/" + name + "?sign=" + nodemedia.Sign("/live/"+name, secret, time.Now().Add(time.Hour))
	}
	const timeout = 5 * time.Second

	t.Run("handshake", func(t *testing.T) {
		r := probeNginx(t, nms.RTMPAddr, base+"/live/"+testStream, LevelHandshake, "", timeout)
		if !r.OK || r.Phase != PhaseHandshake || r.BytesReceived != 3073 {
			t.Errorf("got %+v; want ok after the handshake with 3073 bytes", r)
		}
	})
	t.Run("connect", func(t *testing.T) {
		r := probeNginx(t, nms.RTMPAddr, base+"/live/"+testStream, LevelConnect, "", timeout)
		if !r.OK || r.Phase != PhaseRTMPConnect || r.Status != StatusConnectSuccess || r.EnhancedRefused {
			t.Errorf("got %+v; want connected with %s", r, StatusConnectSuccess)
		}
	})
	t.Run("publish accepted, then released", func(t *testing.T) {
		for i := range 2 { // the second run proves the first released the stream
			r := probeNginx(t, nms.RTMPAddr, signed("show"), LevelPublish, "", timeout)
			if !r.OK || r.Phase != PhaseHold || r.Status != StatusPublishStart || r.HoldSeconds < DefaultHold.Seconds()*0.9 {
				t.Fatalf("run %d: got %+v; want ok, held %s, %s", i+1, r, DefaultHold, StatusPublishStart)
			}
		}
	})
	t.Run("bad signature: accepted, then closed at once", func(t *testing.T) {
		for _, u := range []string{
			base + "/live/show?sign=" + nodemedia.Sign("/live/show", "another-secret", time.Now().Add(time.Hour)),
			base + "/live/show?sign=" + nodemedia.Sign("/live/show", secret, time.Now().Add(-time.Hour)), // expired
		} {
			r := probeNginx(t, nms.RTMPAddr, u, LevelPublish, "", timeout)
			t.Logf("closed %.1f ms after Publish.Start", r.HoldSeconds*1000)
			if r.OK || r.Phase != PhaseHold || r.Error != Closed || r.Status != StatusPublishStart || r.HoldSeconds >= 1 {
				t.Errorf("got %+v; want Publish.Start, then closed within a second", r)
			}
		}
	})
	t.Run("second publisher: accepted, then closed at once", func(t *testing.T) {
		u, err := ingesturl.Parse(signed("busy"))
		if err != nil {
			t.Fatal(err)
		}
		// The first publisher is a probe holding its publish for longer than the case takes.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var first Result
		wg.Go(func() {
			first = New(Config{Address: nms.RTMPAddr, URL: u, Level: LevelPublish, Hold: 15 * time.Second}).Run(ctx)
		})
		if err := nms.WaitLog("start push /live/busy", 10*time.Second); err != nil {
			cancel()
			wg.Wait()
			t.Fatal(err)
		}
		r := probeNginx(t, nms.RTMPAddr, signed("busy"), LevelPublish, "", timeout)
		cancel()
		wg.Wait()
		t.Logf("closed %.1f ms after Publish.Start", r.HoldSeconds*1000)
		if r.OK || r.Phase != PhaseHold || r.Error != Closed || r.Status != StatusPublishStart || r.HoldSeconds >= 1 {
			t.Errorf("got %+v; want Publish.Start, then closed within a second", r)
		}
		if first.Phase != PhaseHold || first.Error != Canceled {
			t.Errorf("first publisher: got %+v; want it held until the case ended", first)
		}
	})
}
