package source

import (
	"errors"
	"fmt"
	"slices"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// A CSV read by column names (a sign-in log's, an OfficeActivity
// export's) may hold its times as locale dates: re-saved by Excel, or
// exported from the Log Analytics portal. Whether 03/04/2026 is 3 April
// or March 4 is then said only by the file's other dates, so such a file
// is surveyed before any of its records is handed on: the dates of its
// time columns are read, and every batch then carries what they show
// (Batch.Dates), which the decoders read the ambiguous dates by. The
// survey reads only the time columns Microsoft's exporters (and Excel
// re-saving them) write, never a free-text field an attacker could put a
// date into; its answer is the union of what each date shows, the same
// whatever the batch sizes or the order batches are decoded in.
//
// Such a file can be large: Sentinel's OfficeActivity export is a
// customer's audit log, many GB, and the run stays under 256 MB whatever
// the size (bench/README.md). So nothing is held for the survey when the
// input can be read again from its start (a regular file; a gzip file or
// a zip member on disk, inflated again): a first read frames its rows,
// reads their time columns and keeps nothing (surveyAgain); the read
// that hands the records on follows. A stream (standard input, a pipe, an
// archive inside another) cannot be read twice: its batches are held
// while they are surveyed, up to Options.holdBytes of rows (64 MB); past
// that the order is decided by the rows held, which a warning naming the
// input says, and the rows after them are surveyed as they pass, so a
// warning also says when they show an order the first did not. Either
// way the answer depends on the bytes alone, never on read sizes.
//
// The file's own dates outrank Options.DateOrder (the analyst's
// --date-order), which states the order of a file whose dates show none
// (localedate.Evidence.State); a file whose dates show the other order
// only is read by them, with a warning. A UAL export's times are ISO
// 8601 inside AuditData: it is neither surveyed nor held.

// timeColumns are the (normalised) names of the time columns of the CSVs
// read by column names: audit's SignInColumns (Date (UTC),
// CreatedDateTime, TimeGenerated) and OfficeColumns (TimeGenerated,
// Start_Time).
var timeColumns = map[string]bool{"date (utc)": true, "createddatetime": true, "timegenerated": true, "start_time": true}

// defenderTimeColumns is the one time column of Defender's CloudAppEvents
// export the decoder reads (Timestamp, when RawEventData has no
// CreationTime: audit.DecodeDefender*): surveyed so that --date-order and
// the file's other dates apply to it as to a sign-in CSV's, and
// Sentinel's TimeGenerated beside it, which nothing reads, is not.
var defenderTimeColumns = map[string]bool{"timestamp": true}

// DateColumns returns the indexes of the time columns of a CSV header
// read by column names (the sign-in log's, OfficeActivity's, Defender's
// CloudAppEvents': format says which) that the survey of a file's locale
// dates reads.
func DateColumns(header []string, format Format) []int {
	names := timeColumns
	if format == DefenderCSV {
		names = defenderTimeColumns
	}
	var cols []int
	for i, h := range header {
		if names[headerKey(h)] {
			cols = append(cols, i)
		}
	}
	return cols
}

// mixedDates is the warning for a file whose dates show both orders.
const mixedDates = "locale dates in both orders: some can only be day first (a first number over 12), others only month first " +
	"(a second number over 12), so the file was not written in one locale (or was edited); each such date is read in the order it shows, " +
	"and the rows whose day and month are both 12 or less are skipped as ambiguous, whatever --date-order says"

// RowDates is what the dates of one CSV row's time columns (cols, from
// DateColumns) show of their order; sep is the file's separator
// (Batch.Separator; 0 for commas); a field that does not split shows
// nothing. scratch is CSVFieldSep's, returned for reuse.
func RowDates(row []byte, cols []int, sep byte, scratch []byte) (localedate.Evidence, []byte) {
	var e localedate.Evidence
	for _, c := range cols {
		v, sc, err := CSVFieldSep(row, c, sep, scratch[:0])
		scratch = sc
		if err == nil {
			e |= localedate.Of(v)
		}
	}
	return e, scratch
}

// errSurveyed ends a survey read early: the dates show both orders, and
// nothing further can change that.
var errSurveyed = errors.New("dates surveyed")

// surveyAgain surveys the dates of the input f frames (whose header is
// header) by reading it again from its start (f.reopen), keeping nothing:
// what its dates show, and false when it cannot be read again (a
// stream), or the second read does not frame as the first (the file
// changed, a read error): its rows are then held instead. Problems the
// survey meets are the read's to report, not the survey's.
func (r *run) surveyAgain(f *feed, header []string) (localedate.Evidence, bool) {
	if f.reopen == nil {
		return 0, false
	}
	rd, done, err := f.reopen()
	if err != nil {
		return 0, false
	}
	defer done()
	var e localedate.Evidence
	var scratch []byte
	cols := f.dateCols
	sub := &run{ctx: r.ctx, opts: r.opts, problem: func(Problem) {}, pool: r.pool, inputs: []Input{{Path: f.path}}}
	sub.opts.Progress = nil
	sub.emit = func(b *Batch) error {
		for i := range b.Records {
			var x localedate.Evidence
			x, scratch = RowDates(b.Records[i].Data, cols, f.sep, scratch)
			e |= x
		}
		b.Release()
		if e.Mixed() {
			return errSurveyed
		}
		return nil
	}
	src, _ := text(&peeker{r: rd})
	g := sub.newFeed(0, f.path, src)
	s, err := g.sniff(r.opts.Format)
	if err == nil && (s.problem != "" || s.framing != frameRows || !slices.Equal(s.header, header)) {
		err = errReframed
	}
	if err == nil {
		g.format, g.csvCol, g.header, g.sep = s.format, s.csvCol, s.header, s.sep
		err = frameCSV(g)
	}
	if err == nil {
		err = g.finish()
	} else if g.b != nil {
		sub.pool.put(g.b)
	}
	if err != nil && !errors.Is(err, errSurveyed) || g.rerr != nil {
		return 0, false
	}
	r.surveys++
	return e, true
}

// errReframed: the input, read again, does not frame as it did (it
// changed since it was opened).
var errReframed = errors.New("input changed since it was opened")

// decide settles f.dates, what the input's batches carry: the order
// stated (Options.DateOrder) joins what its dates show, and the analyst
// is told when these show both orders, or only the one not stated.
func (f *feed) decide() {
	if f.dates.Mixed() {
		f.r.report(f.file, Problem{Path: f.path, Reason: mixedDates, Warning: true})
	}
	f.dates = f.dates.State(f.r.opts.DateOrder)
	if f.dates.Contradicts() {
		f.r.report(f.file, Problem{Path: f.path, Warning: true,
			Reason: "locale dates " + shown(f.dates.Seen()) + ", not " + orderFlag(f.dates.Stated()) +
				" as --date-order says: the file's own dates outrank the flag, so its dates whose day and month are both 12 or less are " +
				readAs(f.dates.Order())})
	}
}

// shown says what evidence shows, for a warning.
func shown(e localedate.Evidence) string {
	switch e.Seen() {
	case localedate.SawDayFirst:
		return "show day first only (some have a first number over 12, or dots, and none a second)"
	case localedate.SawMonthFirst:
		return "show month first only (some have a second number over 12, and none a first)"
	case localedate.SawDayFirst | localedate.SawMonthFirst:
		return "show both orders"
	}
	return "show no order (no day or month over 12)"
}

// orderFlag is the --date-order value of an order.
func orderFlag(o localedate.Order) string {
	if o == localedate.DayFirst {
		return "day-first"
	}
	return "month-first"
}

// readAs says how an ambiguous date is read in an order.
func readAs(o localedate.Order) string {
	switch o {
	case localedate.DayFirst:
		return "read day first"
	case localedate.MonthFirst:
		return "read month first"
	}
	return "skipped as ambiguous (--date-order states their order)"
}

// sizeText writes a hold budget.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// survey adds what the time columns of b's rows, held, show to f.dates,
// up to the hold budget; the rows past it are surveyed as they pass
// (later). It reports whether the order is decided: the dates show both
// orders, or the budget is spent.
func (f *feed) survey(b *Batch) bool {
	for i := range b.Records {
		data := b.Records[i].Data
		var e localedate.Evidence
		e, f.scratch = RowDates(data, f.dateCols, f.sep, f.scratch)
		f.heldBytes += int64(len(data))
		if f.cut {
			f.later |= e
			continue
		}
		f.dates |= e
		f.heldRows++
		if f.heldBytes > f.r.opts.holdBytes {
			f.cut = true
		}
	}
	f.r.heldPeak = max(f.r.heldPeak, f.heldBytes)
	return f.cut || f.dates.Mixed()
}

// surveyLater adds what the rows of b, which pass after the order was
// decided by the rows held, show to f.later.
func (f *feed) surveyLater(b *Batch) {
	for i := range b.Records {
		if (f.later | f.dates).Mixed() {
			return // every order the first rows did not show is seen
		}
		var e localedate.Evidence
		e, f.scratch = RowDates(b.Records[i].Data, f.dateCols, f.sep, f.scratch)
		f.later |= e
	}
}

// release hands on the batches held for the survey, each carrying what
// the input's dates show (decide).
func (f *feed) release() error {
	held := f.held
	f.held, f.holding, f.heldBytes = nil, false, 0
	if f.cut {
		f.r.report(f.file, Problem{Path: f.path, Warning: true,
			Reason: fmt.Sprintf("locale dates surveyed in its first %d rows only: %s, and at most %s of its rows are held for the survey; "+
				"they %s, so its dates whose day and month are both 12 or less are %s; %s",
				f.heldRows, f.whyHeld(), sizeText(f.r.opts.holdBytes), shown(f.dates), readAs(f.dates.State(f.r.opts.DateOrder).Order()), f.remedy())})
	}
	f.decide()
	for i, b := range held {
		if err := f.send(b); err != nil {
			for _, rest := range held[i+1:] {
				f.r.pool.put(rest)
			}
			return err
		}
	}
	return nil
}

// whyHeld says why an input's rows were held for the survey of its
// dates rather than surveyed by a read of their own.
func (f *feed) whyHeld() string {
	if f.rereadFailed {
		return "the file could not be read a second time for the survey (it changed since it was opened, or a read failed)"
	}
	return "a stream (standard input, a pipe, an archive inside another) cannot be read twice"
}

// remedy says what would have all of an input's dates surveyed.
func (f *feed) remedy() string {
	if f.rereadFailed {
		return "give it again once it no longer changes to have all its dates surveyed"
	}
	return "save it to a file to have all its dates surveyed"
}

// warnLater says, at the end of a stream whose order was decided by its
// first rows, that the rows after them show an order the first did not.
func (f *feed) warnLater() {
	added := f.later.Seen() &^ f.dates.Seen()
	if !f.cut || added == 0 {
		return
	}
	what := "show day first too (a first number over 12, or dots)"
	switch added {
	case localedate.SawMonthFirst:
		what = "show month first too (a second number over 12)"
	case localedate.SawDayFirst | localedate.SawMonthFirst:
		what = "show both orders"
	}
	f.r.report(f.file, Problem{Path: f.path, Warning: true,
		Reason: fmt.Sprintf("locale dates after its first %d rows %s, yet those rows alone decided that its dates whose day and month are both 12 or less are %s: "+
			"%s", f.heldRows, what, readAs(f.dates.Order()), f.remedy())})
}
