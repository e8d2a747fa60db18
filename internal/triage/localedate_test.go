package triage

import (
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestLocaleDatesNotGuessed: an Entra sign-in download ("Timestamps in the
// downloaded files are based on UTC", ISO 8601: How to download logs in
// Microsoft Entra ID,
// https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs)
// opened and saved again by Excel in a day-first locale (en-GB) has
// "13/10/2026 09:14" and "06/10/2026 09:14". The first can only be 13
// October and is read so; the second is 6 October in London and June 10
// in New York, and must not be silently read as June: it is skipped, with
// a problem that says why. The columns are the download's (the subset
// audit.SignInColumns reads).
func TestLocaleDatesNotGuessed(t *testing.T) {
	const header = "Date (UTC),Request ID,User ID,Username,User type,Cross tenant access type,Application,Application ID ,Resource tenant ID,Home tenant ID,IP address,Status,Sign-in error code\n"
	row := func(date, id string) string {
		return date + "," + id + ",2b7f1d40-8a55-4c1e-9d1a-6f0e3c2b9a71,pilar@fabrikam.example,Member,Passthrough," +
			"Office 365 SharePoint Online,00000003-0000-0ff1-ce00-000000000000,6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94," +
			"a1b2c3d4-5e6f-4a1b-8c2d-3e4f5a6b7c8d,198.18.7.1,Success,0\n"
	}
	dir := t.TempDir()
	path := testutil.WriteFile(t, dir, "signins-en-gb.csv", []byte(header+
		row("13/10/2026 09:14", "c4206c29-46c2-4a6f-a46b-735107700001")+
		row("06/10/2026 09:14", "c4206c29-46c2-4a6f-a46b-735107700002")+
		row("14.10.2026 10:00:05", "c4206c29-46c2-4a6f-a46b-735107700003")))
	r := run(t, Options{Workers: 1}, path)
	if r.Input.Records != 2 || r.Input.Skipped != 1 {
		t.Errorf("records %d, skipped %d; want 2 and 1", r.Input.Records, r.Input.Skipped)
	}
	if r.Input.From != "2026-10-13T09:14:00Z" || r.Input.To != "2026-10-14T10:00:05Z" {
		t.Errorf("from %s to %s; want 2026-10-13T09:14:00Z to 2026-10-14T10:00:05Z (nothing in June)", r.Input.From, r.Input.To)
	}
	found := false
	for _, p := range r.Problems {
		if p.Line == 3 && strings.Contains(p.Reason, `"06/10/2026 09:14" is ambiguous`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem says row 3's date is ambiguous: %+v", r.Problems)
	}
	id := find(t, r, "pilar@fabrikam.example")
	if id.Class != "passthrough" {
		t.Errorf("class %q, want passthrough", id.Class)
	}
}
