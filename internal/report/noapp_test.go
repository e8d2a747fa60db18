package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/triage"
)

// TestSigninsNameNoApplication: sign-ins whose records name no application
// (Sentinel's OfficeActivity CSV) are neither first-party nor "NOT
// first-party", and an identity whose verdict rests on them is not counted
// under "No sign of one": the anomalous rule could not be checked.
func TestSigninsNameNoApplication(t *testing.T) {
	noApp := triage.App{ID: "", Name: "(not recorded)", Count: 2}
	r := &triage.Report{Schema: triage.Schema, Summary: triage.Summary{Identities: 2, ByVerdict: map[string]int{triage.VerdictSigninOnly: 2}}}
	r.Identities = []triage.Identity{
		{User: "nina@fabrikam.com", Class: triage.ClassPassthrough, Verdict: triage.VerdictSigninOnly, Severity: triage.SeverityInfo,
			Signins: triage.Signins{Success: 2, Apps: []triage.App{noApp}}, SigninsNoApp: 2, Reasons: []string{"2 sign-ins"}},
		{User: "pia@fabrikam.com", Class: triage.ClassPassthrough, Verdict: triage.VerdictSigninOnly, Severity: triage.SeverityInfo,
			Signins: triage.Signins{Success: 1, Apps: []triage.App{{ID: "00000003-0000-0ff1-ce00-000000000000", Name: "Office 365 SharePoint Online", FirstParty: true, Count: 1}}},
			Reasons: []string{"1 sign-in"}},
	}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := RenderOptions(&b, f, r, Options{Width: 100, All: true}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := b.String()
		if f == JSON {
			continue // the JSON keeps the entry as the engine made it
		}
		if strings.Contains(out, "(, ") || strings.Contains(out, "(<code></code>, ") || strings.Contains(out, "(``, ") {
			t.Errorf("%s: an application without id is shown with an empty id", f)
		}
		if !strings.Contains(out, "none recorded (2 sign-ins name no application)") {
			t.Errorf("%s: the application entry without id is not shown as none recorded", f)
		}
		if strings.Count(out, "NOT first-party") != 0 {
			t.Errorf("%s: an application nobody named is called NOT first-party", f)
		}
		if f == Text || f == Markdown || f == HTML {
			flat := strings.Join(strings.Fields(out), " ") // text wraps
			if !strings.Contains(flat, "No sign of one for 1:") || !strings.Contains(flat, "Cannot rule one out for 1:") {
				t.Errorf("%s: the breach answer counts an identity whose application is unknown as no sign of one", f)
			}
			// Each identity's own answer (HTML gives it on open cards,
			// and on folded ones whose answer is not their verdict's):
			// nina's cannot be "NO".
			if f == HTML && strings.Count(flat, "CANNOT RULE ONE OUT") != 1 {
				t.Errorf("HTML: nina's folded card does not give its own answer, so the verdict list's NO stands for it")
			}
			if f != HTML && (strings.Count(flat, "CANNOT RULE ONE OUT") != 1 || strings.Count(strings.ReplaceAll(flat, "*", ""), "NO: Entra ID only confirmed its identity") != 1) {
				t.Errorf("%s: the identities' own breach answers do not tell the unknown application from the first-party one", f)
			}
		}
	}
}
