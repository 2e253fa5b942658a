// Package nginxrtmp starts a real nginx with the RTMP module on loopback, for tests: it writes the
// config into the test's temporary directory, starts nginx in the foreground, waits until nginx
// says its listeners are up (no sleeps), and stops it by PID when the test ends.
//
// Debian packages it needs: nginx-light (or any nginx), libnginx-mod-rtmp, and libnginx-mod-stream
// for the TLS front. Tests using it skip, saying what is missing, when not root or when a package
// is absent.
package nginxrtmp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths of Debian's nginx and its dynamic modules.
const (
	Binary       = "/usr/sbin/nginx"
	RTMPModule   = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
	StreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"
)

// Timeouts of the helper. nginx binds its listeners before it forks the worker, in well under a
// second on this hardware; 10 s only bounds a broken start. stopTimeout bounds a fast shutdown
// before the process group is killed.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 5 * time.Second
)

// Config shapes the nginx started.
type Config struct {
	// Apps maps an application name to extra directives inside its block (each block already has
	// "live on; record off;"). Empty means one application, "live", with nothing extra.
	Apps map[string]string
	// TLSCertPEM and TLSKeyPEM, when set, add a TLS front: the stream module terminating TLS on
	// TLSAddr and proxying the bytes to the RTMP port, the way RTMPS ingests are commonly built.
	TLSCertPEM, TLSKeyPEM []byte
}

// Server is a running nginx.
type Server struct {
	RTMPAddr netip.AddrPort // plain RTMP
	TLSAddr  netip.AddrPort // the TLS front; zero without one
	PID      int

	cmd     *exec.Cmd
	logMu   sync.Mutex
	log     bytes.Buffer
	logDone chan struct{}
}

// Require skips t unless this process is root and nginx with the modules cfg needs is installed.
func Require(t testing.TB, withTLS bool) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("integration: nginxrtmp runs Debian's nginx and its RTMP module, on Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("integration: needs root to run nginx as CI does (run the tests as root)")
	}
	need := map[string]string{Binary: "nginx-light", RTMPModule: "libnginx-mod-rtmp"}
	if withTLS {
		need[StreamModule] = "libnginx-mod-stream"
	}
	var missing []string
	for path, pkg := range need {
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, pkg+" ("+path+")")
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Skipf("integration: needs %s: apt-get install -y nginx-light libnginx-mod-rtmp libnginx-mod-stream", strings.Join(missing, ", "))
	}
}

// Start starts nginx for cfg and registers its stop with t.Cleanup. It fails t if nginx does not
// come up. Ports are picked free on 127.0.0.1; a port taken in between is retried with new ones.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	Require(t, cfg.TLSCertPEM != nil)
	var lastErr error
	for range 3 {
		s, err := start(t, cfg)
		if err == nil {
			return s
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("nginxrtmp: %v", lastErr)
	return nil
}

var errAddrInUse = errors.New("address in use")

func freePort() (uint16, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port), nil
}

func start(t testing.TB, cfg Config) (*Server, error) {
	dir := t.TempDir()
	s := &Server{logDone: make(chan struct{})}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.RTMPAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	var conf strings.Builder
	fmt.Fprintf(&conf, "load_module %s;\n", RTMPModule)
	if cfg.TLSCertPEM != nil {
		fmt.Fprintf(&conf, "load_module %s;\n", StreamModule)
	}
	conf.WriteString("worker_processes 1;\nevents { worker_connections 128; }\n")
	fmt.Fprintf(&conf, "rtmp {\n  server {\n    listen %s;\n    chunk_size 4096;\n", s.RTMPAddr)
	apps := cfg.Apps
	if len(apps) == 0 {
		apps = map[string]string{"live": ""}
	}
	names := make([]string, 0, len(apps))
	for n := range apps {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&conf, "    application %s {\n      live on;\n      record off;\n      %s\n    }\n", n, apps[n])
	}
	conf.WriteString("  }\n}\n")
	if cfg.TLSCertPEM != nil {
		tport, err := freePort()
		if err != nil {
			return nil, err
		}
		s.TLSAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), tport)
		cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := os.WriteFile(cert, cfg.TLSCertPEM, 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(key, cfg.TLSKeyPEM, 0o600); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "stream {\n  server {\n    listen %s ssl;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n    proxy_pass %s;\n  }\n}\n",
			s.TLSAddr, cert, key, s.RTMPAddr)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}

	s.cmd = exec.Command(Binary, "-p", dir+"/", "-c", confPath, "-e", "stderr",
		"-g", fmt.Sprintf("daemon off; pid %s; error_log stderr notice;", filepath.Join(dir, "nginx.pid")))
	s.cmd.SysProcAttr = ownProcessGroup()
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", Binary, err)
	}
	s.PID = s.cmd.Process.Pid
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("nginx (pid %d) config:\n%s\nlog:\n%s", s.PID, conf.String(), s.Log())
		}
	})

	// nginx logs "start worker processes" once its listeners are bound: that is the signal.
	ready := make(chan struct{})
	go func() {
		defer close(s.logDone)
		sc := bufio.NewScanner(stderr)
		signaled := false
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.log.WriteString(line + "\n")
			s.logMu.Unlock()
			if !signaled && strings.Contains(line, "start worker process") {
				signaled = true
				close(ready)
			}
		}
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-s.logDone:
		s.stop()
		if strings.Contains(s.Log(), "Address already in use") {
			return nil, fmt.Errorf("%w: %s", errAddrInUse, s.Log())
		}
		return nil, fmt.Errorf("nginx exited at start: %s", s.Log())
	case <-timer.C:
		return nil, fmt.Errorf("nginx not ready after %s: %s", startTimeout, s.Log())
	}
	for _, a := range []netip.AddrPort{s.RTMPAddr, s.TLSAddr} {
		if !a.IsValid() {
			continue
		}
		c, err := net.DialTimeout("tcp", a.String(), 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("nginx said ready but %s does not accept: %w", a, err)
		}
		c.Close()
	}
	return s, nil
}

// Log is what nginx wrote to stderr so far.
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM (fast shutdown) to the master by PID, waits stopTimeout, then kills its
// process group. It waits for the log reader, so no goroutine outlives the test.
func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	// stderr reaches EOF when the master and its worker have exited; Wait comes after the reads,
	// as os/exec requires.
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.logDone:
	case <-timer.C:
		killProcessGroup(s.cmd.Process)
		<-s.logDone
	}
	_ = s.cmd.Wait()
}
