package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/triage"
)

// TestHostileObject: an object name is the record writer's choice: every
// format shows it escaped (a bidi override, an escape sequence, markup, a
// formula) and JSON keeps its value exactly.
func TestHostileObject(t *testing.T) {
	r := fixture(t)
	const name = "=cmd|' /C calc'!A0 \u202egnp.exe\x1b[2J<svg onload=window.pwned=9>`|*x*"
	obj := triage.AccessedObject{Kind: triage.KindFile, Object: name, How: []string{"account"}, Records: 1,
		Operations: map[string]int64{"FileAccessed": 1}, First: r.Input.From, Last: r.Input.From, RecordIDs: []string{"id-1"}}
	r.Identities[0].Accessed = []triage.AccessedObject{obj}
	sum := obj
	sum.Identities = 1
	r.AccessedSummary = []triage.AccessedObject{sum}
	out := renderAll(t, r)
	for _, f := range []Format{Text, JSON, Markdown, HTML} {
		if strings.ContainsAny(out[f], "\u202e\x1b") {
			t.Errorf("%s: a bidi override or escape sequence is written as it is", f)
		}
	}
	if !strings.Contains(out[Text], "gnp.exe") || strings.Count(out[Text], "gnp.exe") < 2 {
		t.Error("text: the object is not named in the answer and the identity's list")
	}
	if strings.Contains(out[HTML], "<svg onload") {
		t.Error("HTML: markup from an object name is live")
	}
	for _, line := range strings.Split(out[Markdown], "\n") {
		if strings.Contains(line, "onload") && !strings.Contains(line, "`") {
			t.Errorf("Markdown: the object is outside a code span: %s", line)
		}
	}
	var doc struct {
		Summary []triage.AccessedObject `json:"accessed_summary"`
	}
	if err := json.Unmarshal([]byte(out[JSON]), &doc); err != nil || len(doc.Summary) != 1 || doc.Summary[0].Object != name {
		t.Errorf("JSON: the object's value is not kept exactly: %v %+v", err, doc.Summary)
	}
	rows, col := csvColumn(t, out[CSV], "accessed")
	if len(rows) == 0 {
		t.Fatal("CSV: no identity row")
	}
	cell := rows[0][col]
	if col != len(rows[0])-1 || !strings.Contains(cell, "gnp.exe") || strings.ContainsAny(cell[:1], "=+-@") {
		t.Errorf("CSV: accessed cell %q", cell)
	}
}

// TestAccessedNotComputed: a report whose lists were not computed says so
// in the answer, and no identity reads as having touched nothing.
func TestAccessedNotComputed(t *testing.T) {
	r := fixture(t)
	r.DropAccessed(triage.AccessedFromDatabase)
	out := renderAll(t, r)
	for _, f := range []Format{Text, Markdown, HTML} {
		if !strings.Contains(out[f], "not computed") {
			t.Errorf("%s: the answer does not say the objects were not computed", f)
		}
	}
	if strings.Contains(out[JSON], `"accessed"`) || strings.Contains(out[JSON], `"accessed_summary"`) {
		t.Error("JSON: lists not computed are written (empty would read as nothing touched)")
	}
}

// TestTouchedAnswerCaveats: every format's answer on the objects touched,
// the terminal's shorter one included, says when the summary left objects
// out or counted only the records kept, so a cut list never reads whole.
func TestTouchedAnswerCaveats(t *testing.T) {
	r := fixture(t)
	if len(r.AccessedSummary) == 0 {
		t.Fatal("the fixture touches no object")
	}
	r.AccessedSummaryOmitted = 3
	r.Identities[0].AccessedPartial = true
	for f, s := range renderAll(t, r) {
		if f == JSON || f == CSV {
			continue
		}
		flat := strings.Join(strings.Fields(s), " ")
		for _, want := range []string{"3 more objects are left out.", "for some identities, at least these."} {
			if !strings.Contains(flat, want) {
				t.Errorf("%s: the answer does not say %q", f, want)
			}
		}
	}
}
