package metrics

import (
	"math"
	"strconv"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus"
)

// Gather turns the agent's registry into samples, as a scrape of it would: counters, gauges
// and untyped values as they are; summaries as quantiles, _sum and _count; histograms as
// cumulative _bucket{le}, _sum and _count.
func Gather(g prometheus.Gatherer) ([]Sample, error) {
	if g == nil {
		return nil, nil
	}
	mfs, err := g.Gather() // on error, what could be gathered is still returned
	var out []Sample
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			ls := make([]Label, 0, len(m.GetLabel())+1)
			for _, lp := range m.GetLabel() {
				ls = append(ls, Label{lp.GetName(), lp.GetValue()})
			}
			add := func(n string, v float64, extra ...Label) {
				out = append(out, Sample{Name: n, Labels: append(append([]Label(nil), ls...), extra...), Value: v})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(name, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, m.GetUntyped().GetValue())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, q.GetValue(), Label{"quantile", formatFloat(q.GetQuantile())})
				}
				add(name+"_sum", s.GetSampleSum())
				add(name+"_count", float64(s.GetSampleCount()))
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), +1)
					add(name+"_bucket", float64(b.GetCumulativeCount()), Label{"le", formatFloat(b.GetUpperBound())})
				}
				if !inf {
					add(name+"_bucket", float64(h.GetSampleCount()), Label{"le", "+Inf"})
				}
				add(name+"_sum", h.GetSampleSum())
				add(name+"_count", float64(h.GetSampleCount()))
			}
		}
	}
	return out, err
}

// formatFloat writes le and quantile values as the text exposition format does.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
