// Package jsonl writes each record as one line of JSON to stdout or to a file: the sink of `run`
// with no sink configured, and of scripts that tail a file.
package jsonl

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ingestprobe/ingestprobe/record"
)

// Sink writes one record per line to stdout or a file: the sink of `run` out of the box, and the
// simplest way into any log shipper.
type Sink struct {
	name string
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // nil for stdout
}

// New opens path for appending; "-" or "" is out (stdout).
func New(name, path string, out io.Writer) (*Sink, error) {
	if path == "" || path == "-" {
		return &Sink{name: name, w: out}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("jsonl sink %s: %w", name, err)
	}
	return &Sink{name: name, w: f, f: f}, nil
}

// Name of the sink.
func (j *Sink) Name() string { return j.name }

// Write appends the line. One write call per line keeps lines whole when several processes append.
func (j *Sink) Write(_ record.Record, payload []byte) error {
	line := make([]byte, 0, len(payload)+1)
	line = append(append(line, payload...), '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := j.w.Write(line)
	return err
}

// Close closes the file.
func (j *Sink) Close(context.Context) error {
	if j.f != nil {
		return j.f.Close()
	}
	return nil
}
