package diagnose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestCauseOrdering: a publish the ingest accepted and dropped at once, or closed without a status,
// names every cause, ordered by what the URL doctor knows of the signature.
func TestCauseOrdering(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const signed = "rtmp://push.example.com/live/show42?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
	held := &rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhaseHold, Error: rtmp.Closed,
		Status: rtmp.StatusPublishStart, HoldSeconds: 0.004, HandshakeSeconds: 0.0019, RTMPConnectSeconds: 0.042}
	closed := &rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish, Error: rtmp.Closed}
	late := &rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhaseHold, Error: rtmp.Closed,
		Status: rtmp.StatusPublishStart, HoldSeconds: 1.6}
	cases := []struct {
		name   string
		url    string
		lint   ingesturl.Lint
		r      *rtmp.Result
		causes []string
		msg    string // the message's cause clause
	}{
		{"signed and verified", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Signature: ingesturl.SigOK, Expires: now.Add(24 * time.Hour)}, held,
			[]string{"stream_in_use", "signature"},
			"accepted the publish (NetStream.Publish.Start), then closed the connection at once: the stream is already being published by another encoder, or the ingest refused the signature — the URL's signature checked out offline, so another encoder is the likelier cause"},
		{"expired", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Signature: ingesturl.SigOK, Expires: now.Add(-time.Hour)}, held,
			[]string{"signature", "stream_in_use"},
			"then closed the connection at once: the ingest refused the signature, or the stream is already being published by another encoder — likely because the URL's txTime has expired (url.txtime_expired)"},
		{"mismatched", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Signature: ingesturl.SigMismatch, KeysTried: 1, Expires: now.Add(24 * time.Hour)}, held,
			[]string{"signature", "stream_in_use"},
			"the ingest refused the signature, or the stream is already being published by another encoder — likely because txSecret does not match the signing key"},
		{"unsigned", "rtmp://ingest.example.net/app/key123", ingesturl.Lint{Probe: "url", Scheme: "rtmp"}, held,
			[]string{"stream_in_use", "stream_key"},
			"then closed the connection at once: the stream is already being published by another encoder, or the ingest refused the stream key"},
		{"signed, no key to check it", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Signature: ingesturl.SigNotChecked, Expires: now.Add(24 * time.Hour)}, held,
			[]string{"stream_in_use", "signature"},
			"the stream is already being published by another encoder, or the ingest refused the signature"},
		{"closed without a status, verified", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Signature: ingesturl.SigOK, Expires: now.Add(24 * time.Hour)}, closed,
			[]string{"stream_in_use", "signature"},
			"closed the connection after the publish request without a status: the stream is already being published by another encoder, or the ingest refused the signature"},
		{"closed without a status, expired", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Expires: now.Add(-time.Hour)}, closed,
			[]string{"signature", "stream_in_use"},
			"without a status: the ingest refused the signature, or the stream is already being published by another encoder"},
		{"dropped later", signed, ingesturl.Lint{Probe: "url", Scheme: "rtmp", Signature: ingesturl.SigOK, Expires: now.Add(24 * time.Hour)}, late,
			[]string{"signature", "publish_check", "stream_in_use"},
			"then closed the connection after 1.6 s: the ingest refused the signature, a check that ends after publishing starts (an on_publish callback, a limit on streams or bitrate) refused it, or the stream is already being published by another encoder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := ingesturl.Parse(c.url)
			if err != nil {
				t.Fatal(err)
			}
			l := c.lint
			fs := Findings(Input{URL: u, Now: now, Results: record.Results{URL: &l,
				TCP:  []tcp.Result{{Probe: "tcp", Address: "10.0.0.2", Port: 1935, Role: "ingest", OK: true}},
				RTMP: c.r}})
			i := indexOf(fs, "rtmp.publish_rejected")
			if i < 0 {
				t.Fatalf("got %v; want rtmp.publish_rejected", fs)
			}
			f := fs[i]
			if got, _ := f.Evidence["causes"].([]string); !slices.Equal(got, c.causes) {
				t.Errorf("got causes %v; want %v", got, c.causes)
			}
			if !strings.Contains(f.Message, c.msg) {
				t.Errorf("got message\n%s\nwant it to contain\n%s", f.Message, c.msg)
			}
			// The remedy gives a step per cause, in the same order.
			steps := map[string]string{"stream_in_use": "list of live streams", "signature": "freshly signed URL",
				"stream_key": "stream key again", "publish_check": "publish callback"}
			last := -1
			for _, k := range c.causes {
				j := strings.Index(f.Remedy, steps[k])
				if j < 0 || j < last {
					t.Errorf("remedy %q: want %q (for %s) after the previous cause's step", f.Remedy, steps[k], k)
				}
				last = j
			}
		})
	}
	// Where the reply tells the causes apart, one precise finding stays.
	u, _ := ingesturl.Parse(signed)
	fs := Findings(Input{URL: u, Results: record.Results{RTMP: &rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish,
		Phase: rtmp.PhasePublish, Error: rtmp.InUse, Status: rtmp.StatusPublishBadName}}})
	if len(fs) != 1 || fs[0].Code != "rtmp.stream_in_use" || fs[0].Evidence["causes"] != nil {
		t.Errorf("BadName: got %+v; want one rtmp.stream_in_use naming one cause", fs)
	}
}

// TestCertificateDescriptions: tls.failed names whose certificate it was and who issued it, from
// certificates made here and verified the way the probe's TLS client verifies them.
func TestCertificateDescriptions(t *testing.T) {
	now := time.Now()
	const host = "push.example.com"
	type certSpec struct {
		subject, issuer  pkix.Name
		names            []string
		notBefore, after time.Time
		selfSigned       bool
	}
	leafOf := func(s certSpec) (*x509.Certificate, *x509.CertPool) {
		t.Helper()
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: s.issuer, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(48 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := x509.ParseCertificate(caDER)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: s.subject, DNSNames: s.names, NotBefore: s.notBefore, NotAfter: s.after,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		parent, signer := ca, any(caKey)
		if s.selfSigned {
			lt.Issuer = s.subject
			parent, signer = lt, key
		}
		der, err := x509.CreateCertificate(rand.Reader, lt, parent, &key.PublicKey, signer)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		return leaf, pool
	}
	valid := func(subject, issuer pkix.Name, names ...string) certSpec {
		return certSpec{subject: subject, issuer: issuer, names: names, notBefore: now.Add(-time.Hour), after: now.Add(24 * time.Hour)}
	}
	ingest := pkix.Name{CommonName: host, Organization: []string{"Example Media"}}
	cases := []struct {
		name     string
		spec     certSpec
		trusted  bool // verify against the issuing CA (expiry and name checks) rather than no roots
		reason   rtmp.TLSReason
		msg      []string
		remedy   string
		notInMsg string
	}{
		{"firewall re-signs", valid(ingest, pkix.Name{CommonName: "FortiGate CA", Organization: []string{"Fortinet"}}, host), false, rtmp.TLSUnknownAuthority,
			[]string{"the certificate for push.example.com", "was issued by 'FortiGate CA' (Fortinet), which this machine does not trust", "this network inspects TLS"},
			"exempt push.example.com from TLS inspection", ""},
		{"a private CA, not the ingest's", valid(ingest, pkix.Name{CommonName: "Corp Root CA 2", Organization: []string{"Acme Holdings"}}, host), false, rtmp.TLSUnknownAuthority,
			[]string{"issued by 'Corp Root CA 2' (Acme Holdings)", "this network may inspect TLS, or the ingest uses a private CA"},
			"exempt push.example.com from TLS inspection", ""},
		{"the ingest's own private CA", valid(ingest, pkix.Name{CommonName: "Example Media Issuing CA", Organization: []string{"Example Media"}}, host), false, rtmp.TLSUnknownAuthority,
			[]string{"issued by 'Example Media Issuing CA' (Example Media)", "a private CA of the ingest's own"},
			"set ca_file", "inspect"},
		{"self-signed", certSpec{subject: ingest, names: []string{host}, notBefore: now.Add(-time.Hour), after: now.Add(time.Hour), selfSigned: true}, false, rtmp.TLSUnknownAuthority,
			[]string{"is self-signed ('push.example.com' (Example Media)"},
			"self-signed", ""},
		{"expired", certSpec{subject: ingest, issuer: pkix.Name{CommonName: "Example Media Issuing CA"}, names: []string{host},
			notBefore: now.Add(-72 * time.Hour), after: now.Add(-24 * time.Hour)}, true, rtmp.TLSExpired,
			[]string{"expired on " + now.Add(-24*time.Hour).UTC().Format("2006-01-02")}, "clock", ""},
		{"not yet valid", certSpec{subject: ingest, issuer: pkix.Name{CommonName: "Example Media Issuing CA"}, names: []string{host},
			notBefore: now.Add(24 * time.Hour), after: now.Add(72 * time.Hour)}, true, rtmp.TLSNotYetValid,
			[]string{"is not valid before", "clock is probably behind"}, "time synchronisation", ""},
		{"wrong name", valid(pkix.Name{CommonName: "cdn.example.net"}, pkix.Name{CommonName: "Example Media Issuing CA"}, "cdn.example.net", "*.example.net"), true, rtmp.TLSNameMismatch,
			[]string{"presented a certificate for cdn.example.net, *.example.net, not for push.example.com"}, "host name the provider gives", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leaf, pool := leafOf(c.spec)
			opts := x509.VerifyOptions{DNSName: host, Roots: x509.NewCertPool()}
			if c.trusted {
				opts.Roots = pool
			}
			_, err := leaf.Verify(opts)
			if err == nil {
				t.Fatal("got a verified certificate; want a verification error")
			}
			cert := rtmp.CertificateOf(err)
			if cert == nil {
				t.Fatalf("got no certificate from %v", err)
			}
			reason := c.reason // the probe's own classification is tested in probes/rtmp
			r := &rtmp.Result{Address: "10.0.0.2", Port: 443, TLS: true, Level: rtmp.LevelConnect, Phase: rtmp.PhaseTLS, Error: rtmp.TLS,
				TLSReason: reason, Certificate: cert}
			fs := rtmpFindings(rtmpTarget{app: "live", host: host}, r)
			if len(fs) != 1 || fs[0].Code != "tls.failed" {
				t.Fatalf("got %+v; want one tls.failed", fs)
			}
			for _, m := range c.msg {
				if !strings.Contains(fs[0].Message, m) {
					t.Errorf("got message\n%s\nwant it to contain\n%s", fs[0].Message, m)
				}
			}
			if c.notInMsg != "" && strings.Contains(fs[0].Message, c.notInMsg) {
				t.Errorf("got message %q; want no %q", fs[0].Message, c.notInMsg)
			}
			if !strings.Contains(fs[0].Remedy, c.remedy) {
				t.Errorf("got remedy %q; want it to contain %q", fs[0].Remedy, c.remedy)
			}
			ev, _ := fs[0].Evidence["certificate"].(map[string]any)
			if ev == nil || ev["not_after"] == nil {
				t.Errorf("got evidence %v; want the certificate's names and validity", fs[0].Evidence)
			}
		})
	}
}
