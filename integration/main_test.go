package integration_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// openBrowser, used by the sandbox's interactive sign-in, leaves a
	// goroutine reaping the browser launcher.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/go-mtd/vat.openBrowser.func1"))
}
