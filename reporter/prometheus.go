package reporter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
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
	if err := reg.Register(&targetCollector{m: m}); err != nil {
		return nil, err
	}
	gather := prometheus.Gatherers{m.Registry, reg}
	mux := http.NewServeMux()
	mux.Handle("/metrics", gzipMetrics(promhttp.HandlerFor(gather, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, DisableCompression: true})))
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

// gzipChunk is how much of the exposition is compressed at a time (see gzipMetrics).
const gzipChunk = 32 << 10

// gzipMetrics compresses /metrics for a scraper that accepts gzip (Prometheus does), in place of
// promhttp's own compression: promhttp takes a compress/gzip writer from a sync.Pool, and at one
// scrape every 10-60 s the pool is always emptied by the collections in between, so every scrape
// allocated a fresh writer of ~0.8 MB — a fifth of the agent's heap target. Here the text goes out
// in stateless gzip chunks of 32 KiB (klauspost/compress, no state kept between chunks): a few per
// cent larger than one stream, and no large allocation.
func gzipMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Values("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		gz, _ := gzip.NewWriterLevel(w, gzip.StatelessCompression) // a valid level: no error
		bw := bufio.NewWriterSize(gz, gzipChunk)
		next.ServeHTTP(gzipResponseWriter{ResponseWriter: w, w: bw}, r)
		// Errors here are the scraper's connection going away: nothing left to tell it.
		bw.Flush()
		gz.Close()
	})
}

// gzipResponseWriter sends the body through the compressor; headers and status go as they are.
type gzipResponseWriter struct {
	http.ResponseWriter
	w *bufio.Writer
}

func (g gzipResponseWriter) Write(b []byte) (int, error) { return g.w.Write(b) }

// acceptsGzip reads Accept-Encoding: true when gzip is listed without q=0.
func acceptsGzip(headers []string) bool {
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q=")
			if !ok || strings.Trim(q, "0.") != "" {
				return true // no q, or a q above 0
			}
		}
	}
	return false
}
