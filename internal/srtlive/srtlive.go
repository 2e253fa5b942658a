// Package srtlive runs Haivision's srt-live-transmit (Debian package srt-tools) as a real SRT
// listener for tests: on loopback in this process's network namespace, or, through a command
// prefix, inside a lab namespace. It waits until the listener says it accepts (no sleeps) and stops
// it by PID when the test ends.
//
// Tests using it skip, saying what is missing, when the tool is absent — or fail when
// INGESTPROBE_LAB_REQUIRED=1 (CI), so a missing package cannot hide behind a skip.
package srtlive

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Package is the Debian package with the tool.
const Package = "srt-tools"

// envRequired is internal/lab's EnvRequired, named here so this package stays a leaf.
const envRequired = "INGESTPROBE_LAB_REQUIRED"

// Timeouts. srt-live-transmit binds and listens within milliseconds; 10 s only bounds a broken
// start. stopTimeout bounds the exit after SIGINT before the process is killed.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 3 * time.Second
)

// Path finds srt-live-transmit, or returns "".
func Path() string {
	if p, err := exec.LookPath("srt-live-transmit"); err == nil {
		return p
	}
	if st, err := os.Stat("/usr/bin/srt-live-transmit"); err == nil && st.Mode()&0o111 != 0 {
		return "/usr/bin/srt-live-transmit"
	}
	return ""
}

// Require skips t unless srt-live-transmit is installed (Linux only: the tests run Debian's).
func Require(t testing.TB) {
	t.Helper()
	reason := ""
	switch {
	case runtime.GOOS != "linux":
		reason = "integration: srt-live-transmit (Debian srt-tools) runs on Linux only here"
	case Path() == "":
		reason = "integration: needs srt-live-transmit: apt-get install -y --no-install-recommends " + Package
	}
	if reason == "" {
		return
	}
	if os.Getenv(envRequired) == "1" && runtime.GOOS == "linux" {
		t.Fatalf("%s (and %s=1 says it must run here)", reason, envRequired)
	}
	t.Skip(reason)
}

// Config shapes the listener.
type Config struct {
	// Addr is where it listens; zero = 127.0.0.1 and a free port.
	Addr netip.AddrPort
	// Passphrase protects the listener (10 to 79 characters); "" = not encrypted.
	Passphrase string
	// Options are more srt:// URI options (name → value), such as "enforcedencryption": "false".
	Options map[string]string
	// Prefix runs the tool through another command, such as []string{"ip", "netns", "exec", NS}.
	Prefix []string
	// Do runs the readiness check where the listener can be reached from (a lab's Do in its
	// namespace); nil = here.
	Do func(func() error) error
}

// Listener is a running srt-live-transmit.
type Listener struct {
	Addr netip.AddrPort
	PID  int

	cmd     *exec.Cmd
	mu      sync.Mutex
	log     bytes.Buffer
	logDone chan struct{}
}

// Start starts srt-live-transmit as a listener for cfg, writing what it receives to /dev/null, and
// registers its stop with t.Cleanup. It fails t if the listener does not come up.
func Start(t testing.TB, cfg Config) *Listener {
	t.Helper()
	Require(t)
	l, err := start(cfg)
	if err != nil {
		t.Fatalf("srtlive: %v", err)
	}
	t.Cleanup(func() {
		l.Stop()
		if t.Failed() {
			t.Logf("srt-live-transmit (pid %d) log:\n%s", l.PID, l.Log())
		}
	})
	return l
}

// URI is the listener's srt:// URI (it holds the passphrase: for the tool's command line only).
func (c Config) URI() string {
	q := []string{"mode=listener"}
	if c.Passphrase != "" {
		q = append(q, "passphrase="+c.Passphrase)
	}
	for k, v := range c.Options {
		q = append(q, k+"="+v)
	}
	return "srt://" + c.Addr.String() + "?" + strings.Join(q, "&")
}

func start(cfg Config) (*Listener, error) {
	if !cfg.Addr.IsValid() {
		port, err := freeUDPPort()
		if err != nil {
			return nil, err
		}
		cfg.Addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	}
	// -v prints " listen..." right after binding the port; the listener is ready when it answers
	// an SRT induction (which creates no connection: the listener's answer is stateless). The
	// media output is discarded; auto-reconnect (the default) listens again after a caller leaves.
	args := append(append([]string{}, cfg.Prefix...), Path(), "-v", cfg.URI(), "file://con")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = nil // os.DevNull
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start srt-live-transmit: %w", err)
	}
	l := &Listener{Addr: cfg.Addr, PID: cmd.Process.Pid, cmd: cmd, logDone: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(l.logDone)
		buf := make([]byte, 4096)
		signaled := false
		for {
			n, err := stderr.Read(buf)
			l.mu.Lock()
			l.log.Write(buf[:n])
			bound := bytes.Contains(l.log.Bytes(), []byte("listen..."))
			l.mu.Unlock()
			if !signaled && bound {
				signaled = true
				close(ready)
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-l.logDone:
		l.Stop()
		return nil, fmt.Errorf("srt-live-transmit exited at start: %s", l.Log())
	case <-timer.C:
		l.Stop()
		return nil, fmt.Errorf("srt-live-transmit did not bind after %s: %s", startTimeout, l.Log())
	}
	do := cfg.Do
	if do == nil {
		do = func(f func() error) error { return f() }
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		err := do(func() error { return Ping(ctx, cfg.Addr) })
		if err == nil {
			return l, nil
		}
		select {
		case <-l.logDone:
			l.Stop()
			return nil, fmt.Errorf("srt-live-transmit exited at start: %s", l.Log())
		case <-ctx.Done():
			l.Stop()
			return nil, fmt.Errorf("srt-live-transmit not answering an induction after %s: %v: %s", startTimeout, err, l.Log())
		default:
		}
	}
}

// pingWait is how long Ping waits for the induction response: a listener on loopback or in a lab
// namespace answers within a millisecond.
const pingWait = 100 * time.Millisecond

// Ping sends one SRT induction request to addr and waits pingWait for a v5 listener's induction
// response (version 5, magic 0x4A17). It is built by hand, from the SRT specification, so the
// readiness of a test's listener does not depend on the code under test.
func Ping(ctx context.Context, addr netip.AddrPort) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr.String())
	if err != nil {
		return err
	}
	defer c.Close()
	req := make([]byte, 16+48)
	be := binary.BigEndian
	be.PutUint16(req[0:], 0x8000)                // control packet, type handshake
	be.PutUint32(req[16:], 4)                    // version 4
	be.PutUint16(req[22:], 2)                    // extension: UDT_DGRAM
	be.PutUint32(req[28:], 1500)                 // MTU
	be.PutUint32(req[32:], 8192)                 // flow window
	be.PutUint32(req[36:], 1)                    // induction
	be.PutUint32(req[40:], 0x0badcafe&(1<<30-1)) // socket id
	if _, err := c.Write(req); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(pingWait))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if n < 64 || be.Uint32(buf[16:]) != 5 || be.Uint16(buf[22:]) != 0x4A17 {
		return fmt.Errorf("srtlive: %d-byte answer is not a v5 induction response", n)
	}
	return nil
}

// Log is what the tool wrote to stderr so far.
func (l *Listener) Log() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.log.String()
}

// Stop interrupts the tool (SIGINT, as Ctrl-C: it closes its sockets), kills it after stopTimeout,
// and waits for it and for the log reader, so nothing outlives the test.
func (l *Listener) Stop() {
	if l.cmd == nil || l.cmd.ProcessState != nil {
		return
	}
	_ = l.cmd.Process.Signal(os.Interrupt)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-l.logDone:
	case <-timer.C:
		_ = l.cmd.Process.Kill()
		<-l.logDone
	}
	_ = l.cmd.Wait()
}

// freeUDPPort picks a UDP port free on 127.0.0.1 now (another process may take it before the
// tool binds: Start then fails with the tool's message).
func freeUDPPort() (uint16, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port), nil
}

// ClosedUDPPort is a loopback port nothing listens on: bound, then released, so a datagram to it
// is answered with ICMP port unreachable.
func ClosedUDPPort(t testing.TB) netip.AddrPort {
	t.Helper()
	p, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p)
}
