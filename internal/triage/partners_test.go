package triage

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

const (
	tenantA = "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
	tenantB = "7c1e2d3f-4a5b-4c6d-9e8f-0a1b2c3d4e5f"
)

// TestPartnersInference: names come from the file, then the most frequent
// non-consumer domain (ties: the smallest), the consumer tenant and the
// unknown group are named by the tool, and the groups are sorted by worst
// severity, identities, tenant id.
func TestPartnersInference(t *testing.T) {
	ids := []Identity{
		{User: "a@Fabrikam.com", HomeTenant: tenantA, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "b@fabrikam.com", HomeTenant: tenantA, Verdict: VerdictShared, Severity: SeverityLow},
		{User: "c@fabrikam-eu.com", HomeTenant: tenantA, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "d@outlook.com", HomeTenant: tenantA, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "e@zeta.example", HomeTenant: tenantB, Verdict: VerdictAnomalous, Severity: SeverityHigh},
		{User: "f@alpha.example", HomeTenant: tenantB, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "g@hotmail.com", Consumer: true, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "h@live.com", HomeTenant: apps.ConsumerTenant, Consumer: true, Verdict: VerdictActivity, Severity: SeverityMedium},
		{User: "i_x.com#EXT#@ours.example", Verdict: VerdictSigninOnly, Severity: SeverityInfo},
	}
	got := partners(ids, partnerNaming{})
	var names, sources, tenants []string
	for _, p := range got {
		names, sources, tenants = append(names, p.Name), append(sources, p.NameSource), append(tenants, p.TenantID)
	}
	if want := []string{"alpha.example", PartnerConsumer, "fabrikam.com", PartnerUnknown}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if want := []string{PartnerNameDomain, PartnerNameKnown, PartnerNameDomain, PartnerNameKnown}; !reflect.DeepEqual(sources, want) {
		t.Errorf("sources %q, want %q", sources, want)
	}
	if want := []string{tenantB, apps.ConsumerTenant, tenantA, ""}; !reflect.DeepEqual(tenants, want) {
		t.Errorf("tenants %q, want %q", tenants, want)
	}
	a := got[2]
	if a.Identities != 4 || a.WorstSeverity != SeverityLow || a.ByVerdict[VerdictSigninOnly] != 3 || a.ByVerdict[VerdictShared] != 1 || a.ByVerdict[VerdictAnomalous] != 0 {
		t.Errorf("fabrikam: %+v", a)
	}
	if want := []string{"fabrikam-eu.com", "fabrikam.com", "outlook.com"}; !reflect.DeepEqual(a.Domains, want) {
		t.Errorf("domains %q, want %q", a.Domains, want)
	}
	if got[1].Identities != 2 || got[1].WorstSeverity != SeverityMedium {
		t.Errorf("consumer: %+v", got[1])
	}
	wantPartner := []string{"fabrikam.com", "fabrikam.com", "fabrikam.com", "fabrikam.com", "alpha.example", "alpha.example", PartnerConsumer, PartnerConsumer, PartnerUnknown}
	for i, id := range ids {
		if id.Partner != wantPartner[i] {
			t.Errorf("%s: partner %q, want %q", id.User, id.Partner, wantPartner[i])
		}
	}

	if ids[0].Partner != "fabrikam.com" {
		t.Errorf("partner %q from the domains", ids[0].Partner)
	}
}

// TestPartnerNamePrecedence: --partner-names, then the sign-in log, then
// the directory, then the domains; no source names the unknown group, and
// a source's name for another tenant names nothing here.
func TestPartnerNamePrecedence(t *testing.T) {
	const tenantC, tenantD = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", "9e8d7c6b-5a49-4837-a261-5f4e3d2c1b0a"
	ids := []Identity{
		{User: "a@fabrikam.com", HomeTenant: tenantA, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "b@contoso.example", HomeTenant: tenantB, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "c@litware.example", HomeTenant: tenantC, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "d@tailspin.example", HomeTenant: tenantD, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "e_x.com#EXT#@ours.example", Verdict: VerdictSigninOnly, Severity: SeverityInfo},
		{User: "f@hotmail.com", HomeTenant: apps.ConsumerTenant, Consumer: true, Verdict: VerdictSigninOnly, Severity: SeverityInfo},
	}
	// The consumer tenant holds unrelated people: what one of them brings
	// (a guest's companyName, a sign-in's tenant name) never names it.
	names := partnerNaming{
		file:      map[string]string{tenantA: "Fabrikam Ltd (file)", "": "x"},
		signin:    map[string]string{tenantA: "no", tenantB: "Contoso (sign-in log)", "": "x", apps.ConsumerTenant: "no"},
		directory: map[string]string{tenantA: "no", tenantB: "no", tenantC: "Litware (directory)", "": "x", apps.ConsumerTenant: "no", "0f0f0f0f-1e1e-4d2d-8c3c-4b4b4b4b4b4b": "elsewhere"},
	}
	want := map[string][2]string{
		tenantA:             {"Fabrikam Ltd (file)", PartnerNameFile},
		tenantB:             {"Contoso (sign-in log)", PartnerNameSignin},
		tenantC:             {"Litware (directory)", PartnerNameDirectory},
		tenantD:             {"tailspin.example", PartnerNameDomain},
		"":                  {PartnerUnknown, PartnerNameKnown},
		apps.ConsumerTenant: {PartnerConsumer, PartnerNameKnown},
	}
	got := partners(ids, names)
	if len(got) != len(want) {
		t.Fatalf("%d partners, want %d: %+v", len(got), len(want), got)
	}
	for _, p := range got {
		if w := want[p.TenantID]; p.Name != w[0] || p.NameSource != w[1] {
			t.Errorf("%q: %q from %q, want %q from %q", p.TenantID, p.Name, p.NameSource, w[0], w[1])
		}
	}
	for _, id := range ids {
		if w := want[id.HomeTenant]; id.Partner != w[0] {
			t.Errorf("%s: partner %q, want %q", id.User, id.Partner, w[0])
		}
	}
}

// TestPartnersFallbacks: a tenant with only consumer domains is named by
// its id; domains tie to the smallest.
func TestPartnersFallbacks(t *testing.T) {
	// Only consumer domains, or none: the tenant id names it.
	got := partners([]Identity{{User: "x@outlook.com", HomeTenant: tenantA, Severity: SeverityInfo, Verdict: VerdictSigninOnly}}, partnerNaming{})
	if got[0].Name != tenantA || got[0].NameSource != PartnerNameNone {
		t.Errorf("no domain: %+v", got[0])
	}
	// Ties: the smallest domain.
	got = partners([]Identity{{User: "x@b.example", HomeTenant: tenantA}, {User: "y@a.example", HomeTenant: tenantA}}, partnerNaming{})
	if got[0].Name != "a.example" {
		t.Errorf("tie: %q", got[0].Name)
	}
	if got := partners(nil, partnerNaming{}); len(got) != 0 || got == nil {
		t.Errorf("no identities: %#v, want an empty list", got)
	}
}

// TestReadPartnerNames: header optional, bad rows named with file and row
// and skipped, the rest read.
func TestReadPartnerNames(t *testing.T) {
	in := "tenant id,name\n" +
		strings.ToUpper(tenantA) + ", Fabrikam Ltd \n" +
		"not-a-guid,X\n" +
		tenantB + "\n" +
		tenantB + ",\n" +
		"\n" +
		tenantB + ",\"Contoso, Inc.\"\n" +
		tenantB + ",Other\n" +
		"00000000-0000-0000-0000-000000000000,Nil\n" +
		tenantA + "," + strings.Repeat("x", MaxPartnerName+1) + "\n" +
		tenantA + ",\xff\n"
	names, probs, err := ReadPartnerNames(strings.NewReader(in), "names.csv")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{tenantA: "Fabrikam Ltd", tenantB: "Contoso, Inc."}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{
		"names.csv: row 3: tenant id is not a GUID",
		"names.csv: row 4: 1 fields, want 2 (tenant id,name)",
		"names.csv: row 5: empty name",
		"names.csv: row 7: tenant " + tenantB + " named again (the first name is kept)",
		"names.csv: row 8: tenant id is not a GUID",
		"names.csv: row 9: name longer than 200 characters",
		"names.csv: row 10: name is not UTF-8",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}

	// No header: the first row counts.
	names, probs, err = ReadPartnerNames(strings.NewReader(tenantA+",A\n"), "n.csv")
	if err != nil || len(probs) != 0 || names[tenantA] != "A" {
		t.Errorf("no header: %q %v %v", names, probs, err)
	}
	// A quoting error ends the file, and says so.
	names, probs, err = ReadPartnerNames(strings.NewReader(tenantA+",A\n"+tenantB+",\"B\n"), "q.csv")
	if err != nil || len(probs) != 1 || !strings.HasPrefix(probs[0].String(), "q.csv: row 2: not CSV") || names[tenantA] != "A" {
		t.Errorf("quote: %q %v %v", names, probs, err)
	}
	// A file that is not there is an error.
	if _, _, err := LoadPartnerNames(filepath.Join(t.TempDir(), "none.csv")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzReadPartnerNames: any input reads without panicking; every name kept
// is valid UTF-8, trimmed, non-empty and within the cap, under a
// lower-case tenant id; every problem names the file and a row.
func FuzzReadPartnerNames(f *testing.F) {
	f.Add("tenant id,name\n" + tenantA + ",Fabrikam\n")
	f.Add(tenantA + ",\"a\nb\"\n" + tenantB + ",=cmd|' /C calc'!A0\n")
	f.Add("\"x\n")
	f.Add(tenantA + ",<script>alert(1)</script>\r\n,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		names, probs, err := ReadPartnerNames(strings.NewReader(in), "f.csv")
		if err != nil {
			return
		}
		for id, n := range names {
			if id != strings.ToLower(id) || len(id) != 36 {
				t.Errorf("tenant id %q", id)
			}
			if n == "" || n != strings.TrimSpace(n) || !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxPartnerName {
				t.Errorf("name %q", n)
			}
		}
		for _, p := range probs {
			if p.Path != "f.csv" || p.Row < 1 || p.Reason == "" {
				t.Errorf("problem %+v", p)
			}
		}
	})
}

// TestPartnersAtScale: on a generated tenant with 200 partners and 450
// outside identities, every partner tenant is named by its accounts'
// domain, and each partner's counts are exactly those of the generator's
// answers for the identities with that home tenant.
func TestPartnersAtScale(t *testing.T) {
	data, exp := generate(t, synth.Options{Seed: 7, Partners: 200, Outsiders: 450})
	r, err := Run(context.Background(), []string{testutil.WriteFile(t, t.TempDir(), "ual.jsonl", data)}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		n         int
		byVerdict map[string]int
		worst     string
		domains   map[string]bool
	}
	wants := map[string]*want{}
	partnerTenants := map[string]bool{}
	for _, e := range exp.Identities {
		k := e.HomeTenant
		if k == "" && e.Consumer {
			k = apps.ConsumerTenant
		}
		w := wants[k]
		if w == nil {
			w = &want{byVerdict: map[string]int{}, worst: e.Severity, domains: map[string]bool{}}
			wants[k] = w
		}
		w.n++
		w.byVerdict[e.Verdict]++
		if SeverityRank(e.Severity) > SeverityRank(w.worst) {
			w.worst = e.Severity
		}
		if e.Class == ClassPassthrough && !e.Consumer {
			w.domains[e.User[strings.LastIndexByte(e.User, '@')+1:]] = true
		}
		if strings.HasPrefix(e.Scenario, synth.ScenarioPartnerPrefix) && k != "" && k != apps.ConsumerTenant {
			partnerTenants[k] = true
		}
	}
	if len(partnerTenants) != 200 {
		t.Fatalf("%d partner tenants in the answers, want 200", len(partnerTenants))
	}
	if len(r.Partners) != len(wants) {
		t.Errorf("%d partners, want %d", len(r.Partners), len(wants))
	}
	total := 0
	names := map[string]string{}
	for i, p := range r.Partners {
		total += p.Identities
		names[p.TenantID] = p.Name
		w := wants[p.TenantID]
		if w == nil {
			t.Errorf("partner %q: no identity of the answers has that home tenant", p.TenantID)
			continue
		}
		if p.Identities != w.n || p.WorstSeverity != w.worst {
			t.Errorf("partner %s: %d identities, worst %s; want %d, %s", p.TenantID, p.Identities, p.WorstSeverity, w.n, w.worst)
		}
		for _, v := range Verdicts {
			if p.ByVerdict[v] != w.byVerdict[v] {
				t.Errorf("partner %s: %d %s, want %d", p.TenantID, p.ByVerdict[v], v, w.byVerdict[v])
			}
		}
		if partnerTenants[p.TenantID] {
			if len(w.domains) != 1 {
				t.Errorf("partner %s: domains %v in the answers, want one", p.TenantID, w.domains)
			} else if d := slices.Collect(maps.Keys(w.domains))[0]; p.Name != d || p.NameSource != PartnerNameDomain {
				t.Errorf("partner %s: named %q (%s), want its domain %q", p.TenantID, p.Name, p.NameSource, d)
			}
		}
		if i > 0 {
			q := r.Partners[i-1]
			if c := SeverityRank(q.WorstSeverity) - SeverityRank(p.WorstSeverity); c < 0 || c == 0 && (q.Identities < p.Identities || q.Identities == p.Identities && q.TenantID >= p.TenantID) {
				t.Errorf("partners %d and %d out of order: %+v, %+v", i-1, i, q, p)
			}
		}
	}
	if total != len(r.Identities) {
		t.Errorf("partners hold %d identities, the report %d", total, len(r.Identities))
	}
	for _, id := range r.Identities {
		if k := partnerKey(&id); id.Partner != names[k] || id.Partner == "" {
			t.Errorf("%s: partner %q, want %q", id.User, id.Partner, names[k])
		}
	}
}
