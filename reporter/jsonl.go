package reporter

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ingestprobe/ingestprobe/record"
)

// JSONL writes one record per line to stdout or a file: the sink of `run` out of the box, and the
// simplest way into any log shipper.
type JSONL struct {
	name string
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // nil for stdout
}

// NewJSONL opens path for appending; "-" or "" is out (stdout).
func NewJSONL(name, path string, out io.Writer) (*JSONL, error) {
	if path == "" || path == "-" {
		return &JSONL{name: name, w: out}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("jsonl sink %s: %w", name, err)
	}
	return &JSONL{name: name, w: f, f: f}, nil
}

// Name of the sink.
func (j *JSONL) Name() string { return j.name }

// Write appends the line. One write call per line keeps lines whole when several processes append.
func (j *JSONL) Write(_ record.Record, payload []byte) error {
	line := make([]byte, 0, len(payload)+1)
	line = append(append(line, payload...), '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := j.w.Write(line)
	return err
}

// Close closes the file.
func (j *JSONL) Close(context.Context) error {
	if j.f != nil {
		return j.f.Close()
	}
	return nil
}
