//go:build linux

package lab

import (
	"testing"
	"time"
)

func TestLeftover(t *testing.T) {
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    Found
		want bool
	}{
		{"builder dead, made before", Found{Created: start.Add(-time.Minute)}, true},
		{"builder running", Found{Created: start.Add(-time.Minute), Owned: true}, false},
		{"kept for manual use", Found{Created: start.Add(-time.Minute), Keep: true}, false},
		{"made after this run started", Found{Created: start.Add(time.Second)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.leftover(start); got != tt.want {
				t.Errorf("leftover: got %v; want %v", got, tt.want)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{"0a1b2c3d": true, "0A1B2C3D": false, "0a1b2c3": false, "../../et": false, "": false} {
		if got := validID(s); got != want {
			t.Errorf("validID(%q): got %v; want %v", s, got, want)
		}
	}
}

func TestProcStart(t *testing.T) {
	st, err := procStart(1)
	if err != nil {
		t.Skipf("no /proc/1/stat here: %v", err)
	}
	if !alive(1, st) {
		t.Errorf("alive(1, %d): got false; want true", st)
	}
	if alive(1, st+1) {
		t.Errorf("alive(1, %d) with another start time: got true; want false (a reused PID)", st+1)
	}
}
