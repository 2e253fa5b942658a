//go:build linux

package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the network namespace ns: sockets fn opens are
// opened there. fn must open its sockets itself, not in goroutines it starts (those run on other
// threads, in the host's namespace).
func (l *Lab) Do(ns string, fn func() error) error {
	f, err := os.Open(filepath.Join(netnsDir, ns))
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	defer f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: setns %s: %w", ns, err)
			return
		}
		err = fn()
		// Back to the thread's own namespace before it serves other goroutines. Should that
		// fail, the thread stays locked and the runtime ends it with this goroutine. (Merely
		// never unlocking is not enough: on the process's main thread the runtime cannot end
		// the thread, and the whole process would then look as if it lived in ns.)
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// namespacePIDs lists the processes whose network namespace is ns, the way `ip netns pids` does:
// by comparing the namespace's inode with each /proc/<pid>/ns/net.
func namespacePIDs(ns string) ([]int, error) {
	var want syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsDir, ns), &want); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", e.Name(), "ns", "net"), &st) != nil {
			continue // gone, or a zombie: it holds no namespace any more
		}
		if st.Dev == want.Dev && st.Ino == want.Ino {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// killNamespace kills, by PID, every process left in ns, and waits (bounded) until none is left:
// a namespace with a live process in it outlives `ip netns delete`.
func killNamespace(ns string) error {
	deadline := time.Now().Add(stopGrace)
	for {
		pids, err := namespacePIDs(ns)
		if err != nil {
			return err
		}
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == os.Getpid() })
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: processes %v still in %s after SIGKILL", pids, ns)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("lab: kill %d in %s: %w", pid, ns, err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procStart is the start time of pid in clock ticks since boot (field 22 of /proc/<pid>/stat).
// With the PID it names a process uniquely: a reused PID has another start time.
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: count fields after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("lab: /proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("lab: /proc/%d/stat: malformed", pid)
	}
	if f[0] == "Z" {
		return 0, fmt.Errorf("lab: process %d is a zombie", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive says the process pid that started at start is still running.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := procStart(pid)
	return err == nil && st == start
}
