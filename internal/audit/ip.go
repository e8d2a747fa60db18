package audit

import (
	"bytes"
	"net/netip"
	"unsafe"
)

// ParseIP normalises the ways Microsoft 365 writes a client address
// (docs/rules.md "IPs"): "1.2.3.4", "1.2.3.4:8085", "[1.2.3.4]:443",
// "::ffff:1.2.3.4", "[2001:db8::abcd]:12345", "[2001:db8::abcd]", upper or
// lower case. Anything that is not an address (host names, "localhost",
// "") yields ok == false. One address spelt differently must meet itself
// when the engine correlates by IP, hence the unmapping and zone removal.
func ParseIP(b []byte) (a netip.Addr, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	if b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		b = b[1:end]
	} else if colon := bytes.IndexByte(b, ':'); colon >= 0 && bytes.IndexByte(b[colon+1:], ':') < 0 && bytes.IndexByte(b, '.') >= 0 {
		// One colon and a dot: IPv4 with a port.
		b = b[:colon]
	}
	if len(b) == 0 {
		return netip.Addr{}, false
	}
	// ParseAddr does not keep its argument (zones are copied), so a string
	// view of the bytes avoids an allocation per record.
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
