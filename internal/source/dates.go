package source

import (
	"strings"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// A CSV read by column names (a sign-in log's, an OfficeActivity
// export's) may hold its times as locale dates: re-saved by Excel, or
// exported from the Log Analytics portal. Whether 03/04/2026 is 3 April
// or March 4 is then said only by the file's other dates, so such a file
// is surveyed before any of its records is handed on: its batches are
// held while it is framed, the dates of its time columns are read, and
// every batch then carries what they show (Batch.Dates), which the
// decoders read the ambiguous dates by. The survey reads only the time
// columns Microsoft's exporters (and Excel re-saving them) write, never a
// free-text field an attacker could put a date into; its answer is the
// union of what each date shows, the same whatever the batch sizes or the
// order batches are decoded in. Holding costs the file's size in memory,
// which such files keep small: the Entra download is meant for fewer than
// 250,000 records ("data sets smaller than 250,000 records work well with
// the browser download feature", How to download logs in Microsoft Entra
// ID, https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs),
// and Excel saves at most 1,048,576 rows. A UAL export's times are ISO
// 8601 inside AuditData: it is neither surveyed nor held, and its framing
// streams as before.

// timeColumns are the (normalised) names of the time columns of the CSVs
// read by column names: audit's SignInColumns (Date (UTC),
// CreatedDateTime, TimeGenerated) and OfficeColumns (TimeGenerated,
// Start_Time).
var timeColumns = map[string]bool{"date (utc)": true, "createddatetime": true, "timegenerated": true, "start_time": true}

// DateColumns returns the indexes of the time columns of a CSV header
// read by column names (the sign-in log's, OfficeActivity's) that the
// survey of a file's locale dates reads.
func DateColumns(header []string) []int {
	var cols []int
	for i, h := range header {
		n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))), " [utc]")
		if timeColumns[n] {
			cols = append(cols, i)
		}
	}
	return cols
}

// mixedDates is the warning for a file whose dates show both orders.
const mixedDates = "locale dates in both orders: some can only be day first (a first number over 12), others only month first " +
	"(a second number over 12), so the file was not written in one locale (or was edited); each such date is read in the order it shows, " +
	"and the rows whose day and month are both 12 or less are skipped as ambiguous"

// RowDates is what the dates of one CSV row's time columns (cols, from
// DateColumns) show of their order; a field that does not split shows
// nothing. scratch is CSVField's, returned for reuse.
func RowDates(row []byte, cols []int, scratch []byte) (localedate.Evidence, []byte) {
	var e localedate.Evidence
	for _, c := range cols {
		v, sc, err := CSVField(row, c, scratch[:0])
		scratch = sc
		if err == nil {
			e |= localedate.Of(v)
		}
	}
	return e, scratch
}

// survey adds what the time columns of b's rows show to f.dates.
func (f *feed) survey(b *Batch) {
	for _, r := range b.Records {
		if f.dates.Mixed() {
			return // nothing can change it
		}
		var e localedate.Evidence
		e, f.scratch = RowDates(r.Data, f.dateCols, f.scratch)
		f.dates |= e
	}
}

// release hands on the batches held for the survey, each carrying what
// the file's dates show, and warns when they show both orders.
func (f *feed) release() error {
	held := f.held
	f.held, f.holding = nil, false
	if f.dates.Mixed() {
		f.r.report(f.file, Problem{Path: f.path, Reason: mixedDates, Warning: true})
	}
	for i, b := range held {
		if err := f.emit(b); err != nil {
			for _, rest := range held[i+1:] {
				f.r.pool.put(rest)
			}
			return err
		}
	}
	return nil
}
