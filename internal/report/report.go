// Package report renders a triage.Report: text for people at a terminal,
// Markdown for tickets and wikis, one self-contained HTML file for
// management and the record, JSON for machines (the outsider/triage/v1
// contract), CSV for spreadsheets. One file per format; every field that
// comes from the logs is attacker-controlled, so each renderer escapes it
// for its own medium (control characters in text, markup in Markdown and
// HTML, formulas in CSV).
package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/triage"
)

// Format names an output format.
type Format string

// Output formats.
const (
	Text     Format = "text"
	JSON     Format = "json"
	CSV      Format = "csv"
	Markdown Format = "md"
	HTML     Format = "html"
)

// Formats lists the output formats, for help and validation.
var Formats = []Format{Text, JSON, CSV, Markdown, HTML}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(names, ", "))
}

// Options are facts about where the output goes. They change how a report
// looks, never what it says, so the zero value (no colour) is what files,
// pipes and golden tests get.
type Options struct {
	// Color turns on ANSI colour in text output. Other formats ignore it:
	// colour codes in a file or a machine format would be noise or worse.
	Color bool
	// Width is the terminal's width in columns, for text; 0 (a file or a
	// pipe) means 100.
	Width int
	// All shows every identity's full block in text; otherwise identities
	// below severity low are in the table only, and a line says so. A
	// file (RenderText, Render) always gets every block.
	All bool
}

// Render writes r to w in format f with default options (no colour,
// every identity in full).
func Render(w io.Writer, f Format, r *triage.Report) error {
	return RenderOptions(w, f, r, Options{All: true})
}

// RenderOptions writes r to w in format f; o matters only to text.
func RenderOptions(w io.Writer, f Format, r *triage.Report, o Options) error {
	switch f {
	case JSON:
		return RenderJSON(w, r)
	case CSV:
		return RenderCSV(w, r)
	case Text:
		return renderText(w, r, o)
	case Markdown:
		return RenderMarkdown(w, r)
	case HTML:
		return RenderHTML(w, r)
	}
	return fmt.Errorf("unknown format %q", f)
}

// ColorMode is the --color flag: auto, always or never.
type ColorMode string

// Colour modes, as gh and miller spell them.
const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// ParseColorMode validates a --color value.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(s); m {
	case ColorAuto, ColorAlways, ColorNever:
		return m, nil
	}
	return "", fmt.Errorf("unknown colour mode %q (want auto, always or never)", s)
}

// UseColor decides whether text output gets colour, in the precedence of
// STYLE.md: the --color flag, then NO_COLOR (any non-empty value turns
// colour off, per no-color.org) and CLICOLOR_FORCE (any value but "0"
// turns it on, even into a pipe, for 'less -R'), then whether stdout is a
// terminal. Only text on stdout is ever coloured: a file written with -o
// and the JSON, CSV, Markdown and HTML formats never are, whatever the
// flag says, because colour codes there corrupt what a program or a
// reader gets. getenv is injected so tests need not touch the process
// environment.
func UseColor(mode ColorMode, f Format, toFile, stdoutTTY bool, getenv func(string) string) bool {
	if f != Text || toFile {
		return false
	}
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if v := getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	return stdoutTTY
}

// answer is one of the three questions the report exists to answer, put
// in plain words for the top of the Markdown and HTML reports.
type answer struct {
	Question string
	// Parts are sentences, one per group of identities; Markdown runs
	// them together, HTML gives each a paragraph.
	Parts []string
	// Touched is 1 + the index of the part naming the objects touched
	// (touchedAnswer), which Markdown renders again with the names in
	// code spans; 0 when none does.
	Touched int
	// Operations is 1 + the index of the part listing the operations
	// counted in ops, which the terminal shortens; 0 when none does.
	Operations int
	ops        map[string]int64
}

// unreadInput is "N records and M files could not be read", or "" when
// every record and file was read.
func unreadInput(in triage.InputInfo) string {
	var lost []string
	if in.Skipped > 0 {
		lost = append(lost, plural64(in.Skipped, "record", "records"))
	}
	if in.SkippedFiles > 0 {
		lost = append(lost, plural64(in.SkippedFiles, "file", "files"))
	}
	if len(lost) == 0 {
		return ""
	}
	return strings.Join(lost, " and ") + " could not be read"
}

// answers puts the three questions (who, breach, accessed) in plain words
// from the counts in r. The words contain no value from the records but
// operation names and the names of the objects touched, which renderers
// escape as any other field.
func answers(r *triage.Report) []answer {
	n := len(r.Identities)
	if r.Summary.NothingJudged != "" {
		// Not an all-clear: the input could not show anything either way.
		// Every renderer states why just above the answers.
		cannot := "Cannot tell: nothing was judged (why, and what to export, is said above)."
		return []answer{
			{Question: "Who were they?", Parts: []string{cannot}},
			{Question: "Was there a breach?", Parts: []string{cannot}},
			{Question: "What did they access?", Parts: []string{cannot}},
		}
	}
	if n == 0 {
		none := "No account from outside the organisation signed in to the tenant in the records read."
		breach := "No sign of one from outside accounts: there were none."
		manyTenants := ""
		if k := len(r.Tenant.IDs); r.Tenant.Inferred && k > 1 {
			manyTenants = " Each of the " + strconv.Itoa(k) + " tenants the records name was taken as ours: give --tenant to name ours."
			// Every tenant the records name was taken as ours, so a
			// sign-in from one of them to another is not reported: an
			// all-clear here would hide exactly what outsider is for
			// (the tenant line says why and what to do).
			none = "No account from outside the " + strconv.Itoa(k) + " tenants the records name signed in; " +
				"each was taken as ours, so an account of one signing in to another is not reported: " +
				"give --tenant to name ours."
			breach = "No sign of one from accounts outside those " + strconv.Itoa(k) + " tenants; between them, not checked."
		}
		accessed := "Nothing: there were no outside accounts."
		if unread := unreadInput(r.Input); unread != "" {
			// Records that could not be read (an Excel-saved CSV whose
			// dates are all ambiguous skips nearly every row) may hold
			// the outside sign-ins: "none" would be an all-clear drawn
			// from what is left, so the answers say what was not read.
			none = "Cannot tell: none in the " + plural64(r.Input.Records, "record", "records") + " read, but " + unread +
				" and may hold some; the problems say why and how to mend each, then triage again." + manyTenants
			they := "they were"
			if r.Input.Skipped+r.Input.SkippedFiles == 1 {
				they = "it was"
			}
			breach = "Cannot tell: no sign among the records read; " + unread + ", so " + they + " not checked."
			accessed = "Cannot tell: nothing among the records read; " + unread + "."
		}
		return []answer{
			{Question: "Who were they?", Parts: []string{none}},
			{Question: "Was there a breach?", Parts: []string{breach}},
			{Question: "What did they access?", Parts: []string{accessed}},
		}
	}
	// Who.
	var pass, consumer, guest, unknown, member int
	tenants := map[string]bool{}
	for _, id := range r.Identities {
		switch id.Class {
		case triage.ClassPassthrough:
			pass++
			if id.Consumer {
				consumer++
			}
		case triage.ClassGuest:
			guest++
		case triage.ClassExternalUnknown:
			unknown++
		default:
			member++
		}
		if id.HomeTenant != "" {
			tenants[id.HomeTenant] = true
		}
	}
	var parts []string
	if pass > 0 {
		s := plural(pass, "pass-through account", "pass-through accounts")
		if consumer > 0 {
			s += " (" + strconv.Itoa(consumer) + " of them personal Microsoft accounts)"
		}
		parts = append(parts, s)
	}
	if guest > 0 {
		parts = append(parts, plural(guest, "B2B guest", "B2B guests"))
	}
	if unknown > 0 {
		parts = append(parts, plural(unknown, "unnamed account", "unnamed accounts"))
	}
	if member > 0 {
		parts = append(parts, plural(member, "other account", "other accounts"))
	}
	// An identity whose every attempt failed did not sign in: said, so that
	// the count is not read as that many successful sign-ins.
	onlyFailed := 0
	for _, id := range r.Identities {
		if id.Signins.Success == 0 && id.Signins.Failure > 0 {
			onlyFailed++
		}
	}
	who := plural(n, "outside identity", "outside identities")
	if onlyFailed > 0 {
		who += " (" + strconv.Itoa(onlyFailed) + " only tried)"
	} else {
		who += " signed in"
	}
	who += ": " + joinAnd(parts)
	if len(tenants) > 0 {
		who += ", from " + plural(len(tenants), "home tenant", "home tenants")
	}
	who += "."

	// Was there a breach?
	var anomalous, highActivity, otherActivity, shared, signinOnly, unverified, noApp int
	for _, id := range r.Identities {
		if (id.Verdict == triage.VerdictShared || id.Verdict == triage.VerdictSigninOnly) && id.SigninsNoApp > 0 {
			// Its sign-ins name no application: the anomalous rule
			// could not be checked, so this is no "no sign of one".
			noApp++
			continue
		}
		switch id.Verdict {
		case triage.VerdictUnverified:
			unverified++
		case triage.VerdictAnomalous:
			anomalous++
		case triage.VerdictActivity:
			if id.Severity == triage.SeverityHigh {
				highActivity++
			} else {
				otherActivity++
			}
		case triage.VerdictShared:
			shared++
		case triage.VerdictSigninOnly:
			signinOnly++
		}
	}
	var breach []string
	if possibly := anomalous + highActivity; possibly > 0 {
		var why []string
		if anomalous > 0 {
			why = append(why, strconv.Itoa(anomalous)+" signed in to an application that is not Microsoft first-party")
		}
		if highActivity > 0 {
			why = append(why, strconv.Itoa(highActivity)+" did more than sign in, touching mailboxes, administration or our own accounts' IPs")
		}
		breach = append(breach, "Possibly, for "+strconv.Itoa(possibly)+": "+joinAnd(why)+".")
	}
	if otherActivity > 0 {
		breach = append(breach, "Unclear for "+strconv.Itoa(otherActivity)+": activity beyond sign-ins that sharing does not explain; review the evidence.")
	}
	if none := shared + signinOnly; none > 0 {
		var why []string
		if shared > 0 {
			them := "them"
			if shared == 1 {
				them = "it"
			}
			why = append(why, strconv.Itoa(shared)+" opened only what someone in the organisation shared with "+them)
		}
		if signinOnly > 0 {
			appear := " appear"
			if signinOnly == 1 {
				appear = " appears"
			}
			why = append(why, strconv.Itoa(signinOnly)+appear+" in nothing but sign-in records")
		}
		breach = append(breach, "No sign of one for "+strconv.Itoa(none)+": "+joinAnd(why)+".")
	}
	if noApp > 0 {
		their := "their sign-ins name"
		if noApp == 1 {
			their = "its sign-ins name"
		}
		breach = append(breach, "Cannot rule one out for "+strconv.Itoa(noApp)+": nothing but sign-ins or shared content, but "+their+
			" no application, and one that is not Microsoft first-party would be anomalous; give the Entra ID sign-in log for the same days.")
	}
	cannot := ""
	if unverified > 0 {
		their, whose := "their", "identities' reasons say"
		if unverified == 1 {
			their, whose = "its", "identity's reasons say"
		}
		cannot = "Cannot tell for " + strconv.Itoa(unverified) + ": the input lacks the tenant's Exchange and SharePoint/OneDrive records around " +
			their + " sign-ins; the " + whose + " what to export."
		breach = append(breach, cannot)
	}
	if unread := unreadInput(r.Input); unread != "" {
		// "No sign of one" is drawn from the records read; skipped ones
		// (a sign-in CSV's rows with ambiguous dates) may hold a sign-in
		// to an application that is not first-party, or the activity.
		they := "they"
		if r.Input.Skipped+r.Input.SkippedFiles == 1 {
			they = "it"
		}
		breach = append(breach, "Not checked: "+unread+"; "+they+" may hold more sign-ins or activity, and the problems say why and how to mend each.")
	}

	// What did they access?
	var byUser, byIP, sharing int64
	ops := map[string]int64{}
	for _, id := range r.Identities {
		byUser += id.Activity.ByUser
		byIP += id.Activity.ByIP
		sharing += id.SharingCount
		for op, c := range id.Activity.Operations {
			ops[op] += c
		}
	}
	accessed := []string{plural64(byUser, "record", "records") + " by the outside accounts themselves besides sign-ins, " +
		plural64(byIP, "record", "records") + " by others from their IPs, and " +
		plural64(sharing, "sharing record names", "sharing records name") + " them."}
	touched, opsPart := 0, 0
	if t := touchedAnswer(r, same, same); t != "" {
		accessed = append(accessed, t)
		touched = len(accessed)
	}
	if len(ops) > 0 {
		accessed = append(accessed, "Operations: "+operationList(ops, 8)+".")
		opsPart = len(accessed)
	}
	if unverified > 0 {
		accessed = append(accessed, "Cannot tell for "+strconv.Itoa(unverified)+": the input does not hold the records that would show it.")
	}
	return []answer{
		{Question: "Who were they?", Parts: []string{who}},
		{Question: "Was there a breach?", Parts: breach},
		{Question: "What did they access?", Parts: accessed, Touched: touched, Operations: opsPart, ops: ops},
	}
}

// operationList lists operations by count (most first, then by name), at
// most max of them, "and N more" for the rest.
func operationList(ops map[string]int64, max int) string {
	names := slices.Sorted(maps.Keys(ops))
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case ops[a] > ops[b]:
			return -1
		case ops[a] < ops[b]:
			return 1
		}
		return 0
	})
	var parts []string
	for i, op := range names {
		if i == max {
			parts = append(parts, "and "+strconv.Itoa(len(names)-max)+" more")
			break
		}
		parts = append(parts, op+" "+strconv.FormatInt(ops[op], 10))
	}
	return strings.Join(parts, ", ")
}

// joinAnd joins a list as English does: "a", "a and b", "a, b and c".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// verdictInfo describes a verdict for the tables of the Markdown and HTML
// reports, in the order they list verdicts (most serious first).
var verdictInfo = []struct {
	Verdict, Title, Meaning string
}{
	{triage.VerdictAnomalous, "Anomalous", "signed in to an application that is not Microsoft first-party"},
	{triage.VerdictActivity, "Activity", "did more than sign in, and sharing does not explain it"},
	{triage.VerdictShared, "Shared", "opened only what someone in the organisation shared with it"},
	{triage.VerdictUnverified, "Unverified", "cannot tell: the input lacks the tenant's other records around its sign-ins"},
	{triage.VerdictSigninOnly, "Sign-in only", "appears in nothing but sign-in records"},
}

// coverageLine is one workload's row of the text report's coverage block:
// its name, its records and days, and the first and last UTC day.
func coverageLine(c triage.Coverage) (label, count, span string) {
	label = c.Label
	if label == "" {
		label = c.Workload
	}
	if c.Records == 0 {
		return label, "none", ""
	}
	return label, plural64(c.Records, "record", "records") + " on " + plural(c.Days, "day", "days"), utcDate(c.First) + " to " + utcDate(c.Last)
}

// utcDate is the day of an RFC 3339 UTC time: coverage is decided by UTC
// days, and the exact times are in the JSON, Markdown and HTML reports.
func utcDate(t string) string {
	if len(t) >= 10 && t[4] == '-' && t[7] == '-' {
		return t[:10]
	}
	return t
}

// period says which time the records cover, in UTC RFC 3339.
func period(r *triage.Report) string {
	if r.Input.From == "" {
		return "no records"
	}
	return r.Input.From + " to " + r.Input.To
}

// inputSummary is the one-line account of what was read.
func inputSummary(r *triage.Report) string {
	s := plural64(r.Input.Records, "record", "records") + " from " + plural(len(r.Input.Files), "file", "files") + ", " +
		plural64(r.Input.Duplicates, "duplicate dropped", "duplicates dropped") + ", " +
		plural64(r.Input.Skipped, "unreadable record skipped", "unreadable records skipped")
	if r.Input.SkippedFiles > 0 {
		s += ", " + plural64(r.Input.SkippedFiles, "unreadable file skipped", "unreadable files skipped")
	}
	if r.Filtered > 0 {
		s += ", " + plural64(r.Filtered, "record", "records") + " outside --since/--until/--tenant"
	}
	return s
}

// skippedInAll counts what the input problems cost: records, and files
// apart when whole files were skipped.
func skippedInAll(r *triage.Report) string {
	s := plural64(r.Input.Skipped, "record", "records")
	if r.Input.SkippedFiles > 0 {
		s += " and " + plural64(r.Input.SkippedFiles, "file", "files")
	}
	return s + " skipped in all"
}

// problemLine is an input problem in words: "skipped: path: line N: why".
func problemLine(p triage.Problem) string {
	kind := "skipped"
	if p.Warning {
		kind = "warning"
	}
	return kind + ": " + p.Error()
}
