package icmp

import (
	"errors"

	"golang.org/x/sys/windows"
)

var errRawForbidden = errors.New("this test forbids the raw socket")

// underWine says whether this test binary runs under Wine (ntdll exports wine_get_version), where
// some APIs are missing: docs/install.md lists what is verified on real Windows only.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
