// Package integration holds the SDK's integration suite: the same tests run
// against two targets, the offline simulator vattest (always) and HMRC's
// sandbox (when credentials are given, live, or replayed offline from
// cassettes recorded earlier). The package has no code to import; see
// README.md in this directory for how to run the suite against HMRC's
// sandbox, how to record cassettes and how replay works.
package integration
