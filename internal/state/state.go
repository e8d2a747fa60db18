// Package state is the memory of live collection and watching: an embedded
// SQLite database (modernc.org/sqlite, pure Go, no cgo) beside the archive.
//
// It records what must survive a killed process so that the next run
// resumes with no gap and no duplicate:
//   - windows: per source (a Management Activity API content type, or
//     "signins"), the time windows whose listing was completely handled;
//   - content: every content blob id that reached a final state (its
//     archive file renamed into place, or reported expired or quarantined);
//   - identities, findings and dispositions for 'outsider watch'.
//
// The database never holds a credential or an access token: nothing that
// reaches this package is secret.
//
// Every write is a single short transaction. The collector's exactly-once
// argument needs only one property of this package: a content id is
// recorded after its archive file exists, never before (see package
// collect), so a lost or rolled-back commit makes the next run fetch and
// rename the same file again, which is harmless.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SchemaVersion is stored in meta.schema; Open refuses a newer database so
// an old binary never misreads a newer layout, and migrates an older one
// (see migrations).
//
// Version 2 added identities.held (why the identity's latest finding was
// held back) and the tenants table (dispositions per home tenant).
const SchemaVersion = 2

// DB is an open state database.
type DB struct {
	db   *sql.DB
	path string
}

// schema is applied on every Open (idempotent). Times are Unix seconds,
// UTC.
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
-- A window of one source whose listing was handled completely: every item
-- listed in it reached a final state. final = 0 marks a sign-in window that
-- was fetched before it could be complete (it will be fetched again).
CREATE TABLE IF NOT EXISTS windows (
	source  TEXT    NOT NULL,
	start   INTEGER NOT NULL,
	end     INTEGER NOT NULL,
	items   INTEGER NOT NULL,
	records INTEGER NOT NULL,
	final   INTEGER NOT NULL,
	done_at INTEGER NOT NULL,
	fetched_to INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (source, start, end)
);
-- A content blob in a final state: done (archived), expired (AF20051) or
-- quarantined (malformed). path is relative to the archive.
CREATE TABLE IF NOT EXISTS content (
	content_type TEXT    NOT NULL,
	content_id   TEXT    NOT NULL,
	created      INTEGER NOT NULL,
	status       TEXT    NOT NULL,
	records      INTEGER NOT NULL,
	path         TEXT    NOT NULL,
	detail       TEXT    NOT NULL,
	done_at      INTEGER NOT NULL,
	PRIMARY KEY (content_type, content_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS content_created ON content (created);
-- One outside identity as the last triage saw it, what was last reported
-- about it, and the analyst's disposition.
CREATE TABLE IF NOT EXISTS identities (
	user              TEXT PRIMARY KEY,
	class             TEXT    NOT NULL,
	home_tenant       TEXT    NOT NULL,
	verdict           TEXT    NOT NULL,
	severity          TEXT    NOT NULL,
	first_seen        INTEGER NOT NULL,
	last_seen         INTEGER NOT NULL,
	reported_verdict  TEXT    NOT NULL DEFAULT '',
	reported_severity TEXT    NOT NULL DEFAULT '',
	reported_at       INTEGER NOT NULL DEFAULT 0,
	disposition       TEXT    NOT NULL DEFAULT '',
	disposition_note  TEXT    NOT NULL DEFAULT '',
	disposed_at       INTEGER NOT NULL DEFAULT 0,
	disposed_verdict  TEXT    NOT NULL DEFAULT '',
	disposed_severity TEXT    NOT NULL DEFAULT '',
	held              TEXT    NOT NULL DEFAULT ''
);
-- An analyst's disposition of a whole home tenant (a known partner).
CREATE TABLE IF NOT EXISTS tenants (
	home_tenant TEXT PRIMARY KEY,
	disposition TEXT    NOT NULL,
	note        TEXT    NOT NULL,
	disposed_at INTEGER NOT NULL
);
-- Findings are an outbox: emitted says the JSON line was written to the
-- findings stream, delivered that the webhook accepted it.
CREATE TABLE IF NOT EXISTS findings (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at        INTEGER NOT NULL,
	user      TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	verdict   TEXT    NOT NULL,
	severity  TEXT    NOT NULL,
	body      TEXT    NOT NULL,
	emitted   INTEGER NOT NULL DEFAULT 0,
	delivered INTEGER NOT NULL DEFAULT 0,
	attempts  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS findings_user ON findings (user);
-- One row per collect or watch cycle, for 'outsider status'.
CREATE TABLE IF NOT EXISTS runs (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	kind     TEXT    NOT NULL,
	started  INTEGER NOT NULL,
	finished INTEGER NOT NULL,
	ok       INTEGER NOT NULL,
	summary  TEXT    NOT NULL
);
`

// Open opens (creating if needed) the state database at path.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	// WAL lets 'outsider status' read while a watch writes; busy_timeout
	// waits for the other process instead of failing; BEGIN IMMEDIATE
	// takes the write lock up front so two writers never deadlock on an
	// upgrade. synchronous=NORMAL may lose the last commits on power loss,
	// never on a killed process, and a lost commit only makes the next run
	// redo idempotent work.
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	// One connection: the writes are tiny and serialising them in-process
	// avoids SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &DB{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	// The file may hold analysts' notes: keep it private.
	_ = os.Chmod(path, 0o600)
	return s, nil
}

func (s *DB) migrate(ctx context.Context) error {
	// The version is read before the schema is applied: CREATE TABLE IF
	// NOT EXISTS leaves an older table as it is, so an old layout must be
	// recognised, not assumed.
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	fresh := false
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fresh = true
	case err != nil && strings.Contains(err.Error(), "no such table"):
		fresh = true
	case err != nil:
		return err
	}
	if !fresh {
		have, perr := strconv.Atoi(v)
		if perr != nil || have < 1 {
			return fmt.Errorf("schema version %q is not one outsider writes: not an outsider state database, or a damaged one", v)
		}
		if have > SchemaVersion {
			return fmt.Errorf("schema version %d is newer than this outsider's (%d): written by a newer version of outsider; use that version", have, SchemaVersion)
		}
		for ; have < SchemaVersion; have++ {
			if err := s.upgrade(ctx, have); err != nil {
				return fmt.Errorf("migrating schema version %d to %d: %w", have, have+1, err)
			}
		}
	}
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return err
	}
	if fresh {
		_, err = s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('schema', ?)`, fmt.Sprint(SchemaVersion))
		return err
	}
	return s.addColumns(ctx)
}

// addColumns adds the columns added to schema version 1 since it was
// first written (a database made before them lacks them; CREATE TABLE IF
// NOT EXISTS does not add them). Each is optional to older binaries,
// which name the columns they use, so the version stays 1.
func (s *DB) addColumns(ctx context.Context) error {
	for _, c := range []struct{ table, column, decl string }{
		{"windows", "fetched_to", "INTEGER NOT NULL DEFAULT 0"},
	} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := s.db.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+c.decl); err != nil {
				return fmt.Errorf("adding %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	return nil
}

// upgrade migrates the database from version from to from+1 in one
// transaction: a crash leaves the old version, whole.
func (s *DB) upgrade(ctx context.Context, from int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	switch from {
	case 1:
		// Version 1 had no held column; the tenants table is created by
		// the schema, and so is an identities table that a database
		// holding only collection windows never got (it then has the
		// column from the start).
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'identities'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE identities ADD COLUMN held TEXT NOT NULL DEFAULT ''`); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("no migration from version %d", from)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'schema'`, fmt.Sprint(from+1)); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Path is the database file.
func (s *DB) Path() string { return s.path }

// scanner is a row to scan: *sql.Row and *sql.Rows alike.
type scanner interface{ Scan(...any) error }

// queryAll runs a list query and scans each row with scan: one loop that
// closes the rows on every path and checks rows.Err, for every list the
// state returns.
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}
