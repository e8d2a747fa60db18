package triage

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// The export variants an analyst is likely to hand over, each written from
// Microsoft's documented schema (cited per test), read end to end: the
// right records counted, the pass-through sign-in recognised, times
// right, placeholders and redactions joining nothing, nothing silently
// dropped. Tenants and accounts are invented (fabrikam.example).
const (
	varOrg  = "6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94"
	varHome = "a1b2c3d4-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
	varSPO  = "00000003-0000-0ff1-ce00-000000000000"
)

// checkRead fails unless every file was read whole: records, none
// skipped, no problem.
func checkRead(t *testing.T, r *Report, records int64) {
	t.Helper()
	if r.Input.Records != records || r.Input.Skipped != 0 || r.Input.SkippedFiles != 0 || len(r.Problems) != 0 {
		t.Errorf("records %d skipped %d skipped files %d problems %v; want %d records read whole",
			r.Input.Records, r.Input.Skipped, r.Input.SkippedFiles, r.Problems, records)
	}
}

// TestVariantPurviewSearchCSV: the Purview portal's audit search export
// (Audit > Search > Export: "Export, configure, and view audit log
// records", https://learn.microsoft.com/purview/audit-log-export-records)
// with the columns the new search writes, RecordId, CreationDate,
// RecordType, Operation, UserId, AuditData, AssociatedAdminUnits,
// AssociatedAdminUnitsNames, UTF-8 with a byte order mark; AuditData is
// the record of the Management Activity API schema
// (https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-schema):
// a pass-through UserLoggedIn (Actor Unknown, foreign ActorContextId) and
// the guest's FileAccessed.
func TestVariantPurviewSearchCSV(t *testing.T) {
	signin := `{"CreationTime":"2026-10-06T09:14:03","Id":"5a0b4c3d-0000-4000-8000-000000000001","Operation":"UserLoggedIn","OrganizationId":"` + varOrg +
		`","RecordType":15,"ResultStatus":"Success","UserKey":"1003200000000001","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"198.18.7.1","UserId":"pilar@fabrikam.example",` +
		`"Actor":[{"ID":"Unknown","Type":0},{"ID":"pilar@fabrikam.example","Type":5}],"ActorContextId":"` + varHome + `","ActorIpAddress":"198.18.7.1","ApplicationId":"` + varSPO +
		`","ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"}],"ErrorNumber":"0","TargetContextId":"` + varOrg + `"}`
	access := `{"CreationTime":"2026-10-06T09:15:00","Id":"5a0b4c3d-0000-4000-8000-000000000002","Operation":"FileAccessed","OrganizationId":"` + varOrg +
		`","RecordType":6,"UserKey":"i:0h.f|membership|1003200000000001@live.com","UserType":0,"Version":1,"Workload":"SharePoint","ClientIP":"198.18.7.1","UserId":"urn:spo:guest#pilar@fabrikam.example","ObjectId":"https://contoso.sharepoint.com/sites/x/a.docx"}`
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	csv := "\ufeffRecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n" +
		"5a0b4c3d-0000-4000-8000-000000000001,2026-10-06T09:14:03.0000000Z,15,UserLoggedIn,pilar@fabrikam.example," + q(signin) + ",,\r\n" +
		"5a0b4c3d-0000-4000-8000-000000000002,2026-10-06T09:15:00.0000000Z,6,FileAccessed,urn:spo:guest#pilar@fabrikam.example," + q(access) + ",,\r\n"
	r := run(t, Options{Workers: 1}, testutil.WriteFile(t, t.TempDir(), "audit-search.csv", []byte(csv)))
	checkRead(t, r, 2)
	id := find(t, r, "pilar@fabrikam.example")
	if id.Class != "passthrough" || id.HomeTenant != varHome || id.Signins.Success != 1 || id.Signins.First != "2026-10-06T09:14:03Z" || id.Activity.ByUser != 1 {
		t.Errorf("identity %+v", id)
	}
	if r.Input.Files[0].Format != "purview-csv" {
		t.Errorf("format %q", r.Input.Files[0].Format)
	}
}

// entraSignIn is a Graph signIn object as the Entra admin center's JSON
// download writes it (Sign-in logs > Download > JSON: "How to download
// logs in Microsoft Entra ID",
// https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs;
// properties: https://learn.microsoft.com/graph/api/resources/signin).
func entraSignIn(n int, interactive bool, when, upn, ip, home, ctat string, code int) map[string]any {
	types := []string{"nonInteractiveUser"}
	if interactive {
		types = []string{"interactiveUser"}
	}
	return map[string]any{
		"id": fmt.Sprintf("66ea54eb-6301-4ee5-be62-ff5a759b%04d", n), "createdDateTime": when,
		"userDisplayName": "Pilar", "userPrincipalName": upn, "userId": "2b7f1d40-8a55-4c1e-9d1a-6f0e3c2b9a71",
		"appId": varSPO, "appDisplayName": "Office 365 SharePoint Online", "ipAddress": ip, "clientAppUsed": "Browser",
		"conditionalAccessStatus": "notApplied", "isInteractive": interactive, "signInEventTypes": types,
		"resourceTenantId": varOrg, "homeTenantId": home, "homeTenantName": "", "crossTenantAccessType": ctat,
		"userType": "member", "status": map[string]any{"errorCode": code, "failureReason": "Other.", "additionalDetails": nil},
		"location": map[string]any{"city": "Madrid", "state": "Madrid", "countryOrRegion": "ES"},
	}
}

// TestVariantEntraJSONDownloads: the interactive and the non-interactive
// downloads (JSON arrays) given together; a non-interactive sign-in with
// a redacted UPN and IP is not pilar's, names nobody and joins nobody.
func TestVariantEntraJSONDownloads(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return testutil.WriteFile(t, dir, name, b)
	}
	inter := write("InteractiveSignIns.json", []any{
		entraSignIn(1, true, "2026-10-06T09:14:03Z", "pilar@fabrikam.example", "198.18.7.1", varHome, "passthrough", 0),
		entraSignIn(2, true, "2026-10-06T09:15:03Z", "pilar@fabrikam.example", "198.18.7.1", varHome, "passthrough", 50140),
	})
	non := write("NonInteractiveSignIns.json", []any{
		entraSignIn(3, false, "2026-10-06T09:16:03.1234567Z", "pilar@fabrikam.example", "198.18.7.1", varHome, "none", 0),
		entraSignIn(4, false, "2026-10-06T09:17:03Z", "[REDACTED]", "REDACTED", "00000000-0000-0000-0000-000000000000", "none", 0),
	})
	r := run(t, Options{Workers: 1}, inter, non)
	checkRead(t, r, 4)
	id := find(t, r, "pilar@fabrikam.example")
	if id.Class != "passthrough" || id.HomeTenant != varHome || id.Signins.Success != 2 || id.Signins.Failure != 1 ||
		id.Signins.Interactive != 2 || id.Signins.NonInteractive != 1 || id.Signins.Last != "2026-10-06T09:16:03.1234567Z" {
		t.Errorf("pilar: %+v", id)
	}
	for _, x := range r.Identities {
		if x.User != id.User && (len(x.Signins.IPs) != 0 || len(x.IPAlsoUsedBy) != 0 || x.HomeTenant != "") {
			t.Errorf("the redacted sign-in gave %+v", x)
		}
	}
}

// TestVariantLogAnalyticsNonInteractiveJSON: AADNonInteractiveUserSignInLogs
// rows as `az monitor log-analytics query` returns them (every value a
// string, the dynamic columns Status, LocationDetails and DeviceDetail
// their JSON text, a TableName added; no AADTenantId column: Azure Monitor
// Logs reference, "AADNonInteractiveUserSignInLogs",
// https://learn.microsoft.com/azure/azure-monitor/reference/tables/aadnoninteractiveusersigninlogs).
// Placeholders ("", "N/A", "x.x.x.x", the nil GUID) name nobody and join
// nobody.
func TestVariantLogAnalyticsNonInteractiveJSON(t *testing.T) {
	row := func(n int, upn, ip, home, ctat, when, code string) map[string]string {
		return map[string]string{
			"TenantId": "0f0e0d0c-0b0a-4909-8807-060504030201", "SourceSystem": "Azure AD", "TimeGenerated": when,
			"OperationName": "Sign-in activity", "Category": "NonInteractiveUserSignInLogs", "ResultType": code,
			"ResultDescription": "", "CorrelationId": "16e81fcc-add3-46c2-8834-10ce330ff000", "Identity": "Pilar", "Location": "ES",
			"AppDisplayName": "Office 365 SharePoint Online", "AppId": varSPO, "ClientAppUsed": "Browser",
			"ConditionalAccessStatus": "notApplied", "CreatedDateTime": when, "CrossTenantAccessType": ctat,
			"DeviceDetail": `{"deviceId":"","operatingSystem":"Windows10"}`, "HomeTenantId": home,
			"Id": fmt.Sprintf("2a84e6ff-7340-426e-9d0d-e53092c0%04d", n), "IPAddress": ip, "IsInteractive": "False",
			"LocationDetails":  `{"city":"Madrid","state":"Madrid","countryOrRegion":"ES","geoCoordinates":{}}`,
			"ResourceTenantId": varOrg, "Status": `{"errorCode":` + code + `}`, "UserAgent": "Mozilla/5.0",
			"UserId": "2b7f1d40-8a55-4c1e-9d1a-6f0e3c2b9a71", "UserPrincipalName": upn, "UserType": "Member",
			"Type": "AADNonInteractiveUserSignInLogs", "TableName": "PrimaryResult",
		}
	}
	b, err := json.MarshalIndent([]any{
		row(1, "pilar@fabrikam.example", "198.18.7.1", varHome, "passthrough", "2026-10-06T09:14:03.123Z", "0"),
		row(2, "pilar@fabrikam.example", "198.18.7.1", varHome, "none", "2026-10-06T09:20:03Z", "50140"),
		row(3, "", "x.x.x.x", "", "none", "2026-10-06T09:21:03Z", "0"),
		row(4, "N/A", "", "00000000-0000-0000-0000-000000000000", "passthrough", "2026-10-06T09:22:03Z", "0"),
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, Options{Workers: 1}, testutil.WriteFile(t, t.TempDir(), "aadnoninteractive.json", b))
	checkRead(t, r, 4)
	if f := r.Input.Files[0].Format; f != "entra-signin-la" {
		t.Errorf("format %q", f)
	}
	id := find(t, r, "pilar@fabrikam.example")
	if id.Class != "passthrough" || id.Signins.Success != 1 || id.Signins.Failure != 1 || id.Signins.NonInteractive != 2 ||
		!slices.Equal(id.Signins.IPs, []string{"198.18.7.1"}) || len(id.Signins.Locations) != 1 {
		t.Errorf("pilar: %+v", id)
	}
	for _, x := range r.Identities {
		if x.User != id.User && (len(x.Signins.IPs) != 0 || len(x.IPAlsoUsedBy) != 0) {
			t.Errorf("a placeholder row gave %+v", x)
		}
	}
}

// TestVariantEntraCSVUTF16: the Entra admin center's CSV download (columns
// as audit.SignInColumns documents them), written again as UTF-16 LE with
// a byte order mark and CRLF (Windows PowerShell 5.1's Out-File), is read
// as the UTF-8 file is.
func TestVariantEntraCSVUTF16(t *testing.T) {
	csv := "Date (UTC),Request ID,User ID,Username,User type,Cross tenant access type,Application,Application ID ,Resource tenant ID,Home tenant ID,IP address,Location,Status,Sign-in error code\r\n" +
		"2026-10-06T09:14:03Z,c4206c29-46c2-4a6f-a46b-735107700001,2b7f1d40-8a55-4c1e-9d1a-6f0e3c2b9a71,pilàr@fabrikam.example,Member,Passthrough,Office 365 SharePoint Online," +
		varSPO + "," + varOrg + "," + varHome + ",198.18.7.1,\"Madrid, Madrid, ES\",Success,0\r\n"
	u := utf16.Encode([]rune(csv))
	b := []byte{0xff, 0xfe}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	r := run(t, Options{Workers: 1}, testutil.WriteFile(t, t.TempDir(), "signins.csv", b))
	checkRead(t, r, 1)
	id := find(t, r, "pilàr@fabrikam.example")
	if id.Class != "passthrough" || id.Signins.First != "2026-10-06T09:14:03Z" || len(id.Signins.Locations) != 1 || id.Signins.Locations[0].City != "Madrid" {
		t.Errorf("identity %+v", id)
	}
}
