// Package pctenc implements the percent-encoding HMRC's fraud prevention
// headers use: RFC 3986 §2.1 with only the unreserved characters
// (A-Z a-z 0-9 - . _ ~) left as they are and every other byte written as %XX
// with upper-case hex. A space is always %20, never '+'.
//
// The decoder is strict: it accepts only unreserved characters and
// well-formed escapes (hex digits in either case), so a value that was not
// percent-encoded, or that uses '+' for a space, is reported rather than
// guessed at.
package pctenc

import "errors"

// ErrMalformedEscape is returned by Decode for a '%' that is not followed by
// two hex digits.
var ErrMalformedEscape = errors.New("malformed percent-escape")

// ErrNotEncoded is returned by Decode for a byte that should have been
// percent-encoded (anything outside the unreserved set other than '%').
var ErrNotEncoded = errors.New("character not percent-encoded")

const upperHex = "0123456789ABCDEF"

// Unreserved reports whether c is an RFC 3986 unreserved character, which
// the encoder leaves as it is.
func Unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// Len returns the length of s once encoded.
func Len(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !Unreserved(s[i]) {
			n += 2
		}
	}
	return n
}

// Append appends the encoding of s to dst and returns the extended slice.
func Append(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if Unreserved(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xF])
	}
	return dst
}

// Encode returns the encoding of s.
func Encode(s string) string {
	n := Len(s)
	if n == len(s) {
		return s
	}
	return string(Append(make([]byte, 0, n), s))
}

// Valid reports whether s consists only of unreserved characters and
// well-formed escapes, that is whether Decode would accept it.
func Valid(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case Unreserved(c):
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

// Decode decodes s strictly. Escapes are accepted in upper or lower case;
// any byte that is neither unreserved nor part of an escape is an error
// (ErrNotEncoded), as is a truncated or non-hex escape (ErrMalformedEscape).
func Decode(s string) (string, error) {
	escapes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case Unreserved(c):
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", ErrMalformedEscape
			}
			escapes++
			i += 2
		default:
			return "", ErrNotEncoded
		}
	}
	if escapes == 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s)-2*escapes)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	return string(b), nil
}

// DecodeLenient decodes every well-formed escape in s and leaves every other
// byte, including a stray '%' or '+', as it is. It never fails; validators
// use it to look inside values that Decode rejects.
func DecodeLenient(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
