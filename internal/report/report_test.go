package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// fixture triages testdata/tenant.jsonl: a small tenant with one identity
// per verdict, hostile fields (ANSI escapes, bidi overrides, a formula, a
// script tag) and one broken line.
func fixture(t *testing.T) *triage.Report {
	t.Helper()
	r, err := triage.Run(context.Background(), []string{filepath.Join("testdata", "tenant.jsonl")}, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.Provenance = hostileProvenance()
	return r
}

// renderAll renders r in every format.
func renderAll(t *testing.T, r *triage.Report) map[Format]string {
	t.Helper()
	out := map[Format]string{}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Render(&b, f, r); err != nil {
			t.Fatal(err)
		}
		out[f] = b.String()
	}
	return out
}

// csvColumn parses the CSV report and finds the column headed name: its
// data rows and the column's index. A missing column fails the test as
// such, not as a wrong cell.
func csvColumn(t *testing.T, csvText, name string) (rows [][]string, col int) {
	t.Helper()
	all, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if len(all) == 0 {
		t.Fatal("CSV: no header row")
	}
	col = slices.Index(all[0], name)
	if col < 0 {
		t.Fatalf("CSV: no %s column in %q", name, all[0])
	}
	return all[1:], col
}

// assertNotRaw fails for each of bad[f] that the output in format f
// carries as it is.
func assertNotRaw(t *testing.T, out map[Format]string, bad map[Format][]string) {
	t.Helper()
	for f, bs := range bad {
		for _, b := range bs {
			if strings.Contains(out[f], b) {
				t.Errorf("%s: carries %q raw", f, b)
			}
		}
	}
}

// hostileProvenance is a provenance as the command line sets it, with a
// file name and an argument an attacker chose (a file name is as hostile
// as a record: exports arrive named by whoever sent them).
func hostileProvenance() *triage.Provenance {
	evil := "evil\x1b[31m<img src=x onerror=window.pwned=7>`|x\u202e.jsonl"
	return &triage.Provenance{
		Version: "1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567",
		Command: []string{"outsider", "triage", "testdata/tenant.jsonl", evil, "--since", "2026-10-01"},
		Inputs: []triage.ProvenanceInput{
			{Path: "testdata/tenant.jsonl", Bytes: 12345, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
			{Path: evil, Bytes: 3},
		},
		TimeZone:  triage.TimeZoneRule,
		Generated: "2026-12-07T14:00:00Z",
	}
}

func TestGolden(t *testing.T) {
	r := fixture(t)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, f, r); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", "tenant."+string(f)+".golden"), b.Bytes())
		})
	}
}

func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := RenderJSON(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != "outsider/triage/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		return out
	}
	want := map[string][]string{
		// provenance is an addition to v1 (issue 17), documented in
		// docs/reports.md; set by the command line, absent from Run alone;
		// partners too.
		// accessed_summary and accessed_scope: what was touched (issue
		// 17), documented in docs/reports.md.
		"":           {"schema", "tenant", "input", "summary", "identities", "partners", "provenance", "accessed_summary", "accessed_scope"},
		"provenance": {"version", "commit", "command", "inputs", "time_zone", "generated"},
		"prov_input": {"path", "bytes", "sha256"},
		"tenant":     {"ids", "domains", "inferred"},
		// v1 plus the additions of the coverage work (skipped_files,
		// coverage), documented in docs/reports.md.
		"input":    {"files", "records", "duplicates", "skipped", "skipped_files", "from", "to", "coverage"},
		"coverage": {"workload", "records", "days", "first", "last"},
		"summary":  {"identities", "by_verdict"},
		// v1 as DESIGN.md has it, plus the additions of the sign-in log and
		// directory work (sources, in_directory), the partners work
		// (partner), what was touched (accessed) and the exact count of
		// sharing records (sharing_count), documented in docs/reports.md.
		"identity":         {"user", "class", "home_tenant", "consumer", "verdict", "severity", "reasons", "signins", "activity", "sharing", "ip_also_used_by", "sources", "in_directory", "partner", "accessed", "sharing_count"},
		"accessed":         {"kind", "object", "how", "records", "operations", "first", "last", "record_ids"},
		"accessed_summary": {"kind", "object", "how", "records", "identities", "operations", "first", "last", "record_ids"},
		"partner":          {"tenant_id", "name", "name_source", "domains", "identities", "by_verdict", "worst_severity"},
		"signins":          {"success", "failure", "first", "last", "ips", "user_agents", "apps"},
		"activity":         {"by_user", "by_ip", "operations", "evidence"},
		"evidence":         {"time", "operation", "user", "ip", "object", "record_id", "source"},
		"file":             {"path", "format", "records", "skipped"},
	}
	id := doc["identities"].([]any)[0].(map[string]any)
	objs := map[string]any{
		"": doc, "tenant": doc["tenant"], "input": doc["input"], "summary": doc["summary"], "identity": id,
		"signins": id["signins"], "activity": id["activity"],
		"evidence":         id["activity"].(map[string]any)["evidence"].([]any)[0],
		"file":             doc["input"].(map[string]any)["files"].([]any)[0],
		"coverage":         doc["input"].(map[string]any)["coverage"].([]any)[0],
		"provenance":       doc["provenance"],
		"prov_input":       doc["provenance"].(map[string]any)["inputs"].([]any)[0],
		"partner":          doc["partners"].([]any)[0],
		"accessed_summary": doc["accessed_summary"].([]any)[0],
	}
	for _, x := range doc["identities"].([]any) {
		if list := x.(map[string]any)["accessed"].([]any); len(list) > 0 {
			objs["accessed"] = list[0]
			break
		}
	}
	for name, fields := range want {
		got := keys(objs[name])
		if len(got) != len(fields) {
			t.Errorf("%s has fields %v, want exactly %v", name, got, fields)
			continue
		}
		for _, f := range fields {
			if _, ok := objs[name].(map[string]any)[f]; !ok {
				t.Errorf("%s lacks field %q", name, f)
			}
		}
	}
	bv := doc["summary"].(map[string]any)["by_verdict"].(map[string]any)
	for _, v := range []string{"anomalous", "activity", "shared", "unverified", "signin-only"} {
		if _, ok := bv[v]; !ok {
			t.Errorf("by_verdict lacks %q", v)
		}
	}
	var workloads []string
	for _, c := range doc["input"].(map[string]any)["coverage"].([]any) {
		workloads = append(workloads, c.(map[string]any)["workload"].(string))
	}
	if want := []string{"signins", "exchange", "sharepoint", "teams", "other"}; !slices.Equal(workloads, want) {
		t.Errorf("coverage workloads %q, want %q in that order", workloads, want)
	}
	if bytes.Contains(b.Bytes(), []byte("<script>")) {
		t.Error("JSON carries a raw <script> tag; HTML characters must stay escaped")
	}
}

func TestHostileText(t *testing.T) {
	var b bytes.Buffer
	if err := RenderText(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	for i, c := range b.Bytes() {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("raw control byte 0x%02x at offset %d in text output", c, i)
		}
	}
	for _, bad := range []string{"\u202e", "\u0007"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("text output carries %q", bad)
		}
	}
	if !strings.Contains(b.String(), `mallory\x1b[31m@evil.example`) {
		t.Error("escaped UPN not shown")
	}
}

func TestCSVFormulaSafe(t *testing.T) {
	var b bytes.Buffer
	if err := RenderCSV(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell starts with a formula character: %q", cell)
			}
		}
	}
	if len(rows) != 1+len(fixture(t).Identities) {
		t.Errorf("%d rows", len(rows))
	}
}

func TestUseColor(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		name   string
		mode   ColorMode
		f      Format
		toFile bool
		tty    bool
		env    func(string) string
		want   bool
	}{
		{"terminal", ColorAuto, Text, false, true, env(), true},
		{"pipe", ColorAuto, Text, false, false, env(), false},
		{"NO_COLOR on a terminal", ColorAuto, Text, false, true, env("NO_COLOR", "1"), false},
		{"empty NO_COLOR is unset", ColorAuto, Text, false, true, env("NO_COLOR", ""), true},
		{"CLICOLOR_FORCE into a pipe", ColorAuto, Text, false, false, env("CLICOLOR_FORCE", "1"), true},
		{"CLICOLOR_FORCE=0", ColorAuto, Text, false, false, env("CLICOLOR_FORCE", "0"), false},
		{"NO_COLOR wins over CLICOLOR_FORCE", ColorAuto, Text, false, true, env("NO_COLOR", "1", "CLICOLOR_FORCE", "1"), false},
		{"--color always wins over NO_COLOR", ColorAlways, Text, false, false, env("NO_COLOR", "1"), true},
		{"--color never wins over everything", ColorNever, Text, false, true, env("CLICOLOR_FORCE", "1"), false},
		{"-o file, even always", ColorAlways, Text, true, true, env("CLICOLOR_FORCE", "1"), false},
		{"json, even always", ColorAlways, JSON, false, true, env(), false},
		{"csv on a terminal", ColorAuto, CSV, false, true, env(), false},
		{"md on a terminal", ColorAuto, Markdown, false, true, env(), false},
		{"html, even always", ColorAlways, HTML, false, true, env(), false},
	}
	for _, c := range cases {
		if got := UseColor(c.mode, c.f, c.toFile, c.tty, c.env); got != c.want {
			t.Errorf("%s: UseColor = %v, want %v", c.name, got, c.want)
		}
	}
	for _, s := range []string{"auto", "always", "never"} {
		if _, err := ParseColorMode(s); err != nil {
			t.Errorf("ParseColorMode(%q): %v", s, err)
		}
	}
	if _, err := ParseColorMode("yes"); err == nil {
		t.Error("ParseColorMode(yes) accepted")
	}
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTextColor: colour adds SGR codes and nothing else, and no escape
// from the records survives (the fixture's UPN carries one).
func TestTextColor(t *testing.T) {
	r := fixture(t)
	var plain, colored bytes.Buffer
	if err := RenderText(&plain, r); err != nil {
		t.Fatal(err)
	}
	if err := RenderOptions(&colored, Text, r, Options{Color: true, All: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.Bytes(), []byte("\x1b")) {
		t.Error("text without colour carries an escape")
	}
	if !bytes.Contains(colored.Bytes(), []byte("\x1b[1;31mHIGH anomalous\x1b[0m")) {
		t.Error("coloured text does not colour the high severity")
	}
	stripped := sgr.ReplaceAll(colored.Bytes(), nil)
	if !bytes.Equal(stripped, plain.Bytes()) {
		t.Errorf("coloured text minus its colour codes differs from plain text:\n%s", stripped)
	}
	if bytes.Contains(stripped, []byte("\x1b")) {
		t.Error("an escape that is not one of ours is in coloured text")
	}
}

// TestTextWidth: every line fits 100 columns and nothing is cut: long
// values are wrapped whole.
func TestTextWidth(t *testing.T) {
	r := fixture(t)
	long := "https://contoso.sharepoint.com/sites/finance/Shared%20Documents/" + strings.Repeat("quarterly-results-", 12) + "final.xlsx"
	upn := strings.Repeat("very.long.name.", 6) + "person@subsidiary.partner.example"
	r.Identities[0].User = upn
	r.Identities[0].Reasons = append(r.Identities[0].Reasons, "a reason that quotes "+long+" and goes on for a while after it, "+strings.Repeat("word ", 40))
	r.Identities[0].Activity.Evidence[0].Object = long
	r.Identities[0].Signins.UserAgents = []string{strings.Repeat("Mozilla/5.0 (Windows NT 10.0; Win64; x64) ", 4)}
	var b bytes.Buffer
	if err := RenderText(&b, r); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(b.String(), "\n") {
		// The table never breaks a user: one longer than the width stands
		// alone on its line, whole; every other line fits.
		if n := utf8.RuneCountInString(line); n > 100 && line != upn {
			t.Errorf("line %d has %d columns: %q", i+1, n, line)
		}
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %d ends with a space: %q", i+1, line)
		}
	}
	// Undo the wrapping: every long value is there whole.
	joined := regexp.MustCompile(`\n *`).ReplaceAllString(b.String(), "")
	for _, v := range []string{long, upn} {
		if !strings.Contains(joined, v) {
			t.Errorf("%q is not in the text output whole", v)
		}
	}
}

func TestWrap(t *testing.T) {
	cases := []struct {
		first, rest, s string
		width          int
		want           []string
	}{
		{"a: ", "   ", "one two three", 20, []string{"a: one two three"}},
		{"a: ", "   ", "one two three four", 12, []string{"a: one two", "   three", "   four"}},
		{"", "", "", 10, []string{""}},
		{"x ", "  ", "alice@fabrikam.example.com", 20, []string{"x alice@fabrikam.", "  example.com"}},
		{"x ", "  ", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20, []string{"x aaaaaaaaaaaaaaaaaa", "  aaaaaaaaaaaaaaaaaa"}},
		{"", "", "a  b", 3, []string{"a", "b"}},
		{"", "", "by" + glue + "bob@x.com", 40, []string{"by" + glue + "bob@x.com"}},
	}
	for _, c := range cases {
		got := wrap(c.first, c.rest, c.s, c.width)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrap(%q, %q, %q, %d) = %q, want %q", c.first, c.rest, c.s, c.width, got, c.want)
		}
	}
}

// unescapedPipes counts the pipes a GFM table splits a row on: every
// pipe not right after a backslash (in GitHub's cmark-gfm, "\\|" too is
// an escaped pipe after a backslash, inside code spans as well).
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		if line[i] == '|' && (i == 0 || line[i-1] != '\\') {
			n++
		}
	}
	return n
}

// TestHostileMarkdown: outside code spans, nothing from the hostile
// fixture can be markup, a link or HTML, and every table row has as many
// cells as its header.
func TestHostileMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := RenderMarkdown(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(b.Bytes(), "\x1b\u202e\u2028\r") {
		t.Error("Markdown carries a raw control character, bidi override or separator")
	}
	header := 0
	for i, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "|") {
			if header == 0 {
				header = unescapedPipes(line)
			} else if n := unescapedPipes(line); n != header {
				t.Errorf("line %d: table row with %d cell borders, header has %d: %s", i+1, n, header, line)
			}
		} else {
			header = 0
		}
		rest := testutil.StripCodeSpans(line, "CODE", true)
		for _, bad := range []string{"<", "javascript:", "onerror", "onload", "onmouseover", "](", "http://", "https://", "www.evil"} {
			if strings.Contains(rest, bad) {
				t.Errorf("line %d: %q outside a code span: %s", i+1, bad, line)
			}
		}
	}
	for _, want := range []string{"``Mozilla/5.0 <img src=x onerror=window.pwned=1>", "``trudy`'\"*<i>x</i>*@evil.example``", "`mallory\\x1b[31m@evil.example`"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Markdown does not show %q", want)
		}
	}
}

// TestMarkdownInGFM renders the Markdown with cmark-gfm, GitHub's own
// renderer (Debian's cmark-gfm, which .ci/run installs), and checks what
// GitHub would show: no link but mailto autolinks, no HTML from the
// records, every table row whole.
func TestMarkdownInGFM(t *testing.T) {
	bin, err := exec.LookPath("cmark-gfm")
	if err != nil {
		t.Skip("cmark-gfm not installed (apt-get install cmark-gfm; .ci/run does)")
	}
	var md bytes.Buffer
	if err := RenderMarkdown(&md, fixture(t)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-e", "table", "-e", "autolink", "-e", "strikethrough", "-e", "tagfilter")
	cmd.Stdin = &md
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)
	for _, a := range regexp.MustCompile(`<a [^>]*>`).FindAllString(page, -1) {
		if !strings.HasPrefix(a, `<a href="mailto:`) {
			t.Errorf("link in rendered Markdown: %s", a)
		}
	}
	allowed := map[string]bool{"a": true, "code": true, "h1": true, "h2": true, "h3": true, "li": true, "p": true, "strong": true,
		"table": true, "tbody": true, "td": true, "th": true, "thead": true, "tr": true, "ul": true}
	for _, m := range regexp.MustCompile(`<([a-zA-Z0-9]+)[ >/]`).FindAllStringSubmatch(page, -1) {
		if !allowed[m[1]] {
			t.Errorf("element <%s> in rendered Markdown", m[1])
		}
	}
	for _, tbl := range regexp.MustCompile(`(?s)<table>.*?</table>`).FindAllString(page, -1) {
		var cells []int
		for _, row := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(tbl, -1) {
			cells = append(cells, len(regexp.MustCompile(`<t[dh][ >]`).FindAllString(row[1], -1)))
		}
		for _, n := range cells {
			if n != cells[0] {
				t.Errorf("table rows with %v cells: %s", cells, tbl)
				break
			}
		}
	}
	if !strings.Contains(page, "<code>[click me](https://evil.example) **bold** ~~x~~ &lt;b onmouseover=window.pwned=5&gt;b&lt;/b&gt; | cell | www.evil.example &amp;#124; \\| end</code>") {
		t.Error("the hostile object is not shown whole as code")
	}
}

// TestHostileHTML checks the page without a browser: the only script and
// style are the page's own and match the hashes in its policy, and what
// the records carried is escaped text.
func TestHostileHTML(t *testing.T) {
	var b bytes.Buffer
	if err := RenderHTML(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d script elements, want the page's own only", n)
	}
	if n := strings.Count(page, "<style"); n != 1 {
		t.Errorf("%d style elements", n)
	}
	between := func(open, end string) string {
		_, after, _ := strings.Cut(page, open)
		body, _, _ := strings.Cut(after, end)
		return body
	}
	if between("<script>", "</script>") != htmlJS || between("<style>", "</style>") != htmlCSS {
		t.Error("inline script or style is not exactly the embedded asset")
	}
	policy := html.UnescapeString(between(`<meta http-equiv="Content-Security-Policy" content="`, `"`))
	if policy != HTMLPolicy {
		t.Errorf("policy in the page %q, want %q", policy, HTMLPolicy)
	}
	for _, want := range []string{"default-src 'none'", "script-src '" + cspHash(htmlJS) + "'", "style-src '" + cspHash(htmlCSS) + "'"} {
		if !strings.Contains(HTMLPolicy, want) {
			t.Errorf("policy lacks %s", want)
		}
	}
	for _, bad := range []string{"<img", "<svg onload", "<b ", "<i>", `="javascript:`, "onerror=\"", "unsafe-inline", "xmlns", "\x1b", "\u202e"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"&lt;img src=x onerror=window.pwned=1&gt;",
		`mallory\x1b[31m@evil.example`,
		`Evil\u202eAgent\x07`,
		"trudy`&#39;&#34;*&lt;i&gt;x&lt;/i&gt;*@evil.example",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page does not show %q as text", want)
		}
	}
	for _, m := range regexp.MustCompile(`(?i)\b(href|src|action|formaction|xlink:href|srcset|poster|data)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		// Only links to an element of the page itself (the table of
		// contents and the summary table's rows).
		if m[1] != "href" || !regexp.MustCompile(`^#[a-z0-9-]+$`).MatchString(m[2]) || !strings.Contains(page, ` id="`+m[2][1:]+`"`) {
			t.Errorf("reference out of the page: %s=%q", m[1], m[2])
		}
	}
}

// TestRawJSON: the raw row is valid JSON for the same values, with what
// textsafe.Terminal escapes written as JSON escapes.
func TestRawJSON(t *testing.T) {
	e := triage.Evidence{User: "a\u202eb\u0085c\U000e0001", Object: "<x>\x1b"}
	raw := rawJSON(e)
	var back triage.Evidence
	if err := json.Unmarshal([]byte(raw), &back); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if back != e {
		t.Errorf("round trip gave %+v, want %+v", back, e)
	}
	if strings.ContainsAny(raw, "\u202e\u0085\x1b") || !strings.Contains(raw, `\u202e`) || !strings.Contains(raw, `\udb40\udc01`) {
		t.Errorf("raw JSON not cleaned: %s", raw)
	}
}

// TestDeterministic: the same input gives the same bytes in every format,
// whatever the number of workers.
func TestDeterministic(t *testing.T) {
	runs := make([]*triage.Report, 2)
	for i, w := range []int{1, 4} {
		r, err := triage.Run(context.Background(), []string{filepath.Join("testdata", "tenant.jsonl")}, triage.Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = r
	}
	for _, f := range Formats {
		var a, b bytes.Buffer
		if err := Render(&a, f, runs[0]); err != nil {
			t.Fatal(err)
		}
		if err := Render(&b, f, runs[1]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s differs between runs", f)
		}
	}
}

// TestEmptyReport: no outside identity, no records: every format still
// renders and says so.
func TestEmptyReport(t *testing.T) {
	r := &triage.Report{Schema: triage.Schema, Summary: triage.Summary{ByVerdict: map[string]int{}}}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Render(&b, f, r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b.Len() == 0 {
			t.Errorf("%s: empty output", f)
		}
	}
	var b bytes.Buffer
	RenderHTML(&b, r)
	if !strings.Contains(b.String(), "No account from outside the organisation signed in") {
		t.Error("empty HTML report does not say nobody signed in")
	}
}

// TestTextFirstScreen: the text report answers first, then the table
// (most severe first, anomalous before activity within a severity);
// without All, identities below low are in the table only and a line
// says how many were folded; every block names its deciding records with
// the command that explains them.
func TestTextFirstScreen(t *testing.T) {
	r := fixture(t)
	var b bytes.Buffer
	if err := RenderOptions(&b, Text, r, Options{Width: 80}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	before, _, _ := strings.Cut(out, "Who were they?")
	if head := "outsider: 6 outside identities in 16 records from 2026-10-01T08:00:00Z to 2026-10-20T10:00:00Z"; strings.Join(strings.Fields(before), " ") != head {
		t.Errorf("before the first answer: %q, want only the headline", before)
	}
	iWho, iTable := strings.Index(out, "Was there a breach?"), strings.Index(out, "USER ")
	if iWho < 0 || iTable < iWho {
		t.Errorf("the table does not follow the answers")
	}
	// The bundled example (22 identities, objects touched named) on an
	// 80x24 terminal: the three answers, the table's head and its first
	// row fit the first screen.
	ex, err := triage.Run(context.Background(), []string{filepath.Join("..", "..", "examples", "tenant.jsonl")}, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var eb bytes.Buffer
	if err := RenderOptions(&eb, Text, ex, Options{Width: 80}); err != nil {
		t.Fatal(err)
	}
	exLines := strings.Split(eb.String(), "\n")
	head := slices.IndexFunc(exLines, func(l string) bool { return strings.HasPrefix(l, "USER ") })
	if head < 0 || head+2 >= 24 || !strings.Contains(strings.Join(exLines[:head], "\n"), "What did they access?") {
		t.Errorf("the example's table head is on line %d of 80x24, want the answers and the head with its first row on the first screen:\n%s", head+1, strings.Join(exLines[:min(len(exLines), 30)], "\n"))
	}
	var order []string
	for _, l := range lines {
		for _, u := range []string{"mallory", "erin@", "trudy", "dave@", "ivan@", "pilar@"} {
			if strings.HasPrefix(l, u) {
				order = append(order, u)
			}
		}
	}
	if want := []string{"mallory", "erin@", "trudy", "dave@", "ivan@", "pilar@"}; !slices.Equal(order, want) {
		t.Errorf("table order %q, want %q", order, want)
	}
	for i, l := range lines {
		// An explain command is never broken, so it may be wider.
		if n := utf8.RuneCountInString(l); n > 80 && !strings.HasPrefix(l, "    outsider explain ") {
			t.Errorf("line %d has %d columns at width 80: %q", i+1, n, l)
		}
	}
	if strings.Contains(out, "INFO signin-only: pilar@fabrikam.com") {
		t.Error("an info identity has its full block without All")
	}
	if !strings.Contains(out, "1 identity of severity info not shown in full (1 signin-only)") {
		t.Errorf("no line says what was folded:\n%s", out)
	}
	if !strings.Contains(out, "  explain:  the records that decided it, field by field:\n    outsider explain testdata/tenant.jsonl --id 00000000-0000-4000-8000-000000000007\n") {
		t.Errorf("the anomalous identity does not name its deciding record with the command:\n%s", out)
	}
	var all bytes.Buffer
	if err := RenderOptions(&all, Text, r, Options{Width: 80, All: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(all.String(), "INFO signin-only: pilar@fabrikam.com") || strings.Contains(all.String(), "not shown in full") {
		t.Error("All does not show every identity")
	}
}

// TestTextTableNarrow: on a narrow terminal the cells after the user are
// cut with …, the user never.
func TestTextTableNarrow(t *testing.T) {
	r := fixture(t)
	r.Identities[0].Class = "external-unknown"
	r.Identities[0].Consumer = true
	var b bytes.Buffer
	if err := RenderOptions(&b, Text, r, Options{Width: 60}); err != nil {
		t.Fatal(err)
	}
	table := strings.SplitN(strings.SplitN(b.String(), "USER ", 2)[1], "(sign-ins", 2)[0]
	if !strings.Contains(table, "…") {
		t.Errorf("nothing cut at width 60:\n%s", table)
	}
	for _, id := range r.Identities {
		if !strings.Contains(table, textsafe.Terminal(id.User)) {
			t.Errorf("user %q cut in the table:\n%s", id.User, table)
		}
	}
	for _, l := range strings.Split(table, "\n") {
		if n := utf8.RuneCountInString(l); n > 60 {
			t.Errorf("table line of %d columns at width 60: %q", n, l)
		}
	}
}

// TestShellQuote: hints quote file names and ids so that a POSIX shell
// and PowerShell read one word and expand nothing; a name no quoting
// makes safe for both gets no command.
func TestShellQuote(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"exports/ual.jsonl", "exports/ual.jsonl", true},
		{"C:\\logs\\ual export.json", "'C:\\logs\\ual export.json'", true},
		{"$(rm -rf ~).json", "'$(rm -rf ~).json'", true},
		{"a`b;c|d&e", "'a`b;c|d&e'", true},
		{"it's.json", "", false},
		{"it\u2019s.json", "", false},
		{"", "''", true},
	} {
		got, ok := shellQuote(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("shellQuote(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestLookAlikeUsers: an account an attacker names to pass for another
// (an invisible character, an escape sequence, the literal text of an
// escape) never renders like it: the same report with only the user's name
// changed differs in text, Markdown and HTML, and shows the name in
// textsafe's escaped form.
func TestLookAlikeUsers(t *testing.T) {
	base := fixture(t)
	render := func(user string, f Format) string {
		r := *base
		id := base.Identities[0]
		id.User = user
		r.Identities = []triage.Identity{id}
		var b bytes.Buffer
		if err := Render(&b, f, &r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	shown := map[Format]func(string) []string{
		Text: func(u string) []string { return []string{textsafe.Terminal(u)} },
		HTML: func(u string) []string { return []string{textsafe.HTML(u)} },
		Markdown: func(u string) []string {
			return []string{textsafe.MarkdownCode(u, true), textsafe.MarkdownCode(u, false)}
		},
	}
	for _, p := range testutil.LookAlikes {
		for f, forms := range shown {
			a, b := render(p[0], f), render(p[1], f)
			if a == b {
				t.Errorf("%s: %q and %q render alike", f, p[0], p[1])
			}
			for _, u := range p {
				out := render(u, f)
				found := false
				for _, s := range forms(u) {
					found = found || strings.Contains(out, s)
				}
				if !found {
					t.Errorf("%s: %q not shown as %q", f, u, forms(u))
				}
			}
		}
	}
}

// TestExplainHintNames: the explain command names a file as it is (a
// Windows path keeps single backslashes, even before x), and no command
// is offered for a file name that holds a character textsafe escapes: it
// would not paste back as the file.
func TestExplainHintNames(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{`C:\logs\x.json`, `outsider explain 'C:\logs\x.json' --id `},
		{`C:\logs\ual.json`, `outsider explain 'C:\logs\ual.json' --id `},
		{"exports/a\x1b[2J.json", ""},
		{"exports/a\u202e.json", ""},
		{"exports/a\u200b.json", ""},
	} {
		r := fixture(t)
		var id *triage.Identity
		for i := range r.Identities {
			if len(r.Identities[i].Deciding) > 0 {
				id = &r.Identities[i]
				break
			}
		}
		if id == nil {
			t.Fatal("no identity with deciding records in the fixture")
		}
		deciding := slices.Clone(id.Deciding)
		for i := range deciding {
			deciding[i].Source = c.file + ":7"
		}
		id.Deciding = deciding
		var b bytes.Buffer
		if err := RenderOptions(&b, Text, r, Options{Width: 100, All: true}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if c.want == "" {
			if strings.Contains(out, "outsider explain 'exports/") || strings.Contains(out, "outsider explain exports/") {
				t.Errorf("%q: a command for a name with escapes:\n%s", c.file, out)
			}
		} else if !strings.Contains(out, c.want) {
			t.Errorf("%q: no command %q:\n%s", c.file, c.want, out)
		}
	}
}

// TestWhoSaysWhoOnlyTried: an outside identity whose every attempt failed
// did not sign in, and the first answer does not count it as if it had.
func TestWhoSaysWhoOnlyTried(t *testing.T) {
	r := fixture(t)
	n := len(r.Identities)
	for i := range r.Identities {
		if r.Identities[i].Signins.Success == 0 {
			r.Identities[i].Signins.Success = 1
		}
	}
	who := answers(r)[0].Parts[0]
	if want := fmt.Sprintf("%d outside identities signed in: ", n); !strings.HasPrefix(who, want) {
		t.Errorf("every one signed in: who = %q, want it to start %q", who, want)
	}
	r.Identities[0].Signins.Success, r.Identities[0].Signins.Failure = 0, 3
	who = answers(r)[0].Parts[0]
	if want := fmt.Sprintf("%d outside identities (1 only tried): ", n); !strings.HasPrefix(who, want) {
		t.Errorf("one only failed: who = %q, want it to start %q", who, want)
	}
}

// wordFormats renders r in every format that answers in words (not JSON
// or CSV), each with its lines run together (the text report wraps).
func wordFormats(t *testing.T, r *triage.Report) map[Format]string {
	t.Helper()
	out := map[Format]string{}
	for _, f := range Formats {
		if f == JSON || f == CSV {
			continue
		}
		var b bytes.Buffer
		if err := Render(&b, f, r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = strings.Join(strings.Fields(b.String()), " ")
	}
	return out
}

// TestNoOutsidersAmongSeveralInferredTenants: with no outside identity
// and several tenants inferred from the records, every format's answers
// say the sign-ins between those tenants were not checked, instead of the
// plain all-clear (a sanitised or multi-tenant export takes each tenant
// it names as ours).
func TestNoOutsidersAmongSeveralInferredTenants(t *testing.T) {
	r := &triage.Report{Schema: triage.Schema, Summary: triage.Summary{ByVerdict: map[string]int{}},
		Tenant: triage.TenantInfo{IDs: []string{"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"}, Inferred: true}}
	for f, out := range wordFormats(t, r) {
		if strings.Contains(out, "there were none") || strings.Contains(out, "No account from outside the organisation") {
			t.Errorf("%s: plain all-clear with 2 inferred tenants:\n%s", f, out)
		}
		if !strings.Contains(out, "2 tenants the records name") || !strings.Contains(out, "between them, not checked") {
			t.Errorf("%s: answers do not say the tenants were each taken as ours:\n%s", f, out)
		}
	}
	// With a record skipped too, "Cannot tell" leads, and the tenants'
	// caveat stays.
	r.Input.Skipped = 1
	if out := wordFormats(t, r)[Text]; !strings.Contains(out, "Cannot tell") || !strings.Contains(out, "Each of the 2 tenants the records name was taken as ours") {
		t.Errorf("skipped input and 2 inferred tenants: want both said:\n%s", out)
	}
	r.Input.Skipped = 0
	r.Tenant.Inferred = false // given with --tenant: a real all-clear
	var b bytes.Buffer
	if err := Render(&b, "text", r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No account from outside the organisation") {
		t.Errorf("--tenant given: want the plain answer:\n%s", b.String())
	}
}

// TestNoOutsidersWithSkippedRecords: with no outside identity among the
// records read but records skipped (an Excel-saved CSV whose every date
// is ambiguous skips nearly all its rows), the answers are not the
// all-clear: the skipped records may hold the outside sign-ins, and every
// format says they were not checked and how many.
func TestNoOutsidersWithSkippedRecords(t *testing.T) {
	r := &triage.Report{Schema: triage.Schema, Summary: triage.Summary{ByVerdict: map[string]int{}},
		Tenant: triage.TenantInfo{IDs: []string{"11111111-1111-1111-1111-111111111111"}, Inferred: true},
		Input:  triage.InputInfo{Records: 13, Skipped: 602}}
	for f, out := range wordFormats(t, r) {
		if strings.Contains(out, "there were none") || strings.Contains(out, "there were no outside accounts") {
			t.Errorf("%s: all-clear with 602 records skipped:\n%s", f, out)
		}
		if !strings.Contains(out, "602 records could not be read") || !strings.Contains(out, "Cannot tell") {
			t.Errorf("%s: answers do not say 602 records were not checked:\n%s", f, out)
		}
	}
	// One record skipped: the breach answer speaks of it, not of "they".
	r.Input.Skipped = 1
	if got, want := answers(r)[1].Parts[0], "1 record could not be read, so it was not checked."; !strings.HasSuffix(got, want) {
		t.Errorf("one record skipped: breach answer %q, want it to end %q", got, want)
	}
	r.Input.Skipped = 0 // all read: the plain answer stands
	var b bytes.Buffer
	if err := Render(&b, "text", r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "there were none") {
		t.Errorf("nothing skipped: want the plain answer:\n%s", b.String())
	}
}

// TestBreachAnswerNamesSkippedRecords: with outside identities found but
// records skipped (149 of an en-AU sign-in CSV's 154 rows, their dates
// ambiguous), "No sign of one for N" is drawn from what was read only;
// the breach answer says how many records were not checked, and says
// nothing of the kind when every record was read.
func TestBreachAnswerNamesSkippedRecords(t *testing.T) {
	r := fixture(t)
	r.Input.Skipped, r.Input.SkippedFiles = 0, 0
	for _, p := range answers(r)[1].Parts {
		if strings.Contains(p, "could not be read") {
			t.Errorf("nothing skipped, yet: %q", p)
		}
	}
	r.Input.Skipped, r.Input.SkippedFiles = 149, 1
	parts := answers(r)[1].Parts
	if last := parts[len(parts)-1]; !strings.Contains(last, "149 records and 1 file could not be read") {
		t.Errorf("breach answer %q: want its last part to say 149 records and 1 file were not checked", parts)
	}
}
