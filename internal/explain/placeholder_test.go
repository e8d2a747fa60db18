package explain

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestPlaceholdersAgreeWithTriage: explain and triage read a sanitised
// record alike. A placeholder tenant id is no tenant (the member stays a
// member, the outsider's home tenant is unknown), a placeholder UserId and
// UserKey name nobody, a loopback or documentation address links nobody,
// a CGNAT address links weakly, a masked address is no address.
func TestPlaceholdersAgreeWithTriage(t *testing.T) {
	dir := t.TempDir()
	compact := func(file string) []byte {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, data); err != nil {
			t.Fatal(err)
		}
		return append(b.Bytes(), '\n')
	}
	ual := append(compact("testdata/sanitised-passthrough.json"), compact("testdata/sanitised-member.json")...)
	// Carol is seen at the loopback address the outsider's record gives;
	// eve, from outside, at dora's carrier-grade NAT address.
	ual = append(ual, `{"CreationTime":"2026-10-09T11:20:00","Id":"0a1b2c3d-0000-4000-8000-000000000001","Operation":"FileModified","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e","RecordType":6,"Workload":"SharePoint","UserId":"carol@contoso.com","ClientIP":"127.0.0.1","ObjectId":"https://contoso.sharepoint.com/a.docx"}
{"CreationTime":"2026-10-09T11:30:00","Id":"0a1b2c3d-0000-4000-8000-000000000002","Operation":"UserLoggedIn","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e","RecordType":15,"Workload":"AzureActiveDirectory","UserId":"eve@fabrikam.example","ClientIP":"100.64.12.7","ActorContextId":"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6","Actor":[{"ID":"Unknown","Type":0}],"ApplicationId":"00000003-0000-0ff1-ce00-000000000000","ResultStatus":"Success","ErrorNumber":"0"}
`...)
	path := testutil.WriteFile(t, dir, "ual.jsonl", ual)
	r, err := triage.Run(context.Background(), []string{path}, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]triage.Identity{}
	for _, id := range r.Identities {
		ids[id.User] = id
	}

	// The member with a placeholder ActorContextId.
	if _, reported := ids["dora@contoso.com"]; reported {
		t.Error("triage reports dora@contoso.com")
	}
	member := explainFile(t, "testdata/sanitised-member.json", Options{})
	for _, w := range []string{"Class: member, by this record alone", `"aaaabbbb-0000-cccc-1111-dddd2222eeee" is not one`,
		"100.64.12.7 The address Entra saw the account at. A private or carrier-grade NAT address", "a weak link"} {
		if !strings.Contains(member, w) {
			t.Errorf("explain of the member lacks %q:\n%s", w, member)
		}
	}
	if eve := ids["eve@fabrikam.example"]; !strings.Contains(strings.Join(eve.Reasons, "\n"), "member account dora@contoso.com") ||
		!strings.Contains(strings.Join(eve.Reasons, "\n"), "weak link") {
		t.Errorf("triage does not call eve's link to dora weak: %q", eve.Reasons)
	}

	// The outsider with placeholders everywhere.
	x, ok := ids["unknown:"]
	if !ok {
		t.Fatalf("triage reports %v, want unknown:", r.Identities)
	}
	reasons := strings.Join(x.Reasons, "\n")
	if x.Class != triage.ClassExternalUnknown || x.HomeTenant != "" || len(x.IPAlsoUsedBy) != 0 || x.Activity.ByIP != 0 ||
		!strings.Contains(reasons, `"<user home tenant id>", which is not a tenant id`) || !strings.Contains(reasons, "127.0.0.1 (loopback)") {
		t.Errorf("triage: %s home %q also %v by_ip %d reasons %q", x.Class, x.HomeTenant, x.IPAlsoUsedBy, x.Activity.ByIP, x.Reasons)
	}
	if strings.Join(x.Signins.IPs, " ") != "127.0.0.1" {
		t.Errorf("triage sign-in IPs %v, want the loopback only (10.x.x.x is no address)", x.Signins.IPs)
	}
	out := explainFile(t, "testdata/sanitised-passthrough.json", Options{})
	for _, w := range []string{"Class: external-unknown", "unknown: (the record gives no usable key",
		`Its home tenant is unknown: ActorContextId "<user home tenant id>" is not a tenant id`,
		"UserId: <user principal name> A placeholder or redaction marker",
		"UserKey: [REDACTED] A placeholder or redaction marker, not an id",
		"A masked or redacted address", "A loopback address", "It cannot identify a client, so outsider links no other record to it",
		"outsider takes the record as having no tenant"} {
		if !strings.Contains(out, w) {
			t.Errorf("explain of the outsider lacks %q:\n%s", w, out)
		}
	}
	// With --tenant, triage keeps the record whose OrganizationId is a
	// placeholder, and explain does not say it is left out.
	r2, err := triage.Run(context.Background(), []string{path}, triage.Options{Tenants: []string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"}})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Input.Records != r.Input.Records {
		t.Errorf("--tenant left out %d records", r.Input.Records-r2.Input.Records)
	}
	if s := explainFile(t, "testdata/sanitised-passthrough.json", Options{OurTenants: []string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"}}); strings.Contains(s, "leaves it out") {
		t.Errorf("explain says --tenant leaves the record out:\n%s", s)
	}

	// The sign-in log's sanitised record.
	rs, err := triage.Run(context.Background(), []string{"testdata/signin-sanitised.json"}, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Identities) != 1 || rs.Identities[0].User != "unknown:" || rs.Identities[0].HomeTenant != "" ||
		!strings.Contains(strings.Join(rs.Identities[0].Reasons, "\n"), "203.0.113.45 (documentation range)") {
		t.Errorf("triage of the sanitised sign-in: %+v", rs.Identities)
	}
	si := explainFile(t, "testdata/signin-sanitised.json", Options{})
	for _, w := range []string{"Class: external-unknown", "unknown: (the record gives no usable key",
		`homeTenantId "<user home tenant id>" is not a tenant id`, "A documentation address",
		"It cannot identify a client", "a placeholder GUID (the nil GUID"} {
		if !strings.Contains(si, w) {
			t.Errorf("explain of the sanitised sign-in lacks %q:\n%s", w, si)
		}
	}
}
