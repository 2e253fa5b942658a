//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// proc is a server the lab started, inside a namespace, in the foreground.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited and been reaped
}

// start runs args in namespace ns. Output goes to <Dir>/<name>.log, never to the caller's
// stdout: a kept lab's servers outlive the process that started them, and must not hold its pipes.
func (l *Lab) start(name, ns string, args ...string) (*proc, error) {
	logPath := filepath.Join(l.Dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(l.tools.IP, append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C meant for a command run later in the same terminal does not
	// reach a kept lab's servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start %s: %w", name, err)
	}
	// `ip netns exec` joins the namespace and execs the program: the PID is the server's own.
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail is the end of the process's log, for error messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 800 {
		s = "…" + s[len(s)-800:]
	}
	return s
}

// stop asks the process to exit (SIGTERM), and kills it by PID after grace.
func (p *proc) stop(grace time.Duration) error {
	if p == nil || p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("lab: %s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// StartDNS starts dnsmasq in the server namespace on ResolverAddr:53 and waits until it answers
// from the venue.
func (l *Lab) StartDNS(ctx context.Context) error {
	if l.dnsmasq != nil && !l.dnsmasq.exited() {
		return nil
	}
	conf := filepath.Join(l.Dir, "dnsmasq.conf")
	if err := os.WriteFile(conf, []byte(dnsmasqConfig(l.ID, l.records)), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	p, err := l.start("dnsmasq", l.Server, l.tools.Dnsmasq,
		"--keep-in-foreground", "--no-resolv", "--no-hosts",
		"--conf-file="+conf,
		"--pid-file="+filepath.Join(l.Dir, "dnsmasq.pid"),
		"--log-facility=-")
	if err != nil {
		return err
	}
	l.dnsmasq = p
	return l.waitReady(ctx, p, func() error { return l.queryFromVenue(ctx, "open.lab.test") })
}

// StopDNS stops dnsmasq: the resolver address stays, nothing listens on port 53.
func (l *Lab) StopDNS() error {
	err := l.dnsmasq.stop(stopGrace)
	l.dnsmasq = nil
	return err
}

func (l *Lab) startNginx(ctx context.Context) error {
	dir := filepath.Join(l.Dir, "nginx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	text := nginxConfig(dir, rtmpModule(), l.opts.RTMPServer, l.ingest6()...)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	p, err := l.start("nginx", l.Server, l.tools.Nginx, "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "error.log"))
	if err != nil {
		return err
	}
	l.nginx = p
	return l.waitReady(ctx, p, func() error {
		for _, a := range append([]netip.Addr{IngestAddr}, l.ingest6()...) {
			for _, port := range IngestPorts {
				if err := l.dialFromVenue(ctx, netip.AddrPortFrom(a, uint16(port))); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// waitReady polls ready until it succeeds, the process exits, or readyTimeout passes.
func (l *Lab) waitReady(ctx context.Context, p *proc, ready func() error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	start := time.Now()
	for {
		if p.exited() {
			return fmt.Errorf("lab: %s exited at start: %s", p.name, p.logTail())
		}
		err := ready()
		if err == nil {
			l.logf("%s ready in %.0f ms", p.name, time.Since(start).Seconds()*1000)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: %s not ready after %s: %w; log: %s", p.name, readyTimeout, err, p.logTail())
		case <-time.After(readyPoll):
		}
	}
}

func (l *Lab) dialFromVenue(ctx context.Context, ap netip.AddrPort) error {
	return l.Do(l.Venue, func() error {
		d := net.Dialer{Timeout: readyDialTimeout}
		c, err := d.DialContext(ctx, "tcp", ap.String())
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// DialFromVenue connects to ap from the venue, as an encoder there would; the lab's own tests use
// it to show what each firewall rule looks like from the venue.
func (l *Lab) DialFromVenue(ctx context.Context, ap netip.AddrPort) error {
	return l.dialFromVenue(ctx, ap)
}

func (l *Lab) queryFromVenue(ctx context.Context, name string) error {
	return l.Do(l.Venue, func() error {
		m := new(mdns.Msg)
		m.SetQuestion(mdns.Fqdn(name), mdns.TypeA)
		c := &mdns.Client{Net: "udp", Timeout: readyDialTimeout}
		r, _, err := c.ExchangeContext(ctx, m, net.JoinHostPort(ResolverAddr.String(), "53"))
		if err != nil {
			return err
		}
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) == 0 {
			return errors.New("lab: dnsmasq answered " + mdns.RcodeToString[r.Rcode] + " for " + name)
		}
		return nil
	})
}
