package lab

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// Addresses of the lab. They are private, but they exist only inside the lab's namespaces.
var (
	VenueAddr    = netip.MustParseAddr("10.231.1.2")
	RouterVenue  = netip.MustParseAddr("10.231.1.1") // the venue's gateway
	RouterServer = netip.MustParseAddr("10.231.2.1")
	IngestAddr   = netip.MustParseAddr("10.231.2.10") // nginx: 1935 (RTMP when the module is installed), 443, 80
	ResolverAddr = netip.MustParseAddr("10.231.2.53") // dnsmasq, the venue's resolver
)

// IngestPorts are the ports nginx listens on at IngestAddr.
var IngestPorts = []int{1935, 443, 80}

// Prefix starts the name of every namespace the lab creates.
const Prefix = "ipb-"

// Record is one name the lab's resolver knows: an address, or a CNAME to another lab name.
type Record struct {
	Name  string
	A     netip.Addr // set for an address record
	AAAA  netip.Addr // an IPv6 address beside A (Options.IPv6)
	CNAME string     // set for an alias; its target must itself be a Record (dnsmasq's rule)
}

// Names the standard lab resolves. Anything else under lab.test is NXDOMAIN.
const (
	NameOpen     = "open.lab.test"    // A → IngestAddr: a generic ingest
	NamePush     = "push.lab.test"    // CNAME → push.lab.test.tlivepush.com → IngestAddr: a correct Tencent push domain
	NameLegacy   = "legacy.lab.test"  // CNAME → legacy.lab.test.livepush.myqcloud.com: Tencent's legacy push suffix
	NameNoCNAME  = "nocname.lab.test" // A → IngestAddr, no CNAME: a Tencent push domain set up wrong
	NamePlayback = "play.lab.test"    // CNAME → play.lab.test.tlivecdn.com: a playback (CDN) domain
	NameOwnLB    = "own.lab.test"     // CNAME → lb.lab.test → IngestAddr: a CNAME to somewhere of one's own
	NameMissing  = "missing.lab.test" // not defined: NXDOMAIN
)

// DefaultRecords is what the standard lab's resolver serves.
func DefaultRecords() []Record {
	a := func(n string) Record { return Record{Name: n, A: IngestAddr} }
	c := func(n, t string) Record { return Record{Name: n, CNAME: t} }
	return []Record{
		a(NameOpen),
		a(NameNoCNAME),
		a("push.lab.test.tlivepush.com"), c(NamePush, "push.lab.test.tlivepush.com"),
		a("legacy.lab.test.livepush.myqcloud.com"), c(NameLegacy, "legacy.lab.test.livepush.myqcloud.com"),
		a("play.lab.test.tlivecdn.com"), c(NamePlayback, "play.lab.test.tlivecdn.com"),
		a("lb.lab.test"), c(NameOwnLB, "lb.lab.test"),
	}
}

// localDomains are answered from the lab's records only: a name not defined is NXDOMAIN, and no
// query is ever forwarded (there is no upstream; --no-resolv).
var localDomains = []string{"lab.test", "tlivepush.com", "livepush.myqcloud.com", "tlivecdn.com"}

// dnsmasqConfig is the resolver's configuration file. The options that matter for isolation
// (--no-resolv, --no-hosts) are also on the command line.
func dnsmasqConfig(id string, recs []Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ingestprobe lab %s: generated, do not edit\n", id)
	fmt.Fprintf(&b, "port=53\nlisten-address=%s\nbind-interfaces\n", ResolverAddr)
	// nobody exists everywhere; dnsmasq's default user ("dnsmasq") comes with the dnsmasq
	// package, not with dnsmasq-base.
	b.WriteString("user=nobody\nno-resolv\nno-hosts\nno-negcache\nlog-queries\n")
	for _, d := range localDomains {
		fmt.Fprintf(&b, "local=/%s/\n", d)
	}
	for _, r := range recs {
		switch {
		case r.A.IsValid() && r.AAAA.IsValid():
			fmt.Fprintf(&b, "host-record=%s,%s,%s\n", r.Name, r.A, r.AAAA)
		case r.A.IsValid():
			fmt.Fprintf(&b, "host-record=%s,%s\n", r.Name, r.A)
		}
	}
	for _, r := range recs {
		if r.CNAME != "" {
			fmt.Fprintf(&b, "cname=%s,%s\n", r.Name, r.CNAME)
		}
	}
	return b.String()
}

// rtmpModules are where Debian's libnginx-mod-rtmp installs the module.
var rtmpModules = []string{"/usr/lib/nginx/modules/ngx_rtmp_module.so", "/usr/lib64/nginx/modules/ngx_rtmp_module.so"}

// rtmpModule is the path of the nginx RTMP module, or "" when it is not installed.
func rtmpModule() string {
	for _, p := range rtmpModules {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// nginxConfig serves IngestAddr on 1935, 443 and 80. 443 is plain HTTP: the TCP probes need only a
// listener. 1935 speaks RTMP when the module is installed, so RTMP tests can reuse the lab.
// Every path is inside dir: nginx must not touch /var/lib/nginx or /var/log/nginx.
// Extra addresses (IngestAddr6 with Options.IPv6) get the same listeners.
func nginxConfig(dir, module, rtmpServer string, extra ...netip.Addr) string {
	listen := func(port int) string {
		var b strings.Builder
		for _, a := range append([]netip.Addr{IngestAddr}, extra...) {
			fmt.Fprintf(&b, "listen %s;", netip.AddrPortFrom(a, uint16(port)))
		}
		return b.String()
	}
	var b strings.Builder
	if module != "" {
		fmt.Fprintf(&b, "load_module %s;\n", module)
	}
	// One process, in the foreground: the lab stops it by its PID, and there are no workers to
	// orphan if it is killed.
	fmt.Fprintf(&b, `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		%[2]s
		%[3]s
`, dir, listen(80), listen(443))
	if module == "" {
		fmt.Fprintf(&b, "\t\t%s\n", listen(1935))
	}
	b.WriteString("\t\tlocation / { return 200 \"ingestprobe lab\\n\"; }\n")
	if module != "" {
		// nginx-rtmp's statistics: what the ingest sees of a stream (codecs, size, rates).
		b.WriteString("\t\tlocation /stat { rtmp_stat all; }\n")
	}
	b.WriteString("\t}\n}\n")
	if module != "" {
		if rtmpServer == "" {
			rtmpServer = "application live { live on; }"
		}
		fmt.Fprintf(&b, "rtmp {\n\tserver {\n\t\t%s\n\t\t%s\n\t}\n}\n", listen(1935), rtmpServer)
	}
	return b.String()
}
