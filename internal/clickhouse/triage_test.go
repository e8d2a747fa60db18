package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// tenantB is the second generated tenant's id: the generator writes one
// tenant, so its OrganizationId (and everything naming our tenant) is
// rewritten.
const tenantB = "b2b2b2b2-0000-4000-8000-00000000000b"

// tenant is a generated tenant's files.
type tenant struct {
	id    string
	paths []string
}

// genTenants writes two generated tenants: A (seed 1, every record
// duplicated once in 9, plus its Entra sign-in log) and B (seed 2, its
// tenant id rewritten), with size bytes of member noise each (0: the small
// example).
func genTenants(t *testing.T, size int64) []tenant {
	t.Helper()
	dir := t.TempDir()
	var ual, signins bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 1, Size: size, Duplicates: 9, SignInLog: &signins}); err != nil {
		t.Fatal(err)
	}
	a := tenant{id: synth.TenantID, paths: []string{testutil.WriteFile(t, dir, "a-ual.jsonl", ual.Bytes()), testutil.WriteFile(t, dir, "a-signins.json", signins.Bytes())}}
	var b bytes.Buffer
	if _, err := synth.Generate(&b, synth.Options{Seed: 2, Size: size, Format: synth.FormatPurviewCSV}); err != nil {
		t.Fatal(err)
	}
	data := bytes.ReplaceAll(b.Bytes(), []byte(synth.TenantID), []byte(tenantB))
	return []tenant{a, {id: tenantB, paths: []string{testutil.WriteFile(t, dir, "b.csv", data)}}}
}

func renderJSON(t *testing.T, r *triage.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.RenderJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// engine runs the in-process engine: its report, what was touched
// included, is what ClickHouse's must be byte for byte.
func engine(t *testing.T, paths []string, opts triage.Options) []byte {
	t.Helper()
	r, err := triage.Run(context.Background(), paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	return renderJSON(t, r)
}

// onClickHouse runs Triage and renders each report.
func onClickHouse(t *testing.T, c *Client, o TriageOptions) map[string][]byte {
	t.Helper()
	reps, err := Triage(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, r := range reps {
		out[r.Tenant] = renderJSON(t, r.Report)
	}
	return out
}

func load(t *testing.T, c *Client, paths []string) *LoadResult {
	t.Helper()
	res, err := Load(context.Background(), c, paths, LoadOptions{Workers: 2, BatchBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sameJSON fails with the first differing lines.
func sameJSON(t *testing.T, label string, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			lo := max(0, i-4)
			t.Fatalf("%s: ClickHouse's report differs from the engine's at line %d:\nengine:\n%s\nclickhouse:\n%s", label, i+1,
				strings.Join(wl[lo:min(len(wl), i+4)], "\n"), strings.Join(gl[lo:min(len(gl), i+4)], "\n"))
		}
	}
	t.Fatalf("%s: ClickHouse's report differs from the engine's in length (%d vs %d lines)", label, len(wl), len(gl))
}

// TestOneServer: one tenant (the UAL with duplicates and the Entra sign-in
// log) on one server gives the engine's report byte for byte, whole, for a
// period, and with a small evidence cap.
func TestOneServer(t *testing.T) {
	t.Parallel()
	s := initServers(t, 1)[0]
	ts := genTenants(t, 0)
	a := ts[0]
	res := load(t, s.client, a.paths)
	if res.Duplicates == 0 {
		t.Fatal("no duplicates in the generated tenant")
	}
	since := time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 10, 11, 12, 0, 0, 0, time.UTC)
	for _, opts := range []triage.Options{{}, {Since: since, Until: until}, {MaxEvidence: 2}, {SkipAccessed: true}} {
		want := engine(t, a.paths, opts)
		got := onClickHouse(t, s.client, TriageOptions{Triage: opts})
		sameJSON(t, "one server", want, got[a.id])
		if opts.SkipAccessed && !bytes.Contains(want, []byte(`"accessed_scope": "not computed: not asked for`)) {
			t.Error("SkipAccessed: the report does not say the objects touched were not asked for")
		}
		if opts.Since.IsZero() && !bytes.Contains(want, []byte(`"name_source": "log"`)) {
			t.Error("the tenant has no application named by the sign-in log: the case is too thin")
		}
	}
	// Partners, named from the domains and by --partner-names, are the
	// engine's too.
	r, err := triage.Run(context.Background(), a.paths, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, p := range r.Partners {
		if p.TenantID != "" && len(names) == 0 {
			names[p.TenantID] = "Named <by> the file"
		}
	}
	if len(r.Partners) < 2 || len(names) == 0 {
		t.Fatalf("the tenant has %d partners: the case is too thin", len(r.Partners))
	}
	opts := triage.Options{PartnerNames: names}
	want := engine(t, a.paths, opts)
	sameJSON(t, "partner names", want, onClickHouse(t, s.client, TriageOptions{Triage: opts})[a.id])
	if !bytes.Contains(want, []byte(`"name_source": "partner-names"`)) || !bytes.Contains(want, []byte(`"name_source": "domain"`)) {
		t.Error("the partners are not named by the file and by domains")
	}
	// The same files loaded again add nothing (the tables now hold two
	// parts of everything, which FINAL reads as one).
	load(t, s.client, a.paths)
	for _, opts := range []triage.Options{{}, {Since: since, Until: until}} {
		sameJSON(t, "loaded twice", engine(t, a.paths, opts), onClickHouse(t, s.client, TriageOptions{Triage: opts})[a.id])
	}
	if n := count(t, s.client, "SELECT count() FROM "+EventsTable+" FINAL"); n != res.Rows {
		t.Errorf("%d events after loading twice, want %d", n, res.Rows)
	}
}

// TestTwoShards: two tenants loaded through a Distributed table over two
// servers; --all-tenants judges each against its own records only and
// gives, per tenant, the engine's report on that tenant's files with
// --tenant, byte for byte; so does --tenant.
func TestTwoShards(t *testing.T) {
	t.Parallel()
	servers := initServers(t, 2)
	c := servers[0].client
	ts := genTenants(t, 3<<20)
	var all []string
	for _, tn := range ts {
		all = append(all, tn.paths...)
	}
	load(t, c, all)
	// Both shards hold records.
	for i, s := range servers {
		var n string
		if err := s.client.Query(context.Background(), "SELECT count() FROM "+EventsTable+"_local FORMAT TSV", nil, func(f []string) error {
			n = f[0]
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n == "0" {
			t.Fatalf("shard %d holds no records", i+1)
		}
	}
	got := onClickHouse(t, c, TriageOptions{AllTenants: true})
	if len(got) != len(ts) {
		t.Fatalf("%d reports, want %d", len(got), len(ts))
	}
	for _, tn := range ts {
		want := engine(t, tn.paths, triage.Options{Tenants: []string{tn.id}})
		sameJSON(t, "--all-tenants, tenant "+tn.id, want, got[tn.id])
		one := onClickHouse(t, c, TriageOptions{Triage: triage.Options{Tenants: []string{tn.id}, MaxEvidence: 3}})
		sameJSON(t, "--tenant "+tn.id, engine(t, tn.paths, triage.Options{Tenants: []string{tn.id}, MaxEvidence: 3}), one[tn.id])
	}
	// Without --tenant, a table of two tenants is an error, not a mix.
	if _, err := Triage(context.Background(), c, TriageOptions{}); !errors.Is(err, ErrSeveralTenants) {
		t.Fatalf("two tenants without --tenant: %v", err)
	}
}

// TestAddressesOnEveryShard: over a Distributed table, the addresses that
// link records to the outside identities must reach every shard. They
// travel as external data, which the server sends to each shard a query
// reaches (a subquery would have to be GLOBAL IN: a plain one runs on each
// shard against that shard's rows only). Here 16 outsiders each sign in
// once from an address a member then reads mail from; wherever the two
// records landed on different shards, an address seen only by one shard
// would leave the mail unseen and report a breach as signin-only. Over two
// shards the report is the engine's: 16 activity.
func TestAddressesOnEveryShard(t *testing.T) {
	t.Parallel()
	servers := initServers(t, 2)
	c := servers[0].client
	var recs []rec
	for i := range 16 {
		ip := fmt.Sprintf("86.138.113.%d", i+1)
		recs = append(recs,
			testutil.SignIn(2*i, fmt.Sprintf("m%d@contoso.com", i), ourTenant, "95.91.100.1", sharePointApp, true),
			testutil.SignIn(2*i, fmt.Sprintf("p%d@fabrikam.example", i), fabrikam, ip, sharePointApp, true),
			testutil.Mail(2*i+1, fmt.Sprintf("m%d@contoso.com", i), ip))
	}
	path := testutil.WriteJSONL(t, t.TempDir(), "t.jsonl", recs...)
	load(t, c, []string{path})
	want := engine(t, []string{path}, triage.Options{})
	sameJSON(t, "two shards", want, onClickHouse(t, c, TriageOptions{})[ourTenant])
	var wr triage.Report
	if err := json.Unmarshal(want, &wr); err != nil {
		t.Fatal(err)
	}
	if wr.Summary.ByVerdict[triage.VerdictActivity] != 16 {
		t.Fatalf("the engine finds %v, want 16 activity", wr.Summary.ByVerdict)
	}
	per := map[int]int64{}
	for i, s := range servers {
		per[i] = count(t, s.client, "SELECT count() FROM "+EventsTable+"_local")
	}
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("rows per shard %v: the test needs both shards to hold some", per)
	}
}

// TestPlaceholdersAsEngine: what a sanitised log holds instead of values
// (an OrganizationId and ActorContextIds that are not tenant ids, a
// redacted UserId, documentation, loopback and masked addresses shared by
// everyone, a private address shared with a member) is judged as the engine
// judges it: the same addresses join nobody, the private one joins weakly,
// and the placeholder tenant is nobody's, with --tenant and without.
func TestPlaceholdersAsEngine(t *testing.T) {
	t.Parallel()
	s := initServers(t, 1)[0]
	var recs []rec
	for i, ip := range []string{"203.0.113.5", "127.0.0.1", "0.0.0.0", "2001:db8::5", "10.x.x.x"} {
		recs = append(recs,
			testutil.SignIn(10*i, fmt.Sprintf("p%d@fabrikam.example", i), fabrikam, ip, sharePointApp, true),
			testutil.SignIn(10*i+1, "bob@contoso.com", ourTenant, ip, sharePointApp, true),
			testutil.Mail(10*i+2, "bob@contoso.com", ip))
	}
	weak := testutil.SignIn(60, "w@fabrikam.example", fabrikam, "10.1.2.3", sharePointApp, true)
	member := testutil.SPO(61, "FileModified", "carol@contoso.com", "10.1.2.3", "https://contoso.sharepoint.com/a.docx")
	noHome := testutil.SignIn(62, "n@fabrikam.example", "00000000-0000-0000-0000-000000000000", "86.138.113.9", sharePointApp, true)
	placeholderMember := testutil.SignIn(63, "dora@contoso.com", "<USER HOME TENANT ID>", "95.91.100.9", sharePointApp, true)
	placeholderMember["Actor"] = []rec{{"ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3309", "Type": 0}}
	redacted := testutil.SignIn(64, "[REDACTED]", fabrikam, "86.138.113.10", sharePointApp, true)
	redacted["UserKey"] = "<user key>"
	org := testutil.SPO(65, "FileAccessed", "carol@contoso.com", "86.138.113.9", "https://contoso.sharepoint.com/b.docx")
	org["OrganizationId"] = "<TENANT ID>"
	recs = append(recs, weak, member, noHome, placeholderMember, redacted, org)
	path := testutil.WriteJSONL(t, t.TempDir(), "sanitised.jsonl", recs...)
	load(t, s.client, []string{path})
	want := engine(t, []string{path}, triage.Options{})
	got := onClickHouse(t, s.client, TriageOptions{})
	if len(got) != 1 {
		t.Fatalf("%d tenants, want 1: <TENANT ID> is no tenant", len(got))
	}
	sameJSON(t, "sanitised", want, got[ourTenant])
	sameJSON(t, "sanitised, --tenant", engine(t, []string{path}, triage.Options{Tenants: []string{ourTenant}}),
		onClickHouse(t, s.client, TriageOptions{Triage: triage.Options{Tenants: []string{ourTenant}}})[ourTenant])
	var r triage.Report
	if err := json.Unmarshal(want, &r); err != nil {
		t.Fatal(err)
	}
	// The engine's answer, so the comparison is about something.
	for _, id := range r.Identities {
		switch {
		case strings.HasPrefix(id.User, "p"):
			if id.Verdict != triage.VerdictSigninOnly || len(id.IPAlsoUsedBy) != 0 {
				t.Errorf("%s: %s, also %v: a non-identifying address joined", id.User, id.Verdict, id.IPAlsoUsedBy)
			}
		case id.User == "w@fabrikam.example":
			if id.Verdict != triage.VerdictActivity || !strings.Contains(strings.Join(id.Reasons, "\n"), "weak link") {
				t.Errorf("%s: %s %q", id.User, id.Verdict, id.Reasons)
			}
		case id.User == "dora@contoso.com":
			t.Errorf("a placeholder ActorContextId made %s an outsider", id.User)
		}
	}
}

// TestOldSchemaRefused: tables an older outsider created lack columns this
// one reads; loading into them or judging them is refused with what to do,
// never answered from a default that misreads the rows.
func TestOldSchemaRefused(t *testing.T) {
	t.Parallel()
	servers := startServers(t, 1)
	c := servers[0].client
	var cols []string
	for _, col := range eventColumns {
		if col.name != "workload" {
			cols = append(cols, col.name+" "+col.typ)
		}
	}
	if err := c.Exec(context.Background(), "CREATE TABLE "+EventsTable+" ("+strings.Join(cols, ", ")+") ENGINE = Memory"); err != nil {
		t.Fatal(err)
	}
	_, err := Triage(context.Background(), c, TriageOptions{})
	if !errors.Is(err, ErrOldSchema) || !strings.Contains(err.Error(), "workload") || !strings.Contains(err.Error(), "load' again") {
		t.Errorf("triage on an old table: %v, want ErrOldSchema naming the column and what to do", err)
	}
	if err := Init(context.Background(), []*Client{c}, ""); !errors.Is(err, ErrOldSchema) {
		t.Errorf("init on an old table: %v, want ErrOldSchema", err)
	}
}

// TestAddedColumns: tables an older outsider created (without the columns
// added since) get them from Init, keep their rows, and then load and
// triage like new ones. Rows an older outsider loaded have no object
// fields: the report then leaves the accessed lists out and says how many
// records lack them, until their files are loaded again.
func TestAddedColumns(t *testing.T) {
	t.Parallel()
	s := startServers(t, 1)[0]
	ctx := context.Background()
	var old, beforeObjects []string
	for _, c := range eventColumns {
		if !slices.Contains(tables[0].added, c.name) {
			old = append(old, c.name+" "+c.typ)
		}
		if !slices.Contains(objectColumns, c.name) {
			beforeObjects = append(beforeObjects, c.name)
		}
	}
	if err := s.client.Exec(ctx, "CREATE TABLE "+QuoteIdent(EventsTable)+" ("+strings.Join(old, ", ")+") ENGINE = "+tables[0].engine); err != nil {
		t.Fatal(err)
	}
	if err := s.client.Exec(ctx, "INSERT INTO "+QuoteIdent(EventsTable)+" (tenant, user, time, id) VALUES ('t', 'u', '2026-10-01 00:00:00', 'old')"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second Init finds nothing to add
		if err := Init(ctx, []*Client{s.client}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, s.client, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = '"+EventsTable+"' AND name IN ('app_name', 'home_name', 'site_url', 'folders', 'objects_read')"); n != 5 {
		t.Fatalf("added columns: %d of 5", n)
	}
	if n := count(t, s.client, "SELECT count() FROM "+EventsTable+" WHERE id = 'old' AND app_name = '' AND home_name = '' AND objects_read = 0"); n != 1 {
		t.Fatalf("the old row: %d", n)
	}
	// Dropping its partition is synchronous (a DELETE is a mutation).
	if err := s.client.Exec(ctx, "ALTER TABLE "+QuoteIdent(EventsTable)+" DROP PARTITION 202610"); err != nil {
		t.Fatal(err)
	}
	a := genTenants(t, 0)[0]
	load(t, s.client, a.paths)
	want := engine(t, a.paths, triage.Options{})
	sameJSON(t, "added columns", want, onClickHouse(t, s.client, TriageOptions{})[a.id])
	// The rows again as the outsider before the object columns stored
	// them: inserted last, they replace the rows above.
	cols := strings.Join(beforeObjects, ", ")
	if err := s.client.Exec(ctx, "INSERT INTO "+QuoteIdent(EventsTable)+" ("+cols+") SELECT "+cols+" FROM "+QuoteIdent(EventsTable)); err != nil {
		t.Fatal(err)
	}
	reps, err := Triage(ctx, s.client, TriageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := reps[0].Report
	if !strings.HasPrefix(got.AccessedScope, "not computed: ") || !strings.Contains(got.AccessedScope, "load their files again") || got.AccessedSummary != nil {
		t.Fatalf("rows loaded without objects: accessed_scope %q, %d in the summary", got.AccessedScope, len(got.AccessedSummary))
	}
	r, err := triage.Run(ctx, a.paths, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.DropAccessed(strings.TrimPrefix(got.AccessedScope, "not computed: "))
	sameJSON(t, "rows loaded without objects", renderJSON(t, r), renderJSON(t, got))
	// Loaded again, the rows have their objects.
	load(t, s.client, a.paths)
	sameJSON(t, "loaded again", want, onClickHouse(t, s.client, TriageOptions{})[a.id])
}

// TestAccessedEveryFormat: a tenant at partner scale (400 outside
// identities of 60 partners) in every layout whose records name objects,
// each loaded as a tenant of its own (with a seed of its own: one load
// deduplicates records by Id): ClickHouse's reports, what was
// touched included, are the engine's byte for byte. A compact JSON array
// and Graph pages hold many records on one line, so the objects of each
// must be read from the right one; Sentinel's OfficeActivity CSV names
// them by columns, PowerShell's export nests AuditData.
func TestAccessedEveryFormat(t *testing.T) {
	t.Parallel()
	s := initServers(t, 1)[0]
	dir := t.TempDir()
	var tenants []tenant
	for i, format := range []string{synth.FormatJSON, synth.FormatGraph, synth.FormatSentinelCSV, synth.FormatPSJSON} {
		var b bytes.Buffer
		if _, err := synth.Generate(&b, synth.Options{Seed: int64(3 + i), Partners: 60, Outsiders: 400, Format: format}); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("c3c3c3c3-0000-4000-8000-%012d", i)
		data := bytes.ReplaceAll(b.Bytes(), []byte(synth.TenantID), []byte(id))
		tenants = append(tenants, tenant{id: id, paths: []string{testutil.WriteFile(t, dir, format, data)}})
	}
	var all []string
	for _, tn := range tenants {
		all = append(all, tn.paths...)
	}
	load(t, s.client, all)
	got := onClickHouse(t, s.client, TriageOptions{AllTenants: true})
	for _, tn := range tenants {
		want := engine(t, tn.paths, triage.Options{Tenants: []string{tn.id}})
		sameJSON(t, tn.paths[0], want, got[tn.id])
		var r triage.Report
		if err := json.Unmarshal(want, &r); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, a := range r.AccessedSummary {
			kinds[a.Kind]++
		}
		if len(r.Identities) < 400 || kinds[triage.KindFile] == 0 || kinds[triage.KindMailbox] == 0 || kinds[triage.KindMailboxFolder] == 0 {
			t.Errorf("%s: %d identities, objects touched by kind %v: the case is too thin", tn.paths[0], len(r.Identities), kinds)
		}
	}
}

// TestArgumentOrder: Sentinel's OfficeActivity (whose sign-ins name no
// application nor an error code) and the Entra sign-in log, loaded in
// either order, give the engine's report for that order byte for byte,
// whole and for a period: the copies in the sign-in log that give the
// counted sign-ins their application and outcome (copy 2-4) count as the
// engine counts them.
func TestArgumentOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var office, graph bytes.Buffer
	if _, err := synth.Generate(&office, synth.Options{Seed: 4, Format: synth.FormatSentinelCSV, Duplicates: 9, SignInLog: &graph}); err != nil {
		t.Fatal(err)
	}
	officePath := testutil.WriteFile(t, dir, "officeactivity.csv", office.Bytes())
	sigPath := testutil.WriteFile(t, dir, "signins.json", graph.Bytes())
	// An account with no usable name, keyed by its UserKey in the UAL
	// (no application) and by its object id in a Graph signIn
	// (https://learn.microsoft.com/graph/api/resources/signin) naming a
	// third-party application: two names the shared sign-in joins.
	const sid = "5d6e7f80-1111-4222-8333-444455556666"
	u := testutil.SignIn(10, "Not Available", testutil.Fabrikam, "86.138.113.90", "", true)
	delete(u, "ApplicationId")
	delete(u, "ObjectId")
	u["UserKey"], u["IntraSystemId"] = "10032000AAAA0001", sid
	unknownUAL := testutil.WriteJSONL(t, dir, "unknown-ual.jsonl", u)
	sig, _ := json.Marshal(map[string]any{"value": []map[string]any{{
		"id": sid, "createdDateTime": testutil.At(10) + "Z", "userPrincipalName": "Not Available",
		"userId": "9a8b7c6d-0000-4000-8000-000000000009", "appId": "a1b2c3d4-0000-4000-8000-123456789abc",
		"ipAddress": "86.138.113.90", "status": map[string]any{"errorCode": 0},
		"homeTenantId": testutil.Fabrikam, "resourceTenantId": testutil.OurTenant,
	}}})
	unknownSig := testutil.WriteFile(t, dir, "unknown-signins.json", sig)
	// Two app-less audit successes of one account, the earlier of which the
	// sign-in log records as stopped for MFA (50074) at SharePoint Online:
	// the first success cited is the later one, in either order.
	early := testutil.SignIn(10, "bob@fabrikam.com", testutil.Fabrikam, "86.138.113.91", "", true)
	late := testutil.SignIn(20, "bob@fabrikam.com", testutil.Fabrikam, "86.138.113.91", "", true)
	for i, r := range []testutil.Rec{early, late} {
		delete(r, "ApplicationId")
		delete(r, "ObjectId")
		r["IntraSystemId"] = fmt.Sprintf("6e7f8091-2222-4333-8444-55556666777%d", i)
	}
	movedUAL := testutil.WriteJSONL(t, dir, "moved-ual.jsonl", early, late)
	sig, _ = json.Marshal(map[string]any{"value": []map[string]any{{
		"id": early["IntraSystemId"], "createdDateTime": testutil.At(10) + "Z", "userPrincipalName": "bob@fabrikam.com",
		"userId": "9a8b7c6d-0000-4000-8000-000000000010", "appId": "00000003-0000-0ff1-ce00-000000000000",
		"ipAddress": "86.138.113.91", "status": map[string]any{"errorCode": 50074},
		"homeTenantId": testutil.Fabrikam, "resourceTenantId": testutil.OurTenant, "crossTenantAccessType": "passthrough",
	}}})
	movedSig := testutil.WriteFile(t, dir, "moved-signins.json", sig)
	since := time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 10, 11, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		tenant string
		paths  []string
		opts   []triage.Options
	}{
		{synth.TenantID, []string{officePath, sigPath}, []triage.Options{{}, {Since: since, Until: until}}},
		{synth.TenantID, []string{sigPath, officePath}, []triage.Options{{}, {Since: since, Until: until}}},
		{testutil.OurTenant, []string{unknownUAL, unknownSig}, []triage.Options{{}}},
		{testutil.OurTenant, []string{unknownSig, unknownUAL}, []triage.Options{{}}},
		{testutil.OurTenant, []string{movedUAL, movedSig}, []triage.Options{{}}},
		{testutil.OurTenant, []string{movedSig, movedUAL}, []triage.Options{{}}},
	} {
		s := initServers(t, 1)[0]
		load(t, s.client, c.paths)
		for _, opts := range c.opts {
			want := engine(t, c.paths, opts)
			sameJSON(t, fmt.Sprintf("%v since %v", c.paths, opts.Since), want, onClickHouse(t, s.client, TriageOptions{Triage: opts})[c.tenant])
			if strings.Contains(c.paths[0], "moved") {
				if !bytes.Contains(want, []byte(late["Id"].(string))) || bytes.Contains(want, []byte(early["Id"].(string))) {
					t.Errorf("%v: the first success cited is not the later sign-in %s: %s", c.paths, late["Id"], want)
				}
				continue
			}
			if opts.Since.IsZero() && !bytes.Contains(want, []byte(`"verdict": "anomalous"`)) {
				t.Errorf("%v: no anomalous identity", c.paths)
			}
		}
	}
}
