package fraud

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaticCopiesItsHeaders(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppDirect)
	src := Static(f)
	f.UserIDs[0].Value = "changed after"
	a, err := src.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, `domain\alice`, a.UserIDs[0].Value)
	a.UserIDs[0].Value = "changed by caller"
	a.MACAddresses[0][0] = 0
	b, err := src.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, `domain\alice`, b.UserIDs[0].Value)
	assert.Equal(t, byte(0xea), b.MACAddresses[0][0])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.FraudHeaders(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestHashLicenseKeyAndNewDeviceID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashLicenseKey("abc"))
	a, err := NewDeviceID()
	require.NoError(t, err)
	b, err := NewDeviceID()
	require.NoError(t, err)
	assert.True(t, isUUID(a))
	assert.NotEqual(t, a, b)
	_, err = newUUID(bytes.NewReader([]byte{1, 2}))
	assert.Error(t, err)
}

// TestStaticWritesItsEncoding checks the HeaderWriter fast path: the same
// headers as Headers.WriteTo, a fresh copy for each request, nothing written
// when the context is done or the headers cannot be sent.
func TestStaticWritesItsEncoding(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppDirect)
	want := http.Header{}
	require.NoError(t, f.WriteTo(want))
	w, ok := Static(f).(HeaderWriter)
	require.True(t, ok, "Static implements HeaderWriter")

	a := http.Header{"Gov-Client-Public-Ip": {"198.51.100.1"}, "Accept": {"x"}}
	require.NoError(t, w.WriteFraudHeaders(context.Background(), a))
	delete(a, "Accept")
	assert.Equal(t, want, a, "stale fraud headers are removed, the others set")
	a["Gov-Client-Device-Id"][0] = "changed"
	b := http.Header{}
	require.NoError(t, w.WriteFraudHeaders(context.Background(), b))
	assert.Equal(t, want, b, "one request's values cannot change another's")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := http.Header{"Accept": {"x"}}
	assert.ErrorIs(t, w.WriteFraudHeaders(ctx, c), context.Canceled)
	assert.Equal(t, http.Header{"Accept": {"x"}}, c)

	bad := Static(Headers{ConnectionMethod: DesktopAppDirect, DeviceID: marker + "\n"}).(HeaderWriter)
	for range 2 {
		d := http.Header{}
		err := bad.WriteFraudHeaders(context.Background(), d)
		var he *HeaderError
		require.ErrorAs(t, err, &he)
		assert.NotContains(t, err.Error(), marker)
		assert.Empty(t, d)
	}
}

func TestStaticAndSourceFuncPrintNoValues(t *testing.T) {
	t.Parallel()
	src := Static(Headers{ConnectionMethod: DesktopAppDirect, DeviceID: marker})
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		out := fmt.Sprintf(format, src)
		assert.NotContains(t, out, marker, format)
		assert.Contains(t, out, "fraud.Static(fraud.Headers{DESKTOP_APP_DIRECT: Gov-Client-Connection-Method, Gov-Client-Device-ID})", format)
	}
	called := false
	fn := SourceFunc(func(context.Context) (*Headers, error) { called = true; return &Headers{}, nil })
	_, err := fn.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.True(t, called)
}
