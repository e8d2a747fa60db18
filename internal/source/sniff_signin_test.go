package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

const (
	graphSignIn1 = `{"id":"1","createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"a@b.c","appId":"x","ipAddress":"1.2.3.4","status":{"errorCode":0},"crossTenantAccessType":"passthrough"}`
	graphSignIn2 = `{"id":"2","createdDateTime":"2026-10-06T09:15:03Z","userPrincipalName":"d@e.f","appId":"y","ipAddress":"1.2.3.5","status":{"errorCode":50126}}`
	ehRecord1    = `{"time":"2026-10-06T09:14:03Z","category":"SignInLogs","tenantId":"t","resultType":"0","callerIpAddress":"1.2.3.4","properties":{"id":"1","userPrincipalName":"a@b.c","status":{"errorCode":0}}}`
	ehRecord2    = `{"time":"2026-10-06T09:15:03Z","category":"NonInteractiveUserSignInLogs","properties":{"id":"2","userPrincipalName":"d@e.f"}}`
	laRow1       = `{"TenantId":"w","TimeGenerated":"2026-10-06T09:14:05Z","Category":"SignInLogs","ResultType":"0","UserPrincipalName":"a@b.c","AppId":"x","IPAddress":"1.2.3.4","Status":"{\"errorCode\":0}","LocationDetails":"{\"city\":\"X\"}"}`
	laRow2       = `{"TenantId":"w","TimeGenerated":"2026-10-06T09:15:05Z","ResultType":"50126","UserPrincipalName":"d@e.f","HomeTenantId":"h","IPAddress":"1.2.3.5"}`
	portalHeader = `Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,Application,Application ID ,Resource tenant ID,Home tenant ID,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Conditional Access`
	portalRow1   = `2026-10-06T09:14:03Z,1,"Mozilla/5.0 (Windows NT 10.0; Win64; x64)",c1,u1,Pilar,pilar@fabrikam.com,Member,Passthrough,Microsoft App Access Panel,0000000c-0000-0000-c000-000000000000,r,h,203.0.113.45,"Madrid, Madrid, ES",Success,0,Other.,Browser,Not Applied`
	portalRow2   = `2026-10-06T09:15:03Z,2,"Say ""hi""",c2,u2,Ivan,ivan@adatum.com,Member,Passthrough,Office 365 Exchange Online,00000002-0000-0ff1-ce00-000000000000,r,h,203.0.113.99,"Sofia, Sofia-Grad, BG",Failure,50126,"Error validating credentials
due to invalid username or password.",Browser,Not Applied`
	laCSVHeader = `TenantId,SourceSystem,"TimeGenerated [UTC]",Category,ResultType,UserPrincipalName,AppId,IPAddress,HomeTenantId,Status,LocationDetails`
	laCSVRow1   = `w,Azure AD,"10/6/2026, 9:14:05.000 AM",SignInLogs,0,a@b.c,x,1.2.3.4,h,"{""errorCode"":0}","{""city"":""X""}"`
)

var signInSniffCases = []struct {
	name   string
	in     string
	format Format
	header string
	recs   []wantRec
}{
	{
		name:   "graph-page",
		in:     `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=x","value":[` + graphSignIn1 + `,` + graphSignIn2 + `]}`,
		format: EntraSignIn,
		recs:   []wantRec{{line: 1, data: graphSignIn1}, {line: 1, data: graphSignIn2}},
	},
	{
		name: "graph-pages-concatenated-pretty",
		in: "{\n  \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns\",\n  \"value\": [\n    " + graphSignIn1 + "\n  ]\n}\n" +
			"{\n  \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns\",\n  \"value\": [\n    " + graphSignIn2 + "\n  ]\n}\n",
		format: EntraSignIn,
		recs:   []wantRec{{line: 4, data: graphSignIn1}, {line: 10, data: graphSignIn2}},
	},
	{
		name:   "graph-pages-lines",
		in:     `{"@odata.context":"x#auditLogs/signIns","value":[` + graphSignIn1 + `]}` + "\n" + `{"value":[` + graphSignIn2 + `]}` + "\n",
		format: EntraSignIn,
		recs:   []wantRec{{line: 1, data: graphSignIn1}, {line: 2, data: graphSignIn2}},
	},
	{
		name:   "graph-array",
		in:     "[" + graphSignIn1 + ",\n" + graphSignIn2 + "]",
		format: EntraSignIn,
		recs:   []wantRec{{line: 1, data: graphSignIn1}, {line: 2, data: graphSignIn2}},
	},
	{
		name:   "graph-jsonl",
		in:     graphSignIn1 + "\n" + graphSignIn2 + "\n",
		format: EntraSignIn,
		recs:   []wantRec{{line: 1, data: graphSignIn1}, {line: 2, data: graphSignIn2}},
	},
	{
		// The Entra admin center's JSON download: an indented array.
		name:   "portal-json",
		in:     "[\n  {\n    \"id\": \"1\",\n    \"createdDateTime\": \"2026-10-06T09:14:03Z\",\n    \"userPrincipalName\": \"a@b.c\",\n    \"appId\": \"x\",\n    \"ipAddress\": \"1.2.3.4\",\n    \"status\": {\n      \"errorCode\": 0\n    }\n  }\n]\n",
		format: EntraSignIn,
		recs:   []wantRec{{line: 2, data: "{\n    \"id\": \"1\",\n    \"createdDateTime\": \"2026-10-06T09:14:03Z\",\n    \"userPrincipalName\": \"a@b.c\",\n    \"appId\": \"x\",\n    \"ipAddress\": \"1.2.3.4\",\n    \"status\": {\n      \"errorCode\": 0\n    }\n  }"}},
	},
	{
		name:   "eventhub-records",
		in:     `{"records":[` + ehRecord1 + `,` + ehRecord2 + `]}`,
		format: EntraSignInEventHub,
		recs:   []wantRec{{line: 1, data: ehRecord1}, {line: 1, data: ehRecord2}},
	},
	{
		name:   "eventhub-records-lines",
		in:     `{"records":[` + ehRecord1 + `]}` + "\n" + `{"records":[` + ehRecord2 + `]}` + "\n",
		format: EntraSignInEventHub,
		recs:   []wantRec{{line: 1, data: ehRecord1}, {line: 2, data: ehRecord2}},
	},
	{
		name:   "eventhub-jsonl",
		in:     ehRecord1 + "\n" + ehRecord2 + "\n",
		format: EntraSignInEventHub,
		recs:   []wantRec{{line: 1, data: ehRecord1}, {line: 2, data: ehRecord2}},
	},
	{
		name:   "la-array",
		in:     "[" + laRow1 + ",\n" + laRow2 + "]\n",
		format: EntraSignInLA,
		recs:   []wantRec{{line: 1, data: laRow1}, {line: 2, data: laRow2}},
	},
	{
		name:   "la-jsonl",
		in:     laRow1 + "\n" + laRow2 + "\n",
		format: EntraSignInLA,
		recs:   []wantRec{{line: 1, data: laRow1}, {line: 2, data: laRow2}},
	},
	{
		name:   "la-csv",
		in:     laCSVHeader + "\n" + laCSVRow1 + "\n",
		format: EntraSignInLA,
		header: `TenantId|SourceSystem|TimeGenerated [UTC]|Category|ResultType|UserPrincipalName|AppId|IPAddress|HomeTenantId|Status|LocationDetails`,
		recs:   []wantRec{{line: 2, data: laCSVRow1}},
	},
	{
		name:   "portal-csv",
		in:     portalHeader + "\n" + portalRow1 + "\n" + portalRow2 + "\n",
		format: EntraSignInCSV,
		header: strings.ReplaceAll(portalHeader, ",", "|"),
		recs:   []wantRec{{line: 2, data: portalRow1}, {line: 3, data: portalRow2}},
	},
}

// TestSniffSignIn: every sign-in log shape is recognised from its content
// (plain, gzip, zip, UTF-16, BOM, CRLF), and framed into records; CSV
// batches carry the header and no AuditData column.
func TestSniffSignIn(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range signInSniffCases {
		eachVariant(t, dir, tc.name, tc.in, func(t *testing.T, path string, crlf bool, opts Options) {
			res := readClean(t, path, opts)
			if !tc.format.IsSignIn() {
				t.Fatalf("%s is not a sign-in format", tc.format)
			}
			checkFramed(t, res, crlf, tc.format, tc.recs, func(int) (string, Format) { return tc.header, Auto })
		})
	}
}

// TestSniffSignInNotUAL: UAL shapes that share a key or two with the
// sign-in logs keep their formats.
func TestSniffSignInNotUAL(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Format
	}{
		{"graph-audit-record", `{"id":"1","createdDateTime":"2026","userPrincipalName":"a","clientIp":"1.2.3.4","auditData":{}}` + "\n", GraphAudit},
		{"graph-audit-page", `{"value":[{"id":"1","createdDateTime":"2026","auditLogRecordType":"x","operation":"y"}]}`, GraphAudit},
		{"ual-record", `{"CreationTime":"2026-10-01T00:00:00","Operation":"UserLoggedIn","AppId":"x","ClientIP":"1.2.3.4"}` + "\n", UALJSONL},
		{"sentinel-officeactivity", `{"TimeGenerated":"2026-10-01T00:00:00Z","Operation":"FileAccessed","UserId":"a","ClientIP":"1.2.3.4","AppId":"x","IPAddress":"1.2.3.4"}` + "\n", UALJSONL},
		{"one-graph-key", `{"createdDateTime":"2026","appId":"x"}` + "\n", UALJSONL},
		// A page whose first item is nothing known stays a Graph page.
		{"diagnostic-without-time", `{"records":[{"category":"SignInLogs","properties":{}}]}`, GraphAudit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readBytes(t, []byte(tc.in), Options{})
			if len(res.inputs) != 1 || res.inputs[0].Format != tc.want {
				t.Errorf("format %+v, want %s", res.inputs, tc.want)
			}
		})
	}
}

func TestSniffSignInCSVProblems(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		forced   Format
		problem  string
	}{
		{"service-principal-download", "Date (UTC),Request ID,Correlation ID,Service principal ID,Service principal name,Status\n2026-10-06T09:14:03Z,1,c,s,n,Success\n", Auto,
			"unknown format: csv header is an Entra service principal sign-in download"},
		{"forced-without-columns", "a,b,c\n1,2,3\n", EntraSignInCSV, "csv header has no sign-in log columns"},
		{"forced-la-without-columns", "a,b,c\n1,2,3\n", EntraSignInLA, "csv header has no sign-in log columns"},
		{"unknown-header", "a,b,c\n1,2,3\n", Auto, "unknown format: csv header has no AuditData column"},
		{"download-without-user", "Date (UTC),Request ID,Status\n2026-10-06T09:14:03Z,1,Success\n", Auto,
			"unknown format: csv header looks like an Entra sign-in download but has no username column"},
		{"download-without-result", "Date (UTC),Request ID,Username\n2026-10-06T09:14:03Z,1,a\n", Auto,
			"unknown format: csv header looks like an Entra sign-in download but has no sign-in error code column"},
		{"la-without-time", "UserPrincipalName,ResultType\na,0\n", Auto,
			"unknown format: csv header looks like a Log Analytics sign-in export but has no timegenerated column"},
		{"unbalanced-header", "\"Date (UTC),Username\n", EntraSignInCSV, "csv header has no sign-in log columns"},
		// Exports separated by ';' or tabs are read (csv_sep_test.go);
		// a header of no known column name stays unknown, whatever
		// separates it.
		{"one-column-with-semicolons", "a;b;c\n1;2;3\n", Auto, "unknown format: first bytes are not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readBytes(t, []byte(tc.in), Options{Format: tc.forced})
			if len(res.recs) != 0 || len(res.probs) != 1 || !strings.Contains(res.probs[0].Reason, tc.problem) {
				t.Errorf("records %v problems %v, want the problem %q", res.recs, res.probs, tc.problem)
			}
		})
	}
}

// TestSniffSignInBadRows: a broken row in a sign-in CSV is reported by
// row, and the rows around it are read.
func TestSniffSignInBadRows(t *testing.T) {
	in := portalHeader + "\n" + portalRow1 + "\n" + `2026-10-06T09:16:03Z,3,"unclosed,x` + "\n"
	res := readOK(t, []string{testutil.WriteFile(t, t.TempDir(), "s.csv", []byte(in))}, Options{})
	recs, probs := res.recs, res.probs
	if len(recs) != 1 || recs[0].Line != 2 {
		t.Errorf("records %+v, want row 2 only", recs)
	}
	if len(probs) != 1 || probs[0].Unit != "row" || probs[0].Line != 3 || !strings.Contains(probs[0].Reason, "unbalanced quote") {
		t.Errorf("problems %v, want row 3 unbalanced quote", probs)
	}
}

func TestParseSignInFormats(t *testing.T) {
	for _, f := range []Format{EntraSignIn, EntraSignInEventHub, EntraSignInLA, EntraSignInCSV} {
		got, err := ParseFormat(string(f))
		if err != nil || got != f || !f.IsSignIn() {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	for _, f := range []Format{UALJSONL, UALJSON, PowerShellJSON, GraphAudit, PurviewCSV, PurviewCSVLegacy, ExportCSV, GraphAuditCSV} {
		if f.IsSignIn() {
			t.Errorf("%s is a sign-in format", f)
		}
	}
	if !EntraSignInCSV.IsCSV() || EntraSignIn.IsCSV() {
		t.Error("IsCSV")
	}
}

func TestCSVFields(t *testing.T) {
	for _, tc := range []struct {
		row  string
		want []string
		err  string
	}{
		{``, []string{""}, ""},
		{`a`, []string{"a"}, ""},
		{`a,b,,c`, []string{"a", "b", "", "c"}, ""},
		{`a,`, []string{"a", ""}, ""},
		{`"a,b",c`, []string{"a,b", "c"}, ""},
		{`"a""b",""`, []string{`a"b`, ""}, ""},
		{`"""",x`, []string{`"`, "x"}, ""},
		{`"a"x,b`, []string{"ax", "b"}, ""},
		{`"a""b"x,b`, []string{`a"bx`, "b"}, ""},
		{"\"line1\nline2\",z", []string{"line1\nline2", "z"}, ""},
		{`a"b,c`, []string{`a"b`, "c"}, ""},
		{`x,"open`, nil, "quoted field 2 does not close"},
		{`"a""`, nil, "quoted field 1 does not close"},
	} {
		var scratch []byte
		prev := []byte("kept")
		scratch = append(scratch, prev...)
		got, sc, err := CSVFields([]byte(tc.row), nil, scratch)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("CSVFields(%q): error %v, want %q", tc.row, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("CSVFields(%q): %v", tc.row, err)
			continue
		}
		var s []string
		for _, f := range got {
			s = append(s, string(f))
		}
		if fmt.Sprintf("%q", s) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("CSVFields(%q) = %q, want %q", tc.row, s, tc.want)
		}
		if string(sc[:4]) != "kept" {
			t.Errorf("CSVFields(%q) overwrote scratch: %q", tc.row, sc)
		}
		// Each field agrees with CSVField.
		for i := range got {
			f, _, err := CSVField([]byte(tc.row), i, nil)
			if err != nil || string(f) != string(got[i]) {
				t.Errorf("CSVField(%q, %d) = %q, %v; CSVFields says %q", tc.row, i, f, err, got[i])
			}
		}
	}
}

func FuzzCSVFields(f *testing.F) {
	f.Add([]byte(portalRow1))
	f.Add([]byte(`"a""b",c,"d`))
	f.Fuzz(func(t *testing.T, row []byte) {
		fields, _, err := CSVFields(row, nil, []byte("x"))
		for i := range fields {
			g, _, ferr := CSVField(row, i, nil)
			if ferr != nil || string(g) != string(fields[i]) {
				t.Fatalf("field %d: CSVFields %q, CSVField %q %v", i, fields[i], g, ferr)
			}
		}
		if err == nil {
			if _, _, ferr := CSVField(row, len(fields), nil); ferr == nil {
				t.Fatalf("CSVField finds a field %d past the %d of CSVFields", len(fields), len(fields))
			}
		}
	})
}

// utf16LE encodes ASCII text as UTF-16 LE with a byte order mark, as
// Excel's "Unicode Text" writes it.
func utf16LE(s string) string {
	b := []byte{0xff, 0xfe}
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return string(b)
}
