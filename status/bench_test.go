package status

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/record"
)

// A venue-sized board: 5 targets at 10 s with a full hour of history each (360 points).
func benchBoard(testing.TB) *Board {
	c := newClock()
	bd := NewBoard("1.2.3")
	bd.now = c.now
	var ts []Target
	for _, n := range []string{"main", "backup", "youtube", "facebook", "venue-cdn"} {
		ts = append(ts, Target{Name: n, URL: "rtmp://push.example.com/live/x", Interval: 10 * time.Second})
	}
	bd.Configure("enc1", ts)
	for i := range 360 {
		for j, t := range ts {
			// Connect times that vary run to run in their microseconds, as measured ones do: they
			// are what keeps the JSON from compressing to nothing.
			bd.Observe(rec(t.Name, c.t, record.Go, 0.012+float64((i*7919+j*104729)%4000)/1e6))
		}
		c.add(10*time.Second + time.Duration(i%7)*time.Millisecond)
	}
	return bd
}

// BenchmarkObserve is what every record costs the board when nobody looks at it.
func BenchmarkObserve(b *testing.B) {
	bd := benchBoard(b)
	r := rec("main", bd.now(), record.NoGo, -1)
	b.ReportAllocs()
	for b.Loop() {
		r.Time = r.Time.Add(10 * time.Second)
		bd.Observe(r)
	}
}

// BenchmarkAPIStatus is what one poll of a viewer costs: /api/status of the board above, as a
// browser asks for it (gzip) and as curl does.
func BenchmarkAPIStatus(b *testing.B) {
	for _, enc := range []string{"gzip", "identity"} {
		b.Run(enc, func(b *testing.B) {
			s := &Server{board: benchBoard(b)}
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9817/api/status", nil)
			req.Header.Set("Accept-Encoding", enc)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("got %d", w.Code)
				}
				n = w.Body.Len()
			}
			b.ReportMetric(float64(n), "bytes/answer")
		})
	}
}
