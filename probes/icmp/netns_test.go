package icmp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helper: the test binary re-run inside a network namespace, as another user, with other
// capabilities — what a unit test cannot change for itself. It runs one probe and prints the result.
const (
	helperEnv     = "INGESTPROBE_ICMP_HELPER" // the address to probe
	helperTimeout = 4 * time.Second
)

func helperMain() int {
	addr, err := netip.ParseAddr(os.Getenv(helperEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	r := New(Config{Address: addr, Interval: 100 * time.Millisecond, ReplyWait: 500 * time.Millisecond}).Run(ctx)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 2
	}
	return 0
}

// netns is a pair of network namespaces joined by a veth: the client at 10.231.0.1 and the server
// at 10.231.0.2. Both are removed at cleanup.
type netns struct {
	client, server string
}

const (
	clientIP = "10.231.0.1"
	serverIP = "10.231.0.2"
)

func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration: needs root (CAP_NET_ADMIN) for network namespaces")
	}
	for _, tool := range []string{"ip", "nft", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("integration: needs %s (Debian packages iproute2, nftables, util-linux)", tool)
		}
	}
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	tag := strconv.Itoa(os.Getpid()) + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	n := &netns{client: "ipc" + tag, server: "ips" + tag}
	for _, ns := range []string{n.client, n.server} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	sh(t, "ip", "-n", n.client, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", n.server)
	sh(t, "ip", "-n", n.client, "addr", "add", clientIP+"/24", "dev", "veth0")
	sh(t, "ip", "-n", n.server, "addr", "add", serverIP+"/24", "dev", "veth1")
	sh(t, "ip", "-n", n.client, "link", "set", "veth0", "up")
	sh(t, "ip", "-n", n.server, "link", "set", "veth1", "up")
	return n
}

// pingGroupRange sets who may open unprivileged ping sockets in a namespace ("1 0": nobody).
func (n *netns) pingGroupRange(t *testing.T, ns, r string) {
	sh(t, "ip", "netns", "exec", ns, "sh", "-c", "echo '"+r+"' > /proc/sys/net/ipv4/ping_group_range")
}

// nft loads a ruleset into a namespace.
func (n *netns) nft(t *testing.T, ns, rules string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

// publicBinary copies the test binary where an unprivileged user can execute it (go test's build
// directory is private to root).
func publicBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "icmptest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "icmp.test")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// identities the probe runs as: root; "nobody" with nothing; "nobody" with the ambient CAP_NET_RAW
// the systemd unit grants.
var (
	asRoot          []string
	asNobody        = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"}
	asNobodyNetRaw  = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+net_raw", "--ambient-caps=+net_raw", "--"}
	everyoneMayPing = "0 2147483647"
	nobodyMayPing   = "1 0"
)

// probeIn runs the probe in namespace ns as the given identity and returns its result.
func probeIn(t *testing.T, bin, ns string, as []string, addr string) (Result, time.Duration) {
	t.Helper()
	args := append(append([]string{"netns", "exec", ns}, as...), bin, "-test.run=^$")
	ctx, cancel := context.WithTimeout(context.Background(), 2*helperTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+addr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.String())
	}
	elapsed := time.Since(start)
	var r Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("helper printed %q: %v", stdout.String(), err)
	}
	return r, elapsed
}

// TestIntegrationICMPNetns runs real echoes across a veth between two namespaces: privileged and
// unprivileged, with neither permitted, with the server dropping all echoes or a fixed share of
// them, and towards a destination a "prohibit" route refuses.
func TestIntegrationICMPNetns(t *testing.T) {
	requireNetns(t)
	bin := publicBinary(t)
	n := newNetns(t)
	const dropAll = `table inet t {
	chain input { type filter hook input priority 0; icmp type echo-request drop; }
}`
	// numgen inc counts only packets reaching it, i.e. our echo requests: the 1st and 2nd of every
	// 5 are dropped — a loss of exactly 2/5, whatever the timing.
	const dropTwoOfFive = `table inet t {
	chain input { type filter hook input priority 0; icmp type echo-request numgen inc mod 5 < 2 drop; }
}`
	tests := []struct {
		name           string
		as             []string
		pingRange      string
		serverRules    string
		addr           string
		wantErr        Class
		wantPrivileged bool
		wantSent       int
		wantRecv       int
		wantErrnos     [2]string
	}{
		{name: "root, raw socket", as: asRoot, pingRange: nobodyMayPing, addr: serverIP, wantPrivileged: true, wantSent: 5, wantRecv: 5, wantErrnos: [2]string{"EACCES", ""}},
		{name: "root, ping socket first", as: asRoot, pingRange: everyoneMayPing, addr: serverIP, wantSent: 5, wantRecv: 5},
		{name: "unprivileged user in ping_group_range", as: asNobody, pingRange: everyoneMayPing, addr: serverIP, wantSent: 5, wantRecv: 5},
		{name: "unprivileged user with ambient CAP_NET_RAW (the systemd unit)", as: asNobodyNetRaw, pingRange: nobodyMayPing, addr: serverIP, wantPrivileged: true, wantSent: 5, wantRecv: 5, wantErrnos: [2]string{"EACCES", ""}},
		{name: "unprivileged user, neither permitted", as: asNobody, pingRange: nobodyMayPing, addr: serverIP, wantErr: Unavailable, wantErrnos: [2]string{"EACCES", "EPERM"}},
		{name: "server drops echoes", as: asRoot, pingRange: nobodyMayPing, serverRules: dropAll, addr: serverIP, wantPrivileged: true, wantSent: 5, wantErrnos: [2]string{"EACCES", ""}},
		{name: "server drops 2 of 5", as: asNobody, pingRange: everyoneMayPing, serverRules: dropTwoOfFive, addr: serverIP, wantSent: 5, wantRecv: 3},
		{name: "prohibit route", as: asRoot, pingRange: nobodyMayPing, addr: "10.231.9.9", wantErr: Denied},
		{name: "no route", as: asRoot, pingRange: nobodyMayPing, addr: "10.232.0.1", wantErr: Unreachable},
	}
	sh(t, "ip", "-n", n.client, "route", "add", "prohibit", "10.231.9.9/32")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.pingGroupRange(t, n.client, tt.pingRange)
			sh(t, "ip", "netns", "exec", n.server, "nft", "flush", "ruleset")
			if tt.serverRules != "" {
				n.nft(t, n.server, tt.serverRules)
			}
			r, elapsed := probeIn(t, bin, n.client, tt.as, tt.addr)
			if r.Error != tt.wantErr || r.Privileged != tt.wantPrivileged {
				t.Errorf("got error %q privileged %v; want %q %v (%+v)", r.Error, r.Privileged, tt.wantErr, tt.wantPrivileged, r)
			}
			if r.Sent != tt.wantSent || r.Received != tt.wantRecv {
				t.Errorf("got %d/%d echoes answered; want %d/%d", r.Received, r.Sent, tt.wantRecv, tt.wantSent)
			}
			if tt.wantSent > 0 {
				if want := float64(tt.wantSent-tt.wantRecv) / float64(tt.wantSent); r.LossRatio != want {
					t.Errorf("got loss %v; want %v", r.LossRatio, want)
				}
			}
			if got := [2]string{r.ErrnoUnprivileged, r.ErrnoPrivileged}; got != tt.wantErrnos {
				t.Errorf("got socket errnos %v; want %v", got, tt.wantErrnos)
			}
			// Every run stays inside its deadline, lost echoes included.
			if elapsed > helperTimeout+time.Second {
				t.Errorf("got a run of %s; want at most the %s deadline", elapsed, helperTimeout)
			}
		})
	}
}
