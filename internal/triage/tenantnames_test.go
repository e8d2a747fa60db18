package triage

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/testutil"
)

func TestSigninTenantName(t *testing.T) {
	cases := []struct{ tenant, name, want string }{
		{appsHome, " Fabrikam, Inc.\t", "Fabrikam, Inc."},
		{appsHome, "", ""},
		{appsHome, "REDACTED", ""},
		{appsHome, "<home tenant name>", ""},
		{appsHome, "***", ""},
		{"", "Fabrikam, Inc.", ""}, // names no tenant id
		{appsHome, strings.Repeat("é", 200), strings.Repeat("é", maxAppNameBytes/2)},
	}
	for _, c := range cases {
		if got := SigninTenantName(&audit.Event{ActorTenant: []byte(c.tenant), HomeTenantName: []byte(c.name)}); got != c.want {
			t.Errorf("%q/%.20q: got %.20q (%d bytes), want %.20q", c.tenant, c.name, got, len(got), c.want)
		}
	}
}

// TestTenantNamesOrderFree: the name each home tenant takes from the
// sign-in logs does not depend on the order of the sign-ins, on how
// workers split them or on the order shards merge, even with more
// distinct names than are kept; with few names it is the most frequent,
// the smallest on a tie.
func TestTenantNamesOrderFree(t *testing.T) {
	tenants := []string{tenantA, tenantB}
	users := []string{"u1", "u2", "u3"}
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		type signin struct{ user, tenant, name string }
		var sis []signin
		distinct := 1 + r.IntN(2*maxAppNames)
		for range 1 + r.IntN(60) {
			sis = append(sis, signin{users[r.IntN(len(users))], tenants[r.IntN(len(tenants))],
				fmt.Sprintf("name %02d", min(r.IntN(distinct), r.IntN(distinct)))})
		}
		var first map[string]string
		for split := range 3 {
			r.Shuffle(len(sis), func(i, j int) { sis[i], sis[j] = sis[j], sis[i] })
			shards := make([]*agg, 1+split)
			for i := range shards {
				shards[i] = newAgg(1)
			}
			for _, s := range sis {
				a := shards[r.IntN(len(shards))]
				u := a.users[s.user]
				if u == nil {
					u = &userStats{user: s.user}
					a.users[s.user] = u
				}
				a.noteTenantName(u, &audit.Event{ActorTenant: []byte(s.tenant), HomeTenantName: []byte(s.name)})
			}
			all := newAgg(1)
			for _, i := range r.Perm(len(shards)) {
				all.merge(shards[i])
			}
			got := signinTenantNames(all.users, func(*userStats) bool { return true })
			if first == nil {
				first = got
			} else if fmt.Sprint(got) != fmt.Sprint(first) {
				t.Fatalf("round %d, %d shard(s): %v, first %v", round, len(shards), got, first)
			}
		}
		if distinct*len(tenants) > maxAppNames {
			continue
		}
		// No account had more (tenant, name) pairs than are kept: the
		// answer is plain counting.
		count := map[string]map[string]int{}
		for _, s := range sis {
			if count[s.tenant] == nil {
				count[s.tenant] = map[string]int{}
			}
			count[s.tenant][s.name]++
		}
		for tn, c := range count {
			want := ""
			for n, k := range c {
				if want == "" || k > c[want] || k == c[want] && n < want {
					want = n
				}
			}
			if first[tn] != want {
				t.Fatalf("round %d: %s named %q, want %q", round, tn, first[tn], want)
			}
		}
	}
}

func tenantSignIn(id, upn, home, name, tm string) string {
	m := map[string]any{"id": id, "createdDateTime": tm, "userPrincipalName": upn, "appId": appSPO,
		"ipAddress": "198.18.7.3", "homeTenantId": home, "resourceTenantId": appsTenant,
		"crossTenantAccessType": "passthrough", "userType": "member", "status": map[string]any{"errorCode": 0}}
	if name != "" {
		m["homeTenantName"] = name
	}
	j, _ := json.Marshal(m)
	return string(j)
}

// TestPartnerNameFromSigninLog: two sign-ins of one tenant name it; a
// redaction that comes more often never becomes the name; the name wins
// over the domain and yields to --partner-names; the answer is the same
// whatever the input order and the workers.
func TestPartnerNameFromSigninLog(t *testing.T) {
	dir := t.TempDir()
	const other = "5d4c3b2a-1908-4776-a655-443322110099"
	log := "[" + strings.Join([]string{
		tenantSignIn("t1", "pilar@fabrikam.com", appsHome, "Fabrikam, Inc.", "2026-10-06T09:00:00Z"),
		tenantSignIn("t2", "omar@fabrikam.com", appsHome, " Fabrikam, Inc. ", "2026-10-06T09:10:00Z"),
		tenantSignIn("t3", "omar@fabrikam.com", appsHome, "REDACTED", "2026-10-06T09:11:00Z"),
		tenantSignIn("t4", "omar@fabrikam.com", appsHome, "REDACTED", "2026-10-06T09:12:00Z"),
		tenantSignIn("t5", "omar@fabrikam.com", appsHome, "REDACTED", "2026-10-06T09:13:00Z"),
		tenantSignIn("t6", "ana@litware.example", other, "", "2026-10-06T09:20:00Z"),
		tenantSignIn("t7", "ana@litware.example", other, "[redacted]", "2026-10-06T09:21:00Z"),
	}, ",") + "]"
	ual := ualSignin("s9", "member@contoso.com", appSPO, "198.18.7.9", "2026-10-06T09:00:00") + "\n"
	logPath := testutil.WriteFile(t, dir, "signins.json", []byte(log))
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", []byte(ual))
	for _, c := range []struct {
		paths   []string
		workers int
	}{{[]string{ualPath, logPath}, 1}, {[]string{logPath, ualPath}, 3}} {
		r, err := Run(context.Background(), c.paths, Options{Workers: c.workers})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]string{}
		for _, p := range r.Partners {
			got[p.TenantID] = [2]string{p.Name, p.NameSource}
		}
		if w := [2]string{"Fabrikam, Inc.", PartnerNameSignin}; got[appsHome] != w {
			t.Errorf("%v: fabrikam %q, want %q", c.paths, got[appsHome], w)
		}
		if w := [2]string{"litware.example", PartnerNameDomain}; got[other] != w {
			t.Errorf("%v: litware %q, want %q (a redaction names nothing)", c.paths, got[other], w)
		}
		for _, id := range r.Identities {
			if id.HomeTenant == appsHome && id.Partner != "Fabrikam, Inc." {
				t.Errorf("%s: partner %q", id.User, id.Partner)
			}
		}
	}
	r, err := Run(context.Background(), []string{ualPath, logPath}, Options{PartnerNames: map[string]string{appsHome: "Fabrikam (ours)"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Partners {
		if p.TenantID == appsHome && (p.Name != "Fabrikam (ours)" || p.NameSource != PartnerNameFile) {
			t.Errorf("--partner-names does not win: %+v", p)
		}
	}
}

// TestPartnerNameFromDirectory: the companyName of a tenant's guests in
// --directory names the partner over the domain, a redaction never does,
// and the sign-in log's name wins over the directory's.
func TestPartnerNameFromDirectory(t *testing.T) {
	dir := t.TempDir()
	users := `{"value": [
 {"id": "5b1d9c3e-7f20-4a8b-b6c5-3e2d1f0a9b87", "userPrincipalName": "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": "bob@fabrikam.com", "userType": "Guest", "companyName": " Fabrikam (directory) "},
 {"id": "6c2e0d4f-8031-4b9c-97d6-4f3e2a1b0c98", "userPrincipalName": "eve_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": "eve@fabrikam.com", "userType": "Guest", "companyName": "REDACTED"},
 {"id": "7d3f1e50-9142-4cad-88e7-503f4b2c1da9", "userPrincipalName": "eve2_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": "eve2@fabrikam.com", "userType": "Guest", "companyName": "REDACTED"}]}`
	d, probs, err := directory.Load(testutil.WriteFile(t, dir, "users.json", []byte(users)))
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	ual := strings.Join([]string{
		ualSignin("s1", "bob@fabrikam.com", appSPO, "198.18.7.1", "2026-10-06T09:14:03"),
		ualSignin("s2", "eve@fabrikam.com", appSPO, "198.18.7.2", "2026-10-06T09:15:03"),
		ualSignin("s3", "eve2@fabrikam.com", appSPO, "198.18.7.2", "2026-10-06T09:16:03"),
		ualSignin("s9", "member@contoso.com", appSPO, "198.18.7.9", "2026-10-06T09:00:00"),
	}, "\n") + "\n"
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", []byte(ual))
	name := func(paths ...string) [2]string {
		r, err := Run(context.Background(), paths, Options{Directory: d, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Partners {
			if p.TenantID == appsHome {
				return [2]string{p.Name, p.NameSource}
			}
		}
		t.Fatalf("no partner %s: %+v", appsHome, r.Partners)
		return [2]string{}
	}
	if got, want := name(ualPath), [2]string{"Fabrikam (directory)", PartnerNameDirectory}; got != want {
		t.Errorf("directory: %q, want %q", got, want)
	}
	log := "[" + tenantSignIn("t1", "bob@fabrikam.com", appsHome, "Fabrikam, Inc.", "2026-10-06T09:20:00Z") + "]"
	if got, want := name(ualPath, testutil.WriteFile(t, dir, "s.json", []byte(log))), [2]string{"Fabrikam, Inc.", PartnerNameSignin}; got != want {
		t.Errorf("sign-in log over directory: %q, want %q", got, want)
	}
}
