package rtmp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/internal/nginxrtmp"
)

// onPublish is nginx-rtmp's on_publish callback: it records each call and answers with code.
type onPublish struct {
	code  int
	mu    sync.Mutex
	calls []url.Values
	named map[string]chan struct{} // closed when a publish of that stream name arrives
}

func (o *onPublish) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	o.mu.Lock()
	o.calls = append(o.calls, r.Form)
	if ch, ok := o.named[r.Form.Get("name")]; ok {
		close(ch)
		delete(o.named, r.Form.Get("name"))
	}
	o.mu.Unlock()
	w.WriteHeader(o.code)
}

func (o *onPublish) waitFor(name string) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	o.named[name] = ch
	return ch
}

func (o *onPublish) last() url.Values {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.calls) == 0 {
		return nil
	}
	return o.calls[len(o.calls)-1]
}

func probeNginx(t *testing.T, addr netip.AddrPort, rawURL string, level Level, caFile string, timeout time.Duration) Result {
	t.Helper()
	u, err := ingesturl.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	return New(Config{Address: addr, URL: u, Level: level, CAFile: caFile}).Run(ctx)
}

func TestIntegrationNginx(t *testing.T) {
	nginxrtmp.Require(t, true)
	allow := &onPublish{code: http.StatusOK, named: map[string]chan struct{}{}}
	deny := &onPublish{code: http.StatusForbidden, named: map[string]chan struct{}{}}
	allowSrv := httptest.NewServer(allow)
	t.Cleanup(allowSrv.Close)
	denySrv := httptest.NewServer(deny)
	t.Cleanup(denySrv.Close)
	pki := newTestPKI(t, []string{"localhost", "127.0.0.1"}, time.Now().Add(24*time.Hour))
	ng := nginxrtmp.Start(t, nginxrtmp.Config{
		Apps: map[string]string{
			"live":   "on_publish " + allowSrv.URL + "/publish;",
			"signed": "on_publish " + denySrv.URL + "/publish;",
		},
		TLSCertPEM: pki.certPEM, TLSKeyPEM: pki.keyPEM,
	})
	plain := "rtmp://127.0.0.1:" + strconv.Itoa(int(ng.RTMPAddr.Port()))
	secure := "rtmps://localhost:" + strconv.Itoa(int(ng.TLSAddr.Port()))
	const timeout = 5 * time.Second

	t.Run("handshake", func(t *testing.T) {
		r := probeNginx(t, ng.RTMPAddr, plain+"/live/"+testStream, LevelHandshake, "", timeout)
		if !r.OK || r.Phase != PhaseHandshake || r.BytesReceived != 3073 {
			t.Errorf("got %+v; want ok after the handshake with 3073 bytes", r)
		}
	})
	t.Run("connect: nginx-rtmp ignores the Enhanced RTMP offer and connects", func(t *testing.T) {
		r := probeNginx(t, ng.RTMPAddr, plain+"/live/"+testStream, LevelConnect, "", timeout)
		// nginx-rtmp answers _result without fourCcList: nothing announced, nothing refused.
		if !r.OK || r.Phase != PhaseRTMPConnect || r.Status != StatusConnectSuccess {
			t.Errorf("got %+v; want connected with %s", r, StatusConnectSuccess)
		}
		if len(r.Codecs) != 0 || r.EnhancedRefused {
			t.Errorf("got codecs %q, enhanced_rtmp_refused %v; want none announced and no refusal", r.Codecs, r.EnhancedRefused)
		}
	})
	t.Run("connect to an unknown app", func(t *testing.T) {
		r := probeNginx(t, ng.RTMPAddr, plain+"/nosuchapp/"+testStream, LevelConnect, "", timeout)
		// nginx-rtmp logs "application not found" and closes the connection without an _error.
		if r.Error != Closed || r.Phase != PhaseRTMPConnect || r.EnhancedRefused {
			t.Errorf("got %+v; want closed at rtmp_connect, the plain connect closed as well", r)
		}
	})
	t.Run("publish accepted, then released", func(t *testing.T) {
		for i := range 2 { // the second run proves the first released the stream
			r := probeNginx(t, ng.RTMPAddr, plain+"/live/"+testStream+"?"+testQuery, LevelPublish, "", timeout)
			if !r.OK || r.Phase != PhaseHold || r.Status != StatusPublishStart {
				t.Fatalf("run %d: got %+v; want ok, held, %s", i+1, r, StatusPublishStart)
			}
			if r.HoldSeconds < DefaultHold.Seconds()*0.9 {
				t.Errorf("run %d: got held %.2f s; want about %s", i+1, r.HoldSeconds, DefaultHold)
			}
		}
		// nginx passes the publish name's query to on_publish: it was sent as OBS sends it.
		if got := allow.last(); got.Get("name") != testStream || got.Get("txSecret") != "f85a2ab363fe4deaffef9754d79da6fe" {
			t.Errorf("on_publish got name %q txSecret %q; want %q and the signature", got.Get("name"), got.Get("txSecret"), testStream)
		}
	})
	t.Run("on_publish refuses the signature", func(t *testing.T) {
		r := probeNginx(t, ng.RTMPAddr, plain+"/signed/"+testStream+"?"+testQuery, LevelPublish, "", timeout)
		if r.OK || r.Phase != PhasePublish || r.Error != Closed {
			t.Errorf("got %+v; want closed with no status at publish", r)
		}
		if deny.last() == nil {
			t.Errorf("got no on_publish call; want nginx to have asked")
		}
	})
	t.Run("second publisher while ffmpeg publishes", func(t *testing.T) {
		ffmpeg, err := exec.LookPath("ffmpeg")
		if err != nil {
			t.Skip("integration: needs ffmpeg (apt-get install -y ffmpeg)")
		}
		published := allow.waitFor("busy")
		// -t bounds it even if the cleanup never ran; -re paces it as a live encoder.
		cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-re",
			"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine",
			"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-t", "30",
			"-f", "flv", plain+"/live/busy")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		select {
		case <-published: // nginx asked on_publish about ffmpeg's publish: it is the publisher now
		case <-time.After(15 * time.Second):
			t.Fatal("ffmpeg did not start publishing within 15 s")
		}
		r := probeNginx(t, ng.RTMPAddr, plain+"/live/busy", LevelPublish, "", timeout)
		if r.Error != InUse || r.Phase != PhasePublish || r.Status != StatusPublishBadName {
			t.Errorf("got %+v; want in_use at publish with %s", r, StatusPublishBadName)
		}
	})
	t.Run("rtmps through a TLS front with the CA file", func(t *testing.T) {
		r := probeNginx(t, ng.TLSAddr, secure+"/live/"+testStream+"?"+testQuery, LevelPublish, pki.caFile, timeout)
		if !r.OK || r.Phase != PhaseHold || !r.TLS || r.TLSSeconds <= 0 {
			t.Errorf("got %+v; want ok over TLS", r)
		}
	})
	t.Run("rtmps without the CA file", func(t *testing.T) {
		r := probeNginx(t, ng.TLSAddr, secure+"/live/"+testStream, LevelHandshake, "", timeout)
		if r.Error != TLS || r.TLSReason != TLSUnknownAuthority {
			t.Errorf("got %+v; want tls %s", r, TLSUnknownAuthority)
		}
	})
	t.Run("rtmp:// to the TLS port", func(t *testing.T) {
		r := probeNginx(t, ng.TLSAddr, "rtmp://127.0.0.1:"+strconv.Itoa(int(ng.TLSAddr.Port()))+"/live/"+testStream, LevelHandshake, "", timeout)
		// nginx's TLS closes on a first record that is not TLS, without an alert.
		if r.Error != Closed || r.Phase != PhaseHandshake || r.BytesReceived != 0 {
			t.Errorf("got %+v; want closed in the handshake with nothing received", r)
		}
	})
	t.Run("rtmps:// to the plain RTMP port", func(t *testing.T) {
		r := probeNginx(t, ng.RTMPAddr, "rtmps://localhost:"+strconv.Itoa(int(ng.RTMPAddr.Port()))+"/live/"+testStream, LevelHandshake, pki.caFile, time.Second)
		// nginx-rtmp waits for 1537 bytes of C0+C1; a ClientHello is shorter, so nothing comes back.
		if r.Error != TLS || r.Phase != PhaseTLS || r.TLSReason != TLSTimeout {
			t.Errorf("got %+v; want a TLS timeout", r)
		}
	})
}
