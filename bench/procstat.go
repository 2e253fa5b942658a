package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go runs on (the kernel converts to it for userspace whatever its own HZ is).
const clockTicks = 100

// ProcSample is what /proc says about a process at one moment.
type ProcSample struct {
	At  time.Time
	CPU time.Duration // utime + stime of all threads
	RSS int64         // VmRSS, bytes
	HWM int64         // VmHWM (peak RSS so far), bytes
	// RSS split: anonymous (heap, stacks, runtime) and file-backed (the binary's own pages, shared
	// with the page cache).
	Anon, File int64
	Threads    int // OS threads (Threads: in /proc/<pid>/status)
}

// parseStatCPU reads fields 14 (utime) and 15 (stime). The command name (field 2) may contain
// spaces and parentheses, so fields are counted from its closing ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 { // f[0] is field 3
		return 0, fmt.Errorf("%d fields after the name; want at least 13", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseStatusMem reads the "kB" lines of /proc/<pid>/status (VmRSS, VmHWM, RssAnon …) as bytes.
func parseStatusMem(status string) map[string]int64 {
	m := map[string]int64{}
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 10, 64); err == nil {
			m[k] = kb << 10
		}
	}
	return m
}

// parseStatusThreads reads the "Threads:" line of /proc/<pid>/status; 0 when absent.
func parseStatusThreads(status string) int {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// Sampler reads a process's /proc figures every period until stopped.
type Sampler struct {
	pid     int
	mu      sync.Mutex
	samples []ProcSample
	err     error
	stop    context.CancelFunc
	done    chan struct{}
}

// StartSampler samples pid at once and then every period.
func StartSampler(pid int, period time.Duration) *Sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sampler{pid: pid, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *Sampler) sample() {
	p, err := ReadProc(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.samples = append(s.samples, p)
}

// Stop takes a last sample (while the process still runs) and returns all of them.
func (s *Sampler) Stop() ([]ProcSample, error) {
	s.stop()
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return nil, fmt.Errorf("no sample of pid %d: %v", s.pid, s.err)
	}
	return slices.Clone(s.samples), nil
}

// Footprint is memory and CPU of one process over a measured window.
type Footprint struct {
	IdleRSSMB   float64 `json:"idle_rss_mb"`   // before any probe
	SteadyRSSMB float64 `json:"steady_rss_mb"` // median VmRSS over the second half of the window
	// SteadyAnonMB and SteadyFileMB split SteadyRSSMB (medians of RssAnon and RssFile).
	SteadyAnonMB float64 `json:"steady_anon_mb"`
	SteadyFileMB float64 `json:"steady_file_mb"`
	PeakRSSMB    float64 `json:"peak_rss_mb"` // VmHWM at the end
	CPUSeconds   float64 `json:"cpu_seconds"` // utime+stime used in the window
	WallSeconds  float64 `json:"wall_seconds"`
	Probes       int     `json:"probes"` // probes completed in the window
	// CPUPerProbeMS is CPUSeconds/Probes in milliseconds; CPUPercent is of one core.
	CPUPerProbeMS float64 `json:"cpu_per_probe_ms"`
	CPUPercent    float64 `json:"cpu_percent"`
	MaxThreads    int     `json:"max_threads"` // the most OS threads seen in a sample
}

const mb = 1 << 20

// footprintOf computes a Footprint from the samples of a window (first = its start) and the
// process's idle RSS.
func footprintOf(idleRSS int64, samples []ProcSample, probes int) Footprint {
	first, last := samples[0], samples[len(samples)-1]
	var rss, anon, file []float64
	for _, s := range samples[len(samples)/2:] {
		rss = append(rss, float64(s.RSS))
		anon = append(anon, float64(s.Anon))
		file = append(file, float64(s.File))
	}
	f := Footprint{
		IdleRSSMB:    float64(idleRSS) / mb,
		SteadyRSSMB:  Median(rss) / mb,
		SteadyAnonMB: Median(anon) / mb,
		SteadyFileMB: Median(file) / mb,
		PeakRSSMB:    float64(last.HWM) / mb,
		CPUSeconds:   (last.CPU - first.CPU).Seconds(),
		WallSeconds:  last.At.Sub(first.At).Seconds(),
		Probes:       probes,
	}
	for _, s := range samples {
		f.MaxThreads = max(f.MaxThreads, s.Threads)
	}
	if probes > 0 {
		f.CPUPerProbeMS = f.CPUSeconds * 1000 / float64(probes)
	}
	if f.WallSeconds > 0 {
		f.CPUPercent = 100 * f.CPUSeconds / f.WallSeconds
	}
	return f
}
