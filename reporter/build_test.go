package reporter

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"

	"github.com/ingestprobe/ingestprobe/config"
)

// TestBuildPushSinks: the config's http and remote_write sinks are built by the one switch, get
// every record through the spool, and drain side by side on Close.
func TestBuildPushSinks(t *testing.T) {
	tests := []struct {
		name              string
		httpReplies       []reply
		rwReplies         []reply
		closeIn, maxClose time.Duration
		wantHTTPSent      float64 // records the http collector acknowledged; remote write's must be all 3
	}{
		{"both deliver", nil, nil, 5 * time.Second, 2 * time.Second, 3},
		// The http collector hangs through the whole drain; remote write, in backoff after a 503,
		// must still get its drain attempt: the sinks drain side by side, not one after the other.
		{"one hangs, the other drains", []reply{{hang: true}, {hang: true}}, []reply{{status: 503}}, time.Second, 1900 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col, rcv := &ndjsonCollector{}, &rwReceiver{}
			hs := newServer(t, scriptedHandler(tt.httpReplies, col.record))
			rs := newServer(t, scriptedHandler(tt.rwReplies, rcv.record))
			c := config.Default()
			c.Agent.StateDir = t.TempDir()
			c.Sinks = []config.Sink{
				{Type: config.SinkHTTP, Name: "collector", URL: hs.URL, Timeout: config.Dur(10 * time.Second), BatchSize: 10},
				{Type: config.SinkRemoteWrite, Name: "prom", URL: rs.URL + "/api/v1/write", Timeout: config.Dur(10 * time.Second), BatchSize: 10},
			}
			m := NewMetrics("test", "none", nil)
			rep, err := Build(c, m, zaptest.NewLogger(t), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.push) != 2 || len(rep.local) != 0 {
				t.Fatalf("got %d push and %d local sinks; want 2 and 0", len(rep.push), len(rep.local))
			}
			rw := rep.push[1].(*RemoteWrite)
			tm := &fakeTimer{block: true}
			rw.p.after = tm.after // a backoff only Close cuts short
			if err := rep.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				rep.Write(pushRecord(i, "main"))
			}
			waitFor(t, "both collectors got a request", func() bool { return len(col.requests()) > 0 && len(rcv.requests()) > 0 })
			if tt.rwReplies != nil {
				waitFor(t, "remote write in backoff", func() bool { return len(tm.got()) == 1 })
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.closeIn)
			defer cancel()
			start := time.Now()
			if err := rep.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
			if took := time.Since(start); took > tt.maxClose {
				t.Errorf("Close took %v; want at most %v", took, tt.maxClose)
			}
			httpSent, rwSent := testutil.ToFloat64(m.Sent.WithLabelValues("collector")), testutil.ToFloat64(m.Sent.WithLabelValues("prom"))
			if httpSent != tt.wantHTTPSent || rwSent != 3 {
				t.Errorf("sent by http, remote write: got %v, %v; want %v, 3", httpSent, rwSent, tt.wantHTTPSent)
			}
		})
	}
}
