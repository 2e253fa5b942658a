//go:build unix

package secret

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without waiting: a FIFO opens at once (and is refused
// by the caller) instead of waiting for a writer.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
