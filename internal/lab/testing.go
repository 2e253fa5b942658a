//go:build linux

package lab

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// setupTimeout bounds building a lab in a test; it normally takes well under a second.
const setupTimeout = 30 * time.Second

// Start builds a lab for t and removes it when t ends, even when t fails. It skips t, with the
// reason, when this host cannot build one: not root, lacking CAP_NET_ADMIN or CAP_SYS_ADMIN, or
// missing ip, nft, dnsmasq or nginx. Leftover labs of earlier, dead runs are removed first.
func Start(t testing.TB, opts Options) *Lab {
	t.Helper()
	SkipIfCannotRun(t)
	if removed, err := Sweep(time.Now(), false); err != nil {
		t.Logf("lab: removing leftover labs: %v", err)
	} else if len(removed) > 0 {
		t.Logf("lab: removed leftover labs %v", removed)
	}
	if opts.Log == nil {
		opts.Log = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	l, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv(EnvKeep) == "1" {
			l.opts.Log = nil // t.Logf must not be called once the test is over
			if err := l.Keep(); err != nil {
				t.Errorf("lab: keep: %v", err)
			}
			t.Logf("%s=1: %s", EnvKeep, l.EnterHint())
			return
		}
		l.opts.Log = nil
		if err := l.Close(); err != nil {
			t.Errorf("lab: cleanup: %v", err)
		}
	})
	return l
}

// SkipIfCannotRun skips t, with the reason, when this host cannot build a lab — or fails it when
// INGESTPROBE_LAB_REQUIRED=1.
func SkipIfCannotRun(t testing.TB) {
	t.Helper()
	if reason := CannotRun(); reason != "" {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatalf("%s (and %s=1 says the lab must run here)", reason, EnvRequired)
		}
		t.Skip(reason)
	}
}

// CannotRun says why this host cannot build a lab, or "" when it can.
func CannotRun() string {
	if os.Geteuid() != 0 {
		return "integration: needs root (CAP_NET_ADMIN) for network namespaces"
	}
	if !hasCaps(capNetAdmin, capSysAdmin) {
		return "integration: needs CAP_NET_ADMIN and CAP_SYS_ADMIN for network namespaces (a restricted container?)"
	}
	if _, err := FindTools(); err != nil {
		return "integration: " + strings.TrimPrefix(err.Error(), "lab: ")
	}
	return ""
}

const (
	capNetAdmin = 12
	capSysAdmin = 21
)

// hasCaps reads the effective capabilities of this process from /proc/self/status.
func hasCaps(caps ...uint) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		hex, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return false
		}
		for _, c := range caps {
			if v&(1<<c) == 0 {
				return false
			}
		}
		return true
	}
	return false
}
