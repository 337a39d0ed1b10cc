package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-today", "2025-05-20", "-client-id", "my-app", "-client-secret", "s3cret", "-redirect-uri", "http://localhost:9000/cb"}, &out)
	}()
	re := regexp.MustCompile(`base URL \(API and sign-in\):  (\S+)[\s\S]*VRN:\s+(\d{9})[\s\S]*access token[^\n]*\n  (\S+)`)
	var m []string
	require.Eventually(t, func() bool { m = re.FindStringSubmatch(out.String()); return m != nil }, 10*time.Second, 5*time.Millisecond)
	assert.Contains(t, out.String(), "today (simulated, UTC):      2025-05-20")
	assert.Contains(t, out.String(), "client_id:      my-app")
	assert.Contains(t, out.String(), "redirect URIs:  http://localhost:9000/cb")

	req, _ := http.NewRequest("GET", m[1]+"/organisations/vat/"+m[2]+"/obligations?status=O", nil)
	req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
	req.Header.Set("Authorization", "Bearer "+m[3])
	c := &http.Client{Transport: &http.Transport{}}
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.CloseIdleConnections()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), `"periodKey":"25A1"`)

	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "stopping")
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-today", "20-05-2025"},
		{"-client-id", "x"},
		{"-redirect-uri", "http://localhost/cb"},
		{"-rate", "-1", "-addr", "127.0.0.1:0"},
		{"-addr", "nowhere"},
		{"extra"},
		{"-nope"},
	} {
		var out bytes.Buffer
		assert.Error(t, run(context.Background(), args, &out), "%v", args)
	}
}
