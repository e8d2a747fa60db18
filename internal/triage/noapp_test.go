package triage

import (
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestSigninWithoutApplication: a successful sign-in whose record names no
// application (Sentinel's OfficeActivity CSV has no ApplicationId column)
// cannot be checked against the anomalous rule, so the identity's reasons
// must say so rather than read as Microsoft's harmless case alone.
func TestSigninWithoutApplication(t *testing.T) {
	noApp := func(minute int, user, ip string, ok bool) rec {
		r := testutil.SignIn(minute, user, fabrikam, ip, "", ok)
		delete(r, "ApplicationId")
		delete(r, "ObjectId")
		return r
	}
	recs := append(members(),
		noApp(10, "nina@fabrikam.com", "86.138.113.7", true),
		noApp(11, "nina@fabrikam.com", "86.138.113.7", true),
		noApp(12, "otto@fabrikam.com", "86.138.113.8", false),
		testutil.SignIn(13, "pia@fabrikam.com", fabrikam, "86.138.113.9", sharePointApp, true),
		// activity: the caveat holds for any verdict but anomalous.
		noApp(14, "rita@fabrikam.com", "86.138.113.10", true),
		testutil.SPO(15, "FileModified", "rita@fabrikam.com", "86.138.113.10", "https://contoso.sharepoint.com/b.docx"),
		// anomalous already: the caveat would add nothing.
		noApp(16, "sam@fabrikam.com", "86.138.113.11", true),
		testutil.SignIn(17, "sam@fabrikam.com", fabrikam, "86.138.113.11", thirdPartyApp, true),
	)
	p := testutil.WriteJSONL(t, t.TempDir(), "ual.jsonl", recs...)
	r := run(t, Options{Workers: 1}, p)

	const caveat = "not name the application signed in to (no ApplicationId in the input), so a sign-in to an application that is not Microsoft first-party, which would make it anomalous, is not ruled out"
	for _, c := range []struct {
		user, verdict string
		noApp         int64
		lead          string
	}{
		{"nina@fabrikam.com", VerdictSigninOnly, 2, "2 successful sign-ins do "},
		{"rita@fabrikam.com", VerdictActivity, 1, "1 successful sign-in does "},
		{"otto@fabrikam.com", VerdictSigninOnly, 0, ""},
		{"pia@fabrikam.com", VerdictSigninOnly, 0, ""},
		{"sam@fabrikam.com", VerdictAnomalous, 0, ""},
	} {
		id := find(t, r, c.user)
		if id.Verdict != c.verdict {
			t.Errorf("%s: verdict %s, want %s (the caveat must not change the rule)", c.user, id.Verdict, c.verdict)
		}
		if id.SigninsNoApp != c.noApp {
			t.Errorf("%s: SigninsNoApp %d, want %d", c.user, id.SigninsNoApp, c.noApp)
		}
		has := false
		for i, reason := range id.Reasons {
			if strings.Contains(reason, caveat) {
				has = true
				if i != 1 || !strings.HasPrefix(reason, c.lead) {
					t.Errorf("%s: caveat at reason %d, want 1, starting %q: %q", c.user, i, c.lead, reason)
				}
			}
		}
		if has != (c.noApp > 0) {
			t.Errorf("%s: caveat present %v, want %v; reasons %q", c.user, has, c.noApp > 0, id.Reasons)
		}
	}
}
