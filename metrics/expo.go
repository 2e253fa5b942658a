package metrics

import (
	"bufio"
	"cmp"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The agent's own series and /metrics are built here rather than with prometheus/client_golang:
// the agent needs a few counters and gauges and the text exposition format, and client_golang
// brought protobuf, client_model, prometheus/common and procfs into the binary — ≈ 2 MB of its
// 11.8, and the binary's pages are most of the agent's RSS (docs/performance.md). The output is
// the text format as client_golang's promhttp wrote it: families sorted by name, series by their
// label values, labels sorted by name, values formatted alike (pinned by testdata/metrics.golden).

// Metric types, as the TYPE line names them.
const (
	typeGauge   = "gauge"
	typeCounter = "counter"
	typeSummary = "summary"
)

// Family is one metric family: its name, help, type and samples. A summary's samples are its
// quantiles (label quantile) and name_sum and name_count.
type Family struct {
	Name, Help, Type string
	Samples          []Sample
}

// Vec is a counter or gauge family with variable labels: one Value per combination of label
// values, created on first use and kept (the label values here are bounded: sink names, targets and
// verdicts).
type Vec struct {
	name, help, typ string
	constLabels     []Label
	labelNames      []string

	mu     sync.Mutex
	values map[string]*Value
}

// Value is one series of a Vec. Its methods are safe for concurrent use.
type Value struct {
	bits   atomic.Uint64
	labels []Label // sorted by name, constant labels included
}

func newVec(typ, name, help string, constLabels []Label, labelNames ...string) *Vec {
	return &Vec{name: name, help: help, typ: typ, constLabels: constLabels, labelNames: labelNames, values: map[string]*Value{}}
}

// WithLabelValues returns the series for these label values (in the order of the label names
// the Vec was made with), creating it at 0. A call with the wrong number of values panics, as
// client_golang's does: it is a programming error.
func (v *Vec) WithLabelValues(values ...string) *Value {
	if len(values) != len(v.labelNames) {
		panic("reporter: " + v.name + ": " + strconv.Itoa(len(values)) + " label values for " + strconv.Itoa(len(v.labelNames)) + " labels")
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if x := v.values[key]; x != nil {
		return x
	}
	ls := make([]Label, 0, len(v.constLabels)+len(values))
	ls = append(ls, v.constLabels...)
	for i, n := range v.labelNames {
		ls = append(ls, Label{n, values[i]})
	}
	sortLabels(ls)
	x := &Value{labels: ls}
	v.values[key] = x
	return x
}

// Set sets the value (gauges).
func (x *Value) Set(f float64) { x.bits.Store(math.Float64bits(f)) }

// Add adds d to the value. A counter only goes up: the callers add counts.
func (x *Value) Add(d float64) {
	for {
		old := x.bits.Load()
		if x.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Inc adds 1.
func (x *Value) Inc() { x.Add(1) }

// Get returns the value.
func (x *Value) Get() float64 { return math.Float64frombits(x.bits.Load()) }

// family snapshots the Vec.
func (v *Vec) family() Family {
	v.mu.Lock()
	f := Family{Name: v.name, Help: v.help, Type: v.typ, Samples: make([]Sample, 0, len(v.values))}
	for _, x := range v.values {
		f.Samples = append(f.Samples, Sample{Name: v.name, Labels: x.labels, Value: x.Get()})
	}
	v.mu.Unlock()
	return f
}

func sortLabels(ls []Label) {
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
}

// compareSeries orders the series of a family as client_golang did: by the number of labels, then
// by their values, label by label (labels sorted by name).
func compareSeries(a, b Sample) int {
	if c := cmp.Compare(len(a.Labels), len(b.Labels)); c != 0 {
		return c
	}
	for i := range a.Labels {
		if c := strings.Compare(a.Labels[i].Value, b.Labels[i].Value); c != 0 {
			return c
		}
	}
	return 0
}

// familiesOf groups samples into families by name: gauges, and counters where the name ends in
// _total (ingestprobe_live_reconnects_total).
func familiesOf(samples []Sample) []Family {
	idx := map[string]int{}
	var out []Family
	for _, s := range samples {
		i, ok := idx[s.Name]
		if !ok {
			i = len(out)
			idx[s.Name] = i
			typ := typeGauge
			if strings.HasSuffix(s.Name, "_total") {
				typ = typeCounter
			}
			out = append(out, Family{Name: s.Name, Help: s.Help, Type: typ})
		}
		out[i].Samples = append(out[i].Samples, s)
	}
	return out
}

// writeText writes families in the text exposition format (version 0.0.4): families sorted by
// name, series by label values; families without samples are left out.
func writeText(w io.Writer, fams []Family) error {
	slices.SortStableFunc(fams, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
	}
	var num []byte
	for _, f := range fams {
		if len(f.Samples) == 0 {
			continue
		}
		if f.Type != typeSummary {
			slices.SortStableFunc(f.Samples, compareSeries)
		}
		bw.WriteString("# HELP ")
		bw.WriteString(f.Name)
		bw.WriteByte(' ')
		writeEscaped(bw, f.Help, false)
		bw.WriteString("\n# TYPE ")
		bw.WriteString(f.Name)
		bw.WriteByte(' ')
		bw.WriteString(f.Type)
		bw.WriteByte('\n')
		for _, s := range f.Samples {
			bw.WriteString(s.Name)
			if len(s.Labels) > 0 {
				bw.WriteByte('{')
				for i, l := range s.Labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l.Name)
					bw.WriteString(`="`)
					writeEscaped(bw, l.Value, true)
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			num = appendFloat(num[:0], s.Value)
			bw.Write(num)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// writeEscaped escapes as the text format wants: backslash and newline everywhere, the double
// quote in label values.
func writeEscaped(w *bufio.Writer, s string, quote bool) {
	if !strings.ContainsAny(s, "\\\n\"") {
		w.WriteString(s)
		return
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			w.WriteString(`\\`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '"' && quote:
			w.WriteString(`\"`)
		default:
			w.WriteByte(c)
		}
	}
}

// appendFloat formats a value as client_golang's text encoder did.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
