package state

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Window is a time window of one source that was handled.
type Window struct {
	Source  string
	Start   time.Time
	End     time.Time
	Items   int64 // content blobs listed, or sign-in pages fetched
	Records int64
	// Final is false for a sign-in window fetched before all its sign-ins
	// could have arrived: it is fetched again and its file rewritten.
	Final  bool
	DoneAt time.Time
	// FetchedTo is the end of what was asked for (<= End): a sign-in
	// hour fetched while it was still going on holds the sign-ins up to
	// the run's start, not up to when the fetch was recorded. Zero in
	// windows recorded before it was kept.
	FetchedTo time.Time
}

// RecordWindow stores a handled window (replacing an earlier record of
// the same window).
func (s *DB) RecordWindow(ctx context.Context, w Window) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO windows (source, start, end, items, records, final, done_at, fetched_to)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, start, end) DO UPDATE SET items = excluded.items, records = excluded.records,
			final = excluded.final, done_at = excluded.done_at, fetched_to = excluded.fetched_to`,
		w.Source, unix(w.Start), unix(w.End), w.Items, w.Records, boolInt(w.Final), unix(w.DoneAt), unix(w.FetchedTo))
	return err
}

// LastWindow returns the fetched window of source with the latest end
// (final or not; planned windows not yet fetched have no DoneAt and are
// left out), and false when there is none.
func (s *DB) LastWindow(ctx context.Context, source string) (Window, bool, error) {
	return s.oneWindow(ctx, `SELECT `+windowCols+` FROM windows
		WHERE source = ? AND done_at > 0 ORDER BY end DESC, start DESC LIMIT 1`, source)
}

// PlanWindows records windows about to be worked on as not final, unless
// they are recorded already: windows handled in parallel are thus all
// known before any is done, and a run killed midway leaves the unfinished
// ones open for the next run instead of a gap behind a later window.
func (s *DB) PlanWindows(ctx context.Context, ws []Window) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, w := range ws {
		if _, err := tx.ExecContext(ctx, `INSERT INTO windows (source, start, end, items, records, final, done_at)
			VALUES (?, ?, ?, 0, 0, 0, ?) ON CONFLICT DO NOTHING`, w.Source, unix(w.Start), unix(w.End), unix(w.DoneAt)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Windows returns the windows of source that end after t, by start.
func (s *DB) Windows(ctx context.Context, source string, after time.Time) ([]Window, error) {
	return queryAll(ctx, s.db, scanWindow, `SELECT `+windowCols+` FROM windows
		WHERE source = ? AND end > ? ORDER BY start, end`, source, unix(after))
}

// FirstOpenWindow returns the earliest window of source that is not final,
// and false when every window is final.
func (s *DB) FirstOpenWindow(ctx context.Context, source string) (Window, bool, error) {
	return s.oneWindow(ctx, `SELECT `+windowCols+` FROM windows
		WHERE source = ? AND final = 0 ORDER BY start LIMIT 1`, source)
}

func (s *DB) oneWindow(ctx context.Context, query string, args ...any) (Window, bool, error) {
	w, err := scanWindow(s.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Window{}, false, nil
	}
	if err != nil {
		return Window{}, false, err
	}
	return w, true, nil
}

// windowCols are the columns scanWindow reads, in its order.
const windowCols = `source, start, end, items, records, final, done_at, fetched_to`

// scanWindow reads one row of windowCols.
func scanWindow(r scanner) (Window, error) {
	var w Window
	var start, end, done, fetched int64
	var final int
	if err := r.Scan(&w.Source, &start, &end, &w.Items, &w.Records, &final, &done, &fetched); err != nil {
		return Window{}, err
	}
	w.Start, w.End, w.DoneAt, w.Final, w.FetchedTo = fromUnix(start), fromUnix(end), fromUnix(done), final != 0, fromUnix(fetched)
	return w, nil
}

// Content statuses.
const (
	ContentDone        = "done"
	ContentExpired     = "expired"
	ContentQuarantined = "quarantined"
)

// Content is a content blob in a final state.
type Content struct {
	ContentType string
	ContentID   string
	Created     time.Time // contentCreated from the listing
	Status      string    // ContentDone, ContentExpired or ContentQuarantined
	Records     int64
	Path        string // archive-relative file, "" when expired
	Detail      string // why it was expired or quarantined
	DoneAt      time.Time
}

// HaveContent reports which of ids (of one content type) are already in a
// final state.
func (s *DB) HaveContent(ctx context.Context, contentType string, ids []string) (map[string]bool, error) {
	have := map[string]bool{}
	stmt, err := s.db.PrepareContext(ctx, `SELECT 1 FROM content WHERE content_type = ? AND content_id = ?`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for _, id := range ids {
		var one int
		err := stmt.QueryRowContext(ctx, contentType, id).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			have[id] = true
		}
	}
	return have, nil
}

// RecordContent marks a content blob final. Recording it again is a no-op
// that keeps the first record: concurrent or repeated runs write the same
// file for the same id.
func (s *DB) RecordContent(ctx context.Context, c Content) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO content (content_type, content_id, created, status, records, path, detail, done_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ContentType, c.ContentID, unix(c.Created), c.Status, c.Records, c.Path, c.Detail, unix(c.DoneAt))
	return err
}

// PruneContent forgets content ids created before t. The Management
// Activity API lists content at most 7 days back, so ids older than that
// can never be listed again and need not be remembered.
func (s *DB) PruneContent(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM content WHERE created < ?`, unix(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PruneWindows forgets windows that ended before t, keeping the latest of
// each source (it is the resume point).
func (s *DB) PruneWindows(ctx context.Context, before time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM windows WHERE end < ? AND final = 1
		AND end < (SELECT MAX(w2.end) FROM windows w2 WHERE w2.source = windows.source)`, unix(before))
	return err
}

// SourceStats summarises one source for 'outsider status'.
type SourceStats struct {
	Source      string
	Last        Window // latest window; zero when none
	Windows     int64
	Blobs       int64 // content blobs archived (UAL sources)
	Records     int64 // records archived
	Expired     int64
	Quarantined int64
}

// Sources returns per-source statistics, sorted by source.
func (s *DB) Sources(ctx context.Context) ([]SourceStats, error) {
	out, err := queryAll(ctx, s.db, func(r scanner) (SourceStats, error) {
		var st SourceStats
		err := r.Scan(&st.Source, &st.Windows)
		return st, err
	}, `SELECT source, COUNT(*) FROM windows GROUP BY source ORDER BY source`)
	if err != nil {
		return nil, err
	}
	for i := range out {
		st := &out[i]
		if w, ok, err := s.LastWindow(ctx, st.Source); err != nil {
			return nil, err
		} else if ok {
			st.Last = w
		}
		if st.Source == SourceSignins {
			err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(records), 0) FROM windows WHERE source = ?`, st.Source).Scan(&st.Records)
			if err != nil {
				return nil, err
			}
			continue
		}
		err = s.db.QueryRowContext(ctx, `SELECT
				COALESCE(SUM(status = 'done'), 0), COALESCE(SUM(records), 0),
				COALESCE(SUM(status = 'expired'), 0), COALESCE(SUM(status = 'quarantined'), 0)
			FROM content WHERE content_type = ?`, st.Source).Scan(&st.Blobs, &st.Records, &st.Expired, &st.Quarantined)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SourceSignins is the window source name of Graph sign-ins.
const SourceSignins = "signins"

// Problem is a content blob that was expired or quarantined.
type Problem = Content

// Problems lists expired and quarantined content, newest first, at most
// limit.
func (s *DB) Problems(ctx context.Context, limit int) ([]Content, error) {
	return queryAll(ctx, s.db, scanContent, `SELECT content_type, content_id, created, status, records, path, detail, done_at
		FROM content WHERE status != 'done' ORDER BY done_at DESC, content_id LIMIT ?`, limit)
}

func scanContent(r scanner) (Content, error) {
	var c Content
	var created, done int64
	if err := r.Scan(&c.ContentType, &c.ContentID, &created, &c.Status, &c.Records, &c.Path, &c.Detail, &done); err != nil {
		return Content{}, err
	}
	c.Created, c.DoneAt = fromUnix(created), fromUnix(done)
	return c, nil
}

// Run is one collect or watch cycle.
type Run struct {
	Kind     string // "collect" or "watch"
	Started  time.Time
	Finished time.Time
	OK       bool
	Summary  string
}

// InterruptedSummary begins the Summary of a run that an interruption
// (Ctrl-C, a stop) ended: status says "interrupted", not "FAILED".
const InterruptedSummary = "interrupted: "

// RecordRun stores a finished cycle.
func (s *DB) RecordRun(ctx context.Context, r Run) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO runs (kind, started, finished, ok, summary) VALUES (?, ?, ?, ?, ?)`,
		r.Kind, unix(r.Started), unix(r.Finished), boolInt(r.OK), r.Summary)
	if err != nil {
		return err
	}
	// Keep the last thousand: status needs only the latest.
	_, err = s.db.ExecContext(ctx, `DELETE FROM runs WHERE id <= (SELECT MAX(id) FROM runs) - 1000`)
	return err
}

// LastRun returns the latest cycle of kind, and false when there is none.
func (s *DB) LastRun(ctx context.Context, kind string) (Run, bool, error) {
	var r Run
	var started, finished int64
	var ok int
	err := s.db.QueryRowContext(ctx, `SELECT kind, started, finished, ok, summary FROM runs WHERE kind = ? ORDER BY id DESC LIMIT 1`, kind).
		Scan(&r.Kind, &started, &finished, &ok, &r.Summary)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	r.Started, r.Finished, r.OK = fromUnix(started), fromUnix(finished), ok != 0
	return r, true, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
