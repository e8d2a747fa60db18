// Package reportdiff compares two triage reports (outsider/triage/v1
// JSON): which outside identities are new, gone, or changed verdict,
// severity or home tenant, and which home tenants (partners) are new or
// gone. It is for a case file or a weekly review that has the reports but
// not the live state, so it works from the reports alone.
//
// Every value it shows comes from the reports, which come from logs an
// attacker writes into; the renderers escape them (see WriteText,
// WriteMarkdown).
package reportdiff

import (
	"cmp"
	"slices"
	"strings"

	"github.com/outsider-sec/outsider/internal/triage"
)

// Schema names the JSON document WriteJSON writes. A change to its shape
// is a new schema name; fields may be added.
const Schema = "outsider/diff/v1"

// Diff is the comparison of an old and a new report, exactly the
// outsider/diff/v1 document.
type Diff struct {
	Schema string `json:"schema"`
	Old    Side   `json:"old"`
	New    Side   `json:"new"`
	// DifferentTenants is set when both reports name their tenant and the
	// sets of tenant ids differ: the comparison is then of two
	// organisations, and "new" and "gone" mean little.
	DifferentTenants bool `json:"different_tenants"`
	// DifferentPeriods is set when both reports state their period and
	// the periods differ
	// (the normal case for a weekly review): an identity is "gone" when it
	// has no sign-in in the new period, not necessarily because anything
	// ended.
	DifferentPeriods bool       `json:"different_periods"`
	Summary          Summary    `json:"summary"`
	NewIdentities    []Identity `json:"new_identities"`
	GoneIdentities   []Identity `json:"gone_identities"`
	Changed          []Change   `json:"changed_identities"`
	NewPartners      []Partner  `json:"new_partners"`
	GonePartners     []Partner  `json:"gone_partners"`
	// unchanged are the users in both reports, judged alike; only
	// counted in the output.
	unchanged []string
}

// Side describes one of the two reports.
type Side struct {
	// Path is the file as given on the command line ("-" for stdin).
	Path      string   `json:"path"`
	TenantIDs []string `json:"tenant_ids"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	// Identities counts the report's outside identities.
	Identities int `json:"identities"`
	// NothingJudged is the report's summary.nothing_judged: why its input
	// supported no answer. Such a report is not an all-clear, and every
	// identity of the other report shows as new or gone against it.
	NothingJudged string `json:"nothing_judged,omitempty"`
}

// Summary counts what changed.
type Summary struct {
	New          int `json:"new"`
	Gone         int `json:"gone"`
	Changed      int `json:"changed"`
	Unchanged    int `json:"unchanged"`
	NewPartners  int `json:"new_partners"`
	GonePartners int `json:"gone_partners"`
}

// Identity is an identity present in one report only, as that report
// judged it. Reason is the first line of its first reason.
type Identity struct {
	User       string `json:"user"`
	HomeTenant string `json:"home_tenant"`
	Verdict    string `json:"verdict"`
	Severity   string `json:"severity"`
	Reason     string `json:"reason"`
}

// State is what may change about an identity between the reports.
type State struct {
	HomeTenant string `json:"home_tenant"`
	Verdict    string `json:"verdict"`
	Severity   string `json:"severity"`
}

// Change is an identity in both reports whose verdict, severity or home
// tenant differs. Reason is the first line of the new report's first
// reason: why it is judged as it now is.
type Change struct {
	User   string `json:"user"`
	Old    State  `json:"old"`
	New    State  `json:"new"`
	Reason string `json:"reason"`
}

// Partner is a home tenant present in one report only, with the users
// from it and the worst severity among them.
type Partner struct {
	HomeTenant string   `json:"home_tenant"`
	Users      []string `json:"users"`
	Worst      string   `json:"worst_severity"`
}

// Differs says whether any identity is new, gone or changed (a new or gone
// partner always comes with a new or gone identity).
func (d *Diff) Differs() bool {
	return d.Summary.New+d.Summary.Gone+d.Summary.Changed > 0
}

// NothingJudged says whether either report judged nothing.
func (d *Diff) NothingJudged() bool {
	return d.Old.NothingJudged != "" || d.New.NothingJudged != ""
}

// Compare compares two reports; the paths are only recorded. Identities
// are matched by user (the engine writes one identity per user). A change
// of reasons alone (more sign-ins, another first time) is not a change:
// only the verdict, the severity and the home tenant are.
func Compare(old, new *triage.Report, oldPath, newPath string) *Diff {
	d := &Diff{
		Schema:         Schema,
		Old:            side(old, oldPath),
		New:            side(new, newPath),
		NewIdentities:  []Identity{},
		GoneIdentities: []Identity{},
		Changed:        []Change{},
		NewPartners:    []Partner{},
		GonePartners:   []Partner{},
	}
	d.DifferentTenants = len(d.Old.TenantIDs) > 0 && len(d.New.TenantIDs) > 0 && !slices.Equal(d.Old.TenantIDs, d.New.TenantIDs)
	d.DifferentPeriods = known(d.Old) && known(d.New) && (d.Old.From != d.New.From || d.Old.To != d.New.To)

	olds := byUser(old)
	news := byUser(new)
	for _, n := range new.Identities {
		o, ok := olds[n.User]
		switch {
		case !ok:
			d.NewIdentities = append(d.NewIdentities, entry(n))
		case state(o) != state(&n):
			d.Changed = append(d.Changed, Change{User: n.User, Old: state(o), New: state(&n), Reason: firstReason(&n)})
		default:
			d.unchanged = append(d.unchanged, n.User)
		}
	}
	for _, o := range old.Identities {
		if _, ok := news[o.User]; !ok {
			d.GoneIdentities = append(d.GoneIdentities, entry(o))
		}
	}
	sortIdentities(d.NewIdentities)
	sortIdentities(d.GoneIdentities)
	slices.SortFunc(d.Changed, func(a, b Change) int {
		// Most serious now first; among equals, the most serious before.
		return cmp.Or(
			cmp.Compare(triage.SeverityRank(b.New.Severity), triage.SeverityRank(a.New.Severity)),
			cmp.Compare(triage.SeverityRank(b.Old.Severity), triage.SeverityRank(a.Old.Severity)),
			strings.Compare(a.User, b.User))
	})
	slices.Sort(d.unchanged)
	d.NewPartners = partnersOnlyIn(new, old)
	d.GonePartners = partnersOnlyIn(old, new)
	d.Summary = Summary{
		New:          len(d.NewIdentities),
		Gone:         len(d.GoneIdentities),
		Changed:      len(d.Changed),
		Unchanged:    len(d.unchanged),
		NewPartners:  len(d.NewPartners),
		GonePartners: len(d.GonePartners),
	}
	return d
}

// known says whether a report states its period (one that judged
// nothing may not).
func known(s Side) bool { return s.From != "" || s.To != "" }

func side(r *triage.Report, path string) Side {
	ids := make([]string, 0, len(r.Tenant.IDs))
	for _, t := range r.Tenant.IDs {
		ids = append(ids, strings.ToLower(t))
	}
	slices.Sort(ids)
	return Side{
		Path:          path,
		TenantIDs:     slices.Compact(ids),
		From:          r.Input.From,
		To:            r.Input.To,
		Identities:    len(r.Identities),
		NothingJudged: r.Summary.NothingJudged,
	}
}

func byUser(r *triage.Report) map[string]*triage.Identity {
	m := make(map[string]*triage.Identity, len(r.Identities))
	for i := range r.Identities {
		m[r.Identities[i].User] = &r.Identities[i]
	}
	return m
}

func entry(id triage.Identity) Identity {
	return Identity{User: id.User, HomeTenant: id.HomeTenant, Verdict: id.Verdict, Severity: id.Severity, Reason: firstReason(&id)}
}

// state is what a comparison looks at: an identity whose state is the
// same in both reports is unchanged, whatever else moved.
func state(id *triage.Identity) State {
	return State{HomeTenant: id.HomeTenant, Verdict: id.Verdict, Severity: id.Severity}
}

// firstReason is the first line of the identity's first reason (the
// engine puts the deciding reason first).
func firstReason(id *triage.Identity) string {
	if len(id.Reasons) == 0 {
		return ""
	}
	r, _, _ := strings.Cut(id.Reasons[0], "\n")
	return strings.TrimRight(r, "\r")
}

// sortIdentities orders by severity (high first), then user, as the
// triage reports do.
func sortIdentities(ids []Identity) {
	slices.SortFunc(ids, func(a, b Identity) int {
		return cmp.Or(
			cmp.Compare(triage.SeverityRank(b.Severity), triage.SeverityRank(a.Severity)),
			strings.Compare(a.User, b.User))
	})
}

// partnersOnlyIn lists the home tenants of a that b has no identity from.
// Tenant ids are compared in lower case; identities without a home tenant
// belong to no partner.
func partnersOnlyIn(a, b *triage.Report) []Partner {
	inB := map[string]bool{}
	for _, id := range b.Identities {
		inB[strings.ToLower(id.HomeTenant)] = true
	}
	found := map[string]*Partner{}
	for _, id := range a.Identities {
		t := strings.ToLower(id.HomeTenant)
		if t == "" || inB[t] {
			continue
		}
		p := found[t]
		if p == nil {
			p = &Partner{HomeTenant: t, Worst: id.Severity}
			found[t] = p
		}
		p.Users = append(p.Users, id.User)
		if triage.SeverityRank(id.Severity) > triage.SeverityRank(p.Worst) {
			p.Worst = id.Severity
		}
	}
	out := make([]Partner, 0, len(found))
	for _, p := range found {
		slices.Sort(p.Users)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(x, y Partner) int {
		return cmp.Or(
			cmp.Compare(triage.SeverityRank(y.Worst), triage.SeverityRank(x.Worst)),
			strings.Compare(x.HomeTenant, y.HomeTenant))
	})
	return out
}
