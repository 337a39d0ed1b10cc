package vattest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-mtd/vat/vattest/internal/civil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// today is the fixed date of the test clock: 2025-06-15, a Sunday.
var testNow = time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

// fixture is a server with its clock at testNow and one organisation whose
// default plan gives 24A4 (fulfilled), 25A1 (ended, open) and 25A2 (current).
type fixture struct {
	srv  *Server
	user TestUser
	tok  Token
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	srv := NewTestServer(t, append([]Option{WithRateLimit(0)}, opts...)...)
	srv.SetNow(testNow)
	user, tok := srv.TestOrganisation(t, Organisation{RegistrationDate: "2020-01-01"})
	return &fixture{srv, user, tok}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a raw request. hdr holds extra headers; "Accept" and
// "Authorization" default to the v1 Accept header and the fixture's token
// unless given (an empty value removes them).
func (f *fixture) do(t *testing.T, method, path string, hdr map[string]string, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (f *fixture) vat(rest string) string { return "/organisations/vat/" + f.user.VRN + rest }

func netDial(serverURL string) (net.Conn, error) {
	return net.Dial("tcp", strings.TrimPrefix(serverURL, "http://"))
}

// readAtLeast reads until the peer closes the connection or buf is full.
func readAtLeast(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func sprint(format string, v any) string { return fmt.Sprintf(format, v) }

func newRequestForQuery(u *url.URL) *http.Request { return &http.Request{URL: u} }

func testToday() civil.Date { return civil.Of(testNow) }
