package triage

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/enrich"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestDirectoryDecidesClass: with --directory, each outside identity is in
// the directory or not, and an account the directory knows is classed by
// it: a guest whose mail is the outsider's address is a guest, not
// pass-through; a member is not reported.
func TestDirectoryDecidesClass(t *testing.T) {
	dir := t.TempDir()
	users := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[
{"id":"1","userPrincipalName":"bob_fabrikam.com#EXT#@contoso.onmicrosoft.com","mail":"bob@fabrikam.com","userType":"Guest","creationType":"Invitation","externalUserState":"Accepted"},
{"id":"2","userPrincipalName":"carol@contoso.com","mail":"carol@contoso.com","userType":"Member"},
{"id":"3","userPrincipalName":"dan@contoso.com","userType":"Member","otherMails":["dan.partner@fabrikam.com"]},
{"id":"4","userPrincipalName":"eve.x_partner.org#EXT#@contoso.onmicrosoft.com","mail":"eve@partner.org","userType":"Guest"}]}`
	dirPath := testutil.WriteFile(t, dir, "users.json", []byte(users))
	d, probs, err := directory.Load(dirPath)
	if err != nil || len(probs) > 0 {
		t.Fatalf("directory: %v %v", err, probs)
	}
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(),
		// bob signs in by pass-through (foreign tenant, Actor Unknown), but
		// the directory holds him as a guest under that mail.
		testutil.SignIn(10, "bob@fabrikam.com", fabrikam, "86.138.113.20", sharePointApp, true),
		// eve's guest account has another UPN; its mail is her address.
		testutil.SignIn(13, "eve@partner.org", fabrikam, "86.138.113.23", sharePointApp, true),
		// pilar is absent from the directory.
		testutil.SignIn(11, "pilar@fabrikam.com", fabrikam, "86.138.113.21", sharePointApp, true),
		// the directory says this foreign-looking address is a member's.
		testutil.SignIn(12, "dan.partner@fabrikam.com", fabrikam, "86.138.113.22", sharePointApp, true),
	)...)
	r := run(t, Options{Directory: d, DirectoryPath: dirPath}, p)
	bob := find(t, r, "bob@fabrikam.com")
	if bob.Class != ClassGuest || bob.InDirectory != DirectoryPresent || bob.Directory == nil || bob.Directory.MatchedBy != "guest-upn" || bob.Directory.UserType != "Guest" {
		t.Errorf("bob: class %s in_directory %v entry %+v", bob.Class, bob.InDirectory, bob.Directory)
	}
	eve := find(t, r, "eve@partner.org")
	if eve.Class != ClassGuest || eve.Directory == nil || eve.Directory.MatchedBy != "mail" {
		t.Errorf("eve: class %s entry %+v", eve.Class, eve.Directory)
	}
	pilar := find(t, r, "pilar@fabrikam.com")
	if pilar.Class != ClassPassthrough || pilar.InDirectory != DirectoryAbsent || pilar.Directory != nil {
		t.Errorf("pilar: class %s in_directory %v", pilar.Class, pilar.InDirectory)
	}
	for _, id := range r.Identities {
		if id.User == "dan.partner@fabrikam.com" {
			t.Errorf("a directory member was reported as %s", id.Class)
		}
	}
	if r.Input.Directory == nil || r.Input.Directory.Accounts != 4 {
		t.Errorf("input.directory = %+v", r.Input.Directory)
	}
	// Without the directory: unknown, and bob is pass-through by the logs.
	r = run(t, Options{}, p)
	if bob := find(t, r, "bob@fabrikam.com"); bob.Class != ClassPassthrough || bob.InDirectory != DirectoryUnknown {
		t.Errorf("without directory: bob %s %v", bob.Class, bob.InDirectory)
	}
}

// TestGeoIPEnrichment uses MaxMind's test databases: every IP in the
// report is described, and a sign-in through an anonymiser raises the
// identity's severity one step, with the reason stated.
func TestGeoIPEnrichment(t *testing.T) {
	var paths []string
	for _, n := range []string{"GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", "GeoIP2-Anonymous-IP-Test.mmdb"} {
		paths = append(paths, filepath.Join("..", "enrich", "testdata", n))
	}
	if _, err := os.Stat(paths[0]); err != nil {
		t.Fatalf("test databases: %v", err)
	}
	db, err := enrich.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(),
		// 81.2.69.160: London in the City test database; 81.2.69.0/24 is
		// flagged VPN, hosting, Tor and proxies in the Anonymous-IP one.
		testutil.SignIn(10, "tor@fabrikam.com", fabrikam, "81.2.69.160", sharePointApp, true),
		// 1.128.0.1: Telstra (AS1221) in the ASN test database; not anonymous.
		testutil.SignIn(11, "plain@fabrikam.com", fabrikam, "1.128.0.1", sharePointApp, true),
	)...)
	r := run(t, Options{GeoIP: db}, p)
	tor := find(t, r, "tor@fabrikam.com")
	if tor.Severity != SeverityLow || tor.Verdict != VerdictSigninOnly {
		t.Errorf("tor: %s/%s, want signin-only raised to low", tor.Verdict, tor.Severity)
	}
	last := tor.Reasons[len(tor.Reasons)-1]
	if !strings.Contains(last, "81.2.69.160 (VPN, hosting provider, Tor exit node") || !strings.Contains(last, "raised from info to low") {
		t.Errorf("tor reason: %q", last)
	}
	info := r.IPInfo["81.2.69.160"]
	if info.Country != "GB" || info.City != "London" || !info.Anonymous || !slices.Contains(info.Anonymizers, "Tor exit node") {
		t.Errorf("81.2.69.160: %+v", info)
	}
	if in := r.IPInfo["1.128.0.1"]; in.ASN != 1221 || in.Org != "Telstra Pty Ltd" || in.Anonymous {
		t.Errorf("1.128.0.1: %+v", in)
	}
	if plain := find(t, r, "plain@fabrikam.com"); plain.Severity != SeverityInfo {
		t.Errorf("plain: %s", plain.Severity)
	}
	// The raised identity sorts above the info one.
	if r.Identities[0].User != "tor@fabrikam.com" {
		t.Errorf("order: %s first", r.Identities[0].User)
	}
	if len(r.Input.Enrichment) != 3 {
		t.Errorf("enrichment = %v", r.Input.Enrichment)
	}
}
