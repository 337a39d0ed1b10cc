package vat

import (
	"net/http"
	"testing"

	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/require"
)

// DesktopHeadersFixture is desktopHeaders for the external tests.
var DesktopHeadersFixture = desktopHeaders

// desktopHeaders is HMRC's documented example set for DESKTOP_APP_DIRECT
// (fraud prevention specification 3.3), parsed into the model.
func desktopHeaders(t testing.TB) *fraud.Headers {
	t.Helper()
	h := http.Header{}
	for k, v := range map[string]string{
		"Gov-Client-Connection-Method":   "DESKTOP_APP_DIRECT",
		"Gov-Client-Device-ID":           "beec798b-b366-47fa-b1f8-92cede14a1ce",
		"Gov-Client-Local-IPs":           "fc00%3A%3A,10.1.2.3",
		"Gov-Client-Local-IPs-Timestamp": "2020-09-21T14:30:05.123Z",
		"Gov-Client-MAC-Addresses":       "ea%3A43%3A1a%3A5d%3A21%3A45,10%3A12%3Acc%3Afa%3Aaa%3A32",
		"Gov-Client-Multi-Factor":        "type=AUTH_CODE&timestamp=2021-11-21T13%3A23Z&unique-reference=fc4b5fd6816f75a7c81fc8eaa9499d6a299bd803397166e8c4cf9280b801d62c",
		"Gov-Client-Screens":             "width=1920&height=1080&scaling-factor=1&colour-depth=16",
		"Gov-Client-Timezone":            "UTC+00:00",
		"Gov-Client-User-Agent":          "os-family=Windows&os-version=Server%202012&device-manufacturer=Dell%20Inc.&device-model=OptiPlex%20980",
		"Gov-Client-User-IDs":            "os=domain%5Calice&my-application=alice123",
		"Gov-Client-Window-Size":         "width=1256&height=803",
		"Gov-Vendor-License-IDs":         "my-licensed-software=8D7963490527D33716835EE7C195516D5E562E03B224E9B359836466EE40CDE1",
		"Gov-Vendor-Product-Name":        "Product%20Name",
		"Gov-Vendor-Version":             "my-application=1.6.0",
	} {
		h.Set(k, v)
	}
	fh, err := fraud.Parse(h)
	require.NoError(t, err)
	return fh
}
