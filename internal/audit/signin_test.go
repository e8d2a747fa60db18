package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// dumpSignIn renders the common fields (dump) and the sign-in fields.
func dumpSignIn(ev *Event) string {
	var b strings.Builder
	b.WriteString(dump(ev))
	q := func(k string, v []byte) {
		if v != nil {
			fmt.Fprintf(&b, "%s: %q\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Kind: %v\n", ev.Kind)
	q("SignInID", ev.SignInID)
	q("CorrelationID", ev.CorrelationID)
	q("CrossTenantAccessType", ev.CrossTenantAccessType)
	q("UserTypeName", ev.UserTypeName)
	q("Country", ev.Country)
	q("State", ev.State)
	q("City", ev.City)
	q("ConditionalAccessStatus", ev.ConditionalAccessStatus)
	q("RiskLevel", ev.RiskLevel)
	q("ClientApp", ev.ClientApp)
	q("AppName", ev.AppName)
	q("HomeTenantName", ev.HomeTenantName)
	q("FailureReason", ev.FailureReason)
	if ev.Interactive != nil {
		fmt.Fprintf(&b, "Interactive: %v\n", *ev.Interactive)
	} else {
		b.WriteString("Interactive: unknown\n")
	}
	return b.String()
}

// csvRows splits a small CSV file (header and rows, no field spanning
// lines) with source.CSVFields.
func csvRows(t testing.TB, data []byte) (header []string, rows [][][]byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(line) == 0 {
			continue
		}
		fields, _, err := source.CSVFields(bytes.Clone(line), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header == nil {
			for _, f := range fields {
				header = append(header, string(f))
			}
			continue
		}
		rows = append(rows, fields)
	}
	return header, rows
}

// fileDates is what package source's survey finds in a small CSV: what
// the locale dates of its time columns (source.DateColumns) show of their
// order. TestLocaleDatesPerFile in package record holds the survey to
// the columns the decoders read.
func fileDates(header []string, rows [][][]byte) localedate.Evidence {
	var e localedate.Evidence
	for _, c := range source.DateColumns(header, source.Auto) {
		for _, r := range rows {
			if c < len(r) {
				e |= localedate.Of(r[c])
			}
		}
	}
	return e
}

// decodeCSV decodes every row of a small CSV file with the columns newCols
// reads from its header and decode, and hands each event to each with its
// line number: the UAL's and the sign-in log's CSVs are read alike, the
// file's locale dates surveyed first as package source does.
func decodeCSV[C any](t *testing.T, d *Decoder, data []byte, newCols func([]string) (C, error), decode func(C, [][]byte, *Event) error, each func(line int, ev *Event)) {
	t.Helper()
	header, rows := csvRows(t, data)
	d.SetDates(fileDates(header, rows))
	cols, err := newCols(header)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		var ev Event
		if err := decode(cols, row, &ev); err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
		each(i+2, &ev)
	}
}

// decodeSignInText decodes one sign-in written as a JSON record, or as a
// CSV header and rows (the first row, read by what the dates of them all
// show).
func decodeSignInText(t *testing.T, d *Decoder, in string, ev *Event) error {
	t.Helper()
	if strings.HasPrefix(in, "{") {
		d.SetDates(0)
		return d.DecodeSignIn([]byte(in), ev)
	}
	header, rows := csvRows(t, []byte(in))
	d.SetDates(fileDates(header, rows))
	cols, err := NewSignInColumns(header)
	if err != nil {
		return err
	}
	return d.DecodeSignInFieldsKeep(cols, rows[0], ev)
}

func TestDecodeSignInGolden(t *testing.T) {
	testutil.GoldenFiles(t, "testdata/signins", []string{".json", ".csv"}, 10, func(t *testing.T, f string, data []byte) []byte {
		var d Decoder
		var got string
		if filepath.Ext(f) == ".json" {
			var ev Event
			if err := d.DecodeSignIn(data, &ev); err != nil {
				t.Fatalf("decode: %v", err)
			}
			got = dumpSignIn(&ev)
		} else {
			decodeCSV(t, &d, data, NewSignInColumns, d.DecodeSignInFieldsKeep, func(_ int, ev *Event) { got += dumpSignIn(ev) })
		}
		return []byte(got)
	})
}

// TestDecodeSignInShapesAgree: one sign-in written as a Graph object, an
// Event Hub record, a Log Analytics row (dynamic columns as objects and as
// JSON text) and the two CSVs decodes to the same facts.
func TestDecodeSignInShapesAgree(t *testing.T) {
	const (
		graph  = `{"id":"ABC-1","createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"Pilar@Fabrikam.com","appId":"00000003-0000-0FF1-CE00-000000000000","ipAddress":"203.0.113.45","homeTenantId":"AAAA","homeTenantName":"Fabrikam, Inc.","resourceTenantId":"BBBB","crossTenantAccessType":"passthrough","userType":"member","status":{"errorCode":50140,"failureReason":"KMSI"},"location":{"city":"Madrid","state":"Madrid","countryOrRegion":"ES"},"conditionalAccessStatus":"notApplied","riskLevelDuringSignIn":"none","clientAppUsed":"Browser","appDisplayName":"SharePoint","correlationId":"CORR","userAgent":"UA","isInteractive":true}`
		eh     = `{"time":"2026-10-06T09:14:03Z","category":"SignInLogs","tenantId":"BBBB","resultType":"50140","callerIpAddress":"203.0.113.45","correlationId":"CORR","properties":{"id":"ABC-1","createdDateTime":"2026-10-06T09:14:03.0000000+00:00","userPrincipalName":"Pilar@Fabrikam.com","appId":"00000003-0000-0ff1-ce00-000000000000","homeTenantId":"AAAA","homeTenantName":"Fabrikam, Inc.","resourceTenantId":"BBBB","crossTenantAccessType":"passthrough","userType":"Member","status":{"errorCode":50140,"failureReason":"KMSI"},"location":{"city":"Madrid","state":"Madrid","countryOrRegion":"ES"},"conditionalAccessStatus":"notApplied","riskLevelDuringSignIn":"none","clientAppUsed":"Browser","appDisplayName":"SharePoint","correlationId":"CORR","userAgent":"UA"}}`
		laObj  = `{"TimeGenerated":"2026-10-06T09:14:05Z","Category":"SignInLogs","Id":"abc-1","CreatedDateTime":"2026-10-06T09:14:03Z","UserPrincipalName":"Pilar@Fabrikam.com","AppId":"00000003-0000-0ff1-ce00-000000000000","IPAddress":"203.0.113.45","HomeTenantId":"aaaa","HomeTenantName":"Fabrikam, Inc.","ResourceTenantId":"bbbb","CrossTenantAccessType":"passthrough","UserType":"Member","ResultType":"50140","Status":{"errorCode":50140,"failureReason":"KMSI"},"LocationDetails":{"city":"Madrid","state":"Madrid","countryOrRegion":"ES"},"ConditionalAccessStatus":"notApplied","RiskLevelDuringSignIn":"none","ClientAppUsed":"Browser","AppDisplayName":"SharePoint","CorrelationId":"corr","UserAgent":"UA","IsInteractive":"True"}`
		laStr  = `{"TimeGenerated":"2026-10-06T09:14:05Z","Category":"SignInLogs","Id":"abc-1","CreatedDateTime":"2026-10-06T09:14:03Z","UserPrincipalName":"Pilar@Fabrikam.com","AppId":"00000003-0000-0ff1-ce00-000000000000","IPAddress":"203.0.113.45","HomeTenantId":"aaaa","HomeTenantName":"Fabrikam, Inc.","AADTenantId":"bbbb","TenantId":"workspace","CrossTenantAccessType":"passthrough","UserType":"Member","ResultType":"50140","Status":"{\"errorCode\":50140,\"failureReason\":\"KMSI\"}","LocationDetails":"{\"city\":\"Madrid\",\"state\":\"Madrid\",\"countryOrRegion\":\"ES\"}","ConditionalAccessStatus":"notApplied","RiskLevelDuringSignIn":"none","ClientAppUsed":"Browser","AppDisplayName":"SharePoint","CorrelationId":"corr","UserAgent":"UA"}`
		portal = "Date (UTC),Request ID,User agent,Correlation ID,Username,User type,Cross tenant access type,Application,Application ID ,Resource tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Conditional Access\n" +
			"2026-10-06T09:14:03Z,abc-1,UA,corr,Pilar@Fabrikam.com,Member,Passthrough,SharePoint,00000003-0000-0ff1-ce00-000000000000,bbbb,aaaa,\"Fabrikam, Inc.\",203.0.113.45,\"Madrid, Madrid, ES\",Interrupted,50140,KMSI,Browser,Not Applied\n"
		laCSV = "TenantId,TimeGenerated [UTC],Category,Id,UserPrincipalName,AppId,IPAddress,HomeTenantId,HomeTenantName,AADTenantId,CrossTenantAccessType,UserType,ResultType,Status,LocationDetails,ConditionalAccessStatus,RiskLevelDuringSignIn,ClientAppUsed,AppDisplayName,CorrelationId,UserAgent,IsInteractive\n" +
			"ws,\"10/6/2026, 9:14:03.000 AM\",SignInLogs,abc-1,Pilar@Fabrikam.com,00000003-0000-0ff1-ce00-000000000000,203.0.113.45,aaaa,\"Fabrikam, Inc.\",bbbb,passthrough,Member,50140,\"{\"\"errorCode\"\":50140,\"\"failureReason\"\":\"\"KMSI\"\"}\",\"{\"\"city\"\":\"\"Madrid\"\",\"\"state\"\":\"\"Madrid\"\",\"\"countryOrRegion\"\":\"\"ES\"\"}\",notApplied,none,Browser,SharePoint,corr,UA,True\n" +
			// Another sign-in of the export: its date can only be month
			// first, so the file's are.
			"ws,\"10/13/2026, 9:14:03.000 PM\",SignInLogs,abc-2,x@y.z,,,,,,,,0,,,,,,,,,\n"
	)
	var d Decoder
	decode := func(name, in string) string {
		var ev Event
		if err := decodeSignInText(t, &d, in, &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The facts every shape carries.
		return fmt.Sprintf("id=%s t=%s upn=%s user=%s app=%s ip=%v home=%s org=%s ctat=%s unknown=%v type=%d/%s err=%s outcome=%v city=%s state=%s country=%s ca=%s client=%s appname=%s home-name=%s corr=%s ua=%s fail=%s",
			ev.SignInID, FormatTime(ev.Time), ev.UserID, ev.User, ev.AppID, ev.IPList(), ev.ActorTenant, ev.OrgID,
			ev.CrossTenantAccessType, ev.ActorUnknown, ev.UserType, ev.UserTypeName, ev.ErrorNumber, ev.Outcome(),
			ev.City, ev.State, ev.Country, ev.ConditionalAccessStatus, ev.ClientApp, ev.AppName, ev.HomeTenantName, ev.CorrelationID, ev.UserAgent, ev.FailureReason)
	}
	want := decode("graph", graph)
	if !strings.Contains(want, " home-name=Fabrikam, Inc. ") {
		t.Fatalf("graph: the home tenant's name is not read: %s", want)
	}
	for name, in := range map[string]string{"eventhub": eh, "la-objects": laObj, "la-strings": laStr, "portal-csv": portal, "la-csv": laCSV} {
		if got := decode(name, in); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestDecodeSignInErrors(t *testing.T) {
	const ok = `"createdDateTime":"2026-10-06T09:14:03Z"`
	cases := []errCase{
		{"empty", ``, "empty record"},
		{"array", `[{}]`, "not a JSON object"},
		{"truncated", `{` + ok + `,"userPrincipalName":"a@b`, "unterminated string"},
		{"truncated-object", `{` + ok + `,"status":{"errorCode":0`, "status: truncated object"},
		{"truncated-record", `{` + ok + `,"appId":"x"`, "truncated record"},
		{"no-time", `{"id":"x","userPrincipalName":"a@b.c"}`, "no createdDateTime"},
		{"bad-time", `{"createdDateTime":"last tuesday"}`, `createdDateTime "last tuesday" is not a time`},
		{"bad-time-la", `{"TimeGenerated":"2026-02-30T00:00:00Z"}`, `TimeGenerated "2026-02-30T00:00:00Z" is not a time`},
		{"bad-time-eh", `{"time":"x","properties":{}}`, `time "x" is not a time`},
		{"wrong-type-time", `{"createdDateTime":20261006}`, "field createdDateTime is a number, not a string"},
		{"wrong-type-upn", `{` + ok + `,"UserPrincipalName":["a"]}`, "field UserPrincipalName is an array, not a string"},
		{"wrong-type-id", `{` + ok + `,"id":{}}`, "field id is an object, not a string"},
		{"trailing", `{` + ok + `} x`, `unexpected "x" after the record`},
		{"bad-status-text", `{` + ok + `,"Status":"{\"errorCode\":"}`, "status: truncated record"},
		{"bad-location-text", `{` + ok + `,"LocationDetails":"{\"city\" 1}"}`, "LocationDetails: expected ':'"},
		{"not-signin-category", `{"time":"2026-10-06T09:14:03Z","category":"AuditLogs","properties":{}}`, `category "AuditLogs" is not a sign-in log`},
		{"missing-comma", `{` + ok + ` "id":"x"}`, "expected ',' or '}'"},
		{"mismatched", `{` + ok + `,"deviceDetail":{"a":[}]}`, "mismatched"},
		{"deep", `{` + ok + `,"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, "nested deeper than 512"},
		{"bad-escape", `{` + ok + `,"userPrincipalName":"a\qb"}`, `bad escape \q`},
	}
	var d Decoder
	wantErrors(t, cases, d.DecodeSignIn)
}

// TestDecodeSignInLenient: wrong types in fields that matter little cost
// the field, not the record.
func TestDecodeSignInLenient(t *testing.T) {
	in := `{"createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"a@b.c","appId":5,"ipAddress":["1.2.3.4"],"status":"weird","location":7,"isInteractive":"maybe","homeTenantId":null,"signInEventTypes":{"a":1},"riskLevelDuringSignIn":false,"userType":{"x":1},"crossTenantAccessType":1}`
	var d Decoder
	var ev Event
	if err := d.DecodeSignIn([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.AppID != nil || ev.NIPs != 0 || ev.ActorTenant != nil || ev.Interactive != nil || ev.UserType != 0 ||
		string(ev.ResultStatusDetail) != "weird" || ev.Outcome() != Failure || string(ev.User) != "a@b.c" {
		t.Errorf("unexpected decode:\n%s", dumpSignIn(&ev))
	}
}

func TestSignInColumns(t *testing.T) {
	if _, err := NewSignInColumns([]string{"Date (UTC)", "Request ID", "Status"}); err == nil || !strings.Contains(err.Error(), "no user (Username or UserPrincipalName) column") {
		t.Errorf("header without a user: %v", err)
	}
	if _, err := NewSignInColumns([]string{"Foo", "Bar"}); err == nil || !strings.Contains(err.Error(), "no time (Date (UTC), CreatedDateTime or TimeGenerated), no user") {
		t.Errorf("unknown header: %v", err)
	}
	cols, err := NewSignInColumns([]string{"\ufeffDate (UTC)", " Username ", "Sign-in error code"})
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	var ev Event
	for _, c := range []struct {
		row  []string
		want string
	}{
		{[]string{"2026-10-06T09:14:03Z", "a@b.c"}, "row has 2 fields, the header 3"},
		{[]string{"", "a@b.c", "0"}, "no createdDateTime"},
		{[]string{"31/13/2026 10:00", "a@b.c", "0"}, `Date (UTC) "31/13/2026 10:00" is not a time`},
		{[]string{"03/04/2026 10:00", "a@b.c", "0"}, `Date (UTC) "03/04/2026 10:00" is ambiguous: day and month are both 12 or less`},
		{[]string{"2026-10-06T09:14:03Z", "a@b.c", "\xff"}, "column 3: invalid UTF-8"},
	} {
		fields := make([][]byte, len(c.row))
		for i, f := range c.row {
			fields[i] = []byte(f)
		}
		err := d.DecodeSignInFieldsKeep(cols, fields, &ev)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.row, err, c.want)
		}
	}
	// Extra fields are ignored; US dates with AM/PM are UTC.
	fields := [][]byte{[]byte("12/31/2026 11:59:59 PM"), []byte("A@B.C"), []byte("50126"), []byte("extra")}
	if err := d.DecodeSignInFieldsKeep(cols, fields, &ev); err != nil {
		t.Fatal(err)
	}
	if FormatTime(ev.Time) != "2026-12-31T23:59:59Z" || string(ev.User) != "a@b.c" || ev.Outcome() != Failure {
		t.Errorf("unexpected decode:\n%s", dumpSignIn(&ev))
	}
}

// TestParseLocaleTime: a locale date is read in the order it shows by
// itself, else in the one its file's other dates show, and is otherwise
// not read but said to be ambiguous (03/04/2026: 3 April in en-GB and
// en-AU, March 4 in en-US). AM/PM says nothing: en-AU and en-NZ write the
// 12-hour clock day first.
func TestParseLocaleTime(t *testing.T) {
	const (
		none  = localedate.Evidence(0)
		day   = localedate.SawDayFirst
		month = localedate.SawMonthFirst
		mixed = localedate.SawDayFirst | localedate.SawMonthFirst
	)
	for _, c := range []struct {
		in   string
		file localedate.Evidence
		want string
	}{
		// AM/PM alone: the US clock and the Australian one alike.
		{"10/5/2026, 11:12:13.456 AM", none, "ambiguous"},
		{"7/12/2026 3:05:26 PM", none, "ambiguous"},
		{"7/12/2026 3:05:26 PM", mixed, "ambiguous"},
		// ... read in the order the file's other dates show.
		{"10/5/2026, 11:12:13.456 AM", month, "2026-10-05T11:12:13.456Z month-first by-file"},
		{"10/5/2026 12:00:00 AM", month, "2026-10-05T00:00:00Z month-first by-file"},
		{"10/5/2026 12:30 PM", month, "2026-10-05T12:30:00Z month-first by-file"},
		{"7/12/2026 3:05:26 PM", day, "2026-12-07T15:05:26Z day-first by-file"},
		{"7/12/2026 3:05:26 pm", month, "2026-07-12T15:05:26Z month-first by-file"},
		{"06/10/2026 09:14", day, "2026-10-06T09:14:00Z day-first by-file"},
		// A second number over 12 can only be a day, a first one over
		// 12 only a day, whatever the file's other dates show.
		{"2/29/2028 1:00:00 pm", none, "2028-02-29T13:00:00Z month-first"},
		{"2/29/2028 1:00:00 pm", day, "2028-02-29T13:00:00Z month-first"},
		{"1/13/2026 13:14", mixed, "2026-01-13T13:14:00Z month-first"},
		{"13/1/2026 1:00:00 PM", none, "2026-01-13T13:00:00Z day-first"},
		{"13/1/2026 1:00:00 PM", month, "2026-01-13T13:00:00Z day-first"},
		{"31/12/2026 10:00", none, "2026-12-31T10:00:00Z day-first"},
		{"28/04/2021, 15:05:26.25", none, "2021-04-28T15:05:26.25Z day-first"},
		{"7/7/2026 07:07", none, "2026-07-07T07:07:00Z month-first"},
		{"7/7/2026 07:07", mixed, "2026-07-07T07:07:00Z month-first"},
		// Dots: day first (de-DE, ru-RU...).
		{"06.10.2026 09:14", none, "2026-10-06T09:14:00Z day-first"},
		{"06.10.2026 09:14", month, "2026-10-06T09:14:00Z day-first"},
		{"6.1.2026 09:14:03.5", none, "2026-01-06T09:14:03.5Z day-first"},
		// Ambiguous: both 12 or less, and the file shows no one order.
		{"1/2/2026 13:14:15", none, "ambiguous"},
		{"06/10/2026 09:14", none, "ambiguous"},
		{"12/11/2026, 23:59", mixed, "ambiguous"},
		// Not times.
		{"2/29/2026 1:00:00 PM", none, "invalid"},
		{"29/2/2026 13:00", none, "invalid"},
		{"13/13/2026 1:00", none, "invalid"},
		{"1/1/2026 13:00:00 PM", none, "invalid"},
		{"1/2/2026 13:00:00 PM", day, "invalid"},
		{"1/1/2026", none, "invalid"},
		{"1/1/26 1:00", none, "invalid"},
		{"1/1/2026 1:00 XM", none, "invalid"},
		{"1/2.2026 1:00", day, "invalid"},
		{"1-2-2026 1:00", none, "invalid"},
		{"1/2/2026 25:00", month, "invalid"},
		{"2026-10-06T09:14:03Z", day, "2026-10-06T09:14:03Z iso"},
		{" 2026-10-06 09:14:03 ", none, "2026-10-06T09:14:03Z iso"},
	} {
		ns, order, byFile := signInTime([]byte(c.in), c.file)
		got := map[DateOrder]string{DateAmbiguous: "ambiguous", DateInvalid: "invalid"}[order]
		if got == "" {
			got = FormatTime(ns) + " " + map[DateOrder]string{DateISO: "iso", DateMonthFirst: "month-first", DateDayFirst: "day-first"}[order]
			if byFile {
				got += " by-file"
			}
		}
		if got != c.want {
			t.Errorf("signInTime(%q, file %d) = %q, want %q", c.in, c.file, got, c.want)
		}
	}
	// The evidence one date gives: only a valid date that shows an order.
	for in, want := range map[string]localedate.Evidence{
		"13/1/2026 1:00:00 PM": day, "06.10.2026 09:14": day, "1/13/2026 13:14": month, "7/12/2026 3:05:26 PM": none,
		"7/7/2026 07:07": none, "13/13/2026 1:00": none, "31/2/2026 10:00": none, "2026-10-06T09:14:03Z": none, "x": none,
	} {
		if got := localedate.Of([]byte(in)); got != want {
			t.Errorf("localedate.Of(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestSplitLocation(t *testing.T) {
	for in, want := range map[string]string{
		"Madrid, Madrid, ES":            "Madrid|Madrid|ES",
		"Frankfurt am Main, Hessen, DE": "Frankfurt am Main|Hessen|DE",
		"Oslo, NO":                      "Oslo||NO",
		"A, B, C, D":                    "A, B|C|D",
		"Oslo,NO":                       "Oslo||NO",
		",, US":                         "||US",
	} {
		var ev Event
		splitLocation(&ev, []byte(in))
		if got := string(ev.City) + "|" + string(ev.State) + "|" + string(ev.Country); got != want {
			t.Errorf("splitLocation(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecodeSignInNoAlloc: the common record costs no allocation once the
// arena has grown.
func TestDecodeSignInNoAlloc(t *testing.T) {
	var d Decoder
	var ev Event
	for _, f := range []string{"graph-passthrough.json", "eventhub-record.json", "la-row-dynamic-strings.json"} {
		data, err := os.ReadFile(filepath.Join("testdata/signins", f))
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := d.DecodeSignIn(data, &ev); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per record", f, allocs)
		}
	}
	data, _ := os.ReadFile("testdata/signins/portal.csv")
	header, rows := csvRows(t, data)
	cols, err := NewSignInColumns(header)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.DecodeSignInFieldsKeep(cols, rows[0], &ev); err != nil {
			t.Fatal(err)
		}
		d.ResetArena()
	})
	if allocs != 0 {
		t.Errorf("portal csv: %v allocations per row", allocs)
	}
}

// refSignIn is what encoding/json makes of a Graph signIn, for the
// differential fuzz target.
func refSignIn(data []byte) (map[string]any, bool) {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil, false
	}
	return m, true
}

// FuzzDecodeSignIn checks the sign-in decoder against encoding/json: it
// never panics, and when both accept a Graph-shaped record the main string
// fields agree (id, userPrincipalName, homeTenantId, homeTenantName,
// resourceTenantId, appId, crossTenantAccessType, status.errorCode,
// ipAddress).
func FuzzDecodeSignIn(f *testing.F) {
	testutil.AddSeedFiles(f, "testdata/signins/*.json")
	f.Add([]byte(`{"createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"a\"b\\c\u00e9\ud83d\ude00@x","status":{"errorCode":0}}`))
	f.Add([]byte(`{"TimeGenerated":"2026-10-06T09:14:03Z","Status":"{\"errorCode\":50126}","LocationDetails":"{}"}`))
	f.Add([]byte(`{"time":"2026-10-06T09:14:03Z","category":"SignInLogs","properties":"{\"id\":\"x\"}"}`))
	fuzzDecoded(f, (*Decoder).DecodeSignIn, func(t *testing.T, data []byte, ev *Event) {
		if ev.Time == 0 && !bytes.Contains(data, []byte("1970-01-01")) {
			t.Fatalf("decoded without a time: %q", data)
		}
		if bytes.Contains(data, []byte(`\u`)) || bytes.Contains(data, []byte("properties")) {
			return // escaped keys and nested records: covered by the golden tests
		}
		m, ok := refSignIn(data)
		if !ok {
			return
		}
		// Every alias the decoder accepts for a field; the comparison holds
		// when the record spells it one way only.
		str := func(aliases ...string) (string, bool, bool) {
			n, val, isStr := 0, "", false
			for _, a := range aliases {
				if v, ok := m[a]; ok {
					n++
					val, isStr = fmt.Sprint(v), false
					if s, ok := v.(string); ok {
						val, isStr = s, true
					}
				}
			}
			if n != 1 || bytes.Count(data, []byte(`"`+aliases[0]+`"`))+bytes.Count(data, []byte(`"`+aliases[len(aliases)-1]+`"`)) > 2 {
				return "", false, false
			}
			return val, isStr, true
		}
		check := func(name, got string, aliases ...string) {
			want, isStr, ok := str(aliases...)
			if !ok || !isStr || want == "" {
				return
			}
			if got != want {
				t.Errorf("%s: got %q, encoding/json says %q", name, got, want)
			}
		}
		lower := strings.ToLower
		id := string(ev.SignInID)
		if _, ok := m["id"]; !ok {
			if _, ok := m["Id"]; !ok {
				id = "" // originalRequestId
			}
		}
		if want, isStr, ok := str("id", "Id"); ok && isStr && want != "" && id != "" && id != lower(want) {
			t.Errorf("id: got %q, encoding/json says %q", id, want)
		}
		check("userPrincipalName", string(ev.UserID), "userPrincipalName", "UserPrincipalName")
		check("homeTenantName", string(ev.HomeTenantName), "homeTenantName", "HomeTenantName")
		if want, isStr, ok := str("homeTenantId", "HomeTenantId"); ok && isStr && want != "" && string(ev.ActorTenant) != lower(want) {
			t.Errorf("homeTenantId: got %q, encoding/json says %q", ev.ActorTenant, want)
		}
		if want, isStr, ok := str("resourceTenantId", "ResourceTenantId"); ok && isStr && want != "" && string(ev.OrgID) != lower(want) {
			t.Errorf("resourceTenantId: got %q, encoding/json says %q", ev.OrgID, want)
		}
		if want, isStr, ok := str("appId", "AppId"); ok && isStr && want != "" && string(ev.AppID) != lower(want) {
			t.Errorf("appId: got %q, encoding/json says %q", ev.AppID, want)
		}
		if want, isStr, ok := str("crossTenantAccessType", "CrossTenantAccessType"); ok && isStr && strings.TrimSpace(want) != "" {
			w := strings.NewReplacer(" ", "", "-", "", "_", "").Replace(lower(strings.TrimSpace(want)))
			if string(ev.CrossTenantAccessType) != w {
				t.Errorf("crossTenantAccessType: got %q, encoding/json says %q", ev.CrossTenantAccessType, want)
			}
		}
		if want, isStr, ok := str("ipAddress", "IPAddress", "IpAddress"); ok && isStr {
			a, valid := ParseIP([]byte(want))
			if valid != (ev.NIPs == 1) || valid && ev.IPs[0] != a {
				if _, eh := m["callerIpAddress"]; !eh || valid {
					t.Errorf("ipAddress: got %v, encoding/json says %q", ev.IPList(), want)
				}
			}
		}
		if st, ok := m["status"].(map[string]any); ok && bytes.Count(data, []byte(`"status"`)) == 1 && bytes.Count(data, []byte(`"errorCode"`)) == 1 {
			if code, ok := st["errorCode"].(float64); ok && code == float64(int64(code)) && !bytes.Contains(data, []byte("ResultType")) && !bytes.Contains(data, []byte("resultType")) {
				want := fmt.Sprint(int64(code))
				if isDigits(ev.ErrorNumber) && string(ev.ErrorNumber) != want && !bytes.ContainsAny(ev.ErrorNumber, ".eE") {
					// The decoder keeps the number as written (00 stays 00).
					var n int64
					fmt.Sscan(string(ev.ErrorNumber), &n)
					if n != int64(code) {
						t.Errorf("status.errorCode: got %q, encoding/json says %s", ev.ErrorNumber, want)
					}
				}
			}
		}
	})
}

// FuzzSignInCSV splits arbitrary rows under the Entra download's header
// and decodes them: it never panics, and a row that decodes has a time
// and, when its Username field is plain, that user.
func FuzzSignInCSV(f *testing.F) {
	portal, _ := os.ReadFile("testdata/signins/portal.csv")
	la, _ := os.ReadFile("testdata/signins/la.csv")
	for _, data := range [][]byte{portal, la} {
		_, rest, _ := bytes.Cut(data, []byte("\n"))
		f.Add(false, bytes.TrimRight(rest, "\r\n"))
		f.Add(true, bytes.TrimRight(rest, "\r\n"))
	}
	f.Add(false, []byte(`2026-10-06T09:14:03Z,"a""b",,,,,"u@x"`))
	f.Add(true, []byte(`"10/6/2026, 9:14:03 AM",x,"{""errorCode"":""0""}"`))
	portalHeader, _, _ := bytes.Cut(portal, []byte("\r\n"))
	laHeader, _, _ := bytes.Cut(la, []byte("\n"))
	split := func(h []byte) *SignInColumns {
		fields, _, err := source.CSVFields(h, nil, nil)
		if err != nil {
			f.Fatal(err)
		}
		names := make([]string, len(fields))
		for i, n := range fields {
			names[i] = string(n)
		}
		c, err := NewSignInColumns(names)
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	portalCols, laCols := split(portalHeader), split(laHeader)
	var d Decoder
	var dst [][]byte
	f.Fuzz(func(t *testing.T, useLA bool, row []byte) {
		cols := portalCols
		if useLA {
			cols = laCols
		}
		fields, scratch, err := source.CSVFields(row, dst, nil)
		dst = fields
		if err != nil {
			return
		}
		// Fields alias the row or the scratch text, never anything else.
		for _, fl := range fields {
			if len(fl) > len(row)+len(scratch) {
				t.Fatalf("field longer than its row: %q", fl)
			}
		}
		var ev Event
		d.ResetArena()
		if err := d.DecodeSignInFieldsKeep(cols, fields, &ev); err != nil {
			return
		}
		if ev.Time == 0 && !bytes.Contains(row, []byte("1970")) && !bytes.Contains(row, []byte("1/1/1970")) {
			t.Fatalf("row decoded without a time: %q", row)
		}
		if ev.Kind != KindSignIn || string(ev.Operation) != "SignIn" {
			t.Fatalf("not a sign-in event: %q", row)
		}
	})
}

func BenchmarkDecodeSignIn(b *testing.B) {
	data, err := os.ReadFile("testdata/signins/graph-passthrough.json")
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data, (*Decoder).DecodeSignIn)
}

// FuzzLocaleTime: a locale date is read in the one order it can have, so
// swapping the day and month of a slash date never gives another instant:
// under the file evidence swapped too, the swapped date reads the same,
// in the other order, or is ambiguous or invalid exactly when the
// original is. A date that shows an order by itself reads alike whatever
// its file shows, and one that does not is read only when its file shows
// one order.
func FuzzLocaleTime(f *testing.F) {
	for _, s := range []string{"13/10/2026 09:14", "10/13/2026 09:14", "06/10/2026 09:14", "7/7/2026 07:07",
		"28/04/2021, 15:05:26.000", "4/28/2021, 3:05:26.000 PM", "7/12/2026 3:05:26 PM", "06.10.2026 09:14", "2026-10-06T09:14:03Z"} {
		for file := range uint8(4) {
			f.Add(s, file)
		}
	}
	swapEvidence := func(e localedate.Evidence) localedate.Evidence {
		var out localedate.Evidence
		if e&localedate.SawDayFirst != 0 {
			out |= localedate.SawMonthFirst
		}
		if e&localedate.SawMonthFirst != 0 {
			out |= localedate.SawDayFirst
		}
		return out
	}
	f.Fuzz(func(t *testing.T, s string, fileBits uint8) {
		file := localedate.Evidence(fileBits & 3)
		ns, order, byFile := signInTime([]byte(s), file)
		if order >= DateAmbiguous && ns != 0 {
			t.Fatalf("%q: order %d with a time", s, order)
		}
		// The date by itself: what it shows does not depend on the file.
		ns0, order0, byFile0 := signInTime([]byte(s), 0)
		switch {
		case !byFile0 && (ns0 != ns || order0 != order || byFile):
			t.Fatalf("%q shows its order (%d) by itself, yet file %d reads it %d %s", s, order0, file, order, FormatTime(ns))
		case byFile0 && order0 != DateAmbiguous:
			t.Fatalf("%q read by an empty file's evidence: %d", s, order0)
		case byFile0 && (order < DateAmbiguous) != (file == localedate.SawDayFirst || file == localedate.SawMonthFirst):
			t.Fatalf("%q, file %d: order %d", s, file, order)
		case byFile && order == DateDayFirst && file != localedate.SawDayFirst,
			byFile && order == DateMonthFirst && file != localedate.SawMonthFirst:
			t.Fatalf("%q, file %d: read %d against the file", s, file, order)
		}
		if localedate.Of([]byte(s)) != 0 && (byFile0 || order0 >= DateAmbiguous || order0 == DateISO) {
			t.Fatalf("%q gives evidence %d but reads %d (by file %v)", s, localedate.Of([]byte(s)), order0, byFile0)
		}
		i := strings.IndexByte(s, '/')
		j := strings.LastIndexByte(s, '/')
		if i < 0 || j <= i || strings.Trim(s[:j], "0123456789/") != "" || order == DateISO {
			return
		}
		swapped := s[i+1:j] + "/" + s[:i] + s[j:]
		ns2, order2, _ := signInTime([]byte(swapped), swapEvidence(file))
		switch {
		case order < DateAmbiguous && order2 < DateAmbiguous && ns != ns2:
			t.Fatalf("%q reads %s (%d), swapped %q reads %s (%d)", s, FormatTime(ns), order, swapped, FormatTime(ns2), order2)
		case (order == DateAmbiguous) != (order2 == DateAmbiguous):
			t.Fatalf("%q order %d, swapped %q order %d", s, order, swapped, order2)
		}
	})
}
