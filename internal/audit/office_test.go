package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// officeCSVFixture reads testdata/office/<name>: its header, rows and
// their columns.
func officeCSVFixture(t testing.TB, name string) (header []string, rows [][][]byte, cols *OfficeColumns) {
	t.Helper()
	data, err := os.ReadFile("testdata/office/" + name)
	if err != nil {
		t.Fatal(err)
	}
	header, rows = csvRows(t, bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if cols, err = NewOfficeColumns(header); err != nil {
		t.Fatal(err)
	}
	return header, rows, cols
}

// officeJSONFixture reads the objects of testdata/office/az-cli.json.
func officeJSONFixture(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/office/az-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	return officeObjects(t, data)
}

// officeObjects splits a JSON array of objects into their texts.
func officeObjects(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var objs []json.RawMessage
	if err := json.Unmarshal(data, &objs); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// TestDecodeOfficeGolden decodes the OfficeActivity fixtures (written from
// the table's documented columns and the portal export's header): the CSV
// rows by their header, the JSON objects by their keys.
func TestDecodeOfficeGolden(t *testing.T) {
	testutil.GoldenFiles(t, "testdata/office", []string{".json", ".csv"}, 3, func(t *testing.T, f string, data []byte) []byte {
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		var d Decoder
		var got strings.Builder
		if filepath.Ext(f) == ".json" {
			for i, obj := range officeObjects(t, data) {
				var ev Event
				if err := d.DecodeOfficeKeep(obj, &ev); err != nil {
					t.Fatalf("object %d: %v", i+1, err)
				}
				fmt.Fprintf(&got, "--- object %d\n%s", i+1, dump(&ev))
			}
		} else {
			decodeCSV(t, &d, data, NewOfficeColumns, d.DecodeOfficeFieldsKeep, func(line int, ev *Event) {
				fmt.Fprintf(&got, "--- row %d\n%s", line, dump(ev))
			})
		}
		return []byte(got.String())
	})
}

// TestOfficeShapesAgree: the portal's CSV rows and the same rows as JSON
// objects (az CLI: ISO times, one Actor as an array rather than its text)
// decode to the same events; and each reads as the UAL record it came from.
func TestOfficeShapesAgree(t *testing.T) {
	_, rows, cols := officeCSVFixture(t, "portal.csv")
	objs := officeJSONFixture(t)
	if len(objs) != len(rows) {
		t.Fatalf("%d objects, %d rows", len(objs), len(rows))
	}
	var d Decoder
	for i := range rows {
		var a, b Event
		if err := d.DecodeOfficeFieldsKeep(cols, rows[i], &a); err != nil {
			t.Fatal(err)
		}
		if err := d.DecodeOfficeKeep(objs[i], &b); err != nil {
			t.Fatal(err)
		}
		if da, db := dump(&a), dump(&b); da != db {
			t.Errorf("row %d: CSV and JSON differ:\n%s\n%s", i+2, da, db)
		}
	}
	// The sign-in row reads as its UAL record: Actor Unknown, the
	// foreign ActorContextId, the sign-in log's twin ids, a success.
	const ual = `{"CreationTime":"2021-04-28T15:12:09","Id":"3ab19f8d-6e5c-4b4a-8f3e-d4e5f6a7b8c9","Operation":"UserLoggedIn",` +
		`"OrganizationId":"6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94","RecordType":15,"ResultStatus":"Success",` +
		`"UserKey":"10037FFEA1B2C3D5@fabrikam.com","UserType":0,"Workload":"AzureActiveDirectory","ClientIP":"85.203.21.17",` +
		`"ObjectId":"00000003-0000-0ff1-ce00-000000000000","UserId":"pilar.pinilla@fabrikam.com",` +
		`"ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"},{"Name":"UserAgent","Value":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"},{"Name":"RequestType","Value":"OAuth2:Authorize"}],` +
		`"Actor":[{"ID":"Unknown","Type":0},{"ID":"pilar.pinilla@fabrikam.com","Type":5}],"ActorContextId":"b2c3d4e5-0000-4000-8000-fafafafafafa",` +
		`"ActorIpAddress":"85.203.21.17","InterSystemsId":"9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D","IntraSystemId":"3F2E1D0C-9B8A-4776-8554-433221100FED"}`
	var fromUAL, fromOffice Event
	if err := d.Decode([]byte(ual), &fromUAL); err != nil {
		t.Fatal(err)
	}
	if err := d.DecodeOfficeFieldsKeep(cols, rows[3], &fromOffice); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(&fromUAL), dump(&fromOffice); a != b {
		t.Errorf("the OfficeActivity row and its UAL record differ:\n%s\n%s", b, a)
	}
}

func TestOfficeColumnsErrors(t *testing.T) {
	for _, c := range []struct {
		header []string
		want   string
	}{
		{[]string{"OfficeWorkload", "UserId"}, "no time (TimeGenerated or Start_Time), no Operation column"},
		{[]string{"TimeGenerated [UTC]", "UserId"}, "no Operation column"},
		{[]string{"Operation", "ElevationTime [UTC]"}, "no time (TimeGenerated or Start_Time) column"},
	} {
		_, err := NewOfficeColumns(c.header)
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("%q: %v, want ...%s", c.header, err, c.want)
		}
	}
	if _, err := NewOfficeColumns([]string{"\ufeffStart_Time [UTC]", " operation "}); err != nil {
		t.Errorf("BOM, spaces, case: %v", err)
	}
}

// TestDecodeOfficeErrors: what makes a row unreadable, and what does not.
func TestDecodeOfficeErrors(t *testing.T) {
	cols, err := NewOfficeColumns([]string{"TimeGenerated [UTC]", "Operation", "Actor", "ExtendedProperties", "UserId"})
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	for _, c := range []struct {
		row  []string
		want string
	}{
		{[]string{"", "FileAccessed", "", "", "x"}, "no TimeGenerated"},
		{[]string{"4/31/2021, 3:05:26.000 PM", "FileAccessed", "", "", "x"}, `TimeGenerated "4/31/2021, 3:05:26.000 PM" is not a time`},
		{[]string{"2021-04-28T15:05:26Z", "UserLoggedIn", `[{"ID":"Unknown",`, "", "x"}, "Actor: "},
		{[]string{"2021-04-28T15:05:26Z", "UserLoggedIn", "", `[{"Name":1}]x`, "x"}, "ExtendedProperties: unexpected"},
		{[]string{"2021-04-28T15:05:26Z", "x"}, "row has 2 fields, the header 5"},
		// Text that is not an array says nothing the decoder reads.
		{[]string{"2021-04-28T15:05:26Z", "UserLoggedIn", "pilar@fabrikam.com", "n/a", "x"}, ""},
	} {
		fields := make([][]byte, len(c.row))
		for i, f := range c.row {
			fields[i] = []byte(f)
		}
		var ev Event
		err := d.DecodeOfficeFieldsKeep(cols, fields, &ev)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.row, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want %q", c.row, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{``, "empty record"},
		{`[]`, "not a JSON object"},
		{`{"TimeGenerated":"2021-04-28T15:05:26Z"`, "truncated"},
		{`{"TimeGenerated":"2021-04-28T15:05:26Z"} x`, "after the record"},
		{`{"Operation":"x"}`, "no TimeGenerated"},
		{`{"TimeGenerated":"2021-04-28T15:05:26Z","Actor":[{"ID":"Unknown","Type":0}],"RecordType":15,"UserType":"Guest"}`, ""},
	} {
		var ev Event
		err := d.DecodeOfficeKeep([]byte(c.in), &ev)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.want == "" && (!ev.ActorUnknown || ev.RecordType != 15 || ev.UserType != 10):
			t.Errorf("%s: %+v", c.in, ev)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

func TestEnumNames(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"SharePointFileOperation", 6}, {"sharepointfileoperation", 6}, {"AzureActiveDirectoryStsLogon", 15},
		{"50", 50}, {" 15 ", 15}, {"Yammer", 22}, {"NoSuchType", -1}, {"", -1}, {"12345678901", -1},
		{strings.Repeat("a", 100), -1},
	} {
		if got := enumValue([]byte(c.in), RecordTypeNumber); got != c.want {
			t.Errorf("RecordType %q = %d, want %d", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want int
	}{{"Regular", 0}, {"Admin", 2}, {"DcAdmin", 3}, {"System", 4}, {"Application", 5}, {"guest", 10}, {"10", 10}, {"Member", -1}} {
		if got := enumValue([]byte(c.in), UserTypeNumber); got != c.want {
			t.Errorf("UserType %q = %d, want %d", c.in, got, c.want)
		}
	}
	// Every documented record type is found by its own name.
	for n, name := range recordTypes {
		if got := RecordTypeNumber([]byte(name)); got != n && recordTypes[got] != name {
			t.Errorf("%s: %d, want %d", name, got, n)
		}
	}
}

// TestRowFields: a query API row's values as the fields a CSV row gives.
func TestRowFields(t *testing.T) {
	var d Decoder
	for _, c := range []struct {
		in   string
		want []string // "<nil>" for null
		err  string
	}{
		{`["a", 1, -2.5e3, true, false, null, "", "q\"\u00e9\n", {"x":[1]}, [1,2]]`,
			[]string{"a", "1", "-2.5e3", "true", "false", "<nil>", "", "q\"é\n", `{"x":[1]}`, "[1,2]"}, ""},
		{` [ ] `, []string{}, ""},
		{`{}`, nil, "not a JSON array"},
		{`["a",`, nil, "truncated"},
		{`["a" "b"]`, nil, "expected ',' or ']'"},
		{`["a"] ["b"]`, nil, "after the row"},
		{``, nil, "empty row"},
	} {
		got, err := d.RowFieldsKeep([]byte(c.in), nil)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		var s []string
		for _, f := range got {
			if f == nil {
				s = append(s, "<nil>")
			} else {
				s = append(s, string(f))
			}
		}
		if len(s) != len(c.want) || (len(s) > 0 && !reflect.DeepEqual(s, c.want)) {
			t.Errorf("%s: %q, want %q", c.in, s, c.want)
		}
	}
}

// TestDecodeOfficeNoAlloc: the OfficeActivity decoders allocate nothing
// per record once the arena has grown.
func TestDecodeOfficeNoAlloc(t *testing.T) {
	_, rows, cols := officeCSVFixture(t, "portal.csv")
	objs := officeJSONFixture(t)
	var err error
	row := []byte(`["2021-04-28T15:05:26Z","FileAccessed","a\"b",null,1]`)
	var d Decoder
	var ev Event
	var fields [][]byte
	run := func() {
		d.ResetArena()
		for _, r := range rows {
			if err := d.DecodeOfficeFieldsKeep(cols, r, &ev); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range objs {
			if err := d.DecodeOfficeKeep(o, &ev); err != nil {
				t.Fatal(err)
			}
		}
		if fields, err = d.RowFieldsKeep(row, fields); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%.1f allocations per run", n)
	}
}

// FuzzDecodeOffice: any JSON object never panics the OfficeActivity
// decoder, and a decoded one has a time and reads as a UAL record.
func FuzzDecodeOffice(f *testing.F) {
	for _, o := range officeJSONFixture(f) {
		f.Add(o)
	}
	f.Add([]byte(`{"TimeGenerated":"4/28/2021, 3:05:26.000 PM","Actor":"[{\"ID\":\"Unknown\"}]","ExtendedProperties":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return
		}
		var d Decoder
		var ev Event
		if err := d.DecodeOfficeKeep(data, &ev); err == nil {
			if ev.Time == 0 || ev.Kind != KindUAL {
				t.Fatalf("decoded without a time or as %v: %+v", ev.Kind, ev)
			}
		}
	})
}

// FuzzRowFields holds RowFieldsKeep to encoding/json: for a JSON array of
// scalars, each field is the string's text, the number or literal as
// written, nil for null; and RowFieldsKeep never panics on anything.
func FuzzRowFields(f *testing.F) {
	f.Add([]byte(`["a", 1, -2.5e3, true, false, null, "", "q\"\u00e9\n\ud83d\ude00"]`))
	f.Add([]byte(`[{"a":[1,{"b":"]"}]}, "x"]`))
	f.Add([]byte(`["\ud800", "\\"]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		fields, err := d.RowFieldsKeep(data, nil)
		if !utf8.Valid(data) {
			return
		}
		var vals []json.RawMessage
		if json.Unmarshal(data, &vals) != nil {
			return
		}
		if err != nil {
			t.Fatalf("%q: encoding/json reads it, RowFieldsKeep: %v", data, err)
		}
		if len(fields) != len(vals) {
			t.Fatalf("%q: %d fields, encoding/json %d", data, len(fields), len(vals))
		}
		for i, v := range vals {
			v = bytes.TrimSpace(v)
			switch {
			case string(v) == "null":
				if fields[i] != nil {
					t.Fatalf("%q: field %d is %q, want nil", data, i, fields[i])
				}
			case v[0] == '"':
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					t.Fatal(err)
				}
				// encoding/json writes U+FFFD for a lone surrogate, as the
				// decoder does.
				if string(fields[i]) != s {
					t.Fatalf("%q: field %d is %q, encoding/json %q", data, i, fields[i], s)
				}
			default:
				if !bytes.Equal(fields[i], v) {
					t.Fatalf("%q: field %d is %q, want %q", data, i, fields[i], v)
				}
			}
		}
	})
}

// TestOfficeUAL: the UAL record OfficeUAL writes for a row (what `outsider
// explain` walks) decodes, with the UAL decoder, to the event the row
// gives; so does the one written from the row as a JSON object.
func TestOfficeUAL(t *testing.T) {
	for _, name := range []string{"portal.csv", "start-time.csv"} {
		header, rows, cols := officeCSVFixture(t, name)
		var d Decoder
		for i, row := range rows {
			js, err := OfficeUAL(header, row, 0)
			if err != nil {
				t.Fatal(err)
			}
			var want, got Event
			if err := d.DecodeOfficeFieldsKeep(cols, row, &want); err != nil {
				t.Fatal(err)
			}
			if err := d.DecodeKeep(js, &got); err != nil {
				t.Fatalf("%s row %d: %s: %v", name, i+2, js, err)
			}
			if a, b := dump(&want), dump(&got); a != b {
				t.Errorf("%s row %d: %s\nthe row:\n%s\nits UAL record:\n%s", name, i+2, js, a, b)
			}
		}
	}
	var d Decoder
	for i, obj := range officeJSONFixture(t) {
		header, fields, err := OfficeObjectFields(obj)
		if err != nil {
			t.Fatal(err)
		}
		js, err := OfficeUAL(header, fields, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want, got Event
		if err := d.DecodeOfficeKeep(obj, &want); err != nil {
			t.Fatal(err)
		}
		if err := d.DecodeKeep(js, &got); err != nil {
			t.Fatalf("object %d: %s: %v", i+1, js, err)
		}
		if a, b := dump(&want), dump(&got); a != b {
			t.Errorf("object %d: %s\nthe object:\n%s\nits UAL record:\n%s", i+1, js, a, b)
		}
	}
	if _, err := OfficeUAL([]string{"a", "b"}, [][]byte{[]byte("x")}, 0); err == nil {
		t.Error("a row shorter than its header gives a record")
	}
}
