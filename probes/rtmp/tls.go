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

	"github.com/ingestprobe/ingestprobe/internal/capool"
	"github.com/ingestprobe/ingestprobe/internal/secret"
)

// TLSReason is the bounded reason an RTMPS session could not be set up. It is safe as a label.
type TLSReason string

const (
	TLSUnknownAuthority TLSReason = "unknown_authority" // the certificate chains to no trusted root
	TLSNameMismatch     TLSReason = "name_mismatch"     // the certificate is not for the URL's host
	TLSExpired          TLSReason = "expired"           // expired or not yet valid: check this host's clock too
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
