package jsonl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/record"
)

func TestWriteLines(t *testing.T) {
	var out bytes.Buffer
	s, err := New("jsonl", "-", &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`{"id":"a:1"}`, `{"id":"a:2"}`} {
		if err := s.Write(record.Record{}, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out.String(), "{\"id\":\"a:1\"}\n{\"id\":\"a:2\"}\n"; got != want {
		t.Errorf("stdout: got %q; want %q", got, want)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Errorf("close of stdout sink: %v", err)
	}
}

func TestFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")
	if err := os.WriteFile(path, []byte("{\"old\":1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New("file", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(record.Record{}, []byte(`{"new":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if got, want := string(b), "{\"old\":1}\n{\"new\":1}\n"; got != want {
		t.Errorf("file: got %q; want the old line kept and the new one appended", got)
	}
	if _, err := New("bad", filepath.Join(t.TempDir(), "missing", "x.jsonl"), nil); err == nil || !strings.Contains(err.Error(), "jsonl sink bad") {
		t.Errorf("unwritable path: got %v; want an error naming the sink", err)
	}
}
