package agent

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func listen(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort is a loopback port where nothing listens: connects are refused.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func codes(r record.Record) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestRunLoopback(t *testing.T) {
	open, alt := listen(t), listen(t)
	closed := closedPort(t)
	tests := []struct {
		name      string
		url       string
		alt       []int
		want      []string
		wantV     record.Verdict
		wantConns int
	}{
		{"open", "rtmp://127.0.0.1:" + strconv.Itoa(open) + "/live/key", []int{alt}, nil, record.Go, 2},
		{"refused, alternative open", "rtmp://127.0.0.1:" + strconv.Itoa(closed) + "/live/key", []int{alt}, []string{"tcp.rejected"}, record.NoGo, 2},
		{"refused, no alternative", "rtmp://127.0.0.1:" + strconv.Itoa(closed) + "/live/key", []int{}, []string{"tcp.refused"}, record.NoGo, 1},
		{"bad url", "rtmp://127.0.0.1:0/live/key", nil, []string{"url.invalid"}, record.NoGo, 0},
	}
	p := &Pipeline{Profiles: config.Default().Profiles(), Log: zaptest.NewLogger(t)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Run(t.Context(), Target{Name: "t", URL: tt.url, AltPorts: tt.alt, Timeout: time.Second, RTMP: rtmp.LevelOff})
			if !slices.Equal(codes(r), tt.want) || r.Verdict != tt.wantV {
				t.Errorf("got %v %s; want %v %s", codes(r), r.Verdict, tt.want, tt.wantV)
			}
			if len(r.Results.TCP) != tt.wantConns {
				t.Errorf("got %d connects; want %d", len(r.Results.TCP), tt.wantConns)
			}
			if r.Target != "t" || strings.Contains(r.URL, "key") || r.Time.IsZero() {
				t.Errorf("got target %q url %q time %v; want t, a redacted URL and a time", r.Target, r.URL, r.Time)
			}
			b, _ := json.Marshal(r)
			if strings.Contains(string(b), "key") {
				t.Errorf("record JSON holds the stream key: %s", b)
			}
		})
	}
}

// TestConnectsShareOneDeadline: the ingest port and the alternatives on every address start together
// under one deadline, so a dropped port costs the timeout once, not once per port.
func TestConnectsShareOneDeadline(t *testing.T) {
	var mu sync.Mutex
	deadlines := map[time.Time]int{}
	var dialed []string
	p := &Pipeline{Profiles: config.Default().Profiles(), icmp: noICMP} // 192.0.2.x must not be pinged
	p.dns = func(c dns.Config) dnsProbe {
		return fakeDNS{dns.Result{Probe: "dns", Host: c.Host, Rcode: "NOERROR", A: []string{"192.0.2.1", "192.0.2.2"}, AAAA: []string{"2001:db8::1"}}}
	}
	p.tcp = func(c tcp.Config) tcpProbe {
		return fakeTCP(func(ctx context.Context) tcp.Result {
			dl, _ := ctx.Deadline()
			mu.Lock()
			deadlines[dl]++
			dialed = append(dialed, c.Address.String())
			mu.Unlock()
			return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
		})
	}
	p.rtmp = func(c rtmp.Config) rtmpProbe { return fakeRun[rtmp.Result]{rtmp.Result{Probe: "rtmp", OK: true}} }
	r := p.Run(t.Context(), Target{Name: "t", URL: "rtmp://push.example.com/live/k", Timeout: time.Second})
	if len(deadlines) != 1 || len(dialed) != 9 {
		t.Errorf("got %d deadlines for %d connects %v; want 1 deadline for 3 addresses × 3 ports", len(deadlines), len(dialed), dialed)
	}
	if r.Results.TCP[0].Role != "ingest" || r.Results.TCP[1].Role != "alternative" || r.Results.TCP[0].Port != 1935 {
		t.Errorf("got %+v; want the ingest port first", r.Results.TCP[:2])
	}
	if r.Verdict != record.Go || r.Provider != "generic" {
		t.Errorf("got %s %s; want go generic", r.Verdict, r.Provider)
	}
}

type fakeDNS struct{ r dns.Result }

func (f fakeDNS) Run(context.Context) dns.Result { return f.r }

type fakeTCP func(context.Context) tcp.Result

func (f fakeTCP) Run(ctx context.Context) tcp.Result { return f(ctx) }

func TestPickAddresses(t *testing.T) {
	in := []netip.Addr{}
	for _, s := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1", "2001:db8::2", "::ffff:192.0.2.9"} {
		in = append(in, netip.MustParseAddr(s))
	}
	got := pickAddresses(in)
	want := []string{"192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"}
	var gs []string
	for _, a := range got {
		gs = append(gs, a.String())
	}
	if !slices.Equal(gs, want) {
		t.Errorf("got %v; want %v", gs, want)
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	open := listen(t)
	p := &Pipeline{Profiles: config.Default().Profiles()}
	r := p.Run(t.Context(), Target{Name: "t", URL: "rtmp://127.0.0.1:" + strconv.Itoa(open) + "/live/k", AltPorts: []int{}, Timeout: time.Second, RTMP: rtmp.LevelOff})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back record.Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results.TCP) != 1 || back.Results.TCP[0].Port != open || back.Verdict != record.Go {
		t.Errorf("got %+v; want the record back", back)
	}
}
