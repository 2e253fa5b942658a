//go:build unix

package secret

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFileNotRegular: a FIFO, a directory or a device (/dev/zero) is refused at once with a
// clear error, never read: opening a FIFO for reading waited for a writer for ever, and the agent
// hung at start.
func TestReadFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "a named pipe"},
		{dir, "a directory"},
		{"/dev/zero", "a device"},
	} {
		done := make(chan error, 1)
		go func() { _, _, err := ReadFile(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v; want an error saying it is %s, not a regular file", tc.path, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadFile still blocked after 5 s", tc.path)
		}
	}
}

// TestReadRegularLimit: a file over the limit is an error, not a truncated read.
func TestReadRegularLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, p, strings.Repeat("x", 101))
	if _, err := ReadRegular(p, 100); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Errorf("got %v; want an error about the size", err)
	}
	if b, err := ReadRegular(p, 101); err != nil || len(b) != 101 {
		t.Errorf("got %d bytes, %v; want all 101", len(b), err)
	}
}
