package audit

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestKindOfAddr walks the edges of every range docs/rules.md names: the
// first and last address of each, and the neighbours just outside it.
func TestKindOfAddr(t *testing.T) {
	cases := []struct {
		in   string
		want AddrKind
	}{
		// 0.0.0.0/8 "this network"
		{"0.0.0.0", AddrUnspecified},
		{"0.255.255.255", AddrUnspecified},
		{"1.0.0.0", AddrPublic},
		// 10/8
		{"9.255.255.255", AddrPublic},
		{"10.0.0.0", AddrShared},
		{"10.255.255.255", AddrShared},
		{"11.0.0.0", AddrPublic},
		// 100.64/10 CGNAT
		{"100.63.255.255", AddrPublic},
		{"100.64.0.0", AddrShared},
		{"100.127.255.255", AddrShared},
		{"100.128.0.0", AddrPublic},
		// 127/8
		{"126.255.255.255", AddrPublic},
		{"127.0.0.0", AddrLoopback},
		{"127.0.0.1", AddrLoopback},
		{"127.255.255.255", AddrLoopback},
		{"128.0.0.0", AddrPublic},
		// 169.254/16
		{"169.253.255.255", AddrPublic},
		{"169.254.0.0", AddrLinkLocal},
		{"169.254.255.255", AddrLinkLocal},
		{"169.255.0.0", AddrPublic},
		// 172.16/12
		{"172.15.255.255", AddrPublic},
		{"172.16.0.0", AddrShared},
		{"172.31.255.255", AddrShared},
		{"172.32.0.0", AddrPublic},
		// 192.0.2.0/24
		{"192.0.1.255", AddrPublic},
		{"192.0.2.0", AddrDocumentation},
		{"192.0.2.255", AddrDocumentation},
		{"192.0.3.0", AddrPublic},
		// 192.168/16
		{"192.167.255.255", AddrPublic},
		{"192.168.0.0", AddrShared},
		{"192.168.255.255", AddrShared},
		{"192.169.0.0", AddrPublic},
		// 198.51.100.0/24
		{"198.51.99.255", AddrPublic},
		{"198.51.100.0", AddrDocumentation},
		{"198.51.100.255", AddrDocumentation},
		{"198.51.101.0", AddrPublic},
		// 203.0.113.0/24
		{"203.0.112.255", AddrPublic},
		{"203.0.113.0", AddrDocumentation},
		{"203.0.113.255", AddrDocumentation},
		{"203.0.114.0", AddrPublic},
		// 224/4 multicast, 240/4 reserved with broadcast
		{"223.255.255.255", AddrPublic},
		{"224.0.0.0", AddrMulticast},
		{"239.255.255.255", AddrMulticast},
		{"240.0.0.0", AddrReserved},
		{"255.255.255.254", AddrReserved},
		{"255.255.255.255", AddrReserved},
		// IPv6
		{"::", AddrUnspecified},
		{"::1", AddrLoopback},
		{"::2", AddrPublic},
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrPublic},
		{"fe80::", AddrLinkLocal},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrLinkLocal},
		{"fec0::", AddrPublic},
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrPublic},
		{"fc00::", AddrShared},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrShared},
		{"fe00::", AddrPublic},
		{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrPublic},
		{"ff00::", AddrMulticast},
		{"ff02::1", AddrMulticast},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrMulticast},
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", AddrPublic},
		{"2001:db8::", AddrDocumentation},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", AddrDocumentation},
		{"2001:db9::", AddrPublic},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddrPublic},
		{"3fff::", AddrDocumentation},
		{"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", AddrDocumentation},
		{"3fff:1000::", AddrPublic},
		{"2a01:4f8::1", AddrPublic},
		// IPv4-mapped: judged as the IPv4 address
		{"::ffff:127.0.0.1", AddrLoopback},
		{"::ffff:10.1.2.3", AddrShared},
		{"::ffff:203.0.113.9", AddrDocumentation},
		{"::ffff:81.2.69.160", AddrPublic},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.in)
		got := KindOfAddr(a)
		if got != c.want {
			t.Errorf("KindOfAddr(%s) = %v, want %v", c.in, got, c.want)
		}
		if Identifying(a) != (c.want == AddrPublic || c.want == AddrShared) {
			t.Errorf("Identifying(%s) = %v", c.in, Identifying(a))
		}
		if WeakLink(a) != (c.want == AddrShared) {
			t.Errorf("WeakLink(%s) = %v", c.in, WeakLink(a))
		}
	}
	if KindOfAddr(netip.Addr{}) != AddrUnspecified || Identifying(netip.Addr{}) {
		t.Error("the zero Addr identifies a client")
	}
}

// TestMaskedAddressesDoNotParse: redaction markers written where an
// address goes are not addresses, so they can never join two records.
func TestMaskedAddressesDoNotParse(t *testing.T) {
	for _, s := range []string{"10.x.x.x", "1.2.3.xxx", "x.x.x.x", "REDACTED", "[REDACTED]", "<client ip>",
		"***.***.***.***", "1.2.*.*", "2001:db8:xxxx::1", "xxxx:xxxx::", "Not Available", "-"} {
		if a, ok := ParseIP([]byte(s)); ok {
			t.Errorf("ParseIP(%q) = %v, want no address", s, a)
		}
	}
}

func TestIsTenantID(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94", true},
		{"6E4B2C1A-7F3D-4E8B-9A15-3C2D8F0B7E94", true},
		{"9188040d-6c67-4c5b-b112-36a304b66dad", true}, // the consumer tenant
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", true},
		{"f8cdef31-a31e-4b4a-93e4-5f571e91255a", true},
		// one pair away from a placeholder is still an id
		{"00000000-0000-0000-0000-000000000001", true},
		{"aaaabbbb-0000-cccc-1111-dddd2222eeef", true},
		{"12345678-1234-1234-1234-123456789013", true},
		// placeholders
		{"00000000-0000-0000-0000-000000000000", false},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", false},
		{"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", false},
		{"11111111-1111-1111-1111-111111111111", false},
		{"aaaabbbb-0000-cccc-1111-dddd2222eeee", false},
		{"00001111-aaaa-2222-bbbb-3333cccc4444", false},
		{"00aa00aa-bb11-cc22-dd33-44ee44ee44ee", false},
		{"aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb", false},
		{"AAAAaaaa-0000-1111-2222-BBBBbbbbbbbb", false},
		{"12345678-1234-1234-1234-123456789012", false},
		{"12345678-1234-1234-1234-123456789ABC", false},
		{"01234567-89ab-cdef-0123-456789abcdef", false},
		{"12345678-90ab-cdef-1234-567890abcdef", false},
		// not GUIDs
		{"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", false},
		{"<USER HOME TENANT ID>", false},
		{"<tenant id>", false},
		{"REDACTED", false},
		{"[REDACTED]", false},
		{"Not Available", false},
		{"", false},
		{"contoso.onmicrosoft.com", false},
		{"{6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94}", false},
		{"6e4b2c1a7f3d4e8b9a153c2d8f0b7e94", false},
		{"6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e9", false},
		{" 6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94", false},
	}
	for _, c := range cases {
		if got := IsTenantID([]byte(c.in)); got != c.want {
			t.Errorf("IsTenantID(%q) = %v, want %v", c.in, got, c.want)
		}
		if got, want := IsPlaceholderGUID([]byte(c.in)), IsGUID([]byte(c.in)) && !c.want; got != want {
			t.Errorf("IsPlaceholderGUID(%q) = %v, want %v", c.in, got, want)
		}
	}
}

func TestIsPlaceholder(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"<user principal name>", true},
		{"<upn>", true},
		{"<>", true},
		{"[redacted]", true},
		{"[]", true},
		{"redacted", true},
		{"REDACTED", true},
		{"Not Applicable", true},
		{"XXXXXXXX", true},
		{"[REDACTED]", true},
		{"<USER PRINCIPAL NAME>", true},
		{"removed", true},
		{"masked", true},
		{"sanitised", true},
		{"anonymized", true},
		{"not applicable", true},
		{"***", true},
		{"*", true},
		{"#", true},
		{"xxx", true},
		{"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", true},
		{"***@contoso.com", true},
		{"xxx@contoso.com", true},
		{"x.x.x@contoso.com", true},
		{"**@**", true},
		// names
		{"x", false},
		{"xx", false},
		{"x.y@contoso.com", false},
		{"xavier@contoso.com", false},
		{"x@contoso.com", false},
		{"alice@fabrikam.com", false},
		{"<alice@fabrikam.com", false},
		{"[alice", false},
		{"-", false}, // Canonical's own list has it
		{"_", false},
		{".", false},
		{"redacted.user@contoso.com", false},
		{"app@sharepoint", false},
		{"", false},
	}
	for _, c := range cases {
		if got := IsPlaceholder([]byte(c.in)); got != c.want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestCanonicalPlaceholders: a placeholder or redaction marker names
// nobody, wherever it sits in the spellings Canonical reads.
func TestCanonicalPlaceholders(t *testing.T) {
	for _, s := range []string{"<user principal name>", "<USER PRINCIPAL NAME>", " [REDACTED] ", "REDACTED", "***",
		"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "***@contoso.com", "urn:spo:guest#<user>", "urn:spo:guest#[REDACTED]",
		"i:0#.f|membership|<upn>", "i:0#.f|membership|***"} {
		u, kind, arena := Canonical([]byte(s), []byte("keep"))
		if kind != UserUnusable || len(u) != 0 || string(arena) != "keep" {
			t.Errorf("Canonical(%q) = %q, %v, arena %q; want unusable, arena untouched", s, u, kind, arena)
		}
	}
}

// TestRedactionWordsFit keeps maxRedactionWord the longest word's length.
func TestRedactionWordsFit(t *testing.T) {
	longest := 0
	for w := range redactionWords {
		longest = max(longest, len(w))
	}
	if longest != maxRedactionWord {
		t.Errorf("the longest redaction word has %d bytes, maxRedactionWord is %d", longest, maxRedactionWord)
	}
}

func TestIsPlaceholderNoAlloc(t *testing.T) {
	in := [][]byte{[]byte("redacted"), []byte("alice@contoso.com"), []byte("***@contoso.com"), []byte("<upn>")}
	if n := testing.AllocsPerRun(100, func() {
		for _, b := range in {
			IsPlaceholder(b)
			IsTenantID(b)
		}
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

// FuzzPlaceholders holds the predicates to what they promise on any
// input: no panic, IsTenantID only for GUIDs and never for a placeholder
// one, IsPlaceholder blind to case in ASCII, and Canonical's unusable names
// leave the arena as it was.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{"<USER HOME TENANT ID>", "[REDACTED]", "REDACTED", "***", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
		"00000000-0000-0000-0000-000000000000", "6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94", "aaaabbbb-0000-cccc-1111-dddd2222eeee",
		"***@contoso.com", "x@contoso.com", "i:0#.f|membership|<upn>", "urn:spo:guest#[x]", "Not Applicable", "<", "[", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tid, guid, ph := IsTenantID(b), IsGUID(b), IsPlaceholderGUID(b)
		if tid && (!guid || ph) || ph && !guid || guid && !tid && !ph {
			t.Fatalf("%q: IsTenantID %v, IsGUID %v, IsPlaceholderGUID %v", b, tid, guid, ph)
		}
		ascii := true
		for _, c := range b {
			ascii = ascii && c < utf8.RuneSelf
		}
		if ascii && IsPlaceholder([]byte(strings.ToUpper(string(b)))) != IsPlaceholder([]byte(strings.ToLower(string(b)))) {
			t.Fatalf("%q: IsPlaceholder differs by case", b)
		}
		arena := []byte("keep")
		if _, kind, out := Canonical(b, arena); kind == UserUnusable && string(out) != "keep" {
			t.Fatalf("%q: unusable, but the arena grew to %q", b, out)
		}
	})
}
