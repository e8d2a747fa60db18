package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// textWidth is the width text output fits when it does not go to a
// terminal (Options.Width 0): wide enough for an RFC 3339 time, an
// operation, a UPN and an IP on one line, narrow enough for a ticket's
// fixed-width block.
const textWidth = 100

// minTextWidth is the narrowest width honoured: below it the answers'
// indentation would leave no room for words.
const minTextWidth = 60

// answerWidth is where the three answers' text starts, after the longest
// question ("What did they access?") and a space.
const answerWidth = 23

// textOrder is the order the text report lists identities in: most
// severe first, and within a severity the most serious verdict first
// (anomalous before activity), then by user. The JSON contract keeps its
// own order (severity, then user); text is read top-down by a person.
func textOrder(ids []triage.Identity) []triage.Identity {
	rank := map[string]int{}
	for i, v := range triage.Verdicts {
		rank[v] = i
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b triage.Identity) int {
		if d := triage.SeverityRank(b.Severity) - triage.SeverityRank(a.Severity); d != 0 {
			return d
		}
		if d := rank[a.Verdict] - rank[b.Verdict]; d != 0 {
			return d
		}
		return strings.Compare(a.User, b.User)
	})
	return out
}

// table writes the identities as a compact table that fits the width:
// the user first and never cut (one longer than its column has a line of
// its own); when the row is too wide, the class column goes first (every
// block names the class), then the user column narrows, then the verdict
// cells are cut with ….
func (t *textWriter) table(ids []triage.Identity) {
	head := []string{"USER", "SEVERITY", "VERDICT", "CLASS", "SIGN-INS", "BY-USER", "BY-IP", "SHARED"}
	rows := make([][]string, len(ids))
	for i, id := range ids {
		rows[i] = []string{textsafe.Terminal(id.User), id.Severity, id.Verdict, classLabel(id),
			strconv.FormatInt(id.Signins.Success, 10) + "/" + strconv.FormatInt(id.Signins.Failure, 10),
			strconv.FormatInt(id.Activity.ByUser, 10), strconv.FormatInt(id.Activity.ByIP, 10), strconv.FormatInt(id.SharingCount, 10)}
	}
	wd := columnWidths(head, rows)
	total := func() int { return rowWidth(wd) }
	if total() > t.width {
		// The class is in every identity's block: on a narrow terminal the
		// table does without it before it cuts anything.
		head = slices.Delete(head, 3, 4)
		for i := range rows {
			rows[i] = slices.Delete(rows[i], 3, 4)
		}
		wd = columnWidths(head, rows)
	}
	// Still too wide: the user column gives up room down to 24 (longer
	// users then have a line of their own, never cut), then the verdict
	// cells are cut (to 5 at least), then the user column again.
	const userFloor = 24
	if over := total() - t.width; over > 0 && wd[0] > userFloor {
		wd[0] = max(userFloor, wd[0]-over)
	}
	if over := total() - t.width; over > 0 {
		wd[2] = max(wd[2]-over, 5)
	}
	if over := total() - t.width; over > 0 {
		wd[0] = max(utf8.RuneCountInString(head[0]), wd[0]-over)
	}
	numeric := len(head) - 4 // the last four columns are numbers
	cell := func(s string, w int, right bool) string {
		n := utf8.RuneCountInString(s)
		if n > w {
			s = string([]rune(s)[:w-1]) + "…"
			n = w
		}
		pad := strings.Repeat(" ", w-n)
		if right {
			return pad + s
		}
		return s + pad
	}
	line := func(row []string, sev string) {
		var b strings.Builder
		if utf8.RuneCountInString(row[0]) > wd[0] {
			// The user is never cut: alone on its line, the cells under
			// their headers on the next.
			t.line(row[0])
			b.WriteString(strings.Repeat(" ", wd[0]))
		} else {
			b.WriteString(cell(row[0], wd[0], false))
		}
		for j := 1; j < len(row); j++ {
			b.WriteByte(' ')
			v := cell(row[j], wd[j], j >= numeric)
			if j == 1 {
				word := strings.TrimRight(v, " ")
				v = t.paint(severityColor(sev), word) + v[len(word):]
			}
			b.WriteString(v)
		}
		t.w.WriteString(strings.TrimRight(b.String(), " "))
		t.w.WriteByte('\n')
	}
	t.w.WriteString(t.paint(sgrBold, strings.TrimRight(func() string {
		var b strings.Builder
		for j, h := range head {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(cell(h, wd[j], j >= numeric))
		}
		return b.String()
	}(), " ")))
	t.w.WriteByte('\n')
	for i, id := range ids {
		line(rows[i], id.Severity)
	}
	t.line(t.paint(sgrDim, "(sign-ins: successful/other)"))
}

// partnerNameOrder is the order in which the sources name a partner, the
// first that names its tenant winning (triage.partnerName,
// docs/reports.md); the HTML template says it too.
const partnerNameOrder = "partner-names > sign-in log > directory > domain"

// partnerNameOthers says what the name sources outside that order mean,
// for those the table shows: a first-time reader met "known" and "none"
// with nothing to say what they were (docs/reports.md does); "" when the
// table has neither.
func partnerNameOthers(ps []triage.Partner) string {
	var known, none bool
	for _, p := range ps {
		known = known || p.NameSource == triage.PartnerNameKnown
		none = none || p.NameSource == triage.PartnerNameNone
	}
	var parts []string
	if known {
		parts = append(parts, "known: a group outsider names itself (personal Microsoft accounts, unknown home tenant)")
	}
	if none {
		parts = append(parts, "none: nothing names the tenant, its id is shown")
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// columnWidths is each column's width in runes: its widest cell or header.
func columnWidths(head []string, rows [][]string) []int {
	wd := make([]int, len(head))
	for j, h := range head {
		wd[j] = utf8.RuneCountInString(h)
		for _, r := range rows {
			wd[j] = max(wd[j], utf8.RuneCountInString(r[j]))
		}
	}
	return wd
}

// rowWidth is the width of a row of columns wd, one space between them.
func rowWidth(wd []int) int {
	n := 0
	for _, w := range wd {
		n += w + 1
	}
	return n - 1
}

// partnerTable writes the partners (home tenants) as a compact table
// that fits the width, in the report's order (worst severity, then
// identities): the name first and never cut (one longer than its column
// has a line of its own), then where the name came from; when the row is
// too wide, the tenant id goes first (JSON has it), then the name column
// narrows.
func (t *textWriter) partnerTable(ps []triage.Partner) {
	if len(ps) == 0 {
		return
	}
	head := []string{"PARTNER", "FROM", "WORST", "IDS", "ANOM", "ACT", "SHARED", "UNVER", "SIGNIN", "TENANT"}
	verdicts := []string{triage.VerdictAnomalous, triage.VerdictActivity, triage.VerdictShared, triage.VerdictUnverified, triage.VerdictSigninOnly}
	rows := make([][]string, len(ps))
	for i, p := range ps {
		row := []string{textsafe.Terminal(p.Name), textsafe.Terminal(p.NameSource), p.WorstSeverity, strconv.Itoa(p.Identities)}
		for _, v := range verdicts {
			row = append(row, strconv.Itoa(p.ByVerdict[v]))
		}
		rows[i] = append(row, orDash(p.TenantID))
	}
	wd := columnWidths(head, rows)
	total := func() int { return rowWidth(wd) }
	if total() > t.width {
		head, wd = head[:len(head)-1], wd[:len(wd)-1]
		for i := range rows {
			rows[i] = rows[i][:len(rows[i])-1]
		}
	}
	if over := total() - t.width; over > 0 {
		wd[0] = max(utf8.RuneCountInString(head[0]), wd[0]-over)
	}
	cell := func(s string, j int) string {
		pad := strings.Repeat(" ", max(0, wd[j]-utf8.RuneCountInString(s)))
		if j >= 3 && j < 9 {
			return pad + s
		}
		return s + pad
	}
	line := func(row []string, sev string, bold bool) {
		var b strings.Builder
		if utf8.RuneCountInString(row[0]) > wd[0] {
			t.line(row[0])
			b.WriteString(strings.Repeat(" ", wd[0]))
		} else {
			b.WriteString(cell(row[0], 0))
		}
		for j := 1; j < len(row); j++ {
			b.WriteByte(' ')
			v := cell(row[j], j)
			if j == 2 && sev != "" {
				word := strings.TrimRight(v, " ")
				v = t.paint(severityColor(sev), word) + v[len(word):]
			}
			b.WriteString(v)
		}
		s := strings.TrimRight(b.String(), " ")
		if bold {
			s = t.paint(sgrBold, s)
		}
		t.w.WriteString(s)
		t.w.WriteByte('\n')
	}
	t.line("")
	line(head, "", true)
	for i, p := range ps {
		line(rows[i], p.WorstSeverity, false)
	}
	for _, l := range wrap("", " ", "(IDS: identities; name FROM: "+partnerNameOrder+partnerNameOthers(ps)+")", t.width) {
		t.line(t.paint(sgrDim, l))
	}
}

// explainHints names the records that decided an identity's verdict and
// the command that walks each through, field by field.
func (t *textWriter) explainHints(id triage.Identity) {
	const most = 3
	var cmds []string
	seen := map[string]bool{}
	for _, e := range id.Deciding {
		file, _, ok := cutLine(e.Source)
		if !ok || e.RecordID == "" || seen[e.RecordID+"\x00"+file] {
			continue
		}
		seen[e.RecordID+"\x00"+file] = true
		// The command is written raw (a shell word, where no escape is
		// read), so only for a name and id with nothing to escape but
		// backslashes: no command rather than a wrong or hostile one.
		if !textsafe.Plain(file) || !textsafe.Plain(e.RecordID) {
			continue
		}
		qf, okf := shellQuote(file)
		qid, okid := shellQuote(e.RecordID)
		if okf && okid {
			cmds = append(cmds, "outsider explain "+qf+" --id "+qid)
		}
	}
	if len(cmds) == 0 {
		return
	}
	t.label("explain:", "the records that decided it, field by field:")
	for i, c := range cmds {
		if i == most {
			t.para(explainIndent, explainIndent, fmt.Sprintf("(and %d more cited above)", len(cmds)-most))
			break
		}
		// One line, never wrapped: a command broken across lines does not
		// paste.
		t.line(explainIndent + c)
	}
}

// explainIndent leads each explain command: less than the answers'
// indent, so that a command with a record id fits 80 columns more often.
const explainIndent = "    "

// cutLine splits an evidence source "path:line" at its last colon.
func cutLine(src string) (path, line string, ok bool) {
	i := strings.LastIndexByte(src, ':')
	if i <= 0 {
		return "", "", false
	}
	return src[:i], src[i+1:], true
}

// shellQuote quotes a word for a POSIX shell and PowerShell alike: as is
// when it holds only characters neither treats specially, else in single
// quotes, inside which neither expands anything. A word holding a single
// quote has no quoting both read the same way, and it comes from the
// records or a file name (attacker-controlled): ok is false and no
// command is shown for it rather than one that could run something else.
func shellQuote(s string) (quoted string, ok bool) {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '@' || r == '+' || r == ',' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s, true
	}
	if strings.ContainsAny(s, "'\u2018\u2019\u201a\u201b") {
		// PowerShell also ends a single-quoted string at typographic quotes.
		return "", false
	}
	return "'" + s + "'", true
}

// RenderText writes the report for a person, without colour, at the
// default width, with every identity's block: what files and pipes get.
func RenderText(w io.Writer, r *triage.Report) error {
	return renderText(w, r, Options{All: true})
}

// renderText writes the report for a person: the three answers in plain
// words first, then a compact table of the identities sized to the width
// (most severe first), what the input held, and per identity at or above
// low (every identity with All) the answers to who, was there a breach,
// and what did they access, with the records that decided it and how to
// explain them. Every value from the records goes through textsafe.Terminal: a UPN or
// user agent carrying terminal escape sequences must not drive the
// analyst's terminal. Lines are wrapped at the width, never truncated but
// in the table, where only the cells after the user may be cut (with …);
// colour codes are added around words the renderer chose, never inside a
// value from the records.
func renderText(w io.Writer, r *triage.Report, o Options) error {
	bw := bufio.NewWriter(w)
	width := o.Width
	if width <= 0 {
		width = textWidth
	}
	width = max(width, minTextWidth)
	t := &textWriter{w: bw, color: o.Color, width: width}
	ids := textOrder(r.Identities)

	head := "outsider: " + plural(len(r.Identities), "outside identity", "outside identities") + " in " + plural64(r.Input.Records, "record", "records")
	if r.Input.From != "" {
		head += " from " + r.Input.From + " to " + r.Input.To
	}
	t.para("", "          ", head)
	if why := r.Summary.NothingJudged; why != "" {
		// The first thing read must say this is not an all-clear.
		t.line("")
		t.styled("CANNOT TELL: ", t.paint(sgrHigh, "CANNOT TELL")+": ", "             ", textsafe.Terminal(why))
	}

	// The three answers, as the Markdown and HTML reports give them.
	t.line("")
	for _, a := range answers(r) {
		// The terminal's first screen holds the three answers and the
		// table's head: the objects touched and the operations are
		// summed up shorter than in Markdown and HTML.
		if a.Touched > 0 {
			a.Parts[a.Touched-1] = touchedBrief(r)
		}
		if a.Operations > 0 {
			a.Parts[a.Operations-1] = "Operations: " + operationList(a.ops, 4) + "."
		}
		q := fmt.Sprintf("%-*s", answerWidth, a.Question)
		t.styled(q, t.paint(sgrBold, a.Question)+q[len(a.Question):], strings.Repeat(" ", answerWidth), textsafe.Terminal(strings.Join(a.Parts, " ")))
	}

	if len(ids) > 0 {
		t.line("")
		t.table(ids)
		t.partnerTable(r.Partners)
	}

	t.line("")
	t.para("tenant:   ", "          ", orNone(textsafe.Terminal(strings.Join(r.Tenant.IDs, ", ")))+"; domains: "+orNone(textsafe.Terminal(strings.Join(r.Tenant.Domains, ", "))))
	if r.TenantSource != "" {
		t.para("          ", "           ", "("+r.TenantSource+")")
	}
	in := plural(len(r.Input.Files), "file", "files") + ", " +
		plural64(r.Input.Duplicates, "duplicate dropped", "duplicates dropped") + ", " +
		plural64(r.Input.Skipped, "record", "records") + " skipped"
	if r.Input.SkippedFiles > 0 {
		in += ", " + plural64(r.Input.SkippedFiles, "unreadable file", "unreadable files") + " skipped"
	}
	if r.Filtered > 0 {
		in += ", " + plural64(r.Filtered, "record", "records") + " outside --since/--until/--tenant"
	}
	t.para("input:    ", "          ", in)
	if d := r.Input.Directory; d != nil {
		t.para("directory:", "          ", " "+textsafe.Terminal(d.Path)+" ("+plural(d.Accounts, "account", "accounts")+")")
	}
	for _, e := range r.Input.Enrichment {
		t.para("geoip:    ", "          ", textsafe.Terminal(e))
	}
	t.coverage(r.Input.Coverage)
	t.provenance(r.Provenance)
	bv := r.Summary.ByVerdict
	t.para("verdicts: ", "          ", fmt.Sprintf("%d anomalous, %d activity, %d shared, %d unverified, %d signin-only",
		bv[triage.VerdictAnomalous], bv[triage.VerdictActivity], bv[triage.VerdictShared], bv[triage.VerdictUnverified], bv[triage.VerdictSigninOnly]))

	folded := map[string]int{}
	nFolded := 0
	for i, id := range ids {
		if !o.All && triage.SeverityRank(id.Severity) < triage.SeverityRank(triage.SeverityLow) {
			folded[id.Verdict]++
			nFolded++
			continue
		}
		t.line("")
		num := "[" + strconv.Itoa(i+1) + "] "
		label := strings.ToUpper(id.Severity) + " " + id.Verdict
		t.styled(num+label+": ", num+t.paint(severityColor(id.Severity), label)+": ", "    ", textsafe.Terminal(id.User))

		// Who.
		who := classLabel(id) + " account"
		if id.HomeTenant != "" {
			who += " from tenant " + textsafe.Terminal(id.HomeTenant)
		}
		t.label("who:", who)
		t.para(indent, indent, fmt.Sprintf("%s (%d successful, %d other) from %s to %s",
			plural64(id.Signins.Success+id.Signins.Failure, "sign-in", "sign-ins"), id.Signins.Success, id.Signins.Failure, id.Signins.First, id.Signins.Last))
		t.para(indent+"IPs: ", indent+"     ", orNone(textsafe.Terminal(strings.Join(id.Signins.IPs, ", "))))
		if len(id.Signins.Apps) == 0 {
			t.para(indent+"apps: ", indent+"      ", "none")
		}
		for _, a := range id.Signins.Apps {
			if a.ID == "" {
				t.para(indent+"app: ", indent+"     ", noAppText(a))
				continue
			}
			name := appName(a, "unnamed")
			tag, styledTag := "first-party", "first-party"
			if !a.FirstParty {
				tag, styledTag = "NOT first-party", t.paint(sgrRed, "NOT first-party")
			}
			app := textsafe.Terminal(name) + " (" + textsafe.Terminal(a.ID) + ", "
			t.styledTail(indent+"app: ", indent+"     ", app, tag+") x"+strconv.FormatInt(a.Count, 10), styledTag+") x"+strconv.FormatInt(a.Count, 10))
		}
		for _, ua := range id.Signins.UserAgents {
			t.para(indent+"user agent: ", indent+"            ", textsafe.Terminal(ua))
		}
		for _, f := range extraFacts(id, r.IPInfo) {
			lead := indent + f.label + ": "
			t.para(lead, strings.Repeat(" ", len(lead)), textsafe.Terminal(strings.Join(f.values, "; ")))
		}

		// Was there a breach?
		ans := breachAnswer(id)
		word, rest, _ := strings.Cut(ans, ":")
		t.styled("  breach?:  "+word+": ", "  "+t.paint(sgrBold, "breach?:")+"  "+t.paint(severityColor(id.Severity), word)+": ", indent, strings.TrimPrefix(rest, " "))
		for _, reason := range id.Reasons {
			t.para(indent+"- ", indent+"  ", textsafe.Terminal(reason))
		}

		// What did they access?
		acc := plural64(id.Activity.ByUser, "record", "records") + " by the account, " +
			plural64(id.Activity.ByIP, "record", "records") + " by others from its IPs"
		if len(id.Activity.Operations) > 0 {
			var ops []string
			for _, op := range slices.Sorted(maps.Keys(id.Activity.Operations)) {
				ops = append(ops, textsafe.Terminal(op)+glue+strconv.FormatInt(id.Activity.Operations[op], 10))
			}
			acc += ": " + strings.Join(ops, ", ")
		}
		t.label("accessed:", acc)
		rows, note := accessedRows(id, maxAccessedRows)
		for _, a := range rows {
			t.para(indent+"- ", indent+"  ", textsafe.Terminal(a.Kind+" "+a.Object)+": "+plural64(a.Records, "record", "records")+" "+a.How+", "+a.When+
				": "+textsafe.Terminal(a.Operations)+"; records "+textsafe.Terminal(a.RecordIDs))
		}
		if note != "" {
			t.para(indent+"  ", indent+"  ", "("+note+")")
		}
		if len(id.Activity.Evidence) > 0 {
			t.para(indent, indent, fmt.Sprintf("evidence (the earliest %d of %d):", len(id.Activity.Evidence), id.Activity.ByUser+id.Activity.ByIP))
			for _, e := range id.Activity.Evidence {
				t.para(indent+"  ", indent+"    ", e.Time+"  "+textsafe.Terminal(e.Operation)+"  by"+glue+orDash(textsafe.Terminal(e.User))+"  from"+glue+orDash(textsafe.Terminal(e.IP)))
				if e.Object != "" {
					t.para(indent+"    object: ", indent+"            ", textsafe.Terminal(e.Object))
				}
				t.para(indent+"    record: ", indent+"            ", orDash(textsafe.Terminal(e.RecordID))+" at "+orDash(textsafe.Terminal(e.Source)))
			}
		}
		if len(id.Sharing) > 0 {
			t.para(indent, indent, fmt.Sprintf("shared with it (the earliest %d of %d):", len(id.Sharing), max(id.SharingCount, int64(len(id.Sharing)))))
			for _, s := range id.Sharing {
				t.para(indent+"  ", indent+"    ", s.Time+"  "+textsafe.Terminal(s.Operation)+"  by"+glue+orDash(textsafe.Terminal(s.By))+"  with"+glue+orDash(textsafe.Terminal(s.Target)))
				if s.Object != "" {
					t.para(indent+"    object: ", indent+"            ", textsafe.Terminal(s.Object))
				}
				t.para(indent+"    record: ", indent+"            ", orDash(textsafe.Terminal(s.RecordID)))
			}
		}
		if len(id.IPAlsoUsedBy) > 0 {
			t.para(indent+"its IPs were also used by: ", indent+"  ", textsafe.Terminal(strings.Join(id.IPAlsoUsedBy, ", ")))
		}
		t.explainHints(id)
	}
	if nFolded > 0 {
		var parts []string
		for _, v := range triage.Verdicts {
			if n := folded[v]; n > 0 {
				parts = append(parts, strconv.Itoa(n)+" "+v)
			}
		}
		t.line("")
		t.para("", "", plural(nFolded, "identity", "identities")+" of severity info not shown in full ("+strings.Join(parts, ", ")+"): they are in the table above; --all shows every one")
	}

	if len(r.Problems) > 0 || r.ProblemsOmitted > 0 {
		t.line("")
		t.line("problems with the input (" + skippedInAll(r) + "):")
		for _, pr := range r.Problems {
			kind, rest, _ := strings.Cut(problemLine(pr), ": ")
			t.para("  "+kind+": ", "    ", textsafe.Terminal(rest))
		}
		if r.ProblemsOmitted > 0 {
			t.line(fmt.Sprintf("  ... and %d more problems not listed", r.ProblemsOmitted))
		}
	}
	return bw.Flush()
}

// glue joins two words that wrap must keep on one line ("by" and the
// user); it is written as a space. A value through textsafe.Terminal never holds a raw
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
// measures is plain text (values already through textsafe.Terminal); styled variants
// of a line's fixed prefix are swapped in after the wrapping is decided,
// so colour codes never count towards the width.
type textWriter struct {
	w     *bufio.Writer
	color bool
	width int
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
	for _, l := range wrap(first, rest, s, t.width) {
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
	lines := wrap(first, rest, s, t.width)
	if len(lines[0]) >= len(first) {
		lines[0] = styledFirst + lines[0][len(first):]
	} else {
		// s was empty: wrap trimmed first's trailing space.
		lines[0] = strings.TrimRight(styledFirst, " ")
	}
	for _, l := range lines {
		t.line(l)
	}
}

// styledTail is para of s+tail where tail, when it ends the last line
// whole, is shown as styledTail.
func (t *textWriter) styledTail(first, rest, s, tail, styledTail string) {
	lines := wrap(first, rest, s+tail, t.width)
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
	if id.SigninsNoApp > 0 && (id.Verdict == triage.VerdictShared || id.Verdict == triage.VerdictSigninOnly) {
		// The anomalous rule could not be checked (triage's reason says
		// why): neither "no" nor "no sign of one" holds.
		return "CANNOT RULE ONE OUT: its sign-ins name no application, and one that is not Microsoft first-party would be anomalous; see its reasons"
	}
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
	case triage.VerdictUnverified:
		return "CANNOT TELL: the input lacks the tenant's other records around its sign-ins; see the last reason for what to export"
	}
	return id.Verdict
}

// coverage writes what the input holds per workload, one line each: the
// analyst sees at once when a workload the due diligence needs is absent.
func (t *textWriter) coverage(cs []triage.Coverage) {
	if len(cs) == 0 {
		return
	}
	wl, wc := 0, 0
	for _, c := range cs {
		label, count, _ := coverageLine(c)
		wl, wc = max(wl, len(label)), max(wc, len(count))
	}
	for i, c := range cs {
		label, count, span := coverageLine(c)
		lead := "          "
		if i == 0 {
			lead = "coverage: "
		}
		t.para(lead, "          ", strings.TrimRight(fmt.Sprintf("%-*s  %-*s  %s", wl, label, wc, count, span), " "))
	}
}

func classLabel(id triage.Identity) string {
	if id.Consumer {
		return id.Class + "/consumer"
	}
	return id.Class
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
