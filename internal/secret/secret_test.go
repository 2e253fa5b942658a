package secret

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, text string
		mode       os.FileMode
		want       string
		err        string // a substring of the error; "" = none
		warn       bool
	}{
		{"key", "s3cret\n", 0o600, "s3cret", "", false},
		{"spaces", "s3cret \t\r\n", 0o600, "s3cret", "", false},
		{"empty", "\n", 0o600, "", "is empty", false},
		{"lines", "one\ntwo\n", 0o600, "", "more than one line", false},
		{"big", strings.Repeat("k", maxSecretBytes+1), 0o600, "", "larger than", false},
		{"open", "s3cret", 0o644, "s3cret", "", runtime.GOOS != "windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, warn, err := ReadFile(write(tc.name, tc.text, tc.mode))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v; want an error with %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "two") {
					t.Errorf("error quotes the content: %v", err)
				}
				return
			}
			if err != nil || got != tc.want || (warn != "") != tc.warn {
				t.Errorf("got %q, warning %q, %v; want %q, warning %v", got, warn, err, tc.want, tc.warn)
			}
		})
	}
	if _, _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: got no error")
	}
}

func writeFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
