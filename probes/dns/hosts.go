package dns

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// HostsFile is the file the system consults before DNS (nsswitch "hosts: files dns"; Windows
// reads its own): a name it maps never reaches a resolver, for the encoder either.
func HostsFile() string {
	if runtime.GOOS == "windows" {
		root := os.Getenv("SystemRoot")
		if root == "" {
			root = `C:\Windows`
		}
		return filepath.Join(root, "System32", "drivers", "etc", "hosts")
	}
	return "/etc/hosts"
}

// maxHostsBytes bounds the read of the hosts file (ad-block lists reach a few MB).
const maxHostsBytes = 16 << 20

// lookupHosts returns the addresses the hosts file at path gives host (lower case, no trailing
// dot), IPv4 and IPv6 apart, in the file's order; none when the file does not name it or cannot
// be read.
func lookupHosts(path, host string) (a, aaaa []string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	sc := bufio.NewScanner(io.LimitReader(f, maxHostsBytes))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		for _, name := range fields[1:] {
			if strings.TrimSuffix(strings.ToLower(name), ".") != host {
				continue
			}
			ip = ip.WithZone("")
			if ip.Is4() || ip.Is4In6() {
				a = append(a, ip.Unmap().String())
			} else {
				aaaa = append(aaaa, ip.String())
			}
			break
		}
	}
	return a, aaaa
}
