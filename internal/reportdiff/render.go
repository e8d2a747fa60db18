package reportdiff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/outsider-sec/outsider/internal/textsafe"
)

// WriteJSON writes d as one outsider/diff/v1 document. Every list is
// present (empty, never null) and in the order Compare gives, so the same
// reports give byte-identical output. HTML characters stay escaped, as in
// the triage JSON.
func WriteJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// clean shows a value from a report in text: control characters, bidi
// overrides and line separators escaped (textsafe.Terminal), empty as "-".
func clean(s string) string {
	if s == "" {
		return "-"
	}
	return textsafe.Terminal(s)
}

func tenants(ids []string) string {
	if len(ids) == 0 {
		return "tenant unknown"
	}
	vs := make([]string, len(ids))
	for i, t := range ids {
		vs[i] = textsafe.Terminal(t)
	}
	return "tenant " + strings.Join(vs, ", ")
}

func period(s Side) string {
	if !known(s) {
		return "period unknown"
	}
	return clean(s.From) + " to " + clean(s.To)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// headline is the one-line summary every format leads with.
func headline(d *Diff) string {
	s := d.Summary
	return fmt.Sprintf("%d new, %d gone, %d changed, %d unchanged; %s, %s",
		s.New, s.Gone, s.Changed, s.Unchanged,
		plural(s.NewPartners, "new partner", "new partners"),
		plural(s.GonePartners, "partner gone", "partners gone"))
}

// sameInBoth says, for every format, what two reports without differences
// share.
func sameInBoth(d *Diff) string {
	return plural(d.Summary.Unchanged, "identity", "identities") + " in both, with the same verdict, severity and home tenant."
}

// warnings are the reasons the comparison may mislead, most serious
// first, as plain sentences without values from the reports (the caller
// shows those escaped for its format).
type warning struct {
	level string // "warning" or "note"
	text  string
	// detail is from a report (a nothing_judged reason), shown escaped.
	detail string
}

func warnings(d *Diff) []warning {
	var ws []warning
	if d.DifferentTenants {
		ws = append(ws, warning{level: "warning", text: "comparing different tenants: new and gone mean another organisation, not a change"})
	}
	for _, s := range []struct {
		name string
		side Side
	}{{"old", d.Old}, {"new", d.New}} {
		if s.side.NothingJudged != "" {
			ws = append(ws, warning{level: "warning", text: "the " + s.name + " report judged nothing (not an all-clear): every identity of the other shows as new or gone", detail: s.side.NothingJudged})
		}
	}
	if d.DifferentPeriods {
		ws = append(ws, warning{level: "note", text: "the periods differ: an identity is gone when it has no sign-in in the new period, not necessarily because anything ended"})
	}
	return ws
}

// WriteText writes d for a terminal or a text file. Every value from the
// reports goes through textsafe.Terminal.
func WriteText(w io.Writer, d *Diff) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("outsider diff %s -> %s\n", clean(d.Old.Path), clean(d.New.Path))
	for _, s := range []struct {
		name string
		side Side
	}{{"old", d.Old}, {"new", d.New}} {
		p("  %s: %s; %s; %s\n", s.name, tenants(s.side.TenantIDs), period(s.side), plural(s.side.Identities, "identity", "identities"))
	}
	for _, wn := range warnings(d) {
		p("%s: %s\n", wn.level, wn.text)
		if wn.detail != "" {
			p("  why: %s\n", textsafe.Terminal(wn.detail))
		}
	}
	p("\n")
	d.findings(sectionWriters{
		same:    func(text string) { p("No differences: %s\n", text) },
		summary: func(text string) { p("%s\n", text) },
		identities: func(title string, ids []Identity) {
			p("\n%s (%d)\n", title, len(ids))
			for _, id := range ids {
				p("  %-6s  %-11s  %s  (home tenant %s)\n", clean(id.Severity), clean(id.Verdict), clean(id.User), clean(id.HomeTenant))
				if id.Reason != "" {
					p("          %s\n", textsafe.Terminal(id.Reason))
				}
			}
		},
		changed: func(title string, cs []Change) {
			p("\n%s (%d)\n", title, len(cs))
			for _, c := range cs {
				p("  %s\n", clean(c.User))
				for _, f := range changedFields(c) {
					p("          %s %s -> %s\n", f.name, clean(f.old), clean(f.new))
				}
				if c.Reason != "" {
					p("          now: %s\n", textsafe.Terminal(c.Reason))
				}
			}
		},
		partners: func(title string, ps []Partner) {
			p("\n%s (%d)\n", title, len(ps))
			for _, pt := range ps {
				users := make([]string, len(pt.Users))
				for i, u := range pt.Users {
					users[i] = clean(u)
				}
				p("  home tenant %s: worst %s; %s: %s\n", clean(pt.HomeTenant), clean(pt.Worst), plural(len(pt.Users), "identity", "identities"), strings.Join(users, ", "))
			}
		},
	})
	return bw.Flush()
}

// sectionWriters write what a comparison found in one format.
type sectionWriters struct {
	same       func(text string) // the reports do not differ (sameInBoth)
	summary    func(text string) // they do: the headline, before the lists
	identities func(title string, ids []Identity)
	changed    func(title string, cs []Change)
	partners   func(title string, ps []Partner)
}

// findings writes, below a format's header, what every format shows:
// when the reports do not differ, that sentence alone; else the headline,
// then each list of d that is not empty, in the order and with the titles
// every format uses.
func (d *Diff) findings(w sectionWriters) {
	if !d.Differs() {
		w.same(sameInBoth(d))
		return
	}
	w.summary(headline(d))
	for _, s := range []struct {
		title string
		ids   []Identity
	}{{"New identities", d.NewIdentities}, {"Gone identities", d.GoneIdentities}} {
		if len(s.ids) > 0 {
			w.identities(s.title, s.ids)
		}
	}
	if len(d.Changed) > 0 {
		w.changed("Changed identities", d.Changed)
	}
	for _, s := range []struct {
		title string
		ps    []Partner
	}{{"New partners", d.NewPartners}, {"Partners gone", d.GonePartners}} {
		if len(s.ps) > 0 {
			w.partners(s.title, s.ps)
		}
	}
}

type field struct{ name, old, new string }

// changedFields lists what changed about an identity, in a fixed order.
func changedFields(c Change) []field {
	var fs []field
	if c.Old.Verdict != c.New.Verdict {
		fs = append(fs, field{"verdict", c.Old.Verdict, c.New.Verdict})
	}
	if c.Old.Severity != c.New.Severity {
		fs = append(fs, field{"severity", c.Old.Severity, c.New.Severity})
	}
	if c.Old.HomeTenant != c.New.HomeTenant {
		fs = append(fs, field{"home tenant", c.Old.HomeTenant, c.New.HomeTenant})
	}
	return fs
}

// mdCode shows a value as an inline code span in a table cell, by the
// rules every report uses (textsafe.MarkdownCode).
func mdCode(s string) string { return textsafe.MarkdownCode(s, true) }

// WriteMarkdown writes d as a GitHub-flavoured Markdown section for a case
// file: every value from the reports is a code span (mdCode).
func WriteMarkdown(w io.Writer, d *Diff) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	code := func(s string) string {
		if c := mdCode(s); c != "" {
			return c
		}
		return "—"
	}
	codes := func(vs []string) string {
		if len(vs) == 0 {
			return "—"
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = code(v)
		}
		return strings.Join(out, ", ")
	}
	p("# Comparison of two outsider reports\n\n")
	p("| | Old | New |\n|---|---|---|\n")
	p("| Report | %s | %s |\n", code(d.Old.Path), code(d.New.Path))
	p("| Tenant | %s | %s |\n", codes(d.Old.TenantIDs), codes(d.New.TenantIDs))
	mdPeriod := func(s Side) string {
		if !known(s) {
			return "unknown"
		}
		return code(s.From) + " to " + code(s.To)
	}
	p("| Period | %s | %s |\n", mdPeriod(d.Old), mdPeriod(d.New))
	p("| Identities | %d | %d |\n", d.Old.Identities, d.New.Identities)
	if ws := warnings(d); len(ws) > 0 {
		p("\n")
		for i, wn := range ws {
			if i > 0 {
				p(">\n")
			}
			title := "Warning"
			if wn.level == "note" {
				title = "Note"
			}
			p("> **%s:** %s.", title, wn.text)
			if wn.detail != "" {
				p(" Why: %s", code(wn.detail))
			}
			p("\n")
		}
	}
	p("\n")
	d.findings(sectionWriters{
		same:    func(text string) { p("**No differences:** %s\n", text) },
		summary: func(text string) { p("**%s.**\n", text) },
		identities: func(title string, ids []Identity) {
			p("\n## %s (%d)\n\n| Severity | Verdict | User | Home tenant | Reason |\n|---|---|---|---|---|\n", title, len(ids))
			for _, id := range ids {
				p("| %s | %s | %s | %s | %s |\n", code(id.Severity), code(id.Verdict), code(id.User), code(id.HomeTenant), code(id.Reason))
			}
		},
		changed: func(title string, cs []Change) {
			p("\n## %s (%d)\n\n| User | Verdict | Severity | Home tenant | Reason now |\n|---|---|---|---|---|\n", title, len(cs))
			cell := func(o, n string) string {
				if o == n {
					return code(n)
				}
				return code(o) + " → " + code(n)
			}
			for _, c := range cs {
				p("| %s | %s | %s | %s | %s |\n", code(c.User), cell(c.Old.Verdict, c.New.Verdict), cell(c.Old.Severity, c.New.Severity), cell(c.Old.HomeTenant, c.New.HomeTenant), code(c.Reason))
			}
		},
		partners: func(title string, ps []Partner) {
			p("\n## %s (%d)\n\n| Home tenant | Worst severity | Identities |\n|---|---|---|\n", title, len(ps))
			for _, pt := range ps {
				p("| %s | %s | %s |\n", code(pt.HomeTenant), code(pt.Worst), codes(pt.Users))
			}
		},
	})
	return bw.Flush()
}
