package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/metrics"
)

// Scale is the scale phase: many targets in the agent's own scheduler, in this process, so the
// scheduler's Lag callback can be read.
type Scale struct {
	Targets      int     `json:"targets"`
	IntervalS    float64 `json:"interval_seconds"`
	Concurrency  int     `json:"concurrency"`
	LagMS        Dist    `json:"lag_ms"` // actual start − planned start
	Runs         int     `json:"runs"`
	MaxGoroutine int     `json:"max_goroutines"`
	Footprint
	Counts RecordCounts `json:"counts"`
}

// goroutinePeriod is how often the goroutine count is read: often enough to see a burst of
// connects (each run starts its ports' connects together), cheap enough not to disturb them.
const goroutinePeriod = 50 * time.Millisecond

// scaleJob is what the parent hands the scale child.
type scaleJob struct {
	Config   string        `json:"config"` // path of the agent config
	JSONL    string        `json:"jsonl"`
	Duration time.Duration `json:"duration"`
	Profile  string        `json:"profile,omitempty"` // write a CPU profile of the run here
}

// ScaleProfile, when set, is where the scale phase writes a CPU profile of the agent (pprof).
var ScaleProfile string

const envScaleJob = "IPBENCH_SCALE_JOB"

// MeasureScale runs agent.Daemon — scheduler, pipeline, reporter with jsonl and /metrics sinks —
// in a child process over the world's first targets for dur, recording every run's lag through the
// scheduler's Lag callback. The child is this binary again: its memory and CPU are the agent's
// alone, not the harness's.
func MeasureScale(ctx context.Context, w *World, dir string, targets int, interval, dur time.Duration, push []string, col *Collector, targetExtra string) (Scale, error) {
	var out Scale
	port, err := freeTCPPort()
	if err != nil {
		return out, err
	}
	state := filepath.Join(dir, "scale-state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return out, err
	}
	job := scaleJob{Config: filepath.Join(dir, "scale.toml"), JSONL: filepath.Join(dir, "scale-records.jsonl"), Duration: dur, Profile: ScaleProfile}
	ac := AgentConfig{Interval: interval, Timeout: min(5*time.Second, interval/2), StateDir: state,
		JSONLPath: job.JSONL, MetricsListen: fmt.Sprintf("127.0.0.1:%d", port), Targets: targets, TargetExtra: targetExtra}
	if col != nil {
		ac.Push, ac.Collector = push, col.URL
	}
	text := w.AgentConfig(ac)
	if err := os.WriteFile(job.Config, []byte(text), 0o644); err != nil {
		return out, err
	}
	exe, err := os.Executable()
	if err != nil {
		return out, err
	}
	b, _ := json.Marshal(job)
	// The child ends by itself after dur; the context only bounds a hang.
	cctx, cancel := context.WithTimeout(ctx, dur+agentStopWait+agentStartWait)
	defer cancel()
	cmd := exec.CommandContext(cctx, exe)
	cmd.Env = append(os.Environ(), envRole+"="+roleScale, envScaleJob+"="+string(b))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("scale: child: %w: %s", err, tail(stderr.String(), 800))
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		return out, fmt.Errorf("scale: child printed %q: %w", tail(string(stdout), 200), err)
	}
	return out, nil
}

func scaleMain() {
	var job scaleJob
	if err := json.Unmarshal([]byte(os.Getenv(envScaleJob)), &job); err != nil {
		fmt.Fprintln(os.Stderr, "ipbench scale:", err)
		os.Exit(2)
	}
	s, err := runScale(context.Background(), job)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipbench scale:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(s)
	os.Exit(0)
}

func runScale(ctx context.Context, job scaleJob) (Scale, error) {
	var out Scale
	cfg, err := config.Load(job.Config)
	if err != nil {
		return out, fmt.Errorf("scale: %w", err)
	}
	out.Targets = len(cfg.Targets)
	out.IntervalS = cfg.Agent.Interval.D().Seconds()
	out.Concurrency = cfg.Agent.Concurrency
	jsonl := job.JSONL
	dur := job.Duration
	var mu sync.Mutex
	var lags []float64
	d := &agent.Daemon{
		Log:     zap.NewNop(),
		Stdout:  io.Discard, // stdout carries the result to the parent
		Metrics: metrics.New("bench", "bench", map[string]string{"agent": cfg.Agent.ID}),
		Lag: func(_ string, lag time.Duration) {
			mu.Lock()
			lags = append(lags, float64(lag)/float64(time.Millisecond))
			mu.Unlock()
		},
	}
	runtime.GC()
	if job.Profile != "" {
		f, err := os.Create(job.Profile)
		if err != nil {
			return out, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return out, err
		}
		defer pprof.StopCPUProfile()
	}
	smp := StartSampler(os.Getpid(), time.Second)
	dctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	gdone := make(chan struct{})
	maxG := 0
	go func() {
		defer close(gdone)
		t := time.NewTicker(goroutinePeriod)
		defer t.Stop()
		for {
			maxG = max(maxG, runtime.NumGoroutine())
			select {
			case <-dctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	runErr := d.Run(dctx, cfg, nil)
	<-gdone
	samples, err := smp.Stop()
	if err != nil {
		return out, err
	}
	if runErr != nil {
		return out, fmt.Errorf("scale: %w", runErr)
	}
	counts, err := CountRecords(jsonl, samples[0].At.Add(-time.Second), time.Now())
	if err != nil {
		return out, err
	}
	mu.Lock()
	out.Runs = len(lags)
	out.LagMS = DistOf(lags)
	mu.Unlock()
	out.MaxGoroutine = maxG
	out.Counts = counts
	out.Footprint = footprintOf(samples[0].RSS, samples, counts.Probes)
	return out, nil
}
