package metrics

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// goMetrics are the Go runtime's series, named and described as client_golang's default Go
// collector had them (go_goroutines, go_memstats_*, go_gc_duration_seconds …), so that
// dashboards and rules written for it keep working. The memstats-like values are computed from
// runtime/metrics the same way, without stopping the world.
type goMetrics struct {
	mu      sync.Mutex
	samples []metrics.Sample
	index   map[string]int
	// help of the three series taken as they are from runtime/metrics (their description, and the
	// name they come from, as client_golang wrote it).
	rmHelp map[string]string
}

// runtime/metrics read for the memstats-like series and the three direct ones.
var goRuntimeMetrics = []string{
	"/gc/heap/tiny/allocs:objects", "/gc/heap/allocs:objects", "/gc/heap/frees:objects", "/gc/heap/allocs:bytes",
	"/memory/classes/total:bytes", "/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/released:bytes", "/memory/classes/heap/free:bytes", "/gc/heap/objects:objects",
	"/memory/classes/heap/stacks:bytes", "/memory/classes/os-stacks:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes", "/memory/classes/metadata/mspan/free:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes", "/memory/classes/metadata/mcache/free:bytes",
	"/memory/classes/profiling/buckets:bytes", "/memory/classes/metadata/other:bytes", "/memory/classes/other:bytes",
	"/gc/heap/goal:bytes",
	"/gc/gogc:percent", "/gc/gomemlimit:bytes", "/sched/gomaxprocs:threads",
}

// goDirect are the runtime/metrics exposed under their own (converted) names.
var goDirect = []struct{ rm, name string }{
	{"/gc/gogc:percent", "go_gc_gogc_percent"},
	{"/gc/gomemlimit:bytes", "go_gc_gomemlimit_bytes"},
	{"/sched/gomaxprocs:threads", "go_sched_gomaxprocs_threads"},
}

func newGoMetrics() *goMetrics {
	g := &goMetrics{index: map[string]int{}, rmHelp: map[string]string{}}
	for _, n := range goRuntimeMetrics {
		g.index[n] = len(g.samples)
		g.samples = append(g.samples, metrics.Sample{Name: n})
	}
	for _, d := range metrics.All() {
		for _, x := range goDirect {
			if d.Name == x.rm {
				g.rmHelp[x.rm] = d.Description + " Sourced from " + d.Name + "."
			}
		}
	}
	return g
}

func (g *goMetrics) u(name string) uint64 {
	if v := g.samples[g.index[name]].Value; v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}

// families reads the runtime and returns the series.
func (g *goMetrics) families() []Family {
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	threads, _ := runtime.ThreadCreateProfile(nil)

	g.mu.Lock()
	defer g.mu.Unlock()
	metrics.Read(g.samples)
	u := g.u
	tiny := u("/gc/heap/tiny/allocs:objects")
	heapAlloc := u("/memory/classes/heap/objects:bytes")
	heapInuse := heapAlloc + u("/memory/classes/heap/unused:bytes")
	heapReleased := u("/memory/classes/heap/released:bytes")
	heapIdle := heapReleased + u("/memory/classes/heap/free:bytes")
	stackInuse := u("/memory/classes/heap/stacks:bytes")
	mspanInuse := u("/memory/classes/metadata/mspan/inuse:bytes")
	mcacheInuse := u("/memory/classes/metadata/mcache/inuse:bytes")

	var out []Family
	one := func(name, typ, help string, v float64, labels ...Label) {
		out = append(out, Family{Name: name, Help: help, Type: typ, Samples: []Sample{{Name: name, Labels: labels, Value: v}}})
	}
	ms := func(name, typ, help string, v uint64) { one("go_memstats_"+name, typ, help, float64(v)) }

	one("go_goroutines", typeGauge, "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	one("go_threads", typeGauge, "Number of OS threads created.", float64(threads))
	sum := Family{Name: "go_gc_duration_seconds", Type: typeSummary,
		Help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."}
	for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		sum.Samples = append(sum.Samples, Sample{Name: sum.Name, Labels: []Label{{"quantile", q}}, Value: gc.PauseQuantiles[i].Seconds()})
	}
	sum.Samples = append(sum.Samples, Sample{Name: sum.Name + "_sum", Value: gc.PauseTotal.Seconds()},
		Sample{Name: sum.Name + "_count", Value: float64(gc.NumGC)})
	out = append(out, sum)
	one("go_memstats_last_gc_time_seconds", typeGauge, "Number of seconds since 1970 of last garbage collection.", float64(gc.LastGC.UnixNano())/1e9)
	one("go_info", typeGauge, "Information about the Go environment.", 1, Label{"version", runtime.Version()})

	ms("alloc_bytes", typeGauge, "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", heapAlloc)
	ms("alloc_bytes_total", typeCounter, "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", u("/gc/heap/allocs:bytes"))
	ms("sys_bytes", typeGauge, "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", u("/memory/classes/total:bytes"))
	ms("mallocs_total", typeCounter, "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", u("/gc/heap/allocs:objects")+tiny)
	ms("frees_total", typeCounter, "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", u("/gc/heap/frees:objects")+tiny)
	ms("heap_alloc_bytes", typeGauge, "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", heapAlloc)
	ms("heap_sys_bytes", typeGauge, "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", heapInuse+heapIdle)
	ms("heap_idle_bytes", typeGauge, "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", heapIdle)
	ms("heap_inuse_bytes", typeGauge, "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", heapInuse)
	ms("heap_released_bytes", typeGauge, "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", heapReleased)
	ms("heap_objects", typeGauge, "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", u("/gc/heap/objects:objects"))
	ms("stack_inuse_bytes", typeGauge, "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", stackInuse)
	ms("stack_sys_bytes", typeGauge, "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", stackInuse+u("/memory/classes/os-stacks:bytes"))
	ms("mspan_inuse_bytes", typeGauge, "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", mspanInuse)
	ms("mspan_sys_bytes", typeGauge, "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", mspanInuse+u("/memory/classes/metadata/mspan/free:bytes"))
	ms("mcache_inuse_bytes", typeGauge, "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", mcacheInuse)
	ms("mcache_sys_bytes", typeGauge, "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", mcacheInuse+u("/memory/classes/metadata/mcache/free:bytes"))
	ms("buck_hash_sys_bytes", typeGauge, "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", u("/memory/classes/profiling/buckets:bytes"))
	ms("gc_sys_bytes", typeGauge, "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", u("/memory/classes/metadata/other:bytes"))
	ms("other_sys_bytes", typeGauge, "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", u("/memory/classes/other:bytes"))
	ms("next_gc_bytes", typeGauge, "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", u("/gc/heap/goal:bytes"))
	for _, x := range goDirect {
		if h, ok := g.rmHelp[x.rm]; ok {
			one(x.name, typeGauge, h, float64(u(x.rm)))
		}
	}
	return out
}
