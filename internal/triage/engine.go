// Package triage is outsider's engine: it classifies every sign-in actor,
// correlates each outside identity with everything else in the logs (by
// account, by IP, by sharing) and judges it by the due diligence Microsoft
// prescribes (docs/rules.md). Run streams the inputs through parallel
// workers and returns a Report; it never holds the records themselves.
package triage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/enrich"
	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/tenant"
)

// DefaultMaxEvidence caps evidence lists when Options.MaxEvidence is 0.
const DefaultMaxEvidence = 20

// Options control Run.
type Options struct {
	// Tenants and Domains name our organisation; empty means infer.
	Tenants []string
	Domains []string
	// Since and Until keep records with Since <= CreationTime < Until
	// (zero: unbounded).
	Since, Until time.Time
	// MaxEvidence caps evidence and sharing lists per identity.
	MaxEvidence int
	// Strict makes the first unreadable record or file fatal.
	Strict bool
	// Workers decode in parallel; 0 means one per CPU.
	Workers int
	// Source is passed to source.Read.
	Source source.Options
	// Directory, if set, is our directory snapshot (--directory): it says
	// whether each outside identity exists in the tenant and decides its
	// class.
	Directory *directory.Directory
	// DirectoryPath names the snapshot in the report.
	DirectoryPath string
	// PartnerNames name home tenants (--partner-names: tenant id to
	// name), over what the identities' domains suggest.
	PartnerNames map[string]string
	// GeoIP, if set, enriches every IP in the report (--geoip) and raises
	// the severity of identities signing in through anonymisers.
	GeoIP *enrich.DB
	// Progress, if set, is advanced as inputs are read and records
	// decoded, for a progress line.
	Progress *progress.Counters
	// OnProblem, if set, is called for every problem as it is found
	// (from several goroutines, serialised by the engine).
	OnProblem func(source.Problem)
	// TempDir is where the run spills what would otherwise grow with the
	// input (record Ids past 16 MB, sharing records past 1,024 targets,
	// the gzip and zip checkpoints' windows past 16 MB);
	// empty means os.TempDir() ($TMPDIR). Files there are unlinked at once
	// where the platform allows.
	TempDir string
	// spillSlots and spillShares override the spill thresholds (tests).
	spillSlots, spillShares int
	// stopAfter ends each record's way through the engine early
	// (BenchmarkRunStages): what the stages after it cost is then the
	// difference. The report of such a run is meaningless.
	stopAfter stage
	// SkipAccessed leaves out the second look at the inputs for what
	// each identity touched (the report says "not computed"): for
	// callers that use verdicts only, as watch does, whose cycles would
	// otherwise read old archive files again for records they never show.
	SkipAccessed bool
	// AtPeak, if set, is called once every input has been read, before
	// the aggregates' shards are merged and the deduplication set freed:
	// when the run holds the most memory (--memprofile profiles it there).
	AtPeak func()
}

// stage is a step of a record's way through the engine.
type stage uint8

const (
	// stageAll runs every stage: the default.
	stageAll stage = iota
	// stageDecode stops after decoding (reading, framing, decoding).
	stageDecode
	// stageDedup stops after the ordered step (deduplication).
	stageDedup
)

// ErrStrict wraps the problem that stopped a --strict run.
var ErrStrict = errors.New("stopped at the first bad record (--strict)")

// Run triages the inputs named by paths (already expanded by
// source.Expand).
func Run(ctx context.Context, paths []string, opts Options) (*Report, error) {
	s := newSession(opts, 0)
	defer s.Close()
	if err := s.add(ctx, paths, true); err != nil {
		return nil, err
	}
	return s.Report(ctx)
}

// decoded is what decode leaves besides the sinks' contents.
type decoded struct {
	inputs  []source.Input
	probs   *problems
	aliases [][2]alias
	// earliest is the time (Unix ns) of the earliest record that passed
	// the filters (counted, duplicate or sign-in copy); 0 when none did.
	earliest int64
}

// sinkError carries a sink's error through the run's cancellation.
type sinkError struct{ err error }

func (e sinkError) Error() string { return e.err.Error() }
func (e sinkError) Unwrap() error { return e.err }

// decode reads the inputs, decodes them on parallel workers, filters and
// deduplicates them in input order, and hands every batch to the sink
// newSink made for its worker (called once per worker, before any batch).
func decode(ctx context.Context, paths []string, opts Options, newSink func(worker int) batchSink) (*decoded, error) {
	c := newCarried(opts)
	// Nothing reads these inputs again (Stream has no second look), so
	// they are not indexed: no checkpoints are noted, no windows kept, and
	// the store never makes its temporary file.
	opts.Source.NoIndex = true
	return decodeMore(ctx, paths, opts, c, true, newSink)
}

// carried is what deduplication and the input's accounting keep from one
// decodeMore to the next: a Session reads its files in several calls, and
// a record's fate must be the one it would have in one run over them all.
type carried struct {
	dups     *dedup
	earliest *atomicMin
	probs    *problems
	// windows keeps the gzip and zip checkpoints of every read, within
	// one budget, until the second look (source.WindowStore).
	windows *source.WindowStore
}

func newCarried(opts Options) *carried {
	dups := newDedup()
	dups.ids.dir = opts.TempDir
	if opts.spillSlots != 0 {
		dups.ids.capSlots(opts.spillSlots)
	} else {
		dups.ids.capSlots(defaultSpillSlots)
	}
	return &carried{dups: dups, earliest: newAtomicMin(), probs: &problems{byFile: map[string][]source.Problem{}},
		windows: source.NewWindowStore(opts.TempDir)}
}

// decodeMore is decode continuing from c; last frees the deduplication
// set once every record has been checked.
func decodeMore(ctx context.Context, paths []string, opts Options, c *carried, last bool, newSink func(worker int) batchSink) (*decoded, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	probs := c.probs
	probs.on = opts.OnProblem
	report := func(pr source.Problem) {
		probs.add(pr)
		if opts.Strict && !pr.Warning {
			cancel(errors.Join(ErrStrict, pr))
		}
	}

	earliest, dups := c.earliest, c.dups
	batches := make(chan seqBatch, 2*workers)
	sinks := make([]batchSink, workers)
	for w := range workers {
		sinks[w] = newSink(w)
	}
	// Deduplication runs in input order, but no worker waits for its turn:
	// a worker hands its decoded batch to the sequencer and decodes its
	// next batch into its second work set meanwhile; whichever worker
	// completes the batch the sequence waits for runs the ordered step for
	// every batch then ready (see sequencer). Each worker aggregates its
	// own batches once their step is done.
	sq := newSequencer(func(w *work) {
		w.fate = w.fate[:0]
		if opts.stopAfter == stageDecode {
			return
		}
		dups.ids.touch(w.keys)
		for i := range w.keys {
			w.fate = append(w.fate, dups.check(&w.keys[i], &w.evs[i]))
		}
	})
	keep := newRecordFilter(opts)
	var wg sync.WaitGroup
	for w := range workers {
		k := &worker{ctx: ctx, cancel: cancel, opts: &opts, keep: keep, dups: dups,
			earliest: earliest, report: report, sq: sq, sink: sinks[w]}
		wg.Go(func() { k.run(batches) })
	}

	var seq uint64
	emit := func(b *source.Batch) error {
		select {
		case batches <- seqBatch{b, seq}:
			seq++
			return nil
		case <-ctx.Done():
			b.Release()
			return context.Cause(ctx)
		}
	}
	srcOpts := opts.Source
	if srcOpts.Inflaters == 0 && opts.Workers > 0 {
		// --workers bounds the inflaters too: a user who asks for fewer
		// cores gets fewer busy ones.
		srcOpts.Inflaters = min(opts.Workers, 8)
	}
	if opts.Progress != nil {
		srcOpts.Progress = &opts.Progress.Bytes
	}
	srcOpts.Windows = c.windows
	if opts.SkipAccessed {
		// The second look, the only reader of the inputs' indexes, is
		// left out (watch): their checkpoints' windows would be kept,
		// and spilled past 16 MB, for nothing.
		srcOpts.NoIndex = true
	}
	inputs, readErr := source.Read(ctx, paths, srcOpts, emit, report)
	close(batches)
	wg.Wait()
	if opts.AtPeak != nil {
		opts.AtPeak()
	}
	if err := dups.ids.ioErr; err != nil {
		cancel(err)
	}
	if err := dups.ids.spillErr; err != nil {
		report(spillWarning(opts, "record Ids", err))
	}
	if last {
		dups.ids.release() // every record has been checked
	}
	if cause := context.Cause(ctx); cause != nil {
		var se sinkError
		if errors.As(cause, &se) {
			return nil, se.err
		}
		if errors.Is(cause, ErrStrict) || cause == dups.ids.ioErr {
			return nil, cause
		}
	}
	if readErr != nil {
		return nil, readErr
	}
	return &decoded{inputs: inputs, probs: probs, aliases: dups.aliases, earliest: earliest.get()}, nil
}

// finish builds the report from the merged aggregates.
func finish(a *agg, inputs []source.Input, probs *problems, opts Options, k int) *Report {
	r := &Report{Schema: Schema, Filtered: a.filtered}
	t, idsInferred := tenantOf(a, opts)
	r.Tenant = TenantInfo{IDs: nonNil(t.IDs), Domains: nonNil(t.Domains), Inferred: idsInferred}
	r.TenantSource = t.Describe()

	// Inputs.
	r.Input.Files = []FileInfo{}
	for i, in := range inputs {
		fi := FileInfo{Path: in.Path, Format: in.FormatName(), Skipped: in.Skipped}
		if i < len(a.fileRecords) {
			fi.Records = a.fileRecords[i]
			fi.Skipped += a.fileSkipped[i]
		}
		if probs.failed[in.Path] && fi.Records == 0 && in.Framed == 0 {
			// Nothing came of it: a skipped file, not a skipped record.
			fi.Unreadable = true
			fi.Skipped = max(0, fi.Skipped-probs.fileLevel[in.Path])
			r.Input.SkippedFiles++
		}
		r.Input.Files = append(r.Input.Files, fi)
		r.Input.Skipped += fi.Skipped
	}
	r.Input.Records = a.kept
	r.Input.Duplicates = a.dups
	r.Input.From = audit.FormatTime(a.minT)
	r.Input.To = audit.FormatTime(a.maxT)
	r.Input.Coverage = a.cover.report()

	// Problems, deterministic: by input order, then line.
	order := map[string]int{}
	for i, in := range inputs {
		if _, ok := order[in.Path]; !ok {
			order[in.Path] = i
		}
	}
	paths := keysOf(probs.byFile)
	slices.SortFunc(paths, func(x, y string) int {
		ox, okx := order[x]
		oy, oky := order[y]
		switch {
		case okx && oky && ox != oy:
			return ox - oy
		case okx != oky:
			if okx {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	r.ProblemsOmitted = probs.omitted
	for _, p := range paths {
		list := probs.byFile[p]
		sortProblems(list)
		if len(list) > MaxProblemsPerFile {
			r.ProblemsOmitted += int64(len(list) - MaxProblemsPerFile)
			list = list[:MaxProblemsPerFile]
		}
		r.Problems = append(r.Problems, list...)
	}

	cite := func(ref *ref) string {
		if ref == nil {
			return "no record kept"
		}
		file, line := ref.file, ref.line
		where := "?"
		if int(file) < len(inputs) {
			where = inputs[file].Path + ":" + strconv.FormatInt(line, 10)
		}
		if ref.id == "" {
			return where
		}
		return "record " + ref.id + " at " + where
	}
	j := &judge{a: a, t: t, k: k, dir: opts.Directory, noLooks: opts.SkipAccessed, cite: func(r *ref) string { return cite(r) }}
	j.classify()
	j.citeSource = func(r *ref) string {
		s := cite(r)
		if i := strings.Index(s, " at "); i >= 0 {
			return s[i+4:]
		}
		return s
	}
	r.Identities = j.identities()
	r.looks = j.looks
	if opts.Directory != nil {
		r.Input.Directory = &DirectoryInfo{Path: opts.DirectoryPath, Accounts: opts.Directory.Len()}
	}
	if opts.GeoIP != nil {
		r.Input.Enrichment = opts.GeoIP.Describe()
		r.IPInfo = enrichIPs(r.Identities, opts.GeoIP)
		raiseForAnonymisers(r.Identities, r.IPInfo)
	}
	// Only the outside identities' sign-ins name partners: a store outside
	// the engine keeps the full record of those alone.
	outside := func(u *userStats) bool { return j.classes[u.user].class != ClassMember }
	company := func(user string) string { return j.classes[user].company }
	r.Partners = partners(r.Identities, partnerNaming{file: opts.PartnerNames, signin: signinTenantNames(a.users, outside),
		directory: directoryTenantNames(r.Identities, company)})
	r.Summary = Summary{Identities: len(r.Identities), ByVerdict: map[string]int{}}
	for _, v := range Verdicts {
		r.Summary.ByVerdict[v] = 0
	}
	for _, id := range r.Identities {
		r.Summary.ByVerdict[id.Verdict]++
	}
	r.Summary.NothingJudged = nothingJudged(&r.Input, a.filtered)
	return r
}

// nothingJudged says why the input supports no answer at all, or "" when
// it holds sign-ins to judge. Such a report is not an all-clear: it names
// what was missing and what to export instead.
func nothingJudged(in *InputInfo, filtered int64) string {
	const export = "export the Unified Audit Log for the days to investigate with every record type (Purview Audit search with no record type or activity filter, or Search-UnifiedAuditLog without -RecordType), together with the Entra ID sign-in log if you have it"
	var signins int64
	for _, c := range in.Coverage {
		if c.Workload == audit.WorkloadSignIns.String() {
			signins = c.Records
		}
	}
	switch {
	case in.Records == 0 && filtered > 0:
		return fmt.Sprintf("nothing was judged: all %d records read lie outside --since/--until/--tenant; widen them or leave them out", filtered)
	case in.Records == 0 && in.SkippedFiles > 0 && in.SkippedFiles == int64(len(in.Files)):
		return fmt.Sprintf("nothing was judged: no input could be read (%d skipped; see the problems); %s", in.SkippedFiles, export)
	case in.Records == 0 && in.Skipped > 0:
		return fmt.Sprintf("nothing was judged: no record could be read (%d skipped; see the problems); %s", in.Skipped, export)
	case in.Records == 0:
		return "nothing was judged: the input holds no record; " + export
	case signins == 0:
		what := fmt.Sprintf("none of the %d records read (%s to %s) is", in.Records, in.From, in.To)
		if in.Records == 1 {
			what = fmt.Sprintf("the only record read (%s) is not", in.From)
		}
		return "nothing was judged: " + what + " a sign-in (UAL UserLoggedIn or UserLoginFailed, RecordType 15, or an Entra ID sign-in), and only sign-ins name outside accounts; export the sign-ins for the same days too: the Unified Audit Log with every record type, or the Entra ID sign-in log beside this export"
	}
	return ""
}

// tenantOf is our tenant: ids given, or every OrganizationId seen that
// is a tenant id (a placeholder such as "<TENANT ID>" or the nil GUID in
// a sanitised log makes nothing ours); domains given, or inferred from
// member sign-ins. idsInferred says which. The resource tenant of an
// Entra sign-in by an account of another home tenant counts only when
// no audit record and no sign-in within one tenant names any: a tenant's
// sign-in log also holds its users' sign-ins to partners' tenants, and
// taking those tenants as ours made a partner's accounts members.
func tenantOf(a *agg, opts Options) (t *tenant.Tenant, idsInferred bool) {
	ids := opts.Tenants
	if len(ids) == 0 {
		idsInferred = true
		var cross []string
		for _, id := range keysOf(a.orgs) {
			if c, ok := strings.CutPrefix(id, crossOrgPrefix); ok {
				if audit.IsTenantID([]byte(c)) {
					cross = append(cross, c)
				}
			} else if audit.IsTenantID([]byte(id)) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			ids = cross
		}
	}
	t = tenant.New(ids, opts.Domains, idsInferred, len(opts.Domains) == 0)
	if len(opts.Domains) == 0 {
		t = tenant.New(ids, memberDomains(a, t), idsInferred, true)
	}
	return t, idsInferred
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
