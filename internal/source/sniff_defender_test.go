package source

import (
	"strings"
	"testing"
)

// Shapes of Defender advanced hunting exports, written from the
// CloudAppEvents reference
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table),
// the EntraIdSignInEvents reference
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-entraidsigninevents-table)
// and Graph's runHuntingQuery response
// (https://learn.microsoft.com/graph/api/security-security-runhuntingquery:
// "schema" of {"name","type"} or {"Name","Type"}, "results" of row
// objects); the Defender API's older response has "Schema" and "Results".
const (
	cloudAppHeader = `Timestamp,ActionType,Application,ApplicationId,AccountObjectId,AccountId,AccountDisplayName,IPAddress,UserAgent,ReportId,RawEventData`
	cloudAppRow1   = `2026-10-06T09:14:03.1234567Z,UserLoggedIn,Office 365,11161,,p@fabrikam.com,p@fabrikam.com,198.18.7.1,,r1,` +
		`"{""CreationTime"":""2026-10-06T09:14:03"",""Id"":""u1"",""Operation"":""UserLoggedIn"",""RecordType"":15,""UserId"":""p@fabrikam.com"",""ClientIP"":""198.18.7.1"",""ActorContextId"":""b0000000-0000-0000-0000-00000000000b""}"`
	// A row whose record spans lines inside its quoted field.
	cloudAppRow2 = `2026-10-06T09:15:00.0000000Z,FileAccessed,Microsoft SharePoint Online,20892,,p@fabrikam.com,p@fabrikam.com,198.18.7.1,,r2,` +
		"\"{\n  \"\"CreationTime\"\":\"\"2026-10-06T09:15:00\"\",\n  \"\"Id\"\":\"\"u2\"\",\"\"Operation\"\":\"\"FileAccessed\"\",\"\"RecordType\"\":6\n}\""
	signInEventsHeader = `Timestamp,Application,ApplicationId,LogonType,ErrorCode,CorrelationId,SessionId,AccountDisplayName,AccountObjectId,AccountUpn,IsExternalUser,IsGuestUser,ResourceTenantId,IPAddress,RequestId,ReportId`
	signInEventsRow    = `2026-10-06T09:14:03Z,Office 365 SharePoint Online,00000003-0000-0ff1-ce00-000000000000,,0,c1,s1,P,o1,p@fabrikam.com,1,false,a0000000-0000-0000-0000-00000000000a,198.18.7.1,q1,r1`
	deviceEventsHeader = `Timestamp,DeviceId,DeviceName,ActionType,FileName,ReportId`
	deviceEventsRow    = `2026-10-06T09:14:03Z,d1,pc1,ProcessCreated,cmd.exe,7`

	cloudAppSchema = `[{"Name":"Timestamp","Type":"DateTime"},{"Name":"ActionType","Type":"String"},{"Name":"ReportId","Type":"String"},{"Name":"RawEventData","Type":"Object"}]`
	cloudAppObj1   = `{"Timestamp":"2026-10-06T09:14:03.1234567Z","ActionType":"UserLoggedIn","ReportId":"r1","RawEventData":{"CreationTime":"2026-10-06T09:14:03","Id":"u1","Operation":"UserLoggedIn","RecordType":15}}`
	cloudAppObj2   = `{"Timestamp":"2026-10-06T09:15:00Z","ActionType":"FileAccessed","ReportId":"r2","RawEventData":"{\"CreationTime\":\"2026-10-06T09:15:00\",\"Id\":\"u2\",\"RecordType\":6}"}`
	deviceSchema   = `[{"name":"Timestamp","type":"DateTime"},{"name":"DeviceId","type":"String"},{"name":"ReportId","type":"Int64"}]`
	signInSchema   = `[{"name":"Timestamp","type":"DateTime"},{"name":"AccountUpn","type":"String"},{"name":"ErrorCode","type":"Int32"},{"name":"ResourceTenantId","type":"String"},{"name":"ReportId","type":"String"}]`
)

var defenderSniffCases = []struct {
	name    string
	in      string
	format  Format
	recs    []wantRec
	headers string
}{
	{
		name: "cloudappevents-csv", in: cloudAppHeader + "\n" + cloudAppRow1 + "\n" + cloudAppRow2 + "\n", format: DefenderCSV,
		recs:    []wantRec{{line: 2, data: cloudAppRow1}, {line: 3, data: cloudAppRow2}},
		headers: strings.ReplaceAll(cloudAppHeader, ",", "|"),
	},
	{
		// Another table's export is framed as well: its rows are each
		// refused by the decoder with what the table is.
		name: "signinevents-csv", in: signInEventsHeader + "\n" + signInEventsRow + "\n", format: DefenderCSV,
		recs: []wantRec{{line: 2, data: signInEventsRow}}, headers: strings.ReplaceAll(signInEventsHeader, ",", "|"),
	},
	{
		name: "deviceevents-csv", in: deviceEventsHeader + "\n" + deviceEventsRow + "\n", format: DefenderCSV,
		recs: []wantRec{{line: 2, data: deviceEventsRow}}, headers: strings.ReplaceAll(deviceEventsHeader, ",", "|"),
	},
	{
		// CloudAppEvents rows as JSON objects (Sentinel's copy of the
		// table exported from Log Analytics, a script's output): an
		// array, or one per line.
		name: "rows-array", in: "[\n" + cloudAppObj1 + ",\n" + cloudAppObj2 + "\n]\n", format: DefenderJSON,
		recs: []wantRec{{line: 2, data: cloudAppObj1}, {line: 3, data: cloudAppObj2}},
	},
	{
		name: "rows-lines", in: cloudAppObj1 + "\n" + cloudAppObj2 + "\n", format: DefenderJSON,
		recs: []wantRec{{line: 1, data: cloudAppObj1}, {line: 2, data: cloudAppObj2}},
	},
	{
		name: "api-response", in: `{"Stats":{"ExecutionTime":0.1},"Schema":` + cloudAppSchema + `,"Results":[` + cloudAppObj1 + `,` + cloudAppObj2 + `]}`,
		format: DefenderJSON, recs: []wantRec{{line: 1, data: cloudAppObj1}, {line: 1, data: cloudAppObj2}},
	},
	{
		name: "graph-responses-pretty",
		in: "{\n  \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults\",\n" +
			"  \"schema\": " + strings.ReplaceAll(cloudAppSchema, `"Name"`, `"name"`) + ",\n  \"results\": [\n    " + cloudAppObj1 + ",\n    " + cloudAppObj2 + "\n  ]\n}\n" +
			`{"schema":` + cloudAppSchema + `,"results":[` + "\n" + cloudAppObj2 + "]}\n",
		format: DefenderJSON, recs: []wantRec{{line: 5, data: cloudAppObj1}, {line: 6, data: cloudAppObj2}, {line: 10, data: cloudAppObj2}},
	},
}

// TestSniffDefender: the advanced hunting shapes are recognised from their
// content in every container and encoding, and framed (CSV rows under
// their header, each API result row a record).
func TestSniffDefender(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range defenderSniffCases {
		eachVariant(t, dir, tc.name, tc.in, func(t *testing.T, path string, crlf bool, opts Options) {
			res := readAll(t, []string{path}, opts)
			if len(res.probs) != 0 {
				t.Errorf("problems %v", res.probs)
			}
			checkFramed(t, res, crlf, tc.format, tc.recs, func(int) (string, Format) { return tc.headers, Auto })
		})
	}
}

// TestDefenderProblems: a response's table other than CloudAppEvents is
// skipped with one problem naming it (the sign-in tables) or its columns,
// that counts its rows; what is broken is named; what follows is read.
func TestDefenderProblems(t *testing.T) {
	checkProblemCases(t, []problemCase{
		{"device-events", `{"Schema":` + deviceSchema + `,"Results":[{"Timestamp":"t","DeviceId":"d","ReportId":1},{},{}]}`, Auto, 0,
			[]string{"line 1: results of a Microsoft Defender advanced hunting table of columns Timestamp, DeviceId, ReportId, not CloudAppEvents", "3 rows skipped"}, 3},
		{"sign-in-events", `{"schema":` + signInSchema + `,"results":[{"Timestamp":"t"}]}`, Auto, 0,
			[]string{"advanced hunting sign-in table (EntraIdSignInEvents or AADSignInEventsBeta), which has no HomeTenantId", "export the Entra sign-in log instead", "1 rows skipped"}, 1},
		{"timestamp-only", `{"Schema":[{"Name":"Timestamp","Type":"DateTime"}],"Results":[{"Timestamp":"2026-10-06T09:14:03Z","ActionType":"UserLoggedIn","ReportId":"r1"}]}`, Auto, 0,
			[]string{"not CloudAppEvents", "1 rows skipped"}, 1},
		{"two-responses-one-other", `{"Schema":` + deviceSchema + `,"Results":[{}]}` + "\n" + `{"Schema":` + cloudAppSchema + `,"Results":[` + cloudAppObj1 + `]}`, Auto, 1,
			[]string{"line 1: results of", "1 rows skipped"}, 1},
		{"results-before-schema", `{"Results":[` + cloudAppObj1 + `],"Schema":` + deviceSchema + `}`, Auto, 1, nil, 0},
		{"row-not-object", `{"Schema":` + cloudAppSchema + `,"Results":[[1,2],` + cloudAppObj1 + `]}`, Auto, 1,
			[]string{"line 1: result row is an array, not an object"}, 1},
		{"second-without-results", `{"Schema":` + cloudAppSchema + `,"Results":[` + cloudAppObj1 + `]}` + "\n" + `{"Schema":` + cloudAppSchema + `}`, Auto, 1,
			[]string{`line 2: object has no "Results" array`}, 1},
		{"second-not-an-object", `{"Schema":` + cloudAppSchema + `,"Results":[` + cloudAppObj1 + `]}` + "\n" + `[1]`, Auto, 1,
			[]string{"line 2: not a Defender advanced hunting API response ({\"Schema\":[...],\"Results\":[...]}): found an array"}, 1},
		// Forced, what is not a response is framed as rows objects are:
		// each is decoded (and refused) by its own keys.
		{"forced-array", `[{"Timestamp":"x"}]`, DefenderJSON, 1, nil, 0},
		{"forced-no-results", `{"Schema":` + cloudAppSchema + `}`, DefenderJSON, 1, nil, 0},
		{"truncated-row", "{\"Schema\":" + cloudAppSchema + ",\"Results\":[" + cloudAppObj1 + ",\n{\"Timestamp\":\"x", Auto, 1,
			[]string{"line 2: truncated JSON: the row that starts here does not end before the end of the input"}, 1},
		{"truncated-other-table", `{"Schema":` + deviceSchema + `,"Results":[{},{},{"a`, Auto, 0,
			[]string{"3 rows skipped", "truncated JSON: the results array that starts here"}, 3},
		{"row-too-big", `{"Schema":` + cloudAppSchema + `,"Results":[{"x":"` + strings.Repeat("x", 500) + `"},` + cloudAppObj1 + `]}`, Auto, 1,
			[]string{"line 1: record is 508 bytes"}, 1},
		{"deep", `{"Schema":[],"Results":[` + strings.Repeat("[", 600), Auto, 0, []string{"JSON nested deeper than 512 levels"}, 1},
		{"forced-csv-other-columns", "a,b\n1,2\n", DefenderCSV, 1, nil, 0},
	})
}

// TestDefenderTableProblem names the tables by their columns.
func TestDefenderTableProblem(t *testing.T) {
	for _, c := range []struct {
		header []string
		want   string
	}{
		{strings.Split(cloudAppHeader, ","), ""},
		{[]string{"\ufeffRawEventData"}, ""},
		{strings.Split(signInEventsHeader, ","), "sign-in table (EntraIdSignInEvents or AADSignInEventsBeta)"},
		{strings.Split(deviceEventsHeader, ","), "table of columns Timestamp, DeviceId, DeviceName, ActionType, FileName, ReportId, not CloudAppEvents"},
		// CloudAppEvents queried with a project that left RawEventData out
		// is still CloudAppEvents: the problem must say what is missing,
		// not send the analyst to the table they already queried.
		{strings.Split(strings.TrimSuffix(cloudAppHeader, ",RawEventData"), ","), "CloudAppEvents without its RawEventData column"},
		{[]string{"Timestamp", "ActionType", "Application", "AccountId", "IPAddress", "ActivityType", "ObjectName"}, "CloudAppEvents without its RawEventData column"},
		{[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, "columns a, b, c, d, e, f, g, h, ..., not"},
		{[]string{strings.Repeat("x", 300)}, strings.Repeat("x", 200) + "..., not"},
	} {
		got := DefenderTableProblem(c.header)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%q: %q, want %q", c.header, got, c.want)
		}
	}
}

// frameDefenderDirect runs the API response framer on data without
// sniffing.
func frameDefenderDirect(t *testing.T, data []byte, opts Options) ([]rec, []Problem) {
	t.Helper()
	return frameWith(t, data, opts, DefenderJSON, func(f *feed) error { return frameDefenderResults(f, 1) })
}

// FuzzDefenderAPI frames anything as advanced hunting API responses: it
// never panics or hangs, frames only objects (in input order; brackets
// are counted, not matched, so a broken row may close with a bracket: its
// decoder says what is wrong with it), each within the size limit, and
// frames the same whatever the batch size. Read (sniffing, every framer)
// never fails on it either.
func FuzzDefenderAPI(f *testing.F) {
	for _, tc := range defenderSniffCases {
		if tc.format == DefenderJSON {
			f.Add([]byte(tc.in))
		}
	}
	f.Add([]byte(`{"Schema":` + deviceSchema + `,"Results":[{},{"a":[}]}`))
	f.Add([]byte(`{"Schema":"x","Results":[{"RawEventData":{"a":"\"}"}},1,"s"]}{"schema":[]}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{BatchBytes: 64, MaxRecordBytes: 200}
		recs, probs := frameDefenderDirect(t, data, opts)
		for _, r := range recs {
			if !strings.HasPrefix(r.Data, "{") || !strings.HasSuffix(r.Data, "}") && !strings.HasSuffix(r.Data, "]") ||
				len(r.Data) > opts.MaxRecordBytes || r.Line < 1 {
				t.Fatalf("record %+v is not an object within the limit", r)
			}
		}
		inOrder(t, data, recs)
		big := opts
		big.BatchBytes = 64 << 10
		recs2, probs2 := frameDefenderDirect(t, data, big)
		sameOutput(t, "batch sizes", recs, recs2, probs, probs2)
		if res := readBytes(t, data, Options{BatchBytes: 64, MaxRecordBytes: 200}); res.err != nil {
			t.Fatal(res.err)
		}
	})
}
