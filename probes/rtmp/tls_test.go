package rtmp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestClassifyValidity: a certificate past its validity and one before it are told apart.
func TestClassifyValidity(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name              string
		notBefore, expiry time.Time
		want              TLSReason
	}{
		{"expired", now.Add(-48 * time.Hour), now.Add(-time.Hour), TLSExpired},
		{"not yet valid", now.Add(time.Hour), now.Add(48 * time.Hour), TLSNotYetValid},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ingest.example.net", Organization: []string{"Example"}},
				DNSNames: []string{"ingest.example.net"}, NotBefore: c.notBefore, NotAfter: c.expiry, IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := x509.ParseCertificate(der)
			roots := x509.NewCertPool()
			roots.AddCert(cert)
			_, err = cert.Verify(x509.VerifyOptions{DNSName: "ingest.example.net", Roots: roots})
			if got := classifyTLS(err); got != c.want {
				t.Errorf("got %q for %v; want %q", got, err, c.want)
			}
			ci := CertificateOf(err)
			if ci == nil || !ci.SelfSigned || ci.SubjectO != "Example" || !ci.NotAfter.Equal(c.expiry.UTC().Truncate(time.Second)) {
				t.Errorf("got certificate %+v; want the self-signed one with its validity", ci)
			}
		})
	}
}
