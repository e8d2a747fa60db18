package source

import (
	"bytes"
	"strings"
	"testing"
)

// Shapes of Sentinel's OfficeActivity table and of Log Analytics query API
// responses, written from the table reference
// (https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity)
// and the API's response format
// (https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format).
const (
	officeHeader  = `TenantId,RecordType,"TimeGenerated [UTC]",Operation,OrganizationId,OrganizationId_,UserType,OfficeWorkload,UserId,UserId_,ClientIP,ClientIP_,Actor,OfficeId,"Start_Time [UTC]",Type`
	officeRow1    = `w,SharePointFileOperation,"4/28/2021, 3:05:26.000 PM",FileAccessed,,o,Regular,SharePoint,,a@contoso.com,,81.2.69.160,,id1,"4/28/2021, 3:05:26.000 PM",OfficeActivity`
	officeRow2    = `w,15,"4/28/2021, 3:12:09.000 PM",UserLoggedIn,o,,Regular,AzureActiveDirectory,p@fabrikam.com,,85.203.21.17,,"[{""ID"":""Unknown"",""Type"":0}]",id2,,OfficeActivity`
	officeStartHd = `RecordType,Operation,UserId,OfficeId,"Start_Time [UTC]"`
	officeStartR1 = `ExchangeAdmin,Set-Mailbox,admin@contoso.com,id3,"4/29/2021, 12:00:01.250 AM"`
	officeObj1    = `{"TenantId":"w","TimeGenerated":"2021-04-28T15:05:26Z","RecordType":"SharePointFileOperation","Operation":"FileAccessed","OrganizationId_":"o","UserType":"Regular","OfficeWorkload":"SharePoint","UserId_":"a@contoso.com","ClientIP_":"81.2.69.160","OfficeId":"id1","SourceRecordId":"id1","Type":"OfficeActivity"}`
	officeObj2    = `{"TenantId":"w","TimeGenerated":"2021-04-28T15:12:09Z","RecordType":"15","Operation":"UserLoggedIn","OrganizationId":"o","OfficeWorkload":"AzureActiveDirectory","UserId":"p@fabrikam.com","Actor":"[{\"ID\":\"Unknown\",\"Type\":0}]","OfficeId":"id2","Type":"OfficeActivity","TableName":"PrimaryResult"}`
	queryOffice   = `{"name":"PrimaryResult","columns":[{"name":"TimeGenerated","type":"datetime"},{"name":"Operation","type":"string"},{"name":"OfficeWorkload","type":"string"},{"name":"OfficeId","type":"string"}],"rows":[["2021-04-28T15:05:26Z","FileAccessed","SharePoint","id1"],["2021-04-28T15:12:09Z","UserLoggedIn","AzureActiveDirectory","id2"]]}`
	querySignIn   = `{"name":"PrimaryResult","columns":[{"name":"TimeGenerated","type":"datetime"},{"name":"UserPrincipalName","type":"string"},{"name":"ResultType","type":"string"},{"name":"IsInteractive","type":"bool"},{"name":"Status","type":"dynamic"}],"rows":[["2021-04-28T15:12:10Z","p@fabrikam.com","0",true,"{\"errorCode\":0}"]]}`
	queryOther    = `{"name":"Counts","columns":[{"name":"Category","type":"string"},{"name":"count_","type":"long"}],"rows":[["SignInLogs",2],["x",1],["y",3]]}`
)

var sentinelSniffCases = []struct {
	name   string
	in     string
	format Format
	recs   []wantRec
	// header and table of each record's batch, joined with "|" (one for
	// all when the slice has one element).
	headers []string
	tables  []Format
}{
	{
		name: "officeactivity-csv", in: officeHeader + "\n" + officeRow1 + "\n" + officeRow2 + "\n", format: SentinelOfficeCSV,
		recs:    []wantRec{{line: 2, data: officeRow1}, {line: 3, data: officeRow2}},
		headers: []string{"TenantId|RecordType|TimeGenerated [UTC]|Operation|OrganizationId|OrganizationId_|UserType|OfficeWorkload|UserId|UserId_|ClientIP|ClientIP_|Actor|OfficeId|Start_Time [UTC]|Type"},
	},
	{
		name: "officeactivity-csv-start-time", in: officeStartHd + "\n" + officeStartR1 + "\n", format: SentinelOfficeCSV,
		recs:    []wantRec{{line: 2, data: officeStartR1}},
		headers: []string{"RecordType|Operation|UserId|OfficeId|Start_Time [UTC]"},
	},
	{
		name: "officeactivity-json-lines", in: officeObj1 + "\n" + officeObj2 + "\n", format: SentinelOfficeJSON,
		recs: []wantRec{{line: 1, data: officeObj1}, {line: 2, data: officeObj2}}, headers: []string{""},
	},
	{
		name: "officeactivity-json-array", in: "[\n  " + officeObj1 + ",\n  " + officeObj2 + "\n]\n", format: SentinelOfficeJSON,
		recs: []wantRec{{line: 2, data: officeObj1}, {line: 3, data: officeObj2}}, headers: []string{""},
	},
	{
		name:   "query-api-tables",
		in:     `{"tables":[` + queryOffice + `,` + querySignIn + `,` + queryOther + `]}`,
		format: LAQueryAPI,
		recs: []wantRec{{line: 1, data: `["2021-04-28T15:05:26Z","FileAccessed","SharePoint","id1"]`},
			{line: 1, data: `["2021-04-28T15:12:09Z","UserLoggedIn","AzureActiveDirectory","id2"]`},
			{line: 1, data: `["2021-04-28T15:12:10Z","p@fabrikam.com","0",true,"{\"errorCode\":0}"]`}},
		headers: []string{"TimeGenerated|Operation|OfficeWorkload|OfficeId", "TimeGenerated|Operation|OfficeWorkload|OfficeId",
			"TimeGenerated|UserPrincipalName|ResultType|IsInteractive|Status"},
		tables: []Format{SentinelOfficeJSON, SentinelOfficeJSON, EntraSignInLA},
	},
	{
		name:   "query-api-pretty-two-responses",
		in:     "{\n \"tables\": [\n  " + querySignIn + "\n ]\n}\n{\"tables\":[\n" + queryOffice + "]}\n",
		format: LAQueryAPI,
		recs: []wantRec{{line: 3, data: `["2021-04-28T15:12:10Z","p@fabrikam.com","0",true,"{\"errorCode\":0}"]`},
			{line: 7, data: `["2021-04-28T15:05:26Z","FileAccessed","SharePoint","id1"]`},
			{line: 7, data: `["2021-04-28T15:12:09Z","UserLoggedIn","AzureActiveDirectory","id2"]`}},
		headers: []string{"TimeGenerated|UserPrincipalName|ResultType|IsInteractive|Status", "TimeGenerated|Operation|OfficeWorkload|OfficeId",
			"TimeGenerated|Operation|OfficeWorkload|OfficeId"},
		tables: []Format{EntraSignInLA, SentinelOfficeJSON, SentinelOfficeJSON},
	},
}

// TestSniffSentinel: the OfficeActivity and query API shapes are
// recognised from their content in every container and encoding, and
// framed with their headers (the query API's per table).
func TestSniffSentinel(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range sentinelSniffCases {
		eachVariant(t, dir, tc.name, tc.in, func(t *testing.T, path string, crlf bool, opts Options) {
			res := readAll(t, []string{path}, opts)
			wantProbs := 0
			if strings.Contains(tc.in, `"Counts"`) {
				wantProbs = 1 // the table of other columns
			}
			if len(res.probs) != wantProbs {
				t.Errorf("problems %v, want %d", res.probs, wantProbs)
			}
			checkFramed(t, res, crlf, tc.format, tc.recs, func(i int) (header string, table Format) {
				header, table = tc.headers[0], Auto
				if len(tc.headers) > 1 {
					header = tc.headers[i]
				}
				if tc.tables != nil {
					table = tc.tables[i]
				}
				return header, table
			})
		})
	}
}

// TestSentinelProblems: what cannot be read is named (file, line or row,
// why) and counted, and what follows it is read.
func TestSentinelProblems(t *testing.T) {
	checkProblemCases(t, []problemCase{
		{"office-csv-without-operation", "RecordType,\"TimeGenerated [UTC]\",OfficeWorkload,UserId\nx,y,z,w\n", Auto, 0,
			[]string{"unknown format: csv header looks like a Sentinel OfficeActivity export but has no Operation column"}, 1},
		{"office-csv-without-time", "OfficeId,Operation,UserId\nx,y,z\n", Auto, 0,
			[]string{"no TimeGenerated (or Start_Time) column"}, 1},
		{"forced-office-csv-on-other-columns", "a,b,c\n1,2,3\n", SentinelOfficeCSV, 0,
			[]string{"csv header has no OfficeActivity columns: no OfficeWorkload or OfficeId, Operation and TimeGenerated"}, 1},
		{"unknown-csv-says-what-it-expected", "x,y,z\n1,2,3\n", Auto, 0,
			[]string{"no AuditData column (a UAL export), no Date (UTC) and Username or UserPrincipalName and ResultType columns (a sign-in log) and no OfficeWorkload, OfficeId, Operation and TimeGenerated columns (Sentinel's OfficeActivity table)"}, 1},
		{"office-csv-bad-row", officeHeader + "\n" + officeRow1 + "\n\"open\n" + officeRow2 + "\n", Auto, 2,
			[]string{"row 3: unbalanced quote"}, 1},
		{"query-not-a-response", `[{"TimeGenerated":"x"}]`, LAQueryAPI, 0,
			[]string{`line 1: not a Log Analytics query API response ({"tables":[...]}): found a JSON array`}, 1},
		{"query-without-tables", `{"value":[]}`, LAQueryAPI, 0, []string{`line 1: object has no "tables" array`}, 1},
		{"query-unknown-table", `{"tables":[` + queryOther + `,` + querySignIn + `]}`, Auto, 1,
			[]string{`line 1: table "Counts": its columns (Category, count_) are neither OfficeActivity's`, "3 rows skipped"}, 3},
		{"query-rows-before-columns", `{"tables":[{"name":"T","rows":[[1],[2]],"columns":[{"name":"TimeGenerated"},{"name":"Operation"},{"name":"OfficeId"}]}]}`, Auto, 0,
			[]string{`table "T": its rows come before its columns: 2 rows skipped`}, 2},
		{"query-columns-not-objects", `{"tables":[{"name":"T","columns":["a","b"],"rows":[[1]]}]}`, Auto, 0,
			[]string{`its columns array is not a list of {"name","type"} objects: 1 rows skipped`}, 1},
		{"query-row-not-an-array", `{"tables":[{"columns":[{"name":"TimeGenerated"},{"name":"Operation"},{"name":"OfficeId"}],"rows":[{"a":1},["t","o","i"]]}]}`, Auto, 1,
			[]string{"line 1: row is an object, not an array of values"}, 1},
		{"query-truncated-row", "{\"tables\":[{\"columns\":[{\"name\":\"TimeGenerated\"},{\"name\":\"Operation\"},{\"name\":\"OfficeId\"}],\"rows\":[[\"t\",\"o\",\"i\"],\n[\"t\",\"o", Auto, 1,
			[]string{"line 2: truncated JSON: the row that starts here does not end before the end of the input"}, 1},
		{"query-truncated-response", `{"tables":[` + queryOffice, Auto, 2,
			[]string{"truncated JSON: the tables array that starts here"}, 0},
		{"query-partial-error", `{"tables":[` + queryOffice + `],"error":{"code":"PartialError","message":"Query result set has exceeded the internal record count limit"}}`, Auto, 2,
			[]string{"the response reports an error (PartialError: Query result set has exceeded the internal record count limit): its tables may hold only part of the result"}, 0},
		{"query-unknown-table-truncated", `{"tables":[{"name":"Counts","columns":[{"name":"a"}],"rows":[[1],[2],[3`, Auto, 0,
			[]string{`table "Counts": its columns (a) are neither`, "2 rows skipped", "truncated JSON: the row that starts here"}, 3},
		{"query-deep", `{"tables":[{"x":` + strings.Repeat("[", 600), Auto, 0, []string{"JSON nested deeper than 512 levels"}, 1},
		{"query-row-too-big", `{"tables":[{"columns":[{"name":"TimeGenerated"},{"name":"Operation"},{"name":"OfficeId"}],"rows":[["` + strings.Repeat("x", 500) + `"],["t","o","i"]]}]}`, Auto, 1,
			[]string{"line 1: record is 504 bytes"}, 1},
	})
}

// FuzzQueryAPI frames anything as a query API response: it never panics
// or hangs, frames the same whatever the batch size, frames only arrays
// (in input order; brackets are counted, not matched, so a broken row may
// close with a brace: its decoder says what is wrong with it), and labels
// each with its table.
func FuzzQueryAPI(f *testing.F) {
	f.Add([]byte(`{"tables":[` + queryOffice + `,` + querySignIn + `,` + queryOther + `]}`))
	f.Add([]byte("{\n \"tables\": [\n  " + querySignIn + "\n ]\n}\n{\"tables\":[\n" + queryOffice + "]}\n"))
	f.Add([]byte(`{"tables":[{"name":"T","rows":[[1],[2]],"columns":[{"name":"TimeGenerated"}]}],"error":{"code":"x"}}`))
	f.Add([]byte(`{"tables":[{"columns":[{"name":"TimeGenerated"},{"name":"Operation"},{"name":"OfficeId"}],"rows":[["a\"]",{"x":[1]}],[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Format: LAQueryAPI, BatchBytes: 64, MaxRecordBytes: 200}
		recs, probs, _ := frameBytes(t, data, opts)
		for _, r := range recs {
			if !strings.HasPrefix(r.Data, "[") || !strings.HasSuffix(r.Data, "]") && !strings.HasSuffix(r.Data, "}") {
				t.Fatalf("record %q is not an array", r.Data)
			}
			if r.Header == "" && r.Table == Auto || r.Table != SentinelOfficeJSON && r.Table != EntraSignInLA {
				t.Fatalf("record %q has header %q, table %q", r.Data, r.Header, r.Table)
			}
		}
		checkPlain(t, data, opts, recs, probs)
		// Sniffed, a response frames as when forced.
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte(`{"tables"`)) && plain(data) {
			auto := opts
			auto.Format = Auto
			res := readBytes(t, data, auto)
			if len(res.inputs) == 1 && res.inputs[0].Format == LAQueryAPI {
				sameOutput(t, "sniffed", recs, res.recs, probs, res.probs)
			}
		}
	})
}

// problemCase is an input that is not read whole: read with forced (Auto:
// sniffed), it gives recs records, problems that contain each of problems
// (none when problems is empty), and counts skipped records skipped.
type problemCase struct {
	name, in string
	forced   Format
	recs     int
	problems []string // substrings
	skipped  int64
}

// checkProblemCases reads each case in one batch and in batches of 7
// bytes, records over 300 bytes refused.
func checkProblemCases(t *testing.T, cases []problemCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, batch := range []int{0, 7} {
				res := readBytes(t, []byte(tc.in), Options{Format: tc.forced, BatchBytes: batch, MaxRecordBytes: 300})
				if res.err != nil {
					t.Fatal(res.err)
				}
				if len(res.recs) != tc.recs {
					t.Errorf("batch %d: %d records, want %d: %+v", batch, len(res.recs), tc.recs, res.recs)
				}
				var got []string
				for _, p := range res.probs {
					got = append(got, p.Error())
				}
				all := strings.Join(got, "\n")
				for _, w := range tc.problems {
					if !strings.Contains(all, w) {
						t.Errorf("batch %d: problems\n%s\nlack %q", batch, all, w)
					}
				}
				if len(tc.problems) == 0 && len(got) != 0 {
					t.Errorf("batch %d: problems %s", batch, all)
				}
				if len(res.inputs) == 1 && res.inputs[0].Skipped != tc.skipped {
					t.Errorf("batch %d: %d skipped, want %d", batch, res.inputs[0].Skipped, tc.skipped)
				}
			}
		})
	}
}
