package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Preflight is `ingestprobe check` timed from exec to exit, as a technician waits for it.
type Preflight struct {
	Runs      int      `json:"runs"`
	WallMS    Dist     `json:"wall_ms"`     // exec → exit
	PipelineM Dist     `json:"pipeline_ms"` // the record's duration_seconds
	Verdict   string   `json:"verdict"`
	Codes     []string `json:"codes"`
	TimeoutMS float64  `json:"timeout_ms,omitempty"` // --timeout, for the dropped case
	Probes    []string `json:"probes"`
	Variant   string   `json:"variant,omitempty"` // what the target's config added
}

// checkDoc is the part of `check --json` the harness reads.
type checkDoc struct {
	Verdict string `json:"verdict"`
	Targets []struct {
		DurationSeconds float64 `json:"duration_seconds"`
		Findings        []struct {
			Code string `json:"code"`
		} `json:"findings"`
		Results []struct {
			Probe string `json:"probe"`
		} `json:"results"`
	} `json:"targets"`
}

// timeCheck runs cmd (a check --json) n times and summarises; each run must give wantVerdict.
func timeCheck(ctx context.Context, n int, wantVerdict string, mk func(ctx context.Context) *exec.Cmd) (Preflight, error) {
	out := Preflight{Runs: n}
	var wall, pipe []float64
	for range n {
		cmd := mk(ctx)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		el := time.Since(start)
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			return out, fmt.Errorf("check: %w: %s", err, tail(stderr.String(), 400))
		}
		var doc checkDoc
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Targets) != 1 {
			return out, fmt.Errorf("check printed %q: %v", tail(stdout.String(), 200), err)
		}
		if doc.Verdict != wantVerdict {
			return out, fmt.Errorf("check: verdict %q; want %q (findings %v)", doc.Verdict, wantVerdict, doc.Targets[0].Findings)
		}
		out.Verdict = doc.Verdict
		out.Codes, out.Probes = nil, nil
		for _, f := range doc.Targets[0].Findings {
			out.Codes = append(out.Codes, f.Code)
		}
		for _, r := range doc.Targets[0].Results {
			if !slices.Contains(out.Probes, r.Probe) {
				out.Probes = append(out.Probes, r.Probe)
			}
		}
		wall = append(wall, float64(el)/float64(time.Millisecond))
		pipe = append(pipe, doc.Targets[0].DurationSeconds*1000)
	}
	out.WallMS, out.PipelineM = DistOf(wall), DistOf(pipe)
	return out, nil
}

// MeasurePreflightOpen times `check` of a target whose ports all answer, on loopback, with the
// world's resolver. targetExtra is added to the target's config (e.g. `icmp = false`). The RTMP
// probe runs at handshake level, the daemon's default: the world's listener speaks the handshake
// only (check's own default, connect, would need an application behind it), and the figures stay
// comparable with the earlier rounds of docs/performance.md.
func MeasurePreflightOpen(ctx context.Context, bin string, w *World, dir string, n int, targetExtra string) (Preflight, error) {
	cfgPath := filepath.Join(dir, "preflight.toml")
	cfg := w.AgentConfig(AgentConfig{Interval: 30 * time.Second, Timeout: 5 * time.Second,
		StateDir: filepath.Join(dir, "preflight-state"), Targets: 1, TargetExtra: strings.TrimSpace("rtmp = \"handshake\"\n" + targetExtra)})
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return Preflight{}, err
	}
	mk := func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, bin, "check", "--config", cfgPath, "--json", w.Targets[0].Name)
	}
	// One run first, not counted: it pays for reading the binary from disk.
	if _, err := timeCheck(ctx, 1, "go", mk); err != nil {
		return Preflight{}, err
	}
	p, err := timeCheck(ctx, n, "go", mk)
	p.Variant = targetExtra
	return p, err
}
