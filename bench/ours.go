package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Timeouts of the harness around the agent. The agent starts in milliseconds and stops within its
// drain timeout; these only bound a hang.
const (
	agentStartWait = 10 * time.Second
	agentStopWait  = 15 * time.Second
	scrapeTimeout  = 10 * time.Second
)

// offlineChecks are results in a record that send nothing on the network (the URL doctor's
// lint): listed in ByProbe, not counted as probes.
var offlineChecks = []string{"url"}

// RecordCounts is what the agent's JSON lines say it did.
type RecordCounts struct {
	Records  int            `json:"records"`
	Probes   int            `json:"probes"` // network probes: offline checks are not counted
	ByProbe  map[string]int `json:"by_probe"`
	Failed   int            `json:"failed"` // probe results with an error class
	Verdicts map[string]int `json:"verdicts"`
}

// ProbeNames lists the probes seen, sorted.
func (c RecordCounts) ProbeNames() []string {
	var out []string
	for k := range c.ByProbe {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CountRecords reads a jsonl file of records, counting those whose time is in [from, to).
func CountRecords(path string, from, to time.Time) (RecordCounts, error) {
	c := RecordCounts{ByProbe: map[string]int{}, Verdicts: map[string]int{}}
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var rec struct {
			Time    time.Time `json:"time"`
			Verdict string    `json:"verdict"`
			Results []struct {
				Probe string `json:"probe"`
				Error string `json:"error"`
			} `json:"results"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		if rec.Time.Before(from) || !rec.Time.Before(to) {
			continue
		}
		c.Records++
		c.Verdicts[rec.Verdict]++
		for _, r := range rec.Results {
			c.ByProbe[r.Probe]++
			if slices.Contains(offlineChecks, r.Probe) {
				continue
			}
			c.Probes++
			if r.Error != "" {
				c.Failed++
			}
		}
	}
	return c, sc.Err()
}

// AgentProcess is `ingestprobe run` started by the harness.
type AgentProcess struct {
	cmd     *exec.Cmd
	done    chan struct{}
	metrics string // URL of its /metrics
	stderr  *os.File
}

// StartAgent runs `bin run --config cfgPath` and waits until its /metrics answers.
func StartAgent(ctx context.Context, bin, cfgPath, metricsURL, logPath string) (*AgentProcess, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", cfgPath, "--log-level", "warn")
	cmd.SysProcAttr = dieWithHarness()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	p := &AgentProcess{cmd: cmd, done: make(chan struct{}), metrics: metricsURL, stderr: logf}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := waitHTTP(ctx, metricsURL, p.done, agentStartWait); err != nil {
		p.Stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("agent: %w; log: %s", err, tail(string(log), 800))
	}
	return p, nil
}

// Pid of the agent.
func (p *AgentProcess) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits, killing by PID after agentStopWait.
func (p *AgentProcess) Stop() error {
	defer p.stderr.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(agentStopWait):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("agent: did not stop within %s of SIGTERM", agentStopWait)
	}
}

// waitHTTP polls url until it answers 200, the process exits (done closes) or wait passes.
func waitHTTP(ctx context.Context, url string, done <-chan struct{}, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var last error
	for {
		if last = httpGet(ctx, url, io.Discard); last == nil {
			return nil
		}
		select {
		case <-done:
			return errors.New("exited at start")
		case <-ctx.Done():
			return fmt.Errorf("%s not answering after %s: %v", url, wait, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var httpClient = &http.Client{Timeout: scrapeTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func httpGet(ctx context.Context, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET: %s", resp.Status)
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// OursFootprint is the footprint phase for ingestprobe.
type OursFootprint struct {
	Footprint
	Counts RecordCounts `json:"counts"`
	Sinks  []string     `json:"sinks"`
	// PushRequests is what the push sinks delivered to the collector during the steady run.
	PushRequests int64 `json:"push_requests"`
}

// idleSettle is how long a process is left alone before its idle RSS is read: the Go runtime and
// the HTTP listener have settled by then.
const idleSettle = 2 * time.Second

// MeasureOurs runs the agent twice: first with every target scheduled a day away (idle RSS), then
// at interval for dur, scraping its /metrics every interval like a Prometheus server would.
func MeasureOurs(ctx context.Context, bin string, w *World, dir string, interval, dur time.Duration, targets int, push []string, col *Collector, targetExtra string) (OursFootprint, error) {
	colURL := ""
	if col != nil {
		colURL = col.URL
	} else {
		push = nil // no collector to push to
	}
	out := OursFootprint{Sinks: append([]string{"jsonl", "prometheus"}, push...)}
	run := func(name string, iv time.Duration, body func(p *AgentProcess, metricsURL, jsonl string) error) error {
		port, err := freeTCPPort()
		if err != nil {
			return err
		}
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(d, "state"), 0o755); err != nil {
			return err
		}
		jsonl := filepath.Join(d, "records.jsonl")
		listen := fmt.Sprintf("127.0.0.1:%d", port)
		cfg := w.AgentConfig(AgentConfig{Interval: iv, Timeout: min(5*time.Second, iv/2), StateDir: filepath.Join(d, "state"),
			JSONLPath: jsonl, MetricsListen: listen, Targets: targets, Push: push, Collector: colURL, TargetExtra: targetExtra})
		cfgPath := filepath.Join(d, "config.toml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return err
		}
		metricsURL := "http://" + listen + "/metrics"
		p, err := StartAgent(ctx, bin, cfgPath, metricsURL, filepath.Join(d, "agent.log"))
		if err != nil {
			return err
		}
		berr := body(p, metricsURL, jsonl)
		serr := p.Stop()
		return errors.Join(berr, serr)
	}
	var idleRSS int64
	err := run("idle", 24*time.Hour, func(p *AgentProcess, _, _ string) error {
		if err := sleepCtx(ctx, idleSettle); err != nil {
			return err
		}
		s, err := ReadProc(p.Pid())
		idleRSS = s.RSS
		return err
	})
	if err != nil {
		return out, fmt.Errorf("ours idle: %w", err)
	}
	err = run("steady", interval, func(p *AgentProcess, metricsURL, jsonl string) error {
		var req0 int64
		if col != nil {
			req0 = col.Requests()
		}
		smp := StartSampler(p.Pid(), time.Second)
		sctx, cancel := context.WithTimeout(ctx, dur)
		defer cancel()
		scrapes := 0
		t := time.NewTicker(interval)
		for loop := true; loop; {
			select {
			case <-sctx.Done():
				loop = false
			case <-t.C:
				if httpGet(sctx, metricsURL, io.Discard) == nil {
					scrapes++
				}
			}
		}
		t.Stop()
		samples, err := smp.Stop()
		if err != nil {
			return err
		}
		first, last := samples[0], samples[len(samples)-1]
		// Records are written when their run ends; give runs that started in the window a moment.
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
		counts, err := CountRecords(jsonl, first.At, last.At)
		if err != nil {
			return err
		}
		out.Counts = counts
		out.Footprint = footprintOf(idleRSS, samples, counts.Probes)
		if col != nil {
			out.PushRequests = col.Requests() - req0
		}
		if scrapes == 0 {
			return errors.New("ours: /metrics never answered during the run")
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("ours steady: %w", err)
	}
	return out, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
