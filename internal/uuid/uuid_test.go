package uuid

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var v4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestFormat(t *testing.T) {
	var b [16]byte
	assert.Equal(t, "00000000-0000-4000-8000-000000000000", Format(b))
	for i := range b {
		b[i] = 0xFF
	}
	assert.Equal(t, "ffffffff-ffff-4fff-bfff-ffffffffffff", Format(b))
	id, err := New(bytes.NewReader([]byte("0123456789abcdef")))
	require.NoError(t, err)
	assert.Regexp(t, v4, id)
	assert.Equal(t, "30313233-3435-4637-b839-616263646566", id)
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestNewReportsReadErrors(t *testing.T) {
	_, err := New(failing{})
	assert.ErrorContains(t, err, "no entropy")
}
