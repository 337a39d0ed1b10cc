// Package crossproc holds the test that runs several processes sharing one
// pgstore.Store and one redislimit.Limiter against the simulator: its
// worker processes are the test binary itself, started again in a worker
// mode. It has no code of its own.
package crossproc
