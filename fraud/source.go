package fraud

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/go-mtd/vat/internal/uuid"
)

// Source supplies the fraud prevention headers for one request. An HMRC API
// client (such as the vat package's Client) calls it immediately before each
// request, and again before each retry, so that timestamps are fresh.
type Source interface {
	FraudHeaders(ctx context.Context) (*Headers, error)
}

// HeaderWriter is implemented by sources that can set their encoded headers
// on a request directly, without building a Headers value each time. A
// client should prefer it to FraudHeaders when a source implements it: the
// source returned by Static encodes its headers once and only copies them
// per request. WriteFraudHeaders sets every fraud prevention header the
// source has on h (removing any other one h held) or, on error, leaves h
// unchanged and returns the reason; it returns ctx.Err() when ctx is done.
type HeaderWriter interface {
	Source
	WriteFraudHeaders(ctx context.Context, h http.Header) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context) (*Headers, error)

// FraudHeaders calls fn.
func (fn SourceFunc) FraudHeaders(ctx context.Context) (*Headers, error) {
	return fn(ctx)
}

// Static returns a source that answers a deep copy of f on every call. It
// does not refresh timestamps: they are sent as f holds them. Use it for
// headers built once per end-user request (ServerCollector.Headers) or in
// tests; use a DeviceCollector for values that must be collected immediately
// before each request.
//
// The headers never change, so the source encodes them once, when it is
// made, and implements HeaderWriter: a client sends the same encoding with
// every request. Headers that cannot be sent (see Headers.WriteTo) make every
// WriteFraudHeaders call fail with the same error.
func Static(f Headers) Source {
	s := &staticSource{fixed: f.Clone()}
	s.encoded, s.err = s.fixed.encodeValues(true)
	return s
}

// staticSource is the source Static returns: the headers, and their encoding
// or the reason they cannot be sent.
type staticSource struct {
	fixed   *Headers
	encoded encodedHeaders
	err     error
}

// WriteFraudHeaders sets a copy of the encoded headers on h, or returns why
// they cannot be sent.
func (s *staticSource) WriteFraudHeaders(ctx context.Context, h http.Header) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	s.encoded.setOn(h, make([]string, len(s.encoded.vals)))
	return nil
}

// FraudHeaders returns a deep copy of the headers.
func (s *staticSource) FraudHeaders(ctx context.Context) (*Headers, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.fixed.Clone(), nil
}

// String describes the source as Headers.String does, without values.
func (s *staticSource) String() string {
	return "fraud.Static(" + s.fixed.String() + ")"
}

// GoString is String, so that %#v does not print values either.
func (s *staticSource) GoString() string { return s.String() }

// Format prints String for every verb, so that %+v and %x cannot reach the
// values either.
func (s *staticSource) Format(st fmt.State, _ rune) { _, _ = io.WriteString(st, s.String()) }

// HashLicenseKey returns the SHA-256 of a licence key as 64 lower-case hex
// digits, the form Gov-Vendor-License-IDs expects ("hashed license keys";
// use the same function every time).
func HashLicenseKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewDeviceID returns a random (version 4) UUID in lower case, read from
// crypto/rand, as Gov-Client-Device-ID expects. Generate it once per device
// and store it; DeviceCollector does both.
func NewDeviceID() (string, error) { return newUUID(rand.Reader) }

func newUUID(r io.Reader) (string, error) {
	id, err := uuid.New(r)
	if err != nil {
		return "", fmt.Errorf("fraud: generating a device ID: %w", err)
	}
	return id, nil
}
