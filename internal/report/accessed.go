package report

import (
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/triage"
)

// What was touched, as every renderer words it. Object names come from the
// records: the strings built here are raw, and each renderer escapes them
// as it escapes any other field (textsafe).

// kindWords names an object kind, one and many.
var kindWords = map[string][2]string{
	triage.KindSite:          {"SharePoint site", "SharePoint sites"},
	triage.KindFile:          {"file", "files"},
	triage.KindMailbox:       {"mailbox", "mailboxes"},
	triage.KindMailboxFolder: {"mailbox folder", "mailbox folders"},
	triage.KindTeam:          {"team", "teams"},
	triage.KindChannel:       {"channel", "channels"},
}

// same is the identity, for touchedAnswer's renderers that escape later.
func same(s string) string { return s }

// howWords says how an object was touched, as AccessedObject.How names it.
var howWords = map[string]string{"account": "by the account", "ip": "from its IPs", "shared": "shared with it"}

// answerObjectsPerKind is how many objects of each kind the answer names.
const answerObjectsPerKind = 3

// touchedAnswer names, for "What did they access?", the objects the
// outside identities touched most, a few of each kind; "" when the report
// has no accessed lists and does not say why. name renders an object's
// name and text any other value from the input, for a renderer that
// escapes part by part (Markdown: names in code spans); the others pass
// the identity and escape the whole.
func touchedAnswer(r *triage.Report, name, text func(string) string) string {
	if r.AccessedSummary == nil {
		if r.AccessedScope == "" {
			return ""
		}
		return "Which sites, files, mailboxes and teams: " + text(r.AccessedScope) + "."
	}
	if len(r.AccessedSummary) == 0 {
		return "Their records name no SharePoint site or file, mailbox or team of ours."
	}
	byKind := map[string][]triage.AccessedObject{}
	for _, a := range r.AccessedSummary {
		byKind[a.Kind] = append(byKind[a.Kind], a)
	}
	var parts []string
	for _, kind := range triage.ObjectKinds {
		list := byKind[kind]
		if len(list) == 0 {
			continue
		}
		w := kindWords[kind]
		var names []string
		for i, a := range list {
			if i == answerObjectsPerKind {
				names = append(names, strconv.Itoa(len(list)-i)+" more")
				break
			}
			names = append(names, name(a.Object)+" ("+plural64(a.Records, "record", "records")+", "+plural(a.Identities, "identity", "identities")+")")
		}
		parts = append(parts, plural(len(list), w[0], w[1])+": "+joinAnd(names))
	}
	return "Objects of ours their records name: " + strings.Join(parts, "; ") + "." + touchedCaveats(r)
}

// touchedCaveats is what the answer on the objects touched must add so as
// not to read as the whole count: objects left out of the summary, and
// counts that are lower bounds; "" or sentences with a leading space.
func touchedCaveats(r *triage.Report) string {
	s := ""
	if r.AccessedSummaryOmitted > 0 {
		s += " " + strconv.Itoa(r.AccessedSummaryOmitted) + " more objects are left out."
	}
	for _, id := range r.Identities {
		if id.AccessedPartial {
			s += " Counted in the records kept (the earliest of each account and IP set; --max-evidence keeps more): for some identities, at least these."
			break
		}
	}
	return s
}

// touchedBrief is touchedAnswer for the terminal, where the three
// answers must fit the first screen with the table's head below them: how
// many objects of each kind and the one touched most; each identity's
// objects follow in its block, all of them in the JSON report.
func touchedBrief(r *triage.Report) string {
	if len(r.AccessedSummary) == 0 {
		return touchedAnswer(r, same, same)
	}
	n := map[string]int{}
	for _, a := range r.AccessedSummary {
		n[a.Kind]++
	}
	var kinds []string
	for _, kind := range triage.ObjectKinds {
		if n[kind] > 0 {
			w := kindWords[kind]
			kinds = append(kinds, plural(n[kind], w[0], w[1]))
		}
	}
	top := r.AccessedSummary[0]
	obj := top.Object
	// A SharePoint address without its scheme and host (our tenant's
	// *.sharepoint.com, which every site shares): the path says which.
	if rest, ok := strings.CutPrefix(obj, "https://"); ok {
		if host, path, ok := strings.Cut(rest, "/"); ok && path != "" && strings.HasSuffix(strings.ToLower(host), ".sharepoint.com") {
			obj = "/" + path
		}
	}
	return "They name " + joinAnd(kinds) + " of ours; most touched: " + obj +
		" (" + plural64(top.Records, "record", "records") + ", " + plural(top.Identities, "identity", "identities") + ")." + touchedCaveats(r)
}

// accessedRow is one object an identity touched, as the per-identity
// tables list it. Values are raw.
type accessedRow struct {
	Kind, Object, How, Operations, When, RecordIDs string
	Records                                        int64
}

// The objects listed per identity: text and Markdown list more, the HTML
// page (which must stay small for hundreds of identities) fewer; the JSON
// has up to triage.MaxAccessedPerIdentity.
const (
	maxAccessedRows     = 10
	maxAccessedHTMLRows = 5
)

// accessedRows lists an identity's objects, most records first, at most
// limit, and a note on what was left out or is only a lower bound (""
// when nothing).
func accessedRows(id triage.Identity, limit int) ([]accessedRow, string) {
	var rows []accessedRow
	for i, a := range id.Accessed {
		if i == limit {
			break
		}
		var how []string
		for _, h := range a.How {
			how = append(how, howWords[h])
		}
		when := a.First
		if a.Last != a.First {
			when += " to " + a.Last
		}
		rows = append(rows, accessedRow{
			Kind: kindWords[a.Kind][0], Object: a.Object, How: joinAnd(how),
			Records: a.Records, Operations: operationList(a.Operations, 4),
			When: when, RecordIDs: strings.Join(a.RecordIDs, ", "),
		})
	}
	var notes []string
	if more := len(id.Accessed) - len(rows) + id.AccessedOmitted; more > 0 {
		notes = append(notes, plural(more, "more object", "more objects")+" in the JSON report")
	}
	if id.AccessedPartial && len(rows) > 0 {
		notes = append(notes, "counted in the records kept, so at least these")
	}
	return rows, strings.Join(notes, "; ")
}

// accessedCell is an identity's objects in one CSV cell.
func accessedCell(id triage.Identity) string {
	var out []string
	for _, a := range id.Accessed {
		out = append(out, a.Kind+" "+a.Object+" ("+strconv.FormatInt(a.Records, 10)+")")
	}
	return strings.Join(out, "; ")
}
