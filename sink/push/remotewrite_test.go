package push

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/ingestprobe/ingestprobe/metrics"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/spool"
)

// prompbWriteRequest is prometheus.WriteRequest described from prompb's .proto files, so that the
// tests decode the sink's output with the protobuf runtime rather than with a second hand-written
// decoder that could share the encoder's mistakes.
var prompbWriteRequest = func() protoreflect.MessageDescriptor {
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	field := func(name string, n int32, l *descriptorpb.FieldDescriptorProto_Label, t *descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Label: l, Type: t, JsonName: proto.String(name)}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name: proto.String("prompb_test.proto"), Package: proto.String("prometheus"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("WriteRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("timeseries", 1, rep, msg, ".prometheus.TimeSeries")}},
			{Name: proto.String("TimeSeries"), Field: []*descriptorpb.FieldDescriptorProto{
				field("labels", 1, rep, msg, ".prometheus.Label"),
				field("samples", 2, rep, msg, ".prometheus.Sample")}},
			{Name: proto.String("Label"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, opt, str, ""), field("value", 2, opt, str, "")}},
			{Name: proto.String("Sample"), Field: []*descriptorpb.FieldDescriptorProto{
				field("value", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE.Enum(), ""),
				field("timestamp", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), "")}},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		panic(err)
	}
	return f.Messages().ByName("WriteRequest")
}()

type wrLabel struct{ Name, Value string }
type wrSample struct {
	Value     pjFloat
	Timestamp int64 `json:",string"`
}

// pjFloat reads protojson's doubles, which spell the infinities and NaN as strings.
type pjFloat float64

func (f *pjFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"Infinity"`:
		*f = pjFloat(math.Inf(1))
	case `"-Infinity"`:
		*f = pjFloat(math.Inf(-1))
	case `"NaN"`:
		*f = pjFloat(math.NaN())
	default:
		var v float64
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*f = pjFloat(v)
	}
	return nil
}

type wrSeries struct {
	Labels  []wrLabel
	Samples []wrSample
}

// decodeWriteRequest unmarshals a v1 WriteRequest with the protobuf runtime.
func decodeWriteRequest(b []byte) ([]wrSeries, error) {
	m := dynamicpb.NewMessage(prompbWriteRequest)
	if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, m); err != nil {
		return nil, err
	}
	if len(m.GetUnknown()) > 0 {
		return nil, fmt.Errorf("unknown fields in the request")
	}
	js, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out struct{ Timeseries []wrSeries }
	if err := json.Unmarshal(js, &out); err != nil {
		return nil, err
	}
	return out.Timeseries, nil
}

// name is the series' __name__.
func (s wrSeries) name() string {
	for _, l := range s.Labels {
		if l.Name == "__name__" {
			return l.Value
		}
	}
	return ""
}

func (s wrSeries) label(name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// find the series named name whose labels include want.
func find(series []wrSeries, name string, want map[string]string) []wrSeries {
	var out []wrSeries
	for _, s := range series {
		if s.name() != name {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && s.label(k) == v
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

func TestWriteRequestEncoding(t *testing.T) {
	w := &writeRequest{index: map[string]*rwSeries{}}
	w.add("up", nil, 1, 1000)
	// Worked out by hand from prompb's field numbers: WriteRequest.timeseries(1) {
	// TimeSeries.labels(1) { name(1) "__name__", value(2) "up" }, samples(2) { value(1) double 1.0,
	// timestamp(2) varint 1000 } }.
	want := "0a1e" + "0a0e" + "0a08" + hex.EncodeToString([]byte("__name__")) + "1202" + hex.EncodeToString([]byte("up")) +
		"120c" + "09" + "000000000000f03f" + "10" + "e807"
	if got := hex.EncodeToString(w.marshal()); got != want {
		t.Errorf("got %s; want %s", got, want)
	}

	w = &writeRequest{index: map[string]*rwSeries{}}
	w.add("b_metric", []metrics.Label{{Name: "zone", Value: "ü-1"}, {Name: "Upper", Value: "x"}, {Name: "empty", Value: ""}, {Name: "agent", Value: "a"}}, -0.5, -1)
	w.add("b_metric", []metrics.Label{{Name: "agent", Value: "a"}, {Name: "zone", Value: "ü-1"}, {Name: "Upper", Value: "x"}}, math.Inf(1), 1<<50)
	w.add("a_metric", nil, 0, 0)
	w.sortSamples()
	b := w.marshal()
	if len(b) != w.Size() {
		t.Fatalf("encoded %d bytes; Size says %d", len(b), w.Size())
	}
	got, err := decodeWriteRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	wantSeries := []wrSeries{
		{Labels: []wrLabel{{"Upper", "x"}, {"__name__", "b_metric"}, {"agent", "a"}, {"zone", "ü-1"}},
			Samples: []wrSample{{-0.5, -1}, {pjFloat(math.Inf(1)), 1 << 50}}},
		{Labels: []wrLabel{{"__name__", "a_metric"}}, Samples: []wrSample{{0, 0}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(wantSeries) {
		t.Errorf("got %v; want %v", got, wantSeries)
	}
}

// rwReceiver is a fake remote-write receiver: it checks the protocol headers and decodes bodies.
type rwReceiver struct {
	mu   sync.Mutex
	reqs []rwGot
}

type rwGot struct {
	header http.Header
	series []wrSeries
	err    error
}

func (c *rwReceiver) record(r *http.Request, body []byte) {
	g := rwGot{header: r.Header.Clone()}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		g.err = fmt.Errorf("snappy: %w", err)
	} else {
		g.series, g.err = decodeWriteRequest(raw)
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, g)
	c.mu.Unlock()
}

func (c *rwReceiver) requests() []rwGot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

func rwRecord(seq int, findings []record.Finding, open map[int]bool) record.Record {
	rec := pushRecord(seq, "main")
	rec.Findings = findings
	rec.Verdict = record.VerdictOf(findings)
	for _, p := range []int{1935, 443} {
		rec.Results.TCP = append(rec.Results.TCP, tcp.Result{Probe: "tcp", Address: "127.0.0.1", Port: p, OK: open[p], ConnectSeconds: 0.002})
	}
	return rec
}

func TestRemoteWrite(t *testing.T) {
	refused := []record.Finding{{Code: "tcp.refused", Severity: record.Error, Message: "refused", Remedy: "check"}}
	rcv := &rwReceiver{}
	// The second request fails once: its retry must carry the same samples, the zero included.
	srv := newServer(t, scriptedHandler([]reply{{status: 200}, {status: 503, body: "busy " + testToken}}, rcv.record))
	rig := newPushRig(t, "rw", spool.Options{})
	rig.m.SetTargets(map[string]time.Duration{"main": 30 * time.Second})
	rig.add(
		rwRecord(1, refused, nil),
		rwRecord(2, nil, map[int]bool{1935: true, 443: true}),
		rwRecord(3, nil, map[int]bool{1935: true, 443: true}),
	)
	cfg := rig.sinkConfig(sink.RemoteWrite, srv.URL+"/api/v1/write")
	cfg.BatchSize = 1
	cfg.TokenFile = writeFile(t, "token", testToken)
	r, err := NewRemoteWrite(cfg, rig.m, rig.log)
	if err != nil {
		t.Fatal(err)
	}
	tm := &fakeTimer{}
	seams(r.p, tm, pushT0)
	rig.start(r)
	waitFor(t, "3 records acknowledged", func() bool { return rig.cur.Acked() == 3 })

	reqs := rcv.requests()
	if len(reqs) != 4 || rig.retries() != 1 || rig.sent() != 3 {
		t.Fatalf("requests, retries, sent: got %d, %v, %v; want 4, 1, 3 (one retry of ours, none of the client's)", len(reqs), rig.retries(), rig.sent())
	}
	ms := func(seq int) int64 { return pushRecord(seq, "main").Time.UnixMilli() }
	var lastSelf int64
	for i, q := range reqs {
		if q.err != nil {
			t.Fatalf("request %d: %v", i, q.err)
		}
		for k, want := range map[string]string{
			"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
			"X-Prometheus-Remote-Write-Version": "0.1.0", "Authorization": "Bearer " + testToken,
		} {
			if got := q.header.Get(k); got != want {
				t.Errorf("request %d: %s: got %q; want %q", i, k, got, want)
			}
		}
		for _, s := range q.series {
			names := make([]string, len(s.Labels))
			for j, l := range s.Labels {
				names[j] = l.Name
			}
			for j := 1; j < len(names); j++ {
				if names[j-1] >= names[j] {
					t.Errorf("request %d: labels %v: want strictly increasing names", i, names)
				}
			}
			if names[0] != "__name__" {
				t.Errorf("request %d: labels %v: want __name__ first", i, names)
			}
		}
		// The agent's own series ride along, at send time, on the first request; the clock stands
		// still here, so the later ones (within selfMetricsEvery) carry none
		// (TestRemoteWriteSelfMetricsSpaced covers their return).
		self := find(q.series, "ingestprobe_reporter_sent_total", map[string]string{"sink": "rw"})
		if i > 0 {
			if len(self) != 0 {
				t.Errorf("request %d, at the same time as the first: self-metric sent_total: got %v; want none", i, self)
			}
			continue
		}
		if len(self) != 1 || len(self[0].Samples) != 1 || self[0].Samples[0].Timestamp <= lastSelf {
			t.Errorf("request %d: self-metric sent_total: got %v; want one sample later than %d", i, self, lastSelf)
		} else {
			lastSelf = self[0].Samples[0].Timestamp
		}
		if len(find(q.series, "go_gc_duration_seconds_count", nil)) != 1 || len(find(q.series, "go_gc_duration_seconds", map[string]string{"quantile": "0.5"})) != 1 {
			t.Errorf("request %d: summary go_gc_duration_seconds not expanded into quantiles and _count", i)
		}
	}

	one := func(i int, name string, labels map[string]string) []wrSample {
		t.Helper()
		s := find(reqs[i].series, name, labels)
		if len(s) != 1 {
			t.Errorf("request %d: %s%v: got %d series; want 1", i, name, labels, len(s))
			return nil
		}
		for k, v := range map[string]string{"agent": "enc1", "target": "main", "venue": "berlin"} {
			if s[0].label(k) != v {
				t.Errorf("request %d: %s: label %s: got %q; want %q", i, name, k, s[0].label(k), v)
			}
		}
		return s[0].Samples
	}
	tests := []struct {
		req    int
		name   string
		labels map[string]string
		want   []wrSample // nil: the series is absent
	}{
		{0, "ingestprobe_target_verdict", map[string]string{"verdict": "no-go"}, []wrSample{{1, ms(1)}}},
		{0, "ingestprobe_target_verdict", map[string]string{"verdict": "go"}, []wrSample{{0, ms(1)}}},
		{0, "ingestprobe_finding", map[string]string{"code": "tcp.refused", "severity": "error"}, []wrSample{{1, ms(1)}}},
		{0, "ingestprobe_port_open", map[string]string{"port": "1935"}, []wrSample{{0, ms(1)}}},
		{0, "ingestprobe_target_interval_seconds", nil, []wrSample{{30, ms(1)}}},
		// The finding cleared: sent once with 0, in the failed request and again in its retry.
		{1, "ingestprobe_finding", map[string]string{"code": "tcp.refused", "severity": "error"}, []wrSample{{0, ms(2)}}},
		{2, "ingestprobe_finding", map[string]string{"code": "tcp.refused", "severity": "error"}, []wrSample{{0, ms(2)}}},
		{2, "ingestprobe_target_verdict", map[string]string{"verdict": "go"}, []wrSample{{1, ms(2)}}},
		{2, "ingestprobe_port_open", map[string]string{"port": "443"}, []wrSample{{1, ms(2)}}},
		{3, "ingestprobe_finding", map[string]string{"code": "tcp.refused"}, nil},
		{3, "ingestprobe_target_verdict", map[string]string{"verdict": "go"}, []wrSample{{1, ms(3)}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("request %d %s %v", tt.req, tt.name, tt.labels), func(t *testing.T) {
			if tt.want == nil {
				if s := find(reqs[tt.req].series, tt.name, tt.labels); len(s) != 0 {
					t.Errorf("got %v; want no such series", s)
				}
				return
			}
			if got := one(tt.req, tt.name, tt.labels); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
	rig.noSecretInLogs(testToken)
}

func TestRemoteWriteAnswers(t *testing.T) {
	tests := []struct {
		name                  string
		replies               []reply
		wantReqs              int
		wantSent, wantRetries float64
		wantDropped           float64
		wantDelays            []int // seconds
	}{
		{"400 drops", []reply{{status: 400, body: "out of order sample"}}, 1, 0, 0, 2, nil},
		{"429 with Retry-After", []reply{{status: 429, header: map[string]string{"Retry-After": "3"}}}, 2, 2, 1, 0, []int{3}},
		{"connection closed", []reply{{hangup: true}}, 2, 2, 1, 0, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := &rwReceiver{}
			srv := newServer(t, scriptedHandler(tt.replies, rcv.record))
			rig := newPushRig(t, "rw", spool.Options{})
			rig.add(rwRecord(1, nil, nil), rwRecord(2, nil, nil))
			r, err := NewRemoteWrite(rig.sinkConfig(sink.RemoteWrite, srv.URL+"/api/v1/write"), rig.m, rig.log)
			if err != nil {
				t.Fatal(err)
			}
			tm := &fakeTimer{}
			seams(r.p, tm, pushT0)
			r.p.jitter = func(int64) int64 { return 0 }
			rig.start(r)
			waitFor(t, "the batch settled", func() bool { return rig.cur.Acked() == 2 })
			if got := len(rcv.requests()); got != tt.wantReqs {
				t.Errorf("requests: got %d; want %d", got, tt.wantReqs)
			}
			if rig.sent() != tt.wantSent || rig.retries() != tt.wantRetries || rig.dropped() != tt.wantDropped {
				t.Errorf("sent, retries, dropped: got %v, %v, %v; want %v, %v, %v", rig.sent(), rig.retries(), rig.dropped(), tt.wantSent, tt.wantRetries, tt.wantDropped)
			}
			var secs []int
			for _, d := range tm.got() {
				secs = append(secs, int(d.Seconds()))
			}
			if fmt.Sprint(secs) != fmt.Sprint(tt.wantDelays) && !(len(secs) == 0 && len(tt.wantDelays) == 0) {
				t.Errorf("waits: got %v s; want %v s", secs, tt.wantDelays)
			}
			if rig.logged("out of order sample") {
				t.Errorf("a log entry holds the collector's response body")
			}
		})
	}
}

func TestRemoteWriteUndecodableRecord(t *testing.T) {
	rcv := &rwReceiver{}
	srv := newServer(t, scriptedHandler(nil, rcv.record))
	rig := newPushRig(t, "rw", spool.Options{})
	if _, err := rig.spool.Append([]byte(`{"not": "a record"`)); err != nil {
		t.Fatal(err)
	}
	rig.add(rwRecord(2, nil, nil))
	r, err := NewRemoteWrite(rig.sinkConfig(sink.RemoteWrite, srv.URL), rig.m, rig.log)
	if err != nil {
		t.Fatal(err)
	}
	rig.start(r)
	waitFor(t, "both settled", func() bool { return rig.cur.Acked() == 2 })
	if rig.sent() != 1 || rig.dropped() != 1 {
		t.Errorf("sent, dropped: got %v, %v; want 1, 1", rig.sent(), rig.dropped())
	}
	if reqs := rcv.requests(); len(reqs) != 1 || len(find(reqs[0].series, "ingestprobe_target_verdict", map[string]string{"target": "main"})) != 3 {
		t.Errorf("got %d requests; want 1 with the good record's 3 verdict series", len(reqs))
	}
}

// TestRemoteWriteSelfMetricsSpaced: the agent's own series go with the first request and then at
// most every selfMetricsEvery, however many requests are sent in between; each record's own
// series go every time.
func TestRemoteWriteSelfMetricsSpaced(t *testing.T) {
	rig := newPushRig(t, "rw", spool.Options{})
	r, err := NewRemoteWrite(rig.sinkConfig(sink.RemoteWrite, "http://127.0.0.1:1/api/v1/write"), rig.m, rig.log)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := record.Marshal(rwRecord(1, nil, map[int]bool{1935: true, 443: true}))
	if err != nil {
		t.Fatal(err)
	}
	batch := []spool.Record{{Seq: 1, Time: pushT0, Payload: payload}}
	has := func(w *writeRequest, name string) bool {
		for _, s := range w.series {
			for _, l := range s.labels {
				if l.Name == "__name__" && l.Value == name {
					return true
				}
			}
		}
		return false
	}
	tests := []struct {
		after    time.Duration
		wantSelf bool
	}{
		{0, true},
		{time.Second, false},
		{selfMetricsEvery - time.Millisecond, false},
		{selfMetricsEvery, true},
		{selfMetricsEvery + time.Second, false},
		{3 * selfMetricsEvery, true},
	}
	for _, tt := range tests {
		w, _, bad := r.build(batch, pushT0.Add(tt.after))
		if bad != 0 {
			t.Fatalf("build at +%s: %d bad", tt.after, bad)
		}
		if got := has(w, "ingestprobe_build_info"); got != tt.wantSelf {
			t.Errorf("request at +%s: self-metrics included: got %v; want %v", tt.after, got, tt.wantSelf)
		}
		if !has(w, "ingestprobe_target_verdict") {
			t.Errorf("request at +%s: the record's own series missing", tt.after)
		}
	}
}
