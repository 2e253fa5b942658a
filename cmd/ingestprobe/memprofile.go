//go:build memprofile

// A measuring aid, not part of the product: built only with `-tags memprofile`. With
// INGESTPROBE_MEMPROFILE_DIR set, the process writes, every 10 s and at most 60 times, the
// runtime's memory classes, GC settings and CPU with /proc/self/status's RSS split (mem-NN.txt) and
// the goroutines (goroutines-NN.txt) into that directory and, unless INGESTPROBE_MEMPROFILE_HEAP=0,
// a pprof heap profile (heap-NN.pprof; sampling every 4 KiB, whose buckets add about 2 MB of RSS).
// The agent of the benchmark's footprint phase inherits the harness's environment:
//
//	CGO_ENABLED=0 go build -tags memprofile -trimpath -ldflags '-s -w' -o /tmp/ip ./cmd/ingestprobe
//	INGESTPROBE_MEMPROFILE_DIR=/tmp/prof ./bin/ipbench -bin /tmp/ip -phases footprint -no-blackbox
//	go tool pprof -sample_index=alloc_space -top -base /tmp/prof/heap-01.pprof /tmp/prof/heap-06.pprof
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"time"
)

const (
	memProfileEvery = 10 * time.Second
	memProfileMax   = 60
)

func init() {
	dir := os.Getenv("INGESTPROBE_MEMPROFILE_DIR")
	if dir == "" {
		return
	}
	heap := os.Getenv("INGESTPROBE_MEMPROFILE_HEAP") != "0"
	if heap {
		runtime.MemProfileRate = 4096 // finer than the default 512 KiB: the heap here is a few MB
	} else {
		runtime.MemProfileRate = 0 // as in the release build, where the linker turns profiling off
	}
	go func() {
		for i := range memProfileMax {
			time.Sleep(memProfileEvery)
			if err := writeMemProfile(dir, i, heap); err != nil {
				fmt.Fprintln(os.Stderr, "memprofile:", err)
				return
			}
		}
	}()
}

func writeMemProfile(dir string, i int, heap bool) error {
	if heap {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%02d.pprof", i)))
		if err != nil {
			return err
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if g, err := os.Create(filepath.Join(dir, fmt.Sprintf("goroutines-%02d.txt", i))); err == nil {
		pprof.Lookup("goroutine").WriteTo(g, 1)
		g.Close()
	}
	var b strings.Builder
	descs := metrics.All()
	samples := make([]metrics.Sample, 0, len(descs))
	for _, d := range descs {
		if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/heap/goal") ||
			strings.HasPrefix(d.Name, "/gc/heap/live") || strings.HasPrefix(d.Name, "/gc/heap/allocs:bytes") ||
			strings.HasPrefix(d.Name, "/gc/cycles/total") || strings.HasPrefix(d.Name, "/sched/goroutines") || strings.HasPrefix(d.Name, "/gc/stack/") || strings.HasPrefix(d.Name, "/gc/gogc") || strings.HasPrefix(d.Name, "/gc/gomemlimit") ||
			strings.HasPrefix(d.Name, "/cpu/classes/gc/total") || strings.HasPrefix(d.Name, "/cpu/classes/total") {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(&b, "%-50s %10.3f MB  (%d)\n", s.Name, float64(s.Value.Uint64())/(1<<20), s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(&b, "%-50s %10.3f\n", s.Name, s.Value.Float64())
		}
	}
	status, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "Vm") || strings.HasPrefix(line, "Rss") || strings.HasPrefix(line, "Threads") {
				b.WriteString(line + "\n")
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("mem-%02d.txt", i)), []byte(b.String()), 0o644)
}
