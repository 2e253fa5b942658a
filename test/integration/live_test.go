//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/record"
)

// The live watch against a real encoder: ffmpeg publishes H.264/AAC to nginx-rtmp from the venue
// (a process the test starts; the agent never starts one), and the binary watches it from the same
// namespace. nginx-rtmp's /stat counts what the ingest received.
const (
	liveBitrate = 1_500_000 // the stream's video rate; audio adds 96 kbit/s, FLV/RTMP framing a little
	liveKey     = "livekey5c2e81"
)

// lockedBuffer is a bytes.Buffer that a process's output goroutine writes while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// encoder is an ffmpeg publishing to the lab's ingest from the venue.
type encoder struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer // ffmpeg writes it while the test reads it
	done   chan struct{}
	mu     sync.Mutex
}

func needFFmpeg(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv(lab.EnvRequired) == "1" {
			t.Fatalf("ffmpeg not installed (and %s=1)", lab.EnvRequired)
		}
		t.Skip("integration: missing ffmpeg (apt-get install ffmpeg) to publish a real stream")
	}
	return p
}

// startEncoder publishes testsrc2 and a sine as H.264 CBR and AAC, in real time.
func startEncoder(t *testing.T, l *lab.Lab, ffmpeg string) *encoder {
	t.Helper()
	url := fmt.Sprintf("rtmp://%s/live/%s", lab.IngestAddr, liveKey)
	br := strconv.Itoa(liveBitrate / 1000)
	cmd := l.VenueCommand(context.Background(), ffmpeg, "-nostdin", "-loglevel", "warning", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "50",
		"-b:v", br+"k", "-minrate", br+"k", "-maxrate", br+"k", "-bufsize", br+"k", "-x264-params", "nal-hrd=cbr:force-cfr=1",
		"-c:a", "aac", "-b:a", "96k", "-f", "flv", url)
	e := &encoder{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = e.stderr, e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(e.done) }()
	t.Cleanup(func() { e.stop() })
	return e
}

func (e *encoder) stop() {
	e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.done
}

func (e *encoder) exited() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// statBytesIn reads nginx-rtmp's count of bytes received (/stat, the server's total).
func statBytesIn(t *testing.T, l *lab.Lab) uint64 {
	t.Helper()
	a, err := tryVenueGet(l, fmt.Sprintf("http://%s:80/stat", lab.IngestAddr), "")
	if err != nil || a.status != 200 {
		t.Fatalf("GET /stat: %v (status %d)", err, a.status)
	}
	m := regexp.MustCompile(`<bytes_in>(\d+)</bytes_in>`).FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("/stat without bytes_in: %.300s", a.body)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// waitPublishing waits until nginx counts the stream's bytes (at most 15 s).
func waitPublishing(t *testing.T, l *lab.Lab, e *encoder) {
	t.Helper()
	start := statBytesIn(t, l)
	deadline := time.Now().Add(15 * time.Second)
	for statBytesIn(t, l) < start+200_000 {
		if e.exited() || time.Now().After(deadline) {
			t.Fatalf("ffmpeg is not publishing (exited %v): %s", e.exited(), e.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitIdle waits until nginx-rtmp has no publisher on the stream (at most 45 s: the close of a
// killed encoder whose FIN was dropped arrives with TCP's retransmission back-off).
func waitIdle(t *testing.T, l *lab.Lab) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		a, err := tryVenueGet(l, fmt.Sprintf("http://%s:80/stat", lab.IngestAddr), "")
		if err == nil && a.status == 200 && !strings.Contains(a.body, "<publishing/>") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx-rtmp still has a publisher after 45 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func liveResult(t *testing.T, r run) (*live.Result, record.Record) {
	t.Helper()
	if len(r.doc.Targets) != 1 {
		t.Fatalf("got %d targets\n%s\n%s", len(r.doc.Targets), r.stdout, r.stderr)
	}
	rec := r.doc.Targets[0]
	if rec.Results.Live == nil {
		t.Fatalf("no live result\n%s", r.stdout)
	}
	return rec.Results.Live, rec
}

func codesOf(rec record.Record) map[string]record.Severity {
	m := map[string]record.Severity{}
	for _, f := range rec.Findings {
		m[f.Code] = f.Severity
	}
	return m
}

func TestIntegrationLiveWatch(t *testing.T) {
	ffmpeg := needFFmpeg(t)
	l := lab.Start(t, lab.Options{})
	if !l.RTMP {
		lab.SkipIfCannotRun(t)
		t.Skip("integration: nginx's RTMP module is not installed (apt-get install libnginx-mod-rtmp)")
	}
	bin := buildBinary(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("rtmp://%s/live/%s", lab.NameOpen, liveKey)
	watch := func(t *testing.T, d time.Duration, extra ...string) run {
		t.Helper()
		args := append([]string{"watch", url, "--config", cfg, "--json", "--for", d.String()}, extra...)
		r := runCheck(t, l, bin, args...)
		if strings.Contains(r.stdout, liveKey) || strings.Contains(r.stderr, liveKey) {
			t.Errorf("the stream key in the output")
		}
		return r
	}

	t.Run("no publisher", func(t *testing.T) {
		r := watch(t, 2*time.Second)
		res, rec := liveResult(t, r)
		if r.exit != 0 || res.Publishers != 0 || codesOf(rec)["live.no_publisher"] != record.Info || rec.Verdict != record.Go {
			t.Errorf("exit %d, %d publishers, findings %v; want 0, none, live.no_publisher (info)", r.exit, res.Publishers, codesOf(rec))
		}
	})

	enc := startEncoder(t, l, ffmpeg)
	waitPublishing(t, l, enc)

	t.Run("rate matches the ingest's counter", func(t *testing.T) {
		before, t0 := statBytesIn(t, l), time.Now()
		r := watch(t, 10*time.Second)
		after, t1 := statBytesIn(t, l), time.Now()
		res, rec := liveResult(t, r)
		ingest := float64(after-before) * 8 / t1.Sub(t0).Seconds()
		t.Logf("acknowledged %.0f bit/s over %.1f s; nginx-rtmp bytes_in %.0f bit/s over %.1f s (%+.1f %%)",
			res.AckedBps, res.WindowSeconds, ingest, t1.Sub(t0).Seconds(), (res.AckedBps/ingest-1)*100)
		if r.exit != 0 || res.Publishers != 1 || len(res.Connections) != 1 {
			t.Fatalf("exit %d, %d publishers; want 0 and exactly one\n%s", r.exit, res.Publishers, r.stdout)
		}
		if c := res.Connections[0]; c.Process != "ffmpeg" || c.PID == 0 || !strings.HasPrefix(c.Remote, lab.IngestAddr.String()+":1935") {
			t.Errorf("connection %+v; want ffmpeg's, to %s:1935", c, lab.IngestAddr)
		}
		if math.Abs(res.AckedBps/ingest-1) > 0.15 {
			t.Errorf("acknowledged %.0f bit/s; nginx-rtmp counted %.0f bit/s: more than 15 %% apart", res.AckedBps, ingest)
		}
		for code, sev := range codesOf(rec) {
			if sev != record.Info {
				t.Errorf("a healthy stream has %s (%s)\n%s", code, sev, r.stdout)
			}
		}
	})

	// check --publish (and --uplink) from the encoder's host keeps off the live show, as the agent
	// does: the publish runs at connect level, the record says why, and ffmpeg is not refused.
	t.Run("check --publish holds back while the show is live", func(t *testing.T) {
		for _, args := range [][]string{{"--publish"}, {"--uplink", "1M", "--uplink-for", "3s"}} {
			r := runCheck(t, l, bin, append([]string{"check", url, "--config", cfg, "--json", "--timeout", "3s"}, args...)...)
			rec := r.record(t)
			if rec.Results.RTMP == nil || rec.Results.RTMP.Level != "connect" || codesOf(rec)["live.publish_held"] != record.Info || rec.Results.Uplink != nil {
				t.Errorf("%v: rtmp %+v, uplink %+v, findings %v; want connect level, no soak and live.publish_held", args, rec.Results.RTMP, rec.Results.Uplink, codesOf(rec))
			}
			if strings.Contains(r.stdout, liveKey) || strings.Contains(r.stderr, liveKey) {
				t.Errorf("%v: the stream key in the output", args)
			}
		}
		if enc.exited() || strings.Contains(enc.stderr.String(), "Already publishing") {
			t.Fatalf("ffmpeg was refused or stopped: %s", enc.stderr.String())
		}
	})

	t.Run("shaped under the stream's rate", func(t *testing.T) {
		// tbf on the router's link to the server: a third of the stream's rate.
		tc := func(args ...string) {
			if out, err := exec.Command("ip", append([]string{"netns", "exec", l.Router, "tc"}, args...)...).CombinedOutput(); err != nil {
				t.Fatalf("tc %v: %v: %s", args, err, out)
			}
		}
		tc("qdisc", "add", "dev", "server0", "root", "tbf", "rate", "500kbit", "burst", "16kb", "latency", "500ms")
		defer tc("qdisc", "del", "dev", "server0", "root")
		r := watch(t, 12*time.Second, "--bitrate", strconv.Itoa(liveBitrate+96_000))
		res, rec := liveResult(t, r)
		got := codesOf(rec)
		t.Logf("shaped: %.0f bit/s acknowledged, backlog %d bytes (%.2f s), grew %d samples, findings %v", res.AckedBps, res.BacklogBytes, res.BacklogSeconds, res.BacklogGrowing, got)
		if _, c := got["live.congested"]; !c {
			if _, b := got["live.below_bitrate"]; !b {
				t.Errorf("no live.congested or live.below_bitrate under a 500 kbit/s shaper\n%s", r.stdout)
			}
		}
		if res.AckedBps > 700_000 {
			t.Errorf("acknowledged %.0f bit/s through a 500 kbit/s shaper", res.AckedBps)
		}
	})
	// Let the encoder's queue drain before the next scenario.
	time.Sleep(3 * time.Second)

	t.Run("port dropped under the running stream", func(t *testing.T) {
		if err := l.SetFirewall(t.Context(), lab.DropPort(1935)); err != nil {
			t.Fatal(err)
		}
		defer l.SetFirewall(context.Background())
		r := watch(t, 8*time.Second)
		res, rec := liveResult(t, r)
		t.Logf("dropped: stalled %.1f s, backlog %d bytes, findings %v", res.StalledSeconds, res.BacklogBytes, codesOf(rec))
		if codesOf(rec)["live.stalled"] != record.Error || r.exit != 1 || rec.Verdict != record.NoGo {
			t.Errorf("exit %d, findings %v; want live.stalled (error) and exit 1\n%s", r.exit, codesOf(rec), r.stdout)
		}
	})
	enc.stop()

	t.Run("encoder restarted twice", func(t *testing.T) {
		waitIdle(t, l)
		enc := startEncoder(t, l, ffmpeg)
		waitPublishing(t, l, enc)
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		var r run
		done := make(chan struct{})
		go func() {
			defer close(done)
			cmd := l.VenueCommand(ctx, bin, "watch", url, "--config", cfg, "--json", "--for", "24s")
			var out bytes.Buffer
			cmd.Stdout = &out
			err := cmd.Run()
			r.stdout = out.String()
			if ee, ok := err.(*exec.ExitError); ok {
				r.exit = ee.ExitCode()
			}
			json.Unmarshal(out.Bytes(), &r.doc)
		}()
		for range 2 {
			time.Sleep(6 * time.Second)
			enc.stop()
			waitIdle(t, l)
			enc = startEncoder(t, l, ffmpeg)
			waitPublishing(t, l, enc)
		}
		<-done
		res, rec := liveResult(t, r)
		t.Logf("restarted twice: %d reconnects, findings %v", res.Reconnects, codesOf(rec))
		if res.Reconnects < 2 || codesOf(rec)["live.reconnects"] != record.Warning || res.Publishers != 1 {
			t.Errorf("%d reconnects, %d publishers, findings %v; want ≥ 2, 1, live.reconnects\n%s", res.Reconnects, res.Publishers, codesOf(rec), r.stdout)
		}
		enc.stop()
	})
}

// The daemon with rtmp = "publish" and live = true while ffmpeg publishes and reconnects: its
// publish probe falls back to connect (the records say why), ffmpeg is never refused, and once no
// publisher has been seen for live_quiet the publish probe runs again.
func TestIntegrationLiveDaemonFallback(t *testing.T) {
	ffmpeg := needFFmpeg(t)
	l := lab.Start(t, lab.Options{})
	if !l.RTMP {
		t.Skip("integration: nginx's RTMP module is not installed (apt-get install libnginx-mod-rtmp)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	records := filepath.Join(dir, "records.jsonl")
	cfg := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf(`[agent]
id = "venue"
state_dir = %q
[[targets]]
name = "show"
url = "rtmp://%s/live/%s"
interval = "2s"
timeout = "1s"
icmp = false
rtmp = "publish"
live = true
live_every = "1s"
live_quiet = "6s"
[[sinks]]
type = "jsonl"
path = %q
`, filepath.Join(dir, "state"), lab.NameOpen, liveKey, records)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	enc := startEncoder(t, l, ffmpeg)
	waitPublishing(t, l, enc)
	logPath := startVenueAgent(t, l, bin, cfg)

	read := func() (runs, windows []record.Record) {
		f, err := os.Open(records)
		if err != nil {
			return nil, nil
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec record.Record
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			if rec.LiveWindow() {
				windows = append(windows, rec)
			} else {
				runs = append(runs, rec)
			}
		}
		return runs, windows
	}
	// Three runs while live; the encoder restarts after the first (a reconnect inside live_quiet).
	waitFor(t, 20*time.Second, "a run while the show is live", func() bool { r, _ := read(); return len(r) >= 1 }, logPath)
	enc.stop()
	waitIdle(t, l)
	enc = startEncoder(t, l, ffmpeg)
	waitPublishing(t, l, enc)
	waitFor(t, 20*time.Second, "three runs while the show is live", func() bool { r, _ := read(); return len(r) >= 4 }, logPath)
	if enc.exited() || strings.Contains(enc.stderr.String(), "Already publishing") || strings.Contains(enc.stderr.String(), "Input/output error") {
		t.Fatalf("ffmpeg was refused or stopped: %s", enc.stderr.String())
	}
	runs, windows := read()
	for _, r := range runs {
		if r.Results.RTMP == nil || r.Results.RTMP.Level != "connect" || codesOf(r)["live.publish_held"] != record.Info || r.Results.Live.HeldBack != "publish" {
			t.Errorf("run while live: rtmp %+v, findings %v; want connect level and live.publish_held", r.Results.RTMP, codesOf(r))
		}
	}
	if len(windows) < 3 {
		t.Errorf("%d live windows; want one a second", len(windows))
	} else if w := windows[len(windows)-1].Results.Live; w.Publishers != 1 || w.Connections[0].Process != "ffmpeg" {
		t.Errorf("last window %+v; want ffmpeg publishing", w)
	}
	// The show ends: after live_quiet the publish probe runs again, and publishes.
	enc.stop()
	ended := time.Now()
	waitFor(t, 30*time.Second, "a publish run after live_quiet", func() bool {
		r, _ := read()
		last := r[len(r)-1]
		return last.Time.After(ended) && last.Results.RTMP != nil && last.Results.RTMP.Level == "publish"
	}, logPath)
	runs, _ = read()
	for _, r := range runs {
		if r.Time.After(ended) && r.Time.Before(ended.Add(5*time.Second)) && r.Results.RTMP != nil && r.Results.RTMP.Level == "publish" {
			t.Errorf("a publish run %s after the show ended, within live_quiet (6s)", r.Time.Sub(ended))
		}
	}
	last := runs[len(runs)-1]
	if !last.Results.RTMP.OK || last.Results.Live != nil {
		t.Errorf("publish after the show: %+v, live %+v; want a publish that succeeds, nothing held", last.Results.RTMP, last.Results.Live)
	}
}
