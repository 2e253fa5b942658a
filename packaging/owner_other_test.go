//go:build !unix

package packaging

import (
	"os"
	"testing"
)

// ownerOf: file owners are uid/gid only on Unix; TestIntegrationPackage (a Debian root) runs on Linux.
func ownerOf(t *testing.T, p string) (uid, gid string, mode os.FileMode) {
	t.Helper()
	t.Skip("packaging: file owners (uid/gid) exist only on Unix")
	return "", "", 0
}
