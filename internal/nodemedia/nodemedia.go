// Package nodemedia runs Node-Media-Server — an RTMP server written in JavaScript by others and
// served by the npm registry — on loopback for tests, as a second, independent implementation
// beside nginx-rtmp (internal/nginxrtmp). It writes the config into the test's temporary
// directory, starts `node bin/app.js -c config.json`, waits until the server says its RTMP listener
// is up (no sleeps), and stops it by PID when the test ends.
//
// Why this server: version 4 answers a publish with NetStream.Publish.Start before it checks
// anything, then closes the connection at once when the stream already has a publisher or when
// the signature is wrong or expired — the behaviour that reads the same for both causes, which
// nginx-rtmp's BadName and on_publish refusal tell apart.
//
// It needs node (Debian's nodejs, 18 or later) and the npm package at Version, installed under
// Dir (or the directory in the environment variable EnvDir):
//
//	npm install --prefix /opt/ingestprobe/node-media-server node-media-server@4.4.3
//
// .ci/run does that. Tests using it skip, saying so, when either is missing — or fail when
// INGESTPROBE_LAB_REQUIRED=1 (CI), so a missing install cannot hide behind a skip.
package nodemedia

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the node-media-server release the tests are written against.
const Version = "4.4.3"

// Dir is where .ci/run installs it (npm install --prefix Dir); EnvDir overrides it.
const (
	Dir    = "/opt/ingestprobe/node-media-server"
	EnvDir = "INGESTPROBE_NODE_MEDIA_SERVER"
)

// envRequired is internal/lab's EnvRequired, named here so this package stays a leaf.
const envRequired = "INGESTPROBE_LAB_REQUIRED"

// Timeouts: node starts the server in well under a second here; 15 s only bounds a broken start
// on a loaded machine. stopTimeout bounds the exit after SIGTERM before the process is killed.
const (
	startTimeout = 15 * time.Second
	stopTimeout  = 3 * time.Second
)

// Install is the command that installs what the tests need, for skip messages.
const Install = "npm install --prefix " + Dir + " node-media-server@" + Version

// app is bin/app.js of the installed package, or "".
func app() string {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = Dir
	}
	p := filepath.Join(dir, "node_modules", "node-media-server", "bin", "app.js")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Require skips t unless node and node-media-server are installed.
func Require(t testing.TB) {
	t.Helper()
	reason := ""
	if _, err := exec.LookPath("node"); err != nil {
		reason = "integration: needs node (apt-get install -y nodejs) and node-media-server: " + Install
	} else if app() == "" {
		reason = "integration: needs node-media-server " + Version + ": " + Install
	}
	if reason == "" {
		return
	}
	if os.Getenv(envRequired) == "1" {
		t.Fatalf("%s (and %s=1 says it must run here)", reason, envRequired)
	}
	t.Skip(reason)
}

// Config shapes the server started.
type Config struct {
	// Secret, when set, turns on publish authentication: a publish needs ?sign=EXPIRY-HASH (Sign).
	Secret string
}

// Server is a running node-media-server.
type Server struct {
	RTMPAddr netip.AddrPort
	PID      int

	cmd     *exec.Cmd
	logMu   sync.Mutex
	log     bytes.Buffer
	lines   chan string // every log line, for WaitLog; dropped when nobody reads
	logDone chan struct{}
}

// Start starts the server and registers its stop with t.Cleanup. Ports are picked free on
// 127.0.0.1; a start that fails on a port taken in between is retried with new ones.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	Require(t)
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
	t.Fatalf("nodemedia: %v", lastErr)
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
	rtmpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort() // the server always runs its HTTP API; it is not used
	if err != nil {
		return nil, err
	}
	s := &Server{RTMPAddr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), rtmpPort), logDone: make(chan struct{}), lines: make(chan string, 256)}
	conf := map[string]any{
		"bind":     "127.0.0.1",
		"store":    map[string]any{"path": filepath.Join(dir, "data")},
		"auth":     map[string]any{"play": false, "publish": cfg.Secret != "", "secret": cfg.Secret},
		"rtmp":     map[string]any{"port": rtmpPort},
		"http":     map[string]any{"port": httpPort},
		"webadmin": map[string]any{"enable": false},
		"record":   map[string]any{"auto": false, "path": filepath.Join(dir, "record")},
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	confPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(confPath, b, 0o600); err != nil {
		return nil, err
	}
	s.cmd = exec.Command("node", app(), "-c", confPath)
	s.cmd.Dir = dir
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = s.cmd.Stdout // one stream: the logger writes to stdout, node's errors to stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node: %w", err)
	}
	s.PID = s.cmd.Process.Pid
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("node-media-server (pid %d) log:\n%s", s.PID, s.Log())
		}
	})
	ready := make(chan struct{})
	go func() {
		defer close(s.logDone)
		sc := bufio.NewScanner(out)
		signaled := false
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.log.WriteString(line + "\n")
			s.logMu.Unlock()
			select {
			case s.lines <- line:
			default:
			}
			if !signaled && strings.Contains(line, "Rtmp Server listening on port") {
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
		if strings.Contains(s.Log(), "already in use") {
			return nil, fmt.Errorf("%w: %s", errAddrInUse, s.Log())
		}
		return nil, fmt.Errorf("node-media-server exited at start: %s", s.Log())
	case <-timer.C:
		s.stop()
		return nil, fmt.Errorf("node-media-server not ready after %s: %s", startTimeout, s.Log())
	}
	return s, nil
}

// WaitLog waits until the server logs a line containing substr, at most timeout. Lines logged
// before the call may be missed once more than 256 have queued: call it before what makes the line.
func (s *Server) WaitLog(substr string, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line := <-s.lines:
			if strings.Contains(line, substr) {
				return nil
			}
		case <-s.logDone:
			return fmt.Errorf("node-media-server exited before logging %q", substr)
		case <-timer.C:
			return fmt.Errorf("node-media-server did not log %q within %s", substr, timeout)
		}
	}
}

// Log is what the server wrote so far.
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.logDone:
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.logDone
	}
	_ = s.cmd.Wait()
}

// Sign is node-media-server's publish signature for streamPath ("/live/name"), valid until
// expires: the query value of sign, "EXPIRY-md5(streamPath-EXPIRY-secret)".
func Sign(streamPath, secret string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	sum := md5.Sum([]byte(streamPath + "-" + exp + "-" + secret))
	return exp + "-" + hex.EncodeToString(sum[:])
}
