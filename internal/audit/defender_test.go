package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// CloudAppEvents rows written from the table's reference
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table):
// RawEventData is the audit record, as an object or its JSON text.
const (
	defRecord = `{"CreationTime":"2026-10-06T09:14:03","Id":"7a1c2e3f-4b5d-4c6e-8f70-8192a3b4c5d6","Operation":"UserLoggedIn",` +
		`"OrganizationId":"6E4B2C1A-7F3D-4E8B-9A15-3C2D8F0B7E94","RecordType":15,"UserType":0,"Workload":"AzureActiveDirectory",` +
		`"ClientIP":"85.203.21.17","UserId":"Pilar.Pinilla@fabrikam.com","Actor":[{"ID":"Unknown","Type":0}],` +
		`"ActorContextId":"b2c3d4e5-0000-4000-8000-fafafafafafa","ApplicationId":"00000003-0000-0ff1-ce00-000000000000"}`
	defRowObject = `{"Timestamp":"2026-10-06T09:14:03.1234567Z","ActionType":"UserLoggedIn","IPAddress":"85.203.21.17",` +
		`"ReportId":"r1","AccountId":"x@y.z","RawEventData":` + defRecord + `}`
)

// TestDefenderRowIsTheRecord: a row whose RawEventData is a whole record
// decodes to the event the record gives, whatever shape holds it.
func TestDefenderRowIsTheRecord(t *testing.T) {
	var d Decoder
	var want Event
	if err := d.Decode([]byte(defRecord), &want); err != nil {
		t.Fatal(err)
	}
	quoted, _ := json.Marshal(defRecord)
	for name, row := range map[string]string{
		"object": defRowObject,
		"string": strings.Replace(defRowObject, defRecord, string(quoted), 1),
		"pretty": "{\n  \"RawEventData\" : " + defRecord + " ,\n  \"Timestamp\": null\n}",
	} {
		var d Decoder
		var ev Event
		if err := d.DecodeDefenderKeep([]byte(row), &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a, b := summaryOf(&ev), summaryOf(&want); a != b {
			t.Errorf("%s:\n%s\nwant\n%s", name, a, b)
		}
	}
	header := []string{"Timestamp", "ActionType", "IPAddress", "ReportId", "RawEventData"}
	c, err := NewDefenderColumns(header)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	fields := [][]byte{[]byte("2026-10-06T09:14:03Z"), []byte("x"), []byte("1.2.3.4"), []byte("r1"), []byte(defRecord)}
	if err := d.DecodeDefenderFieldsKeep(c, fields, &ev); err != nil {
		t.Fatal(err)
	}
	if a, b := summaryOf(&ev), summaryOf(&want); a != b {
		t.Errorf("csv:\n%s\nwant\n%s", a, b)
	}
}

// summaryOf prints an event's fields by content.
func summaryOf(ev *Event) string {
	b, _ := json.Marshal(ev)
	return string(b)
}

// TestDefenderFallbacks: what the record lacks comes from the row's
// columns; what it has is never overridden by them.
func TestDefenderFallbacks(t *testing.T) {
	header := []string{"Timestamp [UTC]", "ActionType", "IPAddress", "ReportId", "AccountId", "UserAgent", "RawEventData"}
	c, err := NewDefenderColumns(header)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		fields []string
		want   string // substrings of the event's JSON, or the error
		err    bool
	}{
		{"all from the row", []string{"4/28/2021, 3:05:26.000 PM", "FileAccessed", "81.2.69.160", "r1", "a@contoso.com", "UA/1", `{"RecordType":6}`},
			`"ID":"cjE=","Time":1619622326000000000,"RecordType":6,"Operation":"RmlsZUFjY2Vzc2Vk"`, false},
		{"record wins", []string{"2021-04-28T15:05:26Z", "Other", "81.2.69.1", "r1", "b@contoso.com", "UA/2",
			`{"CreationTime":"2021-04-28T15:00:00","Id":"u1","Operation":"FileAccessed","ClientIP":"81.2.69.160","UserId":"a@contoso.com","UserAgent":"UA/1"}`},
			`"ID":"dTE=","Time":1619622000000000000`, false},
		{"account id not an address", []string{"2021-04-28T15:05:26Z", "x", "", "r1", "0a1b2c3d-0000-4000-8000-000000000000", "", `{"Workload":"Exchange"}`},
			`"UserID":null`, false},
		{"ambiguous timestamp", []string{"03/04/2026 10:00", "x", "", "r1", "", "", `{"RecordType":6}`}, "ambiguous", true},
		{"no time at all", []string{"", "x", "", "r1", "", "", `{"RecordType":6}`}, "no CreationTime in RawEventData and no Timestamp", true},
		// Another connected app's event (no RecordType, Operation or
		// Workload) is read from the row's columns, not skipped.
		{"another app's event", []string{"2021-04-28T15:05:26Z", "FilePreview", "81.2.69.160", "r1", "a@contoso.com", "", `{"actor":{"email":"a@b.c"}}`},
			`"ID":"cjE=","Time":1619622326000000000,"RecordType":-1,"Operation":"RmlsZVByZXZpZXc="`, false},
		// ... and one whose ActionType reads as a tenant sign-in is not one.
		{"another app's sign-in", []string{"2021-04-28T15:05:26Z", "SignIn", "81.2.69.160", "r1", "a@contoso.com", "", `{"actor":{"email":"a@b.c"}}`},
			`"Operation":"U2lnbkluIChhbm90aGVyIGFwcCk="`, false},
		{"empty", []string{"2021-04-28T15:05:26Z", "x", "", "r1", "", "", "  "}, "RawEventData is empty", true},
		{"not JSON", []string{"2021-04-28T15:05:26Z", "x", "", "r1", "", "", "n/a"}, "RawEventData: ", true},
		{"trailing", []string{"2021-04-28T15:05:26Z", "x", "", "r1", "", "", `{"RecordType":6} x`}, "RawEventData: unexpected", true},
		{"short row", []string{"2021-04-28T15:05:26Z"}, "row has 1 fields, the header 7", true},
	} {
		var d Decoder
		var ev Event
		fields := make([][]byte, len(tc.fields))
		for i, f := range tc.fields {
			fields[i] = []byte(f)
		}
		err := d.DecodeDefenderFieldsKeep(c, fields, &ev)
		switch {
		case tc.err && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		case !tc.err && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.err && !strings.Contains(summaryOf(&ev), tc.want):
			t.Errorf("%s: %s\nlacks %s", tc.name, summaryOf(&ev), tc.want)
		}
	}
	// The fallbacks in full, on one row.
	var d Decoder
	var ev Event
	fields := [][]byte{[]byte("2021-04-28T15:05:26Z"), []byte("FileAccessed"), []byte(" 81.2.69.160 "), []byte("r1"),
		[]byte("a@contoso.com"), []byte("UA/1"), []byte(`{"RecordType":6}`)}
	if err := d.DecodeDefenderFieldsKeep(c, fields, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.ID) != "r1" || string(ev.Operation) != "FileAccessed" || ev.NIPs != 1 || ev.IPs[0].String() != "81.2.69.160" ||
		string(ev.UserID) != "a@contoso.com" || string(ev.User) != "a@contoso.com" || string(ev.UserAgent) != "UA/1" {
		t.Errorf("fallbacks: %s", summaryOf(&ev))
	}
}

// TestDefenderObjectErrors: a row object's problems are named.
func TestDefenderObjectErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                                   "RawEventData is missing",
		`{"Timestamp":"2021-04-28T15:05:26Z"}`: "no RawEventData: a row of columns Timestamp, not of CloudAppEvents",
		`{"Timestamp":1,"DeviceId":2,"DeviceName":3,"ActionType":4,"FileName":5,"FolderPath":6,"SHA1":7,"SHA256":8,"ReportId":9}`: "a row of columns Timestamp, DeviceId, DeviceName, ActionType, FileName, FolderPath, SHA1, SHA256, ..., not",
		`{"RawEventData":null}`:                                     "RawEventData is null",
		`{"RawEventData":""}`:                                       "RawEventData is empty",
		`{"RawEventData":42}`:                                       "RawEventData is a number",
		`{"RawEventData":"{\"RecordType\":6"}`:                      "RawEventData: truncated record",
		`{"RawEventData":{"RecordType":6}`:                          "truncated",
		`{"RawEventData":{"RecordType":6}} x`:                       "unexpected",
		`["RawEventData"]`:                                          "record",
		`{"RawEventData":{"RecordType":6},"Timestamp":"yesterday"}`: `Timestamp "yesterday" is not a time`,
		`{"RawEventData":"{\"Id\":\"\\ud800\",\"RecordType\":6}"}`:  "no CreationTime in RawEventData and no Timestamp",
	} {
		var d Decoder
		var ev Event
		err := d.DecodeDefenderKeep([]byte(in), &ev)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

// TestDefenderNoAllocs: a warm decoder allocates nothing per row.
func TestDefenderNoAllocs(t *testing.T) {
	var d Decoder
	var ev Event
	row := []byte(defRowObject)
	c, _ := NewDefenderColumns([]string{"Timestamp", "RawEventData"})
	fields := [][]byte{[]byte("2026-10-06T09:14:03Z"), []byte(defRecord)}
	run := func() {
		d.ResetArena()
		if err := d.DecodeDefenderKeep(row, &ev); err != nil {
			t.Fatal(err)
		}
		if err := d.DecodeDefenderFieldsKeep(c, fields, &ev); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%.1f allocations per run", n)
	}
}

// FuzzDecodeDefender: any row object never panics the decoder; a decoded
// one has a time and is a UAL event; and a row that holds its record as
// an object decodes as the same row holding the record's JSON text.
func FuzzDecodeDefender(f *testing.F) {
	f.Add([]byte(defRowObject))
	f.Add([]byte(`{"RawEventData":"{\"RecordType\":6}","Timestamp":"4/28/2021, 3:05:26.000 PM","IPAddress":"::ffff:1.2.3.4"}`))
	f.Add([]byte(`{"RawEventData":{"AuditData":{"CreationTime":"2026-10-06T09:14:03"}},"ReportId":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return
		}
		var d Decoder
		var ev Event
		err := d.DecodeDefenderKeep(data, &ev)
		if err == nil && (ev.Time == 0 || ev.Kind != KindUAL) {
			t.Fatalf("decoded without a time or as %v: %+v", ev.Kind, ev)
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) != nil {
			return
		}
		raw := bytes.TrimSpace(top["RawEventData"])
		if len(raw) == 0 || raw[0] != '{' || bytes.Contains(data, []byte(`\u`)) {
			return
		}
		quoted, _ := json.Marshal(string(raw))
		top["RawEventData"] = quoted
		again, _ := json.Marshal(top)
		var d2 Decoder
		var ev2 Event
		err2 := d2.DecodeDefenderKeep(again, &ev2)
		if (err == nil) != (err2 == nil) || err == nil && summaryOf(&ev) != summaryOf(&ev2) {
			t.Fatalf("object and text differ:\n%s: %v %s\n%s: %v %s", data, err, summaryOf(&ev), again, err2, summaryOf(&ev2))
		}
	})
}
