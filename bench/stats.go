package bench

import (
	"encoding/json"
	"math"
	"slices"
)

// Dist summarises a sample: count, median, 99th percentile and maximum, in the sample's unit.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// MarshalJSON writes an empty sample's NaN figures as null: encoding/json refuses NaN, and a
// phase without samples (no blackbox_exporter, no kernel RTT) must not cost the whole report.
func (d Dist) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		N   int      `json:"n"`
		P50 *float64 `json:"p50"`
		P99 *float64 `json:"p99"`
		Max *float64 `json:"max"`
	}{d.N, num(d.P50), num(d.P99), num(d.Max)})
}

// DistOf summarises xs (which it sorts). Percentiles are nearest-rank, so every figure is a value
// that was measured, never an interpolation between two.
func DistOf(xs []float64) Dist {
	if len(xs) == 0 {
		return Dist{P50: math.NaN(), P99: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(xs)
	return Dist{N: len(xs), P50: Percentile(xs, 50), P99: Percentile(xs, 99), Max: xs[len(xs)-1]}
}

// Percentile is the nearest-rank p-th percentile of sorted xs.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Median of xs (sorted in place).
func Median(xs []float64) float64 {
	slices.Sort(xs)
	return Percentile(xs, 50)
}
