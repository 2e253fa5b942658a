//go:build unix

package packaging

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

func ownerOf(t *testing.T, p string) (uid, gid string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return strconv.Itoa(int(st.Uid)), strconv.Itoa(int(st.Gid)), fi.Mode()
}
