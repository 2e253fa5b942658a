package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Blackbox is a prometheus-blackbox-exporter the harness started on loopback.
type Blackbox struct {
	Addr    string
	Version string
	cmd     *exec.Cmd
	done    chan struct{}
	log     *os.File
}

// BlackboxBinary is Debian's name for blackbox_exporter (package prometheus-blackbox-exporter).
const BlackboxBinary = "prometheus-blackbox-exporter"

// blackboxConfig has one TCP and one ICMP module and a DNS module per name, all with the same
// 5 s timeout as our probes.
func blackboxConfig(names []string) string {
	var b strings.Builder
	b.WriteString(`modules:
  tcp_connect:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
`)
	for _, n := range names {
		fmt.Fprintf(&b, `  dns_%s:
    prober: dns
    timeout: 5s
    dns:
      query_name: %s
      query_type: A
      transport_protocol: udp
      preferred_ip_protocol: ip4
`, n, n)
	}
	return b.String()
}

// StartBlackbox starts blackbox_exporter with modules for the world's targets.
func StartBlackbox(ctx context.Context, dir string, w *World, targets int) (*Blackbox, error) {
	bin, err := LookTool(BlackboxBinary)
	if err != nil {
		return nil, fmt.Errorf("blackbox: %w (apt-get install prometheus-blackbox-exporter)", err)
	}
	var names []string
	for i, t := range w.Targets {
		if targets > 0 && i >= targets {
			break
		}
		names = append(names, t.Host)
	}
	cfg := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(cfg, []byte(blackboxConfig(names)), 0o644); err != nil {
		return nil, err
	}
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "blackbox.log"))
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=warn")
	cmd.SysProcAttr = dieWithHarness()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("blackbox: %w", err)
	}
	bb := &Blackbox{Addr: addr, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() {
		_ = cmd.Wait()
		close(bb.done)
	}()
	if err := waitHTTP(ctx, "http://"+addr+"/-/healthy", bb.done, agentStartWait); err != nil {
		bb.Close()
		log, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("blackbox: %w; log: %s", err, tail(string(log), 800))
	}
	if out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput(); err == nil {
		bb.Version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	return bb, nil
}

// Pid of blackbox_exporter.
func (b *Blackbox) Pid() int { return b.cmd.Process.Pid }

// Close stops it by its PID.
func (b *Blackbox) Close() {
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(3 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.log.Close()
}

// BlackboxProbe is one /probe answer.
type BlackboxProbe struct {
	Success         bool
	DurationSeconds float64
}

// Probe asks blackbox_exporter for one probe, as a Prometheus scrape does.
func (b *Blackbox) Probe(ctx context.Context, module, target string) (BlackboxProbe, error) {
	u := "http://" + b.Addr + "/probe?" + url.Values{"module": {module}, "target": {target}}.Encode()
	var buf bytes.Buffer
	if err := httpGet(ctx, u, &buf); err != nil {
		return BlackboxProbe{}, err
	}
	return parseBlackboxProbe(buf.Bytes())
}

// parseBlackboxProbe reads probe_success and probe_duration_seconds from the text exposition.
func parseBlackboxProbe(b []byte) (BlackboxProbe, error) {
	var p BlackboxProbe
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "probe_success":
			p.Success = v == 1
			seen++
		case "probe_duration_seconds":
			p.DurationSeconds = v
			seen++
		}
	}
	if seen != 2 {
		return p, errors.New("blackbox: probe_success or probe_duration_seconds missing from the answer")
	}
	return p, nil
}

// BlackboxJob is one probe a scrape loop asks for each interval.
type BlackboxJob struct{ Module, Target string }

// BlackboxJobs are the TCP (3 ports), DNS and ICMP probes of each target: the subset of ours that
// blackbox_exporter can do.
func BlackboxJobs(w *World, dnsServer string, targets int) []BlackboxJob {
	ts := w.Targets
	if targets > 0 && targets < len(ts) {
		ts = ts[:targets]
	}
	var jobs []BlackboxJob
	for _, t := range ts {
		for _, port := range []int{IngestPort, AltPort1, AltPort2} {
			jobs = append(jobs, BlackboxJob{"tcp_connect", netip.AddrPortFrom(t.Addr, uint16(port)).String()})
		}
		jobs = append(jobs, BlackboxJob{"dns_" + t.Host, dnsServer}, BlackboxJob{"icmp", t.Addr.String()})
	}
	return jobs
}

// ScrapeCounts is what a scrape loop got.
type ScrapeCounts struct {
	OK, Failed, Errors int
	ByModule           map[string]int
}

// ScrapeLoop asks for every job once per interval, spread evenly over it as Prometheus spreads
// its scrapes, until ctx is done. Each job waits for its previous scrape (no pile-up).
func ScrapeLoop(ctx context.Context, jobs []BlackboxJob, interval time.Duration, do func(context.Context, BlackboxJob) (bool, error)) ScrapeCounts {
	var ok, failed, errs atomic.Int64
	var mu sync.Mutex
	byModule := map[string]int{}
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			offset := time.Duration(i) * interval / time.Duration(len(jobs))
			next := time.Now().Add(offset)
			for {
				if sleepCtx(ctx, time.Until(next)) != nil {
					return
				}
				good, err := do(ctx, j)
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					errs.Add(1)
				case good:
					ok.Add(1)
				default:
					failed.Add(1)
				}
				mu.Lock()
				byModule[strings.SplitN(j.Module, "_", 2)[0]]++
				mu.Unlock()
				next = next.Add(interval)
			}
		}()
	}
	wg.Wait()
	return ScrapeCounts{OK: int(ok.Load()), Failed: int(failed.Load()), Errors: int(errs.Load()), ByModule: byModule}
}

// BlackboxFootprint is the footprint phase for blackbox_exporter.
type BlackboxFootprint struct {
	Footprint
	Scrapes ScrapeCounts `json:"scrapes"`
	Version string       `json:"version"`
}

// MeasureBlackbox starts blackbox_exporter, reads its idle RSS, then drives it for dur. It returns
// the exporter still running (for the timing phase); the caller closes it.
func MeasureBlackbox(ctx context.Context, w *World, dir string, interval, dur time.Duration, targets int) (*Blackbox, BlackboxFootprint, error) {
	var out BlackboxFootprint
	bb, err := StartBlackbox(ctx, dir, w, targets)
	if err != nil {
		return nil, out, err
	}
	out.Version = bb.Version
	if err := sleepCtx(ctx, idleSettle); err != nil {
		bb.Close()
		return nil, out, err
	}
	idle, err := ReadProc(bb.Pid())
	if err != nil {
		bb.Close()
		return nil, out, err
	}
	smp := StartSampler(bb.Pid(), time.Second)
	sctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	out.Scrapes = ScrapeLoop(sctx, BlackboxJobs(w, w.DNS.Addr, targets), interval, func(ctx context.Context, j BlackboxJob) (bool, error) {
		p, err := bb.Probe(ctx, j.Module, j.Target)
		return p.Success, err
	})
	samples, err := smp.Stop()
	if err != nil {
		bb.Close()
		return nil, out, err
	}
	out.Footprint = footprintOf(idle.RSS, samples, out.Scrapes.OK+out.Scrapes.Failed)
	return bb, out, nil
}
