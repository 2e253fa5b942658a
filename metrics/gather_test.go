package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestGather(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "h"}, []string{"sink"})
	c.WithLabelValues("a").Add(3)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "h", ConstLabels: prometheus.Labels{"agent": "enc1"}})
	g.Set(-2)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_seconds", Help: "h", Buckets: []float64{0.5, 1}})
	h.Observe(0.7)
	h.Observe(3)
	s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "s", Help: "h", Objectives: map[float64]float64{0.5: 0.05}})
	s.Observe(4)
	reg.MustRegister(c, g, h, s)
	got, err := Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, x := range got {
		var ls []string
		for _, l := range x.Labels {
			ls = append(ls, l.Name+"="+l.Value)
		}
		lines = append(lines, fmt.Sprintf("%s{%s} %v", x.Name, strings.Join(ls, ","), x.Value))
	}
	want := []string{
		"c_total{sink=a} 3",
		"g{agent=enc1} -2",
		"h_seconds_bucket{le=0.5} 0", "h_seconds_bucket{le=1} 1", "h_seconds_bucket{le=+Inf} 2",
		"h_seconds_sum{} 3.7", "h_seconds_count{} 2",
		"s{quantile=0.5} 4", "s_sum{} 4", "s_count{} 1",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
