// Package capool builds the certificate pool a TLS client verifies with when a CA file is
// configured: the system's roots plus the file's certificates (the file alone where the system has
// no readable store).
package capool

import (
	"crypto/x509"
	"fmt"
)

// MaxBytes bounds a CA file (secret.ReadRegular's limit): a bundle of a few certificates, not the system's whole store.
const MaxBytes = 1 << 20

// ErrNoCertificate is returned for a file that holds no PEM certificate.
var ErrNoCertificate = fmt.Errorf("holds no PEM certificate")

// Pool returns the system's roots with the certificates of pem, the content of file, added:
// callers read the file with secret.ReadRegular(file, MaxBytes), which refuses a FIFO or a device
// (those would hang or never end). Errors name the file; pem without any certificate is
// ErrNoCertificate.
func Pool(file string, pem []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool() // no system store readable: the file alone decides
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %w", file, ErrNoCertificate)
	}
	return pool, nil
}
