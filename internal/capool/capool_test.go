package capool

import (
	"errors"
	"testing"
)

func TestPool(t *testing.T) {
	junk := "/etc/ingestprobe/junk.pem"
	if _, err := Pool(junk, []byte("not a certificate\n")); !errors.Is(err, ErrNoCertificate) || err.Error() != junk+" holds no PEM certificate" {
		t.Errorf("junk file: got %v; want %q", err, junk+" holds no PEM certificate")
	}
}
