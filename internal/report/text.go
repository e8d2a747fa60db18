package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/triage"
)

// RenderText writes the report for a person at a terminal or in a ticket:
// the summary first, then per identity (highest severity first) the
// answers to who, was there a breach, and what did they access. Every
// value from the records goes through Clean: a UPN or user agent carrying
// terminal escape sequences must not drive the analyst's terminal.
func RenderText(w io.Writer, r *triage.Report) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("outsider: %s in %s", plural(len(r.Identities), "outside identity", "outside identities"), plural64(r.Input.Records, "record", "records"))
	if r.Input.From != "" {
		p(" from %s to %s", r.Input.From, r.Input.To)
	}
	p("\n")
	p("tenant:   %s", orNone(Clean(strings.Join(r.Tenant.IDs, ", "))))
	p("; domains: %s\n", orNone(Clean(strings.Join(r.Tenant.Domains, ", "))))
	if r.TenantSource != "" {
		p("          (%s)\n", r.TenantSource)
	}
	p("input:    %s, %s, %s skipped",
		plural(len(r.Input.Files), "file", "files"),
		plural64(r.Input.Duplicates, "duplicate dropped", "duplicates dropped"),
		plural64(r.Input.Skipped, "record", "records"))
	if r.Filtered > 0 {
		p(", %s outside --since/--until/--tenant", plural64(r.Filtered, "record", "records"))
	}
	p("\n")
	bv := r.Summary.ByVerdict
	p("verdicts: %d anomalous, %d activity, %d shared, %d signin-only\n",
		bv[triage.VerdictAnomalous], bv[triage.VerdictActivity], bv[triage.VerdictShared], bv[triage.VerdictSigninOnly])

	if len(r.Identities) > 0 {
		p("\n%-8s %-11s %-20s %8s %8s %8s %7s  %s\n", "SEVERITY", "VERDICT", "CLASS", "SIGN-INS", "BY-USER", "BY-IP", "SHARED", "USER")
		for _, id := range r.Identities {
			p("%-8s %-11s %-20s %8s %8d %8d %7d  %s\n", id.Severity, id.Verdict, classLabel(id),
				strconv.FormatInt(id.Signins.Success, 10)+"/"+strconv.FormatInt(id.Signins.Failure, 10),
				id.Activity.ByUser, id.Activity.ByIP, id.SharingCount, Clean(id.User))
		}
		p("(sign-ins: successful/other)\n")
	}

	for i, id := range r.Identities {
		p("\n[%d] %s %s: %s\n", i+1, strings.ToUpper(id.Severity), id.Verdict, Clean(id.User))
		// Who.
		who := classLabel(id) + " account"
		if id.HomeTenant != "" {
			who += " from tenant " + Clean(id.HomeTenant)
		}
		p("  who:      %s\n", who)
		p("            %s (%d successful, %d other) from %s to %s\n",
			plural64(id.Signins.Success+id.Signins.Failure, "sign-in", "sign-ins"), id.Signins.Success, id.Signins.Failure, id.Signins.First, id.Signins.Last)
		p("            IPs: %s\n", orNone(Clean(strings.Join(id.Signins.IPs, ", "))))
		var apps []string
		for _, a := range id.Signins.Apps {
			name := a.Name
			if name == "" {
				name = "unnamed"
			}
			tag := "first-party"
			if !a.FirstParty {
				tag = "NOT first-party"
			}
			apps = append(apps, fmt.Sprintf("%s (%s, %s) x%d", Clean(name), Clean(a.ID), tag, a.Count))
		}
		p("            apps: %s\n", orNone(strings.Join(apps, "; ")))
		for _, ua := range id.Signins.UserAgents {
			p("            user agent: %s\n", Clean(ua))
		}
		// Was there a breach?
		p("  breach?:  %s\n", breachAnswer(id))
		for _, reason := range id.Reasons {
			p("            - %s\n", Clean(reason))
		}
		// What did they access?
		p("  accessed: %s by the account, %s by others from its IPs",
			plural64(id.Activity.ByUser, "record", "records"), plural64(id.Activity.ByIP, "record", "records"))
		if len(id.Activity.Operations) > 0 {
			var ops []string
			for _, op := range slices.Sorted(maps.Keys(id.Activity.Operations)) {
				ops = append(ops, Clean(op)+" "+strconv.FormatInt(id.Activity.Operations[op], 10))
			}
			p(": %s", strings.Join(ops, ", "))
		}
		p("\n")
		if len(id.Activity.Evidence) > 0 {
			p("            evidence (earliest %d):\n", len(id.Activity.Evidence))
			for _, e := range id.Activity.Evidence {
				p("              %s  %s  %s  %s  %s  [%s %s]\n", e.Time, Clean(e.Operation), Clean(e.User), orDash(e.IP), orDash(Clean(e.Object)), Clean(e.RecordID), Clean(e.Source))
			}
		}
		for _, s := range id.Sharing {
			p("            shared: %s  %s %s %s with %s  [%s]\n", s.Time, Clean(s.By), Clean(s.Operation), Clean(s.Object), Clean(s.Target), Clean(s.RecordID))
		}
		if len(id.IPAlsoUsedBy) > 0 {
			p("            its IPs were also used by: %s\n", Clean(strings.Join(id.IPAlsoUsedBy, ", ")))
		}
	}

	if len(r.Problems) > 0 || r.ProblemsOmitted > 0 {
		p("\nproblems with the input (%s skipped in all):\n", plural64(r.Input.Skipped, "record", "records"))
		for _, pr := range r.Problems {
			kind := "skipped"
			if pr.Warning {
				kind = "warning"
			}
			p("  %s: %s\n", kind, Clean(pr.Error()))
		}
		if r.ProblemsOmitted > 0 {
			p("  ... and %d more problems not listed\n", r.ProblemsOmitted)
		}
	}
	return bw.Flush()
}

// breachAnswer puts the verdict in the words of the question.
func breachAnswer(id triage.Identity) string {
	switch id.Verdict {
	case triage.VerdictAnomalous:
		return "POSSIBLY: it signed in to an application that pass-through authentication should never reach"
	case triage.VerdictActivity:
		if id.Severity == triage.SeverityHigh {
			return "POSSIBLY: activity beyond sign-ins that sharing does not explain, touching mailboxes, administration or our own accounts"
		}
		return "UNCLEAR: activity beyond sign-ins that sharing does not explain; review the evidence"
	case triage.VerdictShared:
		return "NO SIGN OF ONE: it opened what someone in the organisation shared with it"
	case triage.VerdictSigninOnly:
		return "NO: Entra ID only confirmed its identity; it appears in nothing but sign-in records"
	}
	return id.Verdict
}

func classLabel(id triage.Identity) string {
	if id.Consumer {
		return id.Class + "/consumer"
	}
	return id.Class
}

// Clean makes a value safe to print on a terminal: control characters
// (C0, DEL, C1), bidirectional overrides and invalid UTF-8 are shown as
// escapes instead of being emitted.
func Clean(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return true
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return !unicode.IsPrint(r) && !unicode.IsSpace(r)
}

func plural(n int, one, many string) string { return plural64(int64(n), one, many) }

func plural64(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
