package apps

import (
	"slices"
	"strings"
	"testing"
)

const (
	servicesTenant  = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	corporateTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	torusTenant     = "cdc5aeea-15c5-4db6-b079-fcadd2505dc2"
)

// The counts scripts/gen-apps printed for the committed catalogue. Update
// them together with catalogue.tsv.
const (
	wantApps   = 891
	wantCore   = 35
	wantLearn  = 125
	wantGraph  = 619
	wantGitHub = 220
)

func TestEmbeddedDataParses(t *testing.T) {
	if _, err := parse(catalogueTSV, tenantsTSV); err != nil {
		t.Fatal(err)
	}
}

// The "Required IDs" table of SOURCES.md.
func TestRequiredIDs(t *testing.T) {
	tests := []struct {
		id, name, family, owner string
	}{
		{"0000000c-0000-0000-c000-000000000000", "Microsoft App Access Panel", "my-apps/access-panel", servicesTenant},
		{"00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", "sharepoint-onedrive", servicesTenant},
		{"00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "exchange-online", servicesTenant},
		{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "teams", servicesTenant},
		{"5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Microsoft Teams Web Client", "teams", servicesTenant},
		{"cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", "teams", servicesTenant},
		{"00000009-0000-0000-c000-000000000000", "Power BI Service", "power-bi", servicesTenant},
		{"871c010f-5e61-4fb1-83ac-98610a7e9110", "Microsoft Power BI", "power-bi", ""},
		{"00000005-0000-0ff1-ce00-000000000000", "Viva Engage (formerly Yammer)", "yammer-viva-engage", servicesTenant},
		{"c1c74fed-04c9-4704-80dc-9f79a2e515cb", "Yammer Web", "yammer-viva-engage", ""},
		{"e1ef36fd-b883-4dbf-97f0-9ece4b576fc6", "Yammer Web Embed", "yammer-viva-engage", ""},
		{"33be1cef-03fb-444b-8fd3-08ca1b4d803f", "OneDrive Web", "sharepoint-onedrive", servicesTenant},
		{"ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", "sharepoint-onedrive", ""},
		{"b26aadf8-566f-4478-926f-589f601d9c74", "OneDrive [Community Contributed]", "sharepoint-onedrive", ""},
	}
	for _, tt := range tests {
		a, ok := Lookup(tt.id)
		if !ok {
			t.Errorf("Lookup(%s): not found", tt.id)
			continue
		}
		if a.ID != tt.id || a.Name != tt.name || a.Family != tt.family || a.Owner != tt.owner {
			t.Errorf("Lookup(%s) = {ID:%s Name:%q Family:%q Owner:%s}, want {Name:%q Family:%q Owner:%s}",
				tt.id, a.ID, a.Name, a.Family, a.Owner, tt.name, tt.family, tt.owner)
		}
		if !slices.Contains(a.Sources, "core") {
			t.Errorf("Lookup(%s).Sources = %v, want core among them", tt.id, a.Sources)
		}
		if !IsFirstParty(tt.id) {
			t.Errorf("IsFirstParty(%s) = false", tt.id)
		}
	}
}

// Ids that only merill's EntraDocs rows (a docs dictionary) list: Graph
// permission ids, licence SKU and service-plan ids, tenant ids and
// placeholders. None of them is an application.
func TestEntraDocsOnlyIDsAreNotFirstParty(t *testing.T) {
	for id, what := range map[string]string{
		"e1fe6dd8-ba31-4d61-89e7-88639da4683d": "User.Read - Delegated",
		"810c84a8-4a9e-49e6-bf7d-12d183f40d01": "Mail.Read - Application",
		"332a536c-c7ef-4017-ab91-336970924f0d": "Sites.Read.All - Application",
		"6db7aeea-6c4a-475d-bbb0-7338bc73d646": "Yammer (service plan)",
		"ed01faf2-1d88-4947-ae91-45ca18703a96": "OneDrive for Business (Plan 2)",
		"ec156933-b85b-4c50-84ec-c9e5603709ef": "Microsoft Stream Plan 2_1",
		"efb87545-963c-4e0d-99df-69c6916d9eb0": "Exchange Online (Plan 2)_1",
		"b107e5a3-3e60-4c0d-a184-a7e4395eb44c": "Office 365 E3_1",
		"00000000-0000-0000-0000-000000000000": "Designated empty GUID",
		"11111111-1111-1111-1111-111111111111": "Blazor template default client id",
		"00000000-0000-0000-0000-000000000001": "Cosmos DB Built-in Data Reader",
		ConsumerTenant:                         "Consumer user from a Microsoft account (a tenant id)",
		servicesTenant:                         "enterprise apps passthrough tenant (a tenant id)",
		corporateTenant:                        "Microsoft tenant ID (a tenant id)",
	} {
		if IsFirstParty(id) {
			a, _ := Lookup(id)
			t.Errorf("IsFirstParty(%s) = true (%s), want false; catalogue has %+v", id, what, a)
		}
	}
	for _, a := range All() {
		if strings.HasSuffix(a.Name, " - Delegated") {
			t.Errorf("%s %q looks like a permission id", a.ID, a.Name)
		}
	}
}

func TestThirdPartyIsNotFirstParty(t *testing.T) {
	for _, id := range []string{
		"3f6d1c2a-8b4e-4f7a-9c0d-5e1b2a3c4d5e", // random
		"d3590ed6-52b3-4102-aeff-aad2292ab01d", // Microsoft Office, last digit changed
		"",
		"not-a-guid",
		"0000000c-0000-0000-c000-00000000000",   // one digit short
		"0000000c-0000-0000-c000-0000000000000", // one digit long
	} {
		if IsFirstParty(id) {
			t.Errorf("IsFirstParty(%q) = true, want false", id)
		}
	}
}

func TestLookupNormalisesID(t *testing.T) {
	const want = "00000003-0000-0ff1-ce00-000000000000"
	for _, id := range []string{
		want,
		"00000003-0000-0FF1-CE00-000000000000",
		"00000003-0000-0Ff1-cE00-000000000000",
		"{00000003-0000-0ff1-ce00-000000000000}",
		"{00000003-0000-0FF1-CE00-000000000000}",
		"  00000003-0000-0ff1-ce00-000000000000\n",
		"\t{ 00000003-0000-0FF1-CE00-000000000000 } ",
	} {
		a, ok := Lookup(id)
		if !ok || a.ID != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", id, a.ID, ok, want)
		}
		if !IsFirstParty(id) {
			t.Errorf("IsFirstParty(%q) = false", id)
		}
	}
	for _, id := range []string{"{00000003-0000-0ff1-ce00-000000000000", "(00000003-0000-0ff1-ce00-000000000000)"} {
		if IsFirstParty(id) {
			t.Errorf("IsFirstParty(%q) = true, want false", id)
		}
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	for _, id := range []string{
		"00000003-0000-0ff1-ce00-000000000000",
		"00000003-0000-0FF1-CE00-000000000000",
		"{00000003-0000-0FF1-CE00-000000000000}",
		"3f6d1c2a-8b4e-4f7a-9c0d-5e1b2a3c4d5e",
	} {
		IsFirstParty(id) // load the index first
		if n := testing.AllocsPerRun(100, func() { Lookup(id) }); n != 0 {
			t.Errorf("Lookup(%q): %v allocations, want 0", id, n)
		}
	}
}

func TestSearch(t *testing.T) {
	if got := Search(""); len(got) != Len() {
		t.Fatalf("len(Search(\"\")) = %d, want %d", len(got), Len())
	}
	if got := Search("   "); len(got) != Len() {
		t.Errorf("len(Search(blank)) = %d, want %d", len(got), Len())
	}

	has := func(res []App, id string) bool {
		return slices.ContainsFunc(res, func(a App) bool { return a.ID == id })
	}
	// Name, case-insensitively.
	res := Search("sharepoint online")
	if !has(res, "00000003-0000-0ff1-ce00-000000000000") {
		t.Errorf("Search(sharepoint online) misses SharePoint Online: %v", names(res))
	}
	for _, a := range res {
		if !strings.Contains(strings.ToLower(a.Name+"|"+strings.Join(a.Aliases, "|")), "sharepoint online") {
			t.Errorf("Search(sharepoint online) returned %s %q", a.ID, a.Name)
		}
	}
	// Alias: Graph calls 00000005-0000-0ff1-ce00-... "Viva Engage", core
	// "Viva Engage (formerly Yammer)"; Learn calls fe93bfe1-... "Viva
	// Insights" and the community list "Exchange Online".
	if a, _ := Lookup("fe93bfe1-7947-460a-a5e0-7a5906b51360"); a.Name != "Viva Insights" || !slices.Contains(a.Aliases, "Exchange Online") {
		t.Errorf("fe93bfe1: Name %q Aliases %q, want Viva Insights with alias Exchange Online", a.Name, a.Aliases)
	}
	if !has(Search("EXCHANGE ONLINE"), "fe93bfe1-7947-460a-a5e0-7a5906b51360") {
		t.Error("Search does not match aliases")
	}
	// Family.
	res = Search("yammer-viva-engage")
	if len(res) != 3 {
		t.Errorf("Search(yammer-viva-engage) = %v, want the 3 core Yammer apps", names(res))
	}
	// Id, partial and upper-case.
	res = Search("0000000C-0000")
	if !has(res, "0000000c-0000-0000-c000-000000000000") {
		t.Errorf("Search(0000000C-0000) = %v", names(res))
	}
	// No match.
	if res := Search("no such application, surely"); len(res) != 0 {
		t.Errorf("Search(nonsense) = %v, want none", names(res))
	}

	// Sorted by name (ignoring case), then id.
	all := Search("")
	if !slices.IsSortedFunc(all, compareByName) {
		t.Error("Search(\"\") is not sorted by name then id")
	}
	teams := Search("teams")
	if !slices.IsSortedFunc(teams, compareByName) {
		t.Error("Search(teams) is not sorted by name then id")
	}
}

func names(res []App) []string {
	var out []string
	for _, a := range res {
		out = append(out, a.ID+" "+a.Name)
	}
	return out
}

func TestResultsAreCopies(t *testing.T) {
	res := Search("")
	res[0] = App{}
	all := All()
	all[0].ID = "changed"
	if got := Search(""); got[0].ID == "" {
		t.Error("Search result aliases the index")
	}
	if got := All(); got[0].ID == "changed" {
		t.Error("All result aliases the index")
	}
}

func TestCatalogueShape(t *testing.T) {
	all := All()
	if len(all) != wantApps || Len() != wantApps {
		t.Fatalf("len(All()) = %d, Len() = %d, want %d", len(all), Len(), wantApps)
	}
	if !slices.IsSortedFunc(all, func(a, b App) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("All() is not sorted by id")
	}
	perSource := map[string]int{}
	valid := []string{"core", "learn", "graph", "github"}
	for i, a := range all {
		if !isLowerGUID(a.ID) {
			t.Errorf("%q is not a lower-case GUID", a.ID)
		}
		if i > 0 && all[i-1].ID == a.ID {
			t.Errorf("duplicate id %s", a.ID)
		}
		if len(a.Sources) == 0 {
			t.Errorf("%s has no source", a.ID)
		}
		last := -1
		for _, s := range a.Sources {
			k := slices.Index(valid, s)
			if k <= last {
				t.Errorf("%s: sources %v not a subset of %v in that order", a.ID, a.Sources, valid)
			}
			last = k
			perSource[s]++
		}
		if (a.Family != "") != slices.Contains(a.Sources, "core") {
			t.Errorf("%s: family %q with sources %v; only core apps have a family", a.ID, a.Family, a.Sources)
		}
		if a.Owner != "" && !IsMicrosoftTenant(a.Owner) {
			t.Errorf("%s: owner %s is not a Microsoft tenant", a.ID, a.Owner)
		}
		for _, al := range a.Aliases {
			if al == "" || strings.EqualFold(al, a.Name) {
				t.Errorf("%s: bad alias %q of %q", a.ID, al, a.Name)
			}
		}
		if strings.TrimSpace(a.Name) != a.Name {
			t.Errorf("%s: name %q has surrounding space", a.ID, a.Name)
		}
	}
	want := map[string]int{"core": wantCore, "learn": wantLearn, "graph": wantGraph, "github": wantGitHub}
	for s, n := range want {
		if perSource[s] != n {
			t.Errorf("%d apps from %s, want %d", perSource[s], s, n)
		}
	}
}

func TestLearnOnlyAndOwners(t *testing.T) {
	// In Learn but not in merill (SOURCES.md, cross-check results).
	for _, id := range []string{"38049638-cc2c-4cde-abe4-4479d721ed44", "6326e366-9d6d-4c70-b22a-34c7ea72d73d"} {
		a, ok := Lookup(id)
		if !ok || !slices.Equal(a.Sources, []string{"learn"}) {
			t.Errorf("Lookup(%s) = %+v, %v; want a learn-only app", id, a, ok)
		}
	}
	// Learn's "Microsoft tenant-owned applications" table.
	if a, _ := Lookup("de8bc8b5-d9f9-48b1-a8ad-b748da725064"); a.Owner != corporateTenant {
		t.Errorf("Graph Explorer owner = %q, want %s", a.Owner, corporateTenant)
	}
	// Learn says 72f988bf, the live Graph query says cdc5aeea; Graph wins.
	a, _ := Lookup("14d82eec-204b-4c2f-b7e8-296a70dab67e")
	if a.Name != "Microsoft Graph Command Line Tools" || a.Owner != torusTenant {
		t.Errorf("Graph CLI = %q owner %s, want owner %s", a.Name, a.Owner, torusTenant)
	}
}

func TestTenants(t *testing.T) {
	for _, id := range []string{ConsumerTenant, servicesTenant, corporateTenant, torusTenant,
		"04dcc6ab-388a-4559-b527-fbec656300ea", "975f013f-7f24-47e8-a7d3-abc4752bf346",
		"33e01921-4d64-4f8c-a055-5bdaffd5e33d", "d6d49420-f39b-4df7-a1dc-d59a935871db"} {
		if !IsMicrosoftTenant(id) || !IsMicrosoftTenant(strings.ToUpper(id)) || !IsMicrosoftTenant("{"+id+"}") {
			t.Errorf("IsMicrosoftTenant(%s) = false", id)
		}
	}
	if n := len(Tenants()); n != 8 {
		t.Errorf("%d tenants, want 8", n)
	}
	tn, ok := LookupTenant(strings.ToUpper(ConsumerTenant))
	if !ok || tn.ID != ConsumerTenant || !strings.Contains(tn.Label, "Microsoft account") || tn.Meaning == "" {
		t.Errorf("LookupTenant(consumer) = %+v, %v", tn, ok)
	}
	if tn, _ := LookupTenant(servicesTenant); !strings.Contains(tn.Label, "Microsoft Services") {
		t.Errorf("LookupTenant(services).Label = %q", tn.Label)
	}
	for _, id := range []string{"3f6d1c2a-8b4e-4f7a-9c0d-5e1b2a3c4d5e", "0000000c-0000-0000-c000-000000000000", ""} {
		if IsMicrosoftTenant(id) {
			t.Errorf("IsMicrosoftTenant(%q) = true", id)
		}
	}
}

func TestParseRejectsCorruptData(t *testing.T) {
	good := "# c\n00000003-0000-0ff1-ce00-000000000000\tSharePoint\t\t\tcore\t\n"
	ten := ConsumerTenant + "\tMSA\tmeaning\n"
	if _, err := parse(good, ten); err != nil {
		t.Fatalf("parse(good) = %v", err)
	}
	for name, cat := range map[string]string{
		"fields":    "00000003-0000-0ff1-ce00-000000000000\tSharePoint\n",
		"upper":     "00000003-0000-0FF1-ce00-000000000000\tSharePoint\t\t\tcore\t\n",
		"duplicate": good + good,
		"nosource":  "00000003-0000-0ff1-ce00-000000000000\tSharePoint\t\t\t\t\n",
	} {
		if _, err := parse(cat, ten); err == nil {
			t.Errorf("parse(%s) succeeded", name)
		}
	}
}

func BenchmarkIsFirstParty(b *testing.B) {
	for _, bc := range []struct{ name, id string }{
		{"hit", "00000003-0000-0ff1-ce00-000000000000"},
		{"hit-upper", "00000003-0000-0FF1-CE00-000000000000"},
		{"hit-braces", "{00000003-0000-0ff1-ce00-000000000000}"},
		{"miss", "3f6d1c2a-8b4e-4f7a-9c0d-5e1b2a3c4d5e"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			IsFirstParty(bc.id)
			b.ReportAllocs()
			for b.Loop() {
				IsFirstParty(bc.id)
			}
		})
	}
}
