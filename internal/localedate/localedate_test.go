package localedate

import "testing"

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
		e     Evidence
		order Order
		mixed bool
	}{{0, Ambiguous, false}, {SawDayFirst, DayFirst, false}, {SawMonthFirst, MonthFirst, false}, {SawDayFirst | SawMonthFirst, Ambiguous, true}} {
		if c.e.Order() != c.order || c.e.Mixed() != c.mixed {
			t.Errorf("evidence %d: order %d mixed %v", c.e, c.e.Order(), c.e.Mixed())
		}
	}
	ns, o, byFile := Read([]byte("7/12/2026 3:05:26 PM"), fwd)
	if o != DayFirst || !byFile || ns != (DaysFromCivil(2026, 12, 7)*86400+15*3600+5*60+26)*1e9 {
		t.Errorf("7/12/2026 3:05:26 PM in an en-AU file: %d %d %v", ns, o, byFile)
	}
}
