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

// textWidth is the width text output fits: wide enough for an RFC 3339
// time, an operation, a UPN and an IP on one line, narrow enough for a
// terminal beside another or a ticket's fixed-width block.
const textWidth = 100

// RenderText writes the report for a person, without colour: the summary
// and a compact table first, then per identity (highest severity first)
// the answers to who, was there a breach, and what did they access.
func RenderText(w io.Writer, r *triage.Report) error {
	return renderText(w, r, Options{})
}

// renderText is RenderText with options (colour). Every value from the
// records goes through Clean: a UPN or user agent carrying terminal escape
// sequences must not drive the analyst's terminal. Lines are wrapped at
// textWidth, never truncated; colour codes are added around words the
// renderer chose, never inside a value from the records.
func renderText(w io.Writer, r *triage.Report, o Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: o.Color}

	head := "outsider: " + plural(len(r.Identities), "outside identity", "outside identities") + " in " + plural64(r.Input.Records, "record", "records")
	if r.Input.From != "" {
		head += " from " + r.Input.From + " to " + r.Input.To
	}
	t.para("", "          ", head)
	t.para("tenant:   ", "          ", orNone(Clean(strings.Join(r.Tenant.IDs, ", ")))+"; domains: "+orNone(Clean(strings.Join(r.Tenant.Domains, ", "))))
	if r.TenantSource != "" {
		t.para("          ", "           ", "("+r.TenantSource+")")
	}
	in := plural(len(r.Input.Files), "file", "files") + ", " +
		plural64(r.Input.Duplicates, "duplicate dropped", "duplicates dropped") + ", " +
		plural64(r.Input.Skipped, "record", "records") + " skipped"
	if r.Filtered > 0 {
		in += ", " + plural64(r.Filtered, "record", "records") + " outside --since/--until/--tenant"
	}
	t.para("input:    ", "          ", in)
	if d := r.Input.Directory; d != nil {
		t.para("directory:", "          ", " "+Clean(d.Path)+" ("+plural(d.Accounts, "account", "accounts")+")")
	}
	for _, e := range r.Input.Enrichment {
		t.para("geoip:    ", "          ", Clean(e))
	}
	bv := r.Summary.ByVerdict
	t.para("verdicts: ", "          ", fmt.Sprintf("%d anomalous, %d activity, %d shared, %d signin-only",
		bv[triage.VerdictAnomalous], bv[triage.VerdictActivity], bv[triage.VerdictShared], bv[triage.VerdictSigninOnly]))

	if len(r.Identities) > 0 {
		// Columns as wide as their widest cell, so the user (last, the one
		// that varies) keeps as much of the 100 columns as possible.
		head := []string{"SEVERITY", "VERDICT", "CLASS", "SIGN-INS", "BY-USER", "BY-IP", "SHARED"}
		rows := make([][]string, len(r.Identities))
		width := make([]int, len(head))
		for i, h := range head {
			width[i] = len(h)
		}
		for i, id := range r.Identities {
			rows[i] = []string{id.Severity, id.Verdict, classLabel(id),
				strconv.FormatInt(id.Signins.Success, 10) + "/" + strconv.FormatInt(id.Signins.Failure, 10),
				strconv.FormatInt(id.Activity.ByUser, 10), strconv.FormatInt(id.Activity.ByIP, 10), strconv.FormatInt(id.SharingCount, 10)}
			for j, c := range rows[i] {
				width[j] = max(width[j], len(c))
			}
		}
		cells := func(row []string) string {
			var b strings.Builder
			for j, c := range row {
				if j < 3 {
					fmt.Fprintf(&b, "%-*s ", width[j], c)
				} else {
					fmt.Fprintf(&b, "%*s ", width[j], c)
				}
			}
			return b.String() + " "
		}
		t.line("")
		t.line(t.paint(sgrBold, cells(head)+"USER"))
		for i, id := range r.Identities {
			line := cells(rows[i])
			t.styled(line, t.paint(severityColor(id.Severity), id.Severity)+line[len(id.Severity):], strings.Repeat(" ", len(line)), Clean(id.User))
		}
		t.line(t.paint(sgrDim, "(sign-ins: successful/other)"))
	}

	for i, id := range r.Identities {
		t.line("")
		num := "[" + strconv.Itoa(i+1) + "] "
		label := strings.ToUpper(id.Severity) + " " + id.Verdict
		t.styled(num+label+": ", num+t.paint(severityColor(id.Severity), label)+": ", "    ", Clean(id.User))

		// Who.
		who := classLabel(id) + " account"
		if id.HomeTenant != "" {
			who += " from tenant " + Clean(id.HomeTenant)
		}
		t.label("who:", who)
		t.para(indent, indent, fmt.Sprintf("%s (%d successful, %d other) from %s to %s",
			plural64(id.Signins.Success+id.Signins.Failure, "sign-in", "sign-ins"), id.Signins.Success, id.Signins.Failure, id.Signins.First, id.Signins.Last))
		t.para(indent+"IPs: ", indent+"     ", orNone(Clean(strings.Join(id.Signins.IPs, ", "))))
		if len(id.Signins.Apps) == 0 {
			t.para(indent+"apps: ", indent+"      ", "none")
		}
		for _, a := range id.Signins.Apps {
			name := appName(a, "unnamed")
			tag, styledTag := "first-party", "first-party"
			if !a.FirstParty {
				tag, styledTag = "NOT first-party", t.paint(sgrRed, "NOT first-party")
			}
			app := Clean(name) + " (" + Clean(a.ID) + ", "
			t.styledTail(indent+"app: ", indent+"     ", app, tag+") x"+strconv.FormatInt(a.Count, 10), styledTag+") x"+strconv.FormatInt(a.Count, 10))
		}
		for _, ua := range id.Signins.UserAgents {
			t.para(indent+"user agent: ", indent+"            ", Clean(ua))
		}
		for _, f := range extraFacts(id, r.IPInfo) {
			lead := indent + f.label + ": "
			t.para(lead, strings.Repeat(" ", len(lead)), Clean(strings.Join(f.values, "; ")))
		}

		// Was there a breach?
		ans := breachAnswer(id)
		word, rest, _ := strings.Cut(ans, ":")
		t.styled("  breach?:  "+word+": ", "  "+t.paint(sgrBold, "breach?:")+"  "+t.paint(severityColor(id.Severity), word)+": ", indent, strings.TrimPrefix(rest, " "))
		for _, reason := range id.Reasons {
			t.para(indent+"- ", indent+"  ", Clean(reason))
		}

		// What did they access?
		acc := plural64(id.Activity.ByUser, "record", "records") + " by the account, " +
			plural64(id.Activity.ByIP, "record", "records") + " by others from its IPs"
		if len(id.Activity.Operations) > 0 {
			var ops []string
			for _, op := range slices.Sorted(maps.Keys(id.Activity.Operations)) {
				ops = append(ops, Clean(op)+glue+strconv.FormatInt(id.Activity.Operations[op], 10))
			}
			acc += ": " + strings.Join(ops, ", ")
		}
		t.label("accessed:", acc)
		if len(id.Activity.Evidence) > 0 {
			t.para(indent, indent, fmt.Sprintf("evidence (the earliest %d of %d):", len(id.Activity.Evidence), id.Activity.ByUser+id.Activity.ByIP))
			for _, e := range id.Activity.Evidence {
				t.para(indent+"  ", indent+"    ", e.Time+"  "+Clean(e.Operation)+"  by"+glue+orDash(Clean(e.User))+"  from"+glue+orDash(Clean(e.IP)))
				if e.Object != "" {
					t.para(indent+"    object: ", indent+"            ", Clean(e.Object))
				}
				t.para(indent+"    record: ", indent+"            ", orDash(Clean(e.RecordID))+" at "+orDash(Clean(e.Source)))
			}
		}
		if len(id.Sharing) > 0 {
			t.para(indent, indent, fmt.Sprintf("shared with it (the earliest %d of %d):", len(id.Sharing), max(id.SharingCount, int64(len(id.Sharing)))))
			for _, s := range id.Sharing {
				t.para(indent+"  ", indent+"    ", s.Time+"  "+Clean(s.Operation)+"  by"+glue+orDash(Clean(s.By))+"  with"+glue+orDash(Clean(s.Target)))
				if s.Object != "" {
					t.para(indent+"    object: ", indent+"            ", Clean(s.Object))
				}
				t.para(indent+"    record: ", indent+"            ", orDash(Clean(s.RecordID)))
			}
		}
		if len(id.IPAlsoUsedBy) > 0 {
			t.para(indent+"its IPs were also used by: ", indent+"  ", Clean(strings.Join(id.IPAlsoUsedBy, ", ")))
		}
	}

	if len(r.Problems) > 0 || r.ProblemsOmitted > 0 {
		t.line("")
		t.line(fmt.Sprintf("problems with the input (%s skipped in all):", plural64(r.Input.Skipped, "record", "records")))
		for _, pr := range r.Problems {
			kind, rest, _ := strings.Cut(problemLine(pr), ": ")
			t.para("  "+kind+": ", "    ", Clean(rest))
		}
		if r.ProblemsOmitted > 0 {
			t.line(fmt.Sprintf("  ... and %d more problems not listed", r.ProblemsOmitted))
		}
	}
	return bw.Flush()
}

// glue joins two words that wrap must keep on one line ("by" and the
// user); it is written as a space. A value through Clean never holds a raw
// NUL, so glue cannot come from the records.
const glue = "\x00"

// indent is where the answers of an identity's block start: under the
// text after "  breach?:  ".
const indent = "            "

// SGR parameters of the few colours text output uses.
const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "31"
	sgrHigh   = "1;31"
	sgrMedium = "33"
	sgrLow    = "36"
	sgrInfo   = "32"
)

func severityColor(s string) string {
	switch s {
	case triage.SeverityHigh:
		return sgrHigh
	case triage.SeverityMedium:
		return sgrMedium
	case triage.SeverityLow:
		return sgrLow
	}
	return sgrInfo
}

// textWriter writes wrapped lines, and colour when asked. Everything it
// measures is plain text (values already through Clean); styled variants
// of a line's fixed prefix are swapped in after the wrapping is decided,
// so colour codes never count towards the width.
type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) paint(sgr, s string) string {
	if !t.color || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

func (t *textWriter) line(s string) {
	t.w.WriteString(strings.ReplaceAll(s, glue, " "))
	t.w.WriteByte('\n')
}

// para writes s wrapped at textWidth, the first line after first, the
// others after rest.
func (t *textWriter) para(first, rest, s string) {
	for _, l := range wrap(first, rest, s, textWidth) {
		t.line(l)
	}
}

// label writes an identity's "  who:      ..." style answer line.
func (t *textWriter) label(name, s string) {
	plain := "  " + name
	pad := strings.Repeat(" ", len(indent)-len(plain))
	t.styled(plain+pad, "  "+t.paint(sgrBold, name)+pad, indent, s)
}

// styled is para whose first-line prefix is shown as styledFirst.
func (t *textWriter) styled(first, styledFirst, rest, s string) {
	lines := wrap(first, rest, s, textWidth)
	lines[0] = styledFirst + lines[0][len(first):]
	for _, l := range lines {
		t.line(l)
	}
}

// styledTail is para of s+tail where tail, when it ends the last line
// whole, is shown as styledTail.
func (t *textWriter) styledTail(first, rest, s, tail, styledTail string) {
	lines := wrap(first, rest, s+tail, textWidth)
	if last := lines[len(lines)-1]; strings.HasSuffix(last, tail) {
		lines[len(lines)-1] = strings.TrimSuffix(last, tail) + styledTail
	}
	for _, l := range lines {
		t.line(l)
	}
}

// wrap breaks s into lines of at most width runes: the first after the
// prefix first, the others after rest. It breaks at spaces; a word longer
// than a whole line (a URL, a long UPN) is split across lines rather than
// cut, because nothing from the evidence may be lost. Runs of spaces
// inside s are kept.
func wrap(first, rest, s string, width int) []string {
	var lines []string
	cur := first
	n := utf8.RuneCountInString(first)
	empty := true // no word on cur yet
	for _, word := range strings.Split(s, " ") {
		wl := utf8.RuneCountInString(word)
		if !empty {
			if n+1+wl <= width {
				cur += " " + word
				n += 1 + wl
				continue
			}
			lines = append(lines, strings.TrimRight(cur, " "))
			cur, n, empty = rest, utf8.RuneCountInString(rest), true
			if word == "" {
				continue // a run of spaces at a break is the break
			}
		}
		for room := max(width-n, 16); wl > room; room = max(width-n, 16) {
			cut := breakAt(word, room)
			lines = append(lines, strings.TrimRight(cur+word[:cut], glue))
			word, wl = word[cut:], wl-utf8.RuneCountInString(word[:cut])
			cur, n = rest, utf8.RuneCountInString(rest)
		}
		cur += word
		n += wl
		empty = false
	}
	return append(lines, strings.TrimRight(cur, " "))
}

// breakAt is where to split a word too long for the room left: after the
// last '@', '/', '.', '?', '&', '#' or glue that leaves at least half the
// room filled (a UPN splits at its domain, a URL at a path step), else
// exactly at the room. It returns a byte offset.
func breakAt(word string, room int) int {
	cut, best, runes := 0, 0, 0
	for i, r := range word {
		if runes == room {
			cut = i
			break
		}
		runes++
		if strings.ContainsRune("@/.?&#\x00", r) && runes >= room/2 {
			best = i + utf8.RuneLen(r)
		}
	}
	if cut == 0 {
		return len(word)
	}
	if best > 0 {
		return best
	}
	return cut
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
// escapes instead of being emitted. The Markdown and HTML renderers use it
// too: there a bidi override would not drive a terminal but could still
// make one UPN read as another.
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
	case r == 0x2028, r == 0x2029:
		return true // line and paragraph separators: newlines to some viewers
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
