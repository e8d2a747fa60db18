package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

func TestAppNameOf(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{" Contoso HR Portal\t", "Contoso HR Portal"},
		{strings.Repeat("a", 300), strings.Repeat("a", maxAppNameBytes)},
		{long, strings.Repeat("é", maxAppNameBytes/2)},
		{"a" + long, "a" + strings.Repeat("é", (maxAppNameBytes-1)/2)},
		{strings.Repeat("a", maxAppNameBytes-1) + "  b", strings.Repeat("a", maxAppNameBytes-1)},
	}
	for _, c := range cases {
		got := SigninAppName(&audit.Event{AppName: []byte(c.in)})
		if got != c.want {
			t.Errorf("%.20q...: got %d bytes %.20q..., want %d bytes", c.in, len(got), got, len(c.want))
		}
		if !utf8.ValidString(got) {
			t.Errorf("%.20q: cut inside a character", c.in)
		}
	}
}

// TestAppNamesOrderFree: the names kept and the one shown do not depend on
// the order of the sign-ins or on how they are split between workers and
// merged, even when more distinct names come than are kept.
func TestAppNamesOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var names []string
		distinct := 1 + r.IntN(2*maxAppNames)
		for range 1 + r.IntN(60) {
			// Skewed, so counts differ and ties happen.
			names = append(names, fmt.Sprintf("app %02d", min(r.IntN(distinct), r.IntN(distinct))))
		}
		// The answer: among the maxAppNames smallest distinct names, the
		// most frequent, the smallest on a tie.
		count := map[string]int64{}
		for _, n := range names {
			count[n]++
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range count {
				if !yield(k) {
					return
				}
			}
		})
		keys = keys[:min(len(keys), maxAppNames)]
		want := ""
		for _, k := range keys {
			if want == "" || count[k] > count[want] {
				want = k
			}
		}

		a := newAgg(1)
		for split := range 3 {
			perm := slices.Clone(names)
			r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			// Up to three shards, merged in a random order.
			shards := make([]histogram, 1+split)
			for _, n := range perm {
				shards[r.IntN(len(shards))].addName(a, []byte(n))
			}
			var h histogram
			for _, i := range r.Perm(len(shards)) {
				for _, c := range shards[i] {
					h.addNameN(c.op, c.n)
				}
			}
			if got := h.best(); got != want {
				t.Fatalf("round %d, %d shard(s): best %q, want %q (%v)", round, len(shards), got, want, names)
			}
			if len(h) > maxAppNames {
				t.Fatalf("round %d: %d names kept", round, len(h))
			}
			for _, c := range h {
				if c.n != count[c.op] {
					t.Fatalf("round %d: %q counted %d times, want %d", round, c.op, c.n, count[c.op])
				}
			}
		}
	}
}

// The application below is not in the first-party catalogue; the sign-in
// log names it. Outsiders: pilar (UAL and sign-in log, one sign-in in
// both), omar (sign-in log only, two names, one hostile), and a
// first-party app whose catalogue name must win over the log's.
const (
	appHR       = "7f3e2a10-5b6c-4d7e-8f90-a1b2c3d4e5f6"
	appSPO      = "00000003-0000-0ff1-ce00-000000000000"
	appsTenant  = "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"
	appsHome    = "a1b2c3d4-0000-4000-8000-fab1fab1fab1"
	hostileName = "Payroll\x1b[31m <script>alert(1)</script>\u202e"
)

func signInJSON(id, upn, app, name, ip, tm string) string {
	j, _ := json.Marshal(map[string]any{"id": id, "createdDateTime": tm, "userPrincipalName": upn, "appId": app,
		"appDisplayName": name, "ipAddress": ip, "homeTenantId": appsHome, "resourceTenantId": appsTenant,
		"crossTenantAccessType": "passthrough", "userType": "member", "status": map[string]any{"errorCode": 0}})
	return string(j)
}

func ualSignin(id, upn, app, ip, tm string) string {
	return fmt.Sprintf(`{"CreationTime":%q,"Id":"u-%s","Operation":"UserLoggedIn","OrganizationId":%q,"RecordType":15,"UserType":0,"Workload":"AzureActiveDirectory","ClientIP":%q,"UserId":%q,"Actor":[{"ID":"Unknown","Type":0},{"ID":%q,"Type":5}],"ActorContextId":%q,"ApplicationId":%q,"IntraSystemId":%q,"ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"}]}`,
		tm, id, appsTenant, ip, upn, upn, appsHome, app, id)
}

func TestAppNameFromLog(t *testing.T) {
	dir := t.TempDir()
	ual := strings.Join([]string{
		ualSignin("s1", "pilar@fabrikam.com", appHR, "198.18.7.1", "2026-10-06T09:14:03"),
		ualSignin("s9", "member@contoso.com", appSPO, "198.18.7.9", "2026-10-06T09:00:00"),
	}, "\n") + "\n"
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", []byte(ual))
	// Omar signs in three times to appHR, under two names, and to
	// SharePoint under a name that is not the catalogue's.
	log := "[" + strings.Join([]string{
		signInJSON("s1", "pilar@fabrikam.com", appHR, "Contoso HR Portal", "198.18.7.1", "2026-10-06T09:14:03Z"),
		signInJSON("s2", "omar@fabrikam.com", appHR, hostileName, "198.18.7.2", "2026-10-06T10:00:00Z"),
		signInJSON("s3", "omar@fabrikam.com", appHR, "Contoso HR Portal", "198.18.7.2", "2026-10-06T10:05:00Z"),
		signInJSON("s4", "omar@fabrikam.com", appHR, "  Contoso HR Portal ", "198.18.7.2", "2026-10-06T10:06:00Z"),
		signInJSON("s5", "omar@fabrikam.com", appSPO, "Totally SharePoint", "198.18.7.2", "2026-10-06T10:07:00Z"),
	}, ",") + "]"
	logPath := testutil.WriteFile(t, dir, "signins.json", []byte(log))

	var first []byte
	for _, c := range []struct {
		paths   []string
		workers int
	}{{[]string{ualPath, logPath}, 1}, {[]string{logPath, ualPath}, 3}, {[]string{ualPath, logPath}, 4}} {
		r, err := Run(context.Background(), c.paths, Options{Workers: c.workers})
		if err != nil {
			t.Fatal(err)
		}
		// Which copy of pilar's sign-in is counted (and cited) follows the
		// input order; the applications do not.
		var apps [][]App
		for _, id := range r.Identities {
			apps = append(apps, id.Signins.Apps)
		}
		j, _ := json.Marshal(apps)
		if first == nil {
			first = j
		} else if !bytes.Equal(first, j) {
			t.Errorf("%v with %d workers: applications differ from the first run:\n%s\n%s", c.paths, c.workers, j, first)
		}
		byUser := map[string]Identity{}
		for _, id := range r.Identities {
			byUser[id.User] = id
		}
		pilar, omar := byUser["pilar@fabrikam.com"], byUser["omar@fabrikam.com"]
		// The sign-in counted from the UAL; its name from the log's copy.
		wantPilar := []App{{ID: appHR, Name: "Contoso HR Portal", NameSource: NameFromLog, Count: 1}}
		if !slices.Equal(pilar.Signins.Apps, wantPilar) {
			t.Errorf("pilar: apps %+v, want %+v", pilar.Signins.Apps, wantPilar)
		}
		wantOmar := []App{
			{ID: appSPO, Name: "Office 365 SharePoint Online", FirstParty: true, Count: 1},
			{ID: appHR, Name: "Contoso HR Portal", NameSource: NameFromLog, Count: 3},
		}
		if !slices.Equal(omar.Signins.Apps, wantOmar) {
			t.Errorf("omar: apps %+v, want %+v", omar.Signins.Apps, wantOmar)
		}
		for _, id := range []Identity{pilar, omar} {
			if id.Verdict != VerdictAnomalous {
				t.Errorf("%s: verdict %s, want anomalous", id.User, id.Verdict)
			}
			want := "application " + appHR + ` ("Contoso HR Portal", as the sign-in log names it)`
			if !strings.Contains(id.Reasons[0], want) {
				t.Errorf("%s: reason %q lacks %q", id.User, id.Reasons[0], want)
			}
		}
	}
	if n := bytes.Count(first, []byte(`"name_source":"log"`)); n != 2 {
		t.Errorf("name_source appears %d times, want 2: %s", n, first)
	}

	// The UAL alone has no names: today's JSON exactly (the partners'
	// name_source, from their domains, is not an application's).
	r, err := Run(context.Background(), []string{ualPath}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(r)
	if bytes.Count(j, []byte(`"name_source"`)) != len(r.Partners) || bytes.Contains(j, []byte(`"name_source":"log"`)) || !bytes.Contains(j, []byte(`{"id":"`+appHR+`","name":"","first_party":false,"count":1}`)) {
		t.Errorf("UAL alone: %s", j)
	}
}

// TestAppNamesSynth: a generated tenant's third-party applications take
// the sign-in log's names, its first-party ones the catalogue's.
func TestAppNamesSynth(t *testing.T) {
	dir := t.TempDir()
	ualPath, sigPath, _, _ := generateWithSignIns(t, dir, synth.Options{Seed: 4})
	r, err := Run(context.Background(), []string{ualPath, sigPath}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	logNames := 0
	for _, id := range r.Identities {
		for _, a := range id.Signins.Apps {
			switch {
			case a.FirstParty && a.NameSource != "":
				t.Errorf("%s: first-party %s named by the log", id.User, a.ID)
			case !a.FirstParty && a.ID != "" && a.NameSource != NameFromLog:
				t.Errorf("%s: third-party %s has no name from the log (%q)", id.User, a.ID, a.Name)
			case a.NameSource == NameFromLog:
				logNames++
			}
		}
	}
	if logNames == 0 {
		t.Error("no application named by the log")
	}
}
