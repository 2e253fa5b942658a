package push

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/duration"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

const testToken = "tok-3f9c2e-SECRET"

// gotRequest is what the fake collector saw of one request.
type gotRequest struct {
	path   string
	header http.Header
	ids    []string
	err    error // the body was not gzip NDJSON of records
}

// ndjsonCollector records every request's headers and the ids of the records in its body.
type ndjsonCollector struct {
	mu   sync.Mutex
	reqs []gotRequest
}

func (c *ndjsonCollector) record(r *http.Request, body []byte) {
	g := gotRequest{path: r.URL.Path, header: r.Header.Clone()}
	g.ids, g.err = decodeNDJSON(body)
	c.mu.Lock()
	c.reqs = append(c.reqs, g)
	c.mu.Unlock()
}

func (c *ndjsonCollector) requests() []gotRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

// decodeNDJSON gunzips body and decodes each line as a record.
func decodeNDJSON(body []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if !bytes.HasSuffix(raw, []byte("\n")) {
		return nil, fmt.Errorf("body does not end in a newline")
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec record.Record
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		ids = append(ids, rec.ID)
	}
	return ids, sc.Err()
}

func seqIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("enc1:%d", i))
	}
	return out
}

func newTestHTTP(t *testing.T, rig *pushRig, url string, mod func(*sink.Config)) *HTTP {
	t.Helper()
	cfg := rig.sinkConfig(sink.HTTP, url)
	cfg.TokenFile = writeFile(t, "token", "  "+testToken+"\n")
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHTTP(cfg, rig.m, rig.log)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHTTPBatchesGzipNDJSONWithToken(t *testing.T) {
	col := &ndjsonCollector{}
	srv := newServer(t, scriptedHandler(nil, col.record))
	rig := newPushRig(t, "collector", spool.Options{})
	for i := 1; i <= 7; i++ {
		rig.add(pushRecord(i, "main"))
	}
	h := newTestHTTP(t, rig, srv.URL+"/ingest", func(c *sink.Config) { c.BatchSize = 3 })
	var dates []time.Time
	var dmu sync.Mutex
	h.ServerDate = func(sent, received, date time.Time) {
		dmu.Lock()
		defer dmu.Unlock()
		if received.Before(sent) {
			t.Errorf("ServerDate: received %v before sent %v", received, sent)
		}
		dates = append(dates, date)
	}
	rig.start(h)
	waitFor(t, "7 records acknowledged", func() bool { return rig.cur.Acked() == 7 })

	reqs := col.requests()
	var sizes []int
	var ids []string
	for i, r := range reqs {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		sizes = append(sizes, len(r.ids))
		ids = append(ids, r.ids...)
		for k, want := range map[string]string{
			"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip",
			"Authorization": "Bearer " + testToken, "User-Agent": "ingestprobe",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("request %d: %s: got %q; want %q", i, k, got, want)
			}
		}
		if r.path != "/ingest" {
			t.Errorf("request %d: path: got %q; want /ingest", i, r.path)
		}
	}
	if fmt.Sprint(sizes) != "[3 3 1]" {
		t.Errorf("batch sizes: got %v; want [3 3 1]", sizes)
	}
	if !slices.Equal(ids, seqIDs(1, 7)) {
		t.Errorf("ids: got %v; want %v", ids, seqIDs(1, 7))
	}
	if rig.sent() != 7 || rig.queue() != 0 || rig.retries() != 0 {
		t.Errorf("sent, queue, retries: got %v, %v, %v; want 7, 0, 0", rig.sent(), rig.queue(), rig.retries())
	}
	if ls := rig.m.LastSuccess.WithLabelValues(rig.name).Get(); time.Since(time.Unix(int64(ls), 0)) > time.Minute {
		t.Errorf("last success: got %v; want about now", ls)
	}
	dmu.Lock()
	if len(dates) != 3 || time.Since(dates[0]).Abs() > time.Minute {
		t.Errorf("ServerDate: got %v; want 3 dates about now", dates)
	}
	dmu.Unlock()

	// A record spooled later is sent on the wake-up, alone.
	rig.add(pushRecord(8, "main"))
	waitFor(t, "record 8 acknowledged", func() bool { return rig.cur.Acked() == 8 })
	if reqs := col.requests(); len(reqs) != 4 || !slices.Equal(reqs[3].ids, seqIDs(8, 8)) {
		t.Errorf("after wake-up: got %d requests; want a 4th holding enc1:8", len(reqs))
	}
	rig.noSecretInLogs(testToken)
}

func TestHTTPCollectorAnswers(t *testing.T) {
	echo := "invalid token " + testToken // a collector echoing the request must not put the token in logs
	tests := []struct {
		name        string
		replies     []reply
		wantReqs    int
		wantDelays  []time.Duration
		wantSent    float64
		wantRetries float64
		wantDropped float64
		wantLog     string
	}{
		{"204 acknowledges", []reply{{status: 204}}, 1, nil, 5, 0, 0, ""},
		{"503 then 200 delivers once", []reply{{status: 503, body: echo}}, 2, []time.Duration{500 * time.Millisecond}, 5, 1, 0, "HTTP 503"},
		{"connection closed then 200", []reply{{hangup: true}}, 2, []time.Duration{500 * time.Millisecond}, 5, 1, 0, "EOF"},
		{"408 retries", []reply{{status: 408}}, 2, []time.Duration{500 * time.Millisecond}, 5, 1, 0, "HTTP 408"},
		{"backoff doubles", []reply{{status: 500}, {status: 502}, {status: 504}}, 4,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, 5, 3, 0, "HTTP 500"},
		{"429 Retry-After seconds", []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}}, 2, []time.Duration{7 * time.Second}, 5, 1, 0, "HTTP 429"},
		{"503 Retry-After date", []reply{{status: 503, header: map[string]string{"Retry-After": pushT0.Add(90 * time.Second).Format(http.TimeFormat)}}},
			2, []time.Duration{90 * time.Second}, 5, 1, 0, "HTTP 503"},
		{"Retry-After capped", []reply{{status: 429, header: map[string]string{"Retry-After": "86400"}}}, 2, []time.Duration{retryCap}, 5, 1, 0, "HTTP 429"},
		{"redirect not followed", []reply{{status: 301, header: map[string]string{"Location": "/elsewhere"}}}, 2, []time.Duration{500 * time.Millisecond}, 5, 1, 0, "HTTP 301"},
		{"400 drops", []reply{{status: 400, body: echo}}, 1, nil, 0, 0, 5, "status:400"},
		{"401 retries: an expired token must not cost the results", []reply{{status: 401, body: echo}}, 2, []time.Duration{500 * time.Millisecond}, 5, 1, 0, "HTTP 401"},
		{"403 retries", []reply{{status: 403}}, 2, []time.Duration{500 * time.Millisecond}, 5, 1, 0, "HTTP 403"},
		{"404 drops", []reply{{status: 404}}, 1, nil, 0, 0, 5, "status:404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := &ndjsonCollector{}
			srv := newServer(t, scriptedHandler(tt.replies, col.record))
			rig := newPushRig(t, "collector", spool.Options{})
			for i := 1; i <= 5; i++ {
				rig.add(pushRecord(i, "main"))
			}
			h := newTestHTTP(t, rig, srv.URL+"/ingest", nil)
			tm := &fakeTimer{}
			seams(h.p, tm, pushT0)
			rig.start(h)
			waitFor(t, "the batch settled", func() bool { return rig.cur.Acked() == 5 })

			reqs := col.requests()
			if len(reqs) != tt.wantReqs {
				t.Errorf("requests: got %d; want %d", len(reqs), tt.wantReqs)
			}
			for i, r := range reqs {
				if r.path != "/ingest" || !slices.Equal(r.ids, seqIDs(1, 5)) {
					t.Errorf("request %d: got %s %v (%v); want /ingest with enc1:1..5", i, r.path, r.ids, r.err)
				}
			}
			if got := tm.got(); fmt.Sprint(got) != fmt.Sprint(tt.wantDelays) {
				t.Errorf("waits: got %v; want %v", got, tt.wantDelays)
			}
			if rig.sent() != tt.wantSent || rig.retries() != tt.wantRetries || rig.dropped() != tt.wantDropped {
				t.Errorf("sent, retries, dropped: got %v, %v, %v; want %v, %v, %v",
					rig.sent(), rig.retries(), rig.dropped(), tt.wantSent, tt.wantRetries, tt.wantDropped)
			}
			if rig.queue() != 0 {
				t.Errorf("queue: got %v; want 0", rig.queue())
			}
			if tt.wantLog != "" && !rig.logged(tt.wantLog) {
				t.Errorf("no log entry holds %q; logs: %v", tt.wantLog, rig.logs.All())
			}
			rig.noSecretInLogs(testToken)
		})
	}
}

// TestHTTPRequestDeadline: a collector that accepts the connection and never answers costs one
// request timeout, then a retry — not a stuck sink.
func TestHTTPRequestDeadline(t *testing.T) {
	col := &ndjsonCollector{}
	srv := newServer(t, scriptedHandler([]reply{{hang: true}}, col.record))
	rig := newPushRig(t, "collector", spool.Options{})
	rig.add(pushRecord(1, "main"))
	const timeout = 200 * time.Millisecond
	h := newTestHTTP(t, rig, srv.URL, func(c *sink.Config) { c.Timeout = duration.Of(timeout) })
	tm := &fakeTimer{}
	seams(h.p, tm, pushT0)
	h.p.now = time.Now
	start := time.Now()
	rig.start(h)
	waitFor(t, "one retry", func() bool { return rig.retries() == 1 })
	if took := time.Since(start); took < timeout || took > timeout+2*time.Second {
		t.Errorf("the hanging request ended after %v; want about %v", took, timeout)
	}
	if !rig.logged("deadline exceeded") {
		t.Errorf("no log entry says the deadline was exceeded: %v", rig.logs.All())
	}
	// A duration in a log key carries its unit: journald and jq show a bare number.
	if !rig.logged("retry_in_seconds:") {
		t.Errorf("no log entry names the retry delay with its unit (retry_in_seconds): %v", rig.logs.All())
	}
	waitFor(t, "delivery on the next attempt", func() bool { return rig.cur.Acked() == 1 })
}

func TestHTTPClose(t *testing.T) {
	tests := []struct {
		name      string
		replies   []reply
		closeIn   time.Duration
		wantAcked uint64
		wantReqs  int
		maxTook   time.Duration
	}{
		// The sink is in backoff (a timer that never fires) when Close comes: it tries at once.
		{"drains the queue at once", []reply{{status: 503}}, 5 * time.Second, 5, 2, 2 * time.Second},
		// The collector stays down: Close gives up at its deadline and keeps the records.
		{"gives up at the deadline", []reply{{status: 503}, {hang: true}}, 300 * time.Millisecond, 0, 2, 2 * time.Second},
		// The attempt at close fails too: the drain ends at once; it does not wait out an outage.
		{"a failure ends the drain", []reply{{status: 503}, {status: 503}}, 5 * time.Second, 0, 2, time.Second},
		// A Retry-After beyond the deadline is honoured: no new request, Close returns at once.
		{"keeps Retry-After", []reply{{status: 429, header: map[string]string{"Retry-After": "60"}}}, 3 * time.Second, 0, 1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := &ndjsonCollector{}
			srv := newServer(t, scriptedHandler(tt.replies, col.record))
			rig := newPushRig(t, "collector", spool.Options{})
			for i := 1; i <= 5; i++ {
				rig.add(pushRecord(i, "main"))
			}
			h := newTestHTTP(t, rig, srv.URL, nil)
			tm := &fakeTimer{block: true}
			seams(h.p, tm, pushT0)
			h.p.now = time.Now
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.Start(ctx, rig.cur, rig.wake)
			}()
			waitFor(t, "the first backoff", func() bool { return len(tm.got()) == 1 })

			cctx, ccancel := context.WithTimeout(context.Background(), tt.closeIn)
			defer ccancel()
			start := time.Now()
			if err := h.Close(cctx); err != nil {
				t.Errorf("Close: got %v; want nil (undelivered records stay spooled)", err)
			}
			took := time.Since(start)
			select {
			case <-done:
			case <-time.After(time.Second):
				t.Fatal("Start still running after Close returned")
			}
			if took > tt.maxTook {
				t.Errorf("Close took %v; want at most %v", took, tt.maxTook)
			}
			if got := rig.cur.Acked(); got != tt.wantAcked {
				t.Errorf("acked: got %d; want %d", got, tt.wantAcked)
			}
			if got := len(col.requests()); got != tt.wantReqs {
				t.Errorf("requests: got %d; want %d", got, tt.wantReqs)
			}
		})
	}
}

// TestHTTPSpoolBoundCountsDropped: records the spool's byte bound removed before delivery show in
// Dropped, and Sent + Dropped accounts for every record.
func TestHTTPSpoolBoundCountsDropped(t *testing.T) {
	col := &ndjsonCollector{}
	srv := newServer(t, scriptedHandler(nil, col.record))
	rig := newPushRig(t, "collector", spool.Options{MaxBytes: 2048, SegmentBytes: 1024})
	const n = 30
	for i := 1; i <= n; i++ {
		rig.add(pushRecord(i, "main"))
	}
	h := newTestHTTP(t, rig, srv.URL, nil)
	rig.start(h)
	waitFor(t, "every record sent or dropped", func() bool { return rig.sent()+rig.dropped() == n })
	if rig.dropped() == 0 || rig.sent() == 0 {
		t.Errorf("sent, dropped: got %v, %v; want both above 0 (the bound holds about 8 records)", rig.sent(), rig.dropped())
	}
	if rig.queue() != 0 {
		t.Errorf("queue: got %v; want 0", rig.queue())
	}
	var ids []string
	for _, r := range col.requests() {
		ids = append(ids, r.ids...)
	}
	if want := seqIDs(n-int(rig.sent())+1, n); !slices.Equal(ids, want) {
		t.Errorf("delivered: got %v; want the newest %d: %v", ids, len(want), want)
	}
}

func TestHTTPQueueGauge(t *testing.T) {
	col := &ndjsonCollector{}
	srv := newServer(t, scriptedHandler([]reply{{status: 503}}, col.record))
	rig := newPushRig(t, "collector", spool.Options{})
	h := newTestHTTP(t, rig, srv.URL, func(c *sink.Config) { c.BatchSize = 2 })
	tm := &fakeTimer{block: true}
	seams(h.p, tm, pushT0)
	for i := 1; i <= 3; i++ {
		rig.add(pushRecord(i, "main"))
	}
	rig.start(h)
	waitFor(t, "the sink in backoff", func() bool { return len(tm.got()) == 1 })
	if got := rig.queue(); got != 3 {
		t.Errorf("queue after the failed attempt: got %v; want 3", got)
	}
	// The outage goes on: records spooled meanwhile must show while the sink waits.
	for i := 4; i <= 6; i++ {
		rig.add(pushRecord(i, "main"))
		waitFor(t, fmt.Sprintf("queue %d", i), func() bool { return rig.queue() == float64(i) })
	}
}

func TestHTTPToken(t *testing.T) {
	rig := newPushRig(t, "collector", spool.Options{})
	t.Run("errors name the file, never the content", func(t *testing.T) {
		for _, tt := range []struct{ name, text, want string }{
			{"empty", " \n", "is empty"},
			{"two lines", testToken + "\nsecond-" + testToken, "more than one line"},
		} {
			p := writeFile(t, "token", tt.text)
			cfg := rig.sinkConfig(sink.HTTP, "http://127.0.0.1:9/")
			cfg.TokenFile = p
			_, err := NewHTTP(cfg, rig.m, rig.log)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), testToken) {
				t.Errorf("%s: got %v; want an error naming %s, saying %q, without the token", tt.name, err, p, tt.want)
			}
		}
		cfg := rig.sinkConfig(sink.HTTP, "http://127.0.0.1:9/")
		cfg.TokenFile = "/nonexistent/token"
		if _, err := NewHTTP(cfg, rig.m, rig.log); err == nil || !strings.Contains(err.Error(), "/nonexistent/token") {
			t.Errorf("missing file: got %v; want an error naming it", err)
		}
	})
	t.Run("re-read at start", func(t *testing.T) {
		col := &ndjsonCollector{}
		srv := newServer(t, scriptedHandler(nil, col.record))
		h := newTestHTTP(t, rig, srv.URL, nil)
		tokPath := writeFile(t, "rotated", "old-token")
		h.p.tokenFile = tokPath
		if err := os.WriteFile(tokPath, []byte("new-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		rig.add(pushRecord(1, "main"))
		rig.start(h)
		waitFor(t, "delivery", func() bool { return len(col.requests()) == 1 })
		if got := col.requests()[0].header.Get("Authorization"); got != "Bearer new-token" {
			t.Errorf("Authorization: got %q; want the token in the file at start", got)
		}
	})
}

// testCA makes a CA and a server certificate for 127.0.0.1 signed by it.
func testCA(t *testing.T) (caPEM []byte, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ingestprobe test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "collector"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestHTTPTLS(t *testing.T) {
	caPEM, cert := testCA(t)
	tests := []struct {
		name        string
		caFile      bool
		wantAcked   uint64
		wantRetries float64
		wantLog     string
	}{
		{"verified with ca_file", true, 1, 0, ""},
		{"unknown authority without it", false, 0, 1, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := &ndjsonCollector{}
			srv := httptest.NewUnstartedServer(scriptedHandler(nil, col.record))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
			srv.StartTLS()
			t.Cleanup(srv.Close)
			rig := newPushRig(t, "collector", spool.Options{})
			rig.add(pushRecord(1, "main"))
			h := newTestHTTP(t, rig, srv.URL, func(c *sink.Config) {
				if tt.caFile {
					c.CAFile = writeFile(t, "ca.pem", string(caPEM))
				}
			})
			tm := &fakeTimer{block: true}
			seams(h.p, tm, pushT0)
			rig.start(h)
			waitFor(t, "acked or retried", func() bool { return rig.cur.Acked() == 1 || rig.retries() > 0 })
			if rig.cur.Acked() != tt.wantAcked || rig.retries() != tt.wantRetries {
				t.Errorf("acked, retries: got %d, %v; want %d, %v", rig.cur.Acked(), rig.retries(), tt.wantAcked, tt.wantRetries)
			}
			if tt.wantLog != "" && !rig.logged(tt.wantLog) {
				t.Errorf("no log entry mentions %q: %v", tt.wantLog, rig.logs.All())
			}
			if !tt.caFile && len(col.requests()) != 0 {
				t.Errorf("an unverified server got %d requests; want 0", len(col.requests()))
			}
		})
	}
	t.Run("ca_file without a certificate", func(t *testing.T) {
		rig := newPushRig(t, "collector", spool.Options{})
		cfg := rig.sinkConfig(sink.HTTP, "https://127.0.0.1:9/")
		cfg.CAFile = writeFile(t, "ca.pem", "not a certificate")
		if _, err := NewHTTP(cfg, rig.m, rig.log); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
			t.Errorf("got %v; want an error saying the file holds no certificate", err)
		}
	})
}

// TestHTTPCloseBeforeStart: the reporter starts each push loop on a goroutine and may close at
// once (a one-shot run, a signal right after start); a Close that comes before the loop began must
// still deliver what is queued, even though the reporter cancels the loop's context next.
func TestHTTPCloseBeforeStart(t *testing.T) {
	var got atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	rig := newPushRig(t, "collector", spool.Options{})
	rig.add(pushRecord(1, "main"), pushRecord(2, "main"))
	h, err := NewHTTP(rig.sinkConfig(sink.HTTP, srv.URL), rig.m, rig.log)
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer ccancel()
	if err := h.Close(cctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // as the reporter does after Close
	h.Start(ctx, rig.cur, rig.wake)
	if got.Load() == 0 || rig.sent() != 2 {
		t.Errorf("got %d requests and %v records sent; want the 2 queued records delivered", got.Load(), rig.sent())
	}
}
