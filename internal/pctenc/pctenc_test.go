package pctenc

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeHMRCExamples(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Server 2012":       "Server%202012",
		"Dell Inc.":         "Dell%20Inc.",
		"iPhone12,3":        "iPhone12%2C3",
		`domain\alice`:      "domain%5Calice",
		"fc00::":            "fc00%3A%3A",
		"2021-11-21T13:23Z": "2021-11-21T13%3A23Z",
		"ea:43:1a:5d:21:45": "ea%3A43%3A1a%3A5d%3A21%3A45",
		"Product Name":      "Product%20Name",
		"a+b&c=d~e_f-g.h":   "a%2Bb%26c%3Dd~e_f-g.h",
		"é":                 "%C3%A9",
		"":                  "",
		"\x00\r\n\x7f\xff":  "%00%0D%0A%7F%FF",
	} {
		assert.Equal(t, want, Encode(in), in)
		assert.Equal(t, len(want), Len(in), in)
		assert.Equal(t, want, string(Append([]byte("x"), in))[1:], in)
	}
}

func TestEncodeMatchesQueryEscapeWithoutPlus(t *testing.T) {
	t.Parallel()
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	s := all.String()
	assert.Equal(t, strings.ReplaceAll(url.QueryEscape(s), "+", "%20"), Encode(s))
}

func TestDecode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Server%202012": "Server 2012",
		"fc00%3a%3A":    "fc00::",
		"abc":           "abc",
		"%C3%A9":        "é",
		"~._-":          "~._-",
		"%0D%0A":        "\r\n",
	} {
		got, err := Decode(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.True(t, Valid(in), in)
	}
	for in, want := range map[string]error{
		"a b": ErrNotEncoded, "a+b": ErrNotEncoded, "a:b": ErrNotEncoded, "é": ErrNotEncoded,
		"%": ErrMalformedEscape, "%4": ErrMalformedEscape, "%4G": ErrMalformedEscape, "a%": ErrMalformedEscape,
	} {
		_, err := Decode(in)
		assert.ErrorIs(t, err, want, in)
		assert.False(t, Valid(in), in)
	}
	assert.Equal(t, "a+b %zz%4", DecodeLenient("a+b%20%zz%4"))
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "Server 2012", "%", "%4", "%zz", "é+&=,", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Encode(s)
		require.True(t, Valid(e))
		d, err := Decode(e)
		require.NoError(t, err)
		require.Equal(t, s, d)
		for i := 0; i < len(e); i++ {
			require.True(t, Unreserved(e[i]) || e[i] == '%' || strings.ContainsRune("0123456789ABCDEF", rune(e[i])))
		}
		_ = DecodeLenient(s)
		if d, err := Decode(s); err == nil {
			again, err := Decode(Encode(d))
			require.NoError(t, err)
			require.Equal(t, d, again)
			require.True(t, Valid(s))
		} else {
			require.False(t, Valid(s))
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], `os-version=Server 2012&device-manufacturer=Dell Inc.&domain\alice`)
	}
}
