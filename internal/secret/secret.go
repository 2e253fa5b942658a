// Package secret reads secrets — signing keys, collector tokens — from files, so that a config
// can be world-readable while the keys are not. It is a leaf: config, the sinks and the command
// share one reader, one size bound and one warning about files every user may read.
package secret

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// maxSecretBytes bounds a secret file: a key or a token is a line, not a file of data.
const maxSecretBytes = 16 << 10

// ReadFile reads a secret (a signing key, a token) from a file: one line, the trailing newline
// and spaces trimmed — editors and `echo` add one, and a key with a newline signs every URL wrong.
// warning is set, naming the file but not its content, when any user may read it. Errors never
// quote the content.
func ReadFile(path string) (secret, warning string, err error) {
	b, err := ReadRegular(path, maxSecretBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return "", "", fmt.Errorf("%s is larger than %d bytes; it should hold one line", path, maxSecretBytes)
		}
		return "", "", err
	}
	s := strings.TrimRight(string(b), " \t\r\n")
	switch {
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

// ReadDeadline bounds a read of ReadRegular where the system can time it out (a file it can poll).
const ReadDeadline = 2 * time.Second

var errTooLarge = errors.New("too large")

// ReadRegular reads a whole file of at most max bytes — a secret, a CA bundle — and refuses
// anything but a regular file before reading it: opening a named pipe for reading waits for a
// writer for ever, and /dev/zero never ends. The file is opened without blocking and checked
// again once open (it may have been swapped), and its read has a deadline of ReadDeadline where
// the system supports one. Errors name the file, never its content.
func ReadRegular(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	_ = f.SetReadDeadline(time.Now().Add(ReadDeadline)) // os.ErrNoDeadline for a plain disk file
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", path, max, errTooLarge)
	}
	return b, nil
}

// regular says what fi is when it is not a regular file.
func regular(path string, fi os.FileInfo) error {
	m := fi.Mode()
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		what = "a directory"
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		what = "a socket"
	case m&os.ModeDevice != 0:
		what = "a device"
	default:
		what = "a special file"
	}
	return fmt.Errorf("%s is %s, not a regular file", path, what)
}
