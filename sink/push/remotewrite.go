package push

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

// RemoteWrite sends spooled records to a Prometheus remote-write receiver (Prometheus with
// --web.enable-remote-write-receiver, Mimir, Thanos Receive, VictoriaMetrics) as protocol 1.0:
// a snappy-compressed prometheus.WriteRequest. 1.0 rather than 2.0 because every one of those
// receivers takes it, and Prometheus 2.x takes nothing else.
//
// Each record becomes the samples of TargetSamples, stamped with the record's time, so a backlog
// delivered after an outage lands at the times it was measured. A request also carries the agent's
// own series (queue, sent, retries, dropped …) stamped at send time, so that alert rules on the
// spool work for fleets that only remote-write — at most every selfMetricsEvery, not with every
// request (see there).
//
// A finding active in a target's previous record and absent from the next is sent once more with
// value 0, so that an alert on ingestprobe_finding resolves at once instead of after the
// receiver's staleness window (5 min in Prometheus). That memory is per process: after a restart
// or reload, a finding that cleared in the first record is not zeroed, and its series just ends.
type RemoteWrite struct {
	p   *pusher
	url string
	m   *metrics.Metrics

	// pb is the encoded request, body its snappy block: kept between sends unless a batch made
	// them larger than keepBufferBytes.
	pb, body []byte

	// ServerDate, if set before Start, is called with every response's Date header and the local
	// times the request was sent and its answer received: the seam for a clock-skew check.
	ServerDate func(sent, received, date time.Time)

	// active is, per target, the finding series of its last settled record (series key → labels);
	// next is what it becomes when the batch in flight settles.
	active, next map[string]map[string][]metrics.Label
	lastSelf     int64     // ms timestamp of the last self-metrics samples; each send gets a later one
	lastSelfAt   time.Time // when the self-metrics were last gathered
}

// selfMetricsEvery spaces the agent's own series in the requests. Gathering them costs O(targets)
// (ingestprobe_target_runs_total has a series per target, and the process collector reads /proc),
// and requests go out as records arrive: with the self-metrics in every request, remote_write cost
// four times as much CPU as all the probing at 2,000 targets (docs/performance.md). 15 s is
// Prometheus's common scrape interval: the alert rules on these series see the same resolution as
// when /metrics is scraped.
const selfMetricsEvery = 15 * time.Second

// NewRemoteWrite builds a remote_write sink from its config. url is the receiver's full write
// endpoint, e.g. http://prometheus:9090/api/v1/write.
func NewRemoteWrite(cfg sink.Config, m *metrics.Metrics, log *zap.Logger) (*RemoteWrite, error) {
	if _, err := url.ParseRequestURI(cfg.URL); err != nil {
		return nil, fmt.Errorf("remote_write sink %s: url is not a URL", cfg.Name)
	}
	r := &RemoteWrite{url: cfg.URL, active: map[string]map[string][]metrics.Label{}}
	p, err := newPusher("remote_write", cfg, m, log, r)
	if err != nil {
		return nil, err
	}
	r.p, r.m = p, p.m
	return r, nil
}

// Name of the sink: it names its spool cursor and its metrics' sink label.
func (r *RemoteWrite) Name() string { return r.p.name }

// Start delivers records from cur until ctx is done or Close has drained the queue.
func (r *RemoteWrite) Start(ctx context.Context, cur *spool.Cursor, wake <-chan struct{}) {
	r.p.serverDate = r.ServerDate
	r.p.Start(ctx, cur, wake)
}

// Close delivers what is queued, at once and batch after batch, until the queue is empty, an attempt
// fails or ctx is done; then it stops. Undelivered records stay spooled for the next start.
func (r *RemoteWrite) Close(ctx context.Context) error { return r.p.Close(ctx) }

func (r *RemoteWrite) send(ctx context.Context, batch []spool.Record) (pushAttempt, error) {
	var a pushAttempt
	req, next, bad := r.build(batch, r.p.now())
	r.next, a.bad = next, bad
	if len(req.series) == 0 {
		a.nothing = true
		return a, nil
	}
	return a, r.post(ctx, &a, req)
}

// post sends one write request: protocol 1.0 as receivers expect it (the snappy block format, not
// the framed one). It is done here rather than with client_golang/exp's remote.API: the sink has its
// own retry from the spool and its own protobuf encoding, so the client added only a POST, and its
// snappy encoder (the "better" one) allocated its tables at every request. s2.EncodeSnappy writes
// the same format, 2-3 times faster, into a buffer kept between sends. The error is for failures
// before any response; the answer itself is in a.
func (r *RemoteWrite) post(ctx context.Context, a *pushAttempt, w *writeRequest) error {
	defer r.trimBuffers()
	r.pb = w.appendTo(r.pb[:0])
	if n := s2.MaxEncodedLen(len(r.pb)); n < 0 {
		return fmt.Errorf("remote_write sink %s: request of %d bytes too large to compress", r.p.name, len(r.pb))
	} else if cap(r.body) < n {
		r.body = make([]byte, n)
	}
	body := s2.EncodeSnappy(r.body[:cap(r.body)], r.pb)
	req, err := http.NewRequestWithContext(context.WithValue(ctx, attemptKey{}, a), http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("remote_write sink %s: request: %w", r.p.name, err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := r.p.client.Do(req)
	if err != nil {
		return fmt.Errorf("remote_write sink %s: post: %w", r.p.name, withoutURL(err))
	}
	// Read what is left (bounded by the transport) so the connection is reused; never logged: a
	// receiver may echo the request, and with it the token.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// trimBuffers lets go of request buffers that a large batch grew past keepBufferBytes.
func (r *RemoteWrite) trimBuffers() {
	if cap(r.pb) > keepBufferBytes {
		r.pb = nil
	}
	if cap(r.body) > keepBufferBytes {
		r.body = nil
	}
}

func (r *RemoteWrite) settle() {
	r.active, r.next = r.next, nil
}

// build turns a batch into one write request: each record's samples, zeros for findings that
// cleared, and the agent's own series at now. It returns the finding state after the batch and how
// many records were not decodable.
func (r *RemoteWrite) build(batch []spool.Record, now time.Time) (*writeRequest, map[string]map[string][]metrics.Label, int) {
	next := make(map[string]map[string][]metrics.Label, len(r.active))
	for t, s := range r.active {
		next[t] = s
	}
	w := &writeRequest{index: map[string]*rwSeries{}}
	bad := 0
	for _, sr := range batch {
		var rec record.Record
		if err := json.Unmarshal(sr.Payload, &rec); err != nil || rec.Target == "" {
			bad++
			continue
		}
		ts := rec.Time.UnixMilli()
		findings := map[string][]metrics.Label{}
		for _, s := range metrics.TargetSamples(rec, r.m.Interval(rec.Target)) {
			k := w.add(s.Name, s.Labels, s.Value, ts)
			if s.Name == metrics.Finding {
				findings[k] = s.Labels
			}
		}
		// A live window's findings clear with the next window, a run's with the next run.
		key := rec.Target
		if rec.LiveWindow() {
			key += "\x00live"
		}
		for k, ls := range next[key] {
			if _, still := findings[k]; !still {
				w.add(metrics.Finding, ls, 0, ts)
			}
		}
		next[key] = findings
	}
	var self []metrics.Sample
	if r.lastSelfAt.IsZero() || now.Sub(r.lastSelfAt) >= selfMetricsEvery {
		self = metrics.SelfSamples(r.m.Families())
		r.lastSelfAt = now
	}
	if len(self) > 0 {
		// Strictly later than the last send: two sends in one millisecond would otherwise put two
		// values at one timestamp, which receivers reject as a duplicate sample.
		ts := max(now.UnixMilli(), r.lastSelf+1)
		r.lastSelf = ts
		for _, s := range self {
			w.add(s.Name, s.Labels, s.Value, ts)
		}
	}
	w.sortSamples()
	return w, next, bad
}

// The v1 wire format, encoded by hand with protowire: four small messages, and no generated code
// or gogo runtime to carry. Field numbers from prometheus/prompb (remote.proto, types.proto):
//
//	WriteRequest { repeated TimeSeries timeseries = 1; }
//	TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//	Label        { string name = 1; string value = 2; }
//	Sample       { double value = 1; int64 timestamp = 2; }  // timestamp in ms
type writeRequest struct {
	series []*rwSeries
	index  map[string]*rwSeries
	// Scratch space of add, reused from sample to sample.
	ls  []metrics.Label
	key []byte
}

type rwSeries struct {
	key     string
	labels  []metrics.Label // sorted by name, __name__ included
	samples []rwSample
}

type rwSample struct {
	v float64
	t int64
}

// add appends a sample to its series, creating the series on first use, and returns the series key.
// Labels with an empty value are left out: to Prometheus an empty label is an absent one. A sample
// of a series already in the request allocates nothing but its place in the series.
func (w *writeRequest) add(name string, labels []metrics.Label, v float64, ts int64) string {
	ls := append(w.ls[:0], metrics.Label{Name: "__name__", Value: name})
	for _, l := range labels {
		if l.Value != "" && l.Name != "__name__" {
			ls = append(ls, l)
		}
	}
	// Byte order of the names, which receivers check (Mimir rejects unsorted labels); it puts
	// __name__ first unless a label name starts with an upper-case letter.
	slices.SortFunc(ls, func(a, b metrics.Label) int { return strings.Compare(a.Name, b.Name) })
	k := w.key[:0]
	for _, l := range ls {
		k = append(k, l.Name...)
		k = append(k, 0xff)
		k = append(k, l.Value...)
		k = append(k, 0xff)
	}
	w.ls, w.key = ls, k
	s := w.index[string(k)]
	if s == nil {
		s = &rwSeries{key: string(k), labels: slices.Clone(ls)}
		w.index[s.key] = s
		w.series = append(w.series, s)
	}
	s.samples = append(s.samples, rwSample{v, ts})
	return s.key
}

// sortSamples puts each series' samples in time order, as receivers append them.
func (w *writeRequest) sortSamples() {
	for _, s := range w.series {
		slices.SortStableFunc(s.samples, func(a, b rwSample) int { return cmp.Compare(a.t, b.t) })
	}
}

func labelSize(l metrics.Label) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(len(l.Name)) + protowire.SizeTag(2) + protowire.SizeBytes(len(l.Value))
}

func sampleSize(s rwSample) int {
	return protowire.SizeTag(1) + protowire.SizeFixed64() + protowire.SizeTag(2) + protowire.SizeVarint(uint64(s.t))
}

func (s *rwSeries) size() int {
	n := 0
	for _, l := range s.labels {
		n += protowire.SizeTag(1) + protowire.SizeBytes(labelSize(l))
	}
	for _, x := range s.samples {
		n += protowire.SizeTag(2) + protowire.SizeBytes(sampleSize(x))
	}
	return n
}

// Size is the encoded length.
func (w *writeRequest) Size() int {
	n := 0
	for _, s := range w.series {
		n += protowire.SizeTag(1) + protowire.SizeBytes(s.size())
	}
	return n
}

// marshal returns the encoding (for tests).
func (w *writeRequest) marshal() []byte { return w.appendTo(make([]byte, 0, w.Size())) }

func (w *writeRequest) appendTo(b []byte) []byte {
	for _, s := range w.series {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(s.size()))
		for _, l := range s.labels {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(labelSize(l)))
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, l.Name)
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendString(b, l.Value)
		}
		for _, x := range s.samples {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(sampleSize(x)))
			b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, math.Float64bits(x.v))
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(x.t))
		}
	}
	return b
}
