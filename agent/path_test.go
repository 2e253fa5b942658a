package agent

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// The trace mode decides what is traced: auto only a family whose ingest port failed on every
// address (with the alternative that connected), always the ingest port of each family, off none;
// srt:// never (its ingest port is UDP).
func TestTraceModes(t *testing.T) {
	open := map[string]bool{ // address:port → connects
		"192.0.2.1:443": true, "192.0.2.1:80": true, "[2001:db8::1]:1935": true, "[2001:db8::1]:443": true, "[2001:db8::1]:80": true,
	}
	newPipeline := func(traced *[]string) *Pipeline {
		var mu sync.Mutex
		p := &Pipeline{Profiles: config.Default().Profiles(), icmp: noICMP}
		p.dns = func(c dns.Config) dnsProbe {
			return fakeDNS{dns.Result{Probe: "dns", Host: c.Host, Rcode: "NOERROR", A: []string{"192.0.2.1"}, AAAA: []string{"2001:db8::1"}}}
		}
		p.tcp = func(c tcp.Config) tcpProbe {
			return fakeTCP(func(context.Context) tcp.Result {
				r := tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: open[c.Address.String()]}
				if !r.OK {
					r.Error = tcp.Timeout
				}
				return r
			})
		}
		p.rtmp = func(c rtmp.Config) rtmpProbe { return fakeRun[rtmp.Result]{rtmp.Result{Probe: "rtmp", OK: true}} }
		p.path = func(c path.Config) pathProbe {
			mu.Lock()
			*traced = append(*traced, c.Address.String())
			mu.Unlock()
			return fakeRun[path.Result]{path.Result{Probe: "path", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}}
		}
		return p
	}
	for _, tt := range []struct {
		mode path.Mode
		url  string
		want []string
	}{
		{"", "rtmp://push.example.com/live/k", []string{"192.0.2.1:1935", "192.0.2.1:443"}}, // IPv4's 1935 fails, IPv6's connects
		{path.ModeAuto, "rtmp://push.example.com/live/k", []string{"192.0.2.1:1935", "192.0.2.1:443"}},
		{path.ModeAlways, "rtmp://push.example.com/live/k", []string{"192.0.2.1:1935", "192.0.2.1:443", "[2001:db8::1]:1935"}},
		{path.ModeOff, "rtmp://push.example.com/live/k", nil},
		{path.ModeAuto, "rtmp://push.example.com:443/live/k", nil}, // 443 connects on both families
		{path.ModeAlways, "srt://push.example.com:9000?streamid=x", nil},
	} {
		t.Run(string(tt.mode)+" "+tt.url, func(t *testing.T) {
			var traced []string
			p := newPipeline(&traced)
			r := p.Run(t.Context(), Target{Name: "t", URL: tt.url, Timeout: time.Second, Trace: tt.mode})
			slices.Sort(traced)
			if !slices.Equal(traced, tt.want) {
				t.Errorf("traced %v; want %v", traced, tt.want)
			}
			if len(r.Results.Path) != len(tt.want) {
				t.Errorf("record: %d traces; want %d", len(r.Results.Path), len(tt.want))
			}
			for _, tr := range r.Results.Path {
				if (tr.Port == 1935) != (tr.Role == "ingest") {
					t.Errorf("trace of port %d has role %q", tr.Port, tr.Role)
				}
			}
		})
	}
}

// noPath stands in for the path trace in tests whose addresses are not loopback: no SYN may
// leave for them.
func noPath(c path.Config) pathProbe {
	return fakeRun[path.Result]{path.Result{Probe: "path", Address: c.Address.Addr().String(), Port: int(c.Address.Port()),
		Error: path.Unsupported, Reason: "path not traced: test"}}
}
