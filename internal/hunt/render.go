package hunt

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Mode names what the queries do, for the header of the text output.
type Mode string

// The two modes.
const (
	ModeTriage   Mode = "triage"
	ModeFollowUp Mode = "follow-up"
)

// siemTitle is how the header names a target and where its queries run.
var siemTitle = map[SIEM]string{
	Sentinel: "Microsoft Sentinel (KQL; Logs in the Azure portal or the Defender portal)",
	Defender: "Microsoft Defender XDR advanced hunting (KQL)",
	Splunk:   "Splunk (SPL; Search & Reporting)",
	Purview:  "Microsoft Purview audit via Exchange Online PowerShell (Search-UnifiedAuditLog)",
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
	head := []string{title, "for " + siemTitle[siem] + "."}
	head = append(head, header...)
	if siem == Purview {
		head = append(head, fmt.Sprintf("The %d steps below are one script: save them as a .ps1 file and run it in an Exchange Online PowerShell session (Connect-ExchangeOnline) as a user with the Audit Logs or View-Only Audit Logs role.", len(qs)))
	} else {
		head = append(head, fmt.Sprintf("%d queries follow; run each on its own. Each starts with a comment saying what it finds and how to read the result.", len(qs)))
	}
	b.WriteString(c(head))
	for i, q := range qs {
		b.WriteString("\n")
		b.WriteString(c([]string{
			fmt.Sprintf("==== %d/%d %s ====", i+1, len(qs), q.Name),
			"Finds: " + q.Purpose,
			"How to read: " + q.HowToRead,
		}))
		b.WriteString(strings.TrimRight(q.Query, "\n"))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
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
