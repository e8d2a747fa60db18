package reportdiff

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

const (
	ours    = "11111111-1111-1111-1111-111111111111"
	fabrik  = "22222222-2222-2222-2222-222222222222"
	tailspn = "33333333-3333-3333-3333-333333333333"
	other   = "44444444-4444-4444-4444-444444444444"
)

func ident(user, home, verdict, severity string, reasons ...string) triage.Identity {
	return triage.Identity{User: user, HomeTenant: home, Class: triage.ClassPassthrough, Verdict: verdict, Severity: severity, Reasons: reasons}
}

func rep(from, to string, ids ...triage.Identity) *triage.Report {
	return &triage.Report{
		Schema:     triage.Schema,
		Tenant:     triage.TenantInfo{IDs: []string{ours}, Domains: []string{"contoso.com"}},
		Input:      triage.InputInfo{From: from, To: to},
		Summary:    triage.Summary{Identities: len(ids)},
		Identities: ids,
	}
}

const (
	wk1from, wk1to = "2026-10-01T00:00:00Z", "2026-10-07T23:59:59Z"
	wk2from, wk2to = "2026-10-08T00:00:00Z", "2026-10-14T23:59:59Z"
)

var (
	alice   = ident("alice@fabrikam.com", fabrik, triage.VerdictSigninOnly, triage.SeverityInfo, "2 sign-ins; no other record")
	aliceUp = ident("alice@fabrikam.com", fabrik, triage.VerdictActivity, triage.SeverityMedium, "FileDownloaded 3 times from its IPs\nsecond line", "another reason")
	bob     = ident("bob@fabrikam.com", fabrik, triage.VerdictShared, triage.SeverityLow, "shared with it once")
	bobSev  = ident("bob@fabrikam.com", fabrik, triage.VerdictShared, triage.SeverityMedium, "shared with it 40 times")
	carol   = ident("carol@tailspin.com", tailspn, triage.VerdictSigninOnly, triage.SeverityInfo, "1 sign-in")
	eve     = ident("eve@evil.example", other, triage.VerdictAnomalous, triage.SeverityHigh, "signed in to a third-party application")
)

func users(ids []Identity) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.User)
	}
	return out
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name          string
		old, new      *triage.Report
		newIDs, gone  []string
		changed       []string
		unchanged     int
		newPartners   []string
		gonePartners  []string
		differs       bool
		diffTenants   bool
		diffPeriods   bool
		wantReasonNew string // reason of the first changed identity
	}{
		{name: "identical", old: rep(wk1from, wk1to, alice, bob), new: rep(wk1from, wk1to, alice, bob), unchanged: 2},
		{name: "both empty", old: rep(wk1from, wk1to), new: rep(wk1from, wk1to)},
		{name: "unchanged with other reasons", old: rep(wk1from, wk1to, alice),
			new:       rep(wk2from, wk2to, ident(alice.User, fabrik, alice.Verdict, alice.Severity, "9 sign-ins; no other record")),
			unchanged: 1, diffPeriods: true},
		{name: "new identity and partner", old: rep(wk1from, wk1to, alice), new: rep(wk1from, wk1to, alice, eve),
			newIDs: []string{eve.User}, unchanged: 1, newPartners: []string{other}, differs: true},
		{name: "new identity, known partner", old: rep(wk1from, wk1to, alice), new: rep(wk1from, wk1to, alice, bob),
			newIDs: []string{bob.User}, unchanged: 1, differs: true},
		{name: "gone identity and partner", old: rep(wk1from, wk1to, alice, carol), new: rep(wk2from, wk2to, alice),
			gone: []string{carol.User}, unchanged: 1, gonePartners: []string{tailspn}, differs: true, diffPeriods: true},
		{name: "changed verdict", old: rep(wk1from, wk1to, alice), new: rep(wk1from, wk1to, aliceUp),
			changed: []string{alice.User}, differs: true, wantReasonNew: "FileDownloaded 3 times from its IPs"},
		{name: "changed severity only", old: rep(wk1from, wk1to, bob), new: rep(wk1from, wk1to, bobSev),
			changed: []string{bob.User}, differs: true, wantReasonNew: "shared with it 40 times"},
		{name: "changed home tenant", old: rep(wk1from, wk1to, carol), new: rep(wk1from, wk1to, ident(carol.User, other, carol.Verdict, carol.Severity)),
			changed: []string{carol.User}, differs: true, newPartners: []string{other}, gonePartners: []string{tailspn}},
		{name: "different tenants", old: rep(wk1from, wk1to, alice), new: func() *triage.Report {
			r := rep(wk1from, wk1to, alice)
			r.Tenant.IDs = []string{fabrik}
			return r
		}(), unchanged: 1, diffTenants: true},
		{name: "tenant ids differ only in case", old: rep(wk1from, wk1to), new: func() *triage.Report {
			r := rep(wk1from, wk1to)
			r.Tenant.IDs = []string{strings.ToUpper(ours), ours}
			return r
		}()},
		{name: "unknown tenant is not a different one", old: rep(wk1from, wk1to), new: func() *triage.Report {
			r := rep(wk1from, wk1to)
			r.Tenant.IDs = nil
			return r
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(tc.old, tc.new, "old.json", "new.json")
			if got := users(d.NewIdentities); !slices.Equal(got, tc.newIDs) {
				t.Errorf("new = %q, want %q", got, tc.newIDs)
			}
			if got := users(d.GoneIdentities); !slices.Equal(got, tc.gone) {
				t.Errorf("gone = %q, want %q", got, tc.gone)
			}
			var changed []string
			for _, c := range d.Changed {
				changed = append(changed, c.User)
			}
			if !slices.Equal(changed, tc.changed) {
				t.Errorf("changed = %q, want %q", changed, tc.changed)
			}
			if len(d.Changed) > 0 && d.Changed[0].Reason != tc.wantReasonNew {
				t.Errorf("changed reason = %q, want %q", d.Changed[0].Reason, tc.wantReasonNew)
			}
			if d.Summary.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", d.Summary.Unchanged, tc.unchanged)
			}
			partners := func(ps []Partner) []string {
				var out []string
				for _, p := range ps {
					out = append(out, p.HomeTenant)
				}
				return out
			}
			if got := partners(d.NewPartners); !slices.Equal(got, tc.newPartners) {
				t.Errorf("new partners = %q, want %q", got, tc.newPartners)
			}
			if got := partners(d.GonePartners); !slices.Equal(got, tc.gonePartners) {
				t.Errorf("gone partners = %q, want %q", got, tc.gonePartners)
			}
			if d.Differs() != tc.differs {
				t.Errorf("Differs() = %v, want %v", d.Differs(), tc.differs)
			}
			if d.DifferentTenants != tc.diffTenants {
				t.Errorf("DifferentTenants = %v, want %v", d.DifferentTenants, tc.diffTenants)
			}
			if d.DifferentPeriods != tc.diffPeriods {
				t.Errorf("DifferentPeriods = %v, want %v", d.DifferentPeriods, tc.diffPeriods)
			}
			s := d.Summary
			if s.New != len(d.NewIdentities) || s.Gone != len(d.GoneIdentities) || s.Changed != len(d.Changed) ||
				s.NewPartners != len(d.NewPartners) || s.GonePartners != len(d.GonePartners) {
				t.Errorf("summary %+v disagrees with the lists", s)
			}
			if d.Old.Identities+s.New != d.New.Identities+s.Gone || s.Changed+s.Unchanged+s.Gone != d.Old.Identities {
				t.Errorf("counts do not add up: %+v, old %d, new %d", s, d.Old.Identities, d.New.Identities)
			}
		})
	}
}

// TestCompareOrder: the lists are ordered by severity (high first), then
// user, whatever the reports' order, so that the output is deterministic.
func TestCompareOrder(t *testing.T) {
	x := ident("x@z.example", other, triage.VerdictSigninOnly, triage.SeverityInfo)
	a := ident("a@z.example", other, triage.VerdictSigninOnly, triage.SeverityInfo)
	old := rep(wk1from, wk1to)
	for _, ids := range [][]triage.Identity{{x, eve, a, bob}, {bob, a, eve, x}} {
		d := Compare(old, rep(wk1from, wk1to, ids...), "o", "n")
		want := []string{eve.User, bob.User, a.User, x.User}
		if got := users(d.NewIdentities); !slices.Equal(got, want) {
			t.Errorf("order %q, want %q", got, want)
		}
		if got := d.NewPartners; len(got) != 2 || got[0].HomeTenant != other || got[0].Worst != triage.SeverityHigh ||
			!slices.Equal(got[0].Users, []string{a.User, eve.User, x.User}) {
			t.Errorf("new partners %+v", got)
		}
	}
}

func TestNothingJudged(t *testing.T) {
	empty := rep("", "")
	empty.Summary.NothingJudged = "no record was read"
	d := Compare(rep(wk1from, wk1to, alice), empty, "old.json", "new.json")
	if !d.NothingJudged() || d.New.NothingJudged != "no record was read" || d.Old.NothingJudged != "" {
		t.Errorf("nothing judged not carried: %+v / %+v", d.Old, d.New)
	}
	var b bytes.Buffer
	if err := WriteText(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "warning: the new report judged nothing (not an all-clear)") ||
		!strings.Contains(b.String(), "why: no record was read") {
		t.Errorf("text does not warn:\n%s", b.String())
	}
}

// hostile is a pair of reports whose values try to break out of each
// format: terminal escapes, bidi overrides, newlines, Markdown and HTML.
func hostile() (old, new *triage.Report) {
	evil := ident("m\x1b]8;;http://evil.example\x07allory\u202e@x.example", "<script>alert(1)</script>", "anomalous\n# injected", "high|`x`",
		"reason with [a link](http://evil.example) and\x1b[2J escape\u2028and more")
	old = rep(wk1from, wk1to, ident("`ticks` | pipe@x.example", fabrik, triage.VerdictSigninOnly, triage.SeverityInfo))
	new = rep(wk2from+"\x1b[31m", wk2to, ident("`ticks` | pipe@x.example", fabrik, triage.VerdictActivity, triage.SeverityMedium, "*bold* _it_ <b>x</b>"), evil)
	new.Tenant.IDs = []string{"\u202eevil-tenant"}
	new.Summary.NothingJudged = ""
	return old, new
}

func TestHostileValues(t *testing.T) {
	old, new := hostile()
	d := Compare(old, new, "old.json", "new\x1b[1m.json")
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer, *Diff) error
	}{
		{"text", func(b *bytes.Buffer, d *Diff) error { return WriteText(b, d) }},
		{"md", func(b *bytes.Buffer, d *Diff) error { return WriteMarkdown(b, d) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b, d); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u2028", "\n# injected"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: output holds %q raw", f.name, bad)
			}
		}
		if f.name == "md" {
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != strings.Count(tableHeader(out, line), "|") {
					t.Errorf("md: a value's pipe split a table row: %q", line)
				}
			}
			if strings.Contains(out, "<script>") && !strings.Contains(out, "`<script>") {
				t.Errorf("md: HTML outside a code span")
			}
		}
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") {
		t.Error("json: HTML characters not escaped")
	}
	var back Diff
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.NewIdentities[0].User != new.Identities[1].User {
		t.Errorf("json does not round-trip the user: %q", back.NewIdentities[0].User)
	}
}

// tableHeader is the header row of the table line belongs to.
func tableHeader(doc, line string) string {
	lines := strings.Split(doc, "\n")
	i := slices.Index(lines, line)
	for i > 0 && strings.HasPrefix(lines[i-1], "|") {
		i--
	}
	return lines[i]
}

// TestGolden pins each format on a diff with every kind of difference and
// warning, and on one with none.
func TestGolden(t *testing.T) {
	newRep := rep(wk2from, wk2to, aliceUp, bobSev, eve,
		ident("dave@fabrikam.com", fabrik, triage.VerdictSigninOnly, triage.SeverityInfo, "1 sign-in; no other record"))
	newRep.Tenant.IDs = []string{fabrik}
	cases := map[string]*Diff{
		"changes":   Compare(rep(wk1from, wk1to, alice, bob, carol), newRep, "week40.json", "week41.json"),
		"identical": Compare(rep(wk1from, wk1to, alice, bob), rep(wk1from, wk1to, alice, bob), "a.json", "b.json"),
	}
	old, new := hostile()
	cases["hostile"] = Compare(old, new, "old.json", "new.json")
	judgedNothing := rep("", "")
	judgedNothing.Summary.NothingJudged = "no sign-in among the 120 records read: export the UserLoggedIn records too"
	cases["nothing-judged"] = Compare(rep(wk1from, wk1to, alice), judgedNothing, "week40.json", "week41.json")
	for name, d := range cases {
		for ext, write := range map[string]func(*bytes.Buffer, *Diff) error{
			"txt":  func(b *bytes.Buffer, d *Diff) error { return WriteText(b, d) },
			"json": func(b *bytes.Buffer, d *Diff) error { return WriteJSON(b, d) },
			"md":   func(b *bytes.Buffer, d *Diff) error { return WriteMarkdown(b, d) },
		} {
			var b bytes.Buffer
			if err := write(&b, d); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+"."+ext)
			testutil.Golden(t, golden, b.Bytes())
			var again bytes.Buffer
			write(&again, d)
			if !bytes.Equal(again.Bytes(), b.Bytes()) {
				t.Errorf("%s: two writes differ", golden)
			}
		}
	}
}
