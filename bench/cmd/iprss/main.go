// Command iprss measures the steady RSS of one or more ingestprobe binaries as the footprint phase
// of ipbench does (docs/performance.md §2: 50 targets every 10 s, jsonl + prometheus + http +
// remote_write, /metrics scraped every 10 s, /proc sampled every second, the median of the second
// half of the window), in rounds, so that build variants are compared in one world and at the
// same time of day. After each run it also reads the binary's mappings from /proc/<pid>/smaps:
// how much of the text (r-x), the read-only data and function tables (r--) and the data (rw-)
// is resident.
//
//	go build -o bin/iprss ./bench/cmd/iprss
//	./bin/iprss -rounds 3 base=bin/ingestprobe nopromclient=/tmp/ingestprobe-x
//
// Variants of a round run one after another (or all at once with -parallel: RSS is per process,
// and the agents use a few per cent of a core each). A variant that needs an environment (GOGC,
// GODEBUG …) is a shell script that execs the binary with it. Traffic goes only to loopback.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ingestprobe/ingestprobe/bench"
)

func main() {
	if bench.IsChild() {
		bench.ChildMain()
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "iprss:", err)
		os.Exit(1)
	}
}

type variant struct{ name, bin string }

// result is one run of one variant.
type result struct {
	anon, file, rss float64 // MB, medians of the second half
	hwm             float64 // MB
	cpuPct          float64
	maps            map[string]float64 // binary mappings by permission, resident MB
	exeSize         int64              // of the executable the process ran (a wrapper script execs it)
}

func run() error {
	rounds := flag.Int("rounds", 3, "runs of every variant")
	dur := flag.Duration("dur", 70*time.Second, "window of each run")
	interval := flag.Duration("interval", 10*time.Second, "probe and scrape interval")
	targets := flag.Int("targets", 50, "targets")
	push := flag.String("push", "http,remote_write", "push sinks besides jsonl and prometheus")
	parallel := flag.Bool("parallel", false, "run the variants of a round at the same time")
	extra := flag.String("target-extra", "", "a line added to every target, e.g. 'icmp = false'")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: iprss [flags] name=binary ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	var vs []variant
	for _, a := range flag.Args() {
		n, b, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("%q: want name=binary", a)
		}
		abs, err := filepath.Abs(b)
		if err != nil {
			return err
		}
		vs = append(vs, variant{n, abs})
	}
	if len(vs) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "iprss-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := bench.NewWorld(ctx, dir, *targets, min(*targets, 50))
	if err != nil {
		return err
	}
	defer w.Close()
	col, err := bench.StartCollector()
	if err != nil {
		return err
	}
	defer col.Close()
	var pushes []string
	if *push != "" {
		pushes = strings.Split(*push, ",")
	}
	fmt.Fprintf(os.Stderr, "iprss: %d targets every %s, %s per run, sinks jsonl,prometheus,%s; load %s\n",
		*targets, *interval, *dur, *push, loadavg())

	all := map[string][]result{}
	var mu sync.Mutex
	for r := range *rounds {
		one := func(i int, v variant) {
			d := filepath.Join(dir, fmt.Sprintf("r%d-%d", r, i))
			res, err := measure(ctx, v, w, col, d, *interval, *dur, pushes, *extra)
			if err != nil {
				fmt.Fprintf(os.Stderr, "iprss: %s round %d: %v\n", v.name, r+1, err)
				return
			}
			fmt.Fprintf(os.Stderr, "iprss: round %d %-14s anon %5.2f file %5.2f rss %5.2f MB (hwm %5.2f, cpu %4.1f%%) text %4.2f ro %4.2f data %4.2f; load %s\n",
				r+1, v.name, res.anon, res.file, res.rss, res.hwm, res.cpuPct, res.maps["r-xp"], res.maps["r--p"], res.maps["rw-p"], loadavg())
			mu.Lock()
			all[v.name] = append(all[v.name], res)
			mu.Unlock()
		}
		if *parallel {
			var wg sync.WaitGroup
			for i, v := range vs {
				wg.Go(func() { one(i, v) })
			}
			wg.Wait()
		} else {
			for i, v := range vs {
				one(i, v)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}

	fmt.Printf("| variant | binary, bytes | anon MB | file MB | total MB | text / ro / data resident MB | runs |\n|---|---|---|---|---|---|---|\n")
	for _, v := range vs {
		rs := all[v.name]
		if len(rs) == 0 {
			continue
		}
		pick := func(f func(result) float64) string {
			var xs []float64
			for _, r := range rs {
				xs = append(xs, f(r))
			}
			return fmt.Sprintf("%.2f (%.2f–%.2f)", bench.Median(xs), slices.Min(xs), slices.Max(xs))
		}
		med := func(f func(result) float64) float64 {
			var xs []float64
			for _, r := range rs {
				xs = append(xs, f(r))
			}
			return bench.Median(xs)
		}
		size := rs[0].exeSize
		fmt.Printf("| %s | %d | %s | %s | %s | %.2f / %.2f / %.2f | %d |\n", v.name, size,
			pick(func(r result) float64 { return r.anon }), pick(func(r result) float64 { return r.file }),
			pick(func(r result) float64 { return r.rss }),
			med(func(r result) float64 { return r.maps["r-xp"] }), med(func(r result) float64 { return r.maps["r--p"] }),
			med(func(r result) float64 { return r.maps["rw-p"] }), len(rs))
	}
	return nil
}

// measure runs one agent for dur and returns its figures.
func measure(ctx context.Context, v variant, w *bench.World, col *bench.Collector, d string, interval, dur time.Duration, push []string, extra string) (result, error) {
	var res result
	if err := os.MkdirAll(filepath.Join(d, "state"), 0o755); err != nil {
		return res, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	listen := ln.Addr().String()
	ln.Close()
	cfg := w.AgentConfig(bench.AgentConfig{Interval: interval, Timeout: min(5*time.Second, interval/2), StateDir: filepath.Join(d, "state"),
		JSONLPath: filepath.Join(d, "records.jsonl"), MetricsListen: listen, Push: push, Collector: col.URL, TargetExtra: extra})
	cfgPath := filepath.Join(d, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return res, err
	}
	metricsURL := "http://" + listen + "/metrics"
	p, err := bench.StartAgent(ctx, v.bin, cfgPath, metricsURL, filepath.Join(d, "agent.log"))
	if err != nil {
		return res, err
	}
	defer p.Stop()
	pid := p.Pid()
	smp := bench.StartSampler(pid, time.Second)
	sctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	t := time.NewTicker(interval)
	for loop := true; loop; {
		select {
		case <-sctx.Done():
			loop = false
		case <-t.C:
			scrape(sctx, metricsURL)
		}
	}
	t.Stop()
	samples, err := smp.Stop()
	if err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	var anon, file, rss []float64
	for _, s := range samples[len(samples)/2:] {
		anon = append(anon, float64(s.Anon)/(1<<20))
		file = append(file, float64(s.File)/(1<<20))
		rss = append(rss, float64(s.RSS)/(1<<20))
	}
	first, last := samples[0], samples[len(samples)-1]
	res.anon, res.file, res.rss = bench.Median(anon), bench.Median(file), bench.Median(rss)
	res.hwm = float64(last.HWM) / (1 << 20)
	if wall := last.At.Sub(first.At).Seconds(); wall > 0 {
		res.cpuPct = 100 * (last.CPU - first.CPU).Seconds() / wall
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if fi, err := os.Stat(exe); err == nil {
		res.exeSize = fi.Size()
	}
	res.maps, err = binaryMaps(pid, exe)
	if err != nil {
		return res, err
	}
	return res, nil
}

func scrape(ctx context.Context, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	req.Header.Set("Accept-Encoding", "gzip") // as Prometheus asks
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// binaryMaps sums the resident size of the mappings of exe in /proc/pid/smaps by permission
// (r-xp text, r--p read-only data and tables, rw-p data), in MB.
func binaryMaps(pid int, exe string) (map[string]float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]float64{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			cur = ""
			if len(fields) >= 6 && fields[5] == exe {
				cur = fields[1]
			}
			continue
		}
		if cur != "" && len(fields) == 3 && fields[0] == "Rss:" {
			kb, _ := strconv.ParseFloat(fields[1], 64)
			out[cur] += kb / 1024
		}
	}
	return out, sc.Err()
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
