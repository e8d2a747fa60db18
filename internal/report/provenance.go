package report

import (
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// provRow is one line of a report's provenance: a label of ours, a value
// from the command line or the file system (Code: a path or the command,
// attacker-controlled, each format escapes it as a value) and words of
// ours after it (Note).
type provRow struct {
	Label, Code, Note string
}

// provenanceRows are the provenance's lines, in the order every format
// shows them; nil when the report has none.
func provenanceRows(p *triage.Provenance) []provRow {
	if p == nil {
		return nil
	}
	rows := []provRow{{Label: "tool", Note: "outsider " + p.Version + ", commit " + p.Commit}}
	rows = append(rows, provRow{Label: "command", Code: commandLine(p.Command)})
	if p.Source != "" {
		rows = append(rows, provRow{Label: "records", Code: p.Source})
	}
	for _, in := range p.Inputs {
		note := plural64(in.Bytes, "byte", "bytes")
		if in.SHA256 != "" {
			note += ", sha256 " + in.SHA256
		}
		rows = append(rows, provRow{Label: "input", Code: in.Path, Note: note})
	}
	rows = append(rows, provRow{Label: "times", Note: p.TimeZone})
	if p.Generated != "" {
		rows = append(rows, provRow{Label: "generated", Note: p.Generated})
	}
	return rows
}

// commandLine joins the command's words for reading: each quoted for a
// shell where it needs it (shellQuote), else, holding a single quote, as
// a Go string literal. It is shown, never run.
func commandLine(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		q, ok := shellQuote(a)
		if !ok {
			q = strconv.Quote(a)
		}
		words[i] = q
	}
	return strings.Join(words, " ")
}

// provenance writes the text report's provenance block, one labelled
// line per row, after the input block.
func (t *textWriter) provenance(p *triage.Provenance) {
	for i, row := range provenanceRows(p) {
		lead, s := "          ", row.Label+": "
		if i == 0 {
			// "made by:  tool: outsider 1.2.0" says "tool" twice.
			lead, s = "made by:  ", ""
		}
		if row.Code != "" {
			s += textsafe.Terminal(row.Code)
			if row.Note != "" {
				s += ", "
			}
		}
		s += textsafe.Terminal(row.Note)
		t.para(lead, "            ", s)
	}
}

// markdownProvenance is the Markdown report's provenance section ("" when
// the report has none).
func markdownProvenance(p *triage.Provenance) string {
	rows := provenanceRows(p)
	if rows == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Provenance\n\n")
	for _, row := range rows {
		b.WriteString("- **" + row.Label + ":** ")
		if row.Code != "" {
			b.WriteString(textsafe.MarkdownCode(row.Code, false))
			if row.Note != "" {
				b.WriteString(", ")
			}
		}
		b.WriteString(textsafe.MarkdownText(row.Note) + "\n")
	}
	return b.String()
}

// htmlProvenance is the HTML report's provenance rows, values through
// textsafe.HTML (the template escapes them for HTML).
func htmlProvenance(p *triage.Provenance) []provRow {
	rows := provenanceRows(p)
	for i := range rows {
		rows[i].Code, rows[i].Note = textsafe.HTML(rows[i].Code), textsafe.HTML(rows[i].Note)
	}
	return rows
}
