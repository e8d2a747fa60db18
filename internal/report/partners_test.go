package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestHostilePartnerName: a partner name (from --partner-names or an
// account's domain, so attacker-chosen) goes through every renderer's own
// escaping, in the partner table and in the identities.
func TestHostilePartnerName(t *testing.T) {
	const name = "=cmd|' /C calc'!A0\x1b[31m<script>alert(3)</script>|`x`\u202e\nrow"
	r := fixture(t)
	r.Partners[0].Name = name
	r.Partners[0].Domains = append(r.Partners[0].Domains, "<img src=x onerror=alert(4)>")
	for i := range r.Identities {
		if r.Identities[i].HomeTenant == r.Partners[0].TenantID {
			r.Identities[i].Partner = name
		}
	}
	out := renderAll(t, r)
	bad := map[Format][]string{
		Text: {"\x1b", "\u202e", "\nrow"},
		// Markdown shows values as code spans, where markup is text.
		Markdown: {"\x1b", "\u202e", "\nrow"},
		HTML:     {"\x1b", "\u202e", "<script>alert(3)", "<img", "\nrow"},
	}
	assertNotRaw(t, out, bad)
	if !strings.Contains(out[Text], `=cmd|' /C calc'!A0\x1b[31m<script>alert(3)</script>|`+"`x`"+`\u202e\x0arow`) {
		t.Errorf("text: partner name not shown escaped:\n%s", out[Text])
	}
	if !strings.Contains(out[HTML], "&lt;script&gt;alert(3)&lt;/script&gt;") || !strings.Contains(out[HTML], "&lt;img src=x onerror=alert(4)&gt;") {
		t.Error("HTML: partner name or domain not shown as text")
	}
	if !strings.Contains(out[Markdown], "| "+textsafe.MarkdownCode(name, true)+" | domain |") || !strings.Contains(out[Markdown], textsafe.MarkdownCode("<img src=x onerror=alert(4)>", true)) {
		t.Error("Markdown: partner name or domain not in a code span")
	}
	// Markdown: the row stays one row of the partner table (11 cells).
	rowSeen := false
	for _, line := range strings.Split(out[Markdown], "\n") {
		if strings.Contains(line, "alert(3)") && strings.HasPrefix(line, "| `") && strings.Contains(line, "| domain |") {
			rowSeen = true
			if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 12 {
				t.Errorf("Markdown: partner row has %d pipes, want 12: %s", cells, line)
			}
		}
	}
	if !rowSeen {
		t.Error("Markdown: no partner row")
	}
	var doc struct {
		Partners []triage.Partner `json:"partners"`
	}
	if err := json.Unmarshal([]byte(out[JSON]), &doc); err != nil || doc.Partners[0].Name != name {
		t.Errorf("JSON: partner name not kept exactly: %v %+v", err, doc.Partners)
	}
	rows, col := csvColumn(t, out[CSV], "partner")
	seen := false
	for _, row := range rows {
		if strings.Contains(row[col], "calc") {
			seen = true
			if c := row[col][0]; c == '=' || c == '+' || c == '-' || c == '@' {
				t.Errorf("CSV: partner cell %q is a formula", row[col])
			}
		}
	}
	if !seen {
		t.Error("CSV: no identity carries the partner name")
	}
}

// TestTextPartnerTableNarrow: on a narrow terminal the partner table drops
// the tenant id column and fits the width; a name longer than its column
// is never cut but has a line of its own.
func TestTextPartnerTableNarrow(t *testing.T) {
	long := "a-partner-with-a-very-long-name-indeed.example.com"
	r := fixture(t)
	r.Partners[1].Name = long
	var b bytes.Buffer
	if err := RenderOptions(&b, Text, r, Options{Width: 60, All: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	head := strings.Index(out, "PARTNER ")
	if head < 0 {
		t.Fatalf("no partner table:\n%s", out)
	}
	lines := strings.Split(out[head:], "\n")[:5]
	if strings.Contains(lines[0], "TENANT") {
		t.Errorf("tenant column kept at width 60: %q", lines[0])
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > 60 && l != long {
			t.Errorf("line of %d columns at width 60: %q", utf8.RuneCountInString(l), l)
		}
	}
	if !slices.Contains(lines, long) {
		t.Errorf("long name not on a line of its own:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(lines[1], "fabrikam.com ") {
		t.Errorf("first partner row %q", lines[1])
	}
	// Wide enough: the tenant id is there.
	b.Reset()
	if err := RenderOptions(&b, Text, fixture(t), Options{Width: 100, All: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "PARTNER           FROM   WORST IDS ANOM ACT SHARED UNVER SIGNIN TENANT\n") {
		t.Errorf("no tenant column at width 100:\n%s", b.String())
	}
}

// TestPartnerNameSources: a partner named by the sign-in log or the
// directory (the home tenant's or a guest's own words, so attacker-chosen)
// says where its name came from in every format, goes through each
// format's escaping, never renders like a look-alike name, and is no
// formula in CSV.
func TestPartnerNameSources(t *testing.T) {
	base := fixture(t)
	if len(base.Partners) < 2 {
		t.Fatal("the fixture has fewer than two partners")
	}
	render := func(name, source string, f Format) string {
		r := *base
		r.Partners = slices.Clone(base.Partners)
		r.Partners[0].Name, r.Partners[0].NameSource = name, source
		r.Identities = slices.Clone(base.Identities)
		for i := range r.Identities {
			if r.Identities[i].HomeTenant == r.Partners[0].TenantID {
				r.Identities[i].Partner = name
			}
		}
		var b bytes.Buffer
		if err := Render(&b, f, &r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, source := range []string{triage.PartnerNameSignin, triage.PartnerNameDirectory} {
		const hostile = "=HYPERLINK(\"http://x.example\")\x07\x1b]8;;x\x1b\\<b>Fabrikam</b>\u202e"
		out := map[Format]string{}
		for _, f := range Formats {
			out[f] = render(hostile, source, f)
		}
		for f, s := range map[Format]string{
			Text:     "FROM",
			Markdown: "| " + textsafe.MarkdownCode(hostile, true) + " | " + source + " |",
			HTML:     "<td>" + source + "<td",
			JSON:     `"name_source": "` + source + `"`,
		} {
			if !strings.Contains(out[f], s) {
				t.Errorf("%s (%s): no %q", f, source, s)
			}
		}
		if !strings.Contains(out[Text], textsafe.Terminal(hostile)) || !strings.Contains(out[Text], " "+source+" ") {
			t.Errorf("text (%s): name or source not shown:\n%s", source, out[Text])
		}
		for f, bad := range map[Format][]string{Text: {"\x1b", "\x07", "\u202e"}, Markdown: {"\x1b", "\x07", "\u202e"}, HTML: {"\x1b", "\x07", "\u202e", "<b>Fabrikam"}} {
			for _, b := range bad {
				if strings.Contains(out[f], b) {
					t.Errorf("%s (%s): carries %q raw", f, source, b)
				}
			}
		}
		rows, err := csv.NewReader(strings.NewReader(out[CSV])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			if c := row[len(row)-1]; strings.Contains(c, "HYPERLINK") && c[0] == '=' {
				t.Errorf("CSV (%s): partner cell %q is a formula", source, c)
			}
		}
		// Look-alikes of a name never render alike.
		for _, p := range [][2]string{
			{"Fabrikam, Inc.", "Fabrikam,\u00a0Inc."},
			{"Fabrikam, Inc.", "Fabrikam\u200b, Inc."},
			{"Fabrikam, Inc.", "Fabrikam, Inc.\x1b[0m"},
			{"Fabrikam\u202e, Inc.", `Fabrikam\u202e, Inc.`},
		} {
			for _, f := range []Format{Text, Markdown, HTML} {
				if render(p[0], source, f) == render(p[1], source, f) {
					t.Errorf("%s (%s): %q and %q render alike", f, source, p[0], p[1])
				}
			}
		}
	}
}
