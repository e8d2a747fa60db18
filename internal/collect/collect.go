package collect

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/outsider-sec/outsider/internal/state"
)

// ErrLocked says another run holds the archive.
var ErrLocked = errors.New("another outsider collect or watch is using this archive")

// Archive is an archive folder opened for collection: locked against
// other runs, leftovers of killed runs swept, and its state database open.
type Archive struct {
	Dir    string
	State  *state.DB
	unlock func()
	// Swept counts temporary files of killed runs removed on open.
	Swept int
}

// StatePath is the default state database of an archive.
func StatePath(dir string) string { return filepath.Join(dir, DirState, "state.db") }

// OpenArchive opens dir for collection (creating it), with the state
// database at statePath ("" for the default inside the archive).
func OpenArchive(ctx context.Context, dir, statePath string) (*Archive, error) {
	if err := os.MkdirAll(filepath.Join(dir, DirState), 0o700); err != nil {
		return nil, fmt.Errorf("archive %s: %w", dir, err)
	}
	unlock, err := lockArchive(filepath.Join(dir, DirState, "lock"))
	if errors.Is(err, ErrLocked) {
		// What to do depends on who holds it, which the lock does not
		// say; a watch holds it as long as it runs, and collects itself.
		return nil, fmt.Errorf("archive %s: %w: wait for it to end or stop it first (a running watch holds the archive all along and collects every --interval itself; 'outsider status --archive %s' shows the last runs)", dir, err, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", dir, err)
	}
	a := &Archive{Dir: dir, unlock: unlock}
	if canLock {
		if a.Swept, err = sweepTemp(dir); err != nil {
			unlock()
			return nil, fmt.Errorf("archive %s: removing leftover temporary files: %w", dir, err)
		}
	}
	if statePath == "" {
		statePath = StatePath(dir)
	}
	if a.State, err = state.Open(ctx, statePath); err != nil {
		unlock()
		return nil, err
	}
	return a, nil
}

// Close closes the state and releases the lock.
func (a *Archive) Close() error {
	err := a.State.Close()
	a.unlock()
	return err
}

// Config is one collection's settings.
type Config struct {
	// Cloud holds the endpoints (overrides already applied).
	Cloud       Cloud
	Credentials *Credentials
	// PublisherID is sent as PublisherIdentifier on every Management API
	// request; "" means the tenant id (right for a tenant collecting its
	// own logs, per the troubleshooting guide).
	PublisherID string
	// ContentTypes to collect; nil means DefaultContentTypes.
	ContentTypes []string
	// Signins collects Graph sign-ins too.
	Signins bool
	// Since is where a first run starts (zero: as far back as the API
	// keeps: 7 days). Later runs resume from the state.
	Since time.Time
	// Concurrency bounds parallel blob and sign-in fetches (default 4).
	Concurrency int
	// Overlap re-lists this much before the last window's end (default 1
	// hour): content the API indexes late is still found, and content ids
	// already fetched are skipped, so overlap costs listings, never
	// duplicates.
	Overlap time.Duration
	// SigninSettle is how long after an hour its sign-ins are taken as
	// complete (default 2 hours); until then the hour's file is fetched
	// again and replaced on every run.
	SigninSettle time.Duration

	// HTTPClient sends requests (default: a client trusting the system
	// roots plus RootCAs). Its TLS verification is never switched off here.
	HTTPClient *http.Client
	RootCAs    *x509.CertPool
	// Timeout bounds each request, body included (default 2 minutes).
	Timeout time.Duration
	// Retry is the retry policy (zero: DefaultRetry).
	Retry Retry
	// GiveUpAfter bounds how long one request keeps retrying (the sum of
	// its waits; 0: 10 minutes; negative: only Retry.Attempts bounds it):
	// a source whose request fails that long gives up and the run fails,
	// saying why.
	GiveUpAfter time.Duration
	// Now and Sleep are the clock (defaults: the real ones); tests use a
	// fixed API clock and record sleeps instead of waiting.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// Log gets warnings (expired and quarantined content, gaps) as they
	// happen; nil discards them.
	Log io.Writer

	// lookupHost resolves names for Check (default: the system
	// resolver); tests fail a lookup without asking any DNS server.
	lookupHost func(context.Context, string) ([]string, error)
}

func (cfg *Config) defaults() error {
	if cfg.Credentials == nil {
		return errors.New("no credentials")
	}
	if err := cfg.Credentials.Check(); err != nil {
		return err
	}
	if cfg.PublisherID == "" {
		cfg.PublisherID = cfg.Credentials.TenantID
	}
	if cfg.ContentTypes == nil {
		cfg.ContentTypes = DefaultContentTypes
	}
	for _, ct := range cfg.ContentTypes {
		if err := CheckContentType(ct); err != nil {
			return err
		}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = time.Hour
	}
	if cfg.SigninSettle <= 0 {
		cfg.SigninSettle = 2 * time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Retry.Attempts <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = DefaultGiveUpAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = Sleep
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.lookupHost == nil {
		cfg.lookupHost = net.DefaultResolver.LookupHost
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.RootCAs != nil {
			tr.TLSClientConfig = tr.TLSClientConfig.Clone()
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = new(tls.Config)
			}
			tr.TLSClientConfig.RootCAs = cfg.RootCAs
		}
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	return nil
}

// DefaultGiveUpAfter is Config.GiveUpAfter's default.
const DefaultGiveUpAfter = 10 * time.Minute

// SourceSummary is what one source did in a run.
type SourceSummary struct {
	Source string `json:"source"`
	// From and To bound the windows worked on (RFC 3339; empty if none).
	From string `json:"from"`
	To   string `json:"to"`
	// Windows handled; Listed content blobs (or sign-in pages) seen;
	// AlreadyHad of them were archived by an earlier run.
	Windows    int64 `json:"windows"`
	Listed     int64 `json:"listed"`
	AlreadyHad int64 `json:"already_had"`
	// Archived files written and the records in them.
	Archived    int64  `json:"archived"`
	Records     int64  `json:"records"`
	Expired     int64  `json:"expired"`
	Quarantined int64  `json:"quarantined"`
	Error       string `json:"error,omitempty"`
	// Interrupted is true when the run was stopped (Ctrl-C, a signal)
	// before this source was done: not a failure, the next run resumes.
	Interrupted bool `json:"interrupted,omitempty"`

	mu sync.Mutex
}

func (s *SourceSummary) add(f func(*SourceSummary)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// Summary is what a run did.
type Summary struct {
	Sources []*SourceSummary `json:"sources"`
	// HTTP traffic: requests sent, retries, throttled answers, tokens
	// renewed after a 401.
	Requests       int64    `json:"requests"`
	Retries        int64    `json:"retries"`
	Throttled      int64    `json:"throttled"`
	TokenRefreshes int64    `json:"token_refreshes"`
	Warnings       []string `json:"warnings"`
}

// fail records a source's error; an error of a run that was stopped
// ("context canceled") is the interruption, not a failure of the source.
func (s *SourceSummary) fail(ctx context.Context, err error, cred *Credentials) {
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Stopped by the interruption, not failed; an error the source
		// met before it (a refusal) is still said as such.
		s.Interrupted = true
	default:
		s.Error = cred.Redact(err.Error())
	}
}

// groupErrors names each distinct source error once, after the sources
// that had it: a wrong secret or a network down is one line for all
// sources, not one per source.
func groupErrors(srcs []*SourceSummary) []string {
	var order []string
	by := map[string][]string{}
	for _, s := range srcs {
		if s.Error == "" {
			continue
		}
		if _, ok := by[s.Error]; !ok {
			order = append(order, s.Error)
		}
		by[s.Error] = append(by[s.Error], s.Source)
	}
	out := make([]string, len(order))
	for i, e := range order {
		out[i] = strings.Join(by[e], ", ") + ": " + e
	}
	return out
}

// line says in one line what a run did, for the state's run history.
func (s *Summary) line() string {
	var archived, records int64
	for _, src := range s.Sources {
		archived += src.Archived
		records += src.Records
	}
	var failed []string
	for _, msg := range groupErrors(s.Sources) {
		if len(msg) > 240 {
			msg = msg[:240] + "…"
		}
		failed = append(failed, msg)
	}
	line := fmt.Sprintf("%d files, %d records archived; %d requests, %d throttled", archived, records, s.Requests, s.Throttled)
	if len(failed) > 0 {
		line += "; failed: " + strings.Join(failed, "; ")
	}
	return line
}

// run is one collection in progress.
type run struct {
	cfg    Config
	a      *Archive
	st     *state.DB
	c      *client
	manage *manageClient
	graph  *graphClient
	sem    chan struct{}
	sum    *Summary
	logMu  sync.Mutex
	stats  Stats
}

// Run collects into the archive: every configured source in parallel,
// each resuming from the state. It returns the summary and, if a source
// failed, an error naming each failure (the other sources' work is kept).
//
// Exactly once, whenever the process is killed:
//   - a blob's archive file is named after its content id and written
//     atomically; the id is recorded in the state only after the rename;
//     a listed id found in the state is skipped. Killed before the
//     rename: no file, no record, the next run fetches it. Killed between
//     rename and record: the next run fetches it again and renames the
//     same records over the same file. No gap, no duplicate.
//   - a window is recorded only once every blob listed in it is final
//     (archived, expired or quarantined); the next run lists from the last
//     recorded window (minus Overlap), so nothing listed is skipped.
//   - a sign-in hour is one file holding exactly the sign-ins created in
//     that hour; fetching it again replaces the file whole.
//
// Records Microsoft itself repeats across two blobs stay in both files
// (the API does deliver such duplicates); triage removes them by record
// Id, and reports them as input.duplicates.
func Run(ctx context.Context, a *Archive, cfg Config) (*Summary, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, a: a, st: a.State, sem: make(chan struct{}, cfg.Concurrency), sum: &Summary{Warnings: []string{}}}
	r.c = &client{
		hc: cfg.HTTPClient, retry: cfg.Retry, timeout: cfg.Timeout, sleep: cfg.Sleep,
		redact: cfg.Credentials.Redact, stats: &r.stats, giveUpAfter: cfg.GiveUpAfter,
		problems: newProblemLog(cfg.Log, cfg.Credentials.Redact),
		rnd:      rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6f7574)),
	}
	started := time.Now()
	cred := cfg.Credentials
	r.manage = newManageClient(r.c, newTokenSource(r.c, cred, cfg.Cloud.LoginURL, cfg.Cloud.ManageResource, cfg.Now),
		cfg.Cloud.ManageURL, cred.TenantID, cfg.PublisherID)
	r.graph = &graphClient{c: r.c, auth: newTokenSource(r.c, cred, cfg.Cloud.LoginURL, cfg.Cloud.GraphResource, cfg.Now), base: cfg.Cloud.GraphURL}
	if a.Swept > 0 {
		if a.Swept == 1 {
			r.warnf("removed 1 temporary file left by an interrupted run")
		} else {
			r.warnf("removed %d temporary files left by an interrupted run", a.Swept)
		}
	}

	var wg sync.WaitGroup
	var subErr error
	var subOnce sync.Once
	ensureSubs := func() error {
		subOnce.Do(func() { subErr = r.ensureSubscriptions(ctx) })
		return subErr
	}
	for _, ct := range cfg.ContentTypes {
		ss := &SourceSummary{Source: ct}
		r.sum.Sources = append(r.sum.Sources, ss)
		wg.Go(func() {
			err := ensureSubs()
			if err == nil {
				err = r.ual(ctx, ct, ss)
			}
			ss.fail(ctx, err, cred)
		})
	}
	if cfg.Signins {
		ss := &SourceSummary{Source: state.SourceSignins}
		r.sum.Sources = append(r.sum.Sources, ss)
		wg.Go(func() {
			ss.fail(ctx, r.signins(ctx, ss), cred)
		})
	}
	wg.Wait()
	r.c.problems.Flush()

	r.sum.Requests, r.sum.Retries = r.stats.Requests.Load(), r.stats.Retries.Load()
	r.sum.Throttled, r.sum.TokenRefreshes = r.stats.Throttled.Load(), r.stats.Refreshed.Load()
	if ctx.Err() != nil {
		// The interrupted run is recorded too, so that 'outsider status'
		// shows it and what it archived rather than an earlier run or
		// "never"; the record is written after the interruption, hence
		// WithoutCancel.
		r.st.RecordRun(context.WithoutCancel(ctx), state.Run{Kind: "collect", Started: started, Finished: time.Now(), OK: false, Summary: state.InterruptedSummary + cred.Redact(r.sum.line())})
		return r.sum, ctx.Err()
	}
	var errs []error
	for _, g := range groupErrors(r.sum.Sources) {
		// The step --check would give for the same refusal: an admin who
		// runs collect first must not need --check to learn what to do.
		if next := runNext(g); next != "" {
			g = strings.TrimSuffix(g, ".") + "; next: " + next
		}
		errs = append(errs, errors.New(g))
	}
	now := cfg.Now()
	// Content older than the API's 7 days can never be listed again.
	if _, err := r.st.PruneContent(ctx, now.Add(-Retention-48*time.Hour)); err != nil {
		errs = append(errs, withNext(err))
	}
	if err := r.st.PruneWindows(ctx, now.Add(-30*24*time.Hour)); err != nil {
		errs = append(errs, withNext(err))
	}
	if err := r.st.RecordRun(ctx, state.Run{Kind: "collect", Started: started, Finished: time.Now(), OK: len(errs) == 0, Summary: cred.Redact(r.sum.line())}); err != nil {
		errs = append(errs, withNext(err))
	}
	return r.sum, errors.Join(errs...)
}

// warnf reports a problem that does not stop the run.
// acquire takes one of the run's download slots (released with <-r.sem),
// or reports false when ctx ends first: the content blobs and the sign-in
// hours share the one limit on parallel requests.
func (r *run) acquire(ctx context.Context) bool {
	select {
	case r.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *run) warnf(format string, args ...any) {
	msg := r.cfg.Credentials.Redact(fmt.Sprintf(format, args...))
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.sum.Warnings = append(r.sum.Warnings, msg)
	fmt.Fprintf(r.cfg.Log, "outsider: warning: %s\n", msg)
}

// ensureSubscriptions starts the subscriptions that are missing or not
// enabled. Without one, listing answers AF20022 (no subscription) or
// AF20023 (disabled).
func (r *run) ensureSubscriptions(ctx context.Context) error {
	subs, err := r.manage.subscriptions(ctx)
	if err != nil {
		return err
	}
	enabled := map[string]bool{}
	for _, s := range subs {
		if strings.EqualFold(s.Status, "enabled") {
			enabled[s.ContentType] = true
		}
	}
	for _, ct := range r.cfg.ContentTypes {
		if enabled[ct] {
			continue
		}
		if err := r.manage.start(ctx, ct); err != nil {
			return err
		}
		r.warnf("%s: subscription started; Microsoft says the first content can take up to 12 hours to appear", ct)
	}
	return nil
}

// ual collects one content type: windows of at most 24 hours from where
// the last run stopped (minus the overlap) up to now.
func (r *run) ual(ctx context.Context, ct string, ss *SourceSummary) error {
	now := r.cfg.Now().UTC().Truncate(time.Second)
	earliest := now.Add(-Retention + retentionMargin)
	from := r.cfg.Since
	last, ok, err := r.st.LastWindow(ctx, ct)
	if err != nil {
		return err
	}
	if ok {
		from = last.End.Add(-r.cfg.Overlap)
		if last.End.Before(earliest) {
			r.warnf("%s: content created from %s to %s is older than the API keeps (7 days) and was not collected: a gap",
				ct, last.End.Format(time.RFC3339), earliest.Format(time.RFC3339))
		}
	} else if !from.IsZero() && from.Before(earliest) {
		r.warnf("%s: --since %s is older than the API keeps (7 days); collecting from %s", ct, from.Format(time.RFC3339), earliest.Format(time.RFC3339))
	}
	if from.IsZero() || from.Before(earliest) {
		from = earliest
	}
	from = from.UTC().Truncate(time.Second)
	for start := from; now.Sub(start) >= time.Second; {
		// A long run moves the 7-day edge: never ask for a start the API
		// would refuse (AF20055); what slipped past it is a gap, said so.
		if edge := r.cfg.Now().UTC().Add(-Retention + time.Minute).Truncate(time.Second); start.Before(edge) {
			r.warnf("%s: content created from %s to %s passed the API's 7 days during this run and was not collected: a gap",
				ct, start.Format(time.RFC3339), edge.Format(time.RFC3339))
			start = edge
			if now.Sub(start) < time.Second {
				break
			}
		}
		end := earlier(start.Add(MaxWindow), now)
		if ss.From == "" {
			ss.From = start.Format(time.RFC3339)
		}
		if err := r.window(ctx, ct, start, end, ss); err != nil {
			return err
		}
		ss.To = end.Format(time.RFC3339)
		start = end
	}
	return nil
}

// window lists one window and archives every blob in it not archived yet.
func (r *run) window(ctx context.Context, ct string, start, end time.Time, ss *SourceSummary) error {
	var items []contentItem
	seen := map[string]bool{}
	err := r.manage.list(ctx, ct, start, end, func(page []contentItem) error {
		for _, it := range page {
			if it.ContentID == "" || seen[it.ContentID] {
				continue
			}
			seen[it.ContentID] = true
			if it.ContentType == "" {
				it.ContentType = ct
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ContentID
	}
	have, err := r.st.HaveContent(ctx, ct, ids)
	if err != nil {
		return err
	}
	ss.add(func(s *SourceSummary) { s.Listed += int64(len(items)); s.AlreadyHad += int64(len(have)) })

	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var records int64
dispatch:
	for _, it := range items {
		if have[it.ContentID] {
			continue
		}
		if !r.acquire(ctx) {
			break dispatch
		}
		wg.Go(func() {
			defer func() { <-r.sem }()
			n, err := r.blob(ctx, it, start, ss)
			mu.Lock()
			defer mu.Unlock()
			records += n
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(errs) > 0 {
		// The window stays unrecorded: the next run lists it again and
		// fetches what is still missing.
		if len(errs) > 3 {
			errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
		}
		return errors.Join(errs...)
	}
	ss.add(func(s *SourceSummary) { s.Windows++ })
	return r.st.RecordWindow(ctx, state.Window{Source: ct, Start: start, End: end, Items: int64(len(items)), Records: records, Final: true, DoneAt: r.cfg.Now(), FetchedTo: end})
}

// blob fetches one content blob and brings it to a final state.
func (r *run) blob(ctx context.Context, it contentItem, windowStart time.Time, ss *SourceSummary) (int64, error) {
	created := it.created()
	if created.IsZero() {
		created = windowStart
	}
	rec := state.Content{ContentType: it.ContentType, ContentID: it.ContentID, Created: created}
	body, err := r.manage.fetch(ctx, it)
	if errors.Is(err, errExpired) {
		rec.Status, rec.Detail, rec.DoneAt = state.ContentExpired, err.Error(), r.cfg.Now()
		if err := r.st.RecordContent(ctx, rec); err != nil {
			return 0, err
		}
		ss.add(func(s *SourceSummary) { s.Expired++ })
		r.warnf("%s content %s (created %s) is no longer available (%v): its records are lost",
			it.ContentType, it.ContentID, created.Format(time.RFC3339), err)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	recs, perr := blobRecords(body)
	if perr != nil {
		rel := quarantinePath(it.ContentType, it.ContentID)
		if err := writeAtomic(filepath.Join(r.a.Dir, rel), func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
			return 0, fmt.Errorf("quarantining %s: %w", it.ContentID, err)
		}
		rec.Status, rec.Path, rec.Detail, rec.DoneAt = state.ContentQuarantined, rel, perr.Error(), r.cfg.Now()
		if err := r.st.RecordContent(ctx, rec); err != nil {
			return 0, err
		}
		ss.add(func(s *SourceSummary) { s.Quarantined++ })
		r.warnf("%s content %s is malformed (%v): kept as %s, not archived", it.ContentType, it.ContentID, perr, rel)
		return 0, nil
	}
	if len(recs) > 0 {
		rec.Path = ualPath(it.ContentType, it.ContentID, created)
		if err := writeAtomic(filepath.Join(r.a.Dir, rec.Path), func(w io.Writer) error { return writeLines(w, recs) }); err != nil {
			return 0, fmt.Errorf("archiving %s: %w", it.ContentID, err)
		}
	}
	if testHookAfterRename != nil {
		testHookAfterRename()
	}
	// Only now, with the file in place, is the id recorded.
	rec.Status, rec.Records, rec.DoneAt = state.ContentDone, int64(len(recs)), r.cfg.Now()
	if err := r.st.RecordContent(ctx, rec); err != nil {
		return 0, err
	}
	ss.add(func(s *SourceSummary) { s.Archived++; s.Records += int64(len(recs)) })
	return int64(len(recs)), nil
}

// signinRetention is how far back Graph keeps sign-ins (30 days with Entra
// ID P1/P2).
const signinRetention = 30 * 24 * time.Hour

// signins collects Graph sign-ins hour by hour: every hour from the
// earliest one not final up to now, in parallel.
func (r *run) signins(ctx context.Context, ss *SourceSummary) error {
	now := r.cfg.Now().UTC().Truncate(time.Second)
	const src = state.SourceSignins
	var from time.Time
	if w, ok, err := r.st.FirstOpenWindow(ctx, src); err != nil {
		return err
	} else if ok {
		from = w.Start
	} else if w, ok, err := r.st.LastWindow(ctx, src); err != nil {
		return err
	} else if ok {
		from = w.End
	} else {
		from = r.cfg.Since
		if from.IsZero() {
			from = now.Add(-Retention)
		}
	}
	if earliest := now.Add(-signinRetention + time.Hour); from.Before(earliest) {
		from = earliest
	}
	from = from.Truncate(time.Hour)
	known, err := r.st.Windows(ctx, src, from)
	if err != nil {
		return err
	}
	final := map[int64]bool{}
	for _, w := range known {
		if w.Final {
			final[w.Start.Unix()] = true
		}
	}
	var hours []time.Time
	var plan []state.Window
	for h := from; h.Before(now); h = h.Add(time.Hour) {
		if !final[h.Unix()] {
			hours = append(hours, h)
			plan = append(plan, state.Window{Source: src, Start: h, End: h.Add(time.Hour)})
		}
	}
	if len(hours) == 0 {
		return nil
	}
	if err := r.st.PlanWindows(ctx, plan); err != nil {
		return err
	}
	ss.From, ss.To = hours[0].Format(time.RFC3339), earlier(hours[len(hours)-1].Add(time.Hour), now).Format(time.RFC3339)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
dispatch:
	for _, h := range hours {
		// After a failure (a tenant without Entra ID P1/P2 answers 403 to
		// every hour) no more hours are started; the open ones are
		// fetched by the next run.
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if failed {
			break
		}
		if !r.acquire(ctx) {
			break dispatch
		}
		wg.Go(func() {
			defer func() { <-r.sem }()
			if err := r.signinHour(ctx, h, now, ss); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Hours started together fail together, mostly for one cause: each
	// cause once (the same words as another source's, so that Run can
	// name a cause shared by all sources once).
	// The hours' messages differ only by their window ("listing sign-ins
	// A..B: cause"): one line per cause, naming the first window and how
	// many more had it, not the same refusal once per hour.
	type cause struct {
		first string
		more  int
	}
	byCause := map[string]*cause{}
	var causes []string
	for _, e := range errs {
		m := e.Error()
		key := m
		if strings.HasPrefix(m, "listing sign-ins ") {
			if _, c, ok := strings.Cut(m, ": "); ok {
				key = c
			}
		}
		if c, ok := byCause[key]; ok {
			if key != m {
				c.more++
			}
			if m < c.first {
				c.first = m
			}
			continue
		}
		byCause[key] = &cause{first: m}
		causes = append(causes, key)
	}
	var msgs []string
	for _, k := range causes {
		c := byCause[k]
		m := c.first
		if c.more > 0 {
			if w, rest, ok := strings.Cut(m, ": "); ok {
				m = fmt.Sprintf("%s and %s: %s", w, nouns(c.more, "more hour", "more hours"), rest)
			}
		}
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	if len(msgs) > 3 {
		msgs = append(msgs[:3], fmt.Sprintf("and %d more causes", len(msgs)-3))
	}
	out := make([]error, len(msgs))
	for i, m := range msgs {
		out[i] = errors.New(m)
	}
	return errors.Join(out...)
}

// testHookAfterRename, set by tests, runs between a blob file's rename
// and the record of its id: the moment a kill is most delicate.
var testHookAfterRename func()

// errNothing aborts writeAtomic when there is nothing to write.
var errNothing = errors.New("nothing to write")

// signinHour fetches the sign-ins created in [h, min(h+1h, now)) into the
// hour's file, replacing an earlier partial one.
func (r *run) signinHour(ctx context.Context, h, now time.Time, ss *SourceSummary) error {
	end := earlier(h.Add(time.Hour), now)
	var n, pages int64
	rel := signinPath(h)
	err := writeAtomic(filepath.Join(r.a.Dir, rel), func(w io.Writer) error {
		err := r.graph.signIns(ctx, h, end, func(vals []json.RawMessage) error {
			pages++
			for _, v := range vals {
				var b bytes.Buffer
				if err := json.Compact(&b, v); err != nil {
					return fmt.Errorf("sign-ins %s: unreadable sign-in: %w", h.Format(time.RFC3339), err)
				}
				b.WriteByte('\n')
				if _, err := w.Write(b.Bytes()); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err == nil && n == 0 {
			return errNothing
		}
		return err
	})
	if err != nil && !errors.Is(err, errNothing) {
		return err
	}
	final := end.Equal(h.Add(time.Hour)) && !now.Before(h.Add(time.Hour+r.cfg.SigninSettle))
	// FetchedTo is end, what Graph was asked for (the run's start for the
	// current hour), not the time of this record: status shows the lag
	// from there.
	if err := r.st.RecordWindow(ctx, state.Window{Source: state.SourceSignins, Start: h, End: h.Add(time.Hour), Items: pages, Records: n, Final: final, DoneAt: r.cfg.Now(), FetchedTo: end}); err != nil {
		return err
	}
	ss.add(func(s *SourceSummary) {
		s.Windows++
		s.Listed += pages
		s.Records += n
		if n > 0 {
			s.Archived++
		}
	})
	return nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// withNext adds to a state error the step runNext gives for it (a full
// disk), keeping the error itself for errors.Is.
func withNext(err error) error {
	if next := runNext(err.Error()); next != "" {
		return fmt.Errorf("%w; next: %s", err, next)
	}
	return err
}
