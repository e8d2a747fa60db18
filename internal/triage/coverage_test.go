package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestDayOf: UTC days, floor division on both sides of 1970.
func TestDayOf(t *testing.T) {
	for _, c := range []struct {
		t    string
		want day
	}{
		{"1970-01-01T00:00:00Z", 0},
		{"1970-01-01T23:59:59.999999999Z", 0},
		{"1969-12-31T23:59:59.999999999Z", -1},
		{"1969-12-31T00:00:00Z", -1},
		{"1969-12-30T23:59:59Z", -2},
		{"2026-10-01T00:00:00Z", 20727},
		{"2026-10-01T23:59:59.999999999Z", 20727},
	} {
		tm, err := time.Parse(time.RFC3339Nano, c.t)
		if err != nil {
			t.Fatal(err)
		}
		if got := dayOf(tm.UnixNano()); got != c.want {
			t.Errorf("dayOf(%s) = %d, want %d", c.t, got, c.want)
		}
		if got := UTCDay(tm.UnixNano()); got != int32(c.want) {
			t.Errorf("UTCDay(%s) = %d, want %d", c.t, got, c.want)
		}
	}
	if s := day(20727).String(); s != "2026-10-01" {
		t.Errorf("day 20727 = %s", s)
	}
}

// TestCoversWindow: a workload covers sign-in day D with a record in
// [D-3, D] and one in [D, D+3]; one record on D is both.
func TestCoversWindow(t *testing.T) {
	const d = day(20362)
	at := func(dd day) int64 { return int64(dd)*nsPerDay + int64(12*time.Hour) }
	for _, c := range []struct {
		name string
		days []day
		want bool
	}{
		{"on the day", []day{d}, true},
		{"3 before and 3 after", []day{d - 3, d + 3}, true},
		{"4 before and 3 after", []day{d - 4, d + 3}, false},
		{"3 before and 4 after", []day{d - 3, d + 4}, false},
		{"only before", []day{d - 2, d - 1}, false},
		{"only after", []day{d + 1, d + 2}, false},
		{"none", nil, false},
	} {
		var cv coverage
		for _, dd := range c.days {
			cv.add(audit.WorkloadExchange, at(dd))
		}
		if got := cv.covers(audit.WorkloadExchange, d); got != c.want {
			t.Errorf("%s: covers = %v, want %v", c.name, got, c.want)
		}
		if cv.covers(audit.WorkloadSharePoint, d) {
			t.Errorf("%s: another workload's records cover SharePoint", c.name)
		}
	}
}

// TestCoverageMerge: counts, days and first/last add up across
// aggregates whatever the split, the current day included.
func TestCoverageMerge(t *testing.T) {
	var whole, a, b coverage
	for i := range 100 {
		ts := int64(20362+i%7)*nsPerDay + int64(i)*int64(time.Minute)
		w := audit.Workload(i % int(audit.NumWorkloads))
		whole.add(w, ts)
		if i%3 == 0 {
			a.add(w, ts)
		} else {
			b.add(w, ts)
		}
	}
	a.merge(&b)
	wj, _ := json.Marshal(whole.report())
	aj, _ := json.Marshal(a.report())
	if !bytes.Equal(wj, aj) {
		t.Errorf("merged coverage differs:\n%s\n%s", wj, aj)
	}
}

// TestCoverageDecides: the same generated tenant triaged from a complete
// export, from exports that lack what the due diligence needs, and from
// the Entra sign-in log alone. Complete: the generator's verdicts. Lacking:
// no identity is signin-only or shared (every one of those is unverified,
// low, with a reason naming the missing workload and what to export);
// anomalous stays anomalous; the identities are the same ones.
func TestCoverageDecides(t *testing.T) {
	dir := t.TempDir()
	ualPath, signinLog, ual, exp := generateWithSignIns(t, dir, synth.Options{Seed: 4})
	// keep writes the UAL records whose workload keep accepts.
	keep := func(name string, keep func(op, workload string) bool) string {
		kept, _ := filterUAL(t, ual, keep)
		return testutil.WriteFile(t, dir, name, kept)
	}
	isSignin := func(op string) bool { return op == "UserLoggedIn" || op == "UserLoginFailed" }
	opts := Options{Workers: 2}

	full := run(t, opts, ualPath, signinLog)
	want := map[string]Identity{}
	for _, id := range full.Identities {
		want[id.User] = id
	}
	// The complete export gives the generator's answers.
	if len(full.Identities) != len(exp.Identities) {
		t.Fatalf("complete export: %d identities, the generator says %d", len(full.Identities), len(exp.Identities))
	}
	for _, e := range exp.Identities {
		if got := want[e.User]; got.Verdict != e.Verdict || got.Severity != e.Severity {
			t.Errorf("complete export: %s is %s/%s, the generator says %s/%s", e.User, got.Verdict, got.Severity, e.Verdict, e.Severity)
		}
	}
	var decided int
	for _, id := range full.Identities {
		if id.Verdict == VerdictSigninOnly || id.Verdict == VerdictShared {
			decided++
		}
		if id.Verdict == VerdictUnverified {
			t.Errorf("complete export: %s is unverified", id.User)
		}
	}
	if decided < 5 {
		t.Fatalf("the tenant is too thin: %d signin-only or shared identities", decided)
	}

	cases := []struct {
		name    string
		paths   []string
		missing string // a workload the reasons must name
	}{
		{"sign-ins only (Purview filtered to UserLoggedIn)", []string{keep("signins.jsonl", func(op, _ string) bool { return isSignin(op) }), signinLog}, "Exchange"},
		{"no Exchange", []string{keep("noexchange.jsonl", func(_, w string) bool { return w != "Exchange" }), signinLog}, "Exchange"},
		{"no SharePoint or OneDrive", []string{keep("nospo.jsonl", func(_, w string) bool { return w != "SharePoint" && w != "OneDrive" }), signinLog}, "SharePoint/OneDrive"},
		{"the Entra sign-in log alone", []string{signinLog}, "Exchange"},
	}
	for _, c := range cases {
		r := run(t, opts, c.paths...)
		if r.Summary.NothingJudged != "" {
			t.Errorf("%s: nothing judged: %s", c.name, r.Summary.NothingJudged)
		}
		unverified := 0
		for _, id := range r.Identities {
			w, ok := want[id.User]
			if !ok {
				t.Errorf("%s: %s is not an identity of the complete export", c.name, id.User)
				continue
			}
			switch {
			case id.Verdict == VerdictSigninOnly || id.Verdict == VerdictShared:
				t.Errorf("%s: %s judged %s from an input that cannot show it (%q)", c.name, id.User, id.Verdict, id.Reasons)
			case w.Verdict == VerdictAnomalous && id.Verdict != VerdictAnomalous:
				t.Errorf("%s: %s is %s, want anomalous (decidable from the sign-ins)", c.name, id.User, id.Verdict)
			case id.Verdict == VerdictUnverified:
				unverified++
				last := id.Reasons[len(id.Reasons)-1]
				if id.Severity != SeverityLow || !strings.Contains(last, "cannot tell") || !strings.Contains(last, "no "+c.missing+" records around") ||
					!strings.Contains(last, "export every record type") {
					t.Errorf("%s: %s unverified (%s) with reason %q", c.name, id.User, id.Severity, last)
				}
			}
			if (w.Verdict == VerdictSigninOnly || w.Verdict == VerdictShared) && id.Verdict != VerdictUnverified {
				t.Errorf("%s: %s is %s, want unverified (it was %s with the complete export)", c.name, id.User, id.Verdict, w.Verdict)
			}
		}
		if unverified < decided {
			t.Errorf("%s: %d unverified, want at least the %d signin-only and shared of the complete export", c.name, unverified, decided)
		}
		if r.Summary.ByVerdict[VerdictUnverified] != unverified {
			t.Errorf("%s: by_verdict says %d unverified, the identities %d", c.name, r.Summary.ByVerdict[VerdictUnverified], unverified)
		}
	}
}

// TestNothingJudged: an input that cannot support any answer says why.
func TestNothingJudged(t *testing.T) {
	dir := t.TempDir()
	mail := `{"CreationTime":"2026-10-01T09:00:00","Id":"00000000-0000-4000-8000-000000000001","Operation":"MailItemsAccessed","OrganizationId":"` + ourTenant + `","RecordType":50,"Workload":"Exchange","UserId":"bob@contoso.com","ClientIPAddress":"198.51.100.20"}` + "\n"
	sign := `{"CreationTime":"2026-10-01T08:00:00","Id":"00000000-0000-4000-8000-000000000002","Operation":"UserLoggedIn","OrganizationId":"` + ourTenant + `","RecordType":15,"Workload":"AzureActiveDirectory","UserId":"bob@contoso.com","ClientIP":"198.51.100.20","Actor":[{"ID":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","Type":0}],"ActorContextId":"` + ourTenant + `","ApplicationId":"00000003-0000-0ff1-ce00-000000000000"}` + "\n"
	since, _ := time.Parse(time.RFC3339, "2027-01-01T00:00:00Z")
	for _, c := range []struct {
		name  string
		files map[string]string
		opts  Options
		want  string // "" = judged
	}{
		{"empty file", map[string]string{"e.json": ""}, Options{}, "no input could be read (1 skipped"},
		{"not a log", map[string]string{"n.txt": "shopping list\n"}, Options{}, "no input could be read"},
		{"no sign-in", map[string]string{"m.jsonl": mail + strings.Replace(mail, "0001", "0003", 1)}, Options{}, "none of the 2 records read"},
		{"filters left none", map[string]string{"s.jsonl": sign + mail}, Options{Since: since}, "all 2 records read lie outside --since/--until/--tenant"},
		{"judged, no outsider", map[string]string{"s.jsonl": sign + mail}, Options{}, ""},
	} {
		sub := t.TempDir()
		var paths []string
		for name, data := range c.files {
			paths = append(paths, testutil.WriteFile(t, sub, name, []byte(data)))
		}
		_ = dir
		r, err := Run(context.Background(), paths, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		got := r.Summary.NothingJudged
		switch {
		case c.want == "" && got != "":
			t.Errorf("%s: nothing judged: %s", c.name, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s: nothing_judged %q, want it to say %q", c.name, got, c.want)
		case c.want != "" && !strings.HasPrefix(got, "nothing was judged: "):
			t.Errorf("%s: %q", c.name, got)
		}
	}
	_ = fmt.Sprint
}
