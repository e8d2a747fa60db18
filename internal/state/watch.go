package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Identity is an outside identity as watch last saw it, with what was
// last reported about it and the analyst's disposition.
type Identity struct {
	User       string
	Class      string
	HomeTenant string
	Verdict    string
	Severity   string
	FirstSeen  time.Time
	LastSeen   time.Time

	// ReportedVerdict and ReportedSeverity are the worst verdict a finding
	// has reported; "" when none was.
	ReportedVerdict  string
	ReportedSeverity string
	ReportedAt       time.Time

	// Disposition is "", "benign" or "malicious"; DisposedVerdict and
	// DisposedSeverity are the verdict the analyst looked at.
	Disposition      string
	DispositionNote  string
	DisposedAt       time.Time
	DisposedVerdict  string
	DisposedSeverity string

	// Held is why the finding the identity's verdict calls for was held
	// back (HeldMinSeverity, HeldTenant), "" when none was.
	Held string
}

// Reasons a finding is held back (Identity.Held).
const (
	// HeldMinSeverity: the verdict's severity is below watch's
	// --min-severity.
	HeldMinSeverity = "min-severity"
	// HeldTenant: the identity's home tenant is disposed of as benign.
	HeldTenant = "tenant"
)

// Tenant is an analyst's disposition of a whole home tenant.
type Tenant struct {
	HomeTenant  string
	Disposition string
	Note        string
	DisposedAt  time.Time
}

// Finding is one emitted (or to be emitted) finding.
type Finding struct {
	ID        int64
	At        time.Time
	User      string
	Kind      string // "new" or "worse"
	Verdict   string
	Severity  string
	Body      string // the JSON line, without newline
	Emitted   bool
	Delivered bool
	Attempts  int
}

// ErrUnknownIdentity says dispose named a user the state has never seen.
var ErrUnknownIdentity = errors.New("no such identity in the state")

const identityCols = `user, class, home_tenant, verdict, severity, first_seen, last_seen,
	reported_verdict, reported_severity, reported_at,
	disposition, disposition_note, disposed_at, disposed_verdict, disposed_severity, held`

func scanIdentity(r scanner) (Identity, error) {
	var id Identity
	var first, last, rep, disp int64
	err := r.Scan(&id.User, &id.Class, &id.HomeTenant, &id.Verdict, &id.Severity, &first, &last,
		&id.ReportedVerdict, &id.ReportedSeverity, &rep,
		&id.Disposition, &id.DispositionNote, &disp, &id.DisposedVerdict, &id.DisposedSeverity, &id.Held)
	id.FirstSeen, id.LastSeen, id.ReportedAt, id.DisposedAt = fromUnix(first), fromUnix(last), fromUnix(rep), fromUnix(disp)
	return id, err
}

// Observe reads the stored identity of user (found is false for a new
// one), lets decide compute the row to store and an optional finding, and
// stores both in one transaction: an identity is never marked reported
// without its finding in the outbox, nor the reverse.
func (s *DB) Observe(ctx context.Context, user string, decide func(prev Identity, found bool) (Identity, *Finding)) (*Finding, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	prev, err := scanIdentity(tx.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities WHERE user = ?`, user))
	found := true
	if errors.Is(err, sql.ErrNoRows) {
		found, prev = false, Identity{}
	} else if err != nil {
		return nil, err
	}
	next, f := decide(prev, found)
	next.User = user
	_, err = tx.ExecContext(ctx, `INSERT INTO identities (`+identityCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user) DO UPDATE SET class = excluded.class, home_tenant = excluded.home_tenant,
			verdict = excluded.verdict, severity = excluded.severity, first_seen = excluded.first_seen,
			last_seen = excluded.last_seen, reported_verdict = excluded.reported_verdict,
			reported_severity = excluded.reported_severity, reported_at = excluded.reported_at,
			disposition = excluded.disposition, disposition_note = excluded.disposition_note,
			disposed_at = excluded.disposed_at, disposed_verdict = excluded.disposed_verdict,
			disposed_severity = excluded.disposed_severity, held = excluded.held`,
		next.User, next.Class, next.HomeTenant, next.Verdict, next.Severity, unix(next.FirstSeen), unix(next.LastSeen),
		next.ReportedVerdict, next.ReportedSeverity, unix(next.ReportedAt),
		next.Disposition, next.DispositionNote, unix(next.DisposedAt), next.DisposedVerdict, next.DisposedSeverity, next.Held)
	if err != nil {
		return nil, err
	}
	if f != nil {
		f.User = user
		res, err := tx.ExecContext(ctx, `INSERT INTO findings (at, user, kind, verdict, severity, body) VALUES (?, ?, ?, ?, ?, ?)`,
			unix(f.At), f.User, f.Kind, f.Verdict, f.Severity, f.Body)
		if err != nil {
			return nil, err
		}
		if f.ID, err = res.LastInsertId(); err != nil {
			return nil, err
		}
	}
	return f, tx.Commit()
}

// GetIdentity returns the stored identity of user.
func (s *DB) GetIdentity(ctx context.Context, user string) (Identity, bool, error) {
	id, err := scanIdentity(s.db.QueryRowContext(ctx, `SELECT `+identityCols+` FROM identities WHERE user = ?`, user))
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, false, nil
	}
	return id, err == nil, err
}

// Identities returns every stored identity, sorted by user.
func (s *DB) Identities(ctx context.Context) ([]Identity, error) {
	return queryAll(ctx, s.db, scanIdentity, `SELECT `+identityCols+` FROM identities ORDER BY user`)
}

// Dispose records an analyst's decision about user, against the verdict
// it has now: the identity stays quiet until its verdict gets worse.
func (s *DB) Dispose(ctx context.Context, user, disposition, note string, at time.Time) (Identity, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE identities SET disposition = ?, disposition_note = ?, disposed_at = ?,
		disposed_verdict = verdict, disposed_severity = severity WHERE user = ?`, disposition, note, unix(at), user)
	if err != nil {
		return Identity{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return Identity{}, err
	} else if n == 0 {
		return Identity{}, fmt.Errorf("%q: %w", user, ErrUnknownIdentity)
	}
	id, _, err := s.GetIdentity(ctx, user)
	return id, err
}

func (s *DB) findings(ctx context.Context, where string, args ...any) ([]Finding, error) {
	return queryAll(ctx, s.db, scanFinding, `SELECT id, at, user, kind, verdict, severity, body, emitted, delivered, attempts
		FROM findings WHERE `+where+` ORDER BY id`, args...)
}

func scanFinding(r scanner) (Finding, error) {
	var f Finding
	var at int64
	var emitted, delivered int
	if err := r.Scan(&f.ID, &at, &f.User, &f.Kind, &f.Verdict, &f.Severity, &f.Body, &emitted, &delivered, &f.Attempts); err != nil {
		return Finding{}, err
	}
	f.At, f.Emitted, f.Delivered = fromUnix(at), emitted != 0, delivered != 0
	return f, nil
}

// Unemitted returns findings not yet written to the findings stream, in
// order: after a crash they are written first.
func (s *DB) Unemitted(ctx context.Context) ([]Finding, error) {
	return s.findings(ctx, `emitted = 0`)
}

// MarkEmitted records that a finding's line was written.
func (s *DB) MarkEmitted(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE findings SET emitted = 1 WHERE id = ?`, id)
	return err
}

// Undelivered returns findings the webhook has not accepted after fewer
// than maxAttempts tries.
func (s *DB) Undelivered(ctx context.Context, maxAttempts int) ([]Finding, error) {
	return s.findings(ctx, `delivered = 0 AND attempts < ?`, maxAttempts)
}

// MarkDelivery records a webhook attempt and whether it succeeded.
func (s *DB) MarkDelivery(ctx context.Context, id int64, ok bool) error {
	_, err := s.db.ExecContext(ctx, `UPDATE findings SET attempts = attempts + 1, delivered = ? WHERE id = ?`, boolInt(ok), id)
	return err
}

// Findings returns every finding of user ("" for all), oldest first.
func (s *DB) Findings(ctx context.Context, user string) ([]Finding, error) {
	if user == "" {
		return s.findings(ctx, `1`)
	}
	return s.findings(ctx, `user = ?`, user)
}

// DisposeTenant records an analyst's disposition of a home tenant
// (replacing any earlier one).
func (s *DB) DisposeTenant(ctx context.Context, t Tenant) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tenants (home_tenant, disposition, note, disposed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (home_tenant) DO UPDATE SET disposition = excluded.disposition, note = excluded.note, disposed_at = excluded.disposed_at`,
		t.HomeTenant, t.Disposition, t.Note, unix(t.DisposedAt))
	return err
}

// WithdrawTenant removes the disposition of a home tenant; found is false
// when there was none.
func (s *DB) WithdrawTenant(ctx context.Context, homeTenant string) (found bool, err error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tenants WHERE home_tenant = ?`, homeTenant)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Tenants returns the home tenants' dispositions, sorted by tenant.
func (s *DB) Tenants(ctx context.Context) ([]Tenant, error) {
	return queryAll(ctx, s.db, func(r scanner) (Tenant, error) {
		var t Tenant
		var at int64
		if err := r.Scan(&t.HomeTenant, &t.Disposition, &t.Note, &at); err != nil {
			return Tenant{}, err
		}
		t.DisposedAt = fromUnix(at)
		return t, nil
	}, `SELECT home_tenant, disposition, note, disposed_at FROM tenants ORDER BY home_tenant`)
}
