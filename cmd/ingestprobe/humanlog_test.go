package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHumanCommandsLogForHumans: url sign, url check and check are run by a person: their warnings
// read "warning: …" whether stderr is a terminal or not — not JSON lines, which are for `run`.
func TestHumanCommandsLogForHumans(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("k3y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(key, 0o644)
	for _, args := range [][]string{
		{"url", "sign", "--domain", "push.example.com", "--stream", "s", "--key-file", key},
		{"url", "check", "rtmp://push.example.com/live/s?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099", "--key-file", key},
	} {
		_, _, errs := runCmd(t, args...)
		if !strings.HasPrefix(errs, "warning: signing key file "+key+" is readable by every user") || strings.Contains(errs, `{"level"`) {
			t.Errorf("%v: stderr %q; want a plain \"warning: …\" line", args[:2], errs)
		}
	}
}
