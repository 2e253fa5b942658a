package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Collector stands in for the push sinks' receivers (an HTTP collector and a Prometheus
// remote-write endpoint) on loopback: it reads each request whole and answers 204, counting.
type Collector struct {
	URL      string // http://127.0.0.1:port
	srv      *http.Server
	done     chan struct{}
	requests atomic.Int64
	bytes    atomic.Int64
}

// Paths of the collector.
const (
	CollectorHTTPPath        = "/ingest"
	CollectorRemoteWritePath = "/api/v1/write"
)

// StartCollector listens on a free loopback port.
func StartCollector() (*Collector, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &Collector{URL: "http://" + ln.Addr().String(), done: make(chan struct{})}
	c.srv = &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			c.requests.Add(1)
			c.bytes.Add(n)
			w.WriteHeader(http.StatusNoContent)
		}),
	}
	go func() {
		defer close(c.done)
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	return c, nil
}

// Requests and bytes received so far.
func (c *Collector) Requests() int64 { return c.requests.Load() }
func (c *Collector) Bytes() int64    { return c.bytes.Load() }

// Close stops it, waiting at most 3 s for requests in flight.
func (c *Collector) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	<-c.done
}
