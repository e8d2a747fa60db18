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
	// Provenance is how the report was made (none when not set).
	Provenance []provRow
	// Partners are the home tenants, named (buildHTMLPartners).
	Partners []htmlPartner
	// Groups are the identities by severity, in the page's order, for the
	// table of contents and the group headings.
	Groups []htmlGroup
	// Frame is the timelines' lanes, axis and ticks, the same for every
	// identity (one period), drawn once and used by each timeline: at
	// hundreds of identities it was a third of the page. Nil without
	// identities.
	Frame *htmlTimeline
}

// htmlGroup is one severity's run of identity cards.
type htmlGroup struct {
	Severity, Anchor, Title string
	Count                   int
	// Open is whether its cards start unfolded.
	Open bool
}

type htmlVerdict struct {
	Verdict, Title, Meaning, Severity string
	Count                             int
}

type htmlIdentity struct {
	N, Anchor, TableID                    string
	User, Verdict, Severity, SeverityWord string
	Class                                 string
	AnswerWord, AnswerRest                string
	SignIns                               string
	ByUser, ByIP, Shared                  int64
	Reasons                               []string
	Facts                                 []htmlFact
	Timeline                              htmlTimeline
	IPs                                   []htmlIP
	AlsoUsedBy                            []string
	Sharing                               []triage.Share
	SharingNote                           string
	Evidence                              []htmlEvidence
	EvidenceNote                          string
	Operations                            []htmlOption
	// Accessed lists the objects it touched (accessedRows), AccessedNote
	// what was left out.
	Accessed     []accessedRow
	AccessedNote string
	// Open is whether the card starts unfolded: high and medium do; info
	// and low fold to their summary line, so hundreds of benign sign-ins
	// do not bury the few that matter (print shows every card open).
	Open bool
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
}

// htmlValue is a value with an optional CSS class: "code" for values from
// the records, "bad" for what should worry the reader.
type htmlValue struct {
	Text, Class string
}

// htmlIP is an IP the identity signed in from, with the users of the
// evidence records from it (the report has no per-IP list of everyone).
type htmlIP struct {
	IP   string
	Seen []string
}

type htmlEvidence struct {
	triage.Evidence
	Index int
	Raw   string
}

type htmlOption struct {
	Value string
	Count int
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
		v.Verdicts = append(v.Verdicts, htmlVerdict{vi.Verdict, vi.Title, vi.Meaning, sevOf[vi.Verdict], r.Summary.ByVerdict[vi.Verdict]})
	}
	for _, f := range r.Input.Files {
		f.Path, f.Format = textsafe.HTML(f.Path), textsafe.HTML(f.Format)
		v.Files = append(v.Files, f)
	}
	for _, p := range r.Problems {
		v.Problems = append(v.Problems, textsafe.HTML(problemLine(p)))
	}
	v.Partners = buildHTMLPartners(r.Partners)
	from, to := parseTime(r.Input.From), parseTime(r.Input.To)
	for i, id := range textOrder(r.Identities) { // as the text report: anomalous before activity within a severity
		v.Identities = append(v.Identities, buildHTMLIdentity(i+1, id, r.IPInfo, from, to, v.Period))
		if i == 0 || id.Severity != v.Identities[i-1].Severity {
			v.Groups = append(v.Groups, htmlGroup{Severity: id.Severity, Anchor: "sev-" + id.Severity,
				Title: strings.ToUpper(id.Severity[:1]) + id.Severity[1:], Open: v.Identities[i].Open})
		}
		v.Groups[len(v.Groups)-1].Count++
	}
	if len(v.Identities) > 0 {
		f := buildTimeline(triage.Identity{}, from, to, v.Period)
		v.Frame = &f
	}
	// The group pointers are taken once Groups stops growing.
	for i, g := 0, 0; i < len(v.Identities); i++ {
		if i == 0 || v.Identities[i].Severity != v.Identities[i-1].Severity {
			v.Identities[i].Group = &v.Groups[g]
			g++
		}
	}
	return v
}

func buildHTMLIdentity(n int, id triage.Identity, ipInfo map[string]triage.IPInfo, from, to time.Time, per string) htmlIdentity {
	word, rest, _ := strings.Cut(breachAnswer(id), ": ")
	h := htmlIdentity{
		N: strconv.Itoa(n), Anchor: "id-" + strconv.Itoa(n), TableID: "ev-" + strconv.Itoa(n),
		User: textsafe.HTML(id.User), Verdict: id.Verdict, Severity: id.Severity, SeverityWord: strings.ToUpper(id.Severity),
		Class:      classLabel(id),
		AnswerWord: word, AnswerRest: rest,
		SignIns: strconv.FormatInt(id.Signins.Success, 10) + "/" + strconv.FormatInt(id.Signins.Failure, 10),
		ByUser:  id.Activity.ByUser, ByIP: id.Activity.ByIP, Shared: id.SharingCount,
		Reasons:    cleanAll(id.Reasons),
		AlsoUsedBy: cleanAll(id.IPAlsoUsedBy),
		Open:       id.Severity == triage.SeverityHigh || id.Severity == triage.SeverityMedium,
	}
	h.Tally = "sign-ins " + h.SignIns + " · by user " + strconv.FormatInt(h.ByUser, 10) +
		" · by IP " + strconv.FormatInt(h.ByIP, 10) + " · shared " + strconv.FormatInt(h.Shared, 10)

	// Facts: who it is. Optional facts are added only when known.
	class := map[string]string{
		triage.ClassPassthrough:     "pass-through: a user of another tenant whose identity Entra ID confirmed for one of our first-party applications",
		triage.ClassGuest:           "B2B guest: a directory object of our tenant for a user of another",
		triage.ClassExternalUnknown: "unknown: the sign-ins carry no usable account name",
		triage.ClassMember:          "member",
	}[id.Class]
	if class == "" {
		class = id.Class
	}
	h.Facts = append(h.Facts, htmlFact{"Class", []htmlValue{{Text: class}}})
	if id.Consumer {
		h.Facts = append(h.Facts, htmlFact{"Account type", []htmlValue{{Text: "personal Microsoft account (consumer)"}}})
	}
	if id.HomeTenant != "" {
		h.Facts = append(h.Facts, htmlFact{"Home tenant", []htmlValue{{Text: textsafe.HTML(id.HomeTenant), Class: "code"}}})
	}
	h.Facts = append(h.Facts, htmlFact{"Sign-ins", []htmlValue{{Text: plural64(id.Signins.Success+id.Signins.Failure, "sign-in", "sign-ins") +
		" (" + strconv.FormatInt(id.Signins.Success, 10) + " successful, " + strconv.FormatInt(id.Signins.Failure, 10) + " other) from " +
		textsafe.HTML(id.Signins.First) + " to " + textsafe.HTML(id.Signins.Last)}}})
	var apps []htmlValue
	for _, a := range id.Signins.Apps {
		name := appName(a, "unnamed application")
		tag, cls := "first-party", ""
		if !a.FirstParty {
			tag, cls = "NOT first-party", "bad"
		}
		apps = append(apps, htmlValue{Text: textsafe.HTML(name) + " (" + textsafe.HTML(a.ID) + ", " + tag + ") ×" + strconv.FormatInt(a.Count, 10), Class: cls})
	}
	if len(apps) > 0 {
		h.Facts = append(h.Facts, htmlFact{"Applications", apps})
	}
	var uas []htmlValue
	for _, ua := range id.Signins.UserAgents {
		uas = append(uas, htmlValue{Text: textsafe.HTML(ua), Class: "code"})
	}
	if len(uas) > 0 {
		h.Facts = append(h.Facts, htmlFact{"User agents", uas})
	}
	for _, f := range extraFacts(id, ipInfo) {
		var vals []htmlValue
		for _, v := range f.values {
			vals = append(vals, htmlValue{Text: textsafe.HTML(v)})
		}
		label := strings.ToUpper(f.label[:1]) + f.label[1:]
		h.Facts = append(h.Facts, htmlFact{label, vals})
	}

	// IPs, with who else the evidence shows from each.
	for _, ip := range id.Signins.IPs {
		seen := map[string]int{}
		for _, e := range id.Activity.Evidence {
			if e.IP == ip {
				seen[textsafe.HTML(orDash(e.User))]++
			}
		}
		hip := htmlIP{IP: textsafe.HTML(ip)}
		for _, u := range slices.Sorted(maps.Keys(seen)) {
			hip.Seen = append(hip.Seen, u+" ×"+strconv.Itoa(seen[u]))
		}
		h.IPs = append(h.IPs, hip)
	}

	for _, s := range id.Sharing {
		s.Time, s.Operation, s.By, s.Target, s.Object, s.RecordID = textsafe.HTML(s.Time), textsafe.HTML(s.Operation), textsafe.HTML(s.By), textsafe.HTML(s.Target), textsafe.HTML(s.Object), textsafe.HTML(s.RecordID)
		h.Sharing = append(h.Sharing, s)
	}
	if len(id.Sharing) > 0 {
		h.SharingNote = "the earliest " + strconv.Itoa(len(id.Sharing)) + " of " + strconv.FormatInt(max(id.SharingCount, int64(len(id.Sharing))), 10)
	}

	ops := map[string]int{}
	for i, e := range id.Activity.Evidence {
		raw := rawJSON(e)
		e.Time, e.Operation, e.User, e.IP, e.Object, e.RecordID, e.Source = textsafe.HTML(e.Time), textsafe.HTML(e.Operation), textsafe.HTML(e.User), textsafe.HTML(e.IP), textsafe.HTML(e.Object), textsafe.HTML(e.RecordID), textsafe.HTML(e.Source)
		h.Evidence = append(h.Evidence, htmlEvidence{Evidence: e, Index: i, Raw: raw})
		ops[e.Operation]++
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		h.Operations = append(h.Operations, htmlOption{op, ops[op]})
	}
	h.EvidenceNote = "the earliest " + strconv.Itoa(len(id.Activity.Evidence)) + " of " +
		plural64(id.Activity.ByUser+id.Activity.ByIP, "record", "records") + " (" +
		strconv.FormatInt(id.Activity.ByUser, 10) + " by the account, " + strconv.FormatInt(id.Activity.ByIP, 10) + " by others from its IPs)"
	h.Timeline = buildTimeline(id, from, to, per)
	h.Timeline.CaptionID = "tl-" + h.N
	h.Accessed, h.AccessedNote = accessedRows(id, maxAccessedHTMLRows)
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

// htmlTimeline is an identity's activity over the report's period, drawn
// as SVG by Go: one lane each for sign-ins (first to last), the evidence
// records and the sharing records, on the same time axis for every
// identity so that they can be compared. Coordinates are formatted with
// fixed precision so the bytes are deterministic.
type htmlTimeline struct {
	Width, Height int
	// LabelY is the baseline of the tick labels.
	LabelY int
	// CaptionID names the caption, the timeline's accessible name.
	CaptionID    string
	Lanes        []htmlLane
	Ticks        []htmlTick
	Spans        []htmlSpan
	Marks        []htmlMark
	AxisY, TickY int
	X0, X1       string
	Caption      string
}

type htmlLane struct {
	Y, TextY int
	Label    string
}

type htmlTick struct {
	X, Label, Anchor string
}

type htmlSpan struct {
	X1, X2 string
	Y      int
	Title  string
}

type htmlMark struct {
	X     string
	Y     int
	Class string
	Title string
}

const (
	tlWidth = 960
	tlLeft  = 100 // room for the lane labels
	tlRight = 24
	tlLane  = 28
	tlTop   = 16
)

func buildTimeline(id triage.Identity, from, to time.Time, period string) htmlTimeline {
	t := htmlTimeline{Width: tlWidth}
	lanes := []string{"sign-ins", "activity", "sharing"}
	for i, l := range lanes {
		y := tlTop + i*tlLane
		t.Lanes = append(t.Lanes, htmlLane{Y: y, TextY: y + 4, Label: l})
	}
	t.AxisY = tlTop + len(lanes)*tlLane - tlLane/2
	t.TickY = t.AxisY + 5
	t.Height = t.AxisY + 28
	t.LabelY = t.Height - 8
	t.X0, t.X1 = fx(tlLeft), fx(tlWidth-tlRight)

	span := to.Sub(from)
	x := func(s string) (string, bool) {
		tm := parseTime(s)
		if tm.IsZero() || from.IsZero() {
			return "", false
		}
		if span <= 0 {
			return fx(float64(tlLeft+tlWidth-tlRight) / 2), true
		}
		f := float64(tm.Sub(from)) / float64(span)
		f = min(max(f, 0), 1)
		return fx(tlLeft + f*float64(tlWidth-tlLeft-tlRight)), true
	}

	// Axis ticks: both ends and three between, in UTC.
	layout := "01-02 15:04"
	if span > 72*time.Hour {
		layout = "2006-01-02"
	}
	if !from.IsZero() {
		if span <= 0 {
			t.Ticks = append(t.Ticks, htmlTick{fx(float64(tlLeft+tlWidth-tlRight) / 2), from.Format("2006-01-02 15:04:05") + " UTC", "middle"})
		} else {
			for i := 0; i <= 4; i++ {
				tm := from.Add(span * time.Duration(i) / 4)
				anchor := "middle"
				switch i {
				case 0:
					anchor = "start"
				case 4:
					anchor = "end"
				}
				label := tm.Format(layout)
				if i == 0 || i == 4 {
					label += " UTC"
				}
				t.Ticks = append(t.Ticks, htmlTick{fx(tlLeft + float64(i)*float64(tlWidth-tlLeft-tlRight)/4), label, anchor})
			}
		}
	}

	// Sign-ins: we know the first, the last and how many.
	nSign := id.Signins.Success + id.Signins.Failure
	x1, ok1 := x(id.Signins.First)
	x2, ok2 := x(id.Signins.Last)
	if ok1 && ok2 {
		t.Spans = append(t.Spans, htmlSpan{x1, x2, t.Lanes[0].Y, plural64(nSign, "sign-in", "sign-ins") + " from " + id.Signins.First + " to " + id.Signins.Last})
		t.Marks = append(t.Marks, htmlMark{x1, t.Lanes[0].Y, "signin", "first sign-in " + id.Signins.First})
		if id.Signins.Last != id.Signins.First {
			t.Marks = append(t.Marks, htmlMark{x2, t.Lanes[0].Y, "signin", "last sign-in " + id.Signins.Last})
		}
	}
	for _, e := range id.Activity.Evidence {
		if xe, ok := x(e.Time); ok {
			t.Marks = append(t.Marks, htmlMark{xe, t.Lanes[1].Y, "activity", textsafe.HTML(e.Time + " " + e.Operation + " by " + orDash(e.User) + " from " + orDash(e.IP))})
		}
	}
	for _, s := range id.Sharing {
		if xs, ok := x(s.Time); ok {
			t.Marks = append(t.Marks, htmlMark{xs, t.Lanes[2].Y, "sharing", textsafe.HTML(s.Time + " " + s.Operation + " by " + orDash(s.By))})
		}
	}
	var signins string
	switch {
	case nSign == 0:
		signins = "no sign-in"
	case id.Signins.First == id.Signins.Last:
		signins = plural64(nSign, "sign-in", "sign-ins") + " at " + textsafe.HTML(id.Signins.First)
	default:
		signins = plural64(nSign, "sign-in", "sign-ins") + " from the first to the last"
	}
	activity := "no other activity"
	if n := len(id.Activity.Evidence); n > 0 {
		activity = "the earliest " + plural(n, "record", "records") + " of its other activity"
	}
	sharing := "no sharing record"
	if n := len(id.Sharing); n > 0 {
		sharing = plural(n, "sharing record", "sharing records")
	}
	t.Caption = "Over the report's period, " + period + " (UTC): " + signins + "; " + activity + "; " + sharing + "."
	return t
}

// fx formats an SVG coordinate with one decimal, always the same bytes
// for the same value.
func fx(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

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
