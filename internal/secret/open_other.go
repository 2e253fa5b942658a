//go:build !unix

package secret

import "os"

// openNonBlocking opens path for reading; the caller has checked it is a regular file.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
