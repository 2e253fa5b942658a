package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/internal/capool"
	"github.com/ingestprobe/ingestprobe/internal/secret"
	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

// What the push sinks (http, remote_write) share: the delivery loop over a spool cursor, its retry
// policy, the HTTP client and the classification of a response. docs/sinks.md is the user's view.

// Retry policy: exponential backoff with full jitter. The first retry comes within a second, so a
// collector restart costs little; the cap of five minutes keeps an agent that was offline for a day
// from waiting long once the network is back, and keeps a fleet of agents from hammering a
// collector that is down (full jitter spreads them over the whole window).
const (
	retryBase = time.Second
	retryCap  = 5 * time.Minute
)

// maxResponseBody bounds what is read of a collector's answer: the sinks need only the status and
// headers, and a hostile or broken collector must not make the agent buffer megabytes.
const maxResponseBody = 64 << 10

const userAgent = "ingestprobe"

// pushAttempt is what one delivery attempt got back, as the transport saw it. It never holds the
// response body: a collector may echo the request, and with it the token.
type pushAttempt struct {
	status     int    // HTTP status; 0 when no response arrived
	err        error  // the transport's error (no URL in it) when no response arrived
	retryAfter string // the Retry-After header, raw
	date       time.Time
	sent, recv time.Time

	// Set by a sender that settled the batch without a request: every record of it was
	// undecodable, and there was nothing else to send.
	nothing bool
	// bad counts records of the batch the sender could not encode; they are acknowledged with
	// the batch and counted as dropped.
	bad int
}

type pushVerdict int

const (
	pushOK pushVerdict = iota
	pushRetry
	pushDrop
)

// classify maps an attempt to what happens to its batch. 408 and 429 say "later"; other 4xx say
// the request itself is wrong, so sending it again cannot help. Redirects are not followed (see
// newPushClient), so a 3xx lands here as a retry: it is a configuration error the operator must
// fix, and records must not be lost to it.
func classify(a *pushAttempt) pushVerdict {
	switch {
	case a.nothing:
		return pushOK
	case a.status == 0:
		return pushRetry
	case a.status >= 200 && a.status < 300:
		return pushOK
	case a.status == http.StatusRequestTimeout || a.status == http.StatusTooManyRequests:
		return pushRetry
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		// A credential problem, not a bad record: an expired token must not cost the results.
		// Retry (with backoff) until the token file is fixed and the agent reloaded.
		return pushRetry
	case a.status >= 400 && a.status < 500:
		return pushDrop
	default:
		return pushRetry
	}
}

// reason says why an attempt failed, for logs: the status or the transport error. Never a body.
func (a *pushAttempt) reason() string {
	if a.status != 0 {
		return "HTTP " + strconv.Itoa(a.status) + " " + http.StatusText(a.status)
	}
	if a.err != nil {
		return a.err.Error()
	}
	return "no response"
}

// retryAfterDelay parses Retry-After (delay-seconds or an HTTP date) against now. ok is false when
// the header is absent or unreadable.
func retryAfterDelay(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}

type attemptKey struct{}

// pushTransport adds the token and User-Agent to each request and records the response's status
// and headers in the request context's *pushAttempt, so that the sinks classify responses by
// status code, never by parsing an error message (the remote write client puts the body into its
// errors).
type pushTransport struct {
	next  *http.Transport
	token string // set before the delivery loop starts, read only by it
	now   func() time.Time
}

func (t *pushTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptKey{}).(*pushAttempt)
	req = req.Clone(req.Context()) // a RoundTripper must not change the caller's request
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	req.Header.Set("User-Agent", userAgent)
	sent := t.now()
	resp, err := t.next.RoundTrip(req)
	if a != nil {
		a.sent, a.recv = sent, t.now()
		if err != nil {
			a.err = err
		} else {
			a.status = resp.StatusCode
			a.retryAfter = resp.Header.Get("Retry-After")
			if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
				a.date = d
			}
		}
	}
	if resp != nil {
		resp.Body = limitedBody{io.LimitReader(resp.Body, maxResponseBody), resp.Body}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the real transport, so that no
// connection goroutine outlives the sink.
func (t *pushTransport) CloseIdleConnections() { t.next.CloseIdleConnections() }

type limitedBody struct {
	io.Reader
	io.Closer
}

// newPushClient builds the client of a push sink: the system's roots plus ca_file, TLS 1.2 at
// least, the proxy from the environment (HTTPS_PROXY), no redirects. Redirects are refused because
// Go turns a redirected POST into a GET (a 301 would be "delivered" to a landing page) and because
// the token is added by the transport, so it would follow the request to another host.
//
// Without ca_file, RootCAs stays nil: crypto/tls then loads the system's roots at the first
// certificate it verifies, once per process. A sink that never speaks TLS (an http:// collector, the
// common case beside an encoder) never parses the system's store, which costs ~0.3 MB of heap per
// sink that holds a copy (docs/performance.md). With ca_file, the pool is built at start, so that a
// bad file fails the config then.
func newPushClient(kind string, cfg sink.Config) (*http.Client, *pushTransport, error) {
	var pool *x509.CertPool
	if cfg.CAFile != "" {
		pem, err := secret.ReadRegular(cfg.CAFile, capool.MaxBytes)
		if err == nil {
			pool, err = capool.Pool(cfg.CAFile, pem)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s sink %s: ca_file: %w", kind, cfg.Name, err)
		}
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	base.MaxIdleConnsPerHost = 2 // one loop per sink: one connection in use, one spare
	tr := &pushTransport{next: base, now: time.Now}
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return client, tr, nil
}

// readToken reads a bearer token file with secret.ReadFile (one line, not empty, bounded;
// errors name the file, never its content) and logs its warning about a file every user may read.
func readToken(kind, sink, path string, log *zap.Logger) (string, error) {
	tok, warn, err := secret.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s sink %s: token_file: %w", kind, sink, err)
	}
	if warn != "" {
		log.Warn("token_file: "+warn, zap.String("sink", sink))
	}
	return strings.TrimSpace(tok), nil
}

// pushSender is what differs between push sinks: how a batch becomes a request.
type pushSender interface {
	// send makes one attempt at delivering batch under ctx (which carries the request deadline and
	// the *pushAttempt the transport fills in). The error is for failures before any request was
	// made; what the collector answered is in the attempt.
	send(ctx context.Context, batch []spool.Record) (pushAttempt, error)
	// settle is told that the batch last sent is done with: delivered or dropped.
	settle()
}

// sendSpacing is the least time between two requests of a push sink while records trickle in
// one by one (a full batch goes at once, and so does the first record after a quiet second).
// Each request costs an HTTP round trip, compression and a spool acknowledgement with two fsyncs;
// sent record by record, that was most of the agent's CPU at 2,000 targets (docs/performance.md).
// One second delays no alert noticeably: probes run every 30 s by default.
const sendSpacing = time.Second

// pusher is the delivery loop of a push sink: read a batch from the cursor, send it, acknowledge it
// on success or rejection, back off on failure, and on Close deliver what is queued while the
// collector takes it, until the close context ends.
type pusher struct {
	kind, name string
	log        *zap.Logger
	m          *metrics.Metrics
	sender     pushSender
	client     *http.Client
	transport  *pushTransport
	tokenFile  string
	batchSize  int
	timeout    time.Duration
	serverDate func(sent, received, date time.Time)
	// spacing is the least time between the starts of two requests with room for more records
	// (sendSpacing; 0 in tests that count requests).
	spacing  time.Duration
	lastSend time.Time

	// Seams for tests: the clock, the timer, and the jitter (uniform in [0, n)).
	now    func() time.Time
	after  func(time.Duration) <-chan time.Time
	jitter func(n int64) int64

	mu        sync.Mutex
	started   bool
	closing   bool
	deadline  time.Time // of the close context; zero when it has none
	cancelRun context.CancelFunc
	drain     chan struct{} // closed by Close
	done      chan struct{} // closed when the loop has returned
}

func newPusher(kind string, cfg sink.Config, m *metrics.Metrics, log *zap.Logger, sender pushSender) (*pusher, error) {
	if m == nil {
		m = metrics.New("", "", nil)
	}
	if log == nil {
		log = zap.NewNop()
	}
	client, tr, err := newPushClient(kind, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.TokenFile != "" {
		// Read now so that a missing or empty file fails the config at start, not at the first push.
		if tr.token, err = readToken(kind, cfg.Name, cfg.TokenFile, log); err != nil {
			return nil, err
		}
	}
	batch, timeout := cfg.BatchSize, cfg.Timeout.D()
	if batch <= 0 {
		batch = sink.DefaultBatchSize
	}
	if timeout <= 0 {
		timeout = sink.DefaultTimeout
	}
	return &pusher{
		kind: kind, name: cfg.Name, log: log.With(zap.String("sink", cfg.Name)), m: m, sender: sender,
		client: client, transport: tr, tokenFile: cfg.TokenFile, batchSize: batch, timeout: timeout,
		now: time.Now, after: time.After, jitter: rand.Int64N, spacing: sendSpacing,
		drain: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// Start runs the delivery loop until ctx is done or a Close has drained the queue. It returns when
// the loop has stopped; the reporter runs it on its own goroutine.
func (p *pusher) Start(ctx context.Context, cur *spool.Cursor, wake <-chan struct{}) {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return
	}
	p.started = true
	if p.closing {
		// Close came first (the reporter closed right after starting, before this goroutine
		// ran): drain now, within the deadline Close was given, not the reporter's context,
		// which it cancels next — it waits for this Start to return.
		var stop context.CancelFunc
		if p.deadline.IsZero() {
			ctx, stop = context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
		} else {
			ctx, stop = context.WithDeadline(context.WithoutCancel(ctx), p.deadline)
		}
		defer stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	p.cancelRun = cancel
	p.mu.Unlock()
	defer close(p.done)
	defer cancel()
	defer p.client.CloseIdleConnections()

	if p.tokenFile != "" {
		// Re-read at each start, so a rotated token is picked up by a restart or SIGHUP.
		if tok, err := readToken(p.kind, p.name, p.tokenFile, p.log); err != nil {
			p.log.Warn("token_file unreadable; using the token read at load", zap.Error(err))
		} else {
			p.transport.token = tok
		}
	}
	p.transport.now = p.now
	// Create the series at 0, so that rate() and increase() see the first failure.
	p.m.Sent.WithLabelValues(p.name).Add(0)
	p.m.Retries.WithLabelValues(p.name).Add(0)
	p.m.Dropped.WithLabelValues(p.name).Add(0)
	p.loop(ctx, cur, wake)
}

// Close asks the loop to deliver what is queued and stop, and waits for it until ctx is done; then
// the request in flight is cancelled. A backoff in progress is cut short for an attempt at once; a
// failed attempt ends the drain. What was not delivered stays in the spool for the next start,
// which is not an error.
func (p *pusher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return nil
	}
	p.closing = true
	p.deadline, _ = ctx.Deadline()
	started, cancel := p.started, p.cancelRun
	close(p.drain)
	p.mu.Unlock()
	if !started {
		return nil // a Start still to come drains within p.deadline (see Start)
	}
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	<-p.done // bounded: at ctx's end the loop's context is cancelled, and every wait in it watches that
	return nil
}

func (p *pusher) draining() bool {
	select {
	case <-p.drain:
		return true
	default:
		return false
	}
}

// loop is the delivery loop. failures counts consecutive failed attempts and sets the backoff.
func (p *pusher) loop(ctx context.Context, cur *spool.Cursor, wake <-chan struct{}) {
	failures := 0
	skipped := cur.Skipped()
	for ctx.Err() == nil {
		batch, err := cur.Next(p.batchSize)
		p.setQueue(cur, cur.Acked()) // before the dropped count, as below
		if s := cur.Skipped(); s > skipped {
			// Records the spool's size or age bound removed before this sink delivered them.
			p.m.Dropped.WithLabelValues(p.name).Add(float64(s - skipped))
			p.log.Warn("spool bound reached: records dropped before delivery", zap.Uint64("records", s-skipped))
			skipped = s
		}
		if err != nil {
			if errors.Is(err, spool.ErrClosed) {
				return
			}
			p.log.Error("spool read failed; retrying", zap.Error(err))
			if !p.pause(ctx, cur, wake, p.backoff(failures), true) {
				return
			}
			failures++
			continue
		}
		if len(batch) == 0 {
			if p.draining() {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-p.drain:
			}
			continue
		}
		if wait := p.lastSend.Add(p.spacing).Sub(p.now()); wait > 0 && len(batch) < p.batchSize && !p.draining() {
			// The last request left less than sendSpacing ago: let this one gather what arrives
			// meanwhile, then read again. A Close cuts the wait short.
			if !p.pause(ctx, cur, wake, wait, true) {
				return
			}
			continue
		}
		p.lastSend = p.now()
		a := p.attempt(ctx, batch)
		if ctx.Err() != nil {
			return // stopping: the batch stays spooled, whatever the collector got of it
		}
		first, last := batch[0].Seq, batch[len(batch)-1].Seq
		switch v := classify(&a); v {
		case pushOK, pushDrop:
			p.sender.settle()
			if failures > 0 {
				p.log.Info("collector reachable again", zap.Int("failed_attempts", failures))
			}
			failures = 0
			// The queue gauge before the counts: whoever sees a count move sees the queue too.
			p.setQueue(cur, last)
			if a.bad > 0 {
				p.m.Dropped.WithLabelValues(p.name).Add(float64(a.bad))
				p.log.Error("spooled records not decodable; dropped", zap.Int("records", a.bad), zap.Uint64("first_seq", first), zap.Uint64("last_seq", last))
			}
			n := len(batch) - a.bad
			if v == pushOK {
				p.m.Sent.WithLabelValues(p.name).Add(float64(n))
				p.m.LastSuccess.WithLabelValues(p.name).Set(float64(p.now().UnixNano()) / 1e9)
			} else {
				p.m.Dropped.WithLabelValues(p.name).Add(float64(n))
				p.log.Error("collector rejected a batch; dropped (a 4xx other than 408/429 means sending it again cannot succeed)",
					zap.Int("status", a.status), zap.Int("records", n), zap.Uint64("first_seq", first), zap.Uint64("last_seq", last))
			}
			// Acknowledge last, so that whoever sees the position move sees the counts too.
			if err := cur.Ack(last); err != nil {
				// The batch will be sent again: a duplicate, which collectors drop by id.
				p.log.Error("spool acknowledgement failed; the batch will be sent again", zap.Error(err))
			}
		case pushRetry:
			p.m.Retries.WithLabelValues(p.name).Inc()
			if p.draining() {
				// A closing agent does not wait out a failing collector: the drain is for a
				// healthy one, and a restart during an outage should take a moment, not the
				// whole drain time. The records are safe in the spool for the next start.
				p.log.Warn("closing: the collector is not taking records; they stay spooled for the next start",
					zap.String("reason", a.reason()), zap.Uint64("records", max(cur.LastSeq(), cur.Acked())-cur.Acked()))
				return
			}
			delay, asked := retryAfterDelay(a.retryAfter, p.now())
			if asked {
				delay = min(delay, retryCap) // a broken header must not stall delivery for days
			} else {
				delay = p.backoff(failures)
			}
			failures++
			fields := []zap.Field{zap.String("reason", a.reason()), zap.Int("records", len(batch)), zap.Float64("retry_in_seconds", delay.Seconds()), zap.Int("failed_attempts", failures)}
			if failures == 1 {
				p.log.Warn("delivery failed; retrying with backoff", fields...)
			} else {
				p.log.Debug("delivery failed again", fields...)
			}
			// A delay the collector asked for is kept even by a closing agent; our own backoff is
			// cut short by Close, which tries once more at once.
			if !p.pause(ctx, cur, wake, delay, !asked) {
				return
			}
		}
	}
}

// attempt sends one batch under the request deadline.
func (p *pusher) attempt(ctx context.Context, batch []spool.Record) pushAttempt {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	a, err := p.sender.send(rctx, batch)
	if err != nil && a.status == 0 && a.err == nil {
		// No request was made. A deadline is worth a retry; anything else is the encoder's
		// failure, which no retry mends: drop rather than block every later record.
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			a.err = err
		} else {
			p.log.Error("batch not encodable", zap.Error(err))
			a.status = http.StatusBadRequest
		}
	}
	if p.serverDate != nil && !a.date.IsZero() {
		p.serverDate(a.sent, a.recv, a.date)
	}
	return a
}

// backoff is the delay before retry number failures+1: uniform in [0, min(cap, base·2^failures)).
func (p *pusher) backoff(failures int) time.Duration {
	ceil := retryCap
	if failures < 16 { // 2^16 s is far past the cap; stop shifting before it overflows
		ceil = min(retryCap, retryBase<<failures)
	}
	return time.Duration(p.jitter(int64(ceil)))
}

// pause waits d before the next attempt. It returns false when the loop must stop: ctx is done, or
// the agent is closing and the wait would end after the close deadline (the records stay spooled
// for the next start). interruptible lets Close cut the wait short for an attempt at once; a delay
// the collector asked for (Retry-After) is kept. Records spooled meanwhile update the queue gauge,
// so that an outage shows as a growing queue, not a frozen one.
func (p *pusher) pause(ctx context.Context, cur *spool.Cursor, wake <-chan struct{}, d time.Duration, interruptible bool) bool {
	end := p.now().Add(d)
	var drain <-chan struct{}
	if p.draining() {
		if p.pastDeadline(end) {
			return false
		}
	} else {
		drain = p.drain
	}
	timer := p.after(d)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer:
			return true
		case <-wake:
			p.setQueue(cur, cur.Acked())
		case <-drain:
			if interruptible {
				return true
			}
			if p.pastDeadline(end) {
				return false
			}
			drain = nil // keep waiting: the wait ends before the close deadline
		}
	}
}

// pastDeadline reports (and logs) that a wait ending at end would outlast the close deadline.
func (p *pusher) pastDeadline(end time.Time) bool {
	p.mu.Lock()
	deadline := p.deadline
	p.mu.Unlock()
	if deadline.IsZero() || !end.After(deadline) {
		return false
	}
	p.log.Warn("closing: the collector is not taking records now; they stay spooled for the next start")
	return true
}

// setQueue sets the queue gauge: records spooled after position acked.
func (p *pusher) setQueue(cur *spool.Cursor, acked uint64) {
	last := max(cur.LastSeq(), acked)
	p.m.Queue.WithLabelValues(p.name).Set(float64(last - acked))
}

// withoutURL unwraps the *url.Error an HTTP client returns: its text repeats the URL, which may
// carry a credential, and the sink's name already says where the request went.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
