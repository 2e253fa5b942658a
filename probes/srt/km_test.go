package srt

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyWrapRFC3394 pins AES key wrap to the test vectors of RFC 3394 §4.
func TestKeyWrapRFC3394(t *testing.T) {
	tests := []struct{ name, kek, key, wrapped string }{
		{"4.1 128-bit key with a 128-bit KEK", "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
			"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"4.2 128-bit key with a 192-bit KEK", "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
			"96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
		{"4.4 192-bit key with a 192-bit KEK", "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF0001020304050607",
			"031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
		{"4.6 256-bit key with a 256-bit KEK", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
			"00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kek, key, want := unhex(t, tt.kek), unhex(t, tt.key), unhex(t, tt.wrapped)
			got, err := wrapKey(kek, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("wrap: got %X, %v; want %X", got, err, want)
			}
			back, err := unwrapKey(kek, got)
			if err != nil || !bytes.Equal(back, key) {
				t.Fatalf("unwrap: got %X, %v; want %X", back, err, key)
			}
			tampered := bytes.Clone(got)
			tampered[len(tampered)-1] ^= 1
			if _, err := unwrapKey(kek, tampered); !errors.Is(err, errUnwrap) {
				t.Errorf("unwrap of a tampered key: got %v; want the integrity check to fail", err)
			}
		})
	}
}

// TestKeyMaterial: the KMREQ has the layout of the SRT specification, and only the right
// passphrase unwraps it.
func TestKeyMaterial(t *testing.T) {
	for _, kl := range []int{16, 24, 32} {
		km, err := keyMaterial("correct horse battery", kl, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if want := 16 + 16 + kl + 8; len(km) != want {
			t.Errorf("key %d: got %d bytes; want %d", kl, len(km), want)
		}
		head := km[:16]
		wantHead := []byte{0x12, 0x20, 0x29, 0x01, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 4, byte(kl / 4)}
		if !bytes.Equal(head, wantHead) {
			t.Errorf("key %d: header %X; want %X", kl, head, wantHead)
		}
		sek, err := openKeyMaterial(km, "correct horse battery")
		if err != nil || len(sek) != kl {
			t.Errorf("key %d: unwrap with the passphrase: got %d bytes, %v", kl, len(sek), err)
		}
		if _, err := openKeyMaterial(km, "correct horse battery!"); !errors.Is(err, errUnwrap) {
			t.Errorf("key %d: unwrap with another passphrase: got %v; want the integrity check to fail", kl, err)
		}
	}
}
