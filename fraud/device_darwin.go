package fraud

import (
	"os"
	"strings"
	"syscall"
)

// systemOSInfo reads the macOS version from SystemVersion.plist and the
// model identifier (for example "MacBookPro15,2") from sysctl hw.model.
func systemOSInfo() UserAgent {
	ua := UserAgent{OSFamily: "MacOS", DeviceManufacturer: "Apple"}
	if data, err := os.ReadFile("/System/Library/CoreServices/SystemVersion.plist"); err == nil {
		ua.OSVersion = plistString(string(data), "ProductVersion")
	}
	if model, err := syscall.Sysctl("hw.model"); err == nil {
		ua.DeviceModel = strings.TrimSpace(model)
	}
	return ua
}

// plistString returns the string value of key in an XML property list.
func plistString(plist, key string) string {
	_, rest, ok := strings.Cut(plist, "<key>"+key+"</key>")
	if !ok {
		return ""
	}
	_, rest, ok = strings.Cut(rest, "<string>")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "</string>")
	return strings.TrimSpace(v)
}
