//go:build unix

package neterr

import (
	"syscall"
	"testing"
)

// checkHostTable: on a Unix host every number in tbl is the syscall constant of its name, and every
// name of the set has that number.
func checkHostTable(t *testing.T, tbl table) {
	t.Helper()
	if host.goos != tbl.goos {
		t.Fatalf("host table is %s; want %s", host.goos, tbl.goos)
	}
	for e, n := range tbl.names {
		if posixErrno[n] != syscall.Errno(e) {
			t.Errorf("%s: %s is %d in the table, %d in syscall", tbl.goos, n, e, posixErrno[n])
		}
	}
	if len(tbl.names) != len(posixErrno) {
		t.Errorf("%s: %d numbers; want %d", tbl.goos, len(tbl.names), len(posixErrno))
	}
}
