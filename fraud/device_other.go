//go:build !linux && !darwin && !windows

package fraud

import "runtime"

// systemOSInfo names the operating system by runtime.GOOS; set
// DeviceCollectorConfig.UserAgent to give the version and device.
func systemOSInfo() UserAgent {
	return UserAgent{OSFamily: runtime.GOOS}
}
