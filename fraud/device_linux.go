package fraud

import (
	"bufio"
	"bytes"
	"os"
	"strings"
)

// systemOSInfo reads the Linux distribution from /etc/os-release (falling
// back to the kernel release) and the machine's maker and model from the
// DMI data in /sys, which is readable without privileges where present.
func systemOSInfo() UserAgent {
	ua := UserAgent{OSFamily: "Linux"}
	rel := osRelease("/etc/os-release")
	if len(rel) == 0 {
		rel = osRelease("/usr/lib/os-release")
	}
	switch {
	case rel["NAME"] != "" && rel["VERSION_ID"] != "":
		ua.OSVersion = rel["NAME"] + " " + rel["VERSION_ID"]
	case rel["PRETTY_NAME"] != "":
		ua.OSVersion = rel["PRETTY_NAME"]
	default:
		ua.OSVersion = readLine("/proc/sys/kernel/osrelease")
	}
	ua.DeviceManufacturer = readLine("/sys/class/dmi/id/sys_vendor")
	ua.DeviceModel = readLine("/sys/class/dmi/id/product_name")
	return ua
}

// osRelease parses an os-release(5) file.
func osRelease(path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}

func readLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > 4096 {
		return ""
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line)
}
