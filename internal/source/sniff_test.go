package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

type wantRec struct {
	line int64
	data string
	json string // for CSV formats: the unquoted AuditData
}

var sniffCases = []struct {
	name   string
	in     string
	format Format
	col    int
	recs   []wantRec
}{
	{
		name:   "jsonl",
		in:     "{\"CreationTime\":\"2024-01-01T00:00:00\",\"Id\":\"1\",\"UserId\":\"jürgen😀@x\"}\n\n  {\"Id\":\"2\"}  \n{\"Id\":\"3\"}",
		format: UALJSONL, col: -1,
		recs: []wantRec{
			{line: 1, data: "{\"CreationTime\":\"2024-01-01T00:00:00\",\"Id\":\"1\",\"UserId\":\"jürgen😀@x\"}"},
			{line: 3, data: `{"Id":"2"}`},
			{line: 4, data: `{"Id":"3"}`},
		},
	},
	{
		name:   "jsonl-leading-blank-lines",
		in:     "\n\n{\"Id\":\"1\"}\n{\"Id\":\"2\"}\n",
		format: UALJSONL, col: -1,
		recs: []wantRec{{line: 3, data: `{"Id":"1"}`}, {line: 4, data: `{"Id":"2"}`}},
	},
	{
		name:   "jsonl-graph",
		in:     `{"id":"a","auditLogRecordType":"azureActiveDirectoryStsLogon","auditData":{"Id":"1"}}` + "\n" + `{"id":"b","auditData":{"Id":"2"}}` + "\n",
		format: GraphAudit, col: -1,
		recs: []wantRec{
			{line: 1, data: `{"id":"a","auditLogRecordType":"azureActiveDirectoryStsLogon","auditData":{"Id":"1"}}`},
			{line: 2, data: `{"id":"b","auditData":{"Id":"2"}}`},
		},
	},
	{
		name:   "jsonl-powershell",
		in:     `{"RecordType":"ExchangeAdmin","CreationDate":"\/Date(1728364117000)\/","AuditData":"{\"Id\":\"1\"}"}` + "\n",
		format: PowerShellJSON, col: -1,
		recs: []wantRec{{line: 1, data: `{"RecordType":"ExchangeAdmin","CreationDate":"\/Date(1728364117000)\/","AuditData":"{\"Id\":\"1\"}"}`}},
	},
	{
		name:   "array-compact",
		in:     `[{"Id":"1","Name":"a]}"},{"Id":"2","X":[1,{"y":"\"}"}]}]`,
		format: UALJSON, col: -1,
		recs: []wantRec{{line: 1, data: `{"Id":"1","Name":"a]}"}`}, {line: 1, data: `{"Id":"2","X":[1,{"y":"\"}"}]}`}},
	},
	{
		name:   "array-pretty",
		in:     "[\n  {\n    \"Id\": \"1\"\n  },\n  {\n    \"Id\": \"2\"\n  }\n]\n",
		format: UALJSON, col: -1,
		recs: []wantRec{{line: 2, data: "{\n    \"Id\": \"1\"\n  }"}, {line: 5, data: "{\n    \"Id\": \"2\"\n  }"}},
	},
	{
		name:   "array-powershell",
		in:     "    [{\n        \"RecordType\":  \"ExchangeAdmin\",\n        \"CreationDate\":  \"\\/Date(1728364117000)\\/\",\n        \"AuditData\":  {\n                          \"Id\":  \"80ab\"\n                      }\n    },\n    {\n        \"AuditData\":  {}\n    }]\n",
		format: PowerShellJSON, col: -1,
		recs: []wantRec{
			{line: 1, data: "{\n        \"RecordType\":  \"ExchangeAdmin\",\n        \"CreationDate\":  \"\\/Date(1728364117000)\\/\",\n        \"AuditData\":  {\n                          \"Id\":  \"80ab\"\n                      }\n    }"},
			{line: 8, data: "{\n        \"AuditData\":  {}\n    }"},
		},
	},
	{
		name:   "array-graph",
		in:     `[{"id":"1","auditLogRecordType":"x"}]`,
		format: GraphAudit, col: -1,
		recs: []wantRec{{line: 1, data: `{"id":"1","auditLogRecordType":"x"}`}},
	},
	{
		name:   "object-powershell",
		in:     "    {\n        \"RecordType\":  \"ExchangeAdmin\",\n        \"AuditData\":  {\n            \"Id\": \"1\"\n        }\n    }\n",
		format: PowerShellJSON, col: -1,
		recs: []wantRec{{line: 1, data: "{\n        \"RecordType\":  \"ExchangeAdmin\",\n        \"AuditData\":  {\n            \"Id\": \"1\"\n        }\n    }"}},
	},
	{
		name:   "object-sequence",
		in:     "{\n  \"Id\": \"1\"\n}\n{\n  \"Id\": \"2\"\n}{\"Id\":\"3\"}",
		format: UALJSON, col: -1,
		recs: []wantRec{{line: 1, data: "{\n  \"Id\": \"1\"\n}"}, {line: 4, data: "{\n  \"Id\": \"2\"\n}"}, {line: 6, data: `{"Id":"3"}`}},
	},
	{
		name:   "graph-page",
		in:     `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#x","value":[{"id":"1","auditData":{"a":"[{"}},{"id":"2","createdDateTime":"2024"}],"@odata.nextLink":"https://x"}`,
		format: GraphAudit, col: -1,
		recs: []wantRec{{line: 1, data: `{"id":"1","auditData":{"a":"[{"}}`}, {line: 1, data: `{"id":"2","createdDateTime":"2024"}`}},
	},
	{
		name:   "graph-pages-pretty",
		in:     "{\n  \"@odata.context\": \"x\",\n  \"value\": [\n    {\"id\": \"1\", \"auditData\": {}}\n  ]\n}\n{\n  \"value\": [\n    {\"id\": \"2\"},\n    {\"id\": \"3\"}\n  ]\n}\n",
		format: GraphAudit, col: -1,
		recs: []wantRec{{line: 4, data: `{"id": "1", "auditData": {}}`}, {line: 9, data: `{"id": "2"}`}, {line: 10, data: `{"id": "3"}`}},
	},
	{
		name:   "graph-pages-lines",
		in:     `{"value":[{"id":"1","auditData":{}}]}` + "\n" + `{"value":[{"id":"2","auditData":{}}],"@odata.nextLink":null}` + "\n",
		format: GraphAudit, col: -1,
		recs: []wantRec{{line: 1, data: `{"id":"1","auditData":{}}`}, {line: 2, data: `{"id":"2","auditData":{}}`}},
	},
	{
		name:   "records-wrapper",
		in:     `{"records":[{"CreationTime":"2024-01-01T00:00:00","Id":"1"}]}`,
		format: UALJSON, col: -1,
		recs: []wantRec{{line: 1, data: `{"CreationTime":"2024-01-01T00:00:00","Id":"1"}`}},
	},
	{
		name: "purview-csv",
		in: "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\n" +
			`1,2023-09-20T04:05:03.0000000Z,15,UserLoggedIn,a@b.c,"{""Id"":""1"",""X"":""a,b""}",,` + "\n",
		format: PurviewCSV, col: 5,
		recs: []wantRec{{line: 2, data: `1,2023-09-20T04:05:03.0000000Z,15,UserLoggedIn,a@b.c,"{""Id"":""1"",""X"":""a,b""}",,`, json: `{"Id":"1","X":"a,b"}`}},
	},
	{
		name:   "purview-csv-legacy",
		in:     "CreationDate,UserIds,Operations,AuditData\n9/20/2023 4:05:03 AM,a@b.c,UserLoggedIn,\"{\"\"Id\"\":\"\"1\"\"}\"\n",
		format: PurviewCSVLegacy, col: 3,
		recs: []wantRec{{line: 2, data: `9/20/2023 4:05:03 AM,a@b.c,UserLoggedIn,"{""Id"":""1""}"`, json: `{"Id":"1"}`}},
	},
	{
		name: "export-csv",
		in: "#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\n" +
			`"RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex","ResultCount","Identity","IsValid","ObjectState"` + "\n" +
			`"AzureActiveDirectoryStsLogon","6/14/2023 1:14:02 PM","a@b.c","UserLoggedIn","{""Id"":""1""}","1","2","x","True","Unchanged"` + "\n" +
			"\n" +
			`"ExchangeAdmin","6/14/2023 1:15:02 PM","a@b.c","Set-Mailbox","{""Id"":""2"",""Note"":""line one` + "\n" + `line two""}","2","2","y","True","Unchanged"` + "\n",
		format: ExportCSV, col: 4,
		recs: []wantRec{
			{line: 2, data: `"AzureActiveDirectoryStsLogon","6/14/2023 1:14:02 PM","a@b.c","UserLoggedIn","{""Id"":""1""}","1","2","x","True","Unchanged"`, json: `{"Id":"1"}`},
			{line: 4, data: `"ExchangeAdmin","6/14/2023 1:15:02 PM","a@b.c","Set-Mailbox","{""Id"":""2"",""Note"":""line one` + "\n" + `line two""}","2","2","y","True","Unchanged"`, json: "{\"Id\":\"2\",\"Note\":\"line one\nline two\"}"},
		},
	},
	{
		name:   "graph-audit-csv",
		in:     "id,createdDateTime,auditLogRecordType,operation,organizationId,userType,userId,service,objectId,userPrincipalName,clientIp,administrativeUnits,auditData\nx,2024-01-01T00:00:00Z,azureActiveDirectoryStsLogon,UserLoggedIn,o,regular,u,AzureActiveDirectory,,u@x,1.2.3.4,,\"{\"\"Id\"\":\"\"1\"\"}\"\n",
		format: GraphAuditCSV, col: 12,
		recs: []wantRec{{line: 2, data: `x,2024-01-01T00:00:00Z,azureActiveDirectoryStsLogon,UserLoggedIn,o,regular,u,AzureActiveDirectory,,u@x,1.2.3.4,,"{""Id"":""1""}"`, json: `{"Id":"1"}`}},
	},
	{
		name:   "other-csv-with-auditdata",
		in:     "CreationDate,UserIds,RecordType,auditdata\n1,2,3,{}\n",
		format: PurviewCSV, col: 3,
		recs: []wantRec{{line: 2, data: `1,2,3,{}`, json: `{}`}},
	},
}

// variants of one input: the ways the same records arrive.
var variants = []struct {
	name string
	make func(t *testing.T, dir, in string) (path string, crlf bool)
}{
	{"plain", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", []byte(in)), false
	}},
	{"gzip", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", testutil.Gzip([]byte(in))), false
	}},
	{"gzip-in-zip", func(t *testing.T, dir, in string) (string, bool) {
		z := zipBytes(t, member{name: "sub/", data: nil}, member{name: "sub/in.json.gz", data: testutil.Gzip([]byte(in))})
		return testutil.WriteFile(t, dir, "in.zip", z), false
	}},
	{"zip", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.zip", zipBytes(t, member{name: "in.json", data: []byte(in)})), false
	}},
	{"utf16le-bom", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", utf16Bytes(in, false, true)), false
	}},
	{"utf16be-bom", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", utf16Bytes(in, true, true)), false
	}},
	{"utf8-bom", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", []byte("\ufeff"+in)), false
	}},
	{"crlf", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", []byte(strings.ReplaceAll(in, "\n", "\r\n"))), true
	}},
	{"utf16le-bom-crlf-gzip", func(t *testing.T, dir, in string) (string, bool) {
		return testutil.WriteFile(t, dir, "in.json", testutil.Gzip(utf16Bytes(strings.ReplaceAll(in, "\n", "\r\n"), false, true))), true
	}},
}

func TestSniffAndFrame(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range sniffCases {
		eachVariant(t, dir, tc.name, tc.in, func(t *testing.T, path string, crlf bool, opts Options) {
			res := readClean(t, path, opts)
			if len(res.inputs) != 1 {
				t.Fatalf("%d inputs, want 1: %+v", len(res.inputs), res.inputs)
			}
			if got := res.inputs[0].Format; got != tc.format {
				t.Errorf("format %q, want %q", got, tc.format)
			}
			if len(res.recs) != len(tc.recs) {
				t.Fatalf("%d records, want %d: %+v %v", len(res.recs), len(tc.recs), res.recs, res.probs)
			}
			for i, w := range tc.recs {
				g := res.recs[i]
				want := w.data
				if crlf {
					want = strings.ReplaceAll(want, "\n", "\r\n")
				}
				if g.Line != w.line || g.Data != want || g.Col != tc.col || g.Format != tc.format {
					t.Errorf("record %d: line %d col %d %s %q\nwant line %d col %d %s %q", i, g.Line, g.Col, g.Format, g.Data, w.line, tc.col, tc.format, want)
				}
				if tc.col >= 0 {
					b := &Batch{Records: []Record{{Data: []byte(g.Data)}}, CSVColumn: g.Col}
					js, _, err := b.JSON(0, nil)
					wantJS := w.json
					if crlf {
						wantJS = strings.ReplaceAll(wantJS, "\n", "\r\n")
					}
					if err != nil || string(js) != wantJS {
						t.Errorf("record %d: JSON %q, %v; want %q", i, js, err, wantJS)
					}
				}
			}
		})
	}
}

// TestForcedFormat: a forced format skips sniffing but still finds the
// CSV column and the JSON framing; a forced sign-in format frames what it
// is given, CSV batches with their header.
func TestForcedFormat(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		format   Format
		want     []string
		problem  string
		header   string // the batches' header, joined with "|"
	}{
		{"jsonl-as-ual-json", "{\"a\":1}\n{\"b\":2}\n", UALJSON, []string{`{"a":1}`, `{"b":2}`}, "", ""},
		{"pretty-as-jsonl", "{\n\"a\":1}\n", UALJSONL, []string{"{", `"a":1}`}, "", ""},
		{"page-as-graph", `{"value":[{"a":1}]}`, GraphAudit, []string{`{"a":1}`}, "", ""},
		{"array-as-graph", `[{"a":1}]`, GraphAudit, []string{`{"a":1}`}, "", ""},
		{"lines-as-graph", "{\"a\":1}\n{\"b\":2}\n", GraphAudit, []string{`{"a":1}`, `{"b":2}`}, "", ""},
		{"page-with-long-key", `{"` + strings.Repeat("k", 20000) + `":1,"value":[{"a":1}]}`, GraphAudit, []string{`{"a":1}`}, "", ""},
		{"csv-as-legacy", "x,AuditData\n1,{}\n", PurviewCSVLegacy, []string{`1,{}`}, "", ""},
		{"csv-without-auditdata", "x,y\n1,{}\n", ExportCSV, nil, "csv header has no AuditData column", ""},
		{"signin-page", `{"value":[{"a":1}]}`, EntraSignIn, []string{`{"a":1}`}, "", ""},
		{"signin-array", `[{"a":1}]`, EntraSignInEventHub, []string{`{"a":1}`}, "", ""},
		{"signin-lines", "{\"a\":1}\n{\"b\":2}\n", EntraSignInLA, []string{`{"a":1}`, `{"b":2}`}, "", ""},
		{"signin-la-csv", "UserPrincipalName,TimeGenerated,ResultType\na,2026-10-06T09:14:03Z,0\n", EntraSignInLA, []string{"a,2026-10-06T09:14:03Z,0"}, "", "UserPrincipalName|TimeGenerated|ResultType"},
		{"signin-csv-with-auditdata", "Date (UTC),Username,Status,AuditData\nw,x,y,z\n", EntraSignInCSV, []string{"w,x,y,z"}, "", "Date (UTC)|Username|Status|AuditData"},
	} {
		// Read from standard input and from a file.
		for _, from := range []string{"stdin", "file"} {
			t.Run(tc.name+"/"+from, func(t *testing.T) {
				opts := Options{Format: tc.format, BatchBytes: 256}
				var res result
				if from == "stdin" {
					res = readBytes(t, []byte(tc.in), opts)
				} else {
					res = readAll(t, []string{testutil.WriteFile(t, t.TempDir(), "in", []byte(tc.in))}, opts)
				}
				var got []string
				for _, r := range res.recs {
					got = append(got, r.Data)
					if r.Format != tc.format || r.Header != tc.header {
						t.Errorf("format %s header %q, want %s %q", r.Format, r.Header, tc.format, tc.header)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("records %q, want %q", got, tc.want)
				}
				switch {
				case tc.problem == "" && len(res.probs) > 0:
					t.Errorf("problems %v", res.probs)
				case tc.problem != "" && (len(res.probs) != 1 || !strings.Contains(res.probs[0].Reason, tc.problem)):
					t.Errorf("problems %v, want %q", res.probs, tc.problem)
				}
				if res.err != nil {
					t.Fatal(res.err)
				}
			})
		}
	}
}
