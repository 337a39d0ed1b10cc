//go:build linux || darwin

package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// terminal runs vat (the test binary, which TestMain put in $PATH) in a
// pseudo-terminal and returns what it printed once it exits, typing answer
// when the declaration question appears.
func terminal(t *testing.T, env []string, answer string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("vat")
	require.NoError(t, err, "TestMain puts vat in $PATH")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net, not an assertion
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	ptmx, err := pty.Start(cmd)
	require.NoError(t, err)
	defer ptmx.Close()

	var out strings.Builder
	r := bufio.NewReader(ptmx)
	const question = "Type yes to submit: "
	for !strings.HasSuffix(out.String(), question) {
		b, err := r.ReadByte()
		if err != nil {
			break // the command ended without asking
		}
		out.WriteByte(b)
	}
	if strings.HasSuffix(out.String(), question) {
		_, err := io.WriteString(ptmx, answer+"\r")
		require.NoError(t, err)
	}
	rest, _ := io.ReadAll(r) // EIO once the command has exited
	out.Write(rest)
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), cmd.Wait()
}

func TestDeclarationPromptInATerminal(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	srv, vars, err := startSimulator(work)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	require.NoError(t, writeWorkbooks(work))
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	login := exec.Command("vat", "login", "--sandbox-server", vars["SERVER"], "--user-id", vars["USER_ID"], "--password", vars["PASSWORD"])
	login.Env = append(os.Environ(), env...)
	out, err := login.CombinedOutput()
	require.NoError(t, err, "%s", out)

	submit := []string{"return", "submit", "--vrn", vars["VRN"], "--sandbox-server", vars["SERVER"], "--period", "25A2", "--file", filepath.Join(work, "q2.xlsx"), "--compute"}

	// Refused: nothing is sent.
	text, err := terminal(t, env, "no", submit...)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", text)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, text, "When you submit this VAT information you are making a legal declaration")
	assert.Contains(t, text, "not submitted: you did not agree to the declaration")
	assert.Equal(t, 0, srv.Submissions(vars["VRN"]).Received, "nothing was sent")
	assert.NoFileExists(t, filepath.Join(work, "config", "receipts.jsonl"))

	// Accepted: submitted, and the receipt is kept.
	text, err = terminal(t, env, "yes", submit...)
	require.NoError(t, err, "%s", text)
	assert.Contains(t, text, "Submitted to the simulator at")
	assert.Regexp(t, `Form bundle number: +\d+`, text)
	assert.Equal(t, 1, srv.Submissions(vars["VRN"]).Received)
	log, err := os.ReadFile(filepath.Join(work, "config", "receipts.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(log), "\n"))
}
