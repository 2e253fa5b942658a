package push

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

// HTTP posts spooled records to a collector as gzip-compressed NDJSON: one record per line, the
// same JSON object as the jsonl sink writes, up to batch_size records per request.
//
// Delivery is at least once: a batch whose answer was lost (a timeout after the collector stored
// it, an agent killed before it saved its position) is sent again. Every record carries a stable
// "id" ("<agent id>:<sequence>", unique across restarts), and collectors de-duplicate by it.
type HTTP struct {
	p   *pusher
	url string

	// ServerDate, if set before Start, is called with every response's Date header and the local
	// times the request was sent and its answer received: the seam for a clock-skew check.
	ServerDate func(sent, received, date time.Time)

	// raw is the batch as NDJSON, body its gzip. Both are kept between sends unless a batch made
	// them larger than keepBufferBytes (a backlog after an outage).
	raw, body bytes.Buffer
	zw        *gzip.Writer
}

// keepBufferBytes is the most an http sink keeps of its request buffers between sends: enough for
// the usual batch (a few records a second), not the 500-record batches of a backlog.
const keepBufferBytes = 256 << 10

// NewHTTP builds an http sink from its config (url, token_file, ca_file, timeout, batch_size).
func NewHTTP(cfg sink.Config, m *metrics.Metrics, log *zap.Logger) (*HTTP, error) {
	if _, err := url.ParseRequestURI(cfg.URL); err != nil {
		return nil, fmt.Errorf("http sink %s: url is not a URL", cfg.Name)
	}
	h := &HTTP{url: cfg.URL}
	p, err := newPusher("http", cfg, m, log, h)
	if err != nil {
		return nil, err
	}
	h.p = p
	return h, nil
}

// Name of the sink: it names its spool cursor and its metrics' sink label.
func (h *HTTP) Name() string { return h.p.name }

// Start delivers records from cur until ctx is done or Close has drained the queue.
func (h *HTTP) Start(ctx context.Context, cur *spool.Cursor, wake <-chan struct{}) {
	h.p.serverDate = h.ServerDate
	h.p.Start(ctx, cur, wake)
}

// Close delivers what is queued, at once and batch after batch, until the queue is empty, an attempt
// fails or ctx is done; then it stops. Undelivered records stay spooled for the next start.
func (h *HTTP) Close(ctx context.Context) error { return h.p.Close(ctx) }

// send compresses the batch in one stateless gzip pass (klauspost/compress), which keeps no state
// between requests: compress/gzip's writer holds ~0.8 MB of hash tables for as long as the sink
// lives. The price is a few per cent of the bytes: on the benchmark's records, 1,230 bytes instead
// of 1,101 for 5 records (a request a second at 50 targets every 10 s), 11.4 % of the NDJSON
// instead of 8.6 % for 300.
func (h *HTTP) send(ctx context.Context, batch []spool.Record) (pushAttempt, error) {
	defer h.trimBuffers()
	h.raw.Reset()
	for _, r := range batch {
		h.raw.Write(r.Payload) // writes to a bytes.Buffer do not fail
		h.raw.WriteByte('\n')
	}
	h.body.Reset()
	if h.zw == nil {
		h.zw, _ = gzip.NewWriterLevel(&h.body, gzip.StatelessCompression) // a valid level: no error
	} else {
		h.zw.Reset(&h.body)
	}
	// One Write: the stateless compressor compresses each call on its own, so a write per
	// record would compress each record alone.
	h.zw.Write(h.raw.Bytes())
	if err := h.zw.Close(); err != nil {
		return pushAttempt{}, fmt.Errorf("http sink %s: compress: %w", h.p.name, err)
	}
	var a pushAttempt
	req, err := http.NewRequestWithContext(context.WithValue(ctx, attemptKey{}, &a), http.MethodPost, h.url, bytes.NewReader(h.body.Bytes()))
	if err != nil {
		return a, fmt.Errorf("http sink %s: request: %w", h.p.name, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := h.p.client.Do(req)
	if err != nil {
		return a, fmt.Errorf("http sink %s: post: %w", h.p.name, withoutURL(err))
	}
	// Read what is left (bounded by the transport) so the connection is reused.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return a, nil
}

func (h *HTTP) settle() {}

// trimBuffers lets go of request buffers that a large batch grew past keepBufferBytes.
func (h *HTTP) trimBuffers() {
	if h.raw.Cap() > keepBufferBytes {
		h.raw = bytes.Buffer{}
	}
	if h.body.Cap() > keepBufferBytes {
		h.body = bytes.Buffer{}
	}
}
