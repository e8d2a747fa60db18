package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/triage"
)

// RenderMarkdown writes the report for a ticket or a wiki page (GitHub,
// Jira, Azure DevOps): the three answers, a table per verdict, then per
// identity its reasons, evidence and sharing as tables, and the input.
//
// Every value from the records is hostile. Values stand alone in code
// spans (mdCode), where Markdown makes no links, emphasis, HTML, mentions
// or maths; generated sentences that quote values (the reasons) are
// escaped character by character (mdText). Clean runs first either way,
// so a newline or a bidi override in a value is shown as an escape and
// cannot end a table row or a list item.
func RenderMarkdown(w io.Writer, r *triage.Report) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# outsider triage report\n\n")
	p("- **Tenant:** %s", codeList(r.Tenant.IDs, false))
	p("; domains: %s", codeList(r.Tenant.Domains, false))
	if r.TenantSource != "" {
		p(" (%s)", mdText(r.TenantSource))
	}
	p("\n- **Period:** %s\n", mdText(period(r)))
	p("- **Input:** %s\n\n", mdText(inputSummary(r)))

	if why := r.Summary.NothingJudged; why != "" {
		p("> **Cannot tell.** %s.\n\n", mdText(why))
	}
	p("## Answers\n\n")
	for _, a := range answers(r) {
		p("- **%s** %s\n", a.Question, mdText(strings.Join(a.Parts, " ")))
	}
	p("\n| verdict | identities | meaning |\n|---|---:|---|\n")
	for _, v := range verdictInfo {
		p("| %s | %d | %s |\n", v.Verdict, r.Summary.ByVerdict[v.Verdict], v.Meaning)
	}
	if len(r.Input.Coverage) > 0 {
		p("\nWhat the input covers (UTC):\n\n| workload | records | days | first | last |\n|---|---:|---:|---|---|\n")
		for _, c := range r.Input.Coverage {
			label, _, _ := coverageLine(c)
			p("| %s | %d | %d | %s | %s |\n", mdText(label), c.Records, c.Days, orDash(mdText(c.First)), orDash(mdText(c.Last)))
		}
	}

	for _, v := range verdictInfo {
		var ids []int
		for i, id := range r.Identities {
			if id.Verdict == v.Verdict {
				ids = append(ids, i)
			}
		}
		if len(ids) == 0 {
			continue
		}
		p("\n## %s (%d)\n\n", v.Title, len(ids))
		p("| # | severity | user | class | home tenant | sign-ins (ok/other) | by user | by IP | shared |\n")
		p("|---:|---|---|---|---|---:|---:|---:|---:|\n")
		for _, i := range ids {
			id := r.Identities[i]
			p("| %d | %s | %s | %s | %s | %d/%d | %d | %d | %d |\n", i+1, id.Severity, mdCode(id.User, true), classLabel(id),
				orDash(mdCode(id.HomeTenant, true)), id.Signins.Success, id.Signins.Failure, id.Activity.ByUser, id.Activity.ByIP, id.SharingCount)
		}
	}

	if len(r.Identities) > 0 {
		p("\n## Identities\n")
	}
	for i, id := range r.Identities {
		p("\n### %d. %s %s: %s\n\n", i+1, strings.ToUpper(id.Severity), id.Verdict, mdCode(id.User, false))
		who := classLabel(id) + " account"
		p("**Who:** %s", mdText(who))
		if id.HomeTenant != "" {
			p(" from tenant %s", mdCode(id.HomeTenant, false))
		}
		p("; %s (%d successful, %d other) from %s to %s", plural64(id.Signins.Success+id.Signins.Failure, "sign-in", "sign-ins"),
			id.Signins.Success, id.Signins.Failure, mdText(id.Signins.First), mdText(id.Signins.Last))
		p("; IPs: %s", codeList(id.Signins.IPs, false))
		var apps []string
		for _, a := range id.Signins.Apps {
			name := appName(a, "unnamed")
			tag := "first-party"
			if !a.FirstParty {
				tag = "**NOT first-party**"
			}
			apps = append(apps, mdText(name)+" ("+mdCode(a.ID, false)+", "+tag+") x"+strconv.FormatInt(a.Count, 10))
		}
		p("; apps: %s", orNone(strings.Join(apps, "; ")))
		p("; user agents: %s.\n\n", codeList(id.Signins.UserAgents, false))
		for _, f := range extraFacts(id, r.IPInfo) {
			vals := make([]string, len(f.values))
			for i, v := range f.values {
				vals[i] = mdText(v)
			}
			p("- %s: %s\n", mdText(f.label), strings.Join(vals, "; "))
		}
		p("\n")

		word, rest, _ := strings.Cut(breachAnswer(id), ":")
		p("**Breach?** **%s:**%s\n\n", word, mdText(rest))
		for _, reason := range id.Reasons {
			p("- %s\n", mdText(reason))
		}
		if len(id.Reasons) > 0 {
			p("\n")
		}

		p("**Accessed:** %s by the account, %s by others from its IPs", plural64(id.Activity.ByUser, "record", "records"), plural64(id.Activity.ByIP, "record", "records"))
		if len(id.Activity.Operations) > 0 {
			var ops []string
			for _, op := range slices.Sorted(maps.Keys(id.Activity.Operations)) {
				ops = append(ops, mdCode(op, false)+" "+strconv.FormatInt(id.Activity.Operations[op], 10))
			}
			p(": %s", strings.Join(ops, ", "))
		}
		p(".\n")
		if len(id.Activity.Evidence) > 0 {
			p("\nEvidence, the earliest %d of %d:\n\n", len(id.Activity.Evidence), id.Activity.ByUser+id.Activity.ByIP)
			p("| time | operation | user | IP | object | record | source |\n|---|---|---|---|---|---|---|\n")
			for _, e := range id.Activity.Evidence {
				p("| %s | %s | %s | %s | %s | %s | %s |\n", mdCode(e.Time, true), mdCode(e.Operation, true), orDash(mdCode(e.User, true)),
					orDash(mdCode(e.IP, true)), orDash(mdCode(e.Object, true)), orDash(mdCode(e.RecordID, true)), orDash(mdCode(e.Source, true)))
			}
		}
		if len(id.Sharing) > 0 {
			p("\nShared with it, the earliest %d of %d:\n\n", len(id.Sharing), max(id.SharingCount, int64(len(id.Sharing))))
			p("| time | by | operation | object | with | record |\n|---|---|---|---|---|---|\n")
			for _, s := range id.Sharing {
				p("| %s | %s | %s | %s | %s | %s |\n", mdCode(s.Time, true), orDash(mdCode(s.By, true)), mdCode(s.Operation, true),
					orDash(mdCode(s.Object, true)), orDash(mdCode(s.Target, true)), orDash(mdCode(s.RecordID, true)))
			}
		}
		if len(id.IPAlsoUsedBy) > 0 {
			p("\nIts IPs were also used by: %s.\n", codeList(id.IPAlsoUsedBy, false))
		}
	}

	p("\n## Input\n\n")
	p("| file | format | records | skipped |\n|---|---|---:|---:|\n")
	for _, f := range r.Input.Files {
		skipped := strconv.FormatInt(f.Skipped, 10)
		if f.Unreadable {
			skipped = "the file (unreadable)"
		}
		p("| %s | %s | %d | %s |\n", mdCode(f.Path, true), orDash(mdCode(f.Format, true)), f.Records, skipped)
	}
	if len(r.Problems) > 0 || r.ProblemsOmitted > 0 {
		p("\nProblems with the input (%s):\n\n", skippedInAll(r))
		for _, pr := range r.Problems {
			kind, rest, _ := strings.Cut(problemLine(pr), ": ")
			p("- %s: %s\n", kind, mdCode(rest, false))
		}
		if r.ProblemsOmitted > 0 {
			p("- ... and %d more problems not listed\n", r.ProblemsOmitted)
		}
	}
	return bw.Flush()
}

// mdCode shows a value as an inline code span: inside one, Markdown makes
// no emphasis, links, autolinks, HTML, @mentions or maths. The fence is
// one backtick longer than any run of backticks in the value, padded with
// a space when the value starts or ends with a backtick or a space (how
// CommonMark lets a code span hold backticks). In a table cell (inTable)
// a pipe would end the cell even inside a code span, so it is written
// \|, which GitHub-flavoured tables turn back into |. Empty stays empty.
func mdCode(s string, inTable bool) string {
	s = Clean(s)
	if s == "" {
		return ""
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' || s[len(s)-1] == ' ' {
		s = " " + s + " "
	}
	return fence + s + fence
}

// codeList shows values as code spans joined by ", ", or "none".
func codeList(vs []string, inTable bool) string {
	var out []string
	for _, v := range vs {
		if c := mdCode(v, inTable); c != "" {
			out = append(out, c)
		}
	}
	return orNone(strings.Join(out, ", "))
}

// mdText escapes generated prose that quotes values from the records, so
// that what a record says cannot become markup: the characters of
// emphasis, code, links, tables, strike-through and maths are
// backslash-escaped, and so is what would start a list; <, > and & become entities (no HTML, no entity
// tricks); "://" and "www." are broken with an escape so that a URL in a
// record is not made a link. A bare e-mail address still becomes a mailto
// link in GitHub's Markdown; the text shown is the address itself.
func mdText(s string) string {
	s = Clean(s)
	var b strings.Builder
	// At the start of a line (every use of mdText may be), these would
	// begin a list, a heading's underline or an ordered list.
	if s != "" && strings.ContainsRune("-+=", rune(s[0])) {
		b.WriteByte('\\')
	}
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if digits > 0 && i == digits && (c == '.' || c == ')') {
			b.WriteByte('\\')
		}
		switch c {
		case '\\', '`', '*', '_', '[', ']', '|', '~', '$', '#', '!':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case ':':
			if strings.HasPrefix(s[i:], "://") {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		case '.':
			if i >= 3 && strings.EqualFold(s[i-3:i], "www") {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
