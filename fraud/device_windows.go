package fraud

import (
	"strconv"
	"syscall"
)

// systemOSInfo reads the Windows version ("10.0.19045") and the machine's
// maker and model from the registry.
func systemOSInfo() UserAgent {
	ua := UserAgent{OSFamily: "Windows"}
	const cv = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	major, ok1 := regDWORD(cv, "CurrentMajorVersionNumber")
	minor, ok2 := regDWORD(cv, "CurrentMinorVersionNumber")
	build := regString(cv, "CurrentBuildNumber")
	switch {
	case ok1 && ok2 && build != "":
		ua.OSVersion = strconv.FormatUint(uint64(major), 10) + "." + strconv.FormatUint(uint64(minor), 10) + "." + build
	default:
		ua.OSVersion = regString(cv, "CurrentVersion")
	}
	const bios = `HARDWARE\DESCRIPTION\System\BIOS`
	ua.DeviceManufacturer = regString(bios, "SystemManufacturer")
	ua.DeviceModel = regString(bios, "SystemProductName")
	return ua
}

// regQuery reads a value under HKEY_LOCAL_MACHINE.
func regQuery(path, name string) (uint32, []byte, bool) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return 0, nil, false
	}
	var key syscall.Handle
	if syscall.RegOpenKeyEx(syscall.HKEY_LOCAL_MACHINE, p, 0, syscall.KEY_READ, &key) != nil {
		return 0, nil, false
	}
	defer syscall.RegCloseKey(key)
	n16, err := syscall.UTF16PtrFromString(name)
	if err != nil {
		return 0, nil, false
	}
	buf := make([]byte, 512)
	var typ uint32
	n := uint32(len(buf))
	if syscall.RegQueryValueEx(key, n16, nil, &typ, &buf[0], &n) != nil {
		return 0, nil, false
	}
	return typ, buf[:n], true
}

func regString(path, name string) string {
	typ, b, ok := regQuery(path, name)
	if !ok || typ != syscall.REG_SZ || len(b) < 2 {
		return ""
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return syscall.UTF16ToString(u)
}

func regDWORD(path, name string) (uint32, bool) {
	typ, b, ok := regQuery(path, name)
	if !ok || typ != syscall.REG_DWORD || len(b) != 4 {
		return 0, false
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, true
}
