package reporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/config"
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

	buf bytes.Buffer
	zw  *gzip.Writer
}

// NewHTTP builds an http sink from its config (url, token_file, ca_file, timeout, batch_size).
func NewHTTP(cfg config.Sink, m *Metrics, log *zap.Logger) (*HTTP, error) {
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
func (h *HTTP) Start(ctx context.Context, cur *SpoolCursor, wake <-chan struct{}) {
	h.p.serverDate = h.ServerDate
	h.p.Start(ctx, cur, wake)
}

// Close delivers what is queued, at once and batch after batch, until the queue is empty, an attempt
// fails or ctx is done; then it stops. Undelivered records stay spooled for the next start.
func (h *HTTP) Close(ctx context.Context) error { return h.p.Close(ctx) }

func (h *HTTP) send(ctx context.Context, batch []SpoolRecord) (pushAttempt, error) {
	h.buf.Reset()
	if h.zw == nil {
		h.zw = gzip.NewWriter(&h.buf)
	} else {
		h.zw.Reset(&h.buf)
	}
	for _, r := range batch {
		h.zw.Write(r.Payload) // writes to a bytes.Buffer do not fail
		h.zw.Write([]byte{'\n'})
	}
	if err := h.zw.Close(); err != nil {
		return pushAttempt{}, fmt.Errorf("http sink %s: compress: %w", h.p.name, err)
	}
	var a pushAttempt
	req, err := http.NewRequestWithContext(context.WithValue(ctx, attemptKey{}, &a), http.MethodPost, h.url, bytes.NewReader(h.buf.Bytes()))
	if err != nil {
		return a, fmt.Errorf("http sink %s: request: %w", h.p.name, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := h.p.client.Do(req)
	if err != nil {
		// Unwrap *url.Error: its text repeats the URL, which may carry a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return a, fmt.Errorf("http sink %s: post: %w", h.p.name, err)
	}
	// Read what is left (bounded by the transport) so the connection is reused.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return a, nil
}

func (h *HTTP) settle() {}
