package diagnose

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestSRTFindings(t *testing.T) {
	base := srt.Result{Probe: "srt", Address: "10.0.0.2", Port: 9000, Phase: srt.PhaseConclusion, Encrypted: true, StreamID: true, ElapsedSeconds: 0.004, Sends: 2}
	with := func(f func(r *srt.Result)) *srt.Result {
		r := base
		f(&r)
		return &r
	}
	open443 := []tcp.Result{{Address: "10.0.0.2", Port: 443, OK: true, ConnectSeconds: 0.0002, Role: "alternative"},
		{Address: "10.0.0.2", Port: 80, Error: tcp.Timeout, Role: "alternative"}}
	closedAll := []tcp.Result{{Address: "10.0.0.2", Port: 443, Error: tcp.Timeout}, {Address: "10.0.0.2", Port: 80, Error: tcp.Timeout}}
	echo := &icmp.Result{Address: "10.0.0.2", Sent: 5, Received: 5, RTTAvgSeconds: 0.012}
	noEcho := &icmp.Result{Address: "10.0.0.2", Sent: 5}
	timeout := func(r *srt.Result) {
		r.Error, r.Phase, r.ElapsedSeconds, r.Sends = srt.Timeout, srt.PhaseInduction, 2, 9
	}
	reject := func(reason srt.RejectReason, code int) func(r *srt.Result) {
		return func(r *srt.Result) { r.Error, r.RejectReason, r.RejectCode = srt.Rejected, reason, code }
	}
	cases := []struct {
		name     string
		r        *srt.Result
		tcp      []tcp.Result
		icmp     *icmp.Result
		code     string // "" = no finding
		contains []string
		evidence map[string]any
	}{
		{name: "accepted", r: with(func(r *srt.Result) { r.OK = true })},
		{name: "canceled", r: with(func(r *srt.Result) { r.Error = srt.Canceled })},
		{name: "wrong passphrase", r: with(reject(srt.RejectBadSecret, 10)), code: "srt.rejected",
			contains: []string{"rejected the connection: wrong passphrase (SRT_REJ_BADSECRET, reject code 10)", "10.0.0.2 port 9000 (UDP)"},
			evidence: map[string]any{"reject_reason": "bad_secret", "reject_code": 10, "passphrase_set": true}},
		{name: "wrong passphrase, encryption not enforced", r: with(func(r *srt.Result) {
			r.Error, r.RejectReason, r.KMState = srt.Rejected, srt.RejectBadSecret, srt.KMBad
		}), code: "srt.rejected", contains: []string{"wrong passphrase (the ingest accepted the connection but could not unwrap the key"},
			evidence: map[string]any{"km_state": "bad_secret"}},
		{name: "passphrase required", r: with(func(r *srt.Result) {
			reject(srt.RejectUnsecure, 11)(r)
			r.Encrypted = false
		}), code: "srt.rejected", contains: []string{"a passphrase is required (SRT_REJ_UNSECURE, reject code 11)"}},
		{name: "passphrase not expected", r: with(reject(srt.RejectUnsecure, 11)), code: "srt.rejected",
			contains: []string{"not encrypted, but the URL sets a passphrase"}},
		{name: "stream id refused without a reason", r: with(reject(srt.RejectPeer, 2)), code: "srt.rejected",
			contains: []string{"refused without a reason", "SRT_REJ_PEER"}},
		{name: "stream id unauthorized", r: with(reject(srt.RejectXUnauthorized, 1401)), code: "srt.rejected",
			contains: []string{"stream id refused: not authorized (SRT_REJX_UNAUTHORIZED, reject code 1401)"}},
		{name: "stream in use", r: with(reject(srt.RejectXConflict, 1409)), code: "srt.rejected",
			contains: []string{"resource busy: another encoder already publishes this stream"}},
		{name: "backlog", r: with(reject(srt.RejectBacklog, 5)), code: "srt.rejected", contains: []string{"resource busy"}},
		{name: "user code", r: with(reject(srt.RejectUser, 2005)), code: "srt.rejected", contains: []string{"(reject code 2005)"}},
		{name: "HSv4 listener", r: with(func(r *srt.Result) {
			r.Error, r.RejectReason, r.Detail, r.Phase = srt.Rejected, srt.RejectVersion, "hsv4", srt.PhaseInduction
		}), code: "srt.rejected", contains: []string{"old SRT handshake (v4"}},
		{name: "UDP dropped while TCP 443 connects and ICMP answers", r: with(timeout), tcp: open443, icmp: echo, code: "srt.timeout",
			contains: []string{"no answer to the SRT handshake from 10.0.0.2 port 9000 (UDP) in 2.0 s, while TCP 443 on the same server connects (0.20 ms) and it answers ICMP echo (12.0 ms): UDP 9000 is dropped on the way — by this network's firewall, or by the server's"},
			evidence: map[string]any{"open_ports": []int{443}, "icmp_answered": true, "phase": "induction", "packets_sent": 9}},
		{name: "UDP dropped, ICMP only", r: with(timeout), tcp: closedAll, icmp: echo, code: "srt.timeout",
			contains: []string{"while it answers ICMP echo"}},
		{name: "nothing answers", r: with(timeout), tcp: closedAll, icmp: noEcho, code: "srt.timeout",
			contains: []string{"nothing else on the server answered (no TCP port connected, no ICMP echo answered)"},
			evidence: map[string]any{"icmp_answered": false}},
		{name: "nothing answers, ICMP not measured", r: with(timeout), tcp: closedAll, code: "srt.timeout",
			contains: []string{"(no TCP port connected, ICMP echo not measured)"}},
		{name: "conclusion unanswered", r: with(func(r *srt.Result) { r.Error = srt.Timeout }), tcp: open443, code: "srt.timeout",
			contains: []string{"answered the first handshake packet (induction) but not the conclusion"}},
		{name: "port unreachable", r: with(func(r *srt.Result) { r.Error, r.Errno, r.Phase = srt.Refused, "ECONNREFUSED", srt.PhaseInduction }),
			code: "srt.unreachable", contains: []string{"nothing listens for SRT at 10.0.0.2 port 9000 (UDP): the host answered the handshake with ICMP port unreachable"},
			evidence: map[string]any{"errno": "ECONNREFUSED"}},
		{name: "host unreachable", r: with(func(r *srt.Result) { r.Error, r.Errno = srt.Unreachable, "EHOSTUNREACH" }),
			code: "srt.unreachable", contains: []string{"cannot be reached: EHOSTUNREACH"}},
		{name: "local firewall", r: with(func(r *srt.Result) { r.Error, r.Errno = srt.Denied, "EPERM" }),
			code: "srt.unreachable", contains: []string{"this host refused to send UDP"}},
		{name: "another service", r: with(func(r *srt.Result) { r.Error = srt.NotSRT }), code: "srt.not_srt", contains: []string{"not SRT"}},
		{name: "IPv6", r: with(func(r *srt.Result) { r.Address, r.Error = "2001:db8::2", srt.Refused }), code: "srt.unreachable",
			contains: []string{"[2001:db8::2] port 9000"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			fs := srtFindings(tt.r, tt.tcp, tt.icmp)
			if tt.code == "" {
				if len(fs) != 0 {
					t.Fatalf("got %s; want no finding", dump(fs))
				}
				return
			}
			if len(fs) != 1 || fs[0].Code != tt.code || fs[0].Severity != record.Error || fs[0].Remedy == "" || !Known(fs[0].Code) {
				t.Fatalf("got %s; want one %s error with a remedy", dump(fs), tt.code)
			}
			for _, c := range tt.contains {
				if !strings.Contains(fs[0].Message, c) {
					t.Errorf("message %q: want it to contain %q", fs[0].Message, c)
				}
			}
			for k, v := range tt.evidence {
				got, _ := json.Marshal(fs[0].Evidence[k])
				want, _ := json.Marshal(v)
				if string(got) != string(want) {
					t.Errorf("evidence %s: got %s; want %s", k, got, want)
				}
			}
		})
	}
}

// TestSRTReachedNotUnreachable: an ingest that answered the SRT handshake is reached, whatever the
// TCP alternatives and ICMP say: icmp.unavailable must not claim nothing reaches it.
func TestSRTReachedNotUnreachable(t *testing.T) {
	u, _ := ingesturl.Parse("srt://10.0.0.2:9000")
	in := Input{URL: u}
	in.Results.TCP = []tcp.Result{{Address: "10.0.0.2", Port: 443, Error: tcp.Timeout, Role: "alternative"}}
	in.Results.ICMP = &icmp.Result{Address: "10.0.0.2", Sent: 5}
	in.Results.SRT = &srt.Result{Address: "10.0.0.2", Port: 9000, OK: true, Phase: srt.PhaseConclusion}
	for _, f := range Findings(in) {
		if strings.Contains(f.Message, "nothing reaches it") {
			t.Errorf("got %s: %s; want no claim that nothing reaches an ingest that answered", f.Code, f.Message)
		}
	}
}

// TestSRTTargetFindings runs Findings on whole srt:// target runs: the TCP connects are
// alternatives (no tcp.* finding even when one of them is on the SRT port), and a rejection on a
// URL already known to be expired names that as the likely cause.
func TestSRTTargetFindings(t *testing.T) {
	raw := "srt://push.example.com:9000?streamid=#!::h=push.example.com,r=live/test,txSecret=" + vecSecret + ",txTime=" + vecTxTime + "&passphrase=venue-pass-0123"
	u, err := ingesturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := provider.Resolve("", u, provider.Builtin())
	lint := ingesturl.LintURL(u, ingesturl.LintOptions{Signed: prof.SignedURL, Keys: []ingesturl.Key{vecKey}})
	in := Input{URL: u, Provider: prof, Now: vecExpiry.Add(time.Hour)}
	in.Results.URL = &lint
	in.Results.TCP = []tcp.Result{{Address: "10.0.0.2", Port: 9000, Error: tcp.Refused, Role: "alternative"},
		{Address: "10.0.0.2", Port: 443, OK: true, Role: "alternative"}}
	in.Results.SRT = &srt.Result{Probe: "srt", Address: "10.0.0.2", Port: 9000, Error: srt.Rejected, RejectReason: srt.RejectXUnauthorized, RejectCode: 1401, Phase: srt.PhaseConclusion}
	fs := Findings(in)
	if got, want := codes(fs), []string{"url.txtime_expired/error", "srt.rejected/error"}; !slices.Equal(got, want) {
		t.Fatalf("got %v; want %v\n%s", got, want, dump(fs))
	}
	if !strings.Contains(fs[1].Message, "likely because the URL's txTime has expired (url.txtime_expired)") || fs[1].Evidence["likely_cause"] != "url.txtime_expired" {
		t.Errorf("srt.rejected: got %q, evidence %v; want the expired URL named as the likely cause", fs[1].Message, fs[1].Evidence)
	}
	b, _ := json.Marshal(fs)
	for _, secret := range []string{vecSecret, "venue-pass-0123", "live/test"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("findings hold %q: %s", secret, b)
		}
	}
}
