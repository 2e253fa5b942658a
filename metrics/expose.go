package metrics

import (
	"bufio"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the exposition of m: every target's latest run and the agent's own series, gzip
// for a scraper that asks for it.
func Handler(m *Metrics) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&targetCollector{m: m}) // unchecked, and the only collector here: cannot fail
	gather := prometheus.Gatherers{m.Registry, reg}
	return gzipMetrics(promhttp.HandlerFor(gather, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, DisableCompression: true}))
}

// targetCollector exposes LatestSamples on /metrics. It is unchecked (Describe sends nothing)
// because the static labels come from the config.
type targetCollector struct {
	m *Metrics

	// descs keeps the descriptors between scrapes (by name and label names: a few dozen), so
	// that a scrape does not build and validate one per sample.
	mu    sync.Mutex
	descs map[string]*prometheus.Desc
}

// maxDescs bounds descs: reloads with other static labels add descriptors; past this many the
// cache starts again.
const maxDescs = 1024

func (*targetCollector) Describe(chan<- *prometheus.Desc) {}

func (c *targetCollector) Collect(ch chan<- prometheus.Metric) {
	var key []byte
	for _, s := range c.m.LatestSamples() {
		values := make([]string, len(s.Labels))
		key = append(key[:0], s.Name...)
		for i, l := range s.Labels {
			values[i] = l.Value
			key = append(key, 0xff)
			key = append(key, l.Name...)
		}
		c.mu.Lock()
		desc := c.descs[string(key)]
		if desc == nil {
			if c.descs == nil || len(c.descs) >= maxDescs {
				c.descs = map[string]*prometheus.Desc{}
			}
			names := make([]string, len(s.Labels))
			for i, l := range s.Labels {
				names[i] = l.Name
			}
			desc = prometheus.NewDesc(s.Name, s.Help, names, nil)
			c.descs[string(key)] = desc
		}
		c.mu.Unlock()
		// No explicit timestamp: a scraper stamps the scrape, which keeps Prometheus's staleness
		// handling working when a target is removed.
		if mt, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.Value, values...); err == nil {
			ch <- mt
		}
	}
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
