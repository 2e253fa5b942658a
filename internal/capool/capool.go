// Package capool builds the certificate pool a TLS client verifies with when a CA file is
// configured: the system's roots plus the file's certificates (the file alone where the system has
// no readable store).
package capool

import (
	"crypto/x509"
	"fmt"
	"os"
)

// ErrNoCertificate is returned for a file that holds no PEM certificate.
var ErrNoCertificate = fmt.Errorf("holds no PEM certificate")

// Load reads file and returns the system's roots with its certificates added. Errors name the
// file; a file without any PEM certificate is ErrNoCertificate.
func Load(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool() // no system store readable: the file alone decides
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %w", file, ErrNoCertificate)
	}
	return pool, nil
}
