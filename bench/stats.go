package bench

import (
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
