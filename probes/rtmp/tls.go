package rtmp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/capool"
	"github.com/ingestprobe/ingestprobe/internal/secret"
)

// TLSReason is the bounded reason an RTMPS session could not be set up. It is safe as a label.
type TLSReason string

const (
	TLSUnknownAuthority TLSReason = "unknown_authority" // the certificate chains to no trusted root
	TLSNameMismatch     TLSReason = "name_mismatch"     // the certificate is not for the URL's host
	TLSExpired          TLSReason = "expired"           // past its validity: check this host's clock too
	TLSNotYetValid      TLSReason = "not_yet_valid"     // before its validity: usually this host's clock is behind
	TLSInvalid          TLSReason = "invalid"           // another certificate problem
	TLSNotTLS           TLSReason = "not_tls"           // the server answered, but not with TLS
	TLSAlert            TLSReason = "alert"             // the server refused the handshake with a TLS alert
	TLSClosed           TLSReason = "closed"            // the server closed the connection during the handshake
	TLSTimeout          TLSReason = "timeout"           // no TLS answer in time
	TLSCAFile           TLSReason = "ca_file"           // the configured CA file could not be used
	TLSOther            TLSReason = "other"
)

// errCAFile marks a CA file that could not be read or held no certificate.
var errCAFile = errors.New("CA file unusable")

// tlsConfig builds the client configuration: the system roots plus the configured CA file, SNI
// set to the URL's host (an IP literal is checked against the certificate's IP SANs instead).
func tlsConfig(serverName, caFile string, insecure bool) (*tls.Config, error) {
	c := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := secret.ReadRegular(caFile, capool.MaxBytes) // not a FIFO: it would hang the probe
		var pool *x509.CertPool
		if err == nil {
			pool, err = capool.Pool(caFile, pem)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCAFile, err)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// classifyTLS reads the reason out of a TLS handshake error with errors.As/Is only.
func classifyTLS(err error) TLSReason {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
		op       *net.OpError
	)
	switch {
	case errors.Is(err, errCAFile):
		return TLSCAFile
	case errors.As(err, &unknown):
		return TLSUnknownAuthority
	case errors.As(err, &hostname):
		return TLSNameMismatch
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			if invalid.Cert != nil && time.Now().Before(invalid.Cert.NotBefore) {
				return TLSNotYetValid
			}
			return TLSExpired
		}
		return TLSInvalid
	case errors.As(err, &header):
		return TLSNotTLS
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return TLSTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return TLSClosed
	case errors.As(err, &op) && op.Op == "remote error":
		// crypto/tls reports an alert from the peer as a net.OpError with this Op.
		return TLSAlert
	}
	if class, _ := classifyIO(err); class == Closed {
		return TLSClosed
	}
	return TLSOther
}

// Certificate names the certificate an RTMPS ingest presented when verifying it failed: whose it
// is, who issued it and when it is valid — what a person needs to tell the ingest's own certificate
// from one a TLS-inspecting firewall made. Nothing in it is secret; every string is bounded.
type Certificate struct {
	SubjectCN string    `json:"subject_cn,omitempty"`
	SubjectO  string    `json:"subject_o,omitempty"`
	IssuerCN  string    `json:"issuer_cn,omitempty"`
	IssuerO   string    `json:"issuer_o,omitempty"`
	Names     []string  `json:"names,omitempty"` // the DNS and IP names it is valid for, at most maxCertNames
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// SelfSigned: the certificate is its own issuer (a test server, an appliance's default
	// certificate), so no CA vouches for it at all.
	SelfSigned bool `json:"self_signed,omitempty"`
}

// maxCertNames bounds the names kept from a certificate: a CDN certificate can carry hundreds.
const maxCertNames = 8

// CertificateOf reads the server's certificate out of a failed verification, or nil. It looks at
// the error only: crypto/tls hands the unverified chain with it.
func CertificateOf(err error) *Certificate {
	var (
		cve      *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		leaf     *x509.Certificate
	)
	switch {
	case errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0:
		leaf = cve.UnverifiedCertificates[0]
	case errors.As(err, &unknown):
		leaf = unknown.Cert
	case errors.As(err, &hostname):
		leaf = hostname.Certificate
	case errors.As(err, &invalid):
		leaf = invalid.Cert
	}
	if leaf == nil {
		return nil
	}
	c := &Certificate{
		SubjectCN: clean(leaf.Subject.CommonName, 96, true),
		IssuerCN:  clean(leaf.Issuer.CommonName, 96, true),
		NotBefore: leaf.NotBefore.UTC(),
		NotAfter:  leaf.NotAfter.UTC(),
		// Self-signed: same name both sides and its own key verifies it (a leaf is no CA, so not
		// CheckSignatureFrom, which requires one).
		SelfSigned: slices.Equal(leaf.RawSubject, leaf.RawIssuer) && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil,
	}
	if len(leaf.Subject.Organization) > 0 {
		c.SubjectO = clean(leaf.Subject.Organization[0], 96, true)
	}
	if len(leaf.Issuer.Organization) > 0 {
		c.IssuerO = clean(leaf.Issuer.Organization[0], 96, true)
	}
	for _, n := range leaf.DNSNames {
		c.Names = append(c.Names, clean(strings.ToLower(n), 96, true))
	}
	for _, ip := range leaf.IPAddresses {
		c.Names = append(c.Names, ip.String())
	}
	if len(c.Names) > maxCertNames {
		c.Names = c.Names[:maxCertNames]
	}
	return c
}
