package localedate

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEvidence: a file's dates decide the order of its ambiguous ones
// only when they show one order; the union does not depend on the order
// the dates are met in.
func TestEvidence(t *testing.T) {
	dates := []string{"7/12/2026 3:05:26 PM", "13/12/2026 9:00:00 AM", "1/1/2026 1:00", "2026-12-07T15:05:26Z", "6.12.2026 10:00"}
	var fwd, back Evidence
	for i := range dates {
		fwd |= Of([]byte(dates[i]))
		back |= Of([]byte(dates[len(dates)-1-i]))
	}
	if fwd != SawDayFirst || back != fwd {
		t.Fatalf("evidence %d / %d, want day first only", fwd, back)
	}
	for _, c := range []struct {
		e      Evidence
		order  Order
		mixed  bool
		contra bool
	}{{0, Ambiguous, false, false}, {SawDayFirst, DayFirst, false, false}, {SawMonthFirst, MonthFirst, false, false},
		{SawDayFirst | SawMonthFirst, Ambiguous, true, false},
		// A stated order decides only where the dates show none.
		{StatedMonthFirst, MonthFirst, false, false}, {StatedDayFirst, DayFirst, false, false},
		{SawDayFirst | StatedMonthFirst, DayFirst, false, true}, {SawMonthFirst | StatedDayFirst, MonthFirst, false, true},
		{SawMonthFirst | StatedMonthFirst, MonthFirst, false, false},
		{SawDayFirst | SawMonthFirst | StatedMonthFirst, Ambiguous, true, false}} {
		if c.e.Order() != c.order || c.e.Mixed() != c.mixed || c.e.Contradicts() != c.contra {
			t.Errorf("evidence %d: order %d mixed %v contradicts %v", c.e, c.e.Order(), c.e.Mixed(), c.e.Contradicts())
		}
	}
	if e := Evidence(SawDayFirst).State(MonthFirst); e.Seen() != SawDayFirst || e.Stated() != MonthFirst {
		t.Errorf("State: %d", e)
	}
	if e := Evidence(0).State(Ambiguous); e != 0 {
		t.Errorf("State(Ambiguous) = %d, want nothing stated", e)
	}
	ns, o, by := Read([]byte("3/4/2026 1:00 PM"), StatedMonthFirst)
	if o != MonthFirst || !by || ns != (DaysFromCivil(2026, 3, 4)*86400+13*3600)*1e9 {
		t.Errorf("3/4/2026 1:00 PM stated month first: %d %d %v", ns, o, by)
	}
	ns, o, byFile := Read([]byte("7/12/2026 3:05:26 PM"), fwd)
	if o != DayFirst || !byFile || ns != (DaysFromCivil(2026, 12, 7)*86400+15*3600+5*60+26)*1e9 {
		t.Errorf("7/12/2026 3:05:26 PM in an en-AU file: %d %d %v", ns, o, byFile)
	}
}

// refDate is Read written another way, for the differential fuzz test:
// a regular expression for the syntax, time.Date for the calendar.
var refDate = regexp.MustCompile(`^[ \t]*(\d{1,2})([/.])(\d{1,2})[/.](\d{4}),? +(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)? *(?:([AaPp])[Mm])?[ \t\r]*$`)

func refRead(s string, file Evidence) (int64, Order, bool) {
	m := refDate.FindStringSubmatch(s)
	if m == nil {
		return 0, Invalid, false
	}
	// Both separators must be the same.
	rest := strings.TrimLeft(s, " \t")[len(m[1])+1+len(m[3]):]
	if rest[0] != m[2][0] {
		return 0, Invalid, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	a, c, y, h, mi, sec := n(1), n(3), n(4), n(5), n(6), n(7)
	if y < 1000 {
		return 0, Invalid, false
	}
	var nanos int64
	if f := m[8]; f != "" {
		f = (f + "000000000")[:9]
		v, _ := strconv.ParseInt(f, 10, 64)
		nanos = v
	}
	if m[9] != "" {
		if h < 1 || h > 12 {
			return 0, Invalid, false
		}
		h %= 12
		if m[9] == "P" || m[9] == "p" {
			h += 12
		}
	}
	var order Order
	byFile := false
	switch {
	case m[2] == ".", a > 12:
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
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if mo < 1 || mo > 12 || d < 1 || t.Day() != d || h > 23 || mi > 59 || sec > 60 {
		return 0, Invalid, false
	}
	if order == Ambiguous {
		return 0, Ambiguous, true
	}
	return t.Add(time.Duration(h)*time.Hour+time.Duration(mi)*time.Minute+time.Duration(sec)*time.Second).UnixNano() + nanos, order, byFile
}

// FuzzRead holds Read to refRead, and Of to what Read says of a date by
// itself.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"7/12/2026 3:05:26 PM", "13/12/2026 9:00:00 AM", "10/13/2026, 9:14:03.000 AM", "06.10.2026 09:14",
		" 1/1/2026 12:00 am\r", "29/2/2028 23:59:60.123456789123", "1/2.2026 1:00", "31/4/2026 1:00", "1/1/999 1:00"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, s string, bits uint8) {
		file := Evidence(bits & 15)
		ns, o, byFile := Read([]byte(s), file)
		wns, wo, wbyFile := refRead(s, file)
		if ns != wns || o != wo || byFile != wbyFile {
			t.Fatalf("Read(%q, %d) = %d %d %v, the reference %d %d %v", s, file, ns, o, byFile, wns, wo, wbyFile)
		}
		var want Evidence
		switch _, o0, by0 := Read([]byte(s), 0); {
		case by0:
		case o0 == DayFirst:
			want = SawDayFirst
		case o0 == MonthFirst:
			want = SawMonthFirst
		}
		if got := Of([]byte(s)); got != want {
			t.Fatalf("Of(%q) = %d, want %d", s, got, want)
		}
	})
}
