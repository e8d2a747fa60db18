package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// RenderMarkdown writes the report for a ticket or a wiki page (GitHub,
// Jira, Azure DevOps): the three answers, a table per verdict, then per
// identity its reasons, evidence and sharing as tables, and the input.
//
// Every value from the records is hostile. Values stand alone in code
// spans (textsafe.MarkdownCode), where Markdown makes no links, emphasis,
// HTML, mentions or maths; generated sentences that quote values (the
// reasons) are escaped character by character (textsafe.MarkdownText).
// Both apply textsafe.Terminal first, so a newline or a bidi override in
// a value is shown as an escape and cannot end a table row or a list item.
func RenderMarkdown(w io.Writer, r *triage.Report) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# outsider triage report\n\n")
	p("- **Tenant:** %s", codeList(r.Tenant.IDs, false))
	p("; domains: %s", codeList(r.Tenant.Domains, false))
	if r.TenantSource != "" {
		p(" (%s)", textsafe.MarkdownText(r.TenantSource))
	}
	p("\n- **Period:** %s\n", textsafe.MarkdownText(period(r)))
	p("- **Input:** %s\n\n", textsafe.MarkdownText(inputSummary(r)))

	if why := r.Summary.NothingJudged; why != "" {
		p("> **Cannot tell.** %s.\n\n", textsafe.MarkdownText(why))
	}
	p("## Answers\n\n")
	for _, a := range answers(r) {
		parts := make([]string, len(a.Parts))
		for i, part := range a.Parts {
			parts[i] = textsafe.MarkdownText(part)
			if i+1 == a.Touched {
				parts[i] = touchedAnswer(r, func(s string) string { return textsafe.MarkdownCode(s, false) }, textsafe.MarkdownText)
			}
		}
		p("- **%s** %s\n", a.Question, strings.Join(parts, " "))
	}
	p("\n| verdict | identities | meaning |\n|---|---:|---|\n")
	for _, v := range verdictInfo {
		p("| %s | %d | %s |\n", v.Verdict, r.Summary.ByVerdict[v.Verdict], v.Meaning)
	}
	if len(r.Input.Coverage) > 0 {
		p("\nWhat the input covers (UTC):\n\n| workload | records | days | first | last |\n|---|---:|---:|---|---|\n")
		for _, c := range r.Input.Coverage {
			label, _, _ := coverageLine(c)
			p("| %s | %d | %d | %s | %s |\n", textsafe.MarkdownText(label), c.Records, c.Days, orDash(textsafe.MarkdownText(c.First)), orDash(textsafe.MarkdownText(c.Last)))
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
			p("| %d | %s | %s | %s | %s | %d/%d | %d | %d | %d |\n", i+1, id.Severity, textsafe.MarkdownCode(id.User, true), classLabel(id),
				orDash(textsafe.MarkdownCode(id.HomeTenant, true)), id.Signins.Success, id.Signins.Failure, id.Activity.ByUser, id.Activity.ByIP, id.SharingCount)
		}
	}

	markdownPartners(bw, r.Partners)

	if len(r.Identities) > 0 {
		p("\n## Identities\n")
	}
	for i, id := range r.Identities {
		p("\n### %d. %s %s: %s\n\n", i+1, strings.ToUpper(id.Severity), id.Verdict, textsafe.MarkdownCode(id.User, false))
		who := classLabel(id) + " account"
		p("**Who:** %s", textsafe.MarkdownText(who))
		if id.HomeTenant != "" {
			p(" from tenant %s", textsafe.MarkdownCode(id.HomeTenant, false))
		}
		p("; %s (%d successful, %d other) from %s to %s", plural64(id.Signins.Success+id.Signins.Failure, "sign-in", "sign-ins"),
			id.Signins.Success, id.Signins.Failure, textsafe.MarkdownText(id.Signins.First), textsafe.MarkdownText(id.Signins.Last))
		p("; IPs: %s", codeList(id.Signins.IPs, false))
		var apps []string
		for _, a := range id.Signins.Apps {
			if a.ID == "" {
				apps = append(apps, textsafe.MarkdownText(noAppText(a)))
				continue
			}
			name := appName(a, "unnamed")
			tag := "first-party"
			if !a.FirstParty {
				tag = "**NOT first-party**"
			}
			apps = append(apps, textsafe.MarkdownText(name)+" ("+textsafe.MarkdownCode(a.ID, false)+", "+tag+") x"+strconv.FormatInt(a.Count, 10))
		}
		p("; apps: %s", orNone(strings.Join(apps, "; ")))
		p("; user agents: %s.\n\n", codeList(id.Signins.UserAgents, false))
		for _, f := range extraFacts(id, r.IPInfo) {
			vals := make([]string, len(f.values))
			for i, v := range f.values {
				vals[i] = textsafe.MarkdownText(v)
			}
			p("- %s: %s\n", textsafe.MarkdownText(f.label), strings.Join(vals, "; "))
		}
		p("\n")

		word, rest, _ := strings.Cut(breachAnswer(id), ":")
		p("**Breach?** **%s:**%s\n\n", word, textsafe.MarkdownText(rest))
		for _, reason := range id.Reasons {
			p("- %s\n", textsafe.MarkdownText(reason))
		}
		if len(id.Reasons) > 0 {
			p("\n")
		}

		p("**Accessed:** %s by the account, %s by others from its IPs", plural64(id.Activity.ByUser, "record", "records"), plural64(id.Activity.ByIP, "record", "records"))
		if len(id.Activity.Operations) > 0 {
			var ops []string
			for _, op := range slices.Sorted(maps.Keys(id.Activity.Operations)) {
				ops = append(ops, textsafe.MarkdownCode(op, false)+" "+strconv.FormatInt(id.Activity.Operations[op], 10))
			}
			p(": %s", strings.Join(ops, ", "))
		}
		p(".\n")
		if rows, note := accessedRows(id, maxAccessedRows); len(rows) > 0 {
			p("\nObjects touched, most records first:\n\n| object | records | how | operations | when | records |\n|---|---:|---|---|---|---|\n")
			for _, a := range rows {
				p("| %s %s | %d | %s | %s | %s | %s |\n", a.Kind, textsafe.MarkdownCode(a.Object, true), a.Records, a.How,
					textsafe.MarkdownCode(a.Operations, true), a.When, textsafe.MarkdownCode(a.RecordIDs, true))
			}
			if note != "" {
				p("\n(%s)\n", note)
			}
		}
		if len(id.Activity.Evidence) > 0 {
			p("\nEvidence, the earliest %d of %d:\n\n", len(id.Activity.Evidence), id.Activity.ByUser+id.Activity.ByIP)
			p("| time | operation | user | IP | object | record | source |\n|---|---|---|---|---|---|---|\n")
			for _, e := range id.Activity.Evidence {
				p("| %s | %s | %s | %s | %s | %s | %s |\n", textsafe.MarkdownCode(e.Time, true), textsafe.MarkdownCode(e.Operation, true), orDash(textsafe.MarkdownCode(e.User, true)),
					orDash(textsafe.MarkdownCode(e.IP, true)), orDash(textsafe.MarkdownCode(e.Object, true)), orDash(textsafe.MarkdownCode(e.RecordID, true)), orDash(textsafe.MarkdownCode(e.Source, true)))
			}
		}
		if len(id.Sharing) > 0 {
			p("\nShared with it, the earliest %d of %d:\n\n", len(id.Sharing), max(id.SharingCount, int64(len(id.Sharing))))
			p("| time | by | operation | object | with | record |\n|---|---|---|---|---|---|\n")
			for _, s := range id.Sharing {
				p("| %s | %s | %s | %s | %s | %s |\n", textsafe.MarkdownCode(s.Time, true), orDash(textsafe.MarkdownCode(s.By, true)), textsafe.MarkdownCode(s.Operation, true),
					orDash(textsafe.MarkdownCode(s.Object, true)), orDash(textsafe.MarkdownCode(s.Target, true)), orDash(textsafe.MarkdownCode(s.RecordID, true)))
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
		p("| %s | %s | %d | %s |\n", textsafe.MarkdownCode(f.Path, true), orDash(textsafe.MarkdownCode(f.Format, true)), f.Records, skipped)
	}
	if len(r.Problems) > 0 || r.ProblemsOmitted > 0 {
		p("\nProblems with the input (%s):\n\n", skippedInAll(r))
		for _, pr := range r.Problems {
			kind, rest, _ := strings.Cut(problemLine(pr), ": ")
			p("- %s: %s\n", kind, textsafe.MarkdownCode(rest, false))
		}
		if r.ProblemsOmitted > 0 {
			p("- ... and %d more problems not listed\n", r.ProblemsOmitted)
		}
	}
	bw.WriteString(markdownProvenance(r.Provenance))
	return bw.Flush()
}

// codeList shows values as code spans joined by ", ", or "none".
func codeList(vs []string, inTable bool) string {
	var out []string
	for _, v := range vs {
		if c := textsafe.MarkdownCode(v, inTable); c != "" {
			out = append(out, c)
		}
	}
	return orNone(strings.Join(out, ", "))
}

// markdownPartners writes the partner table: one row per home tenant, in
// the report's order. Names and domains are hostile: code spans.
func markdownPartners(bw *bufio.Writer, ps []triage.Partner) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(bw, "\n## Partners (%d)\n\n", len(ps))
	bw.WriteString("| partner | name from | worst | identities | anomalous | activity | shared | unverified | sign-in only | home tenant | domains |\n")
	bw.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, pt := range ps {
		fmt.Fprintf(bw, "| %s | %s | %s | %d | %d | %d | %d | %d | %d | %s | %s |\n",
			textsafe.MarkdownCode(pt.Name, true), pt.NameSource, pt.WorstSeverity, pt.Identities,
			pt.ByVerdict[triage.VerdictAnomalous], pt.ByVerdict[triage.VerdictActivity], pt.ByVerdict[triage.VerdictShared],
			pt.ByVerdict[triage.VerdictUnverified], pt.ByVerdict[triage.VerdictSigninOnly],
			orDash(textsafe.MarkdownCode(pt.TenantID, true)), orDash(codeList(partnerDomains(pt.Domains), true)))
	}
	bw.WriteString("\nName from: the first source that names the tenant, of " + partnerNameOrder + partnerNameOthers(ps) + ".\n")
}

// maxPartnerDomains caps the domains a partner row lists (the JSON has
// them all): a table row stays a row.
const maxPartnerDomains = 5

// partnerDomains is at most maxPartnerDomains of a partner's domains,
// then "and N more".
func partnerDomains(ds []string) []string {
	if len(ds) <= maxPartnerDomains {
		return ds
	}
	return append(slices.Clone(ds[:maxPartnerDomains]), "and "+strconv.Itoa(len(ds)-maxPartnerDomains)+" more")
}
