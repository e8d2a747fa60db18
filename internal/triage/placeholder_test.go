package triage

import (
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// Sanitised and published logs carry placeholders where the values were:
// none of them is evidence (docs/rules.md "IPs", "Actor tenant",
// "Canonical user").

// TestNonIdentifyingIPsJoinNobody: an outsider and a member who share
// only an address that cannot identify a client (documentation range,
// loopback, unspecified, link-local, multicast, broadcast) or a redaction
// marker are not linked: no P, no ip_also_used_by, no "member account"
// raise. The address is still listed among the outsider's sign-in IPs.
func TestNonIdentifyingIPsJoinNobody(t *testing.T) {
	cases := []struct{ ip, kind string }{
		{"203.0.113.5", "documentation range"},
		{"198.51.100.5", "documentation range"},
		{"192.0.2.5", "documentation range"},
		{"2001:db8::5", "documentation range"},
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"169.254.10.1", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.251", "multicast"},
		{"255.255.255.255", "reserved or broadcast"},
		{"10.x.x.x", ""},
		{"1.2.3.xxx", ""},
		{"REDACTED", ""},
	}
	for _, c := range cases {
		t.Run(c.ip, func(t *testing.T) {
			dir := t.TempDir()
			p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(),
				testutil.SignIn(10, "pilar@fabrikam.com", fabrikam, c.ip, sharePointApp, true),
				testutil.SignIn(11, "bob@contoso.com", ourTenant, c.ip, sharePointApp, true),
				testutil.SPO(12, "FileModified", "bob@contoso.com", c.ip, "https://contoso.sharepoint.com/a.docx"),
				testutil.Mail(13, "carol@contoso.com", c.ip),
				testutil.SignIn(14, "judy@fabrikam.com", fabrikam, c.ip, sharePointApp, true),
			)...)
			r := run(t, Options{}, p)
			for _, user := range []string{"pilar@fabrikam.com", "judy@fabrikam.com"} {
				id := find(t, r, user)
				if id.Verdict != VerdictSigninOnly || id.Severity != SeverityInfo || id.Activity.ByIP != 0 || len(id.IPAlsoUsedBy) != 0 {
					t.Errorf("%s: %s/%s by_ip %d also %v; want signin-only/info, nobody linked\nreasons: %q",
						user, id.Verdict, id.Severity, id.Activity.ByIP, id.IPAlsoUsedBy, id.Reasons)
				}
				for _, why := range id.Reasons {
					if strings.Contains(why, "member account") || strings.Contains(why, "by others") {
						t.Errorf("%s: a reason links it: %q", user, why)
					}
				}
				if c.kind == "" {
					if len(id.Signins.IPs) != 0 {
						t.Errorf("%s: redaction marker %q read as an address: %v", user, c.ip, id.Signins.IPs)
					}
					continue
				}
				if len(id.Signins.IPs) != 1 {
					t.Fatalf("%s: sign-in IPs %v, want the address listed", user, id.Signins.IPs)
				}
				last := id.Reasons[len(id.Reasons)-1]
				if !strings.Contains(last, "cannot identify a client") || !strings.Contains(last, id.Signins.IPs[0]+" ("+c.kind+")") {
					t.Errorf("%s: last reason %q does not mark %s as %s", user, last, id.Signins.IPs[0], c.kind)
				}
			}
		})
	}
}

// TestPrivateIPWeakLink: a private or CGNAT address still links, but every
// reason that cites the link says it is weak.
func TestPrivateIPWeakLink(t *testing.T) {
	for _, ip := range []string{"10.1.2.3", "172.16.0.9", "192.168.1.20", "100.64.7.7", "fd00::7"} {
		t.Run(ip, func(t *testing.T) {
			dir := t.TempDir()
			p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(),
				testutil.SignIn(10, "pilar@fabrikam.com", fabrikam, ip, sharePointApp, true),
				testutil.SPO(12, "FileModified", "bob@contoso.com", ip, "https://contoso.sharepoint.com/a.docx"),
			)...)
			r := run(t, Options{}, p)
			id := find(t, r, "pilar@fabrikam.com")
			if id.Verdict != VerdictActivity || id.Severity != SeverityHigh || id.Activity.ByIP != 1 ||
				!slices.Equal(id.IPAlsoUsedBy, []string{"bob@contoso.com"}) {
				t.Fatalf("%s/%s by_ip %d also %v; want activity/high through the shared address\nreasons: %q",
					id.Verdict, id.Severity, id.Activity.ByIP, id.IPAlsoUsedBy, id.Reasons)
			}
			var byOthers, member string
			for _, why := range id.Reasons {
				switch {
				case strings.Contains(why, "by others from its IPs"):
					byOthers = why
				case strings.Contains(why, "member account bob@contoso.com"):
					member = why
				}
			}
			for _, why := range []string{byOthers, member} {
				if !strings.Contains(why, "weak link") || !strings.Contains(why, ip) {
					t.Errorf("reason %q does not say the link through %s is weak", why, ip)
				}
			}
		})
	}
}

// TestWeakAndStrongLinks: a record met through a public address is a
// strong link even when a private one is shared too; only the records tied
// through private addresses alone are called weak.
func TestWeakAndStrongLinks(t *testing.T) {
	dir := t.TempDir()
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(),
		testutil.SignIn(10, "pilar@fabrikam.com", fabrikam, "10.9.9.9", sharePointApp, true),
		testutil.SignIn(11, "pilar@fabrikam.com", fabrikam, "86.138.113.40", sharePointApp, true),
		testutil.SPO(12, "FileModified", "bob@contoso.com", "10.9.9.9", "https://contoso.sharepoint.com/a.docx"),
		testutil.SPO(13, "FileModified", "carol@contoso.com", "86.138.113.40", "https://contoso.sharepoint.com/b.docx"),
	)...)
	r := run(t, Options{}, p)
	id := find(t, r, "pilar@fabrikam.com")
	found := false
	for _, why := range id.Reasons {
		if strings.HasPrefix(why, "2 records by others from its IPs") {
			found = true
			if !strings.Contains(why, "1 of them share only private or carrier-grade NAT addresses (10.9.9.9)") {
				t.Errorf("P reason %q does not single out the weak link", why)
			}
		}
		if strings.Contains(why, "member account") && strings.Contains(why, "weak link") {
			// The earliest member record (bob's, through 10.9.9.9) is cited:
			// that one is weak; carol's is not.
			if !strings.Contains(why, "bob@contoso.com") {
				t.Errorf("member reason %q calls a strong link weak", why)
			}
		}
	}
	if !found {
		t.Errorf("no P reason: %q", id.Reasons)
	}
}

// TestPlaceholderTenants: an actor tenant or OrganizationId that is not a
// tenant id never makes an account an outsider nor a tenant ours; the
// home tenant is unknown, and the reason quotes the value.
func TestPlaceholderTenants(t *testing.T) {
	dir := t.TempDir()
	// A member whose ActorContextId was replaced: not an outsider.
	m := testutil.SignIn(10, "dora@contoso.com", "<USER HOME TENANT ID>", "86.138.113.70", sharePointApp, true)
	m["Actor"] = []rec{{"ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3309", "Type": 0}}
	// An outsider (Actor Unknown) whose ActorContextId is the nil GUID:
	// still an outsider, home tenant unknown.
	x := testutil.SignIn(11, "pilar@fabrikam.com", "00000000-0000-0000-0000-000000000000", "86.138.113.71", sharePointApp, true)
	// A placeholder next to a real foreign tenant: the real one is home.
	y1 := testutil.SignIn(12, "ivan@fabrikam.com", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "86.138.113.72", sharePointApp, true)
	y2 := testutil.SignIn(13, "ivan@fabrikam.com", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "86.138.113.72", sharePointApp, true)
	y3 := testutil.SignIn(14, "ivan@fabrikam.com", fabrikam, "86.138.113.72", sharePointApp, true)
	// A record whose OrganizationId is a placeholder: it makes no tenant
	// ours, so the real tenant stays the only one.
	z := testutil.SPO(15, "FileAccessed", "bob@contoso.com", "95.91.100.20", "https://contoso.sharepoint.com/a.docx")
	z["OrganizationId"] = "<TENANT ID>"
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(), m, x, y1, y2, y3, z)...)

	for _, opts := range []Options{{}, {Tenants: []string{ourTenant}}} {
		r := run(t, opts, p)
		if !slices.Equal(r.Tenant.IDs, []string{ourTenant}) {
			t.Errorf("tenant ids %v, want only %s", r.Tenant.IDs, ourTenant)
		}
		for _, id := range r.Identities {
			if id.User == "dora@contoso.com" {
				t.Errorf("a placeholder ActorContextId made dora an outsider: %q", id.Reasons)
			}
		}
		px := find(t, r, "pilar@fabrikam.com")
		if px.Class != ClassPassthrough || px.HomeTenant != "" {
			t.Errorf("pilar: class %s home %q; want passthrough (Actor Unknown) with no home tenant", px.Class, px.HomeTenant)
		}
		if last := px.Reasons[len(px.Reasons)-1]; !strings.Contains(last, `"00000000-0000-0000-0000-000000000000", which is not a tenant id`) ||
			!strings.Contains(last, "home tenant is unknown") {
			t.Errorf("pilar: last reason %q", last)
		}
		iv := find(t, r, "ivan@fabrikam.com")
		if iv.HomeTenant != fabrikam {
			t.Errorf("ivan: home %q, want %s (the placeholder is more frequent but no tenant)", iv.HomeTenant, fabrikam)
		}
		if last := iv.Reasons[len(iv.Reasons)-1]; !strings.Contains(last, `2 sign-ins give its home tenant as "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`) ||
			strings.Contains(last, "unknown") {
			t.Errorf("ivan: last reason %q", last)
		}
		// The record with a placeholder OrganizationId is kept under
		// --tenant (it names no tenant) and counts as bob's activity.
		if r.Input.Records != int64(len(members())+6) {
			t.Errorf("records kept %d, want %d", r.Input.Records, len(members())+6)
		}
	}
}

// TestPlaceholderUsers: a placeholder or redaction marker in UserId names
// nobody: its sign-ins are external-unknown, grouped by UserKey, and it
// never becomes a member or a guest by name.
func TestPlaceholderUsers(t *testing.T) {
	dir := t.TempDir()
	var recs []rec
	for i, name := range []string{"<user principal name>", "[REDACTED]", "REDACTED", "***", "xxxxxxxx@fabrikam.com"} {
		s := testutil.SignIn(10+i, name, fabrikam, "86.138.113.80", sharePointApp, true)
		s["UserKey"] = "10032000AAAA0001"
		recs = append(recs, s)
	}
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(), recs...)...)
	r := run(t, Options{}, p)
	id := find(t, r, "unknown:10032000AAAA0001")
	if id.Class != ClassExternalUnknown || id.Signins.Success != 5 || id.HomeTenant != fabrikam {
		t.Errorf("class %s, %d sign-ins, home %q; want external-unknown with all 5, home %s", id.Class, id.Signins.Success, id.HomeTenant, fabrikam)
	}
	if len(r.Identities) != 1 {
		t.Errorf("identities %d, want 1", len(r.Identities))
	}
}

// TestPlaceholderKeys: an external-unknown sign-in whose UserKey and actor
// tenant are placeholders is keyed by neither.
func TestPlaceholderKeys(t *testing.T) {
	dir := t.TempDir()
	s := testutil.SignIn(10, "Not Available", "<USER HOME TENANT ID>", "86.138.113.81", sharePointApp, true)
	s["UserKey"] = "[REDACTED]"
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(), s)...)
	r := run(t, Options{}, p)
	id := find(t, r, "unknown:")
	if id.HomeTenant != "" || !strings.Contains(id.Reasons[len(id.Reasons)-1], `"<user home tenant id>"`) {
		t.Errorf("home %q, reasons %q", id.HomeTenant, id.Reasons)
	}
}
