package report

import (
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/triage"
)

// TestAppNameFromLog: an application named by the sign-in log (whatever
// its owner registered, so attacker-chosen) is shown marked as the log's,
// through every renderer's own escaping.
func TestAppNameFromLog(t *testing.T) {
	const name = "=cmd|' /C calc'!A0\x1b[31m<script>alert(2)</script>\u202e"
	r := fixture(t)
	id := &r.Identities[0]
	id.Signins.Apps = append([]triage.App{{ID: "7f3e2a10-5b6c-4d7e-8f90-a1b2c3d4e5f6", Name: name, NameSource: triage.NameFromLog, Count: 2}}, id.Signins.Apps...)
	out := renderAll(t, r)
	// What each format must not carry raw, as for every other field: a
	// terminal's controls, and markup where it would be markup. CSV cells
	// are only made formula-safe, like every other cell.
	bad := map[Format][]string{
		Text:     {"\x1b", "\u202e"},
		Markdown: {"\x1b", "\u202e", "<script>alert(2)"},
		HTML:     {"\x1b", "\u202e", "<script>alert(2)"},
	}
	assertNotRaw(t, out, bad)
	for _, f := range []Format{Text, Markdown, HTML, CSV} {
		if !strings.Contains(out[f], "(name from the log)") {
			t.Errorf("%s: no mark of the log's name", f)
		}
	}
	// Every partner has a name_source of its own (one worst_severity each);
	// among the applications, only the one named by the log has one.
	if !strings.Contains(out[JSON], `"name_source": "log"`) || strings.Count(out[JSON], `"name_source"`) != 1+strings.Count(out[JSON], `"worst_severity"`) {
		t.Errorf("JSON: name_source not exactly once:\n%s", out[JSON])
	}
	if !strings.Contains(out[Text], `\x1b[31m<script>alert(2)</script>\u202e (name from the log)`) {
		t.Errorf("text: name not shown escaped:\n%s", out[Text])
	}
	if !strings.Contains(out[HTML], "&lt;script&gt;alert(2)&lt;/script&gt;") {
		t.Error("HTML: name not shown as text")
	}
	rows, col := csvColumn(t, out[CSV], "apps")
	if len(rows) == 0 || !strings.HasPrefix(rows[0][col], "'=cmd") {
		t.Errorf("CSV: the apps cell is not formula-safe: %q", rows)
	}
}
