package source

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// The exports of this file are Microsoft's (the Purview portal's audit
// export, https://learn.microsoft.com/purview/audit-log-export-records;
// the Entra admin center's sign-in download; Sentinel's OfficeActivity and
// SigninLogs as Log Analytics exports them) as Excel saves them again:
// "CSV" with the list separator of a European locale (';') and "Unicode
// Text" (UTF-16 LE with a byte order mark, tabs), quoting a field only
// when it holds the separator, a quote or a line break; and as
// Export-Csv -UseCulture writes them (every field quoted, ';', a "#TYPE"
// line first in Windows PowerShell 5.1,
// https://learn.microsoft.com/powershell/module/microsoft.powershell.utility/export-csv).
// testdata/in/purview-semicolon.csv, purview-utf16-tabs.csv and
// signin-semicolon.csv are such files, framed in TestGolden.

// resave writes CSV text again with another separator, as Excel does:
// encoding/csv quotes a field only when it must.
func resave(t testing.TB, text string, sep rune) string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = sep, true
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// quoteAll writes rows as Export-Csv -UseCulture does in a ';' locale:
// every field quoted.
func quoteAll(rows ...[]string) string {
	var b strings.Builder
	for _, r := range rows {
		for i, f := range r {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func TestHeaderSeparator(t *testing.T) {
	for _, tc := range []struct {
		row  string
		want byte
	}{
		{"RecordId,CreationDate,RecordType,Operation,UserId,AuditData", 0},
		{"RecordId;CreationDate;RecordType;Operation;UserId;AuditData", ';'},
		{"\ufeffRecordId;CreationDate;RecordType;Operation;UserId;AuditData", ';'},
		{`"CreationDate";"UserIds";"Operations";"AuditData"`, ';'},
		{"CreationDate\tUserIds\tOperations\tAuditData", '\t'},
		{strings.ReplaceAll(portalHeader, ",", ";"), ';'},
		{strings.ReplaceAll(laCSVHeader, ",", "\t"), '\t'},
		{strings.ReplaceAll(officeHeader, ",", ";"), ';'},
		// A column name holding the other byte does not change a
		// comma header; nor do names nobody exports.
		{`RecordId,"Creation;Date",AuditData`, 0},
		{`"a;b",AuditData`, 0},
		{"a;b;c", 0},
		{"AuditData", 0},
		{"", 0},
		// More known names split at ';' than at commas.
		{`Operation, UserIds;AuditData;RecordId`, ';'},
	} {
		if got := headerSeparator([]byte(tc.row)); got != tc.want {
			t.Errorf("headerSeparator(%q) = %q, want %q", tc.row, got, tc.want)
		}
	}
}

// TestSeparatedExports: every kind of CSV export, saved again with ';' or
// tabs, is read as the comma one is: same format, same records, and the
// same fields once split by the separator its header gave.
func TestSeparatedExports(t *testing.T) {
	purview := "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n" +
		`1,2026-10-06T09:14:03.0000000Z,15,UserLoggedIn,a@b.c,"{""CreationTime"":""2026-10-06T09:14:03"",""Id"":""1"",""UserAgent"":""Mozilla/5.0 (Windows NT 10.0; Win64; x64)""}",,"AU; one, two` + "\n" + `three"` + "\r\n"
	legacy := "CreationDate,UserIds,Operations,AuditData\r\n" + `2026-10-06T09:14:03,a@b.c,UserLoggedIn,"{""Id"":""2""}"` + "\r\n"
	for _, tc := range []struct {
		name, comma string
		format      Format
	}{
		{"purview", purview, PurviewCSV},
		{"purview-legacy", legacy, PurviewCSVLegacy},
		{"signin-download", portalHeader + "\n" + portalRow1 + "\n" + portalRow2 + "\n", EntraSignInCSV},
		{"signin-la", laCSVHeader + "\n" + laCSVRow1 + "\n", EntraSignInLA},
		{"officeactivity", officeHeader + "\n" + officeRow1 + "\n" + officeRow2 + "\n", SentinelOfficeCSV},
	} {
		want := readBytes(t, []byte(tc.comma), Options{})
		if len(want.probs) > 0 || len(want.recs) == 0 || want.inputs[0].Format != tc.format {
			t.Fatalf("%s: the comma export reads as %+v, %v", tc.name, want.inputs, want.probs)
		}
		for _, v := range []struct {
			name string
			sep  byte
			data string
		}{
			{"semicolons", ';', resave(t, tc.comma, ';')},
			{"semicolons-bom", ';', "\ufeff" + resave(t, tc.comma, ';')},
			{"tabs-utf16", '\t', utf16LE(resave(t, tc.comma, '\t'))},
			{"semicolons-forced", ';', resave(t, tc.comma, ';')},
		} {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				opts := Options{}
				if strings.HasSuffix(v.name, "forced") {
					opts.Format = tc.format
				}
				got := readBytes(t, []byte(v.data), opts)
				if len(got.probs) > 0 || len(got.inputs) != 1 {
					t.Fatalf("problems %v", got.probs)
				}
				in := got.inputs[0]
				if in.Format != tc.format || in.Separator != v.sep {
					t.Fatalf("format %s separator %q, want %s %q", in.Format, in.Separator, tc.format, v.sep)
				}
				sameFields(t, want.recs, got.recs, v.sep)
			})
		}
	}
}

// sameFields checks that records read from a ';' or tab export hold the
// fields (and AuditData) of those read from the comma one, row by row.
func sameFields(t *testing.T, want, got []rec, sep byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.Line || g.Col != w.Col || g.Header != w.Header || g.Sep != sep {
			t.Errorf("record %d: line %d col %d sep %q header %q, want line %d col %d sep %q header %q",
				i, g.Line, g.Col, g.Sep, g.Header, w.Line, w.Col, sep, w.Header)
		}
		wf, _, werr := CSVFields([]byte(w.Data), nil, nil)
		gf, _, gerr := CSVFieldsSep([]byte(g.Data), g.Sep, nil, nil)
		// encoding/csv, which wrote the copy, ends a line break inside a
		// field with \n where the comma export may have \r\n.
		norm := func(fs [][]byte) string {
			return strings.ReplaceAll(fmt.Sprintf("%q", fs), `\r\n`, `\n`)
		}
		if werr != nil || gerr != nil || norm(gf) != norm(wf) {
			t.Errorf("record %d: fields %s %v, want %s %v", i, norm(gf), gerr, norm(wf), werr)
		}
		if w.Col >= 0 {
			wj, _, _ := CSVField([]byte(w.Data), w.Col, nil)
			b := &Batch{Records: []Record{{Data: []byte(g.Data)}}, CSVColumn: g.Col, Separator: g.Sep}
			gj, _, err := b.JSON(0, nil)
			if err != nil || !bytes.Equal(gj, wj) {
				t.Errorf("record %d: AuditData %q %v, want %q", i, gj, err, wj)
			}
		}
	}
}

// TestExportCsvUseCulture: Windows PowerShell 5.1's Search-UnifiedAuditLog
// | Export-Csv -UseCulture in a ';' locale: a "#TYPE" line, every field
// quoted, the AuditData holding ';' and ','.
func TestExportCsvUseCulture(t *testing.T) {
	audit := `{"CreationTime":"2026-10-06T09:14:03","Id":"e1","Operation":"UserLoggedIn","ExtendedProperties":[{"Name":"UserAgent","Value":"a; b, c"}]}`
	in := "#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n" + quoteAll(
		[]string{"RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex", "ResultCount", "Identity", "IsValid", "ObjectState"},
		[]string{"AzureActiveDirectoryStsLogon", "06.10.2026 09:14:03", "a@b.c", "UserLoggedIn", audit, "1", "1", "e1", "True", "Unchanged"})
	res := readBytes(t, []byte(in), Options{})
	if len(res.probs) > 0 || len(res.recs) != 1 || res.inputs[0].Format != ExportCSV || res.inputs[0].Separator != ';' {
		t.Fatalf("inputs %+v records %+v problems %v", res.inputs, res.recs, res.probs)
	}
	if got := res.inputs[0].FormatName(); got != "ual-export-csv (semicolon-separated)" {
		t.Errorf("FormatName %q", got)
	}
	r := res.recs[0]
	js, _, err := CSVFieldSep([]byte(r.Data), r.Col, r.Sep, nil)
	// Rows are numbered from the header (row 1), the "#TYPE" line apart.
	if err != nil || string(js) != audit || r.Line != 2 {
		t.Errorf("row %d AuditData %q %v, want row 2 %q", r.Line, js, err, audit)
	}
}

// TestSeparatorPerFile: the header decides the separator for the whole
// file; no row changes it. A ';' export's row that holds commas and no
// ';' is one field (and too short for its AuditData), and a comma
// export's fields holding ';' stay whole.
func TestSeparatorPerFile(t *testing.T) {
	semi := "CreationDate;UserIds;Operations;AuditData\n" +
		`2026;a@b.c;UserLoggedIn;"{""Id"":""1""}"` + "\n" +
		`2026,a@b.c,UserLoggedIn,"{""Id"":""2""}"` + "\n"
	res := readBytes(t, []byte(semi), Options{})
	if len(res.recs) != 2 || res.recs[0].Sep != ';' || res.recs[1].Sep != ';' {
		t.Fatalf("records %+v", res.recs)
	}
	b := &Batch{Records: []Record{{Data: []byte(res.recs[1].Data)}}, CSVColumn: 3, Separator: ';'}
	if _, _, err := b.JSON(0, nil); err == nil || err.Error() != "row has 1 fields, AuditData is column 4" {
		t.Errorf("a row of commas in a ';' export: %v", err)
	}
	comma := "CreationDate,UserIds,Operations,AuditData\n" + `2026,"a;b",UserLoggedIn,"{""Id"":""1;2""}"` + "\n"
	res = readBytes(t, []byte(comma), Options{})
	if len(res.recs) != 1 || res.recs[0].Sep != 0 || res.inputs[0].FormatName() != "purview-csv-legacy" {
		t.Fatalf("inputs %+v records %+v", res.inputs, res.recs)
	}
	b = &Batch{Records: []Record{{Data: []byte(res.recs[0].Data)}}, CSVColumn: 3}
	if js, _, err := b.JSON(0, nil); err != nil || string(js) != `{"Id":"1;2"}` {
		t.Errorf("AuditData %q %v", js, err)
	}
}

// swapBytes returns b with bytes x and y exchanged: a row separated by ','
// becomes the same row separated by sep (and its commas, sep).
func swapBytes(b []byte, x, y byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		switch c {
		case x:
			out[i] = y
		case y:
			out[i] = x
		}
	}
	return out
}

// FuzzCSVSeparator holds the ';' and tab split (csvFieldFrom and csvFields
// by another byte) to the comma path, byte for byte: a row with ',' and the
// separator swapped gives the same fields (swapped back), the same
// scratch and the same errors, for every column.
func FuzzCSVSeparator(f *testing.F) {
	f.Add([]byte(`a,"b;c",,"d""e"x,f`), uint8(1), false)
	f.Add([]byte(`"{""A"":""x; y, z""}",b`), uint8(0), true)
	f.Add([]byte(`"open,x`), uint8(1), false)
	f.Add([]byte("\"line\nbreak\",;\t"), uint8(3), true)
	f.Fuzz(func(t *testing.T, row []byte, c uint8, tab bool) {
		sep := byte(';')
		if tab {
			sep = '\t'
		}
		col := int(c % 16)
		other := swapBytes(row, ',', sep)
		want := outcome(csvField(row, col, []byte("kept")))
		got := outcome(csvFieldFrom(other, 0, 0, col, sep, []byte("kept")))
		got.field, got.scratch = swapBytes(got.field, ',', sep), swapBytes(got.scratch, ',', sep)
		sameField(t, row, "col", col, got, want)
		if pub := outcome(CSVFieldSep(other, col, sep, []byte("kept"))); !bytes.Equal(swapBytes(pub.field, ',', sep), want.field) {
			t.Fatalf("CSVFieldSep differs from csvFieldFrom")
		}

		wf, ws, werr := csvFields(row, ',', nil, []byte("kept"))
		gf, gs, gerr := csvFields(other, sep, nil, []byte("kept"))
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() || len(wf) != len(gf) ||
			!bytes.Equal(swapBytes(gs, ',', sep), ws) {
			t.Fatalf("%q: fields %q %v, want %q %v", other, gf, gerr, wf, werr)
		}
		for i := range wf {
			if !bytes.Equal(swapBytes(gf[i], ',', sep), wf[i]) {
				t.Fatalf("%q field %d: %q, want %q", other, i, gf[i], wf[i])
			}
		}
	})
}

// FuzzCSVSeparated is FuzzCSV for exports separated by ';' or tabs:
// framing and splitting hold for arbitrary bytes under the header; the
// records are those of the same bytes with ',' and the separator swapped
// under a comma header; and well-formed CSV splits as encoding/csv reads
// it with that separator.
func FuzzCSVSeparated(f *testing.F) {
	for _, s := range []string{"1;\"{\"\"a\"\":1}\"\n2;{}\n", "1;\"a\nb\"\n\n2;\"x", "\"\"\"\n;;;\n\"a\"b;c\n", "1,2;\"a;b,c\"\r\n"} {
		f.Add([]byte(s), uint16(7), uint16(40), false)
		f.Add([]byte(s), uint16(100), uint16(1000), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, batch, limit uint16, tab bool) {
		sep := byte(';')
		if tab {
			sep = '\t'
		}
		in := append([]byte("RecordId"+string(sep)+"AuditData\n"), data...)
		opts := fuzzOpts(batch, limit)
		opts.Format = PurviewCSV
		recs, probs, inputs := frameBytes(t, in, opts)
		inOrder(t, in, recs)
		if inputs[0].Separator != sep {
			t.Fatalf("separator %q, want %q", inputs[0].Separator, sep)
		}
		var scratch []byte
		for _, r := range recs {
			for i := 0; i < 4; i++ {
				var err error
				if _, scratch, err = CSVFieldSep([]byte(r.Data), i, sep, scratch); err != nil && err.Error() == "" {
					t.Fatal("empty error")
				}
			}
		}
		// The comma export of the same bytes frames the same records.
		commaRecs, commaProbs, _ := frameBytes(t, swapBytes(in, ',', sep), opts)
		for i := range commaRecs {
			commaRecs[i].Data = string(swapBytes([]byte(commaRecs[i].Data), ',', sep))
			commaRecs[i].Sep = sep
		}
		sameOutput(t, "comma and "+string(sep), recs, commaRecs, probs, commaProbs)

		if bytes.IndexByte(in, '\r') >= 0 || !utf8.Valid(in) {
			return
		}
		cr := csv.NewReader(bytes.NewReader(in))
		cr.Comma, cr.FieldsPerRecord = rune(sep), -1
		all, err := cr.ReadAll()
		if err != nil {
			return
		}
		big := opts
		big.BatchBytes, big.MaxRecordBytes = 64<<10, 1<<20
		recs3, probs3, _ := frameBytes(t, in, big)
		if len(probs3) > 0 || len(recs3) != len(all)-1 {
			t.Fatalf("encoding/csv reads %d rows, we frame %d (%v)", len(all)-1, len(recs3), probs3)
		}
		for i, r := range recs3 {
			fields, _, err := CSVFieldsSep([]byte(r.Data), sep, nil, nil)
			if err != nil || len(fields) != len(all[i+1]) {
				t.Fatalf("row %q: %d fields %v, want %d", r.Data, len(fields), err, len(all[i+1]))
			}
			for c, want := range all[i+1] {
				got, _, err := CSVFieldSep([]byte(r.Data), c, sep, nil)
				if err != nil || string(got) != want || string(fields[c]) != want {
					t.Fatalf("row %q field %d: %q %v, want %q", r.Data, c, got, err, want)
				}
			}
		}
	})
}
