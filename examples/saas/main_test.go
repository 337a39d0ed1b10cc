package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mtd/vat/internal/testservers"
	"github.com/go-mtd/vat/pgstore"
	"github.com/go-mtd/vat/vattest"
)

var (
	pg    *testservers.Postgres
	pgErr error
	rs    *testservers.Redis
	rsErr error
)

func TestMain(m *testing.M) {
	srv := testservers.StartSet("saas", true, true)
	pg, pgErr = srv.Postgres, srv.PostgresErr
	rs, rsErr = srv.Redis, srv.RedisErr
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// twoInstances starts two instances of the application side by side on
// loopback, sharing the simulator, PostgreSQL and Redis, and returns their
// base URLs (http://localhost:PORT).
func twoInstances(t *testing.T) (*vattest.Server, [2]string) {
	t.Helper()
	testservers.Require(t, pgErr)
	testservers.Require(t, rsErr)
	sim := vattest.NewTestServer(t)
	var lns [2]net.Listener
	var bases [2]string
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns[i] = ln
		bases[i] = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	}
	sh := &shared{databaseURL: pg.URL, redisAddr: rs.Addr, log: log.New(io.Discard, "", 0),
		tokenKey: pgstore.Key{ID: "1", Secret: []byte("0123456789abcdef0123456789abcdef")}}
	sh, err := simulated(sh, sim, bases[0]+"/callback")
	require.NoError(t, err)
	for i, ln := range lns {
		a, err := newInstance(context.Background(), fmt.Sprint(i+1), sh)
		require.NoError(t, err)
		t.Cleanup(a.close)
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.handler()}}
		srv.Start()
		t.Cleanup(srv.Close)
	}
	return sim, bases
}

type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: t, hc: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request, following redirects within the application, and
// returns the final status, page and the last redirect it did not follow.
func (b *browser) do(method, u string) (int, string, *url.URL) {
	b.t.Helper()
	for range 5 {
		req, err := http.NewRequest(method, u, nil)
		require.NoError(b.t, err)
		resp, err := b.hc.Do(req)
		require.NoError(b.t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(b.t, err)
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return resp.StatusCode, string(body), nil
		}
		next, err := resp.Request.URL.Parse(loc)
		require.NoError(b.t, err)
		if next.Host != resp.Request.URL.Host {
			return resp.StatusCode, string(body), next
		}
		method, u = http.MethodGet, next.String()
	}
	b.t.Fatal("too many redirects")
	return 0, "", nil
}

func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	s, p, _ := b.do(http.MethodGet, u)
	return s, p
}

// connect signs the customer at path in through HMRC, starting on instance
// start; HMRC's redirect back reaches instance finish, as a load balancer
// may send it.
func (b *browser) connect(sim *vattest.Server, user vattest.TestUser, start, finish, path string) (int, string) {
	b.t.Helper()
	_, _, authURL := b.do(http.MethodGet, start+path+"/connect")
	require.NotNil(b.t, authURL, "sent to HMRC's sign-in")
	require.True(b.t, strings.HasPrefix(authURL.String(), sim.URL+"/oauth/authorize"))
	q := authURL.Query()
	q.Set("user_id", user.UserID)
	q.Set("password", user.Password)
	authURL.RawQuery = q.Encode()
	_, _, back := b.do(http.MethodGet, authURL.String())
	require.NotNil(b.t, back, "sent back to the application")
	require.Equal(b.t, "/callback", back.Path)
	f, err := url.Parse(finish)
	require.NoError(b.t, err)
	back.Host = f.Host
	return b.get(back.String())
}

func tokenRequests(sim *vattest.Server) (ok, refused int) {
	for _, r := range sim.Requests() {
		if r.Path == "/oauth/token" {
			if r.Status == http.StatusOK {
				ok++
			} else {
				refused++
			}
		}
	}
	return ok, refused
}

// TestTwoInstancesShareTokensAndSignIns connects a customer through one
// instance with HMRC's redirect reaching the other, uses the customer's
// token from both, refreshes it once for both when it expires, keeps
// tenants apart and disconnects the customer from either.
func TestTwoInstancesShareTokensAndSignIns(t *testing.T) {
	sim, inst := twoInstances(t)
	user, err := sim.CreateOrganisation(vattest.Organisation{})
	require.NoError(t, err)
	b := newBrowser(t)
	const path = "/t/acme/c/client-1"

	status, page := b.get(inst[0] + path)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "Not connected")

	status, page = b.connect(sim, user, inst[0], inst[1], path)
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "Connected to HMRC")
	_, page = b.get(inst[0] + path)
	assert.Contains(t, page, "Connected to HMRC", "the other instance sees the stored token")

	// Another tenant's customer of the same name is someone else.
	_, page = b.get(inst[1] + "/t/brightbooks/c/client-1")
	assert.Contains(t, page, "Not connected")
	status, _ = b.get(inst[1] + "/t/nobody/c/client-1")
	assert.Equal(t, http.StatusNotFound, status)

	var openKey string
	for _, o := range sim.Obligations(user.VRN) {
		if o.Received == "" {
			openKey = o.PeriodKey
		}
	}
	require.NotEmpty(t, openKey)
	for _, base := range inst {
		status, page = b.get(base + path + "/obligations?vrn=" + user.VRN)
		require.Equal(t, http.StatusOK, status, page)
		assert.Contains(t, page, "<td>"+openKey+"</td>")
	}

	// The access token expires: both instances ask at once, one refreshes.
	sim.Advance(4*time.Hour + time.Minute)
	var wg sync.WaitGroup
	for _, base := range inst {
		for range 3 {
			wg.Go(func() {
				s, p := b.get(base + path + "/obligations?vrn=" + user.VRN)
				assert.Equal(t, http.StatusOK, s, p)
			})
		}
	}
	wg.Wait()
	ok, refused := tokenRequests(sim)
	assert.Equal(t, 2, ok, "one code exchange and one refresh")
	assert.Zero(t, refused)

	// A sign-in answer with no sign-in behind it is refused.
	status, page = b.get(inst[1] + "/callback?code=x&state=forged")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, "no sign-in in progress")

	// Disconnecting on one instance deletes the token for both.
	status, page, _ = b.do(http.MethodPost, inst[1]+path+"/disconnect")
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "Not connected")
	_, page = b.get(inst[0] + path)
	assert.Contains(t, page, "Not connected")
}

// TestSignInFromAnotherBrowserIsRefused: HMRC's redirect is accepted only
// in the browser that started the sign-in.
func TestSignInFromAnotherBrowserIsRefused(t *testing.T) {
	sim, inst := twoInstances(t)
	user, err := sim.CreateOrganisation(vattest.Organisation{})
	require.NoError(t, err)
	victim, attacker := newBrowser(t), newBrowser(t)
	_, _, authURL := victim.do(http.MethodGet, inst[0]+"/t/acme/c/client-2/connect")
	require.NotNil(t, authURL)
	q := authURL.Query()
	q.Set("user_id", user.UserID)
	q.Set("password", user.Password)
	authURL.RawQuery = q.Encode()
	_, _, back := attacker.do(http.MethodGet, authURL.String())
	require.NotNil(t, back)
	status, page := attacker.get(back.String())
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, "another browser")
	_, page = victim.get(inst[1] + "/t/acme/c/client-2")
	assert.Contains(t, page, "Not connected")
}
