package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/triage"
)

// TestPrintProblemsGroups: rows of one file skipped for one reason, each
// quoting its own value, are said in two lines (the first in full, the
// rest counted with their rows), not one line each (two are both said:
// two lines either way); another reason,
// another file, a warning and a file's own problem stay apart, in the
// order each first appears.
func TestPrintProblemsGroups(t *testing.T) {
	amb := func(path string, row int64, v string) triage.Problem {
		return triage.Problem{Path: path, Unit: "row", Line: row, Records: 1,
			Reason: `TimeGenerated "` + v + `" is ambiguous: day and month are both 12 or less`}
	}
	rep := &triage.Report{Problems: []triage.Problem{
		amb("a.csv", 2, "10/12/2026 10:00"),
		amb("a.csv", 3, "10/11/2026 10:00"),
		{Path: "a.csv", Unit: "row", Line: 4, Reason: "invalid UTF-8", Records: 1},
		amb("a.csv", 5, "9/11/2026 10:00"),
		amb("a.csv", 9, "9/10/2026 10:00"),
		amb("a.csv", 12, "9/9/2026 10:00"),
		amb("a.csv", 13, "9/8/2026 10:00"),
		amb("b.csv", 2, "1/2/2026 10:00"),
		{Path: "b.csv", Unit: "row", Line: 3, Reason: "invalid UTF-8", Records: 1},
		{Path: "b.csv", Unit: "row", Line: 4, Reason: "invalid UTF-8", Records: 1},
		{Path: "c.json", Reason: "unknown format"},
	}}
	var b bytes.Buffer
	printProblems(&b, rep)
	want := `outsider: skipped: a.csv: row 2: TimeGenerated "10/12/2026 10:00" is ambiguous: day and month are both 12 or less
outsider: skipped: a.csv: and 5 more rows (3, 5, 9...) for the same reason (each with its own value)
outsider: skipped: a.csv: row 4: invalid UTF-8
outsider: skipped: b.csv: row 2: TimeGenerated "1/2/2026 10:00" is ambiguous: day and month are both 12 or less
outsider: skipped: b.csv: row 3: invalid UTF-8
outsider: skipped: b.csv: row 4: invalid UTF-8
outsider: skipped: c.json: unknown format
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Count(b.String(), "\n") >= len(rep.Problems) {
		t.Errorf("%d lines for %d problems: nothing grouped", strings.Count(b.String(), "\n"), len(rep.Problems))
	}
}
