// Package watch runs collection and triage on an interval and turns
// changes in the verdicts into findings: one JSON line per identity that
// is new or whose verdict got worse, written to a stream and optionally
// POSTed to a webhook.
//
// A cycle's findings are those of a triage of the archive's recent days
// in full (the day folders within the lookback, files in the order they
// arrived), and it never costs more than that triage; usually far less,
// exactly: a cycle in which no file changed and no record left the
// lookback reuses the last triage (cache.go), and a cycle after new files
// continues the last triage from the engine snapshot, reading only the
// new files (resume.go). Both are the full triage's result by
// construction; records aging out of the lookback (once a day) make the
// next cycle a full triage.
//
// Identities, what was last reported about them and the analysts'
// dispositions live in the state database (package state). Findings go
// through an outbox there: a finding is stored with the identity's new
// state in one transaction, then written, then marked written; a crash in
// between writes it again on the next start (at least once, never lost).
package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// FindingSchema names the finding line's contract.
const FindingSchema = "outsider/finding/v1"

// Dispositions an analyst can record.
const (
	Benign    = "benign"
	Malicious = "malicious"
)

// TriageDirs are the archive folders watch triages: the audit records and
// the Entra sign-ins (a sign-in in both counts once; the sign-in log adds
// location, conditional access and risk). Quarantined blobs stay out.
// Their files are read in the order they arrived (recentFiles, arrival):
// a blob comes before the sign-ins of its day and the day before, so
// where the two logs disagree on one sign-in (an account with no usable
// name, which each log keys its own way), the UAL's copy is read first
// and counted, and the UAL's keys are the ones docs/rules.md defines.
var TriageDirs = []string{collect.DirUAL, collect.DirSignins}

// Options configure watch.
type Options struct {
	// Archive is the open archive (its state holds the identities).
	Archive *collect.Archive
	// Collect, if set, runs before triage each cycle; its failure is
	// reported and the cycle goes on with what the archive holds.
	Collect func(context.Context) (*collect.Summary, error)
	// Tenants and Domains name our organisation for triage.
	Tenants []string
	Domains []string
	// Lookback is how far back each cycle triages (default 30 days).
	Lookback time.Duration
	// Workers for triage (0: one per CPU).
	Workers int
	// Findings gets one JSON line per finding.
	Findings io.Writer
	// Webhook, if set, gets every finding POSTed.
	Webhook *Webhook
	// MinSeverity is the least severity that raises a finding (default
	// low): an identity below it is recorded in the state, with
	// state.HeldMinSeverity, and raises none until its verdict reaches it.
	MinSeverity string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log gets progress and problems, one line each.
	Log io.Writer
}

// Cycle is what one cycle did.
type Cycle struct {
	Collected  *collect.Summary
	CollectErr error
	// Files and Records triaged, Identities found.
	Files      int
	Records    int64
	Identities int
	// Findings emitted this cycle (including any left unwritten by a
	// crash), and webhook deliveries that succeeded and failed.
	Findings  []state.Finding
	Delivered int
	Failed    int
	// Reused says the archive had not changed since the last triage, so
	// its result was reused (see cache.go).
	Reused bool
	// Resumed says the triage continued the engine snapshot (resume.go),
	// and Read is how many files it read (all of them when not resumed).
	Resumed bool
	Read    int
}

// ReuseNote says what the cycle's triage reused, or "" when it triaged
// the lookback in full.
func (c *Cycle) ReuseNote() string {
	switch {
	case c.Reused:
		return "archive unchanged: last triage reused"
	case c.Resumed:
		return nouns(c.Read, "file", "files") + " read, the rest from the engine snapshot"
	}
	return ""
}

func (o *Options) defaults() {
	if o.Lookback <= 0 {
		o.Lookback = 30 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Findings == nil {
		o.Findings = io.Discard
	}
	if o.MinSeverity == "" {
		o.MinSeverity = triage.SeverityLow
	}
}

// policy is what holds a finding back: the least severity reported and
// the home tenants disposed of (lower-case GUID to disposition).
type policy struct {
	minSeverity int
	tenants     map[string]state.Tenant
}

// TenantCeiling is the least severity a tenant disposition never holds
// back: a partner disposed of as benign must not hide a breach, so a
// verdict of high severity (anomalous, or activity with mailbox access,
// an admin operation or a member's records) is reported whatever its
// tenant's disposition, naming it.
const TenantCeiling = triage.SeverityHigh

func loadPolicy(ctx context.Context, st *state.DB, minSeverity string) (policy, error) {
	p := policy{minSeverity: triage.SeverityRank(minSeverity), tenants: map[string]state.Tenant{}}
	if p.minSeverity < 0 {
		return p, fmt.Errorf("minimum severity %q: want info, low, medium or high", minSeverity)
	}
	ts, err := st.Tenants(ctx)
	if err != nil {
		return p, err
	}
	for _, t := range ts {
		p.tenants[t.HomeTenant] = t
	}
	return p, nil
}

// Once runs one cycle: collect (if configured), triage, findings,
// webhook deliveries.
func Once(ctx context.Context, o Options) (*Cycle, error) {
	o.defaults()
	st := o.Archive.State
	started := time.Now()
	cyc := &Cycle{}
	// Findings a crash left unwritten go first, in order.
	if err := emitPending(ctx, st, o.Findings, cyc); err != nil {
		return cyc, err
	}
	if o.Collect != nil {
		cyc.Collected, cyc.CollectErr = o.Collect(ctx)
		if ctx.Err() != nil {
			return cyc, ctx.Err()
		}
		if cyc.CollectErr != nil {
			fmt.Fprintf(o.Log, "outsider: watch: collect failed, triaging what the archive holds: %s\n", textsafe.Line(cyc.CollectErr.Error()))
		}
	}
	now := o.Now().UTC()
	// The lookback starts at 00:00 UTC of the day --lookback ago (it covers
	// up to a day more than asked): within a day no record leaves it, so a
	// cycle resumes the saved engine session with only the new files
	// (resume.go), or reuses the last triage when nothing changed
	// (cache.go), instead of triaging the whole lookback again because a
	// few records aged out. Aligned to the hour, that full triage came
	// every hour: about 11% of a full cycle's cost per 5-minute cycle,
	// against about 3% aligned to the day (bench/live-cycles.md). The day
	// is the UTC day coverage is judged by (docs/rules.md), so the first
	// day is never half read.
	since := now.Add(-o.Lookback).Truncate(24 * time.Hour)
	paths, err := recentFiles(o.Archive.Dir, since)
	if err != nil {
		return cyc, err
	}
	cyc.Files = len(paths)
	pol, err := loadPolicy(ctx, st, o.MinSeverity)
	if err != nil {
		return cyc, err
	}
	if len(paths) > 0 {
		ids, err := triageLookback(ctx, &o, paths, since, cyc)
		if err != nil {
			return cyc, err
		}
		for i := range ids {
			id := &ids[i]
			if _, err := st.Observe(ctx, id.User, func(prev state.Identity, found bool) (state.Identity, *state.Finding) {
				return decide(prev, found, id, now, pol)
			}); err != nil {
				return cyc, err
			}
		}
	}
	if err := emitPending(ctx, st, o.Findings, cyc); err != nil {
		return cyc, err
	}
	if o.Webhook != nil {
		o.Webhook.deliverPending(ctx, st, o.Log, cyc)
	}
	summary := fmt.Sprintf("%d files, %d records, %d identities, %d findings", cyc.Files, cyc.Records, cyc.Identities, len(cyc.Findings))
	if n := cyc.ReuseNote(); n != "" {
		summary += " (" + n + ")"
	}
	if cyc.CollectErr != nil {
		summary += "; collect failed"
	}
	if err := st.RecordRun(ctx, state.Run{Kind: "watch", Started: started, Finished: time.Now(), OK: cyc.CollectErr == nil, Summary: summary}); err != nil {
		return cyc, err
	}
	return cyc, nil
}

// triageLookback returns the identities a triage of paths from since on
// reports: from the cycle cache when it answers exactly that, else from a
// triage, whose result then replaces the cache. A cache that cannot be
// read or written is reported and the cycle goes on with a triage.
func triageLookback(ctx context.Context, o *Options, paths []string, since time.Time, cyc *Cycle) ([]triage.Identity, error) {
	st := o.Archive.State
	cpath := cachePath(st)
	c, err := loadCache(cpath)
	var known []fileStamp
	if err == nil {
		known = c.Files
	}
	key, files, kerr := cacheKey(o, paths, known)
	if kerr != nil {
		return nil, kerr
	}
	switch {
	case err == nil && c.reusable(key, since.UnixNano()):
		cyc.Reused, cyc.Records, cyc.Identities = true, c.Records, len(c.Identities)
		return c.Identities, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(o.Log, "outsider: watch: cycle cache %s: %v; rebuilding it from the archive\n", cpath, err)
	}
	rep, err := triageSession(ctx, o, files, since, o.Now().UTC(), cyc)
	if err != nil {
		return nil, err
	}
	cyc.Records, cyc.Identities = rep.Input.Records, len(rep.Identities)
	if rep.Input.Skipped > 0 {
		fmt.Fprintf(o.Log, "outsider: watch: %s in the archive skipped\n", nouns(int(rep.Input.Skipped), "unreadable record", "unreadable records"))
	}
	nc := &cycleCache{Key: key, Files: files, Since: since.UnixNano(), Earliest: rep.Earliest, Records: rep.Input.Records, Skipped: rep.Input.Skipped, Identities: rep.Identities}
	if err := saveCache(cpath, nc); err != nil {
		fmt.Fprintf(o.Log, "outsider: watch: cycle cache %s: %v; the next cycle triages the lookback again\n", cpath, err)
	}
	return rep.Identities, nil
}

// Loop runs cycles every interval until ctx ends. A failed cycle is
// reported through after and the loop goes on: a network outage must not
// stop a watch.
func Loop(ctx context.Context, o Options, interval time.Duration, after func(*Cycle, error)) error {
	for {
		cyc, err := Once(ctx, o)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		after(cyc, err)
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// recentFiles lists the archive files of TriageDirs in day folders from
// the day before since on (a blob created on one day holds records of the
// day before) in the order they arrived (arrival, then path). Hidden files
// (temporaries) are left out.
//
// Arrival order puts every new file after the files triaged before, so a
// cycle can continue the last one's triage (resume.go). It is what a
// watch's triage of the lookback means: 'outsider triage' over the same
// files in another order counts the same records and sign-ins, but where
// one sign-in is in both logs, the copy read first is the one cited.
func recentFiles(dir string, since time.Time) ([]string, error) {
	first := since.Add(-24 * time.Hour).Format("2006-01-02")
	var out []string
	at := map[string]int64{}
	for _, sub := range TriageDirs {
		days, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, d := range days {
			if !d.IsDir() || len(d.Name()) != 10 || d.Name() < first {
				continue
			}
			files, err := os.ReadDir(filepath.Join(dir, sub, d.Name()))
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				if !f.Type().IsRegular() || strings.HasPrefix(f.Name(), ".") {
					continue
				}
				fi, err := f.Info()
				if err != nil {
					return nil, err
				}
				p := filepath.Join(dir, sub, d.Name(), f.Name())
				out = append(out, p)
				at[p] = arrival(p, fi.ModTime().UnixNano())
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if ai, aj := at[out[i]], at[out[j]]; ai != aj {
			return ai < aj
		}
		return out[i] < out[j]
	})
	return out, nil
}

// arrival is when a file is taken to have come into the archive (Unix
// ns), which orders the triage:
//
//   - a blob (DIR/ual/DAY/...): its modification time, or the end of the
//     day it was created on (its folder) if that is earlier: a blob
//     fetched late, or an archive filled at once, keeps its day's place;
//   - an hour of sign-ins (DIR/signins/DAY/...): an hour past the end of
//     the day after its day, whenever it was last rewritten (collect
//     rewrites the hours not yet settled every run, mostly unchanged).
//
// So a sign-in in both logs is read from the UAL first when its blob came
// within a day, as 'outsider triage' of ual then signins reads it: where
// the logs name an account with no usable UserId differently, the UAL's
// name (the one docs/rules.md defines) is the one counted.
func arrival(path string, mtime int64) int64 {
	d, err := time.Parse("2006-01-02", filepath.Base(filepath.Dir(path)))
	if err != nil {
		return mtime
	}
	if filepath.Base(filepath.Dir(filepath.Dir(path))) == collect.DirSignins {
		return d.Add(49 * time.Hour).UnixNano()
	}
	return min(mtime, d.Add(24*time.Hour).UnixNano())
}

// rank orders (severity, verdict) pairs: severity first, then the verdict
// (signin-only < shared < activity < anomalous) to break ties.
func rank(verdict, severity string) int {
	v := 0
	switch verdict {
	case triage.VerdictShared:
		v = 1
	case triage.VerdictActivity:
		v = 2
	case triage.VerdictAnomalous:
		v = 3
	}
	return triage.SeverityRank(severity)*10 + v
}

// decide is the finding rule. An identity is reported when it is new, or
// when its verdict is worse than the baseline: the worst verdict reported
// so far, or, while an analyst's disposition stands, the verdict the
// analyst disposed of. A worse verdict reopens a disposed identity.
//
// Such a finding is held back (recorded in next.Held, no finding) when
// its severity is below the policy's minimum, or when the identity's home
// tenant is disposed of as benign and the severity is below
// TenantCeiling. A held identity keeps its reported baseline, so it is
// reported (as new, or worse than what was last reported) as soon as
// nothing holds it back: when its verdict rises, or the tenant
// disposition is withdrawn.
func decide(prev state.Identity, found bool, id *triage.Identity, now time.Time, pol policy) (state.Identity, *state.Finding) {
	next := prev
	next.Held = ""
	next.Class, next.HomeTenant, next.Verdict, next.Severity = id.Class, id.HomeTenant, id.Verdict, id.Severity
	next.LastSeen = now
	if !found {
		next.FirstSeen = now
	}
	cur := rank(id.Verdict, id.Severity)
	var kind string
	var baseV, baseS string
	switch {
	case !found || prev.ReportedVerdict == "":
		kind = "new"
	case prev.Disposition != "":
		baseV, baseS = prev.DisposedVerdict, prev.DisposedSeverity
		if cur > rank(baseV, baseS) {
			kind = "worse"
		}
	default:
		baseV, baseS = prev.ReportedVerdict, prev.ReportedSeverity
		if cur > rank(baseV, baseS) {
			kind = "worse"
		}
	}
	if kind == "" {
		return next, nil
	}
	sev := triage.SeverityRank(id.Severity)
	tenant, disposed := pol.tenants[strings.ToLower(id.HomeTenant)]
	switch {
	case sev < pol.minSeverity:
		next.Held = state.HeldMinSeverity
		return next, nil
	case disposed && tenant.Disposition == Benign && sev < triage.SeverityRank(TenantCeiling):
		next.Held = state.HeldTenant
		return next, nil
	}
	var td *state.Tenant
	if disposed {
		td = &tenant
	}
	body := findingBody(kind, id, now, baseV, baseS, prev, td)
	if prev.ReportedVerdict == "" || cur > rank(prev.ReportedVerdict, prev.ReportedSeverity) {
		next.ReportedVerdict, next.ReportedSeverity = id.Verdict, id.Severity
	}
	next.ReportedAt = now
	// Reopened: the disposition no longer covers what it does now.
	next.Disposition, next.DispositionNote, next.DisposedAt, next.DisposedVerdict, next.DisposedSeverity = "", "", time.Time{}, "", ""
	return next, &state.Finding{At: now, Kind: kind, Verdict: id.Verdict, Severity: id.Severity, Body: body}
}

// Finding is the JSON line of one finding.
type Finding struct {
	Schema     string `json:"schema"`
	Time       string `json:"time"`
	Kind       string `json:"kind"` // "new" or "worse"
	User       string `json:"user"`
	Class      string `json:"class"`
	HomeTenant string `json:"home_tenant"`
	Verdict    string `json:"verdict"`
	Severity   string `json:"severity"`
	// Previous is the baseline it got worse than (absent when new).
	Previous *Verdict `json:"previous,omitempty"`
	// Disposition is the analyst's decision this finding reopens.
	Disposition *Disposition `json:"disposition,omitempty"`
	// TenantDisposition is the disposition of the identity's home tenant,
	// when there is one (the finding's severity is then at least
	// TenantCeiling: a disposed tenant does not hide it).
	TenantDisposition *Disposition `json:"tenant_disposition,omitempty"`
	Reasons           []string     `json:"reasons"`
	// Identity is the identity exactly as 'outsider triage --format json'
	// reports it (schema outsider/triage/v1).
	Identity *triage.Identity `json:"identity"`
}

// Verdict is a verdict and its severity.
type Verdict struct {
	Verdict  string `json:"verdict"`
	Severity string `json:"severity"`
}

// Disposition is an analyst's recorded decision.
type Disposition struct {
	As   string `json:"as"`
	Note string `json:"note"`
	At   string `json:"at"`
}

func findingBody(kind string, id *triage.Identity, now time.Time, baseV, baseS string, prev state.Identity, tenant *state.Tenant) string {
	f := Finding{
		Schema: FindingSchema, Time: now.UTC().Format(time.RFC3339), Kind: kind,
		User: id.User, Class: id.Class, HomeTenant: id.HomeTenant, Verdict: id.Verdict, Severity: id.Severity,
		Reasons: id.Reasons, Identity: id,
	}
	if kind == "worse" {
		f.Previous = &Verdict{Verdict: baseV, Severity: baseS}
	}
	if prev.Disposition != "" {
		f.Disposition = &Disposition{As: prev.Disposition, Note: prev.DispositionNote, At: prev.DisposedAt.UTC().Format(time.RFC3339)}
	}
	if tenant != nil {
		f.TenantDisposition = &Disposition{As: tenant.Disposition, Note: tenant.Note, At: tenant.DisposedAt.UTC().Format(time.RFC3339)}
	}
	b, _ := json.Marshal(f)
	// The same values for a JSON reader; a finding tailed on a terminal
	// cannot carry a bidi override or C1 control (json leaves them raw).
	return textsafe.JSON(string(b))
}

// emitPending writes the findings not yet written, marking each once it
// is.
func emitPending(ctx context.Context, st *state.DB, w io.Writer, cyc *Cycle) error {
	pending, err := st.Unemitted(ctx)
	if err != nil {
		return err
	}
	for _, f := range pending {
		if _, err := io.WriteString(w, f.Body+"\n"); err != nil {
			return fmt.Errorf("writing a finding: %w", err)
		}
		if s, ok := w.(interface{ Sync() error }); ok {
			if err := s.Sync(); err != nil {
				return fmt.Errorf("writing a finding: %w", err)
			}
		}
		if err := st.MarkEmitted(ctx, f.ID); err != nil {
			return err
		}
		cyc.Findings = append(cyc.Findings, f)
	}
	return nil
}

// Dispose records an analyst's decision about user (any case; stored in
// the canonical lower case triage uses).
func Dispose(ctx context.Context, st *state.DB, user, as, note string, now time.Time) (state.Identity, error) {
	if as != Benign && as != Malicious {
		return state.Identity{}, fmt.Errorf("disposition %q: want %s or %s", as, Benign, Malicious)
	}
	return st.Dispose(ctx, strings.ToLower(strings.TrimSpace(user)), as, note, now)
}

// DisposeTenant records an analyst's decision about every identity of a
// home tenant (a GUID, any case). Only benign is accepted: it holds back
// the findings of the tenant's identities below TenantCeiling; there is
// nothing a malicious tenant disposition could add to the findings.
func DisposeTenant(ctx context.Context, st *state.DB, tenant, as, note string, now time.Time) (state.Tenant, error) {
	if as != Benign {
		return state.Tenant{}, fmt.Errorf("tenant disposition %q: only %s is recorded per tenant", as, Benign)
	}
	t := state.Tenant{HomeTenant: strings.ToLower(strings.TrimSpace(tenant)), Disposition: as, Note: note, DisposedAt: now.UTC()}
	return t, st.DisposeTenant(ctx, t)
}

// nouns is n with the noun in the right number: "1 finding", "2 findings".
func nouns(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
