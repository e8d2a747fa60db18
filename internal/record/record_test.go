package record

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/source"
)

// batchOf builds a batch of records the way the framers hand them over
// (one per line of data), for the given format; csvCol and header as the
// sniffer would set them.
func batchOf(format source.Format, csvCol int, header []string, data string) *source.Batch {
	b := &source.Batch{Path: "t", Format: format, CSVColumn: csvCol, Header: header}
	for i, l := range strings.Split(data, "\n") {
		b.Records = append(b.Records, source.Record{Data: []byte(l), Line: int64(i + 2)})
	}
	return b
}

// direct decodes record i of b with the decoder the format calls for,
// without a Reader: what the Reader must agree with.
func direct(b *source.Batch, i int, ev *audit.Event) error {
	var d audit.Decoder
	d.SetDates(b.Dates)
	data := b.Records[i].Data
	var fields [][]byte
	var err error
	switch KindOf(b) {
	case SignInFields, OfficeFields, DefenderFields:
		fields, _, err = source.CSVFieldsSep(data, b.Separator, nil, nil)
	case SignInRow, OfficeRow:
		fields, err = d.RowFieldsKeep(data, nil)
	default:
		js, _, err := b.JSON(i, nil)
		if err != nil {
			return err
		}
		if !utf8.Valid(js) {
			return ErrInvalidUTF8
		}
		switch KindOf(b) {
		case SignInJSON:
			return d.DecodeSignInKeep(js, ev)
		case OfficeJSON:
			return d.DecodeOfficeKeep(js, ev)
		case DefenderJSON:
			return d.DecodeDefenderKeep(js, ev)
		}
		return d.DecodeKeep(js, ev)
	}
	if err != nil {
		return err
	}
	switch KindOf(b) {
	case OfficeFields, OfficeRow:
		return byColumns(b.Header, data, fields, ev, audit.NewOfficeColumns, d.DecodeOfficeFieldsKeep)
	case DefenderFields:
		// Any table but CloudAppEvents is refused with what it is.
		newCols := func(h []string) (*audit.DefenderColumns, error) {
			c, err := audit.NewDefenderColumns(h)
			if err != nil {
				err = errors.New(source.DefenderTableProblem(h))
			}
			return c, err
		}
		return byColumns(b.Header, data, fields, ev, newCols, d.DecodeDefenderFieldsKeep)
	}
	return byColumns(b.Header, data, fields, ev, audit.NewSignInColumns, d.DecodeSignInFieldsKeep)
}

// byColumns is the reference's decode of a row's fields by the columns
// newCols reads from header: the header's error first, then the row's
// UTF-8, then decode's verdict.
func byColumns[C any](header []string, data []byte, fields [][]byte, ev *audit.Event, newCols func([]string) (C, error), decode func(C, [][]byte, *audit.Event) error) error {
	cols, err := newCols(header)
	if err != nil {
		return err
	}
	if !utf8.Valid(data) {
		return ErrInvalidUTF8
	}
	return decode(cols, fields, ev)
}

// same says whether two decodes agree: the same error text, or the same
// event (field by field, the byte fields by content).
func same(err1, err2 error, ev1, ev2 *audit.Event) error {
	switch {
	case (err1 == nil) != (err2 == nil):
		return fmt.Errorf("errors differ: %v / %v", err1, err2)
	case err1 != nil:
		if err1.Error() != err2.Error() {
			return fmt.Errorf("reasons differ: %q / %q", err1, err2)
		}
		return nil
	case !reflect.DeepEqual(ev1, ev2):
		return fmt.Errorf("events differ:\n%+v\n%+v", ev1, ev2)
	}
	return nil
}

// checkBatch decodes the whole batch with one Reader, then holds every
// event (still valid: nothing was reset) to a direct decode, and the
// explain path (Read, DecodeRaw) to the same.
func checkBatch(t *testing.T, rd *Reader, b *source.Batch) {
	t.Helper()
	rd.Begin()
	evs := make([]audit.Event, len(b.Records))
	errs := make([]error, len(b.Records))
	for i := range b.Records {
		errs[i] = rd.Decode(b, i, &evs[i])
	}
	for i := range b.Records {
		var want audit.Event
		werr := direct(b, i, &want)
		if d := same(errs[i], werr, &evs[i], &want); d != nil {
			t.Fatalf("record %d %q (%s): Reader and direct decoder: %v", i, b.Records[i].Data, b.Format, d)
		}
		var rd2 Reader
		raw, err := rd2.Read(b, i)
		var ev audit.Event
		if err == nil {
			err = rd2.DecodeRaw(raw, &ev)
		}
		if d := same(errs[i], err, &evs[i], &ev); d != nil {
			t.Fatalf("record %d %q (%s): Decode and Read+DecodeRaw: %v", i, b.Records[i].Data, b.Format, d)
		}
		// What explain walks for a CloudAppEvents row, its RawEventData,
		// is there for every row that decodes.
		if raw.Defender() && errs[i] == nil {
			if _, err := raw.UAL(); err != nil {
				t.Fatalf("record %d %q: decoded, but no RawEventData: %v", i, b.Records[i].Data, err)
			}
		}
		// What explain walks for an OfficeActivity row, the UAL record it
		// came from, reads as the row does.
		if raw.Office() && errs[i] == nil {
			js, err := raw.UAL()
			if err != nil {
				t.Fatalf("record %d %q: decoded, but no UAL record: %v", i, b.Records[i].Data, err)
			}
			var d audit.Decoder
			var ual audit.Event
			if err := d.DecodeKeep(js, &ual); err != nil {
				t.Fatalf("record %d %q: its UAL record %s: %v", i, b.Records[i].Data, js, err)
			}
			// By content: where one decoder leaves a field nil, the
			// other may point at an empty string.
			if a, b2 := fmt.Sprintf("%+v", evs[i]), fmt.Sprintf("%+v", ual); a != b2 {
				t.Fatalf("record %d %q: its UAL record %s reads otherwise:\n%s\n%s", i, b.Records[i].Data, js, a, b2)
			}
		}
	}
}

func TestUnitAndKind(t *testing.T) {
	for _, c := range []struct {
		b    *source.Batch
		unit string
		kind Kind
	}{
		{&source.Batch{Format: source.UALJSONL, CSVColumn: -1}, "line", UALJSON},
		{&source.Batch{Format: source.PurviewCSV, CSVColumn: 5}, "row", UALJSON},
		{&source.Batch{Format: source.EntraSignIn, CSVColumn: -1}, "line", SignInJSON},
		{&source.Batch{Format: source.EntraSignInLA, CSVColumn: -1, Header: []string{"TimeGenerated"}}, "row", SignInFields},
		{&source.Batch{Format: source.EntraSignInCSV, CSVColumn: -1, Header: []string{"Date (UTC)"}}, "row", SignInFields},
		{&source.Batch{Format: source.SentinelOfficeJSON, CSVColumn: -1}, "line", OfficeJSON},
		{&source.Batch{Format: source.SentinelOfficeCSV, CSVColumn: -1, Header: []string{"OfficeId"}}, "row", OfficeFields},
		{&source.Batch{Format: source.LAQueryAPI, CSVColumn: -1, Header: []string{"Id"}, Table: source.EntraSignInLA}, "line", SignInRow},
		{&source.Batch{Format: source.LAQueryAPI, CSVColumn: -1, Header: []string{"OfficeId"}, Table: source.SentinelOfficeJSON}, "line", OfficeRow},
		{&source.Batch{Format: source.DefenderCSV, CSVColumn: -1, Header: []string{"RawEventData"}}, "row", DefenderFields},
		{&source.Batch{Format: source.DefenderJSON, CSVColumn: -1}, "line", DefenderJSON},
	} {
		if u := Unit(c.b); u != c.unit {
			t.Errorf("%s: unit %q, want %q", c.b.Format, u, c.unit)
		}
		if k := KindOf(c.b); k != c.kind {
			t.Errorf("%s: kind %d, want %d", c.b.Format, k, c.kind)
		}
	}
}

const (
	ualLine = `{"CreationTime":"2024-03-01T10:00:00","Id":"a1","Operation":"UserLoggedIn","RecordType":15,"UserId":"x@fabrikam.com","ClientIP":"198.18.0.1","ActorContextId":"B0000000-0000-0000-0000-00000000000B"}`
	// A CloudAppEvents row whose RawEventData lacks Id and ClientIP.
	defenderLine = `{"Timestamp":"2024-03-01T10:00:00.1234567Z","ActionType":"FileAccessed","IPAddress":"198.18.0.3","ReportId":"r1",` +
		`"RawEventData":{"CreationTime":"2024-03-01T10:00:00","Operation":"FileAccessed","RecordType":6,"UserId":"x@fabrikam.com"}}`
	defenderCSV = `2024-03-01T10:00:00.1234567Z,FileAccessed,198.18.0.3,r1,"{""CreationTime"":""2024-03-01T10:00:00"",""RecordType"":6,""UserId"":""x@fabrikam.com""}"`
	signInLine  = `{"id":"s1","createdDateTime":"2024-03-01T10:00:00Z","userPrincipalName":"x@fabrikam.com","appId":"00000003-0000-0ff1-ce00-000000000000","ipAddress":"198.18.0.2","status":{"errorCode":0},"homeTenantId":"b0000000-0000-0000-0000-00000000000b","resourceTenantId":"a0000000-0000-0000-0000-00000000000a"}`
)

// TestReader covers every kind, with the errors each gives.
func TestReader(t *testing.T) {
	var rd Reader
	checkBatch(t, &rd, batchOf(source.UALJSONL, -1, nil, ualLine+"\n{\"Id\":1}\n\xff\n[]"))
	checkBatch(t, &rd, batchOf(source.EntraSignIn, -1, nil, signInLine+"\n{}\n\"x\""))
	csv := `1,2024-03-01T10:00:00,15,UserLoggedIn,x,"` + strings.ReplaceAll(ualLine, `"`, `""`) + `"` + "\n1,2\n\"open"
	checkBatch(t, &rd, batchOf(source.PurviewCSV, 5, nil, csv))
	// Defender's CloudAppEvents: CSV rows by their header, API rows as
	// objects; a header of another table is every row's reason.
	defHeader := []string{"Timestamp", "ActionType", "IPAddress", "ReportId", "RawEventData"}
	checkBatch(t, &rd, batchOf(source.DefenderCSV, -1, defHeader, defenderCSV+"\n2024-03-01T10:00:00Z,x,1.2.3.4,r2,\n\"open"))
	checkBatch(t, &rd, batchOf(source.DefenderCSV, -1, []string{"Timestamp", "DeviceId", "ReportId"}, "2024-03-01T10:00:00Z,d,r1"))
	checkBatch(t, &rd, batchOf(source.DefenderJSON, -1, nil, defenderLine+"\n{\"RawEventData\":null}\n[]\n\xff"))
	header := []string{"TimeGenerated [UTC]", "UserPrincipalName", "ResultType", "Id"}
	checkBatch(t, &rd, batchOf(source.EntraSignInLA, -1, header, "4/28/2021, 3:05:26.000 PM,x@fabrikam.com,0,r1\n,x,0,r2\n\"x,\xff,0,r3\nshort"))
	// A header without a result column: every row says why.
	bad := []string{"TimeGenerated", "UserPrincipalName"}
	b := batchOf(source.EntraSignInLA, -1, bad, "2024-03-01T10:00:00Z,x")
	rd.Begin()
	var ev audit.Event
	if err := rd.Decode(b, 0, &ev); err == nil || !strings.Contains(err.Error(), "no result") {
		t.Errorf("header without a result column: %v", err)
	}
	b = batchOf(source.UALJSONL, -1, nil, "{\"CreationTime\":\"2024-03-01T10:00:00\",\"UserId\":\"\xff\"}")
	if err := rd.Decode(b, 0, &ev); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	// The reason says what to do, not only what is wrong: the usual cause
	// is a file saved again in a Windows code page (Excel's plain "CSV",
	// PowerShell 5.1's Set-Content), which saving as UTF-8 mends.
	if msg := ErrInvalidUTF8.Error(); !strings.HasPrefix(msg, "invalid UTF-8") || !strings.Contains(msg, "CSV UTF-8") {
		t.Errorf("reason %q: want it to name the cause and the mend (save as CSV UTF-8)", msg)
	}
}

// TestSeparated: rows of exports saved again by Excel with ';' or tabs
// (a Purview export, an Entra sign-in download whose "Date (UTC)" Excel
// rewrote as a day-first locale date) decode by the batch's separator, as
// their comma rows do.
func TestSeparated(t *testing.T) {
	var rd Reader
	audit1 := strings.ReplaceAll(ualLine, `"ClientIP"`, `"UserAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","ClientIP"`)
	purview := `1;01.03.2024 10:00;15;UserLoggedIn;x;"` + strings.ReplaceAll(audit1, `"`, `""`) + `";;"AU; a, b` + "\n" + `c"`
	b := batchOf(source.PurviewCSV, 5, nil, "")
	b.Records = []source.Record{{Data: []byte(purview), Line: 2}, {Data: []byte("1,2,3,4,5,{}"), Line: 4}}
	b.Separator = ';'
	checkBatch(t, &rd, b)
	rd.Begin()
	var ev audit.Event
	if err := rd.Decode(b, 0, &ev); err != nil || string(ev.ID) != "a1" || audit.FormatTime(ev.Time) != "2024-03-01T10:00:00Z" {
		t.Errorf("';' Purview row: %q %s %v", ev.ID, audit.FormatTime(ev.Time), err)
	}
	if err := rd.Decode(b, 1, &ev); err == nil || err.Error() != "row has 1 fields, AuditData is column 6" {
		t.Errorf("a comma row in a ';' export: %v", err)
	}

	header := []string{"Date (UTC)", "Request ID", "User agent", "Username", "Status", "Sign-in error code", "Location"}
	for _, sep := range []string{";", "\t"} {
		row := strings.Join([]string{"06.10.2026 09:14:03", "r1", `"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"`, "x@fabrikam.com", "Success", "0", "Madrid, Madrid, ES"}, sep)
		b := batchOf(source.EntraSignInCSV, -1, header, row)
		b.Separator = sep[0]
		checkBatch(t, &rd, b)
		rd.Begin()
		if err := rd.Decode(b, 0, &ev); err != nil || string(ev.UserID) != "x@fabrikam.com" || audit.FormatTime(ev.Time) != "2026-10-06T09:14:03Z" {
			t.Errorf("sign-in row separated by %q: %q %s %v", sep, ev.UserID, audit.FormatTime(ev.Time), err)
		}
	}
}

// TestHeaderPerFile: the header's columns are mapped per file, so two
// files with different column orders read each by its own header.
func TestHeaderPerFile(t *testing.T) {
	var rd Reader
	h1 := []string{"TimeGenerated", "UserPrincipalName", "ResultType"}
	h2 := []string{"ResultType", "TimeGenerated", "UserPrincipalName"}
	b1 := batchOf(source.EntraSignInLA, -1, h1, "2024-03-01T10:00:00Z,a@fabrikam.com,0")
	b2 := batchOf(source.EntraSignInLA, -1, h2, "50126,2024-03-01T11:00:00Z,b@fabrikam.com")
	b2.File = 1
	for _, b := range []*source.Batch{b1, b2, b1} {
		rd.Begin()
		var ev audit.Event
		if err := rd.Decode(b, 0, &ev); err != nil {
			t.Fatal(err)
		}
		want := "a@fabrikam.com"
		if b == b2 {
			want = "b@fabrikam.com"
		}
		if string(ev.UserID) != want {
			t.Errorf("file %d: user %q, want %q", b.File, ev.UserID, want)
		}
	}
}

// TestNoAllocs: decoding a batch allocates nothing once the Reader is
// warm, in every kind.
func TestNoAllocs(t *testing.T) {
	header := []string{"TimeGenerated", "UserPrincipalName", "ResultType", "Id"}
	csv := `1,2024-03-01T10:00:00,15,UserLoggedIn,x,"` + strings.ReplaceAll(ualLine, `"`, `""`) + `"`
	semi := `1;2024-03-01T10:00:00;15;UserLoggedIn;x;"` + strings.ReplaceAll(ualLine, `"`, `""`) + `"`
	separated := func(b *source.Batch) *source.Batch { b.Separator = ';'; return b }
	for _, b := range []*source.Batch{
		batchOf(source.UALJSONL, -1, nil, strings.Repeat(ualLine+"\n", 9)+ualLine),
		batchOf(source.EntraSignIn, -1, nil, strings.Repeat(signInLine+"\n", 9)+signInLine),
		batchOf(source.PurviewCSV, 5, nil, strings.Repeat(csv+"\n", 9)+csv),
		batchOf(source.EntraSignInLA, -1, header, strings.Repeat("2024-03-01T10:00:00Z,x@fabrikam.com,0,r\n", 9)+"2024-03-01T10:00:00Z,x@fabrikam.com,0,r"),
		batchOf(source.DefenderCSV, -1, []string{"Timestamp", "ActionType", "IPAddress", "ReportId", "RawEventData"},
			strings.Repeat(defenderCSV+"\n", 9)+defenderCSV),
		batchOf(source.DefenderJSON, -1, nil, strings.Repeat(defenderLine+"\n", 9)+defenderLine),
		separated(batchOf(source.PurviewCSV, 5, nil, strings.Repeat(semi+"\n", 9)+semi)),
		separated(batchOf(source.EntraSignInLA, -1, header, strings.Repeat("2024-03-01T10:00:00Z;x@fabrikam.com;0;r\n", 9)+"2024-03-01T10:00:00Z;x@fabrikam.com;0;r")),
	} {
		var rd Reader
		evs := make([]audit.Event, len(b.Records))
		run := func() {
			rd.Begin()
			for i := range b.Records {
				if err := rd.Decode(b, i, &evs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		if n := testing.AllocsPerRun(50, run); n != 0 {
			t.Errorf("%s: %.1f allocations per batch", b.Format, n)
		}
	}
}

// FuzzRecord: a batch of any format and any records never panics the
// Reader, and what it decodes agrees with the decoder the format calls for,
// record by record, after the whole batch was decoded (so no event was
// overwritten by a later one); the explain path (Read, DecodeRaw) agrees
// too.
func FuzzRecord(f *testing.F) {
	csv := `1,2024-03-01T10:00:00,15,UserLoggedIn,x,"` + strings.ReplaceAll(ualLine, `"`, `""`) + `"`
	f.Add(uint8(0), uint8(0), "", ualLine+"\n"+ualLine)
	f.Add(uint8(4), uint8(5), "", csv+"\n"+csv)
	// Seeds name formats by their index in source.Formats.
	f.Add(uint8(10), uint8(0), "", signInLine)
	f.Add(uint8(12), uint8(0), "TimeGenerated [UTC],UserPrincipalName,ResultType,Status,LocationDetails",
		"4/28/2021, 3:05:26.000 PM,x@fabrikam.com,0,\"{\"\"errorCode\"\":0}\",\"{\"\"city\"\":\"\"Oslo\"\"}\"")
	f.Add(uint8(13), uint8(0), "Date (UTC),Username,Sign-in error code", "2025-12-04T08:19:41Z,x@fabrikam.com,50126")
	f.Add(uint8(12), uint8(0), "a,b", "1,2")
	f.Add(uint8(128+13), uint8(0), "Date (UTC);Username;Sign-in error code;User agent", "06.10.2026 09:14:03;x@fabrikam.com;0;\"a; b, c\"")
	f.Add(uint8(128+4), uint8(5), "", strings.ReplaceAll(csv, ",", ";"))
	f.Add(uint8(8), uint8(0), "TimeGenerated [UTC],Operation,RecordType,UserType,UserId,UserId_,ClientIP_,Actor,ExtendedProperties",
		"\"4/28/2021, 3:05:26.000 PM\",UserLoggedIn,AzureActiveDirectoryStsLogon,Regular,,x@fabrikam.com,81.2.69.1,\"[{\"\"ID\"\":\"\"Unknown\"\"}]\",\"[{\"\"Name\"\":\"\"UserAgent\"\",\"\"Value\"\":\"\"u\"\"}]\"")
	f.Add(uint8(9), uint8(0), "", `{"TimeGenerated":"2021-04-28T15:05:26Z","Operation":"FileAccessed","OfficeId":"1","UserId_":"a","RecordType":"6"}`)
	f.Add(uint8(14), uint8(1), "TimeGenerated,Operation,OfficeId,Actor", `["2021-04-28T15:05:26Z","UserLoggedIn","1","[{\"ID\":\"Unknown\"}]"]`)
	f.Add(uint8(14), uint8(0), "TimeGenerated,UserPrincipalName,ResultType,Status", `["2021-04-28T15:05:26Z","x@fabrikam.com","0",{"errorCode":0}]`)
	f.Add(uint8(15), uint8(0), "Timestamp,ActionType,IPAddress,ReportId,RawEventData",
		`2021-04-28T15:05:26.1234567Z,FileAccessed,81.2.69.1,r1,"{""Id"":""1"",""RecordType"":6,""UserId"":""a@b.c""}"`)
	f.Add(uint8(15), uint8(0), "Timestamp,AccountUpn,ErrorCode,ResourceTenantId,ReportId", `2021-04-28T15:05:26Z,a@b.c,0,t,r1`)
	f.Add(uint8(16), uint8(0), "", `{"Timestamp":"2021-04-28T15:05:26Z","ReportId":"r1","RawEventData":"{\"Operation\":\"FileAccessed\",\"UserId\":\"a@b.c\"}"}`)
	f.Add(uint8(16), uint8(0), "", `{"Timestamp":"2021-04-28T15:05:26Z","ActionType":"x","RawEventData":{"CreationTime":"2021-04-28T15:05:20","RecordType":6}}`)
	f.Fuzz(func(t *testing.T, fi, col uint8, header, data string) {
		formats := source.Formats
		if len(formats) != 17 {
			t.Fatalf("source.Formats has %d formats: renumber the seeds", len(formats))
		}
		format := formats[int(fi)%len(formats)]
		b := &source.Batch{Path: "f", Format: format, CSVColumn: -1}
		if fi >= 128 && format.IsCSV() {
			// A CSV export saved again by Excel with ';'.
			b.Separator = ';'
		}
		if format == source.LAQueryAPI {
			b.Table = source.EntraSignInLA
			if col%2 == 1 {
				b.Table = source.SentinelOfficeJSON
			}
		}
		switch {
		case format.IsCSV() && (format.IsSignIn() || format == source.SentinelOfficeCSV || format == source.DefenderCSV),
			format == source.EntraSignInLA && header != "", format == source.LAQueryAPI:
			fields, _, err := source.CSVFieldsSep([]byte(header), b.Separator, nil, nil)
			if err != nil {
				return
			}
			for _, h := range fields {
				b.Header = append(b.Header, string(h))
			}
			if b.Header == nil {
				b.Header = []string{}
			}
		case format.IsCSV():
			b.CSVColumn = int(col % 16)
		}
		for i, rec := range bytes.Split([]byte(data), []byte("\n")) {
			b.Records = append(b.Records, source.Record{Data: rec, Line: int64(i + 1)})
		}
		var rd Reader
		checkBatch(t, &rd, b)
		// The same Reader again (warm, the header cached) agrees too.
		checkBatch(t, &rd, b)
	})
}
