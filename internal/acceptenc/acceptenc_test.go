package acceptenc

import "testing"

func TestGzip(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"deflate, gzip;q=0.5"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"identity", "br"}, false},
		{[]string{"br", "gzip;q=1"}, true},
	} {
		if got := Gzip(tc.headers); got != tc.want {
			t.Errorf("Gzip(%q): got %v; want %v", tc.headers, got, tc.want)
		}
	}
}
