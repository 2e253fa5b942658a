// Package prometheus is the sink for setups that scrape: it serves /metrics (metrics.Handler) on
// its own listener.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/record"
)

// Sink serves /metrics for setups that scrape: every target's latest run, and the agent's own
// series. It keeps no history; the scraper does.
type Sink struct {
	name string
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// readHeaderTimeout bounds a slow or hostile scraper's headers; scrapes are small and local.
const readHeaderTimeout = 5 * time.Second

// New listens on addr (e.g. "127.0.0.1:9464"; ":0" picks a port) and serves /metrics.
func New(name, addr string, m *metrics.Metrics) (*Sink, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(m))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "ingestprobe: metrics at /metrics")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("prometheus sink %s: %w", name, err)
	}
	p := &Sink{name: name, ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}}
	go func() { p.done <- p.srv.Serve(ln) }()
	return p, nil
}

// Addr is the address it listens on.
func (p *Sink) Addr() string { return p.ln.Addr().String() }

// Name of the sink.
func (p *Sink) Name() string { return p.name }

// Write does nothing: the collector reads the latest records from Metrics at scrape time.
func (p *Sink) Write(record.Record, []byte) error { return nil }

// Close stops serving.
func (p *Sink) Close(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	if serr := <-p.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
