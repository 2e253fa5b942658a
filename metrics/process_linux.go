package metrics

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
)

// processFamilies are the process_* series as client_golang's process collector had them on
// Linux, read from /proc/self. A file that cannot be read leaves its series out, as the collector
// did (it did not report errors).
func processFamilies() []Family {
	var out []Family
	one := func(name, typ, help string, v float64) {
		out = append(out, Family{Name: name, Help: help, Type: typ, Samples: []Sample{{Name: name, Value: v}}})
	}
	if f, ok := procStatFields(); ok {
		utime, _ := strconv.ParseUint(f[11], 10, 64)
		stime, _ := strconv.ParseUint(f[12], 10, 64)
		vsize, _ := strconv.ParseUint(f[20], 10, 64)
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		one("process_cpu_seconds_total", typeCounter, "Total user and system CPU time spent in seconds.", float64(utime+stime)/userHZ)
		one("process_virtual_memory_bytes", typeGauge, "Virtual memory size in bytes.", float64(vsize))
		one("process_resident_memory_bytes", typeGauge, "Resident memory size in bytes.", float64(rss*int64(os.Getpagesize())))
		if st, ok := startTime(f[19]); ok {
			one("process_start_time_seconds", typeGauge, "Start time of the process since unix epoch in seconds.", st)
		}
	}
	if n, ok := openFDs(); ok {
		one("process_open_fds", typeGauge, "Number of open file descriptors.", float64(n))
	}
	if b, err := os.ReadFile("/proc/self/limits"); err == nil {
		one("process_max_fds", typeGauge, "Maximum number of open file descriptors.", softLimit(b, "Max open files"))
		one("process_virtual_memory_max_bytes", typeGauge, "Maximum amount of virtual memory available in bytes.", softLimit(b, "Max address space"))
	}
	if b, err := os.ReadFile("/proc/self/net/netstat"); err == nil {
		in, out2 := ipExtOctets(b)
		one("process_network_receive_bytes_total", typeCounter, "Number of bytes received by the process over the network.", in)
		one("process_network_transmit_bytes_total", typeCounter, "Number of bytes sent by the process over the network.", out2)
	}
	return out
}

// openFDs counts the open file descriptors: since Linux 6.2 the size of /proc/self/fd says it
// (as procfs reads it), before that the directory is listed.
func openFDs() (int, bool) {
	if fi, err := os.Stat("/proc/self/fd"); err == nil && fi.Size() > 0 {
		return int(fi.Size()), true
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	// The directory's own descriptor is in the listing: leave it out.
	return len(names) - 1, err == nil
}

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, 100 on every Linux Go runs on).
const userHZ = 100

// procStatFields returns the fields of /proc/self/stat after the command name: [0] is field 3.
func procStatFields() ([]string, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(b[i+1:]))
	return f, len(f) >= 22
}

var bootTime = sync.OnceValues(func() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return float64(t), err == nil
		}
	}
	return 0, false
})

// startTime is the boot time plus the process's start (in ticks since boot).
func startTime(ticks string) (float64, bool) {
	bt, ok := bootTime()
	t, err := strconv.ParseUint(ticks, 10, 64)
	return bt + float64(t)/userHZ, ok && err == nil
}

// softLimit reads a soft limit from /proc/self/limits; "unlimited" is the largest uint64, as
// procfs gave it.
func softLimit(limits []byte, name string) float64 {
	for _, line := range strings.Split(string(limits), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		if f[0] == "unlimited" {
			return float64(^uint64(0))
		}
		v, _ := strconv.ParseUint(f[0], 10, 64)
		return float64(v)
	}
	return 0
}

// ipExtOctets reads InOctets and OutOctets of the IpExt lines of /proc/self/net/netstat (a header
// line of names, then one of values).
func ipExtOctets(netstat []byte) (in, out float64) {
	lines := strings.Split(string(netstat), "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, ok1 := strings.CutPrefix(lines[i], "IpExt:")
		values, ok2 := strings.CutPrefix(lines[i+1], "IpExt:")
		if !ok1 || !ok2 {
			continue
		}
		nf, vf := strings.Fields(names), strings.Fields(values)
		for j := range min(len(nf), len(vf)) {
			v, _ := strconv.ParseFloat(vf[j], 64)
			switch nf[j] {
			case "InOctets":
				in = v
			case "OutOctets":
				out = v
			}
		}
		return in, out
	}
	return 0, 0
}
