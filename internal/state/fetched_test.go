package state

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// oldDatabase writes a state database as an older outsider did, by the
// statements that made it, and returns its path.
func oldDatabase(t *testing.T, statements ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range statements {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestFetchedToAdded: a database written before windows.fetched_to
// existed is opened, the column added, its windows read with a zero
// FetchedTo, and FetchedTo kept from then on.
func TestFetchedToAdded(t *testing.T) {
	ctx := context.Background()
	path := oldDatabase(t,
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`INSERT INTO meta (key, value) VALUES ('schema', '1')`,
		`CREATE TABLE windows (source TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, items INTEGER NOT NULL,
			records INTEGER NOT NULL, final INTEGER NOT NULL, done_at INTEGER NOT NULL, PRIMARY KEY (source, start, end))`,
		`INSERT INTO windows VALUES ('signins', 1764831600, 1764835200, 1, 5, 0, 1764833000)`,
	)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("opening a database without fetched_to: %v", err)
	}
	w, ok, err := db.LastWindow(ctx, SourceSignins)
	if err != nil || !ok || !w.FetchedTo.IsZero() || w.Records != 5 {
		t.Fatalf("old window: %+v %v %v", w, ok, err)
	}
	w.FetchedTo = w.Start.Add(20 * time.Minute)
	if err := db.RecordWindow(ctx, w); err != nil {
		t.Fatal(err)
	}
	got, _, _ := db.LastWindow(ctx, SourceSignins)
	if !got.FetchedTo.Equal(w.FetchedTo) {
		t.Errorf("FetchedTo %v, want %v", got.FetchedTo, w.FetchedTo)
	}
	// Opening again (the column there) keeps what was recorded.
	db.Close()
	again, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, _, _ := again.LastWindow(ctx, SourceSignins); !got.FetchedTo.Equal(w.FetchedTo) {
		t.Errorf("reopened: FetchedTo %v, want %v", got.FetchedTo, w.FetchedTo)
	}
}
