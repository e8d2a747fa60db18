// Package localedate reads the dates a spreadsheet or the Azure portal
// writes in a computer's locale ("7/12/2026 3:05:26 PM", "28/04/2021,
// 15:05:26.000", "06.10.2026 09:14") and says which order of day and
// month a value, or a whole file of them, shows.
//
// A locale date whose day and month are both 12 or less says nothing of
// its order, and neither does its clock: Windows and Excel write the
// 12-hour clock with AM/PM day first in en-AU, en-NZ, en-IN and other
// locales (CLDR, unicode-org/cldr common/main: en_AU short date
// "d/MM/yy", time "h:mm:ss a"; en_IN "dd/MM/yy", "h:mm:ss a"; .NET's "d"
// for en-NZ is "10/04/2001" for 10 April 2001, Standard DateTime Format
// Strings Output Examples,
// https://learn.microsoft.com/previous-versions/dotnet/netframework-3.0/hc4ky857(v=vs.85)).
// What does say it is another date of the same file: a file is written
// in one locale, so a first number over 12 anywhere in it (only a day)
// says day first, and a second one over 12 month first. The package
// has no dependencies, so that package source can survey a file's dates
// before its records are decoded and package audit can read them alike.
package localedate

// Order is the order a date is read in, or why it is not.
type Order uint8

// The orders.
const (
	// MonthFirst: M/D/YYYY, the US order.
	MonthFirst Order = iota + 1
	// DayFirst: D/M/YYYY or D.M.YYYY.
	DayFirst
	// Same: day and month are the same number, so the order does not
	// matter.
	Same
	// Ambiguous: both 12 or less and nothing in the file says which
	// comes first; the date is not read.
	Ambiguous
	// Invalid: not a locale date (or not a day of the calendar in either
	// order its numbers allow).
	Invalid
)

// Evidence is what the locale dates of a file say of their order: the
// union (bitwise OR) of the orders the dates that show one show. It is
// the same whatever order the dates are met in.
type Evidence uint8

// The evidence bits.
const (
	// SawDayFirst: a date read day first by itself (a first number over
	// 12, or dots).
	SawDayFirst Evidence = 1 << iota
	// SawMonthFirst: a date read month first by itself (a second number
	// over 12).
	SawMonthFirst
	// StatedDayFirst and StatedMonthFirst are not evidence but the
	// analyst's word (the CLI's --date-order): the order of a file whose
	// own dates show none. A US analyst's Log Analytics export of the
	// first twelve days of a month has no date with a number over 12, yet
	// the analyst knows which locale the browser wrote it in. The file's
	// own dates, when they show an order, outrank the word (Order).
	StatedDayFirst
	StatedMonthFirst
)

// seen are the bits the file's own dates set.
const seen = SawDayFirst | SawMonthFirst

// Mixed reports whether dates of both orders were seen: a file that
// cannot have been written in one locale (or whose dates were edited),
// whose ambiguous dates are then not read, whatever order was stated.
func (e Evidence) Mixed() bool { return e&seen == seen }

// Seen is the evidence of the file's own dates, the stated order left
// out.
func (e Evidence) Seen() Evidence { return e & seen }

// State returns e with order (DayFirst or MonthFirst) stated for the
// case its dates show none; any other order states nothing.
func (e Evidence) State(order Order) Evidence {
	switch order {
	case DayFirst:
		return e | StatedDayFirst
	case MonthFirst:
		return e | StatedMonthFirst
	}
	return e
}

// Stated is the order stated (State), 0 when none was.
func (e Evidence) Stated() Order {
	switch {
	case e&StatedDayFirst != 0:
		return DayFirst
	case e&StatedMonthFirst != 0:
		return MonthFirst
	}
	return 0
}

// Contradicts reports whether the file's own dates show only the order
// the stated one is not: the file is then read by its dates, and the
// analyst is told.
func (e Evidence) Contradicts() bool {
	s := e.Stated()
	return s == DayFirst && e.Seen() == SawMonthFirst || s == MonthFirst && e.Seen() == SawDayFirst
}

// Order is the order an ambiguous date of a file with this evidence is
// read in: DayFirst or MonthFirst when the file's dates show only that
// one; the stated order when they show none; Ambiguous otherwise
// (nothing shows or states an order, or the dates show both).
func (e Evidence) Order() Order {
	switch e.Seen() {
	case SawDayFirst:
		return DayFirst
	case SawMonthFirst:
		return MonthFirst
	case 0:
		if s := e.Stated(); s != 0 {
			return s
		}
	}
	return Ambiguous
}

// Of is the evidence one value gives: the order it shows by itself when
// it is a valid locale date that shows one, nothing otherwise.
func Of(b []byte) Evidence {
	_, o, byFile := Read(b, 0)
	switch {
	case byFile:
	case o == DayFirst:
		return SawDayFirst
	case o == MonthFirst:
		return SawMonthFirst
	}
	return 0
}

// Read reads A/B/YYYY[,] H:MM[:SS[.fff]] [AM|PM] and A.B.YYYY
// H:MM[:SS[.fff]] (surrounding spaces allowed) as UTC, returning Unix
// nanoseconds and the order it was read in. A dotted date is day first
// (no locale writes D.M month first); with slashes, a first number over
// 12 can only be a day and a second one over 12 only a day. Otherwise
// the file's evidence decides (byFile is then true) when it shows one
// order only, or the stated order when it shows none; otherwise the date
// is Ambiguous: 03/04/2026
// is 3 April in London and Sydney and March 4 in New York, whatever the
// clock. The time is usable only when the order is below Ambiguous.
func Read(b []byte, file Evidence) (ns int64, order Order, byFile bool) {
	b = trimSpace(b)
	num := func(max int) (int, bool) {
		n, i := 0, 0
		for i < len(b) && i < max && b[i] >= '0' && b[i] <= '9' {
			n = n*10 + int(b[i]-'0')
			i++
		}
		if i == 0 {
			return 0, false
		}
		b = b[i:]
		return n, true
	}
	sep := func(c byte) bool {
		if len(b) > 0 && b[0] == c {
			b = b[1:]
			return true
		}
		return false
	}
	a, ok1 := num(2)
	var dsep byte
	if len(b) > 0 && (b[0] == '/' || b[0] == '.') {
		dsep = b[0]
	}
	ok2 := dsep != 0 && sep(dsep)
	c, ok3 := num(2)
	ok4 := ok2 && sep(dsep)
	y, ok5 := num(4)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || y < 1000 {
		return 0, Invalid, false
	}
	sep(',')
	if !sep(' ') {
		return 0, Invalid, false
	}
	for sep(' ') {
	}
	h, ok1 := num(2)
	ok2 = sep(':')
	mi, ok3 := num(2)
	if !(ok1 && ok2 && ok3) {
		return 0, Invalid, false
	}
	s := 0
	var nanos int64
	if sep(':') {
		var ok bool
		if s, ok = num(2); !ok {
			return 0, Invalid, false
		}
		if sep('.') {
			var n int
			if nanos, n = Fraction(b); n == 0 {
				return 0, Invalid, false
			}
			b = b[n:]
		}
	}
	for sep(' ') {
	}
	switch {
	case len(b) == 0:
	case len(b) == 2 && (b[1] == 'M' || b[1] == 'm') && (b[0] == 'A' || b[0] == 'a' || b[0] == 'P' || b[0] == 'p'):
		// The 12-hour clock: it says nothing of the date's order.
		if h < 1 || h > 12 {
			return 0, Invalid, false
		}
		if h == 12 {
			h = 0
		}
		if b[0] == 'P' || b[0] == 'p' {
			h += 12
		}
	default:
		return 0, Invalid, false
	}
	switch {
	case dsep == '.', a > 12:
		order = DayFirst
	case c > 12:
		order = MonthFirst
	case a == c:
		order = Same
	default:
		order, byFile = file.Order(), true
	}
	mo, d := a, c
	if order == DayFirst {
		mo, d = c, a
	}
	if mo < 1 || mo > 12 || d < 1 || d > DaysIn(mo, y) || h > 23 || mi > 59 || s > 60 {
		return 0, Invalid, false
	}
	if order == Ambiguous {
		return 0, Ambiguous, true
	}
	secs := DaysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s)
	return secs*1e9 + nanos, order, byFile
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Fraction reads the digits of a fraction of a second at the start of b:
// the nanoseconds they make (digits past the ninth count for nothing) and
// how many there are.
func Fraction(b []byte) (nanos int64, n int) {
	scale := int64(100_000_000)
	for ; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		nanos += int64(b[n]-'0') * scale
		scale /= 10
	}
	return nanos, n
}

// DaysIn is the number of days of month m (1-12) of year y.
func DaysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DaysFromCivil counts days since 1970-01-01 (Howard Hinnant's algorithm).
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
