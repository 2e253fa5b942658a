//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestValidateAgreesWithRun: a token_file that is a FIFO is refused by `config validate` and by
// `run` alike, at once (run used to wait for a writer for ever), and an empty file is not "valid".
func TestValidateAgreesWithRun(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "[agent]\nstate_dir = \""+dir+"\"\n[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1:1/live/k\"\n"+
		"[[sinks]]\ntype = \"http\"\nurl = \"http://127.0.0.1:1/ingest\"\ntoken_file = \""+fifo+"\"\n")
	for _, cmd := range [][]string{{"config", "validate", cfg}, {"run", "--config", cfg}} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() { defer close(done); code, _, stderr = runCmd(t, cmd...) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: still running after 10 s", cmd)
		}
		if code != exitUsage || !strings.Contains(stderr, "token_file") || !strings.Contains(stderr, "named pipe") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the token_file that is a named pipe", cmd, code, stderr)
		}
	}
	empty := writeConfig(t, "# nothing yet\n")
	if code, _, stderr := runCmd(t, "config", "validate", empty); code != exitUsage || !strings.Contains(stderr, "is empty") {
		t.Errorf("empty file: exit %d, stderr %q; want 2: the file is empty", code, stderr)
	}
}
