package main

// Every fraud prevention header matter of the command is in this file.

import (
	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
)

// fraudHeaders returns the source of HMRC's fraud prevention headers for a
// desktop application connecting directly to HMRC (DESKTOP_APP_DIRECT),
// collected from this machine: local addresses, the operating-system user,
// the operating system, the time zone and a device ID kept in dir.
func fraudHeaders(dir string) (fraud.Source, error) {
	return fraud.NewDeviceCollector(fraud.DeviceCollectorConfig{
		ConnectionMethod: fraud.DesktopAppDirect,
		DeviceIDDir:      dir,
		ProductName:      "go-mtd-vat",
		VendorVersion:    []fraud.KeyValue{{Key: "go-mtd-vat-cli", Value: version}},
		// A terminal program has no window of its own: it reports a
		// typical screen and terminal window.
		Screens:    []fraud.Screen{{Width: 1920, Height: 1080, ScalingFactor: "1", ColourDepth: 24}},
		WindowSize: fraud.WindowSize{Width: 1256, Height: 803},
		// The command has no sign-in of its own (HMRC's sign-in is the only
		// one), no licence keys and no users of its own beyond the
		// operating-system user the collector adds.
		AgreedEmpty: fraud.NewHeaderSet(fraud.GovClientMultiFactor, fraud.GovVendorLicenseIDs),
	})
}

// fraudOption is the Client option that sends src's headers.
func fraudOption(src fraud.Source) vat.Option { return vat.WithFraudHeaders(src) }
