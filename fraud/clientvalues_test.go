package fraud

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientValuesJSONRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 13, 30, 5, 123e6, time.UTC)
	cfg := appConfig(DesktopAppViaServer, fakeProbe(t, &now))
	cfg.VendorVersion = []KeyValue{{"my-desktop-app", "2.2.2"}}
	c, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	cv, err := c.ClientValues(context.Background())
	require.NoError(t, err)
	data, err := json.Marshal(cv)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"deviceId": "beec798b-beec-498b-beec-798bbeec798b",
		"localIps": ["10.1.2.3", "fe80::1", "10.1.2.4", "fc00::"],
		"localIpsTimestamp": "2026-07-01T13:30:05.123Z",
		"macAddresses": ["ea:43:1a:5d:21:45", "10:12:cc:fa:aa:32"],
		"screens": [{"width": 1920, "height": 1080, "scalingFactor": "1", "colourDepth": 16}],
		"windowSize": {"width": 1256, "height": 803},
		"timezone": "UTC+00:00",
		"userAgent": {"osFamily": "Windows", "osVersion": "Server 2012", "deviceManufacturer": "Dell Inc.", "deviceModel": "OptiPlex 980"},
		"osUser": "domain\\alice",
		"vendorVersion": [{"key": "my-desktop-app", "value": "2.2.2"}],
		"licenseIds": [{"key": "my-licensed-software", "value": "`+HashLicenseKey("licence-key")+`"}]
	}`, string(data))
	var back ClientValues
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, *cv, back)
	assert.NotContains(t, fmt.Sprint(back), "alice")
	assert.NotContains(t, fmt.Sprintf("%#v", back), "alice")
}

func TestParseClientValuesRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		doc   string
		field string
	}{
		"not JSON":               {`{"deviceId": "` + marker, ""},
		"wrong type":             {`{"screens": [{"width": "` + marker + `"}]}`, "screens.width"},
		"float width":            {`{"screens": [{"width": 1920.5, "height": 1, "scalingFactor": "1", "colourDepth": 24}]}`, "screens.width"},
		"zero width":             {`{"screens": [{"width": 0, "height": 1, "scalingFactor": "1", "colourDepth": 24}]}`, "screens[0]"},
		"huge width":             {`{"screens": [{"width": 99999999, "height": 1, "scalingFactor": "1", "colourDepth": 24}]}`, "screens[0]"},
		"exponent scaling":       {`{"screens": [{"width": 1, "height": 1, "scalingFactor": 1e3, "colourDepth": 24}]}`, "screens[0]"},
		"text scaling":           {`{"screens": [{"width": 1, "height": 1, "scalingFactor": "` + marker + `", "colourDepth": 24}]}`, "screens[0]"},
		"device id":              {`{"deviceId": "` + marker + `"}`, "deviceId"},
		"zone":                   {`{"localIps": ["fe80::1%` + marker + `"]}`, "localIps[0]"},
		"mdns":                   {`{"localIps": ["` + marker + `.local"]}`, "localIps[0]"},
		"mac":                    {`{"macAddresses": ["` + marker + `"]}`, "macAddresses[0]"},
		"timestamp":              {`{"localIpsTimestamp": "` + marker + `"}`, "localIpsTimestamp"},
		"timezone":               {`{"timezone": "Europe/` + marker + `"}`, "timezone"},
		"window":                 {`{"windowSize": {"width": -1, "height": 5}}`, "windowSize"},
		"CRLF in UA":             {`{"browserUserAgent": "Mozilla` + marker + `\r\nX-Evil: 1"}`, "browserUserAgent"},
		"NUL in os user":         {`{"osUser": "` + marker + `\u0000"}`, "osUser"},
		"100 KB UA":              {`{"browserUserAgent": "` + marker + strings.Repeat("a", 100<<10) + `"}`, ""},
		"5 KB UA":                {`{"browserUserAgent": "` + marker + strings.Repeat("a", 5<<10) + `"}`, "browserUserAgent"},
		"5 KB version":           {`{"vendorVersion": [{"key": "a", "value": "` + marker + strings.Repeat("a", 5<<10) + `"}]}`, "vendorVersion[0].value"},
		"empty licence":          {`{"licenseIds": [{"key": "a", "value": ""}]}`, "licenseIds[0]"},
		"control in UA part":     {`{"userAgent": {"osFamily": "` + marker + `\n"}}`, "userAgent.osFamily"},
		"too many local IPs":     {`{"localIps": [` + strings.Repeat(`"10.0.0.1",`, 64) + `"10.0.0.1"]}`, "localIps"},
		"non-ASCII browser UA":   {`{"browserUserAgent": "é` + marker + `"}`, "browserUserAgent"},
		"array instead of obj":   {`[1,2]`, ""},
		"number scaling is text": {`{"screens": [{"width": 1, "height": 1, "scalingFactor": -1, "colourDepth": 24}]}`, "screens[0]"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cv, err := ParseClientValues([]byte(tt.doc))
			require.Error(t, err)
			assert.Nil(t, cv)
			var ce *ClientValuesError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.field, ce.Field)
			assert.NotContains(t, err.Error(), marker)
			assert.NotContains(t, err.Error(), "Evil")
		})
	}
	cv, err := ParseClientValues([]byte(`{"screens": [{"width": 1, "height": 2, "scalingFactor": 1.25, "colourDepth": 24}], "future": {"x": 1}}`))
	require.NoError(t, err)
	assert.Equal(t, ScalingFactor("1.25"), cv.Screens[0].ScalingFactor, "a JSON number is read from its text")
}

func TestClientValuesUnmarshalJSONChecksValues(t *testing.T) {
	t.Parallel()
	var cv ClientValues
	err := json.Unmarshal([]byte(`{"deviceId": "`+marker+`"}`), &cv)
	var ce *ClientValuesError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "deviceId", ce.Field)
	assert.NotContains(t, err.Error(), marker)
	require.NoError(t, json.Unmarshal([]byte(`{"deviceId": "BEEC798B-B366-47FA-B1F8-92CEDE14A1CE"}`), &cv))
	assert.Equal(t, "beec798b-b366-47fa-b1f8-92cede14a1ce", cv.DeviceID)
}
