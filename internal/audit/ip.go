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
	// Most addresses are plain dotted IPv4: read those in one pass. The
	// fast path accepts only what netip.ParseAddr reads the same way
	// (four fields of 1-3 digits, at most 255, no leading zero) and hands
	// everything else, errors included, to the general path (FuzzParseIP).
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	return parseIP(b)
}

// parseIPv4 reads a canonical dotted IPv4 address, or reports false.
func parseIPv4(b []byte) (netip.Addr, bool) {
	if len(b) < 7 || len(b) > 15 {
		return netip.Addr{}, false
	}
	var ip [4]byte
	field, digits, v := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && v == 0 { // leading zero
				return netip.Addr{}, false
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && field < 3:
			ip[field] = byte(v)
			field++
			digits, v = 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if field != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(v)
	return netip.AddrFrom4(ip), true
}

// parseIP is ParseIP's general path.
func parseIP(b []byte) (a netip.Addr, ok bool) {
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
