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

// AddrKind says what a client address can tell about who used it
// (docs/rules.md "IPs"). Sanitised and published logs replace real
// addresses with documentation ones, loopback or 0.0.0.0, and a service
// that sits behind a proxy records the proxy's private address: two
// accounts seen at such an address are not thereby the same person or
// the same machine.
type AddrKind uint8

// Address kinds. Only AddrPublic and AddrShared identify a client; of
// those, AddrShared links two accounts only weakly.
const (
	// AddrPublic is a globally routed address: it identifies a client (or
	// its organisation's egress) well enough to link records.
	AddrPublic AddrKind = iota
	// AddrShared is a private (RFC 1918 10/8, 172.16/12, 192.168/16; RFC
	// 4193 fc00::/7) or carrier-grade NAT (RFC 6598 100.64/10) address:
	// many clients behind one NAT or proxy share it, so a link through it
	// is weak.
	AddrShared
	// AddrUnspecified is 0.0.0.0/8 ("this network", RFC 1122) or ::.
	AddrUnspecified
	// AddrLoopback is 127/8 or ::1: the service talking to itself.
	AddrLoopback
	// AddrLinkLocal is 169.254/16 or fe80::/10: never routed, so never a
	// client's address as a cloud service sees it.
	AddrLinkLocal
	// AddrMulticast is 224/4 or ff00::/8: a group, not a host.
	AddrMulticast
	// AddrReserved is 240/4 (RFC 1112 "future use"), which holds the
	// broadcast address 255.255.255.255.
	AddrReserved
	// AddrDocumentation is a range set aside for examples: 192.0.2.0/24,
	// 198.51.100.0/24, 203.0.113.0/24 (RFC 5737), 2001:db8::/32 (RFC 3849)
	// and 3fff::/20 (RFC 9637). Published logs use them in place of real
	// addresses.
	AddrDocumentation
)

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	reserved4 = netip.MustParsePrefix("240.0.0.0/4")
	docNets   = [...]netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("3fff::/20"),
	}
)

// KindOfAddr classifies an address. It is the one place that decides
// which addresses link accounts: the engine, the ClickHouse port and
// `outsider explain` all ask it. An invalid address is AddrUnspecified.
func KindOfAddr(a netip.Addr) AddrKind {
	if !a.IsValid() {
		return AddrUnspecified
	}
	a = a.Unmap()
	switch {
	case a.IsUnspecified() || thisNet.Contains(a):
		return AddrUnspecified
	case a.IsLoopback():
		return AddrLoopback
	case a.IsLinkLocalUnicast():
		return AddrLinkLocal
	case a.IsMulticast():
		return AddrMulticast
	case reserved4.Contains(a):
		return AddrReserved
	}
	for _, p := range docNets {
		if p.Contains(a) {
			return AddrDocumentation
		}
	}
	if a.IsPrivate() || cgnat.Contains(a) {
		return AddrShared
	}
	return AddrPublic
}

// Identifying reports whether addresses of this kind can link two
// records to one client.
func (k AddrKind) Identifying() bool { return k == AddrPublic || k == AddrShared }

// String names the kind in a few words, for reasons and explanations.
func (k AddrKind) String() string {
	switch k {
	case AddrPublic:
		return "public"
	case AddrShared:
		return "private or carrier-grade NAT"
	case AddrUnspecified:
		return "unspecified"
	case AddrLoopback:
		return "loopback"
	case AddrLinkLocal:
		return "link-local"
	case AddrMulticast:
		return "multicast"
	case AddrReserved:
		return "reserved or broadcast"
	case AddrDocumentation:
		return "documentation range"
	}
	return "unknown"
}

// Identifying reports whether a can link records to one client: every
// address but the unspecified, loopback, link-local, multicast, reserved
// and broadcast, and documentation ones.
func Identifying(a netip.Addr) bool { return KindOfAddr(a).Identifying() }

// WeakLink reports whether a link through a is weak: a private or
// carrier-grade NAT address, which a NAT or proxy shares among clients.
func WeakLink(a netip.Addr) bool { return KindOfAddr(a) == AddrShared }
