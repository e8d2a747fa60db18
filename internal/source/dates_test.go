package source

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestDatesSurvey: a CSV read by column names is surveyed whole before
// its first batch is handed on, so every batch carries what all its time
// columns' dates show, however small the batches; a file whose dates
// show both orders gets one warning naming it; the UAL's CSVs (ISO 8601
// times in AuditData) are not surveyed.
func TestDatesSurvey(t *testing.T) {
	dir := t.TempDir()
	rows := func(header string, dates ...string) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i, d := range dates {
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(d, "ID", "r"+string(rune('a'+i))), "|", ","))
			b.WriteString("\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name, data string
		want       localedate.Evidence
		warn       bool
	}{
		// en-AU, the day over 12 in the last row only.
		{"au.csv", rows("Date (UTC),Request ID,Username,Status", `"7/12/2026 3:05:26 PM"|ID|u@x|Success`, `"1/12/2026 9:00:00 AM"|ID|u@x|Success`,
			`"13/12/2026 11:30:00 PM"|ID|u@x|Success`), localedate.SawDayFirst, false},
		// A Log Analytics export: either time column may show it.
		{"us.csv", rows(`UserPrincipalName,"TimeGenerated [UTC]",ResultType,"CreatedDateTime [UTC]"`, `u@x|"10/5/2026, 11:12:13.456 AM"|0|"10/5/2026, 11:12:13.123 AM"`,
			`u@x|"10/6/2026, 1:00:00.000 PM"|0|"10/13/2026, 1:00:00.000 PM"`), localedate.SawMonthFirst, false},
		// Only the time columns count: a date in the user name (anyone
		// can choose their display strings) shows nothing.
		{"spoof.csv", rows("Date (UTC),Request ID,Username,Status", `"7/12/2026 3:05:26 PM"|ID|13/12/2026 1:00|Success`), 0, false},
		{"mixed.csv", rows("Date (UTC),Request ID,Username,Status", "13/10/2026 09:14|ID|u@x|Success", "06/10/2026 09:14|ID|u@x|Success",
			"10/14/2026 10:00|ID|u@x|Success"), localedate.SawDayFirst | localedate.SawMonthFirst, true},
		{"office.csv", rows("TenantId,Start_Time,Operation,OfficeWorkload", `t|"6.10.2026 09:14:00"|FileAccessed|OneDrive`, `t|"7/10/2026 09:14:00"|FileAccessed|OneDrive`),
			localedate.SawDayFirst, false},
		{"purview.csv", rows("RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames",
			`ID|13/10/2026 09:14|15|UserLoggedIn|u@x|"{""Id"":""x"",""CreationTime"":""2026-10-13T09:14:00""}"||`), 0, false},
	} {
		path := testutil.WriteFile(t, dir, c.name, []byte(c.data))
		for _, batch := range []int{64, 1 << 20} {
			res := readOK(t, []string{path}, Options{BatchBytes: batch})
			if len(res.recs) == 0 {
				t.Fatalf("%s: nothing framed", c.name)
			}
			for _, r := range res.recs {
				if r.Dates != c.want {
					t.Errorf("%s, batch %d: row %d carries %d, want %d", c.name, batch, r.Line, r.Dates, c.want)
				}
			}
			var warnings []string
			for _, p := range res.probs {
				if p.Warning && strings.HasPrefix(p.Reason, "locale dates in both orders") {
					warnings = append(warnings, filepath.Base(p.Path))
				}
			}
			if c.warn && (len(warnings) != 1 || warnings[0] != c.name) || !c.warn && len(warnings) > 0 {
				t.Errorf("%s: warnings %v", c.name, warnings)
			}
		}
	}
}

// signInRows is a sign-in CSV of n rows whose dates are all ambiguous
// (or show no order: day and month the same), then one that can only be
// day first.
func signInRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Date (UTC),Request ID,Username,Status\n")
	for i := range n {
		fmt.Fprintf(&b, "%d/%d/2026 09:14,r%d,u@x,Success\n", i%12+1, i%11+1, i)
	}
	b.WriteString("13/10/2026 09:14,last,u@x,Success\n")
	return b.Bytes()
}

// TestDatesSurveyNotHeld: an input that can be read again from its start
// (a regular file, a gzip file, a zip member, stored or deflated, on
// disk) has its dates surveyed by a read of their own, so none of its
// rows is held however large it is, and every batch still carries what
// the whole file shows (here a day-first date in its last row only). A
// stream of the same bytes is held, and gives the same answer.
func TestDatesSurveyNotHeld(t *testing.T) {
	const n = 20000
	data := signInRows(n)
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	paths := map[string]string{
		"plain":  testutil.WriteFile(t, dir, "s.csv", data),
		"gzip":   testutil.WriteFile(t, dir, "s.csv.gz", gz.Bytes()),
		"stored": testutil.WriteFile(t, dir, "stored.zip", zipBytes(t, member{name: "s.csv", data: data, store: true})),
		"zip":    testutil.WriteFile(t, dir, "deflated.zip", zipBytes(t, member{name: "s.csv", data: data})),
	}
	check := func(t *testing.T, res result, st readStats, held bool) {
		t.Helper()
		for _, p := range res.probs {
			t.Errorf("problem: %s", p.Error())
		}
		if len(res.recs) != n+1 {
			t.Fatalf("%d records, want %d", len(res.recs), n+1)
		}
		for _, r := range res.recs {
			if r.Dates != localedate.SawDayFirst {
				t.Fatalf("row %d carries %d, want day first", r.Line, r.Dates)
			}
		}
		switch {
		case !held && (st.heldPeak != 0 || st.surveys != 1):
			t.Errorf("held %d bytes at most, %d surveys read: want nothing held, one survey", st.heldPeak, st.surveys)
		case held && (st.heldPeak < int64(len(data))/2 || st.surveys != 0):
			t.Errorf("stream: held %d bytes at most, %d surveys read: want it held whole", st.heldPeak, st.surveys)
		}
	}
	for name, path := range paths {
		for _, noAhead := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/noAhead=%v", name, noAhead), func(t *testing.T) {
				var st readStats
				res := readOK(t, []string{path}, Options{BatchBytes: 4096, noAhead: noAhead, stats: &st})
				check(t, res, st, false)
			})
		}
	}
	t.Run("stdin", func(t *testing.T) {
		var st readStats
		res := readBytes(t, data, Options{BatchBytes: 4096, stats: &st})
		if res.err != nil {
			t.Fatal(res.err)
		}
		check(t, res, st, true)
	})
}

// TestDatesHoldBudget: a stream's rows are held for the survey only up
// to the budget; past it the order is decided by the rows held, a
// warning naming the input says by how many, and another says that the
// rows after them show an order the first did not. The answer, the
// warnings and their row counts are the same whatever the batch size.
func TestDatesHoldBudget(t *testing.T) {
	data := signInRows(2000)
	const budget = 4096
	var first []Problem
	for _, batch := range []int{64, 700, 4096, 1 << 20} {
		for _, order := range []localedate.Order{0, localedate.MonthFirst} {
			var st readStats
			res := readBytes(t, data, Options{BatchBytes: batch, holdBytes: budget, stats: &st, DateOrder: order})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if len(res.recs) != 2001 {
				t.Fatalf("%d records", len(res.recs))
			}
			want := localedate.Evidence(0).State(order)
			for _, r := range res.recs {
				if r.Dates != want {
					t.Fatalf("batch %d, order %d: row %d carries %d, want %d", batch, order, r.Line, r.Dates, want)
				}
			}
			if limit := int64(budget + batch + 64); st.heldPeak > limit || st.heldPeak <= budget {
				t.Errorf("batch %d: held %d bytes at most, want over %d (the budget) and at most %d", batch, st.heldPeak, budget, limit)
			}
			if len(res.probs) != 2 || res.probs[0].Path != "-" || !res.probs[0].Warning || !res.probs[1].Warning ||
				!strings.HasPrefix(res.probs[0].Reason, "locale dates surveyed in its first ") ||
				!strings.Contains(res.probs[1].Reason, "show day first too") {
				t.Fatalf("batch %d: problems %+v", batch, res.probs)
			}
			if order == 0 {
				if first == nil {
					first = res.probs
					t.Logf("%s\n%s", res.probs[0].Error(), res.probs[1].Error())
				} else if !slices.Equal(first, res.probs) {
					t.Errorf("batch %d: problems %+v, batch 64 gave %+v", batch, res.probs, first)
				}
			}
		}
	}
	// A stream within the budget is surveyed whole, without a word.
	res := readBytes(t, signInRows(20), Options{holdBytes: budget})
	if len(res.probs) != 0 || res.recs[0].Dates != localedate.SawDayFirst {
		t.Errorf("a short stream: problems %+v, dates %d", res.probs, res.recs[0].Dates)
	}
}

// TestDateOrderStated: Options.DateOrder states the order of a file
// whose own dates show none; a file whose dates show the other order
// only is read by them, with a warning naming it; a file whose dates
// show both is not read by the flag either.
func TestDateOrderStated(t *testing.T) {
	dir := t.TempDir()
	const head = "Date (UTC),Request ID,Username,Status\n"
	files := map[string]string{
		"ambiguous.csv": head + "06/10/2026 09:14,a,u@x,Success\n01/02/2026 09:14,b,u@x,Success\n",
		"us.csv":        head + "06/10/2026 09:14,a,u@x,Success\n10/13/2026 09:14,b,u@x,Success\n",
		"mixed.csv":     head + "06/10/2026 09:14,a,u@x,Success\n10/13/2026 09:14,b,u@x,Success\n13/10/2026 09:14,c,u@x,Success\n",
	}
	for _, c := range []struct {
		file  string
		order localedate.Order
		read  localedate.Order
		warn  string
	}{
		{"ambiguous.csv", 0, localedate.Ambiguous, ""},
		{"ambiguous.csv", localedate.DayFirst, localedate.DayFirst, ""},
		{"ambiguous.csv", localedate.MonthFirst, localedate.MonthFirst, ""},
		{"us.csv", localedate.MonthFirst, localedate.MonthFirst, ""},
		{"us.csv", localedate.DayFirst, localedate.MonthFirst, "locale dates show month first only (some have a second number over 12, and none a first), not day-first as --date-order says"},
		{"mixed.csv", localedate.DayFirst, localedate.Ambiguous, "locale dates in both orders"},
	} {
		path := testutil.WriteFile(t, dir, c.file, []byte(files[c.file]))
		res := readOK(t, []string{path}, Options{DateOrder: c.order})
		for _, r := range res.recs {
			if r.Dates.Order() != c.read || r.Dates.Stated() != c.order {
				t.Errorf("%s, --date-order %d: row %d carries %d (order %d), want order %d", c.file, c.order, r.Line, r.Dates, r.Dates.Order(), c.read)
			}
		}
		switch {
		case c.warn == "" && len(res.probs) != 0:
			t.Errorf("%s, --date-order %d: problems %+v", c.file, c.order, res.probs)
		case c.warn != "" && (len(res.probs) != 1 || res.probs[0].Path != path || !res.probs[0].Warning || !strings.HasPrefix(res.probs[0].Reason, c.warn)):
			t.Errorf("%s, --date-order %d: problems %+v, want one warning %q", c.file, c.order, res.probs, c.warn)
		}
	}
}

// FuzzDatesSurvey reads arbitrary bytes as a file (surveyed by a read of
// their own, nothing held) and as standard input (held): the same
// records, each carrying the same dates, and the same problems; and as
// standard input with a tiny hold budget: the same records, every one
// carrying one answer, no more held than the budget and a batch.
func FuzzDatesSurvey(f *testing.F) {
	f.Add(signInRows(30), uint8(0))
	f.Add([]byte("Date (UTC),Request ID,Username,Status\n06/10/2026 09:14,a,u,S\n\"13/10/2026\n 09:14\",b,u,S\n10/14/2026 10:00,c,u,S\n"), uint8(1))
	f.Add([]byte("TenantId,Start_Time,Operation,OfficeWorkload\nt,\"6.10.2026 09:14:00\",FileAccessed,OneDrive\nt,\"7/10/2026 09:14:00\",x,y\n"), uint8(2))
	f.Add([]byte("UserPrincipalName,\"TimeGenerated [UTC]\",ResultType\nu,\"10/5/2026, 11:12:13.456 AM\",0\nu,\"10/13/2026, 1:00:00.000 PM\",0\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, order uint8) {
		opts := Options{BatchBytes: 64, MaxRecordBytes: 200, DateOrder: localedate.Order(order % 3)}
		if opts.DateOrder == 0 {
			opts.DateOrder = localedate.Ambiguous // states nothing
		}
		path := filepath.Join(t.TempDir(), "in.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var st readStats
		opts.stats = &st
		file := readOK(t, []string{path}, opts)
		if st.heldPeak != 0 {
			t.Fatalf("a file: %d bytes held", st.heldPeak)
		}
		stream := readBytes(t, data, opts)
		problems := func(res result) []string {
			var out []string
			for _, p := range res.probs {
				out = append(out, fmt.Sprint(p.Unit, p.Line, p.Reason, p.Records, p.Warning))
			}
			slices.Sort(out)
			return out
		}
		records := func(res result, dates bool) []rec {
			out := slices.Clone(res.recs)
			for i := range out {
				out[i].Path = ""
				if !dates {
					out[i].Dates = 0
				}
			}
			return out
		}
		if !slices.Equal(records(file, true), records(stream, true)) || !slices.Equal(problems(file), problems(stream)) {
			t.Fatalf("a file and a stream differ:\n%+v\n%q\n%+v\n%q", file.recs, problems(file), stream.recs, problems(stream))
		}
		opts.holdBytes = 100
		small := readBytes(t, data, opts)
		if !slices.Equal(records(file, false), records(small, false)) {
			t.Fatalf("a 100-byte budget frames other records:\n%+v\n%+v", file.recs, small.recs)
		}
		for _, r := range small.recs {
			if r.Dates != small.recs[0].Dates {
				t.Fatalf("row %d carries %d, row %d %d", r.Line, r.Dates, small.recs[0].Line, small.recs[0].Dates)
			}
		}
		if limit := opts.holdBytes + 2*int64(opts.MaxRecordBytes) + int64(opts.BatchBytes); st.heldPeak > limit {
			t.Fatalf("%d bytes held, over %d", st.heldPeak, limit)
		}
	})
}

// TestDatesSurveySeparated: the survey splits the time columns of a file
// saved again with ';' or tabs at its own separator, read again from disk
// or held (stdin), so a day-first date in the last row decides the
// file's other dates as in a comma file. The date column is not the
// first, so a split at commas would find nothing.
func TestDatesSurveySeparated(t *testing.T) {
	const n = 300
	var comma bytes.Buffer
	comma.WriteString("Request ID,Username,Date (UTC),Status\n")
	for i := range n {
		fmt.Fprintf(&comma, "r%d,u@x,%d/%d/2026 09:14,Success\n", i, i%12+1, i%11+1)
	}
	comma.WriteString("last,u@x,13/10/2026 09:14,Success\n")
	for _, sep := range []byte{';', '\t'} {
		data := swapBytes(comma.Bytes(), ',', sep)
		path := testutil.WriteFile(t, t.TempDir(), "s.csv", data)
		for name, res := range map[string]result{
			"file":  readOK(t, []string{path}, Options{BatchBytes: 1024}),
			"stdin": readBytes(t, data, Options{BatchBytes: 1024}),
		} {
			if len(res.recs) != n+1 {
				t.Fatalf("%q %s: %d records, want %d", sep, name, len(res.recs), n+1)
			}
			for _, r := range res.recs {
				if r.Sep != sep || r.Dates != localedate.SawDayFirst {
					t.Fatalf("%q %s: row %d carries separator %q, dates %d; want %q, day first", sep, name, r.Line, r.Sep, r.Dates, sep)
				}
			}
		}
	}
}

// TestDatesSurveyDefender: a Defender CloudAppEvents export has its
// Timestamp column surveyed (the decoder reads it when RawEventData has
// no CreationTime), not a TimeGenerated column beside it that nothing
// reads: the day-first Timestamp of the last row decides the file.
func TestDatesSurveyDefender(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Timestamp,ActionType,ReportId,TimeGenerated,RawEventData\n")
	for i := range 50 {
		fmt.Fprintf(&b, "%d/%d/2026 09:14,UserLoggedIn,r%d,1/2/2026 10:00,\"{}\"\n", i%12+1, i%11+1, i)
	}
	b.WriteString("13/10/2026 09:14,UserLoggedIn,last,1/13/2026 10:00,\"{}\"\n")
	res := readOK(t, []string{testutil.WriteFile(t, t.TempDir(), "d.csv", b.Bytes())}, Options{BatchBytes: 512})
	if len(res.recs) != 51 {
		t.Fatalf("%d records, want 51", len(res.recs))
	}
	for _, r := range res.recs {
		if r.Format != DefenderCSV || r.Dates != localedate.SawDayFirst {
			t.Fatalf("row %d: format %s, dates %d; want %s, day first only", r.Line, r.Format, r.Dates, DefenderCSV)
		}
	}
}
