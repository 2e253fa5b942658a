//go:build linux

package bench

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// ReadProc reads utime+stime from /proc/<pid>/stat and VmRSS, VmHWM from /proc/<pid>/status.
func ReadProc(pid int) (ProcSample, error) {
	s := ProcSample{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.CPU, err = parseStatCPU(string(stat)); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	m := parseStatusMem(string(status))
	s.RSS, s.HWM, s.Anon, s.File = m["VmRSS"], m["VmHWM"], m["RssAnon"], m["RssFile"]
	s.Threads = parseStatusThreads(string(status))
	return s, nil
}

// dieWithHarness makes a child the harness starts (the agent, blackbox_exporter) receive SIGKILL
// when the harness dies, so a harness killed with SIGKILL leaves them not running. (The signal
// follows the thread that started the child; Go does not end its threads while the process runs.
// dnsmasq does not get it: the kernel clears it when dnsmasq drops to user nobody.)
func dieWithHarness() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
