package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// readCSV reads a test CSV of a header and one row (each on one line), as
// the CLI hands them over: split with source.CSVFields.
// readCSV reads a header and its first row (no field spanning lines),
// and what the locale dates of all its rows show, as package source's
// survey finds it.
func readCSV(t testing.TB, data []byte) ([]string, [][]byte, localedate.Evidence) {
	t.Helper()
	head, rest, _ := bytes.Cut(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), []byte("\n"))
	row, _, _ := bytes.Cut(rest, []byte("\n"))
	header, fields, err := splitCSV(head, row)
	if err != nil {
		t.Fatal(err)
	}
	cols := source.DateColumns(header, source.Auto)
	var dates localedate.Evidence
	for line := range bytes.SplitSeq(rest, []byte("\n")) {
		e, _ := source.RowDates(bytes.TrimRight(line, "\r"), cols, 0, nil)
		dates |= e
	}
	return header, fields, dates
}

func splitCSV(head, row []byte) ([]string, [][]byte, error) {
	h, _, err := source.CSVFields(bytes.TrimRight(head, "\r"), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	header := make([]string, len(h))
	for i, x := range h {
		header[i] = string(x)
	}
	fields, _, err := source.CSVFields(bytes.TrimRight(row, "\r\n"), nil, nil)
	return header, fields, err
}

// TestGoldenCSV explains every testdata/*.csv row (a header and one row)
// with ExplainFields and compares the text with testdata/*.golden; -update
// rewrites them.
func TestGoldenCSV(t *testing.T) {
	testutil.GoldenFiles(t, "testdata", []string{".csv"}, 1, func(t *testing.T, f string, data []byte) []byte {
		header, fields, dates := readCSV(t, data)
		var out bytes.Buffer
		if err := ExplainFields(&out, header, fields, Options{Dates: dates}); err != nil {
			t.Fatalf("ExplainFields: %v", err)
		}
		checkSafe(t, out.Bytes())
		checkWidth(t, f, out.String())
		return out.Bytes()
	})
}

// checkWidth is TestWidth's rule for one output.
func checkWidth(t *testing.T, name, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) <= width {
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(line, " ") && !strings.HasPrefix(trimmed, "- ") && strings.Contains(trimmed, " ") {
			t.Errorf("%s: explanation line over %d columns: %q", name, width, line)
		}
	}
}

// engineView decodes a test record with the engine's sign-in decoder.
func engineView(t *testing.T, file string) audit.Event {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d audit.Decoder
	var ev audit.Event
	if strings.HasSuffix(file, ".csv") {
		header, fields, dates := readCSV(t, data)
		cols, err := audit.NewSignInColumns(header)
		if err != nil {
			t.Fatal(err)
		}
		d.SetDates(dates)
		err = d.DecodeSignInFieldsKeep(cols, fields, &ev)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return ev
	}
	if err := d.DecodeSignInKeep(data, &ev); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return ev
}

func explainFile(t *testing.T, file string, opts Options) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if strings.HasSuffix(file, ".csv") {
		header, fields, dates := readCSV(t, data)
		opts.Dates = dates
		err = ExplainFields(&out, header, fields, opts)
	} else {
		err = Explain(&out, data, opts)
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return flat(out.String())
}

// TestSignInAgrees checks every sign-in in testdata against the engine:
// the outcome is the decoder's Event.Outcome, and the class is the one
// docs/rules.md gives.
func TestSignInAgrees(t *testing.T) {
	// Each file's outcome as the engine must see it, and its class.
	for name, w := range map[string]struct{ outcome, class string }{
		"signin-graph-passthrough":       {"success", "Class: pass-through."},
		"signin-graph-b2b-guest":         {"success", "Class: guest (userType is guest; crossTenantAccessType is b2bCollaboration)."},
		"signin-graph-consumer":          {"success", "Class: pass-through, consumer."},
		"signin-graph-failed-50126":      {"failure", "Class: pass-through."},
		"signin-graph-interrupted-50140": {"interrupted", "Class: pass-through."},
		"signin-graph-third-party":       {"success", "Class: pass-through."},
		"signin-graph-member":            {"failure", "Class: member."},
		"signin-eventhub":                {"success", "Class: pass-through."},
		"signin-la-row":                  {"failure", "Class: pass-through."},
		"signin-la-row-guest":            {"success", "Class: guest"},
		"signin-portal":                  {"success", "Class: pass-through."},
		"signin-la":                      {"interrupted", "Class: pass-through."},
	} {
		file := "testdata/" + name + ".json"
		if _, err := os.Stat(file); err != nil {
			file = "testdata/" + name + ".csv"
		}
		ev := engineView(t, file)
		if got := ev.Outcome().String(); got != w.outcome {
			t.Errorf("%s: the engine says %s, the test %s", name, got, w.outcome)
		}
		s := explainFile(t, file, Options{})
		if o := "Outcome: " + ev.Outcome().String(); !strings.Contains(s, o) {
			t.Errorf("%s: want %q in:\n%s", name, o, s)
		}
		if !strings.Contains(s, w.class) {
			t.Errorf("%s: want %q in:\n%s", name, w.class, s)
		}
		if !strings.HasPrefix(s, "Sign-in by ") {
			t.Errorf("%s: not explained as a sign-in:\n%s", name, s)
		}
	}
	s := explainFile(t, "testdata/signin-graph-third-party.json", Options{})
	for _, w := range []string{"WARNING: this should not happen", "WARNING: this is a sign-in by an outside account",
		"NOT in outsider's catalogue"} {
		if !strings.Contains(s, w) {
			t.Errorf("third-party pass-through lacks %q:\n%s", w, s)
		}
	}
	// A failed attempt at a third-party application is worth a look, not
	// a warning.
	if s := explainFile(t, "testdata/signin-la-row.json", Options{}); strings.Contains(s, "WARNING: this should not happen") {
		t.Errorf("failed third-party attempt warns:\n%s", s)
	}
	s = explainFile(t, "testdata/signin-graph-passthrough.json", Options{})
	for _, w := range []string{
		"as its IntraSystemId", "carries it as InterSystemsId", "Prefer: include-unknown-enum-members",
		"a Microsoft first-party application", "allows pass-through authentication only for Microsoft first-party",
		"2, with results 2 notApplied", "The due diligence", "signin-only",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("passthrough lacks %q:\n%s", w, s)
		}
	}
}

// TestCrossTenantTypes checks each crossTenantAccessType against the
// class docs/rules.md gives it.
func TestCrossTenantTypes(t *testing.T) {
	cases := []struct{ ctat, home, want string }{
		{"none", "6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94", "Class: member."},
		{"passthrough", "a1b2c3d4-0000-4000-8000-fab1fab1fab1", "Class: pass-through."},
		{"passthrough", "", "crossTenantAccessType is passthrough"},
		{"b2bCollaboration", "a1b2c3d4-0000-4000-8000-fab1fab1fab1", "Class: guest"},
		{"b2bDirectConnect", "a1b2c3d4-0000-4000-8000-fab1fab1fab1", "Class: pass-through (B2B direct connect)."},
		{"serviceProvider", "a1b2c3d4-0000-4000-8000-fab1fab1fab1", "Class: pass-through (service provider)."},
		{"microsoftSupport", "72f988bf-86f1-41af-91ab-2d7cd011db47", "Class: pass-through (Microsoft support)."},
		{"unknownFutureValue", "a1b2c3d4-0000-4000-8000-fab1fab1fab1", "unknownFutureValue: most likely passthrough"},
		{"unknownFutureValue", "6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94", "Class: member."},
		{"B2B collaboration", "", "Class: guest"},
	}
	for _, c := range cases {
		rec := fmt.Sprintf(`{"id":"1","createdDateTime":"2026-10-01T00:00:00Z","userPrincipalName":"x@fabrikam.com",`+
			`"appId":"00000003-0000-0ff1-ce00-000000000000","resourceTenantId":"6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94",`+
			`"homeTenantId":%q,"crossTenantAccessType":%q,"status":{"errorCode":0}}`, c.home, c.ctat)
		var out bytes.Buffer
		if err := Explain(&out, []byte(rec), Options{}); err != nil {
			t.Fatal(err)
		}
		if s := flat(out.String()); !strings.Contains(s, c.want) {
			t.Errorf("%s/%s: want %q in:\n%s", c.ctat, c.home, c.want, s)
		}
	}
}

// TestSignInTenants checks that --tenant decides what "ours" is for a
// sign-in, as for a UAL record.
func TestSignInTenants(t *testing.T) {
	both := Options{OurTenants: []string{"6E4B2C1A-7F3D-4E8B-9A15-3C2D8F0B7E94", " b2c3d4e5-0000-4000-8000-adadadadadad "}}
	s := explainFile(t, "testdata/signin-graph-interrupted-50140.json", both)
	for _, w := range []string{"Class: pass-through.", "It is our tenant (--tenant): the account belongs to this tenant",
		"one of the tenants given with --tenant"} {
		if !strings.Contains(s, w) {
			// crossTenantAccessType passthrough keeps it pass-through even
			// when its home tenant is declared ours (rule 3).
			t.Errorf("want %q in:\n%s", w, s)
		}
	}
	s = explainFile(t, "testdata/signin-graph-member.json", Options{OurTenants: []string{"11111111-2222-4333-8444-555555555555"}})
	if !strings.Contains(s, "resourceTenantId is not one of the tenants given with --tenant, so outsider triage leaves it out") {
		t.Errorf("want the record left out:\n%s", s)
	}
	// Log Analytics without ResourceTenantId takes AADTenantId.
	s = explainFile(t, "testdata/signin-la-row-guest.json", Options{})
	if !strings.Contains(s, "It is not our tenant (AADTenantId)") {
		t.Errorf("want AADTenantId as our tenant:\n%s", s)
	}
}

// TestDetect checks which log a JSON object is read as.
func TestDetect(t *testing.T) {
	cases := []struct {
		in   string
		want Log
	}{
		{`{"CreationTime":"2026-01-01T00:00:00","Operation":"UserLoggedIn"}`, LogUAL},
		{`{"AuditData":{}}`, LogUAL},
		{`{"id":"1","createdDateTime":"2026-01-01T00:00:00Z","auditData":"{}","operation":"x"}`, LogUAL},
		{`{"id":"1","createdDateTime":"2026-01-01T00:00:00Z","userPrincipalName":"a@b.c"}`, LogSignIn},
		{`{"time":"2026-01-01T00:00:00Z","category":"SignInLogs","properties":{}}`, LogSignIn},
		{`{"TimeGenerated":"2026-01-01T00:00:00Z","UserPrincipalName":"a@b.c","ResultType":"0","Identity":"A"}`, LogSignIn},
		{`{"Id":"1","UserId":"a@b.c"}`, LogUAL},
		{`{"foo":1}`, LogUAL},
	}
	for _, c := range cases {
		v, err := parseJSON([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := detect(v); got != c.want {
			t.Errorf("detect(%s) = %d, want %d", c.in, got, c.want)
		}
	}
	// The caller's word wins: a sign-in read as UAL is not a UAL record.
	data, _ := os.ReadFile("testdata/signin-graph-passthrough.json")
	var out bytes.Buffer
	if err := Explain(&out, data, Options{Log: LogUAL}); err == nil || !strings.Contains(err.Error(), "not an audit record") {
		t.Errorf("forced UAL: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	data, _ = os.ReadFile("testdata/passthrough-sharepoint.json")
	if err := Explain(&out, data, Options{Log: LogSignIn}); err != nil {
		t.Fatal(err)
	}
	if s := flat(out.String()); !strings.Contains(s, "outsider triage cannot read this record (no createdDateTime)") {
		t.Errorf("a UAL record read as a sign-in should say triage skips it:\n%s", s)
	}
}

func TestSignInErrors(t *testing.T) {
	var out bytes.Buffer
	if err := Explain(&out, []byte(`{}`), Options{Log: LogSignIn}); err == nil || err.Error() != "empty object: no record" {
		t.Errorf("empty object: %v", err)
	}
	for _, header := range [][]string{nil, {"foo", "bar"}, {"Date (UTC)", "Username"}} {
		err := ExplainFields(&out, header, [][]byte{[]byte("a"), []byte("b")}, Options{})
		if err == nil {
			t.Errorf("header %q: no error", header)
		}
	}
	if out.Len() != 0 {
		t.Errorf("output written on error:\n%s", out.String())
	}
	// A short row is walked, with the decoder's complaint.
	header := []string{"Date (UTC)", "Request ID", "Username", "Status", "Sign-in error code"}
	fields := [][]byte{[]byte("2026-10-06T09:14:03Z"), []byte("r1"), []byte("a@fabrikam.com")}
	if err := ExplainFields(&out, header, fields, Options{}); err != nil {
		t.Fatal(err)
	}
	if s := flat(out.String()); !strings.Contains(s, "cannot read this record (row has 3 fields, the header 5)") {
		t.Errorf("short row:\n%s", s)
	}
	// A properties field that is not an object is said so.
	out.Reset()
	if err := Explain(&out, []byte(`{"time":"2026-01-01T00:00:00Z","category":"SignInLogs","properties":"{oops"}`), Options{}); err != nil {
		t.Fatal(err)
	}
	if s := flat(out.String()); !strings.Contains(s, "its JSON text does not parse") || !strings.Contains(s, "cannot read this record") {
		t.Errorf("bad properties:\n%s", s)
	}
}

// TestRepeatedColumn checks a header that names one column twice: the
// decoder reads the first, and the walk says so.
func TestRepeatedColumn(t *testing.T) {
	header := []string{"Date (UTC)", "Username", "Sign-in error code", "username "}
	fields := [][]byte{[]byte("2026-10-06T09:14:03Z"), []byte("first@fabrikam.com"), []byte("0"), []byte("second@evil.example")}
	var out bytes.Buffer
	if err := ExplainFields(&out, header, fields, Options{}); err != nil {
		t.Fatal(err)
	}
	s := flat(out.String())
	if !strings.HasPrefix(s, "Sign-in by first@fabrikam.com") || !strings.Contains(s, "names the column username more than once") {
		t.Errorf("repeated column:\n%s", s)
	}
}

func TestHostileSignIn(t *testing.T) {
	// ANSI escapes, a right-to-left override, a bell, C1 NEL, DEL, a
	// zero-width space, markup and invalid UTF-8 in the UPN and the user
	// agent, raw and escaped.
	rec := "{\"id\":\"9b9b9b9b-0000-4000-8000-000000000001\",\"createdDateTime\":\"2026-10-11T01:02:03Z\"," +
		"\"userPrincipalName\":\"\\u001b[31mceo\\u202e@contoso.com<script>alert(1)</script>\x1b[0m\xff\"," +
		"\"resourceTenantId\":\"6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94\",\"homeTenantId\":\"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6\"," +
		"\"crossTenantAccessType\":\"passthrough\",\"appId\":\"00000003-0000-0ff1-ce00-000000000000\"," +
		"\"userAgent\":\"Mozilla\\u001b]0;pwned\\u0007 \\u202e<script>x</script>\\u200b\\u0085\\u007f\\r\\n\\t\"," +
		"\"status\":{\"errorCode\":0,\"failureReason\":\"\x07<b>\"},\"ipAddress\":\"\\u001b[2J198.51.100.1\",\"Weird\\u001bName\":1}"
	explainHostile(t, rec)

	// The same in a CSV row, header included.
	header := []string{"Date (UTC)", "Username", "User agent", "Sign-in error code", "Evil\x1b[2J\u202eColumn", "Username\x07"}
	fields := [][]byte{[]byte("2026-10-06T09:14:03Z"), []byte("\x1b[31mceo\u202e@contoso.com<script>"),
		[]byte("UA\x1b]0;x\x07\u2028"), []byte("0"), []byte("\x00\x1b"), []byte("x")}
	var out bytes.Buffer
	if err := ExplainFields(&out, header, fields, Options{}); err != nil {
		t.Fatal(err)
	}
	checkSafe(t, out.Bytes())
	s := out.String()
	for _, want := range []string{`\x1b[31mceo\u202e@contoso.com<script>`, `UA\x1b]0;x\x07\u2028`, `Evil\x1b[2J\u202eColumn`, `Username\x07`} {
		if !strings.Contains(s, want) {
			t.Errorf("CSV output lacks %q:\n%s", want, s)
		}
	}
}

// TestSignInHostileSize feeds sign-ins built to make the walk long:
// repeated fields in every spelling, huge lists. The output must stay
// small, which also bounds the work.
func TestSignInHostileSize(t *testing.T) {
	const n = 50000
	head := `{"createdDateTime":"2026-01-01T00:00:00Z","userPrincipalName":"a@b.c"`
	cases := map[string]string{
		"repeated":   head + strings.Repeat(`,"userPrincipalName":"a","UserPrincipalName":"b"`, n) + `}`,
		"spellings":  head + strings.Repeat(`,"ipAddress":"192.0.2.1","IPAddress":"192.0.2.2","IpAddress":"x"`, n) + `}`,
		"policies":   head + `,"appliedConditionalAccessPolicies":[` + strings.Repeat(`{"displayName":"p","result":"failure"},`, n) + `{}]}`,
		"status":     head + `,"status":{` + strings.Repeat(`"errorCode":1,`, n) + `"x":1}}`,
		"events":     head + `,"riskEventTypes_v2":[` + strings.Repeat(`"x",`, n) + `"y"]}`,
		"properties": `{"time":"2026-01-01T00:00:00Z","properties":{` + strings.Repeat(`"userId":"x",`, n) + `"id":"1"}}`,
		"names":      head + strings.Repeat(`,"x":1,"y":2`, n) + `}`,
		"long":       head + `,"userAgent":"` + strings.Repeat(`\u202e`, n) + `"}`,
	}
	explainSmall(t, cases)
	header := []string{"Date (UTC)", "Username", "Status"}
	fields := [][]byte{[]byte("2026-01-01T00:00:00Z"), []byte("a@b.c"), []byte("Success")}
	for i := 0; i < n; i++ {
		header = append(header, strings.Repeat(" ", i%50)+"Username", fmt.Sprintf("c%d", i))
		fields = append(fields, []byte("x"), []byte(""))
	}
	var out bytes.Buffer
	if err := ExplainFields(&out, header, fields, Options{}); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 64<<10 {
		t.Errorf("wide CSV: %d bytes of output", out.Len())
	}
}

// addSignInSeeds gives FuzzExplain the sign-in records, forced and CSV
// modes included (see fuzzExplain).
func addSignInSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/signin-*")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		switch filepath.Ext(file) {
		case ".json":
			f.Add(append([]byte{2}, data...))
		case ".csv":
			f.Add(append([]byte{3}, data...))
		}
	}
	f.Add([]byte(`{"time":"x","properties":"{\"createdDateTime\":\"1/2/2026 3:04 PM\",\"status\":\"{\\\"errorCode\\\":\\\"50140\\\"}\"}"}`))
	f.Add([]byte(`{"TimeGenerated":"2026-01-01T00:00:00Z","Status":"{","LocationDetails":"{\"geoCoordinates\":1}","ConditionalAccessPolicies":"[1,{}]"}`))
	f.Add([]byte("\x03Date (UTC),Username,Status,Status\n\"1/2/2026, 3:04:05.6 PM\",\"a\"\"b\",Interrupted,"))
}

// fuzzExplain runs the entry point the input's first byte names: 1 Explain
// as UAL, 2 as a sign-in, 3 ExplainFields on a header line and a row;
// anything else Explain with the log detected.
func fuzzExplain(w io.Writer, data []byte) error {
	if len(data) > 0 {
		switch data[0] {
		case 1:
			return Explain(w, data[1:], Options{Log: LogUAL})
		case 2:
			return Explain(w, data[1:], Options{Log: LogSignIn})
		case 3:
			head, row, _ := bytes.Cut(data[1:], []byte("\n"))
			header, fields, err := splitCSV(head, row)
			if err != nil {
				return nil
			}
			return ExplainFields(w, header, fields, Options{OurTenants: []string{"6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94"}})
		}
	}
	return Explain(w, data, Options{})
}

// TestSignInSuccessWithoutCode: a sign-in that gives no status (so no
// error code) is counted a success, and the conclusion says it is one for
// that reason, not because of an error code 0.
func TestSignInSuccessWithoutCode(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "signin-graph-passthrough.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	delete(rec, "status")
	if data, err = json.Marshal(rec); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Explain(&out, data, Options{}); err != nil {
		t.Fatal(err)
	}
	got := flat(out.String())
	want := "Outcome: success. The record gives no error code and no failing status; outsider counts a sign-in without one as a success."
	if !strings.Contains(got, want) {
		t.Errorf("no %q in:\n%s", want, got)
	}
}

// TestSignInLocaleDateSameDayMonth: a slashed locale date whose day and
// month are the same is read without anything saying which comes first,
// and explain does not claim AM/PM or a number over 12 said so.
func TestSignInLocaleDateSameDayMonth(t *testing.T) {
	const (
		day   = localedate.SawDayFirst
		month = localedate.SawMonthFirst
	)
	for _, tc := range []struct {
		created string
		file    localedate.Evidence
		want    string
	}{
		{"5/5/2026 10:11:12", 0, "A locale date whose day and month are the same, so their order does not matter"},
		{"5/13/2026 10:11:12 PM", day, "2026-05-13T22:11:12Z. A locale date, month first (the US order: its second number is over 12"},
		{"13/5/2026 10:11:12 PM", month, "2026-05-13T22:11:12Z. A locale date, day first (a first number over 12"},
		// AM/PM says nothing: the file's other dates decide, or nothing.
		{"5/6/2026 10:11:12 PM", month, "2026-05-06T22:11:12Z. A locale date whose day and month are both 12 or less, read month first (the US order) because the file's other dates are"},
		{"5/6/2026 10:11:12 PM", day, "2026-06-05T22:11:12Z. A locale date whose day and month are both 12 or less, read day first because the file's other dates are"},
		{"5/6/2026 10:11:12 PM", 0, "with nothing to say which comes first (AM/PM does not: en-AU writes it day first)"},
		{"5/6/2026 10:11:12 PM", day | month, "in a file whose other dates show both orders"},
		// --date-order states the order where the file shows none, and
		// is outranked where it shows the other.
		{"5/6/2026 10:11:12 PM", localedate.StatedMonthFirst, "2026-05-06T22:11:12Z. A locale date whose day and month are both 12 or less, read month first (the US order) because --date-order month-first says so"},
		{"5/6/2026 10:11:12 PM", localedate.StatedDayFirst, "2026-06-05T22:11:12Z. A locale date whose day and month are both 12 or less, read day first because --date-order day-first says so"},
		{"5/6/2026 10:11:12 PM", day | localedate.StatedMonthFirst, "2026-06-05T22:11:12Z. A locale date whose day and month are both 12 or less, read day first because the file's other dates are: some have a first number over 12 (or dots) and none a second (they outrank --date-order month-first)"},
		{"5/6/2026 10:11:12 PM", 0, "--date-order day-first or month-first states the order the file was written in"},
		{"5/6/2026 10:11:12 PM", day | month | localedate.StatedDayFirst, "nor does --date-order decide"},
	} {
		rec := `{"id":"1","createdDateTime":"` + tc.created + `","userPrincipalName":"x@fabrikam.com"}`
		var out bytes.Buffer
		if err := Explain(&out, []byte(rec), Options{Dates: tc.file}); err != nil {
			t.Fatal(err)
		}
		if got := flat(out.String()); !strings.Contains(got, tc.want) {
			t.Errorf("%s (file %d): no %q in:\n%s", tc.created, tc.file, tc.want, got)
		}
	}
}
