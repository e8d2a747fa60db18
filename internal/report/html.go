package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// The page's style, script and markup, embedded so the binary carries them
// and the report needs nothing but itself.
var (
	//go:embed assets/report.css
	htmlCSS string
	//go:embed assets/report.js
	htmlJS string
	//go:embed assets/report.html.tmpl
	htmlTemplateText string
)

// htmlTemplate is parsed once; a parse error is a bug caught by any test.
var htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))

// HTMLPolicy is the Content-Security-Policy of the HTML report. It allows
// exactly the page's own inline style and script, by hash, and nothing
// else: no other script, style attribute, image, font, frame, form or
// connection, so a value from the records that got past escaping still
// could not run or reach the network, and the file opens offline.
// Trusted Types are required with no policy allowed: the page's script
// uses no HTML-parsing sinks, and none may be used.
var HTMLPolicy = "default-src 'none'; style-src '" + cspHash(htmlCSS) + "'; script-src '" + cspHash(htmlJS) +
	"'; img-src 'none'; base-uri 'none'; form-action 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// RenderHTML writes the report as one self-contained HTML page for people
// who will not read a terminal: the three answers at the top, then per
// identity its verdict, facts, a timeline, its IPs, the sharing chain and
// a sortable, filterable evidence table. It is built with html/template,
// which escapes every value for where it lands (text, attribute, SVG), on
// top of textsafe.HTML; nothing from the records is a link or markup, and
// the HTMLPolicy meta tag forbids anything external. The bytes depend only
// on r.
func RenderHTML(w io.Writer, r *triage.Report) error {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, buildHTMLView(r)); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// htmlView is what the template shows: every string from the records is
// already through textsafe.HTML, every number already formatted.
type htmlView struct {
	Title      string
	CSP        string
	CSS        template.CSS
	JS         template.JS
	TenantIDs  []string
	Domains    []string
	TenantNote string
	Period     string
	Input      string
	Answers    []answer
	Verdicts   []htmlVerdict
	Files      []triage.FileInfo
	Coverage   []triage.Coverage
	// NothingJudged is why the input supported no answer, or "".
	NothingJudged string
	Problems      []string
	Omitted       int64
	Identities    []htmlIdentity
	// Table is the verdict table: the identities grouped by verdict (in
	// triage.Verdicts order), each group by severity and then as the cards.
	Table []htmlTableGroup
	// Legend says once what would otherwise repeat in every card: what
	// each class present means, and the facts every identity shares (at
	// hundreds of identities, a line each was tens of kilobytes).
	Legend []htmlFact
	// Provenance is how the report was made (none when not set).
	Provenance []provRow
	// Partners are the home tenants, named (buildHTMLPartners).
	Partners []htmlPartner
	// PartnerNameOthers says what "known" and "none" mean, when the table
	// shows them (partnerNameOthers).
	PartnerNameOthers string
	// Groups are the identities by severity, in the page's order, for the
	// table of contents and the group headings.
	Groups []htmlGroup
	// Frame is what every timeline shares, drawn once and used by each:
	// the report period's strip with its dates, the zoomed lanes and
	// their labels. Nil without identities.
	Frame *htmlFrame
}

// htmlGroup is one severity's run of identity cards.
type htmlGroup struct {
	Severity, Anchor, Title string
	Count                   int
	// Open is whether its cards start unfolded.
	Open bool
}

// htmlTableGroup is one verdict's rows of the verdict table.
type htmlTableGroup struct {
	Verdict string
	Rows    []*htmlIdentity
}

type htmlVerdict struct {
	Verdict, Title, Meaning, Severity string
	Count                             int
	// Breach is its answer to "was there a breach?", said here once for
	// the folded cards, which do not repeat it.
	Breach string
}

type htmlIdentity struct {
	N, Anchor, TableID                    string
	User, Verdict, Severity, SeverityWord string
	Class, Partner                        string
	AnswerWord, AnswerRest                string
	SignIns                               string
	ByUser, ByIP, Shared                  int64
	Reasons                               []string
	Facts                                 []htmlFact
	Timeline                              htmlTimeline
	Sharing                               []triage.Share
	SharingNote                           string
	Evidence                              []htmlEvidence
	EvidenceNote                          string
	// Accessed lists the objects it touched (accessedRows), AccessedNote
	// what was left out.
	Accessed     []accessedRow
	AccessedNote string
	// Open is whether the card starts unfolded: high and medium do; info
	// and low fold to their summary line, so hundreds of benign sign-ins
	// do not bury the few that matter (print shows every card open).
	Open bool
	// OwnAnswer is set when the identity's breach answer is not its
	// verdict's (the verdict list's): a folded card then shows it too, so
	// that "cannot rule one out" never reads as the verdict's "no".
	OwnAnswer bool
	// Tally is the summary line's counts, readable while folded.
	Tally string
	// Group is set on the first card of its severity, for its heading.
	Group *htmlGroup
}

// htmlFact is one line of what is known about an identity. Facts render
// only when present, so fields that arrive later (directory status,
// enrichment) need a line in buildHTMLIdentity and nothing in the template.
type htmlFact struct {
	Label  string
	Values []htmlValue
	// ID is the legend line's anchor, for the links to it.
	ID string
}

// key is the fact as one string, to find the facts every identity shares.
func (f htmlFact) key() string {
	var b strings.Builder
	b.WriteString(f.Label)
	for _, v := range f.Values {
		b.WriteString("\x00" + v.Class + "\x00" + v.Text)
	}
	return b.String()
}

// htmlValue is a value with an optional CSS class: "code" for values from
// the records (shown as a <code> element), "bad" for what should worry
// the reader.
type htmlValue struct {
	Text, Class string
	// Href, when set, makes the value a link within the page.
	Href string
}

// htmlEvidence is one evidence row. Raw, the row as JSON, is sent only
// when a value of the row is shown escaped (textsafe): the page's script
// builds the JSON of every other row from its cells on demand, which
// gives the same text, so hundreds of rows do not carry their values
// twice.
type htmlEvidence struct {
	triage.Evidence
	Raw string
}

// classMeaning says what each class is, once per page (the legend).
var classMeaning = map[string]string{
	triage.ClassPassthrough:     "a user of another tenant whose identity Entra ID confirmed for one of our first-party applications",
	triage.ClassGuest:           "B2B guest: a directory object of our tenant for a user of another",
	triage.ClassExternalUnknown: "the sign-ins carry no usable account name",
	triage.ClassMember:          "a member of our tenant",
}

func buildHTMLView(r *triage.Report) htmlView {
	v := htmlView{
		CSP:        HTMLPolicy,
		CSS:        template.CSS(htmlCSS),
		JS:         template.JS(htmlJS),
		TenantIDs:  cleanAll(r.Tenant.IDs),
		Domains:    cleanAll(r.Tenant.Domains),
		TenantNote: textsafe.HTML(r.TenantSource),
		Period:     period(r),
		Input:      inputSummary(r),
		Answers:    answers(r),
		Omitted:    r.ProblemsOmitted,
		Coverage:   r.Input.Coverage,

		NothingJudged: textsafe.HTML(r.Summary.NothingJudged),
		Provenance:    htmlProvenance(r.Provenance),
	}
	v.Title = plural(len(r.Identities), "outside identity", "outside identities") + ", " + v.Period
	for i := range v.Answers {
		v.Answers[i].Parts = cleanAll(v.Answers[i].Parts)
	}
	sevOf := map[string]string{
		triage.VerdictAnomalous: triage.SeverityHigh, triage.VerdictActivity: triage.SeverityMedium,
		triage.VerdictShared: triage.SeverityLow, triage.VerdictSigninOnly: triage.SeverityInfo,
		triage.VerdictUnverified: triage.SeverityLow,
	}
	for _, vi := range verdictInfo {
		v.Verdicts = append(v.Verdicts, htmlVerdict{vi.Verdict, vi.Title, vi.Meaning, sevOf[vi.Verdict], r.Summary.ByVerdict[vi.Verdict],
			breachAnswer(triage.Identity{Verdict: vi.Verdict, Severity: sevOf[vi.Verdict]})})
	}
	for _, f := range r.Input.Files {
		f.Path, f.Format = textsafe.HTML(f.Path), textsafe.HTML(f.Format)
		v.Files = append(v.Files, f)
	}
	for _, p := range r.Problems {
		v.Problems = append(v.Problems, textsafe.HTML(problemLine(p)))
	}
	v.Partners = buildHTMLPartners(r.Partners)
	v.PartnerNameOthers = partnerNameOthers(r.Partners)
	from, to := parseTime(r.Input.From), parseTime(r.Input.To)
	classes, firstParty := map[string]bool{}, map[string]bool{}
	for i, id := range textOrder(r.Identities) { // as the text report: anomalous before activity within a severity
		v.Identities = append(v.Identities, buildHTMLIdentity(i+1, id, r.IPInfo, from, to, firstParty))
		classes[id.Class] = true
		if i == 0 || id.Severity != v.Identities[i-1].Severity {
			v.Groups = append(v.Groups, htmlGroup{Severity: id.Severity, Anchor: "sev-" + id.Severity,
				Title: strings.ToUpper(id.Severity[:1]) + id.Severity[1:], Open: v.Identities[i].Open})
		}
		v.Groups[len(v.Groups)-1].Count++
	}
	if len(v.Identities) > 0 {
		v.Frame = buildFrame(from, to)
	}
	for _, c := range slices.Sorted(maps.Keys(classes)) {
		if m, ok := classMeaning[c]; ok {
			v.Legend = append(v.Legend, htmlFact{Label: "Class " + c, Values: []htmlValue{{Text: m}}})
		}
	}
	if len(firstParty) > 0 {
		f := htmlFact{Label: "First-party applications"}
		for _, a := range slices.Sorted(maps.Keys(firstParty)) {
			f.Values = append(f.Values, htmlValue{Text: a})
		}
		v.Legend = append(v.Legend, f)
	}
	v.Legend = append(v.Legend, commonFacts(v.Identities)...)
	v.Legend = append(v.Legend, sharedUserAgents(v.Identities)...)
	// The group pointers are taken once Groups stops growing.
	for i, g := 0, 0; i < len(v.Identities); i++ {
		if i == 0 || v.Identities[i].Severity != v.Identities[i-1].Severity {
			v.Identities[i].Group = &v.Groups[g]
			g++
		}
	}
	for _, verdict := range triage.Verdicts {
		g := htmlTableGroup{Verdict: verdict}
		for i := range v.Identities {
			if v.Identities[i].Verdict == verdict {
				g.Rows = append(g.Rows, &v.Identities[i])
			}
		}
		if len(g.Rows) > 0 {
			v.Table = append(v.Table, g)
		}
	}
	return v
}

// commonFacts removes from every card the facts all of them share (two
// identities or more) and returns them, in the first card's order, for
// the legend: "seen in the Unified Audit Log" or "directory not given"
// is said once, not five hundred times.
func commonFacts(ids []htmlIdentity) []htmlFact {
	if len(ids) < 2 {
		return nil
	}
	count := map[string]int{}
	for _, id := range ids {
		for _, f := range id.Facts {
			count[f.key()]++
		}
	}
	var common []htmlFact
	for _, f := range ids[0].Facts {
		if count[f.key()] == len(ids) {
			common = append(common, f)
		}
	}
	if len(common) == 0 {
		return nil
	}
	for i := range ids {
		ids[i].Facts = slices.DeleteFunc(ids[i].Facts, func(f htmlFact) bool { return count[f.key()] == len(ids) })
	}
	return common
}

// sharedUserAgents replaces, in the cards, each user agent that two
// identities or more share by a link to the legend, where it is written
// once: a handful of browsers' strings of a hundred characters each
// would otherwise fill a tenth of a page of hundreds of identities. It
// returns the legend's lines, numbered in the order the cards first name
// them.
func sharedUserAgents(ids []htmlIdentity) []htmlFact {
	const label = "User agents"
	count := map[string]int{}
	for _, id := range ids {
		for _, f := range id.Facts {
			if f.Label == label {
				for _, v := range f.Values {
					count[v.Text]++
				}
			}
		}
	}
	num := map[string]string{}
	var legend []htmlFact
	for i := range ids {
		for _, f := range ids[i].Facts {
			if f.Label != label {
				continue
			}
			for j, v := range f.Values {
				if count[v.Text] < 2 {
					continue
				}
				n, ok := num[v.Text]
				if !ok {
					n = strconv.Itoa(len(num) + 1)
					num[v.Text] = n
					legend = append(legend, htmlFact{Label: "User agent " + n, Values: []htmlValue{v}, ID: "ua-" + n})
				}
				f.Values[j] = htmlValue{Text: "ua " + n, Href: "#ua-" + n}
			}
		}
	}
	return legend
}

// buildHTMLIdentity is one card; the first-party applications it names
// by name alone are added to firstParty (name and id), for the legend.
func buildHTMLIdentity(n int, id triage.Identity, ipInfo map[string]triage.IPInfo, from, to time.Time, firstParty map[string]bool) htmlIdentity {
	answer := breachAnswer(id)
	word, rest, _ := strings.Cut(answer, ": ")
	h := htmlIdentity{
		N: strconv.Itoa(n), Anchor: "id-" + strconv.Itoa(n), TableID: "ev-" + strconv.Itoa(n),
		User: textsafe.HTML(id.User), Verdict: id.Verdict, Severity: id.Severity, SeverityWord: strings.ToUpper(id.Severity),
		Class: classLabel(id), Partner: orDash(textsafe.HTML(id.Partner)),
		AnswerWord: word, AnswerRest: rest,
		SignIns: strconv.FormatInt(id.Signins.Success, 10) + "/" + strconv.FormatInt(id.Signins.Failure, 10),
		ByUser:  id.Activity.ByUser, ByIP: id.Activity.ByIP, Shared: id.SharingCount,
		Reasons: cleanAll(id.Reasons),
		Open:    id.Severity == triage.SeverityHigh || id.Severity == triage.SeverityMedium,

		OwnAnswer: answer != breachAnswer(triage.Identity{Verdict: id.Verdict, Severity: id.Severity}),
	}
	h.Tally = "sign-ins " + h.SignIns + " · by user " + strconv.FormatInt(h.ByUser, 10) +
		" · by IP " + strconv.FormatInt(h.ByIP, 10) + " · shared " + strconv.FormatInt(h.Shared, 10)

	// Facts: who it is. Optional facts are added only when known; what a
	// class means is in the legend.
	h.Facts = append(h.Facts, htmlFact{Label: "Class", Values: []htmlValue{{Text: textsafe.HTML(h.Class)}}})
	if id.Consumer {
		h.Facts = append(h.Facts, htmlFact{Label: "Account type", Values: []htmlValue{{Text: "personal Microsoft account (consumer)"}}})
	}
	if id.HomeTenant != "" {
		h.Facts = append(h.Facts, htmlFact{Label: "Home tenant", Values: []htmlValue{{Text: textsafe.HTML(id.HomeTenant), Class: "code"}}})
	}
	// The first and last sign-in; the counts are the summary line's.
	if id.Signins.First != "" {
		when := "from " + textsafe.HTML(id.Signins.First) + " to " + textsafe.HTML(id.Signins.Last)
		if id.Signins.First == id.Signins.Last {
			when = "at " + textsafe.HTML(id.Signins.First)
		}
		h.Facts = append(h.Facts, htmlFact{Label: "Sign-ins", Values: []htmlValue{{Text: when}}})
	}
	var apps []htmlValue
	for _, a := range id.Signins.Apps {
		if a.ID == "" {
			apps = append(apps, htmlValue{Text: textsafe.HTML(noAppText(a))})
			continue
		}
		name := appName(a, "unnamed application")
		tag, cls := "first-party", ""
		if !a.FirstParty {
			tag, cls = "NOT first-party", "bad"
		}
		text := textsafe.HTML(name) + " (" + textsafe.HTML(a.ID) + ", " + tag + ") ×" + strconv.FormatInt(a.Count, 10)
		if a.FirstParty && a.Name != "" && a.NameSource != triage.NameFromLog {
			// A first-party application the catalogue names: its id is
			// in the legend, once.
			text = textsafe.HTML(a.Name) + " ×" + strconv.FormatInt(a.Count, 10)
			firstParty[textsafe.HTML(a.Name)+" ("+textsafe.HTML(a.ID)+")"] = true
		}
		apps = append(apps, htmlValue{Text: text, Class: cls})
	}
	if len(apps) > 0 {
		h.Facts = append(h.Facts, htmlFact{Label: "Applications", Values: apps})
	}
	var uas []htmlValue
	for _, ua := range id.Signins.UserAgents {
		uas = append(uas, htmlValue{Text: textsafe.HTML(ua), Class: "code"})
	}
	if len(uas) > 0 {
		h.Facts = append(h.Facts, htmlFact{Label: "User agents", Values: uas})
	}
	for _, f := range extraFacts(id, ipInfo) {
		var vals []htmlValue
		for _, v := range f.values {
			vals = append(vals, htmlValue{Text: textsafe.HTML(v)})
		}
		label := strings.ToUpper(f.label[:1]) + f.label[1:]
		h.Facts = append(h.Facts, htmlFact{Label: label, Values: vals})
	}

	// IPs; who the evidence shows from each is in the evidence table.
	var ips []htmlValue
	for _, ip := range id.Signins.IPs {
		ips = append(ips, htmlValue{Text: textsafe.HTML(ip), Class: "code"})
	}
	if len(ips) > 0 {
		h.Facts = append(h.Facts, htmlFact{Label: "IPs", Values: ips})
	}
	// Only when someone else did: "nobody else" filled hundreds of cards.
	if len(id.IPAlsoUsedBy) > 0 {
		var also []htmlValue
		for _, u := range id.IPAlsoUsedBy {
			also = append(also, htmlValue{Text: textsafe.HTML(u), Class: "code"})
		}
		h.Facts = append(h.Facts, htmlFact{Label: "IPs also used by", Values: also})
	}

	for _, s := range id.Sharing {
		s.Time, s.Operation, s.By, s.Target, s.Object, s.RecordID = textsafe.HTML(s.Time), textsafe.HTML(s.Operation), textsafe.HTML(s.By), textsafe.HTML(s.Target), textsafe.HTML(s.Object), textsafe.HTML(s.RecordID)
		h.Sharing = append(h.Sharing, s)
	}
	if n := max(id.SharingCount, int64(len(id.Sharing))); int64(len(id.Sharing)) < n {
		h.SharingNote = "The earliest " + strconv.Itoa(len(id.Sharing)) + " of " + strconv.FormatInt(n, 10)
	}

	for _, e := range id.Activity.Evidence {
		var raw string
		if slices.ContainsFunc([]string{e.Time, e.Operation, e.User, e.IP, e.Object, e.RecordID, e.Source}, func(v string) bool { return textsafe.HTML(v) != v }) {
			raw = rawJSON(e)
		}
		e.Time, e.Operation, e.User, e.IP, e.Object, e.RecordID, e.Source = textsafe.HTML(e.Time), textsafe.HTML(e.Operation), textsafe.HTML(e.User), textsafe.HTML(e.IP), textsafe.HTML(e.Object), textsafe.HTML(e.RecordID), textsafe.HTML(e.Source)
		h.Evidence = append(h.Evidence, htmlEvidence{Evidence: e, Raw: raw})
	}
	if n := id.Activity.ByUser + id.Activity.ByIP; int64(len(id.Activity.Evidence)) < n {
		h.EvidenceNote = "The earliest " + strconv.Itoa(len(id.Activity.Evidence)) + " of " + plural64(n, "record", "records") + "."
	}
	h.Timeline = buildTimeline(id, from, to)
	h.Accessed, h.AccessedNote = accessedRows(id, maxAccessedHTMLRows)
	shortenUnder(h.Accessed)
	for i := range h.Accessed {
		a := &h.Accessed[i]
		a.Object, a.Operations = textsafe.HTML(a.Object), textsafe.HTML(a.Operations)
	}
	return h
}

// rawJSON is the evidence row as indented JSON, the "raw record on demand"
// the report can give today (it carries no raw records, only where they
// are). Characters textsafe.Terminal would escape are written as JSON \u escapes, so
// the text is still valid JSON for the same values.
func rawJSON(e triage.Evidence) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return ""
	}
	return textsafe.JSON(strings.TrimSuffix(b.String(), "\n"))
}

func cleanAll(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, textsafe.HTML(v))
	}
	return out
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// The timeline (SVG drawn by Go, deterministic: coordinates rounded to
// the unit, times formatted in UTC). Two strips: above, thin, the report's whole period with the
// identity's span marked; below, lanes for its sign-ins, other activity
// and sharing, zoomed to that span, so that a sign-in and the mail read
// two minutes later are two marks, not one. Everything the same for
// every identity (the period strip, the lanes and their labels) is the
// frame, drawn once in the page and used by each timeline.
const (
	tlWidth = 960
	tlLeft  = 100 // room for the lane labels
	tlRight = 24
	tlLane  = 26
	// tlCtx is the period strip's line; the identity's span is a bar over it.
	tlCtx = 8
	// tlZoom is the top of the zoomed strip, its first lane tlZoom+8.
	tlZoom   = 34
	tlAxis   = tlZoom + 8 + 3*tlLane - tlLane/2 + 2
	tlHeight = tlAxis + 26
	// The tick labels' baseline, tlAxis+18, is in the page's style (.tk).
)

// htmlFrame is what every timeline shares (see the constants above).
type htmlFrame struct {
	X0, X1      string
	CtxY, AxisY int
	// Period labels the period strip: its first and last day.
	Period string
	Lanes  []htmlLane
}

type htmlLane struct {
	Y, TextY int
	Label    string
}

// htmlTimeline is one identity's timeline: what the frame lacks. Marks
// and spans are in the zoomed strip's coordinates.
type htmlTimeline struct {
	Width, Height int
	// Zoomed is whether it has the zoomed strip: not for an identity with
	// nothing but sign-ins, whose card has the period strip alone.
	Zoomed bool
	// Win is the identity's span on the period strip (x and width), Zoom
	// the path from its ends to the ends of the zoomed axis. Empty when
	// no time is known.
	WinX, WinW, Zoom string
	// Ticks is the zoomed axis's tick marks as one path; Labels are their
	// times (Day, at the axis's left, is the date they share, if any).
	Ticks  string
	Labels []htmlTick
	Day    string
	Spans  []htmlSpan
	Marks  []htmlMark
	// Caption is the figure's caption: the zoomed span, or why nothing is
	// drawn ("" for the period strip alone, which the legend explains).
	Caption string
}

type htmlTick struct {
	X, Label string
}

type htmlSpan struct {
	D string
}

type htmlMark struct {
	X     string
	Y     int
	Class string
	Title string
}

func laneY(i int) int { return tlZoom + 8 + i*tlLane }

// buildFrame draws what every timeline shares.
func buildFrame(from, to time.Time) *htmlFrame {
	f := &htmlFrame{X0: fx(tlLeft), X1: fx(tlWidth - tlRight), CtxY: tlCtx, AxisY: tlAxis}
	f.Period = "period"
	if !from.IsZero() {
		f.Period = from.Format("01-02") + " – " + to.Format("01-02")
	}
	for i, l := range []string{"sign-ins", "activity", "sharing"} {
		f.Lanes = append(f.Lanes, htmlLane{Y: laneY(i), TextY: laneY(i) + 4, Label: l})
	}
	return f
}

// tlSteps are the zoomed axis's tick intervals, the smallest giving at
// most four ticks is used.
var tlSteps = []time.Duration{
	10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

func buildTimeline(id triage.Identity, from, to time.Time) htmlTimeline {
	t := htmlTimeline{Width: tlWidth, Height: tlHeight}
	type event struct {
		at          time.Time
		lane        int
		class, text string
	}
	var evs []event
	add := func(s string, lane int, class, text string) {
		if tm := parseTime(s); !tm.IsZero() {
			evs = append(evs, event{tm, lane, class, text})
		}
	}
	nSign := id.Signins.Success + id.Signins.Failure
	add(id.Signins.First, 0, "s", "first sign-in "+textsafe.HTML(id.Signins.First))
	if id.Signins.Last != id.Signins.First {
		add(id.Signins.Last, 0, "s", "last sign-in "+textsafe.HTML(id.Signins.Last))
	}
	// An activity or sharing mark's title (its record's time and
	// operation) is the page script's to add, from the evidence or sharing
	// table's row in the same place: the rows carry it already. Only
	// where a row has no mark (a time that does not parse), so that marks
	// and rows do not pair up, are the titles sent.
	untitle := func(from, rows int) {
		if len(evs)-from == rows {
			for i := from; i < len(evs); i++ {
				evs[i].text = ""
			}
		}
	}
	before := len(evs)
	for _, e := range id.Activity.Evidence {
		add(e.Time, 1, "a", textsafe.HTML(e.Time+" "+e.Operation))
	}
	untitle(before, len(id.Activity.Evidence))
	before = len(evs)
	for _, s := range id.Sharing {
		add(s.Time, 2, "h", textsafe.HTML(s.Time+" "+s.Operation+" by "+orDash(s.By)))
	}
	untitle(before, len(id.Sharing))

	if len(evs) == 0 {
		t.Caption = "No record of it has a time to place."
		return t
	}
	lo, hi := evs[0].at, evs[0].at
	for _, e := range evs {
		if e.at.Before(lo) {
			lo = e.at
		}
		if e.at.After(hi) {
			hi = e.at
		}
	}
	// Nothing but sign-ins: nothing to tell apart in a zoom (the first and
	// last are in the card's facts), so the period strip alone, a fifth of
	// the bytes; hundreds of cards are like this.
	t.Zoomed = len(id.Activity.Evidence)+len(id.Sharing) > 0
	if t.Zoomed {
		// The counts are the summary line's.
		t.Caption = "Zoomed: " + lo.Format(time.RFC3339) + " to " + hi.Format(time.RFC3339) + "."
	} else {
		t.Height = tlCtx + 12
		t.Caption = "" // the legend says what the strip alone means
	}

	// The period strip: the span as a bar at least 3 wide.
	if !from.IsZero() && to.After(from) {
		px := func(tm time.Time) float64 {
			f := float64(tm.Sub(from)) / float64(to.Sub(from))
			return tlLeft + min(max(f, 0), 1)*float64(tlWidth-tlLeft-tlRight)
		}
		a, b := px(lo), px(hi)
		if b-a < 3 {
			a = min(max(math.Round((a+b)/2)-1, tlLeft-1), tlWidth-tlRight-2)
			b = a + 3
		}
		t.WinX, t.WinW = fx(a), fx(b-a)
		if !t.Zoomed {
			return t
		}
		t.Zoom = "M" + fx(a) + " " + strconv.Itoa(tlCtx+4) + "L" + fx(tlLeft) + " " + strconv.Itoa(tlZoom) +
			"M" + fx(b) + " " + strconv.Itoa(tlCtx+4) + "L" + fx(tlWidth-tlRight) + " " + strconv.Itoa(tlZoom)
	}

	// The zoomed window: the span, at least two minutes, and 4% either side.
	if d := hi.Sub(lo); d < 2*time.Minute {
		mid := lo.Add(d / 2)
		lo, hi = mid.Add(-time.Minute), mid.Add(time.Minute)
	}
	pad := hi.Sub(lo) / 25
	lo, hi = lo.Add(-pad), hi.Add(pad)
	span := hi.Sub(lo)
	x := func(tm time.Time) float64 {
		return tlLeft + float64(tm.Sub(lo))/float64(span)*float64(tlWidth-tlLeft-tlRight)
	}
	step := tlSteps[len(tlSteps)-1]
	for _, s := range tlSteps {
		if span/s < 4 {
			step = s
			break
		}
	}
	layout := "15:04"
	switch {
	case step < time.Minute:
		layout = "15:04:05"
	case step >= 24*time.Hour:
		layout = "01-02"
	}
	if lo.Format("2006-01-02") == hi.Format("2006-01-02") {
		t.Day = lo.Format("2006-01-02")
	} else if step < 24*time.Hour {
		layout = "01-02 " + layout
	}
	var ticks strings.Builder
	for tm := lo.Truncate(step); !tm.After(hi); tm = tm.Add(step) {
		if tm.Before(lo) {
			continue
		}
		xs := fx(x(tm))
		ticks.WriteString("M" + xs + " " + strconv.Itoa(tlAxis) + "v5")
		t.Labels = append(t.Labels, htmlTick{xs, tm.Format(layout)})
	}
	t.Ticks = ticks.String()

	if nSign > 0 && id.Signins.First != id.Signins.Last {
		if a, b := parseTime(id.Signins.First), parseTime(id.Signins.Last); !a.IsZero() && !b.IsZero() {
			t.Spans = append(t.Spans, htmlSpan{"M" + fx(x(a)) + " " + strconv.Itoa(laneY(0)) + "H" + fx(x(b))})
		}
	}
	for _, e := range evs {
		t.Marks = append(t.Marks, htmlMark{fx(x(e.at)), laneY(e.lane), e.class, e.text})
	}
	return t
}

// fx formats an SVG coordinate, rounded to the unit (a pixel of the
// 960-wide drawing: finer is invisible and costs bytes), always the same
// bytes for the same value.
func fx(f float64) string { return strconv.FormatFloat(math.Round(f), 'f', 0, 64) }

// htmlPartner is one row of the partner table, its strings through
// textsafe.HTML.
type htmlPartner struct {
	Name, NameSource, Severity, TenantID string
	Domains                              string
	Identities                           int
	Anomalous, Activity, Shared          int
	Unverified, SigninOnly               int
}

// buildHTMLPartners is the partner table, in the report's order.
func buildHTMLPartners(ps []triage.Partner) []htmlPartner {
	var out []htmlPartner
	for _, p := range ps {
		out = append(out, htmlPartner{
			Name: textsafe.HTML(p.Name), NameSource: p.NameSource, Severity: p.WorstSeverity,
			TenantID: orDash(textsafe.HTML(p.TenantID)), Domains: orDash(strings.Join(cleanAll(partnerDomains(p.Domains)), ", ")),
			Identities: p.Identities,
			Anomalous:  p.ByVerdict[triage.VerdictAnomalous], Activity: p.ByVerdict[triage.VerdictActivity],
			Shared: p.ByVerdict[triage.VerdictShared], Unverified: p.ByVerdict[triage.VerdictUnverified],
			SigninOnly: p.ByVerdict[triage.VerdictSigninOnly],
		})
	}
	return out
}

// shortenUnder writes, on the HTML card, an object that lies inside one
// listed before it relative to that one: a mailbox folder after its
// mailbox as "folder \Inbox", a file after its site as "file …/Shared
// Documents/x.docx". At hundreds of identities the repeated mailbox
// owners and site addresses were a good part of the page; the JSON, text
// and Markdown keep every object whole.
func shortenUnder(rows []accessedRow) {
	for i := range rows {
		r := &rows[i]
		for _, p := range rows[:i] {
			switch {
			case r.Kind == kindWords[triage.KindMailboxFolder][0] && p.Kind == kindWords[triage.KindMailbox][0] && strings.HasPrefix(r.Object, p.Object+" "):
				r.Kind, r.Object = "folder", strings.TrimPrefix(r.Object, p.Object+" ")
			case r.Kind == kindWords[triage.KindFile][0] && p.Kind == kindWords[triage.KindSite][0] && strings.HasPrefix(r.Object, strings.TrimSuffix(p.Object, "/")+"/"):
				r.Object = "…/" + strings.TrimPrefix(r.Object, strings.TrimSuffix(p.Object, "/")+"/")
			default:
				continue
			}
			break
		}
	}
}
