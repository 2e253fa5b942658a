package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCAPEM makes a self-signed certificate: validation only checks that a PEM certificate is there.
func testCAPEM(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestTargetRTMP(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, testCAPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := func(url, extra string) string {
		return "[[targets]]\nname = \"main\"\nurl = \"" + url + "\"\n" + extra
	}
	cases := []struct {
		name      string
		toml      string
		wantErr   string // "" = valid
		wantLevel string
	}{
		{"default level", target("rtmp://push.example.com/live/s", ""), "", "handshake"},
		{"publish", target("rtmp://push.example.com/live/s", `rtmp = "publish"`), "", "publish"},
		{"off", target("rtmp://push.example.com/live/s", `rtmp = "off"`), "", "off"},
		{"unknown level", target("rtmp://push.example.com/live/s", `rtmp = "play"`),
			`: targets[0] (main): rtmp "play": must be off, handshake, connect or publish`, ""},
		{"ca_file on rtmp", target("rtmp://push.example.com/live/s", `ca_file = "`+ca+`"`),
			": targets[0] (main): ca_file is only used with rtmps:// URLs", ""},
		{"insecure on rtmp", target("rtmp://push.example.com/live/s", `insecure_skip_verify = true`),
			": targets[0] (main): insecure_skip_verify is only used with rtmps:// URLs", ""},
		{"ca_file on rtmps", target("rtmps://push.example.com/live/s", `ca_file = "`+ca+`"`), "", "handshake"},
		{"ca_file missing", target("rtmps://push.example.com/live/s", `ca_file = "`+filepath.Join(dir, "nope.pem")+`"`),
			": targets[0] (main): ca_file: open " + filepath.Join(dir, "nope.pem") + ": no such file or directory", ""},
		{"ca_file without a certificate", target("rtmps://push.example.com/live/s", `ca_file = "`+notPEM+`"`),
			": targets[0] (main): ca_file " + notPEM + ": no PEM certificate in it", ""},
		{"insecure on rtmps", target("rtmps://push.example.com/live/s", `insecure_skip_verify = true`), "", "handshake"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.toml))
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("got error %v; want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v; want none", err)
			}
			if got := cfg.Targets[0].RTMP; got != c.wantLevel {
				t.Errorf("got rtmp %q; want %q", got, c.wantLevel)
			}
		})
	}
}
