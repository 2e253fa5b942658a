package agent

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// A host with A and AAAA records gets a handshake on each family whose ingest port connected:
// the configured level on the first, a handshake only on the other.
func TestOtherFamilyHandshake(t *testing.T) {
	var mu sync.Mutex
	var got []rtmp.Config
	p := &Pipeline{Profiles: config.Default().Profiles(), icmp: noICMP, path: noPath}
	p.dns = func(c dns.Config) dnsProbe {
		return fakeDNS{dns.Result{Probe: "dns", Host: c.Host, Rcode: "NOERROR", A: []string{"192.0.2.1"}, AAAA: []string{"2001:db8::1"}}}
	}
	p.tcp = func(c tcp.Config) tcpProbe {
		return fakeTCP(func(context.Context) tcp.Result {
			return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
		})
	}
	p.rtmp = func(c rtmp.Config) rtmpProbe {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
		return rtmpFunc(func(context.Context) rtmp.Result {
			return rtmp.Result{Probe: "rtmp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), Level: c.Level, OK: true}
		})
	}
	rec := p.Run(t.Context(), Target{Name: "t", URL: "rtmp://push.example.com/live/k", Timeout: time.Second, RTMP: rtmp.LevelConnect})
	if len(got) != 2 || got[0].Address.String() != "192.0.2.1:1935" || got[0].Level != rtmp.LevelConnect ||
		got[1].Address.String() != "[2001:db8::1]:1935" || got[1].Level != rtmp.LevelHandshake {
		t.Fatalf("sessions: got %+v; want connect on 192.0.2.1, then a handshake on 2001:db8::1", got)
	}
	if o := rec.Results.RTMPOther; o == nil || o.Role != "other_family" || o.Address != "2001:db8::1" {
		t.Errorf("record: got %+v; want the IPv6 handshake as other_family", o)
	}
}
