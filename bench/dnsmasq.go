package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// benchDomain is the zone the harness's resolver answers for; nothing is ever forwarded. It is under
// .localhost (RFC 6761) because its names resolve to loopback addresses, which for any other name
// the diagnosis rightly calls a hijacked answer (dns.hijacked).
const benchDomain = "bench.localhost"

// LookTool finds a program in PATH or in the sbin directories a non-login root shell may lack.
func LookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// DNSServer is a dnsmasq answering names under bench.localhost on a loopback port.
type DNSServer struct {
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	done chan struct{}
}

// StartDNS starts dnsmasq on 127.0.0.1 at a free port, answering A records for names (name →
// address), and waits until it answers. A port taken between choosing it and dnsmasq binding it
// (anything on the machine may open a socket meanwhile) costs a retry on another port.
func StartDNS(ctx context.Context, dir string, names map[string]netip.Addr) (*DNSServer, error) {
	var err error
	for range 5 {
		var s *DNSServer
		if s, err = startDNS(ctx, dir, names); err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func startDNS(ctx context.Context, dir string, names map[string]netip.Addr) (*DNSServer, error) {
	bin, err := LookTool("dnsmasq")
	if err != nil {
		return nil, fmt.Errorf("dns: %w (apt-get install dnsmasq-base)", err)
	}
	port, err := freeDNSPort()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "port=%d\nlisten-address=127.0.0.1\nbind-interfaces\nuser=nobody\nno-resolv\nno-hosts\nlocal=/%s/\n", port, benchDomain)
	// Many names are asked for every few seconds; dnsmasq's default cache (150) would evict.
	b.WriteString("cache-size=10000\n")
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	for _, n := range keys {
		fmt.Fprintf(&b, "host-record=%s,%s\n", n, names[n])
	}
	conf := filepath.Join(dir, "dnsmasq.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "dnsmasq.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file="+conf,
		"--pid-file="+filepath.Join(dir, "dnsmasq.pid"), "--log-facility=-")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	s := &DNSServer{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	probe := ""
	if len(keys) > 0 {
		probe = keys[0]
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.done:
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("dns: dnsmasq exited: %s", strings.TrimSpace(string(log)))
		default:
		}
		err := s.query(ctx, probe)
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Close()
			return nil, fmt.Errorf("dns: dnsmasq not answering after 10 s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *DNSServer) query(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), mdns.TypeA)
	c := &mdns.Client{Timeout: 300 * time.Millisecond}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	if err != nil {
		return err
	}
	if len(r.Answer) == 0 {
		return fmt.Errorf("no answer for %s", name)
	}
	return nil
}

// Pid of dnsmasq.
func (s *DNSServer) Pid() int { return s.cmd.Process.Pid }

// Close stops dnsmasq by its PID.
func (s *DNSServer) Close() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freeDNSPort is a port on 127.0.0.1 free for both UDP and TCP, as dnsmasq binds both. A UDP port
// the kernel hands out may still be the local port of a TCP connection (while `make test` runs,
// the other packages' tests hold thousands), and dnsmasq would then fail with "Address already in
// use"; so the TCP side is checked too, by binding it, a bounded number of times.
func freeDNSPort() (int, error) {
	var lastErr error
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		c.Close()
		if err != nil {
			lastErr = err
			continue
		}
		ln.Close()
		return port, nil
	}
	return 0, fmt.Errorf("dns: no port free for both UDP and TCP on 127.0.0.1 in 50 tries: %w", lastErr)
}

func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
