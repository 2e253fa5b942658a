package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Environment of the child processes: the harness re-executes its own binary (ipbench, or the
// test binary) with these set, so that the listeners' CPU and memory are never counted as ours,
// and the scale phase's are counted alone.
const (
	envRole     = "IPBENCH_ROLE"
	envSpec     = "IPBENCH_LISTEN_SPEC"
	roleListen  = "listen"
	roleScale   = "scale"
	readyPrefix = "ready "
)

// Timeouts of the listeners. A probe's connection lives for milliseconds; 10 s is far beyond any
// probe timeout the harness configures, and bounds a connection a client forgot to close.
const (
	listenerConnTimeout = 10 * time.Second
	listenerStartWait   = 10 * time.Second
	// listenerMaxLife bounds a listener child whose parent vanished without closing its stdin.
	listenerMaxLife = 15 * time.Minute
)

// ListenSpec is what the listener child serves: plain ports accept and close at once (a TCP
// probe needs only the handshake); RTMP ports answer the RTMP handshake (C0C1 → S0S1S2, C2).
type ListenSpec struct {
	Plain []netip.AddrPort `json:"plain"`
	RTMP  []netip.AddrPort `json:"rtmp"`
}

// IsChild says this process was started as one of the harness's children; call ChildMain then.
func IsChild() bool { return os.Getenv(envRole) != "" }

// ChildMain does the child's work and exits the process.
func ChildMain() {
	switch os.Getenv(envRole) {
	case roleListen:
		listenMain()
	case roleScale:
		scaleMain()
	}
	fmt.Fprintf(os.Stderr, "ipbench: unknown %s=%q\n", envRole, os.Getenv(envRole))
	os.Exit(2)
}

// listenMain serves the spec in the environment until stdin closes (the parent ended) or
// listenerMaxLife passes, then exits the process.
func listenMain() {
	var spec ListenSpec
	if err := json.Unmarshal([]byte(os.Getenv(envSpec)), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "ipbench listener: spec:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), listenerMaxLife)
	defer cancel()
	srv, err := Serve(ctx, spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipbench listener:", err)
		os.Exit(1)
	}
	fmt.Printf("%s%d\n", readyPrefix, len(spec.Plain)+len(spec.RTMP))
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	<-ctx.Done()
	srv.Close()
	os.Exit(0)
}

// Server is listeners served in this process.
type Server struct {
	lns    []net.Listener
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// Serve listens on every address of spec; all or nothing.
func Serve(ctx context.Context, spec ListenSpec) (*Server, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{cancel: cancel}
	add := func(ap netip.AddrPort, handle func(net.Conn)) error {
		lc := net.ListenConfig{}
		ln, err := lc.Listen(ctx, "tcp", ap.String())
		if err != nil {
			return err
		}
		s.lns = append(s.lns, ln)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.accept(ctx, ln, handle)
		}()
		return nil
	}
	for _, ap := range spec.Plain {
		if err := add(ap, func(c net.Conn) { c.Close() }); err != nil {
			s.Close()
			return nil, err
		}
	}
	for _, ap := range spec.RTMP {
		if err := add(ap, serveRTMPHandshake); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) accept(ctx context.Context, ln net.Listener, handle func(net.Conn)) {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond) // EMFILE and the like: back off, do not spin
			continue
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			c.SetDeadline(time.Now().Add(listenerConnTimeout))
			handle(c)
		}()
	}
}

// Close stops listening and waits for the connections being served.
func (s *Server) Close() {
	s.cancel()
	for _, ln := range s.lns {
		ln.Close()
	}
	s.wg.Wait()
}

// rtmpHandshakeSize is the size of C1, C2, S1 and S2 (RTMP spec, section 5.2).
const rtmpHandshakeSize = 1536

// serveRTMPHandshake answers a plain RTMP handshake the way a server does, then reads until the
// client closes (a handshake-only probe closes at once) or the deadline passes.
func serveRTMPHandshake(c net.Conn) {
	defer c.Close()
	c1 := make([]byte, 1+rtmpHandshakeSize)
	if _, err := io.ReadFull(c, c1); err != nil {
		return
	}
	out := make([]byte, 1+2*rtmpHandshakeSize)
	out[0] = 3 // S0: version 3
	s1 := out[1 : 1+rtmpHandshakeSize]
	_, _ = rand.Read(s1[8:])                // time and zero fields stay 0
	copy(out[1+rtmpHandshakeSize:], c1[1:]) // S2 echoes C1
	if _, err := c.Write(out); err != nil {
		return
	}
	if _, err := io.ReadFull(c, c1[:rtmpHandshakeSize]); err != nil { // C2
		return
	}
	_, _ = io.Copy(io.Discard, c)
}

// ListenerProcess is a listener child.
type ListenerProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

// StartListeners starts a listener child serving spec and waits until it is listening.
func StartListeners(ctx context.Context, spec ListenSpec) (*ListenerProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envRole+"="+roleListen, envSpec+"="+string(b))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("listeners: %w", err)
	}
	p := &ListenerProcess{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		// One goroutine reads the child's stdout to its end, then waits for it: os/exec wants the
		// reads from StdoutPipe done before Wait.
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		if sc.Scan() && strings.HasPrefix(sc.Text(), readyPrefix) {
			ready <- nil
		} else {
			ready <- fmt.Errorf("listeners: child said %q", sc.Text())
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	select {
	case err = <-ready:
	case <-time.After(listenerStartWait):
		err = fmt.Errorf("listeners: not ready after %s", listenerStartWait)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		p.Close()
		<-p.done
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return p, nil
}

// Pid of the child.
func (p *ListenerProcess) Pid() int { return p.cmd.Process.Pid }

// Close ends the child: its stdin closes, and it is killed by PID if it has not exited in 3 s.
func (p *ListenerProcess) Close() {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
