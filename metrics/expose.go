package metrics

import (
	"bufio"
	"net/http"

	"github.com/ingestprobe/ingestprobe/internal/acceptenc"
	"github.com/klauspost/compress/gzip"
)

// Handler serves the exposition of m: the agent's own series and every target's latest run, gzip
// for a scraper that asks for it.
func Handler(m *Metrics) http.Handler { return gzipMetrics(metricsHandler(m)) }

// contentType is the text exposition format, as promhttp announced it.
const contentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// metricsHandler writes the agent's series and every target's latest run in the text format.
func metricsHandler(m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fams := append(m.Families(), familiesOf(m.LatestSamples())...)
		w.Header().Set("Content-Type", contentType)
		// An error is the scraper's connection going away: nothing left to tell it.
		_ = writeText(w, fams)
	})
}

// gzipChunk is how much of the exposition is compressed at a time (see gzipMetrics).
const gzipChunk = 32 << 10

// gzipMetrics compresses /metrics for a scraper that accepts gzip (Prometheus does), in place of
// promhttp's own compression: promhttp takes a compress/gzip writer from a sync.Pool, and at one
// scrape every 10-60 s the pool is always emptied by the collections in between, so every scrape
// allocated a fresh writer of ~0.8 MB — a fifth of the agent's heap target. (promhttp has since
// been replaced by Handler's own writer, see expo.go.) Here the text goes out
// in stateless gzip chunks of 32 KiB (klauspost/compress, no state kept between chunks): a few per
// cent larger than one stream, and no large allocation.
func gzipMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptenc.Gzip(r.Header.Values("Accept-Encoding")) {
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
