package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Board is the board phase: what the status board costs the agent, measured side by side — three
// agents on the same targets in the same window, so that the shared machine's noise falls on all
// three: without [status], with it and nobody looking, and with Viewers browsers polling it as the
// page does.
type Board struct {
	Targets   int     `json:"targets"`
	IntervalS float64 `json:"interval_seconds"`
	Viewers   int     `json:"viewers"`
	PollS     float64 `json:"poll_seconds"`
	// Without, Idle and Watched are the three agents' footprints over the same window.
	Without Footprint `json:"without"`
	Idle    Footprint `json:"idle"`
	Watched Footprint `json:"watched"`
	// Answers are the /api/status answers the viewers got in the window, Failed the requests that
	// got none or not a 200; LatencyMS is each answer's time as a viewer saw it.
	Answers        int     `json:"answers"`
	Failed         int     `json:"failed"`
	LatencyMS      Dist    `json:"latency_ms"`
	BytesPerAnswer float64 `json:"bytes_per_answer"`
}

// boardPageAssets are what a browser loads once when it opens the board.
var boardPageAssets = []string{"/", "/assets/board.js", "/assets/board.css", "/assets/icon.svg"}

// MeasureBoard runs the board phase: targets of w probed every interval by three agents at once,
// viewers polling the third's /api/status every poll (staggered, each on one kept-alive
// connection, like a browser tab), for dur after a warm-up of one interval.
func MeasureBoard(ctx context.Context, bin string, w *World, dir string, targets int, interval, dur time.Duration, viewers int, poll time.Duration, targetExtra string) (Board, error) {
	out := Board{Targets: min(targets, len(w.Targets)), IntervalS: interval.Seconds(), Viewers: viewers, PollS: poll.Seconds()}
	type agent struct {
		name, jsonl, board string // board: its base URL, "" without [status]
		p                  *AgentProcess
		smp                *Sampler
	}
	agents := []*agent{{name: "board-without"}, {name: "board-idle"}, {name: "board-watched"}}
	defer func() {
		for _, a := range agents {
			if a.p != nil {
				a.p.Stop()
			}
		}
	}()
	for i, a := range agents {
		d := filepath.Join(dir, a.name)
		if err := os.MkdirAll(filepath.Join(d, "state"), 0o755); err != nil {
			return out, err
		}
		mport, err := freeTCPPort()
		if err != nil {
			return out, err
		}
		a.jsonl = filepath.Join(d, "records.jsonl")
		metrics := fmt.Sprintf("127.0.0.1:%d", mport)
		cfg := w.AgentConfig(AgentConfig{Interval: interval, Timeout: min(5*time.Second, interval/2), StateDir: filepath.Join(d, "state"),
			JSONLPath: a.jsonl, MetricsListen: metrics, Targets: targets, TargetExtra: targetExtra})
		if i > 0 {
			sport, err := freeTCPPort()
			if err != nil {
				return out, err
			}
			a.board = fmt.Sprintf("http://127.0.0.1:%d", sport)
			cfg += fmt.Sprintf("\n[status]\nlisten = \"127.0.0.1:%d\"\n", sport)
		}
		cfgPath := filepath.Join(d, "config.toml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return out, err
		}
		if a.p, err = StartAgent(ctx, bin, cfgPath, "http://"+metrics+"/metrics", filepath.Join(d, "agent.log")); err != nil {
			return out, fmt.Errorf("%s: %w", a.name, err)
		}
	}
	// Every target has run once (the scheduler spreads the first runs over an interval), so the
	// board has something to show.
	if err := sleepCtx(ctx, interval+time.Second); err != nil {
		return out, err
	}

	vctx, stopViewers := context.WithCancel(ctx)
	defer stopViewers()
	var (
		mu      sync.Mutex
		latency []float64
		bytes   int64
		wg      sync.WaitGroup
		counted bool // answers count only inside the sampled window
	)
	watched := agents[2].board
	for v := range viewers {
		wg.Go(func() {
			tr := &http.Transport{MaxConnsPerHost: 1, IdleConnTimeout: 2 * poll}
			defer tr.CloseIdleConnections()
			client := &http.Client{Timeout: scrapeTimeout, Transport: tr}
			get := func(path string) (int64, error) {
				req, err := http.NewRequestWithContext(vctx, http.MethodGet, watched+path, nil)
				if err != nil {
					return 0, err
				}
				resp, err := client.Do(req)
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				n, err := io.Copy(io.Discard, resp.Body)
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("GET %s: %s", path, resp.Status)
				}
				return n, err
			}
			for _, p := range boardPageAssets {
				get(p)
			}
			// Viewers opened the page at different moments: their polls are spread over the period.
			if sleepCtx(vctx, poll*time.Duration(v)/time.Duration(viewers)) != nil {
				return
			}
			t := time.NewTicker(poll)
			defer t.Stop()
			for {
				start := time.Now()
				n, err := get("/api/status")
				el := time.Since(start)
				mu.Lock()
				if counted && vctx.Err() == nil {
					if err != nil {
						out.Failed++
					} else {
						out.Answers++
						bytes += n
						latency = append(latency, float64(el.Microseconds())/1000)
					}
				}
				mu.Unlock()
				select {
				case <-vctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}

	mu.Lock()
	counted = true
	mu.Unlock()
	for _, a := range agents {
		a.smp = StartSampler(a.p.Pid(), time.Second)
	}
	err := sleepCtx(ctx, dur)
	samples := make([][]ProcSample, len(agents))
	var errs []error
	for i, a := range agents {
		s, serr := a.smp.Stop()
		samples[i] = s
		errs = append(errs, serr)
	}
	mu.Lock()
	counted = false
	mu.Unlock()
	stopViewers()
	wg.Wait()
	if err := errors.Join(append(errs, err)...); err != nil {
		return out, err
	}
	// Records are written when their run ends; give runs that started in the window a moment.
	if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
		return out, err
	}
	for i, a := range agents {
		first, last := samples[i][0], samples[i][len(samples[i])-1]
		c, err := CountRecords(a.jsonl, first.At, last.At)
		if err != nil {
			return out, err
		}
		f := footprintOf(0, samples[i], c.Probes)
		switch i {
		case 0:
			out.Without = f
		case 1:
			out.Idle = f
		case 2:
			out.Watched = f
		}
	}
	out.LatencyMS = DistOf(latency)
	if out.Answers > 0 {
		out.BytesPerAnswer = float64(bytes) / float64(out.Answers)
	}
	if out.Answers == 0 {
		return out, errors.New("board: the viewers got no answer from /api/status")
	}
	return out, nil
}
