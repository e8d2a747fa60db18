//go:build unix

package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestHTMLInBrowser opens the HTML report of the hostile fixture from disk
// in headless Chromium (driven over the DevTools protocol, no network) and
// checks what a reader gets: the content rendered, the page's own script
// ran under its Content-Security-Policy, no value from the records became
// markup or ran, the console stayed clean, no request left the file, the
// evidence table sorts, filters and shows raw rows, and print hides the
// controls. It saves report.html, report.png (the whole page) and
// report.pdf (as printed) in $OUTSIDER_ARTIFACTS, or a temporary folder,
// and logs where. It skips when no Chromium is installed, unless
// $OUTSIDER_REQUIRE_BROWSER is set (as .ci/run does once it installed one).
// With -update it also rewrites readmeShot, the README's picture of the
// report (see writeReadmeShot).
func TestHTMLInBrowser(t *testing.T) {
	bin, art := browser(t)
	began := time.Now()

	var page bytes.Buffer
	if err := RenderHTML(&page, fixture(t)); err != nil {
		t.Fatal(err)
	}
	htmlPath := filepath.Join(art, "report.html")
	if err := os.WriteFile(htmlPath, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: htmlPath}).String()

	c := startChromium(t, bin, t.TempDir(), 1280, 900)
	started := time.Now()
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if _, err := c.call(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	from := len(c.snapshot())
	if _, err := c.call("Page.navigate", map[string]any{"url": pageURL}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitEvent("Page.loadEventFired", from, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	loaded := time.Now()
	layOutAll(t, c)

	check := func(what, expr string, want any) {
		t.Helper()
		var got any
		if err := c.eval(expr, &got); err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("%s: got %s, want %s", what, gj, wj)
		}
	}

	// The content rendered, and the page's own script ran (under the CSP).
	check("script ran", `document.documentElement.getAttribute("data-script")`, "ready")
	check("identity sections", `document.querySelectorAll("details.identity").length`, 6)
	check("answers", `Array.from(document.querySelectorAll(".answer h2"), e => e.textContent)`,
		[]string{"Who were they?", "Was there a breach?", "What did they access?"})
	check("severity order", `Array.from(document.querySelectorAll("details.identity"), s => s.className)`,
		[]string{"identity sev-high", "identity sev-high", "identity sev-medium", "identity sev-low", "identity sev-low", "identity sev-info"})
	// Info and low cards fold to one line (verdict, severity, user,
	// counts) that opens on click without script; high and medium open.
	check("cards folded by severity", `Array.from(document.querySelectorAll("details.identity"), d => d.open)`,
		[]bool{true, true, true, false, false, false})
	check("folded card is one line", `(() => { const d = document.querySelector("details.identity.sev-info");
		const s = d.querySelector("summary"); const lh = parseFloat(getComputedStyle(s).lineHeight);
		return [d.querySelector("ul").checkVisibility(), s.getBoundingClientRect().height <= 1.6 * lh,
			/signin-only/.test(s.textContent) && /INFO/.test(s.textContent) && /sign-ins \d+\/\d+ · by user \d+ · by IP \d+ · shared \d+/.test(s.textContent)]; })()`,
		[]bool{false, true, true})
	check("folded card opens on click", `(() => { const d = document.querySelector("details.identity.sev-info");
		d.querySelector("summary").click(); const seen = d.open && d.querySelector("ul").checkVisibility();
		d.querySelector("summary").click(); return [seen, d.open]; })()`, []bool{true, false})
	// Each timeline is zoomed to its identity's records, except where
	// there are none but sign-ins (the last two): the period strip alone.
	check("timelines drawn", `Array.from(document.querySelectorAll("details.identity figure svg"), s => s.querySelectorAll("circle").length)`,
		[]int{2, 2, 4, 3, 0, 0})
	// The coverage table marks the workloads the input lacks (Teams and
	// other in the fixture).
	check("coverage gaps shown", `Array.from(document.querySelectorAll("table.coverage tr.missing td:first-child"), e => e.textContent)`,
		[]string{"Teams", "other"})
	check("problems listed", `document.querySelector(".problems").textContent.includes("line 11: field Id is a boolean")`, true)

	// Hostile values stayed text: no element, attribute, link or script
	// came from the records, and what they carried is shown literally.
	check("one script element", `document.scripts.length`, 1)
	check("no markup from the records", `document.querySelectorAll("img, iframe, object, embed, b, i, svg svg, script[src], link, base, form").length`, 0)
	check("svg only the timelines and their frame", `[document.querySelectorAll("svg").length, document.querySelectorAll("details.identity figure svg").length, document.querySelectorAll("svg.defs").length]`, []int{7, 6, 1})
	check("timelines use the frame", `Array.from(document.querySelectorAll("details.identity figure svg"), s => s.querySelector("use").getAttribute("href") + (s.getBBox().width > 800 ? " drawn" : " empty"))`,
		[]string{"#tl-frame drawn", "#tl-frame drawn", "#tl-frame drawn", "#tl-frame drawn", "#tl-ctx drawn", "#tl-ctx drawn"})
	// The marks' titles: the sign-ins' sent, the others' added by the
	// script from the rows they stand for.
	check("timeline marks titled", `Array.from(document.querySelectorAll("#id-3 figure circle"), c => c.querySelector("title").textContent)`,
		[]string{"first sign-in 2026-10-01T08:40:00Z", "2026-10-01T08:42:00Z FileUploaded", "2026-10-01T08:43:00Z FileAccessed",
			"2026-10-01T08:41:00Z SharingInvitationCreated by bob@contoso.com"})
	check("no event-handler attributes", `Array.from(document.querySelectorAll("*")).flatMap(e => Array.from(e.attributes, a => a.name)).filter(n => n.startsWith("on"))`, []string{})
	check("links only within the page", `Array.from(document.querySelectorAll("a[href]"), a => a.getAttribute("href")).filter(h => !/^#[a-z0-9-]+$/.test(h) || !document.getElementById(h.slice(1)))`, []string{})
	check("table of contents", `Array.from(document.querySelectorAll("nav.toc li"), li => li.textContent)`,
		[]string{"The three answers", "Verdicts (6 identities)", "Partners (2)", "Input", "Provenance", "High 2", "Medium 1", "Low 2 folded", "Info 1 folded"})
	check("nothing ran", `typeof window.pwned`, "undefined")
	for _, s := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=window.pwned=1>`,
		`javascript:window.pwned=4//`,
		`<svg onload=window.pwned=3>`,
		`<b onmouseover=window.pwned=5>b</b>`,
		`mallory\x1b[31m@evil.example`,
		`Evil\u202eAgent\x07`,
		"trudy`'\"*<i>x</i>*@evil.example",
	} {
		js, _ := json.Marshal(s)
		check("shown as text: "+s, `document.body.textContent.includes(`+string(js)+`)`, true)
	}
	check("no raw bidi override", `document.body.textContent.includes("\u202e")`, false)

	// The whole page as a reader first sees it.
	shotPath := filepath.Join(art, "report.png")
	var metrics struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	if res, err := c.call("Page.getLayoutMetrics", nil); err != nil {
		t.Error(err)
	} else if err := json.Unmarshal(res, &metrics); err != nil {
		t.Error(err)
	}
	h := max(metrics.CSSContentSize.Height, 900)
	if res, err := c.call("Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": 1280, "height": h, "scale": 1},
	}); err != nil {
		t.Error(err)
	} else {
		savePNG(t, res, shotPath)
	}
	shot := time.Now()

	// The evidence table of the third identity (two rows): filter by
	// operation, sort by time, open every raw row.
	check("filter control shown", `!document.querySelector(".controls[data-table=ev-3]").hidden`, true)
	check("filter by operation", `(() => {
		const s = document.querySelector(".controls[data-table=ev-3] select");
		s.value = "FileAccessed"; s.dispatchEvent(new Event("change"));
		const rows = Array.from(document.querySelectorAll("#ev-3 tbody tr.ev"));
		return [rows.filter(r => !r.hidden).map(r => r.cells[1].textContent),
			document.querySelector(".controls[data-table=ev-3] .shown").textContent];
	})()`, []any{[]string{"FileAccessed"}, "showing 1 of 2"})
	check("filter by text", `(() => {
		const s = document.querySelector(".controls[data-table=ev-3] select");
		s.value = ""; s.dispatchEvent(new Event("change"));
		const q = document.querySelector(".controls[data-table=ev-3] input");
		q.value = "javascript:"; q.dispatchEvent(new Event("input"));
		const shown = Array.from(document.querySelectorAll("#ev-3 tbody tr.ev")).filter(r => !r.hidden).map(r => r.cells[1].textContent);
		q.value = ""; q.dispatchEvent(new Event("input"));
		return shown;
	})()`, []string{"FileUploaded"})
	check("sort by time", `(() => {
		const b = document.querySelector("#ev-3 button.sort[data-col='0']");
		const order = () => Array.from(document.querySelectorAll("#ev-3 tbody tr"), r => r.classList.contains("ev") ? r.cells[0].textContent : "raw");
		b.click(); const up = order(); b.click(); const down = order();
		return [up, down, b.parentNode.getAttribute("aria-sort")];
	})()`, []any{[]string{"2026-10-01T08:42:00Z", "2026-10-01T08:43:00Z"}, []string{"2026-10-01T08:43:00Z", "2026-10-01T08:42:00Z"}, "descending"})
	check("raw rows hidden until asked", `Array.from(document.querySelectorAll("tr.ev-raw")).filter(r => !r.hidden).length`, 0)
	check("one raw row on demand", `(() => {
		document.querySelector("#ev-3 tr.ev button.raw-btn").click();
		const r = Array.from(document.querySelectorAll("#ev-3 tr.ev-raw")).filter(r => !r.hidden);
		return r.map(x => [x.querySelector("details").open, JSON.parse(x.querySelector("pre").textContent).time]);
	})()`, []any{[]any{true, "2026-10-01T08:43:00Z"}})
	check("all raw rows on demand", `(() => {
		document.querySelector(".controls[data-table=ev-3] .raw-toggle").click();
		const d = Array.from(document.querySelectorAll("#ev-3 tr.ev-raw")).filter(r => !r.hidden).map(r => r.querySelector("details"));
		return [d.filter(x => x.open).length, d.map(x => JSON.parse(x.querySelector("pre").textContent).record_id).sort()];
	})()`, []any{2, []string{"00000000-0000-4000-8000-000000000014", "00000000-0000-4000-8000-000000000015"}})
	// A raw row is built from its row's cells (the page sends it only for
	// a row with escaped values) and moves with its row when sorted.
	check("raw rows follow their rows", `(() => {
		const b = document.querySelector("#ev-3 button.sort[data-col='0']"); b.click();
		const order = Array.from(document.querySelectorAll("#ev-3 tbody tr"), r => r.classList.contains("ev") ? r.cells[0].textContent : JSON.parse(r.querySelector("pre").textContent).time);
		const raw = JSON.parse(document.querySelector("#ev-3 tr.ev-raw pre").textContent);
		return [order, Object.keys(raw), raw.source];
	})()`, []any{[]string{"2026-10-01T08:42:00Z", "2026-10-01T08:42:00Z", "2026-10-01T08:43:00Z", "2026-10-01T08:43:00Z"},
		[]string{"time", "operation", "user", "ip", "object", "record_id", "source"}, "testdata/tenant.jsonl:14"})
	// The verdict table, grouped by verdict, filters by severity, verdict
	// and partner; a verdict's heading hides with its last row.
	check("verdict table grouped", `Array.from(document.querySelectorAll("table.summary tr.vg"), r => r.textContent)`,
		[]string{"anomalous (1)", "activity (2)", "shared (1)", "unverified (1)", "signin-only (1)"})
	check("verdict table filters", `(() => {
		const c = document.querySelector(".controls[data-table=summary]");
		const sev = c.querySelector("select.severity-filter"), ver = c.querySelector("select.verdict-filter"), par = c.querySelector("select.partner-filter");
		const set = (s, v) => { s.value = v; s.dispatchEvent(new Event("change")); };
		const users = () => Array.from(document.querySelectorAll("table.summary tbody tr:not(.vg)")).filter(r => !r.hidden).map(r => r.cells[3].textContent);
		const groups = () => Array.from(document.querySelectorAll("table.summary tbody")).filter(b => !b.hidden).map(b => b.rows[0].cells[0].firstChild.textContent.trim());
		const opts = [Array.from(sev.options, o => o.textContent), Array.from(ver.options, o => o.textContent), Array.from(par.options, o => o.textContent)];
		set(sev, "low"); const low = [users(), c.querySelector(".shown").textContent, groups()];
		set(ver, "shared"); const lowShared = users();
		set(ver, "anomalous"); const none = users();
		set(sev, ""); const anomalous = users();
		set(ver, ""); set(par, par.options[2].value); const partner = [par.value, users()];
		set(par, ""); const all = users().length;
		return [opts, low, lowShared, none, anomalous, partner, all];
	})()`, []any{
		[]any{[]string{"all (6)", "high (2)", "medium (1)", "low (2)", "info (1)"},
			[]string{"all (6)", "anomalous (1)", "activity (2)", "shared (1)", "unverified (1)", "signin-only (1)"},
			[]string{"all (6)", "fabrikam.com (5)", "northwind.example (1)"}},
		[]any{[]string{"dave@fabrikam.com", "ivan@northwind.example"}, "showing 2 of 6", []string{"shared", "unverified"}},
		[]string{"dave@fabrikam.com"}, []string{}, []string{`mallory\x1b[31m@evil.example`},
		[]any{"northwind.example", []string{"ivan@northwind.example"}}, 6})
	check("nothing ran after interaction", `typeof window.pwned`, "undefined")

	// The third identity's evidence as the reader left it: sorted, raw open.
	var box struct{ X, Y, Width, Height float64 }
	if err := c.eval(`(() => { const r = document.getElementById("ev-3").closest("details.identity").getBoundingClientRect();
		return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()`, &box); err != nil {
		t.Error(err)
	}
	interPath := filepath.Join(art, "report-evidence.png")
	if res, err := c.call("Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": box.X, "y": box.Y, "width": box.Width, "height": box.Height, "scale": 1},
	}); err != nil {
		t.Error(err)
	} else {
		savePNG(t, res, interPath)
	}

	// Print: controls and raw columns hidden, every row shown.
	if _, err := c.call("Emulation.setEmulatedMedia", map[string]any{"media": "print"}); err != nil {
		t.Error(err)
	}
	check("print hides controls", `getComputedStyle(document.querySelector(".controls")).display`, "none")
	check("print hides raw", `getComputedStyle(document.querySelector("td.raw")).display`, "none")
	check("print opens every card", `Array.from(document.querySelectorAll("details.identity"), s => s.querySelector("ul").checkVisibility())`,
		[]bool{true, true, true, true, true, true})
	if _, err := c.call("Emulation.setEmulatedMedia", map[string]any{"media": ""}); err != nil {
		t.Error(err)
	}
	pdfPath := filepath.Join(art, "report.pdf")
	if res, err := c.call("Page.printToPDF", map[string]any{"printBackground": true, "preferCSSPageSize": true}); err != nil {
		t.Error(err)
	} else {
		var r struct{ Data string }
		json.Unmarshal(res, &r)
		b, _ := base64.StdEncoding.DecodeString(r.Data)
		if !bytes.HasPrefix(b, []byte("%PDF")) {
			t.Errorf("printToPDF gave %d bytes that are not a PDF", len(b))
		} else if err := os.WriteFile(pdfPath, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	phonePath := filepath.Join(art, "report-phone.png")
	phoneH := checkPhone(t, c, phonePath, 0)
	done := time.Now()

	// The console stayed clean and nothing but the file was requested.
	clean := len(c.snapshot())
	verifyQuiet(t, c.snapshot(), pageURL)

	// The detectors work: a script that breaks the policy (from the test,
	// not the page) produces a violation on the console and a blocked
	// request, which the checks above would have reported.
	c.eval(`(() => { const i = document.createElement("img"); i.src = "https://outsider.invalid/x.png"; document.body.append(i); })()`, nil)
	if _, err := c.waitEvent("Log.entryAdded", clean, 10*time.Second); err != nil {
		t.Errorf("control: a policy violation produced no console entry: %v", err)
	}

	if *testutil.Update {
		writeReadmeShot(t, c, art)
	}

	t.Logf("artefacts: %s (page), %s (screenshot, 1280x%.0f), %s (phone, %dx%.0f), %s (identity 3 after sorting and opening raw rows), %s (printed)", htmlPath, shotPath, h, phonePath, phoneWidth, phoneH, interPath, pdfPath)
	t.Logf("timings: browser start %v, load %v, screenshot %v, checks and print %v; %v in all",
		started.Sub(began).Round(time.Millisecond), loaded.Sub(started).Round(time.Millisecond),
		shot.Sub(loaded).Round(time.Millisecond), done.Sub(shot).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// The page of a tenant with hundreds of partners: at most maxScalePage
// bytes (1 MiB; issue 17 asks for about 1 MB at 500 identities), open
// (loaded and its script ready) within maxScaleOpen. The open time is the
// best of five loads: the machine running the tests is shared, and one
// slow load says more about the neighbours than about the page.
const (
	maxScalePage = 1 << 20
	maxScaleOpen = time.Second
)

// TestHTMLAtScale renders the reports of two synthetic tenants with 200
// partners (scaleTenant: 422 and 500 outside identities, the first the
// goldens' tenant) and opens them in headless Chromium: each page stays
// within maxScalePage and opens within maxScaleOpen. The larger one is
// checked further: every identity has its card and its timeline, the
// verdict table filters by partner, the console stays clean, nothing but
// the file is requested, and nothing overflows at phone width. It saves
// report-scale.html, report-scale.png (the top of the page at 1280 px)
// and report-scale-phone.png (its top at 390 px) with the other
// artefacts, and logs each page's size and open time.
func TestHTMLAtScale(t *testing.T) {
	bin, art := browser(t)
	c := startChromium(t, bin, t.TempDir(), 1280, 900)
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if _, err := c.call(m, nil); err != nil {
			t.Fatal(err)
		}
	}

	var r *triage.Report
	var pageURL string
	var since int // the events of the last page
	// 400 planted outsiders make the goldens' tenant (422 identities);
	// 478 make one of 500, the size issue 17 names.
	for _, outsiders := range []int{400, 478} {
		r = scaleTenant(t, 200, outsiders)
		if outsiders == 478 && len(r.Identities) < 500 {
			t.Fatalf("the larger tenant has %d outside identities, want at least 500", len(r.Identities))
		}
		var page bytes.Buffer
		if err := RenderHTML(&page, r); err != nil {
			t.Fatal(err)
		}
		if page.Len() > maxScalePage {
			t.Errorf("the page of %d identities is %d bytes, more than %d", len(r.Identities), page.Len(), maxScalePage)
		}
		name := "report-scale-" + strconv.Itoa(len(r.Identities)) + ".html"
		if outsiders == 478 {
			name = "report-scale.html"
		}
		htmlPath := filepath.Join(art, name)
		if err := os.WriteFile(htmlPath, page.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		pageURL = (&url.URL{Scheme: "file", Path: htmlPath}).String()
		opened := time.Duration(math.MaxInt64)
		since = len(c.snapshot())
		for range 5 {
			opened = min(opened, openPage(t, c, pageURL))
		}
		if opened > maxScaleOpen {
			t.Errorf("the page of %d identities took %v to open (load and script, best of 5), more than %v", len(r.Identities), opened, maxScaleOpen)
		}
		t.Logf("%d identities: page %d bytes, opened (load and script ready) in %v (best of 5); %s", len(r.Identities), page.Len(), opened.Round(time.Millisecond), htmlPath)
		if outsiders == 400 {
			verifyQuiet(t, c.snapshot()[since:], pageURL)
		}
	}

	layOutAll(t, c)
	var got []int
	if err := c.eval(`[document.querySelectorAll("details.identity").length, document.querySelectorAll("details.identity[open]").length,
		document.querySelectorAll("table.summary tbody tr:not(.vg)").length, document.querySelectorAll("details.identity figure svg").length]`, &got); err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, id := range r.Identities {
		if id.Severity == triage.SeverityHigh || id.Severity == triage.SeverityMedium {
			open++
		}
	}
	if n := len(r.Identities); !slices.Equal(got, []int{n, open, n, n}) {
		t.Errorf("cards, open cards, summary rows, timelines: got %v, want %v", got, []int{n, open, n, n})
	}
	// The partner filter: one option per partner (and "all"), and a
	// partner's rows are exactly its identities.
	want := r.Partners[0]
	var filtered struct {
		Options int
		Rows    []string
	}
	if err := c.eval(`(() => { const s = document.querySelector("select.partner-filter");
		s.value = `+jsString(want.Name)+`; s.dispatchEvent(new Event("change"));
		const rows = Array.from(document.querySelectorAll("table.summary tbody tr:not(.vg)")).filter(r => !r.hidden).map(r => r.cells[3].textContent);
		s.value = ""; s.dispatchEvent(new Event("change"));
		return {options: s.options.length, rows: rows}; })()`, &filtered); err != nil {
		t.Error(err)
	}
	var users []string
	for _, id := range r.Identities {
		if id.Partner == want.Name {
			users = append(users, id.User)
		}
	}
	slices.Sort(users)
	slices.Sort(filtered.Rows)
	if filtered.Options != len(r.Partners)+1 || !slices.Equal(filtered.Rows, users) {
		t.Errorf("partner filter: %d options and rows %v for %q, want %d options and %v", filtered.Options, filtered.Rows, want.Name, len(r.Partners)+1, users)
	}

	// At desktop width too, no text runs out of its box (a long site
	// address past its answer card's border): the same check as at phone
	// width, against each element's own box instead of the viewport.
	var spill []string
	if err := c.eval(`Array.from(document.querySelectorAll(".answer, .answer p, details.identity[open], details.identity[open] dd, details.identity[open] li"))
		.filter(e => e.scrollWidth > e.clientWidth + 1 && !e.closest(".scroll, figure"))
		.slice(0, 5).map(e => e.tagName + "." + e.className + " " + e.scrollWidth + ">" + e.clientWidth)`, &spill); err != nil {
		t.Error(err)
	} else if len(spill) > 0 {
		t.Errorf("at 1280 px these hold text wider than their box: %v", spill)
	}

	shotPath := filepath.Join(art, "report-scale.png")
	if res, err := c.call("Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": 1280, "height": 2400, "scale": 1},
	}); err != nil {
		t.Error(err)
	} else {
		savePNG(t, res, shotPath)
	}
	phonePath := filepath.Join(art, "report-scale-phone.png")
	phoneH := checkPhone(t, c, phonePath, 2400)
	verifyQuiet(t, c.snapshot()[since:], pageURL)
	t.Logf("artefacts: %s (1280x2400, top), %s (%dx2400 of %.0f, top)", shotPath, phonePath, phoneWidth, phoneH)
}

// openPage loads pageURL and waits for its script to finish, and returns
// how long that took.
func openPage(t *testing.T, c *cdp, pageURL string) time.Duration {
	t.Helper()
	from := len(c.snapshot())
	began := time.Now()
	if _, err := c.call("Page.navigate", map[string]any{"url": pageURL}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitEvent("Page.loadEventFired", from, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var ready any
	for {
		if err := c.eval(`document.documentElement.getAttribute("data-script")`, &ready); err != nil {
			t.Fatal(err)
		}
		if ready == "ready" || time.Since(began) > 30*time.Second {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ready != "ready" {
		t.Fatalf("the page's script did not finish: %v", ready)
	}
	return time.Since(began)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// browser is the Chromium to run and the folder for the artefacts
// ($OUTSIDER_ARTIFACTS, made if missing, else a temporary folder), both
// absolute. Without Chromium the test skips, or fails when
// $OUTSIDER_REQUIRE_BROWSER is set (as .ci/run does once it installed one).
func browser(t *testing.T) (bin, art string) {
	t.Helper()
	bin, ok := findChromium()
	if !ok {
		if os.Getenv("OUTSIDER_REQUIRE_BROWSER") != "" {
			t.Fatal("no Chromium found (install Debian's chromium, or set OUTSIDER_CHROMIUM) and OUTSIDER_REQUIRE_BROWSER is set")
		}
		t.Skip("no Chromium found: install Debian's chromium (.ci/run does) or set OUTSIDER_CHROMIUM to run the browser test")
	}
	art = os.Getenv("OUTSIDER_ARTIFACTS")
	if art == "" {
		art = t.TempDir()
	} else if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	art, _ = filepath.Abs(art)
	return bin, art
}

// phoneWidth is a phone's width in CSS pixels (an iPhone 14's).
const phoneWidth = 390

// checkPhone lays the page out at phoneWidth as a phone does (mobile,
// honouring the viewport meta tag), fails the test if anything makes the
// page scroll sideways or sticks out of the viewport, folded and with
// every card open (wide tables and the timelines must scroll inside their
// own box, .scroll or the figure), saves a screenshot of the page as
// the reader first sees it to path (its top maxH pixels, when maxH > 0)
// and restores the desktop layout. It returns the page's height at that
// width.
func checkPhone(t *testing.T, c *cdp, path string, maxH float64) float64 {
	t.Helper()
	if _, err := c.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": phoneWidth, "height": 844, "deviceScaleFactor": 1, "mobile": true,
	}); err != nil {
		t.Error(err)
		return 0
	}
	defer c.call("Emulation.clearDeviceMetricsOverride", nil)
	// What sticks out, to name it when the check fails.
	const overflow = `(() => { const w = document.documentElement.scrollWidth;
		const out = Array.from(document.querySelectorAll("body *")).filter(e => { const r = e.getBoundingClientRect();
			return r.width > 0 && r.right > innerWidth + 0.5 && !e.closest(".scroll, figure"); })
			.slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right));
		return {width: w, out: out}; })()`
	var got struct {
		Width int
		Out   []string
	}
	layOutAll(t, c)
	for _, state := range []string{"folded", "open"} {
		if state == "open" {
			c.eval(`document.querySelectorAll("details.identity").forEach(d => { d.dataset.was = d.open; d.open = true; })`, nil)
		}
		if err := c.eval(overflow, &got); err != nil {
			t.Error(err)
		} else if got.Width > phoneWidth || len(got.Out) > 0 {
			t.Errorf("at %d px (cards %s) the page is %d px wide, and these stick out: %v", phoneWidth, state, got.Width, got.Out)
		}
	}
	c.eval(`document.querySelectorAll("details.identity").forEach(d => { d.open = d.dataset.was === "true"; delete d.dataset.was; })`, nil)
	var h float64
	if err := c.eval(`document.documentElement.scrollHeight`, &h); err != nil {
		t.Error(err)
	}
	shotH := max(h, 844)
	if maxH > 0 {
		shotH = min(shotH, maxH)
	}
	if res, err := c.call("Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": phoneWidth, "height": shotH, "scale": 1},
	}); err != nil {
		t.Error(err)
	} else {
		savePNG(t, res, path)
	}
	return h
}

// layOutAll makes the browser lay out and paint every card, as if the
// reader had scrolled through the page: cards off screen are skipped
// (content-visibility: auto) until then, so they could overflow unseen and
// would be blank in a whole-page screenshot.
func layOutAll(t *testing.T, c *cdp) {
	t.Helper()
	if err := c.eval(`document.querySelectorAll("details.identity").forEach(s => s.style.contentVisibility = "visible")`, nil); err != nil {
		t.Error(err)
	}
}

// verifyQuiet fails the test for any console message, exception, error or
// warning log entry, JavaScript dialog, or request for anything but the
// page itself.
func verifyQuiet(t *testing.T, events []cdpEvent, pageURL string) {
	t.Helper()
	requests := 0
	for _, e := range events {
		switch e.Method {
		case "Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Page.javascriptDialogOpening":
			t.Errorf("console: %s %s", e.Method, e.Params)
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Source, Text, URL string }
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				t.Errorf("console %s (%s): %s %s", p.Entry.Level, p.Entry.Source, p.Entry.Text, p.Entry.URL)
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct{ URL string }
			}
			json.Unmarshal(e.Params, &p)
			requests++
			if p.Request.URL != pageURL {
				t.Errorf("request for something but the page: %s", p.Request.URL)
			}
		case "Network.loadingFailed":
			t.Errorf("a load failed: %s", e.Params)
		}
	}
	if requests == 0 {
		t.Error("no request for the page itself was seen: the network events are not being collected")
	}
}

func savePNG(t *testing.T, res json.RawMessage, path string) {
	t.Helper()
	var r struct{ Data string }
	if err := json.Unmarshal(res, &r); err != nil {
		t.Error(err)
		return
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("screenshot is not a PNG (%v)", err)
		return
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Error(err)
	}
}

// readmeShot is the README's picture of the HTML report, relative to this
// package. It is committed, so a change to the page's look shows in review.
const readmeShot = "../../docs/img/report.png"

// writeReadmeShot renders the report of the bundled example
// (examples/tenant.jsonl, what the README's first command triages) rather
// than the hostile fixture, opens it in the running browser and saves the
// top of the page, 1280 by 900 CSS pixels (the answers and the first
// identity, what a reader sees before scrolling), to readmeShot. A picture
// of the example, not of the fixture, because the README shows it to people
// deciding whether the tool is for them; the whole-page screenshots of the
// fixture stay in the artefacts.
func writeReadmeShot(t *testing.T, c *cdp, art string) {
	t.Helper()
	r, err := triage.Run(context.Background(), []string{filepath.Join("..", "..", "examples", "tenant.jsonl")}, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := RenderHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(art, "example.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.call("Emulation.setEmulatedMedia", map[string]any{"media": "screen"}); err != nil {
		t.Fatal(err)
	}
	from := len(c.snapshot())
	if _, err := c.call("Page.navigate", map[string]any{"url": (&url.URL{Scheme: "file", Path: path}).String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitEvent("Page.loadEventFired", from, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var ready any
	if err := c.eval(`document.documentElement.getAttribute("data-script")`, &ready); err != nil || ready != "ready" {
		t.Fatalf("the example's page did not run its script: %v %v", ready, err)
	}
	res, err := c.call("Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": 1280, "height": 900, "scale": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	savePNG(t, res, readmeShot)
	fi, err := os.Stat(readmeShot)
	if err != nil {
		t.Fatal(err)
	}
	// The repository carries it: keep it small.
	if fi.Size() > 300<<10 {
		t.Errorf("%s is %d bytes, more than 300 KB", readmeShot, fi.Size())
	}
	t.Logf("wrote %s (%d bytes) from %s", readmeShot, fi.Size(), path)
}
