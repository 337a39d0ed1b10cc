package vattest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manualClock is a clock a test moves by hand.
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }

func TestRateLimitSlidingWindow(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t) // HMRC's default: 3 per second per application
	srv.SetNow(testNow)
	user, tok := srv.TestOrganisation(t, Organisation{})
	f := &fixture{srv, user, tok}
	path := f.vat("/obligations?status=O")
	step := func(d time.Duration) { srv.Advance(d) }

	for i := range 3 {
		assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status, "request %d", i+1)
		step(100 * time.Millisecond)
	}
	r := f.do(t, "GET", path, nil, "") // at +300 ms, 3 requests in the window
	assert.Equal(t, 429, r.status)
	assert.Equal(t, wantThrottled, r.body)
	assert.Empty(t, r.header.Get("Retry-After"), "off by default")
	assert.Empty(t, r.header.Get("X-CorrelationId"))

	step(699 * time.Millisecond) // +999 ms: the first request is still in the window
	assert.Equal(t, 429, f.do(t, "GET", path, nil, "").status)
	step(time.Millisecond) // +1 s: it has left
	assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status)
	assert.Equal(t, 429, f.do(t, "GET", path, nil, "").status, "the rejected requests did not count, the second one is still in")
}

func TestRateLimitPerApplication(t *testing.T) {
	t.Parallel()
	clock := &manualClock{testNow}
	srv := NewTestServer(t, WithClock(clock.Now), WithRateLimit(1))
	user, tok := srv.TestOrganisation(t, Organisation{})
	f := &fixture{srv, user, tok}
	path := f.vat("/obligations?status=O")
	assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status)
	tok2, err := srv.IssueToken(user.VRN)
	require.NoError(t, err)
	assert.Equal(t, 429, f.do(t, "GET", path, map[string]string{"Authorization": "Bearer " + tok2.AccessToken}, "").status, "same application, another user")
	app := srv.IssueApplicationToken()
	assert.Equal(t, 429, f.do(t, "GET", "/create-test-user/services", map[string]string{"Authorization": "Bearer " + app.AccessToken}, "").status, "all APIs count")
	assert.Equal(t, 401, f.do(t, "GET", path, map[string]string{"Authorization": "Bearer nope"}, "").status, "unauthenticated requests are not throttled")
	clock.now = clock.now.Add(time.Second)
	assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status, "the clock given by WithClock drives the window")
}

func TestRateLimitOtherApplicationsAndRetryAfter(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(2), WithThrottleRetryAfter(), WithApplication("second-app", "secret", "http://localhost/cb"))
	srv.SetNow(testNow)
	user, tok := srv.TestOrganisation(t, Organisation{})
	f := &fixture{srv, user, tok}
	path := f.vat("/obligations?status=O")
	assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status)
	srv.Advance(10 * time.Millisecond)
	assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status)
	r := f.do(t, "GET", path, nil, "")
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "1", r.header.Get("Retry-After"))

	// a second application has its own window
	status, tok2 := postForm(t, srv, "/oauth/token", map[string][]string{"grant_type": {"client_credentials"}, "client_id": {"second-app"}, "client_secret": {"secret"}})
	require.Equal(t, 200, status)
	r = f.do(t, "GET", "/create-test-user/services", map[string]string{"Authorization": "Bearer " + tok2["access_token"].(string)}, "")
	assert.Equal(t, 200, r.status)
}

func TestRateLimitDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // WithRateLimit(0) and a stopped clock
	for range 50 {
		require.Equal(t, 200, f.do(t, "GET", f.vat("/obligations?status=O"), nil, "").status)
	}
}
