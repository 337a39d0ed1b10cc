package vat

// WithBulk marks a call as bulk work (a background sweep), so that it may
// yield to interactive calls. This placeholder does nothing yet.
func WithBulk() CallOption { return func(*callConfig) error { return nil } }
