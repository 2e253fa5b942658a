package reporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ingestprobe/ingestprobe/record"
)

// Prometheus serves /metrics for setups that scrape: every target's latest run, and the agent's own
// series. It keeps no history; the scraper does.
type Prometheus struct {
	name string
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// readHeaderTimeout bounds a slow or hostile scraper's headers; scrapes are small and local.
const readHeaderTimeout = 5 * time.Second

// NewPrometheus listens on addr (e.g. "127.0.0.1:9464"; ":0" picks a port) and serves /metrics.
func NewPrometheus(name, addr string, m *Metrics) (*Prometheus, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(targetCollector{m}); err != nil {
		return nil, err
	}
	gather := prometheus.Gatherers{m.Registry, reg}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(gather, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
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
	p := &Prometheus{name: name, ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}}
	go func() { p.done <- p.srv.Serve(ln) }()
	return p, nil
}

// Addr is the address it listens on.
func (p *Prometheus) Addr() string { return p.ln.Addr().String() }

// Name of the sink.
func (p *Prometheus) Name() string { return p.name }

// Write does nothing: the collector reads the latest records from Metrics at scrape time.
func (p *Prometheus) Write(record.Record, []byte) error { return nil }

// Close stops serving.
func (p *Prometheus) Close(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	if serr := <-p.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
