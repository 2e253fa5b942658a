package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// SpoolFigures are read from the spool package's own benchmarks (spool/
// bench_test.go), run as they are: 300-byte results, 100 000 of them for replay and recovery.
type SpoolFigures struct {
	AppendPerS      map[string]float64 `json:"append_results_per_s"` // by sync policy
	ReplayPerS      map[string]float64 `json:"replay_results_per_s"` // by sync policy
	RecoveryMS      float64            `json:"recovery_ms"`          // reopen of 100k results after kill -9
	RecoveryRecords float64            `json:"recovery_records_per_s"`
	Command         string             `json:"command"`
}

// MeasureSpool runs the spool benchmarks with `go test` in repo (the module root).
func MeasureSpool(ctx context.Context, goBin, repo, benchtime string) (SpoolFigures, error) {
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkSpool(Append|Replay|Recovery)$", "-benchtime", benchtime, "-count", "1", "./spool/"}
	out := SpoolFigures{AppendPerS: map[string]float64{}, ReplayPerS: map[string]float64{},
		Command: "go " + strings.Join(args, " ")}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = filepath.Clean(repo)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("spool benchmarks: %w: %s", err, tail(string(b), 800))
	}
	if err := parseSpoolBench(string(b), &out); err != nil {
		return out, err
	}
	return out, nil
}

// parseSpoolBench reads lines like
//
//	BenchmarkSpoolAppend/interval-2   123456   9000 ns/op   33.3 MB/s   111111 results/s
//	BenchmarkSpoolRecovery-2          50       30000000 ns/op   25.0 ms/reopen   4000000 records/s
func parseSpoolBench(text string, out *SpoolFigures) error {
	if out.AppendPerS == nil {
		out.AppendPerS = map[string]float64{}
	}
	if out.ReplayPerS == nil {
		out.ReplayPerS = map[string]float64{}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	found := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasPrefix(f[0], "BenchmarkSpool") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		metric := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				metric[f[i+1]] = v
			}
		}
		bench, policy, _ := strings.Cut(name, "/")
		switch bench {
		case "BenchmarkSpoolAppend":
			out.AppendPerS[policy] = metric["results/s"]
		case "BenchmarkSpoolReplay":
			out.ReplayPerS[policy] = metric["results/s"]
		case "BenchmarkSpoolRecovery":
			out.RecoveryMS = metric["ms/reopen"]
			out.RecoveryRecords = metric["records/s"]
		default:
			continue
		}
		found++
	}
	if found == 0 {
		return fmt.Errorf("spool benchmarks: no figures in the output: %s", tail(text, 400))
	}
	return nil
}
