package capool

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v; want not-exist", err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(junk); !errors.Is(err, ErrNoCertificate) || err.Error() != junk+" holds no PEM certificate" {
		t.Errorf("junk file: got %v; want %q", err, junk+" holds no PEM certificate")
	}
}
