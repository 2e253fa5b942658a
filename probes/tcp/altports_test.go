package tcp

import (
	"slices"
	"testing"
)

func TestAlternativePorts(t *testing.T) {
	for _, tc := range []struct {
		ingest int
		want   []int
	}{
		{1935, []int{443, 80}},
		{443, []int{80, 1935}},
		{80, []int{443}},
		{9000, []int{443, 80}},
	} {
		if got := AlternativePorts(tc.ingest); !slices.Equal(got, tc.want) {
			t.Errorf("ingest port %d: got %v; want %v", tc.ingest, got, tc.want)
		}
	}
}
