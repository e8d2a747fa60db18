package state

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestWindowsAndContent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, ok, err := db.LastWindow(ctx, "Audit.SharePoint"); err != nil || ok {
		t.Fatalf("empty state has a window: %v %v", ok, err)
	}
	for i := range 3 {
		w := Window{Source: "Audit.SharePoint", Start: t0.Add(time.Duration(i) * time.Hour), End: t0.Add(time.Duration(i+1) * time.Hour), Items: 2, Records: 10, Final: true, DoneAt: t0}
		if err := db.RecordWindow(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	w, ok, err := db.LastWindow(ctx, "Audit.SharePoint")
	if err != nil || !ok || !w.End.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("last window = %+v %v %v", w, ok, err)
	}
	c := Content{ContentType: "Audit.SharePoint", ContentID: "a$b", Created: t0, Status: ContentDone, Records: 3, Path: "ual/x", DoneAt: t0}
	if err := db.RecordContent(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Records = 99 // a second record of the same id keeps the first
	if err := db.RecordContent(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordContent(ctx, Content{ContentType: "Audit.SharePoint", ContentID: "old", Created: t0.Add(-10 * 24 * time.Hour), Status: ContentExpired, DoneAt: t0}); err != nil {
		t.Fatal(err)
	}
	have, err := db.HaveContent(ctx, "Audit.SharePoint", []string{"a$b", "zzz", "old"})
	if err != nil || !have["a$b"] || have["zzz"] || !have["old"] {
		t.Fatalf("have = %v %v", have, err)
	}
	src, err := db.Sources(ctx)
	if err != nil || len(src) != 1 || src[0].Blobs != 1 || src[0].Records != 3 || src[0].Expired != 1 || src[0].Windows != 3 {
		t.Fatalf("sources = %+v %v", src, err)
	}
	if n, err := db.PruneContent(ctx, t0.Add(-7*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d %v", n, err)
	}
	if err := db.PruneWindows(ctx, t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if src, _ := db.Sources(ctx); src[0].Windows != 1 {
		t.Fatalf("prune kept %d windows, want the latest only", src[0].Windows)
	}
}

func TestObserveAndDispose(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	f, err := db.Observe(ctx, "a@x.com", func(prev Identity, found bool) (Identity, *Finding) {
		if found {
			t.Fatal("new identity found")
		}
		return Identity{Verdict: "signin-only", Severity: "info", FirstSeen: t0, LastSeen: t0, ReportedVerdict: "signin-only", ReportedSeverity: "info", ReportedAt: t0},
			&Finding{At: t0, Kind: "new", Verdict: "signin-only", Severity: "info", Body: `{"x":1}`}
	})
	if err != nil || f == nil || f.ID == 0 {
		t.Fatalf("observe: %+v %v", f, err)
	}
	un, _ := db.Unemitted(ctx)
	if len(un) != 1 || un[0].User != "a@x.com" {
		t.Fatalf("unemitted = %+v", un)
	}
	if err := db.MarkEmitted(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if un, _ := db.Unemitted(ctx); len(un) != 0 {
		t.Fatalf("still unemitted: %+v", un)
	}
	if _, err := db.Dispose(ctx, "nobody@x.com", "benign", "", t0); !errors.Is(err, ErrUnknownIdentity) {
		t.Fatalf("dispose unknown: %v", err)
	}
	id, err := db.Dispose(ctx, "a@x.com", "benign", "partner", t0)
	if err != nil || id.DisposedVerdict != "signin-only" || id.Disposition != "benign" || id.DispositionNote != "partner" {
		t.Fatalf("dispose: %+v %v", id, err)
	}
	if err := db.MarkDelivery(ctx, f.ID, false); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.Undelivered(ctx, 1); len(u) != 0 {
		t.Fatalf("undelivered after max attempts: %+v", u)
	}
	if u, _ := db.Undelivered(ctx, 5); len(u) != 1 {
		t.Fatalf("undelivered = %+v", u)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.RecordRun(ctx, Run{Kind: "collect", Started: time.Unix(10, 0), Finished: time.Unix(20, 0), OK: true, Summary: "s"})
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, ok, err := db.LastRun(ctx, "collect")
	if err != nil || !ok || r.Summary != "s" || !r.OK {
		t.Fatalf("run = %+v %v %v", r, ok, err)
	}
}

// TestMigrateV1: a version-1 database (no held column, no tenants table)
// is migrated in place and keeps its identities; a newer or unknown
// version is refused with a message that says so.
func TestMigrateV1(t *testing.T) {
	ctx := context.Background()
	path := oldDatabase(t,
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`INSERT INTO meta VALUES ('schema', '1')`,
		`CREATE TABLE identities (user TEXT PRIMARY KEY, class TEXT NOT NULL, home_tenant TEXT NOT NULL, verdict TEXT NOT NULL,
			severity TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
			reported_verdict TEXT NOT NULL DEFAULT '', reported_severity TEXT NOT NULL DEFAULT '', reported_at INTEGER NOT NULL DEFAULT 0,
			disposition TEXT NOT NULL DEFAULT '', disposition_note TEXT NOT NULL DEFAULT '', disposed_at INTEGER NOT NULL DEFAULT 0,
			disposed_verdict TEXT NOT NULL DEFAULT '', disposed_severity TEXT NOT NULL DEFAULT '')`,
		`INSERT INTO identities (user, class, home_tenant, verdict, severity, first_seen, last_seen, reported_verdict, reported_severity, reported_at)
			VALUES ('a@fabrikam.com', 'passthrough', 't1', 'activity', 'medium', 1, 2, 'activity', 'medium', 2)`,
	)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("opening a version-1 state: %v", err)
	}
	id, ok, err := db.GetIdentity(ctx, "a@fabrikam.com")
	if err != nil || !ok || id.ReportedVerdict != "activity" || id.Held != "" {
		t.Fatalf("migrated identity = %+v %v %v", id, ok, err)
	}
	if err := db.DisposeTenant(ctx, Tenant{HomeTenant: "t1", Disposition: "benign", Note: "partner", DisposedAt: time.Unix(5, 0)}); err != nil {
		t.Fatal(err)
	}
	ts, err := db.Tenants(ctx)
	if err != nil || len(ts) != 1 || ts[0].Note != "partner" || !ts[0].DisposedAt.Equal(time.Unix(5, 0)) {
		t.Fatalf("tenants = %+v %v", ts, err)
	}
	if found, err := db.WithdrawTenant(ctx, "t1"); err != nil || !found {
		t.Fatalf("withdraw: %v %v", found, err)
	}
	if found, _ := db.WithdrawTenant(ctx, "t1"); found {
		t.Error("withdrew a tenant twice")
	}
	var v string
	db.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	if v != "2" {
		t.Errorf("schema after migration = %s", v)
	}
	db.Close()
	// Reopening a migrated database is a no-op.
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	db.db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema'`)
	db.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer version of outsider") {
		t.Errorf("a newer state opened: %v", err)
	}
	raw, _ := sql.Open("sqlite", path)
	raw.Exec(`UPDATE meta SET value = 'x' WHERE key = 'schema'`)
	raw.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "not an outsider state database") {
		t.Errorf("a state of unknown version opened: %v", err)
	}
}
