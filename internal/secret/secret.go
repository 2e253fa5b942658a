// Package secret reads secrets — signing keys, collector tokens — from files, so that a config
// can be world-readable while the keys are not. It is a leaf: config, the sinks and the command
// share one reader, one size bound and one warning about files every user may read.
package secret

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// maxSecretBytes bounds a secret file: a key or a token is a line, not a file of data.
const maxSecretBytes = 16 << 10

// ReadFile reads a secret (a signing key, a token) from a file: one line, the trailing newline
// and spaces trimmed — editors and `echo` add one, and a key with a newline signs every URL wrong.
// warning is set, naming the file but not its content, when any user may read it. Errors never
// quote the content.
func ReadFile(path string) (secret, warning string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", "", err
	}
	s := strings.TrimRight(string(b), " \t\r\n")
	switch {
	case len(b) > maxSecretBytes:
		return "", "", fmt.Errorf("%s is larger than %d bytes; it should hold one line", path, maxSecretBytes)
	case s == "":
		return "", "", fmt.Errorf("%s is empty", path)
	case strings.ContainsAny(s, "\r\n"):
		return "", "", fmt.Errorf("%s holds more than one line; want the key alone", path)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o004 != 0 {
			warning = fmt.Sprintf("%s is readable by every user of this host (mode %04o): chmod 600 it, owned by the user ingestprobe runs as", path, fi.Mode().Perm())
		}
	}
	return s, warning, nil
}
