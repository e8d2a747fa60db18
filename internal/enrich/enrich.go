// Package enrich tells what offline MaxMind DB (.mmdb) databases know about
// an IP address: where it is (country, city), who routes it (ASN and its
// organisation) and whether it is an anonymiser (VPN, hosting provider, Tor
// exit node, public or residential proxy).
//
// It exists so that a triage report can say "this outside account signed in
// from a VPN in another country" without any network access: the databases
// are files the analyst downloads beforehand (GeoLite2 City, Country and ASN,
// GeoIP2 Anonymous IP, or their paid and DB-IP equivalents).
//
// Any number of databases may be opened together; each is recognised by the
// database_type in its own metadata, never by its file name, because
// downloads get renamed (GeoLite2-City_20261124.mmdb, city.mmdb, ...) and a
// wrong guess would silently read the wrong layout.
package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	maxminddb "github.com/oschwald/maxminddb-golang/v2"
)

// Info is what the databases know about one address. Zero values mean
// unknown: an address in no database, or a database that has no record for
// it, leaves every field zero rather than guessing.
type Info struct {
	Country     string // ISO 3166-1 alpha-2, e.g. "GB"
	CountryName string // English name, e.g. "United Kingdom"
	City        string // English name, e.g. "London"
	ASN         uint32 // autonomous system number, e.g. 15169
	Org         string // the autonomous system's organisation, e.g. "Google Inc."

	// Anonymous is true when any anonymiser flag below is set, or when an
	// Anonymous-IP database says is_anonymous without naming the kind (it
	// may know an anonymiser it has no flag for).
	Anonymous bool

	VPN              bool // is_anonymous_vpn: a commercial VPN endpoint
	Hosting          bool // is_hosting_provider: a data centre, not a person's connection
	Tor              bool // is_tor_exit_node
	PublicProxy      bool // is_public_proxy
	ResidentialProxy bool // is_residential_proxy: a proxy hiding behind home ISP addresses
}

// Anonymizers returns the names of the anonymiser flags set ("VPN",
// "hosting provider", "Tor exit node", "public proxy", "residential proxy"),
// in that fixed order, for the reasons of a verdict: the same address always
// gives the same words in the same order, so reports stay byte-identical.
// It returns nil when no flag is set, even if Anonymous is true (a database
// that says "anonymous" without saying how); callers that raise severity on
// Anonymous should say "anonymiser" themselves in that case.
func (i Info) Anonymizers() []string {
	var names []string
	for _, f := range []struct {
		set  bool
		name string
	}{
		{i.VPN, "VPN"},
		{i.Hosting, "hosting provider"},
		{i.Tor, "Tor exit node"},
		{i.PublicProxy, "public proxy"},
		{i.ResidentialProxy, "residential proxy"},
	} {
		if f.set {
			names = append(names, f.name)
		}
	}
	return names
}

// ErrNotMMDB says a file is not a usable MaxMind DB: another format, a
// truncated download, or a corrupt file. Test with errors.Is.
var ErrNotMMDB = errors.New("not a valid MaxMind DB file")

// ErrUnsupported says a file is a valid MaxMind DB whose database_type is not
// one of the layouts this package reads (City, Country, ASN, Anonymous IP),
// e.g. GeoIP2-Domain or GeoIP2-Connection-Type. Test with errors.Is.
var ErrUnsupported = errors.New("unsupported database_type")

// kind is the record layout of a database. Its order is the precedence of
// databases when two know the same field: see DB.Lookup.
type kind int

const (
	// kindASN comes first so that a dedicated ASN or ISP database wins over
	// the ASN traits an Enterprise (City-layout) database also carries.
	kindASN kind = iota
	// kindCity comes before kindCountry because a City database's country is
	// the one its city belongs to: taking the pair from one source keeps
	// "London, FR" from ever appearing when two builds disagree.
	kindCity
	kindCountry
	kindAnonymous
)

// kinds maps each database_type this package reads to its layout. It is an
// explicit list, not a pattern on the name, so that a database with an
// unknown layout is refused at Open with a clear error instead of silently
// yielding nothing. The names are MaxMind's (GeoLite2 free and GeoIP2 paid,
// whose regional, Precision and Shield variants keep the City layout) and
// DB-IP's, which declares MaxMind compatibility in its type.
var kinds = map[string]kind{
	"GeoLite2-City":                         kindCity,
	"GeoIP2-City":                           kindCity,
	"GeoIP2-City-Africa":                    kindCity,
	"GeoIP2-City-Asia-Pacific":              kindCity,
	"GeoIP2-City-Europe":                    kindCity,
	"GeoIP2-City-North-America":             kindCity,
	"GeoIP2-City-South-America":             kindCity,
	"GeoIP2-City-Shield":                    kindCity,
	"GeoIP2-Precision-City":                 kindCity,
	"GeoIP2-Enterprise":                     kindCity,
	"GeoIP2-Enterprise-Shield":              kindCity,
	"GeoIP2-Precision-Enterprise":           kindCity,
	"GeoIP2-Precision-Enterprise-Shield":    kindCity,
	"DBIP-City-Lite":                        kindCity,
	"DBIP-Location (compat=City)":           kindCity,
	"DBIP-ISP (compat=Enterprise)":          kindCity,
	"DBIP-Location-ISP (compat=Enterprise)": kindCity,
	"GeoLite2-Country":                      kindCountry,
	"GeoIP2-Country":                        kindCountry,
	"DBIP-Country-Lite":                     kindCountry,
	"DBIP-Country":                          kindCountry,
	"GeoLite2-ASN":                          kindASN,
	"GeoIP2-ISP":                            kindASN,
	"GeoIP2-Precision-ISP":                  kindASN,
	"DBIP-ASN-Lite (compat=GeoLite2-ASN)":   kindASN,
	"GeoIP2-Anonymous-IP":                   kindAnonymous,
	"GeoIP-Anonymous-Plus":                  kindAnonymous,
}

// database is one opened file.
type database struct {
	path string
	kind kind
	r    *maxminddb.Reader
}

// DB holds any number of MaxMind databases (City, Country, ASN, Anonymous-IP
// layouts), recognised by their metadata database_type, not file names.
//
// The files are memory-mapped at Open, so a lookup never reads a file: the
// few pages it touches come from the page cache, and a 60 MB City database
// costs no heap. Do not rewrite a database in place while it is open (tools
// such as geoipupdate replace the file by renaming, which is safe).
//
// Lookup and Describe are safe for concurrent use. A nil *DB is valid and
// knows nothing, so callers without --geoip need no special case.
type DB struct {
	// dbs is in the order given to Open, for Describe.
	dbs []database
	// byPrecedence is dbs ordered by kind (stable, so for two databases of
	// the same kind the one named first wins), for Lookup.
	byPrecedence []database
}

// Open opens every path as a MaxMind DB. The error names the file and says
// what is wrong with it: missing or unreadable (errors.Is(err,
// fs.ErrNotExist) for a missing one), not a MaxMind DB or truncated
// (ErrNotMMDB), or a database_type this package does not read
// (ErrUnsupported). On error nothing stays open. Open with no paths returns a
// DB that knows nothing.
func Open(paths ...string) (*DB, error) {
	d := &DB{}
	for _, p := range paths {
		db, err := openOne(p)
		if err != nil {
			_ = d.Close() // the open error is the one that matters
			return nil, err
		}
		d.dbs = append(d.dbs, db)
	}
	d.byPrecedence = slices.Clone(d.dbs)
	slices.SortStableFunc(d.byPrecedence, func(a, b database) int { return int(a.kind) - int(b.kind) })
	return d, nil
}

// openOne opens and checks one database.
func openOne(path string) (database, error) {
	// Stat first: the reader's own errors for a directory or a device
	// ("no such device" from mmap) would not say what is wrong.
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in our message already
		}
		return database{}, fmt.Errorf("GeoIP database %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return database{}, fmt.Errorf("GeoIP database %s: %w: not a regular file (%s)", path, ErrNotMMDB, fi.Mode().Type())
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return database{}, fmt.Errorf("GeoIP database %s: %w", path, pe.Err)
		}
		// Everything else the reader refuses is the content: no metadata
		// marker (another format, or a download cut short, since the
		// metadata is at the end), metadata that does not fit the file, an
		// empty file.
		return database{}, fmt.Errorf("GeoIP database %s: %w: %w", path, ErrNotMMDB, err)
	}
	m := r.Metadata
	// The reader trusts these fields; checking them here turns a corrupt
	// header into a clear error at Open instead of every lookup failing.
	bad := ""
	switch {
	case m.BinaryFormatMajorVersion != 2:
		bad = fmt.Sprintf("binary format version %d, want 2", m.BinaryFormatMajorVersion)
	case m.IPVersion != 4 && m.IPVersion != 6:
		bad = fmt.Sprintf("ip_version %d, want 4 or 6", m.IPVersion)
	case m.RecordSize != 24 && m.RecordSize != 28 && m.RecordSize != 32:
		bad = fmt.Sprintf("record_size %d, want 24, 28 or 32", m.RecordSize)
	case m.NodeCount == 0:
		bad = "empty search tree"
	}
	if bad != "" {
		_ = r.Close()
		return database{}, fmt.Errorf("GeoIP database %s: %w: %s", path, ErrNotMMDB, bad)
	}
	k, ok := kinds[m.DatabaseType]
	if !ok {
		_ = r.Close()
		return database{}, fmt.Errorf("GeoIP database %s: %w %q (want a City, Country, ASN or Anonymous-IP database)",
			path, ErrUnsupported, m.DatabaseType)
	}
	return database{path: path, kind: k, r: r}, nil
}

// record is the union of the fields this package reads from every layout.
// Decoding into one struct (rather than one per layout) is safe because the
// layouts do not reuse a key with another meaning, and absent keys stay
// zero. Names decode into a struct with only "en", so a lookup does not
// build a map of every language.
type record struct {
	City struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"country"`

	// ASN and ISP layouts: top level.
	ASN uint32 `maxminddb:"autonomous_system_number"`
	Org string `maxminddb:"autonomous_system_organization"`
	// Enterprise layout: the same two under traits.
	Traits struct {
		ASN uint32 `maxminddb:"autonomous_system_number"`
		Org string `maxminddb:"autonomous_system_organization"`
	} `maxminddb:"traits"`

	// Anonymous-IP and Anonymous-Plus layouts.
	IsAnonymous        bool `maxminddb:"is_anonymous"`
	IsAnonymousVPN     bool `maxminddb:"is_anonymous_vpn"`
	IsHostingProvider  bool `maxminddb:"is_hosting_provider"`
	IsTorExitNode      bool `maxminddb:"is_tor_exit_node"`
	IsPublicProxy      bool `maxminddb:"is_public_proxy"`
	IsResidentialProxy bool `maxminddb:"is_residential_proxy"`
}

// Lookup merges what every database says about a. It never fails: an
// address no database knows, an invalid address, or a record a database
// cannot decode (a corrupt file, a layout that does not match its type)
// contributes nothing, and the result is the zero Info if nobody knows
// anything.
//
// IPv4 addresses work in IPv4 and IPv6 databases alike, and an IPv4-mapped
// IPv6 address (::ffff:1.2.3.4, as dual-stack servers log IPv4 clients) is
// looked up as the IPv4 address it is. Zones are ignored.
//
// When two databases know the same thing, the specialist wins: ASN and
// organisation from an ASN database before a City (Enterprise) one; country
// and city from a City database before a Country one; among databases of the
// same kind, the one given first to Open. Country code and name, and ASN and
// organisation, are each taken as a pair from one database so they never
// disagree. Anonymiser flags are combined: any database that flags the
// address flags it.
func (d *DB) Lookup(a netip.Addr) Info {
	var info Info
	if d == nil || !a.IsValid() {
		return info
	}
	a = a.Unmap().WithZone("")
	for _, db := range d.byPrecedence {
		res := db.r.Lookup(a)
		// An error here is an IPv6 address in an IPv4-only database or a
		// corrupt tree: either way this database does not know a.
		if res.Err() != nil || !res.Found() {
			continue
		}
		var rec record
		if err := res.Decode(&rec); err != nil {
			continue // partly decoded is not trusted: drop the whole record
		}
		merge(&info, &rec)
	}
	return info
}

// merge adds what rec knows to info, keeping what info already has (it came
// from a database of higher precedence).
func merge(info *Info, rec *record) {
	if info.Country == "" && info.CountryName == "" {
		info.Country, info.CountryName = rec.Country.ISOCode, rec.Country.Names.EN
	}
	if info.City == "" {
		info.City = rec.City.Names.EN
	}
	if info.ASN == 0 && info.Org == "" {
		info.ASN, info.Org = rec.ASN, rec.Org
		if info.ASN == 0 && info.Org == "" {
			info.ASN, info.Org = rec.Traits.ASN, rec.Traits.Org
		}
	}
	info.VPN = info.VPN || rec.IsAnonymousVPN
	info.Hosting = info.Hosting || rec.IsHostingProvider
	info.Tor = info.Tor || rec.IsTorExitNode
	info.PublicProxy = info.PublicProxy || rec.IsPublicProxy
	info.ResidentialProxy = info.ResidentialProxy || rec.IsResidentialProxy
	info.Anonymous = info.Anonymous || rec.IsAnonymous ||
		info.VPN || info.Hosting || info.Tor || info.PublicProxy || info.ResidentialProxy
}

// Describe returns one line per database, in the order given to Open, for
// the report header: the database_type, the build date (UTC) and the number
// of nodes in its search tree, then the file's base name, e.g.
//
//	GeoLite2-City, built 2026-02-04, 1465 nodes (GeoLite2-City-Test.mmdb)
//
// The build date tells a reader how current the answers are (a VPN range
// from last year may be a home connection today). Only the base name is
// shown so the header is the same wherever the databases are kept.
func (d *DB) Describe() []string {
	if d == nil {
		return nil
	}
	lines := make([]string, 0, len(d.dbs))
	for _, db := range d.dbs {
		m := db.r.Metadata
		built := "unknown date"
		if m.BuildEpoch != 0 {
			built = m.BuildTime().UTC().Format("2006-01-02")
		}
		lines = append(lines, fmt.Sprintf("%s, built %s, %d nodes (%s)",
			m.DatabaseType, built, m.NodeCount, filepath.Base(db.path)))
	}
	return lines
}

// Close releases every database. It must not run concurrently with Lookup;
// after it, the DB knows nothing (Lookup returns the zero Info, Describe
// nil). Closing twice is harmless.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	var errs []error
	for _, db := range d.dbs {
		if err := db.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("GeoIP database %s: %w", db.path, err))
		}
	}
	d.dbs, d.byPrecedence = nil, nil
	return errors.Join(errs...)
}
