package enrich

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen writes arbitrary bytes to a file and opens it as a database: Open
// must return an error or a DB, never panic or hang, and lookups in whatever
// it opened must not panic either. A --geoip file is whatever the analyst
// downloaded, so a corrupt or hostile one must fail cleanly.
//
//	go test -run '^$' -fuzz FuzzOpen -fuzztime 60s ./internal/enrich
func FuzzOpen(f *testing.F) {
	for _, data := range readDBs(f) {
		f.Add(data)
		f.Add(data[:len(data)-1])
		f.Add(data[len(data)/2:])
	}
	// Small built databases mutate faster than MaxMind's 20 KB ones: an
	// IPv4-only database with every field this package reads, and an IPv6
	// one.
	everything := map[string]any{
		"country":                        map[string]any{"iso_code": "GB", "names": map[string]any{"en": "United Kingdom"}},
		"city":                           map[string]any{"names": map[string]any{"en": "London"}},
		"autonomous_system_number":       uint32(64500),
		"autonomous_system_organization": "Org",
		"traits":                         map[string]any{"autonomous_system_number": uint32(64501)},
		"is_anonymous":                   true,
		"is_anonymous_vpn":               true,
		"is_tor_exit_node":               true,
	}
	f.Add(buildMMDB(f, mmdbSpec{dbType: "GeoIP2-Enterprise", ipVersion: 4, nets: []network{
		{"81.0.0.0/8", everything},
		{"1.0.0.0/8", map[string]any{"is_anonymous": true, "is_public_proxy": true}},
	}}))
	f.Add(buildMMDB(f, mmdbSpec{dbType: "GeoIP2-Anonymous-IP", ipVersion: 6, nets: []network{
		{"abcd::/16", everything},
	}}))
	f.Add([]byte("\xAB\xCD\xEFMaxMind.com"))
	f.Add([]byte{})

	// One file, rewritten for every input: a fuzz worker runs its inputs one
	// at a time, and a temporary directory per input would cost more than
	// the input itself.
	path := filepath.Join(f.TempDir(), "fuzz.mmdb")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := Open(path)
		if err != nil {
			if d != nil {
				t.Fatalf("Open returned a DB and the error %v", err)
			}
			if !errors.Is(err, ErrNotMMDB) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Open: error is neither ErrNotMMDB nor ErrUnsupported: %v", err)
			}
			return
		}
		defer d.Close()
		addrs := probes
		// Also an address from the input, to reach other parts of the tree.
		if len(data) >= 16 {
			addrs = append(addrs[:len(addrs):len(addrs)],
				netip.AddrFrom16([16]byte(data[:16])), netip.AddrFrom4([4]byte(data[:4])))
		}
		for _, a := range addrs {
			info := d.Lookup(a)
			flagged := info.VPN || info.Hosting || info.Tor || info.PublicProxy || info.ResidentialProxy
			if flagged && !info.Anonymous {
				t.Fatalf("Lookup(%s) = %+v: a flag without Anonymous", a, info)
			}
			if len(info.Anonymizers()) > 0 != flagged {
				t.Fatalf("Lookup(%s) = %+v: Anonymizers %q", a, info, info.Anonymizers())
			}
		}
		if n := len(d.Describe()); n != 1 {
			t.Fatalf("Describe gave %d lines for one database", n)
		}
	})
}
