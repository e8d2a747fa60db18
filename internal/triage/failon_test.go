package triage

import "testing"

func TestReaches(t *testing.T) {
	rep := &Report{Identities: []Identity{{Severity: SeverityLow}, {Severity: SeverityInfo}, {Severity: SeverityLow}}}
	for _, c := range []struct {
		threshold string
		want      bool
	}{
		{SeverityHigh, false},
		{SeverityMedium, false},
		{SeverityLow, true},
		{SeverityInfo, true},
		{"", false},
		{"critical", false},
	} {
		if got := rep.Reaches(c.threshold); got != c.want {
			t.Errorf("Reaches(%q) = %v, want %v", c.threshold, got, c.want)
		}
	}
	if (&Report{}).Reaches(SeverityInfo) {
		t.Error("a report with no identity reaches info")
	}
	if n := rep.CountSeverity(SeverityLow); n != 2 {
		t.Errorf("CountSeverity(low) = %d, want 2", n)
	}
}
