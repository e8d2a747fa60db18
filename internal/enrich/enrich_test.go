package enrich

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The MaxMind test databases in testdata (see testdata/README.md). Expected
// values below come from their source data (../shared/testdata/mmdb/
// *.source.json), which TestSourceData checks exhaustively when present.
const (
	cityDB    = "testdata/GeoLite2-City-Test.mmdb"
	countryDB = "testdata/GeoLite2-Country-Test.mmdb"
	asnDB     = "testdata/GeoLite2-ASN-Test.mmdb"
	anonDB    = "testdata/GeoIP2-Anonymous-IP-Test.mmdb"
)

var allDBs = []string{cityDB, countryDB, asnDB, anonDB}

// sourceDir holds the JSON the test databases were built from.
const sourceDir = "../../../shared/testdata/mmdb"

func mustOpen(t testing.TB, paths ...string) *DB {
	t.Helper()
	d, err := Open(paths...)
	if err != nil {
		t.Fatalf("Open(%q): %v", paths, err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// allFlags is every anonymiser flag set, as 81.2.69.0/24 is in the
// Anonymous-IP test database.
var allFlags = Info{Anonymous: true, VPN: true, Hosting: true, Tor: true, PublicProxy: true, ResidentialProxy: true}

func TestLookup(t *testing.T) {
	tests := []struct {
		name string
		dbs  []string
		addr string
		want Info
	}{
		// City: "81.2.69.142/31", "2.125.160.216/29", "89.160.20.128/25", "2001:480::/43".
		{"city", []string{cityDB}, "81.2.69.142", Info{Country: "GB", CountryName: "United Kingdom", City: "London"}},
		{"city other network", []string{cityDB}, "2.125.160.221", Info{Country: "GB", CountryName: "United Kingdom", City: "Boxford"}},
		{"city non-ASCII name", []string{cityDB}, "89.160.20.200", Info{Country: "SE", CountryName: "Sweden", City: "Linköping"}},
		{"city IPv6", []string{cityDB}, "2001:480::1", Info{Country: "US", CountryName: "United States", City: "San Diego"}},
		// "2001:218::/32" has a country and no city.
		{"city db without city", []string{cityDB}, "2001:218::1", Info{Country: "JP", CountryName: "Japan"}},
		// "2a02:d500::/29" is in the City database with neither.
		{"city db record without location", []string{cityDB}, "2a02:d500::1", Info{}},

		// Country: "50.114.0.0/22" and "217.65.48.0/29" are in the Country
		// database only; "111.235.160.0/22" too, with a name unlike City's.
		{"country", []string{countryDB}, "50.114.0.1", Info{Country: "US", CountryName: "United States"}},
		{"country only, all databases", allDBs, "217.65.48.7", Info{Country: "GI", CountryName: "Gibraltar"}},
		{"country only, long name", allDBs, "111.235.160.1", Info{Country: "CN", CountryName: "People's Republic of China"}},
		{"country IPv6", []string{countryDB}, "2001:218::1", Info{Country: "JP", CountryName: "Japan"}},

		// ASN: "1.128.0.0/11", "12.81.96.0/19" (number, no organisation),
		// "2001:1700::/27".
		{"asn", []string{asnDB}, "1.128.0.1", Info{ASN: 1221, Org: "Telstra Pty Ltd"}},
		{"asn last address", []string{asnDB}, "1.159.255.255", Info{ASN: 1221, Org: "Telstra Pty Ltd"}},
		{"asn without organisation", []string{asnDB}, "12.81.96.1", Info{ASN: 7018}},
		{"asn escaped organisation", []string{asnDB}, "12.81.92.1", Info{ASN: 7018, Org: "AT&T Services"}},
		{"asn IPv6", []string{asnDB}, "2001:1700::1", Info{ASN: 6730, Org: "Sunrise Communications AG"}},

		// Anonymous IP: one flag each.
		{"vpn", []string{anonDB}, "6.1.0.1", Info{Anonymous: true, VPN: true}},         // ::6.1.0.0/127
		{"hosting", []string{anonDB}, "6.1.0.2", Info{Anonymous: true, Hosting: true}}, // ::6.1.0.2/128
		{"hosting /24", []string{anonDB}, "71.160.223.9", Info{Anonymous: true, Hosting: true}},
		{"public proxy", []string{anonDB}, "6.1.0.3", Info{Anonymous: true, PublicProxy: true}}, // ::6.1.0.3/128
		{"residential proxy", []string{anonDB}, "6.1.0.4", Info{Anonymous: true, ResidentialProxy: true}},
		{"tor", []string{anonDB}, "65.7.255.255", Info{Anonymous: true, Tor: true}}, // ::65.0.0.0/109 = 65.0.0.0/13
		{"tor just outside", []string{anonDB}, "65.8.0.0", Info{}},
		// The database stores an empty record right after 6.1.0.4.
		{"empty anonymous record", []string{anonDB}, "6.1.0.5", Info{}},
		// Combinations: ::1.124.213.1/128 is VPN and Tor, ::81.2.69.0/120 all.
		{"vpn and tor", []string{anonDB}, "1.124.213.1", Info{Anonymous: true, VPN: true, Tor: true}},
		{"every flag", []string{anonDB}, "81.2.69.1", allFlags},
		{"anonymous IPv6", []string{anonDB}, "2001:480:3a::1", Info{Anonymous: true, PublicProxy: true}},
		{"anonymous IPv6 last", []string{anonDB}, "abcd:1000::ffff", Info{Anonymous: true, PublicProxy: true}},
		{"anonymous IPv6 outside", []string{anonDB}, "abcd:1000::1:0", Info{}},

		// IPv4 in the IPv6 databases, three ways of writing it: plain,
		// IPv4-mapped (how dual-stack servers log IPv4 clients), and
		// IPv4-compatible (where IPv6 databases keep the IPv4 tree).
		{"merged", allDBs, "81.2.69.142", func() Info {
			i := allFlags
			i.Country, i.CountryName, i.City = "GB", "United Kingdom", "London"
			return i
		}()},
		{"merged IPv4-mapped", allDBs, "::ffff:81.2.69.142", func() Info {
			i := allFlags
			i.Country, i.CountryName, i.City = "GB", "United Kingdom", "London"
			return i
		}()},
		{"merged IPv4-compatible", allDBs, "::81.2.69.142", func() Info {
			i := allFlags
			i.Country, i.CountryName, i.City = "GB", "United Kingdom", "London"
			return i
		}()},
		{"merged with asn", allDBs, "89.160.20.128", Info{Country: "SE", CountryName: "Sweden", City: "Linköping", ASN: 29518, Org: "Bredband2 AB"}},
		{"merged with asn, mapped", allDBs, "::ffff:214.78.0.1", Info{Country: "US", CountryName: "United States", City: "San Diego", ASN: 721, Org: "DoD Network Information Center"}},
		{"merged IPv6", allDBs, "2001:480::1", Info{Country: "US", CountryName: "United States", City: "San Diego"}},
		{"zone ignored", allDBs, "2001:480::1%eth0", Info{Country: "US", CountryName: "United States", City: "San Diego"}},

		// In no database.
		{"documentation IPv4", allDBs, "192.0.2.1", Info{}},
		{"private IPv4", allDBs, "10.0.0.1", Info{}},
		{"loopback", allDBs, "127.0.0.1", Info{}},
		{"documentation IPv6", allDBs, "2001:db8::1", Info{}},
		{"unspecified IPv6", allDBs, "::", Info{}},
		{"no databases", nil, "81.2.69.142", Info{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustOpen(t, tt.dbs...)
			got := d.Lookup(netip.MustParseAddr(tt.addr))
			if got != tt.want {
				t.Errorf("Lookup(%s) with %v\n got %+v\nwant %+v", tt.addr, tt.dbs, got, tt.want)
			}
		})
	}
}

func TestLookupOrderOfOpenDoesNotMatter(t *testing.T) {
	// The precedence is by database kind, not by argument order.
	a := mustOpen(t, allDBs...)
	rev := slices.Clone(allDBs)
	slices.Reverse(rev)
	b := mustOpen(t, rev...)
	for _, s := range []string{"81.2.69.142", "89.160.20.128", "214.78.0.1", "2001:480::1", "6.1.0.3", "111.235.160.1"} {
		addr := netip.MustParseAddr(s)
		if x, y := a.Lookup(addr), b.Lookup(addr); x != y {
			t.Errorf("%s: %+v with %v, %+v reversed", s, x, allDBs, y)
		}
	}
}

func TestLookupInvalidAndNil(t *testing.T) {
	d := mustOpen(t, allDBs...)
	if got := d.Lookup(netip.Addr{}); got != (Info{}) {
		t.Errorf("Lookup(zero Addr) = %+v, want zero", got)
	}
	var nilDB *DB
	if got := nilDB.Lookup(netip.MustParseAddr("81.2.69.142")); got != (Info{}) {
		t.Errorf("nil DB Lookup = %+v, want zero", got)
	}
	if got := nilDB.Describe(); got != nil {
		t.Errorf("nil DB Describe = %q, want nil", got)
	}
	if err := nilDB.Close(); err != nil {
		t.Errorf("nil DB Close = %v", err)
	}
}

func TestClose(t *testing.T) {
	d, err := Open(allDBs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := d.Lookup(netip.MustParseAddr("81.2.69.142")); got != (Info{}) {
		t.Errorf("Lookup after Close = %+v, want zero", got)
	}
	if got := d.Describe(); len(got) != 0 {
		t.Errorf("Describe after Close = %q, want none", got)
	}
}

func TestAnonymizers(t *testing.T) {
	tests := []struct {
		info Info
		want []string
	}{
		{Info{}, nil},
		{Info{Country: "GB", ASN: 1}, nil},
		{Info{Anonymous: true}, nil}, // is_anonymous alone names nothing
		{Info{Anonymous: true, VPN: true}, []string{"VPN"}},
		{Info{Anonymous: true, Hosting: true}, []string{"hosting provider"}},
		{Info{Anonymous: true, Tor: true}, []string{"Tor exit node"}},
		{Info{Anonymous: true, PublicProxy: true}, []string{"public proxy"}},
		{Info{Anonymous: true, ResidentialProxy: true}, []string{"residential proxy"}},
		{Info{Anonymous: true, VPN: true, Tor: true}, []string{"VPN", "Tor exit node"}},
		{Info{Tor: true, VPN: true, ResidentialProxy: true}, []string{"VPN", "Tor exit node", "residential proxy"}},
		{allFlags, []string{"VPN", "hosting provider", "Tor exit node", "public proxy", "residential proxy"}},
	}
	for _, tt := range tests {
		if got := tt.info.Anonymizers(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.Anonymizers() = %q, want %q", tt.info, got, tt.want)
		}
	}
	// And from a real lookup.
	d := mustOpen(t, anonDB)
	if got, want := d.Lookup(netip.MustParseAddr("1.124.213.1")).Anonymizers(), []string{"VPN", "Tor exit node"}; !reflect.DeepEqual(got, want) {
		t.Errorf("1.124.213.1 Anonymizers = %q, want %q", got, want)
	}
}

func TestDescribe(t *testing.T) {
	d := mustOpen(t, anonDB, cityDB, asnDB, countryDB)
	// In the order given to Open, whatever the lookup precedence.
	want := []string{
		"GeoIP2-Anonymous-IP, built 2026-02-04, 629 nodes (GeoIP2-Anonymous-IP-Test.mmdb)",
		"GeoLite2-City, built 2026-02-04, 1465 nodes (GeoLite2-City-Test.mmdb)",
		"GeoLite2-ASN, built 2026-02-04, 1341 nodes (GeoLite2-ASN-Test.mmdb)",
		"GeoLite2-Country, built 2026-02-04, 1505 nodes (GeoLite2-Country-Test.mmdb)",
	}
	if got := d.Describe(); !reflect.DeepEqual(got, want) {
		t.Errorf("Describe:\n got %q\nwant %q", got, want)
	}
	if got := mustOpen(t).Describe(); len(got) != 0 {
		t.Errorf("Describe with no databases = %q", got)
	}
}

// TestDescribeBuiltDatabase covers a database without a build date.
func TestDescribeBuiltDatabase(t *testing.T) {
	p := writeMMDB(t, t.TempDir(), "x.mmdb", mmdbSpec{dbType: "GeoLite2-ASN", ipVersion: 6,
		nets: []network{{"1.0.0.0/8", map[string]any{"autonomous_system_number": uint32(1)}}},
		meta: map[string]any{"build_epoch": uint64(0)}})
	d := mustOpen(t, p)
	if got, want := d.Describe(), []string{"GeoLite2-ASN, built unknown date, 104 nodes (x.mmdb)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	city, err := os.ReadFile(cityDB)
	if err != nil {
		t.Fatal(err)
	}
	domain := buildMMDB(t, mmdbSpec{dbType: "GeoIP2-Domain", ipVersion: 6,
		nets: []network{{"1.0.0.0/8", map[string]any{"domain": "example.com"}}}})
	missing := filepath.Join(dir, "GeoLite2-City.mmdb")
	text := write("notes.mmdb", []byte("this is not a MaxMind DB\n"))
	gz := write("GeoLite2-City.mmdb.gz", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"))
	emptyFile := write("empty.mmdb", nil)
	truncated := write("truncated.mmdb", city[:len(city)/2])
	cutMeta := write("cut-meta.mmdb", city[:len(city)-20])
	unsupported := write("domain.mmdb", domain)
	v3 := write("v3.mmdb", buildMMDB(t, mmdbSpec{dbType: "GeoLite2-City", ipVersion: 6,
		meta: map[string]any{"binary_format_major_version": uint16(3)}}))
	ipv5 := write("ipv5.mmdb", buildMMDB(t, mmdbSpec{dbType: "GeoLite2-City", ipVersion: 6,
		meta: map[string]any{"ip_version": uint16(5)}}))
	rec26 := write("rec26.mmdb", buildMMDB(t, mmdbSpec{dbType: "GeoLite2-City", ipVersion: 6,
		meta: map[string]any{"record_size": uint16(26)}}))
	hugeTree := write("huge-tree.mmdb", buildMMDB(t, mmdbSpec{dbType: "GeoLite2-City", ipVersion: 6,
		meta: map[string]any{"node_count": uint32(1 << 30)}}))

	tests := []struct {
		name  string
		paths []string
		is    error    // errors.Is target
		text  []string // substrings of the message
	}{
		{"missing", []string{missing}, fs.ErrNotExist, []string{missing, "no such file"}},
		{"missing after good ones", []string{cityDB, asnDB, missing}, fs.ErrNotExist, []string{missing}},
		{"directory", []string{dir}, ErrNotMMDB, []string{dir, "not a regular file"}},
		{"text file", []string{text}, ErrNotMMDB, []string{text, "not a valid MaxMind DB file"}},
		{"gzip", []string{gz}, ErrNotMMDB, []string{gz, "not a valid MaxMind DB file"}},
		{"empty", []string{emptyFile}, ErrNotMMDB, []string{emptyFile, "empty"}},
		{"truncated", []string{truncated}, ErrNotMMDB, []string{truncated}},
		{"metadata cut short", []string{cutMeta}, ErrNotMMDB, []string{cutMeta}},
		{"unsupported type", []string{cityDB, unsupported}, ErrUnsupported, []string{unsupported, `"GeoIP2-Domain"`, "City, Country, ASN or Anonymous-IP"}},
		{"format version 3", []string{v3}, ErrNotMMDB, []string{v3, "binary format version 3"}},
		{"ip version 5", []string{ipv5}, ErrNotMMDB, []string{ipv5, "ip_version 5"}},
		{"record size 26", []string{rec26}, ErrNotMMDB, []string{rec26, "record size: 26"}},
		{"tree larger than file", []string{hugeTree}, ErrNotMMDB, []string{hugeTree}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Open(tt.paths...)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%q) succeeded", tt.paths)
			}
			if d != nil {
				t.Errorf("Open returned a DB with the error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestOpenTruncatedEverywhere cuts each test database at many lengths: Open
// must fail cleanly or give a DB whose lookups do not panic.
func TestOpenTruncatedEverywhere(t *testing.T) {
	dir := t.TempDir()
	for i, data := range readDBs(t) {
		src := allDBs[i]
		for n := 0; n < len(data); n += 1 + n/16 {
			p, d, err := openCopy(t, dir, fmt.Sprintf("%s-%d", filepath.Base(src), n), data[:n])
			if err != nil {
				if !errors.Is(err, ErrNotMMDB) || !strings.Contains(err.Error(), p) {
					t.Errorf("%s cut at %d: unexpected error %v", src, n, err)
				}
				continue
			}
			// The metadata is at the end, so a cut file should never open.
			t.Errorf("%s cut at %d of %d opened", src, n, len(data))
			lookupAll(d)
			d.Close()
		}
	}
}

// TestCorruptTree overwrites bytes of the search tree and data section of
// the real databases: the file still opens, and lookups must not panic.
func TestCorruptTree(t *testing.T) {
	dir := t.TempDir()
	for i, data := range readDBs(t) {
		src := allDBs[i]
		for _, b := range []byte{0x00, 0xff, 0x7f} {
			bad := slices.Clone(data)
			// Leave the metadata (at the end) intact.
			for i := 0; i < len(bad)*3/4; i += 7 {
				bad[i] = b
			}
			_, d, err := openCopy(t, dir, fmt.Sprintf("%s-%x", filepath.Base(src), b), bad)
			if err != nil {
				continue
			}
			lookupAll(d)
			d.Close()
		}
	}
}

// readDBs reads the test databases, in the order of allDBs: the real
// files the robustness tests damage.
func readDBs(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range allDBs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// openCopy writes data, a damaged database, to dir/name and opens it.
func openCopy(t *testing.T, dir, name string, data []byte) (string, *DB, error) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(p)
	return p, d, err
}

// probes are addresses every robustness test looks up: hits in each test
// database, misses, IPv4-mapped and IPv6.
var probes = []netip.Addr{
	netip.MustParseAddr("81.2.69.142"),
	netip.MustParseAddr("::ffff:81.2.69.142"),
	netip.MustParseAddr("89.160.20.128"),
	netip.MustParseAddr("1.128.0.1"),
	netip.MustParseAddr("6.1.0.4"),
	netip.MustParseAddr("2001:480::1"),
	netip.MustParseAddr("abcd:1000::1"),
	netip.MustParseAddr("0.0.0.0"),
	netip.MustParseAddr("255.255.255.255"),
	netip.MustParseAddr("::"),
	netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
}

func lookupAll(d *DB) {
	for _, a := range probes {
		info := d.Lookup(a)
		_ = info.Anonymizers()
	}
	_ = d.Describe()
}

func TestConcurrentLookups(t *testing.T) {
	d := mustOpen(t, allDBs...)
	want := make([]Info, len(probes))
	for i, a := range probes {
		want[i] = d.Lookup(a)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(probes)
				if got := d.Lookup(probes[i]); got != want[i] {
					t.Errorf("concurrent Lookup(%s) = %+v, want %+v", probes[i], got, want[i])
					return
				}
				if n%50 == 0 {
					_ = d.Describe()
				}
			}
		})
	}
	wg.Wait()
}

// TestPrecedence uses built databases that disagree, to pin down which
// database wins for each field.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	place := func(iso, country, city string) map[string]any {
		m := map[string]any{"country": map[string]any{"iso_code": iso, "names": map[string]any{"en": country, "de": "x"}}}
		if city != "" {
			m["city"] = map[string]any{"names": map[string]any{"en": city, "fr": "y"}}
		}
		return m
	}
	const net = "198.51.100.0/24"
	cityA := writeMMDB(t, dir, "a.mmdb", mmdbSpec{dbType: "GeoIP2-City", ipVersion: 6,
		nets: []network{{net, place("FR", "France", "Paris")}}})
	cityB := writeMMDB(t, dir, "b.mmdb", mmdbSpec{dbType: "GeoLite2-City", ipVersion: 6,
		nets: []network{{net, place("DE", "Germany", "Berlin")}}})
	country := writeMMDB(t, dir, "c.mmdb", mmdbSpec{dbType: "GeoIP2-Country", ipVersion: 6,
		nets: []network{{net, place("GB", "United Kingdom", "")}}})
	enterprise := func() map[string]any {
		m := place("IT", "Italy", "Rome")
		m["traits"] = map[string]any{"autonomous_system_number": uint32(64500), "autonomous_system_organization": "Enterprise Org", "isp": "ignored"}
		return m
	}()
	ent := writeMMDB(t, dir, "e.mmdb", mmdbSpec{dbType: "GeoIP2-Enterprise", ipVersion: 6,
		nets: []network{{net, enterprise}}})
	asn := writeMMDB(t, dir, "asn.mmdb", mmdbSpec{dbType: "GeoLite2-ASN", ipVersion: 6,
		nets: []network{{net, map[string]any{"autonomous_system_number": uint32(64501), "autonomous_system_organization": "ASN Org"}}}})
	isp := writeMMDB(t, dir, "isp.mmdb", mmdbSpec{dbType: "GeoIP2-ISP", ipVersion: 6,
		nets: []network{{net, map[string]any{"autonomous_system_number": uint32(64502), "isp": "ISP", "organization": "Org"}}}})
	anonA := writeMMDB(t, dir, "anon-a.mmdb", mmdbSpec{dbType: "GeoIP2-Anonymous-IP", ipVersion: 6,
		nets: []network{{net, map[string]any{"is_anonymous": true, "is_anonymous_vpn": true}}}})
	anonB := writeMMDB(t, dir, "anon-b.mmdb", mmdbSpec{dbType: "GeoIP-Anonymous-Plus", ipVersion: 6,
		nets: []network{{net, map[string]any{"is_anonymous": true, "is_tor_exit_node": true, "anonymizer_confidence": uint16(99), "provider_name": "X"}}}})
	// is_anonymous without a named flag.
	anonOnly := writeMMDB(t, dir, "anon-only.mmdb", mmdbSpec{dbType: "GeoIP2-Anonymous-IP", ipVersion: 6,
		nets: []network{{net, map[string]any{"is_anonymous": true}}}})

	addr := netip.MustParseAddr("198.51.100.7")
	tests := []struct {
		name string
		dbs  []string
		want Info
	}{
		{"first city wins", []string{cityA, cityB}, Info{Country: "FR", CountryName: "France", City: "Paris"}},
		{"first city wins, other order", []string{cityB, cityA}, Info{Country: "DE", CountryName: "Germany", City: "Berlin"}},
		{"city beats country", []string{country, cityB}, Info{Country: "DE", CountryName: "Germany", City: "Berlin"}},
		{"country alone", []string{country}, Info{Country: "GB", CountryName: "United Kingdom"}},
		{"enterprise gives asn", []string{ent}, Info{Country: "IT", CountryName: "Italy", City: "Rome", ASN: 64500, Org: "Enterprise Org"}},
		{"asn database beats enterprise traits", []string{ent, asn}, Info{Country: "IT", CountryName: "Italy", City: "Rome", ASN: 64501, Org: "ASN Org"}},
		{"asn and org come as a pair", []string{isp, ent}, Info{Country: "IT", CountryName: "Italy", City: "Rome", ASN: 64502}},
		{"flags combine", []string{anonA, anonB}, Info{Anonymous: true, VPN: true, Tor: true}},
		{"anonymous without a flag", []string{anonOnly}, Info{Anonymous: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustOpen(t, tt.dbs...).Lookup(addr); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestIPv4OnlyDatabase: an IPv6 address in an IPv4-only database is unknown,
// not an error, and the other databases still answer.
func TestIPv4OnlyDatabase(t *testing.T) {
	dir := t.TempDir()
	v4 := writeMMDB(t, dir, "v4.mmdb", mmdbSpec{dbType: "GeoLite2-Country", ipVersion: 4,
		nets: []network{{"198.51.100.0/24", map[string]any{"country": map[string]any{"iso_code": "NL", "names": map[string]any{"en": "Netherlands"}}}}}})
	d := mustOpen(t, v4, asnDB)
	nl := Info{Country: "NL", CountryName: "Netherlands"}
	for _, tt := range []struct {
		addr string
		want Info
	}{
		{"198.51.100.1", nl},
		{"::ffff:198.51.100.1", nl}, // mapped: looked up as IPv4
		{"198.51.101.1", Info{}},
		{"2001:1700::1", Info{ASN: 6730, Org: "Sunrise Communications AG"}}, // IPv6: only the ASN database knows
	} {
		if got := d.Lookup(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tt.addr, got, tt.want)
		}
	}
}

// TestMismatchedLayout: a database whose records do not have the types its
// database_type promises contributes nothing, and the others still answer.
func TestMismatchedLayout(t *testing.T) {
	dir := t.TempDir()
	bad := writeMMDB(t, dir, "bad.mmdb", mmdbSpec{dbType: "GeoLite2-City", ipVersion: 6,
		nets: []network{
			// ipinfo-style: country as a plain string.
			{"81.2.69.0/24", map[string]any{"country": "GB", "city": map[string]any{"names": map[string]any{"en": "Nowhere"}}}},
			// ASN as a string.
			{"89.160.20.0/24", map[string]any{"autonomous_system_number": "AS1"}},
		}})
	d := mustOpen(t, bad, countryDB, asnDB)
	if got, want := d.Lookup(netip.MustParseAddr("81.2.69.142")), (Info{Country: "GB", CountryName: "United Kingdom"}); got != want {
		t.Errorf("81.2.69.142 = %+v, want %+v (from the Country database only)", got, want)
	}
	if got, want := d.Lookup(netip.MustParseAddr("89.160.20.130")), (Info{Country: "SE", CountryName: "Sweden", ASN: 29518, Org: "Bredband2 AB"}); got != want {
		t.Errorf("89.160.20.130 = %+v, want %+v", got, want)
	}
}

// TestSourceData checks every network of every test database's source JSON
// (MaxMind's source-data, copied to ../shared) against Lookup: its first and
// last address, as IPv4 and IPv4-mapped where it is IPv4, each against the
// most specific source network that contains it. It skips when the shared
// folder is absent, as on CI.
func TestSourceData(t *testing.T) {
	if _, err := os.Stat(sourceDir); err != nil {
		t.Skipf("no source data at %s (normal outside the dev machine): %v", sourceDir, err)
	}
	for _, db := range allDBs {
		name := strings.TrimSuffix(filepath.Base(db), ".mmdb")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(sourceDir, name+".source.json"))
			if err != nil {
				t.Fatal(err)
			}
			var entries []map[string]sourceRecord
			if err := json.Unmarshal(raw, &entries); err != nil {
				t.Fatal(err)
			}
			type net struct {
				p   netip.Prefix
				rec sourceRecord
			}
			var nets []net
			for _, e := range entries {
				for k, rec := range e {
					nets = append(nets, net{as6(netip.MustParsePrefix(k)), rec})
				}
			}
			d := mustOpen(t, db)
			checked := 0
			for _, n := range nets {
				for _, a := range []netip.Addr{n.p.Addr(), lastAddr(n.p)} {
					// The expected value is the most specific network's.
					best := -1
					for j, m := range nets {
						if m.p.Contains(a) && (best < 0 || m.p.Bits() > nets[best].p.Bits()) {
							best = j
						}
					}
					want := nets[best].rec.info()
					forms := []netip.Addr{a}
					if n.p.Bits() >= 96 && netip.PrefixFrom(netip.IPv6Unspecified(), 96).Contains(a) {
						// An IPv4 network: also as plain IPv4 and IPv4-mapped.
						v4 := netip.AddrFrom4([4]byte(a.AsSlice()[12:]))
						forms = append(forms, v4, netip.AddrFrom16(v4.As16()))
					}
					for _, f := range forms {
						if got := d.Lookup(f); got != want {
							t.Errorf("Lookup(%s) in network %s = %+v, want %+v", f, n.p, got, want)
						}
						checked++
					}
				}
			}
			t.Logf("%d networks, %d lookups checked", len(nets), checked)
			if len(nets) < 10 {
				t.Errorf("only %d networks in the source data", len(nets))
			}
		})
	}
}

// sourceRecord is one network's data in a MaxMind source-data file.
type sourceRecord struct {
	City struct {
		Names map[string]string `json:"names"`
	} `json:"city"`
	Country struct {
		ISOCode string            `json:"iso_code"`
		Names   map[string]string `json:"names"`
	} `json:"country"`
	ASN                uint32 `json:"autonomous_system_number"`
	Org                string `json:"autonomous_system_organization"`
	IsAnonymous        bool   `json:"is_anonymous"`
	IsAnonymousVPN     bool   `json:"is_anonymous_vpn"`
	IsHostingProvider  bool   `json:"is_hosting_provider"`
	IsTorExitNode      bool   `json:"is_tor_exit_node"`
	IsPublicProxy      bool   `json:"is_public_proxy"`
	IsResidentialProxy bool   `json:"is_residential_proxy"`
}

// info is what Lookup should return for an address in this network alone.
func (r sourceRecord) info() Info {
	i := Info{
		Country: r.Country.ISOCode, CountryName: r.Country.Names["en"], City: r.City.Names["en"],
		ASN: r.ASN, Org: r.Org,
		VPN: r.IsAnonymousVPN, Hosting: r.IsHostingProvider, Tor: r.IsTorExitNode,
		PublicProxy: r.IsPublicProxy, ResidentialProxy: r.IsResidentialProxy,
	}
	i.Anonymous = r.IsAnonymous || i.VPN || i.Hosting || i.Tor || i.PublicProxy || i.ResidentialProxy
	return i
}

// as6 writes an IPv4 prefix as the IPv6 prefix where IPv6 databases keep it
// (::a.b.c.d), so that prefixes of both notations compare.
func as6(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4() {
		return netip.PrefixFrom(netip.AddrFrom16(append16(p.Addr().As4())), p.Bits()+96)
	}
	return p
}

func append16(v4 [4]byte) [16]byte {
	var b [16]byte
	copy(b[12:], v4[:])
	return b
}

// lastAddr is the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	if p.Addr().Is4() {
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return netip.AddrFrom16(b)
}
