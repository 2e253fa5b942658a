package srt

import (
	"context"
	"encoding/json"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testPassphrase = "correct horse battery"
	testStreamID   = "#!::h=push.example.com,r=live/show,txSecret=f85a2ab363fe4deaffef9754d79da6fe,txTime=5C271099"
)

func run(t *testing.T, addr netip.AddrPort, cfg Config, timeout time.Duration) Result {
	t.Helper()
	cfg.Address = addr
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	return New(cfg).Run(ctx)
}

func TestAccepted(t *testing.T) {
	f := startFake(t, &fakeListener{passphrase: testPassphrase})
	r := run(t, f.addr, Config{StreamID: testStreamID, Passphrase: testPassphrase, Latency: 300 * time.Millisecond}, 2*time.Second)
	if !r.OK || r.Error != OK || r.Phase != PhaseConclusion {
		t.Fatalf("got ok=%v error=%q phase=%s; want accepted at conclusion", r.OK, r.Error, r.Phase)
	}
	if r.KMState != KMSecured || r.KeyLength != 16 || !r.Encrypted || !r.StreamID {
		t.Errorf("got km %q key %d encrypted %v stream id %v; want secured, 16, true, true", r.KMState, r.KeyLength, r.Encrypted, r.StreamID)
	}
	if r.PeerVersion != "1.5.1" || r.LatencySeconds != 0.2 {
		t.Errorf("got peer version %q latency %v; want 1.5.1 and the listener's 200 ms", r.PeerVersion, r.LatencySeconds)
	}
	if r.RTTSeconds <= 0 || r.RTTSeconds > r.InductionSeconds+1e-9 || r.ConclusionSeconds <= 0 {
		t.Errorf("got rtt %v induction %v conclusion %v; want a measured round trip", r.RTTSeconds, r.InductionSeconds, r.ConclusionSeconds)
	}
	if r.Sends != 2 {
		t.Errorf("sends: got %d; want 2 (induction, conclusion)", r.Sends)
	}
	// The listener received what an encoder sends: the stream id byte for byte (libsrt's word
	// order), key material its passphrase unwraps, and a SHUTDOWN once accepted.
	waitFor(t, "the SHUTDOWN", func() bool { _, _, s, _, _ := f.stats(); return s == 1 })
	_, _, _, sids, kmOK := f.stats()
	if !slices.Equal(sids, []string{testStreamID}) || !slices.Equal(kmOK, []bool{true}) {
		t.Errorf("listener received stream ids %q, key material ok %v; want [%q] [true]", sids, kmOK, testStreamID)
	}
	// The result is what the record carries: no secret in it.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testPassphrase, "f85a2ab363fe4deaffef9754d79da6fe", "live/show"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("result JSON %s holds the secret %q", b, secret)
		}
	}
}

func TestKeyLength(t *testing.T) {
	tests := []struct {
		advertise, configured, want int
	}{
		{0, 0, 16}, {32, 0, 32}, {24, 0, 24}, {32, 16, 16},
	}
	for _, tt := range tests {
		f := startFake(t, &fakeListener{passphrase: testPassphrase, advertiseKeyLen: tt.advertise})
		r := run(t, f.addr, Config{Passphrase: testPassphrase, KeyLength: tt.configured}, 2*time.Second)
		if !r.OK || r.KeyLength != tt.want {
			t.Errorf("advertised %d, configured %d: got ok=%v key %d; want %d", tt.advertise, tt.configured, r.OK, r.KeyLength, tt.want)
		}
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name   string
		fake   *fakeListener
		cfg    Config
		reason RejectReason
		code   int
		km     string
		phase  Phase
	}{
		{name: "wrong passphrase", fake: &fakeListener{passphrase: testPassphrase}, cfg: Config{Passphrase: "another passphrase"},
			reason: RejectBadSecret, code: 10, phase: PhaseConclusion},
		{name: "passphrase required", fake: &fakeListener{passphrase: testPassphrase}, cfg: Config{},
			reason: RejectUnsecure, code: 11, phase: PhaseConclusion},
		{name: "passphrase not expected", fake: &fakeListener{}, cfg: Config{Passphrase: testPassphrase},
			reason: RejectUnsecure, code: 11, phase: PhaseConclusion},
		{name: "no reason (a listen callback said no)", fake: &fakeListener{rejectConclusion: 1002}, cfg: Config{StreamID: "x"},
			reason: RejectPeer, code: 2, phase: PhaseConclusion},
		{name: "resource busy", fake: &fakeListener{rejectConclusion: 1003}, reason: RejectResource, code: 3, phase: PhaseConclusion},
		{name: "backlog at induction", fake: &fakeListener{rejectInduction: 1005}, reason: RejectBacklog, code: 5, phase: PhaseInduction},
		{name: "crypto mode", fake: &fakeListener{rejectConclusion: 1017}, reason: RejectCrypto, code: 17, phase: PhaseConclusion},
		{name: "unknown internal code", fake: &fakeListener{rejectConclusion: 1099}, reason: RejectOther, code: 99, phase: PhaseConclusion},
		{name: "stream id unauthorized (libsrt)", fake: &fakeListener{rejectConclusion: 2401}, reason: RejectXUnauthorized, code: 1401, phase: PhaseConclusion},
		{name: "stream id forbidden (libsrt)", fake: &fakeListener{rejectConclusion: 2403}, reason: RejectXForbidden, code: 1403, phase: PhaseConclusion},
		{name: "stream not found (libsrt)", fake: &fakeListener{rejectConclusion: 2404}, reason: RejectXNotFound, code: 1404, phase: PhaseConclusion},
		{name: "stream in use (libsrt)", fake: &fakeListener{rejectConclusion: 2409}, reason: RejectXConflict, code: 1409, phase: PhaseConclusion},
		{name: "unauthorized (gosrt's wire value)", fake: &fakeListener{rejectConclusion: 1401}, reason: RejectXUnauthorized, code: 1401, phase: PhaseConclusion},
		{name: "other access code", fake: &fakeListener{rejectConclusion: 2499}, reason: RejectXOther, code: 1499, phase: PhaseConclusion},
		{name: "user code", fake: &fakeListener{rejectConclusion: 3005}, reason: RejectUser, code: 2005, phase: PhaseConclusion},
		{name: "KMRSP bad secret, encryption not enforced", fake: &fakeListener{passphrase: testPassphrase, kmrsp: kmState1(kmBadSecret)},
			cfg: Config{Passphrase: "another passphrase"}, reason: RejectBadSecret, km: KMBad, phase: PhaseConclusion},
		{name: "KMRSP no secret", fake: &fakeListener{kmrsp: []byte{0, 0, 0, kmNoSecret}}, cfg: Config{Passphrase: testPassphrase},
			reason: RejectUnsecure, km: KMNoSecret, phase: PhaseConclusion},
		{name: "an HSv4 listener (SRT < 1.3)", fake: &fakeListener{v4: true}, reason: RejectVersion, phase: PhaseInduction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, tt.fake)
			start := time.Now()
			r := run(t, f.addr, tt.cfg, 2*time.Second)
			if r.OK || r.Error != Rejected || r.RejectReason != tt.reason || r.RejectCode != tt.code || r.KMState != tt.km || r.Phase != tt.phase {
				t.Errorf("got ok=%v %q reason %q code %d km %q at %s; want rejected %q code %d km %q at %s",
					r.OK, r.Error, r.RejectReason, r.RejectCode, r.KMState, r.Phase, tt.reason, tt.code, tt.km, tt.phase)
			}
			if el := time.Since(start); el > time.Second {
				t.Errorf("took %s; a rejection must end the probe at once", el)
			}
		})
	}
}

func TestNotSRT(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fake   *fakeListener
		detail string
	}{
		{"garbage", &fakeListener{garbage: true}, ""},
		{"v5 without the magic", &fakeListener{badMagic: true}, "bad_magic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, tt.fake)
			r := run(t, f.addr, Config{}, 600*time.Millisecond)
			if r.Error != NotSRT || r.Detail != tt.detail {
				t.Errorf("got %q detail %q; want not_srt %q", r.Error, r.Detail, tt.detail)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	const timeout = 800 * time.Millisecond
	for _, tt := range []struct {
		name  string
		fake  *fakeListener
		phase Phase
	}{
		{"silent port (UDP dropped)", &fakeListener{silent: true}, PhaseInduction},
		{"induction answered, conclusion not", &fakeListener{silentConclusion: true}, PhaseConclusion},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, tt.fake)
			start := time.Now()
			r := run(t, f.addr, Config{StreamID: "s"}, timeout)
			el := time.Since(start)
			if r.Error != Timeout || r.Phase != tt.phase {
				t.Errorf("got %q at %s; want timeout at %s", r.Error, r.Phase, tt.phase)
			}
			if el < timeout-20*time.Millisecond || el > timeout+300*time.Millisecond {
				t.Errorf("took %s; want the %s timeout", el, timeout)
			}
			// Resent every 250 ms, as libsrt's caller does: 0, 250, 500, 750 ms.
			if r.Sends < 3 || r.Sends > 5 {
				t.Errorf("sends: got %d; want about one per 250 ms", r.Sends)
			}
		})
	}
}

// TestLostInduction: a lost datagram costs a resend, not the probe; the RTT is then the
// conclusion's, since the resent induction's answer cannot be matched to one send.
func TestLostInduction(t *testing.T) {
	f := startFake(t, &fakeListener{dropInductions: 1})
	r := run(t, f.addr, Config{}, 2*time.Second)
	if !r.OK || r.Sends != 3 {
		t.Fatalf("got ok=%v error %q sends %d; want accepted after one resend", r.OK, r.Error, r.Sends)
	}
	if r.InductionSeconds < 0.2 || r.RTTSeconds <= 0 || r.RTTSeconds > 0.1 {
		t.Errorf("got induction %v s, rtt %v s; want ≥ 250 ms to the answer and the conclusion's round trip", r.InductionSeconds, r.RTTSeconds)
	}
}

func TestRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Go turns ICMP error reporting off on Windows UDP sockets (SIO_UDP_CONNRESET): nothing listening reads as a timeout there")
	}
	f := startFake(t, &fakeListener{})
	addr := f.addr
	f.pc.Close() // nothing listens there any more: the kernel answers ICMP port unreachable
	<-f.done
	r := run(t, addr, Config{}, 2*time.Second)
	if r.Error != Refused || r.Errno != "ECONNREFUSED" || r.Phase != PhaseInduction {
		t.Errorf("got %q %q at %s; want refused ECONNREFUSED at induction", r.Error, r.Errno, r.Phase)
	}
}

// TestCanceled: a stopped run ends at once, long before its deadline, as canceled, and leaves no
// goroutine behind (TestMain's goleak).
func TestCanceled(t *testing.T) {
	f := startFake(t, &fakeListener{silent: true})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := New(Config{Address: f.addr}).Run(ctx)
	if r.Error != Canceled {
		t.Errorf("got %q; want canceled", r.Error)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s after a cancel at 100 ms", el)
	}
}

// TestNoDeadline: a context without a deadline still ends, at fallbackTimeout.
func TestNoDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("waits fallbackTimeout")
	}
	f := startFake(t, &fakeListener{silent: true})
	start := time.Now()
	r := New(Config{Address: f.addr}).Run(context.Background())
	if el := time.Since(start); r.Error != Timeout || el < fallbackTimeout-50*time.Millisecond || el > fallbackTimeout+time.Second {
		t.Errorf("got %q after %s; want timeout after %s", r.Error, el, fallbackTimeout)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
