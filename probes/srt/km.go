package srt

import (
	"crypto/aes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
)

// Key material (KMREQ) as the SRT specification ("Key Material", "Key Encrypting Key") and
// libsrt's haicrypt build it: a random stream encrypting key (SEK) wrapped with AES key wrap
// (RFC 3394) under a key encrypting key (KEK) derived from the passphrase with
// PBKDF2-HMAC-SHA1, 2048 iterations, over the low 64 bits of a random 128-bit salt.

const (
	kmSign       = 0x2029 // "HAI" as a PnP vendor id
	kmCipherCTR  = 2      // AES-CTR
	kmSEMPEGTS   = 2      // stream encapsulation: MPEG-TS over SRT
	kmSaltLen    = 16
	kmIterations = 2048
	kmKKEven     = 1 // the message carries the even key
	kmHeaderLen  = 16
)

// KM states a listener puts in a one-word KMRSP when it cannot use the key material
// (libsrt's SRT_KM_STATE).
const (
	kmUnsecured = 0
	kmSecuring  = 1
	kmSecured   = 2
	kmNoSecret  = 3
	kmBadSecret = 4
)

var errUnwrap = errors.New("srt: key unwrap integrity check failed")

// keyMaterial builds a KMREQ for passphrase with a fresh SEK of keyLen bytes (16, 24 or 32),
// drawing salt and key from random.
func keyMaterial(passphrase string, keyLen int, random io.Reader) ([]byte, error) {
	salt := make([]byte, kmSaltLen)
	sek := make([]byte, keyLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(random, sek); err != nil {
		return nil, err
	}
	kek, err := deriveKEK(passphrase, salt, keyLen)
	if err != nil {
		return nil, err
	}
	wrapped, err := wrapKey(kek, sek)
	if err != nil {
		return nil, err
	}
	b := make([]byte, kmHeaderLen, kmHeaderLen+kmSaltLen+len(wrapped))
	b[0] = 1<<4 | 2 // S = 0, V = 1, PT = 2 (KMmsg)
	binary.BigEndian.PutUint16(b[1:], kmSign)
	b[3] = kmKKEven
	// b[4:8] KEKI = 0: the default key
	b[8] = kmCipherCTR
	b[9] = 0 // no authentication
	b[10] = kmSEMPEGTS
	b[14] = kmSaltLen / 4
	b[15] = byte(keyLen / 4)
	b = append(b, salt...)
	return append(b, wrapped...), nil
}

// deriveKEK is the key encrypting key: PBKDF2-HMAC-SHA1 over the salt's low 64 bits.
func deriveKEK(passphrase string, salt []byte, keyLen int) ([]byte, error) {
	return pbkdf2.Key(sha1.New, passphrase, salt[len(salt)-8:], kmIterations, keyLen)
}

// openKeyMaterial unwraps a KM message's key with passphrase, as a listener does; the tests'
// listener uses it to refuse a wrong passphrase the way libsrt does.
func openKeyMaterial(km []byte, passphrase string) ([]byte, error) {
	if len(km) < kmHeaderLen {
		return nil, errShort
	}
	saltLen, keyLen := int(km[14])*4, int(km[15])*4
	if len(km) < kmHeaderLen+saltLen+8 || saltLen < 8 {
		return nil, errShort
	}
	salt := km[kmHeaderLen : kmHeaderLen+saltLen]
	kek, err := deriveKEK(passphrase, salt, keyLen)
	if err != nil {
		return nil, err
	}
	return unwrapKey(kek, km[kmHeaderLen+saltLen:])
}

// defaultIV is RFC 3394's initial value.
var defaultIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// wrapKey is AES key wrap (RFC 3394 §2.2.1) of plaintext (a multiple of 8 bytes, at least 16).
func wrapKey(kek, plaintext []byte) ([]byte, error) {
	if len(plaintext)%8 != 0 || len(plaintext) < 16 {
		return nil, errors.New("srt: key to wrap must be a multiple of 8 bytes, at least 16")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(plaintext) / 8
	out := make([]byte, 8+len(plaintext))
	copy(out[8:], plaintext)
	a := defaultIV
	var buf [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(buf[:8], a[:])
			copy(buf[8:], out[i*8:i*8+8])
			block.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[i*8:], buf[8:])
		}
	}
	copy(out[:8], a[:])
	return out, nil
}

// unwrapKey is AES key unwrap (RFC 3394 §2.2.2); it fails when the integrity check does: the
// passphrase differs.
func unwrapKey(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped)%8 != 0 || len(wrapped) < 24 {
		return nil, errors.New("srt: wrapped key must be a multiple of 8 bytes, at least 24")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	out := make([]byte, len(wrapped)-8)
	copy(out, wrapped[8:])
	var a [8]byte
	copy(a[:], wrapped[:8])
	var buf [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(buf[8:], out[(i-1)*8:i*8])
			block.Decrypt(buf[:], buf[:])
			copy(a[:], buf[:8])
			copy(out[(i-1)*8:], buf[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], defaultIV[:]) != 1 {
		return nil, errUnwrap
	}
	return out, nil
}
