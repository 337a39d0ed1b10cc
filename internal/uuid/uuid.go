// Package uuid formats random (version 4) UUIDs, as HMRC uses them for
// device IDs, correlation IDs and receipt IDs.
package uuid

import (
	"encoding/hex"
	"io"
)

// New returns a version 4 UUID in lower-case canonical form, with its 122
// random bits read from r.
func New(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return Format(b), nil
}

// Format sets the version (4) and variant bits of b and returns it in
// lower-case canonical form, 8-4-4-4-12 hexadecimal digits.
func Format(b [16]byte) string {
	b[6] = b[6]&0x0F | 0x40
	b[8] = b[8]&0x3F | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
