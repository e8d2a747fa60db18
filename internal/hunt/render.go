package hunt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Mode names what the queries do, for the header of the text output.
type Mode string

// The two modes.
const (
	ModeTriage   Mode = "triage"
	ModeFollowUp Mode = "follow-up"
)

// target is what the output says of one SIEM: how the header names it
// and where its queries run (title), where they are pasted and run
// (howToRun), and the extension of its query files (ext).
type target struct{ title, howToRun, ext string }

// targets holds each SIEM's target.
var targets = map[SIEM]target{
	Sentinel: {
		title:    "Microsoft Sentinel (KQL; Logs in the Azure portal or the Defender portal)",
		howToRun: "How to run: paste into Logs of the Sentinel workspace (Azure portal) or of Microsoft Sentinel in the Defender portal, and run; the period is in the query (Start, End), whatever the time picker says.",
		ext:      ".kql",
	},
	Defender: {
		title:    "Microsoft Defender XDR advanced hunting (KQL)",
		howToRun: "How to run: paste into Advanced hunting in the Defender portal and run; the period is in the query (Start, End); advanced hunting keeps 30 days.",
		ext:      ".kql",
	},
	Splunk: {
		title:    "Splunk (SPL; Search & Reporting)",
		howToRun: "How to run: paste into Search & Reporting and run; earliest and latest in the search set the period, whatever the time picker says.",
		ext:      ".spl",
	},
	Purview: {
		title:    "Microsoft Purview audit via Exchange Online PowerShell (Search-UnifiedAuditLog)",
		howToRun: "How to run: save as a .ps1 file and run it in an Exchange Online PowerShell session (Connect-ExchangeOnline) as a user with the Audit Logs or View-Only Audit Logs role; then run outsider triage on the file it writes.",
		ext:      ".ps1",
	},
}

// RuleVerdict and RuleCoverage are outsider's rule in two paragraphs, for
// the comments of the queries: the SIEM user has the queries, not
// outsider's documentation, and must still know what a verdict means and
// when signin-only is not an all-clear.
const (
	RuleVerdict  = "Rule (the first verdict that holds): anomalous (high): not a guest, and a successful sign-in to an application that is not Microsoft first-party; signin-only (info): no record but sign-ins, by it or by anyone from its IPs (U and P empty); shared (low): someone shared with it, no P, and U only opens shared content; activity (medium; high with mailbox access, admin operations or a member on its IPs): anything else."
	RuleCoverage = "Coverage: signin-only and shared are an all-clear only where the tenant's Exchange and SharePoint/OneDrive records exist within 3 days before and after each of the identity's sign-in days; outsider's reports say unverified (low) otherwise. Check that the SIEM holds records with Workload Exchange and SharePoint or OneDrive around those days: no rows from a gap is not no activity."
)

// purviewCoverage is the coverage rule as it meets the Purview script,
// which leaves the judging to outsider triage.
const purviewCoverage = "outsider triage judges the file by its rule, coverage included: an identity with nothing but sign-ins is signin-only only where the input holds the tenant's Exchange and SharePoint/OneDrive records within 3 days before and after each of its sign-in days, else unverified (low). This script collects only the records of the identities, their IPs and sharing; if the report says unverified, add an export of those workloads for the dates it names."

// queryComment is the comment block above one query: what it finds, how
// to read it, and (where a SIEM judges) the rule, so that one query copied
// out alone still carries it.
func queryComment(siem SIEM, q Query, i, n int) []string {
	c := []string{
		fmt.Sprintf("==== %d/%d %s ====", i+1, n, q.Name),
		"Finds: " + q.Purpose,
		"How to read: " + q.HowToRead,
	}
	if siem != Purview {
		c = append(c, RuleVerdict, RuleCoverage)
	}
	return c
}

// WriteText writes the queries for people: a header, then each query with
// a comment saying what it finds and how to read its result, queries
// separated by one blank line and holding none (editors that run "the query
// under the cursor" take the whole of it). For Purview the steps together
// are one script, to be saved and run in order.
func WriteText(w io.Writer, set *Set) error {
	siem, mode, header, qs := set.SIEM, set.Mode, set.Header, set.Queries
	c := commenter(siem)
	var b strings.Builder
	title := "outsider hunt --siem " + string(siem) + ": "
	if mode == ModeTriage {
		title += "the whole triage as queries"
	} else {
		title += "follow-up of a triage report"
	}
	head := []string{title, "for " + targets[siem].title + "."}
	head = append(head, header...)
	if siem == Purview {
		head = append(head, fmt.Sprintf("The %d steps below are one script.", len(qs)), targets[siem].howToRun, purviewCoverage)
	} else {
		head = append(head, fmt.Sprintf("%d queries follow; run each on its own. Each starts with a comment saying what it finds, how to read the result and the rule.", len(qs)), targets[siem].howToRun)
	}
	b.WriteString(c(head))
	for i, q := range qs {
		b.WriteString("\n")
		b.WriteString(c(queryComment(siem, q, i, len(qs))))
		b.WriteString(strings.TrimRight(q.Query, "\n"))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Names lists the set's query names in order, for --query.
func (s *Set) Names() []string {
	names := make([]string, len(s.Queries))
	for i, q := range s.Queries {
		names[i] = q.Name
	}
	return names
}

// Index returns the position of the query called name, or -1.
func (s *Set) Index(name string) int {
	return slices.IndexFunc(s.Queries, func(q Query) bool { return q.Name == name })
}

// WriteQuery writes query i alone, ready to paste: a header saying which
// query of which set it is, what it answers, the period, how to run it and
// how to read it, and the rule, then the query. Purview steps are one
// script and have no standalone form: use WriteText.
func WriteQuery(w io.Writer, set *Set, i int) error {
	if set.SIEM == Purview {
		return fmt.Errorf("the Purview steps are one script, run in order: there is no single query to print")
	}
	if i < 0 || i >= len(set.Queries) {
		return fmt.Errorf("no query %d (the set has %d)", i, len(set.Queries))
	}
	q := set.Queries[i]
	c := commenter(set.SIEM)
	mode := "the whole triage"
	if set.Mode == ModeFollowUp {
		mode = "the follow-up of a triage report"
	}
	head := []string{
		fmt.Sprintf("outsider hunt --siem %s, query %d of %d of %s (%s), for %s.", set.SIEM, i+1, len(set.Queries), mode, q.Name, targets[set.SIEM].title),
		"Answers: " + q.Purpose,
	}
	head = append(head, set.Header...)
	head = append(head, targets[set.SIEM].howToRun, "How to read: "+q.HowToRead, RuleVerdict, RuleCoverage)
	var b strings.Builder
	b.WriteString(c(head))
	b.WriteString(strings.TrimRight(q.Query, "\n"))
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// File is one file of 'outsider hunt --out DIR'.
type File struct {
	Name string
	Body []byte
}

// Files returns the set as files, one per query named
// <siem>-<mode>-<n>-<name><ext> (mode triage or followup, n its position),
// each written by WriteQuery; for Purview, whose steps are one script, a
// single <siem>-<mode>.ps1 written by WriteText. Names never come from a
// report, so they are safe as file names.
func Files(set *Set) ([]File, error) {
	mode := "triage"
	if set.Mode == ModeFollowUp {
		mode = "followup"
	}
	prefix := string(set.SIEM) + "-" + mode
	if set.SIEM == Purview {
		var b bytes.Buffer
		if err := WriteText(&b, set); err != nil {
			return nil, err
		}
		return []File{{Name: prefix + targets[Purview].ext, Body: b.Bytes()}}, nil
	}
	files := make([]File, len(set.Queries))
	for i, q := range set.Queries {
		var b bytes.Buffer
		if err := WriteQuery(&b, set, i); err != nil {
			return nil, err
		}
		files[i] = File{Name: fmt.Sprintf("%s-%d-%s%s", prefix, i+1, q.Name, targets[set.SIEM].ext), Body: b.Bytes()}
	}
	return files, nil
}

// WriteJSON writes the queries as a JSON array of {siem, name, purpose,
// how_to_read, query}, for tools.
func WriteJSON(w io.Writer, qs []Query) error {
	if qs == nil {
		qs = []Query{}
	}
	out, err := json.MarshalIndent(qs, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	_, err = w.Write(out)
	return err
}

// commenter returns a function that turns paragraphs into the comment
// syntax of the target, wrapped at 100 columns. Comment text is outsider's
// own, never a value from a report.
func commenter(siem SIEM) func([]string) string {
	switch siem {
	case Splunk:
		// ```…``` comments (Splunk Search Manual, "Add comments to
		// searches"); the text holds no three backticks.
		return func(paras []string) string {
			var lines []string
			for _, p := range paras {
				lines = append(lines, wrap(p, 96)...)
			}
			text := strings.Join(lines, "\n")
			// Quotes are left out too, in case a comment is scanned like the
			// rest of the search: typographic ones read the same.
			text = strings.NewReplacer(`"`, "\u201d", "'", "\u2019", "`", "\u2018").Replace(text)
			return "```" + text + "```\n"
		}
	case Purview:
		return linePrefix("# ")
	}
	return linePrefix("// ")
}

func linePrefix(prefix string) func([]string) string {
	return func(paras []string) string {
		var b strings.Builder
		for _, p := range paras {
			for _, l := range wrap(p, 100-len(prefix)) {
				b.WriteString(strings.TrimRight(prefix+l, " "))
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
}

// wrap breaks text into lines of at most width bytes at spaces (a longer
// word stays whole).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
