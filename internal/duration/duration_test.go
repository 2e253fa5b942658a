package duration

import (
	"errors"
	"testing"
	"time"
)

func TestUnmarshalText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30s", 30 * time.Second, false},
		{"1h30m", 90 * time.Minute, false},
		{"30", 0, true},
		{"", 0, true},
		{"soon", 0, true},
	} {
		var d Duration
		err := d.UnmarshalText([]byte(tc.in))
		if (err != nil) != tc.err || d.D() != tc.want {
			t.Errorf("%q: got %s, %v; want %s, error %v", tc.in, d.D(), err, tc.want, tc.err)
		}
		var de *Error
		if tc.err && (!errors.As(err, &de) || de.Text != tc.in) {
			t.Errorf("%q: got %v; want an *Error holding the text", tc.in, err)
		}
	}
	if b, _ := Of(90 * time.Second).MarshalText(); string(b) != "1m30s" {
		t.Errorf("MarshalText: got %q; want 1m30s", b)
	}
}
