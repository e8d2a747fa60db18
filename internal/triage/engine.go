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
	"hash/maphash"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/enrich"
	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/tenant"
)

// DefaultMaxEvidence caps evidence lists when Options.MaxEvidence is 0.
const DefaultMaxEvidence = 20

// MaxProblemsPerFile caps the problems a report lists for one file; the
// rest are counted. A file of garbage would otherwise print a line per line.
const MaxProblemsPerFile = 20

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
	// input (record Ids past 16 MB, sharing records past 1,024 targets);
	// empty means os.TempDir() ($TMPDIR). Files there are unlinked at once
	// where the platform allows.
	TempDir string
	// spillSlots and spillShares override the spill thresholds (tests).
	spillSlots, spillShares int
	// stopAfter ends each record's way through the engine early
	// (BenchmarkRunStages): what the stages after it cost is then the
	// difference. The report of such a run is meaningless.
	stopAfter stage
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

// work is one batch as a worker decodes it: its records, their keys and
// what the ordered step decided. Each worker has two, so that it can
// decode one batch while the other waits for its ordered step.
type work struct {
	seq   uint64
	batch *source.Batch
	// rd holds the decoded fields until the batch is aggregated.
	rd    record.Reader
	evs   []audit.Event
	lines []int64
	keys  []recordKeys
	fate  []recordFate

	ok, bad, filtered int64
	done              bool // the ordered step ran (guarded by the sequencer)
}

// sequencer runs a step on works strictly in sequence order, without
// making any goroutine wait for its turn: submit parks a work, and the
// goroutine that submits the work the sequence is waiting for runs the
// step for it and for every parked work that follows. Only one goroutine
// runs steps at a time.
type sequencer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	next    uint64
	parked  map[uint64]*work
	running bool
	step    func(*work)
}

func newSequencer(step func(*work)) *sequencer {
	q := &sequencer{parked: map[uint64]*work{}, step: step}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// submit parks w and, unless another goroutine is running steps, runs
// them for as long as the next work in sequence has been submitted. The
// check for the next work and giving up the run are one critical
// section, so a work submitted meanwhile is never left parked.
func (q *sequencer) submit(w *work) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.parked[w.seq] = w
	if q.running {
		return
	}
	q.running = true
	for {
		n := q.parked[q.next]
		if n == nil {
			break
		}
		delete(q.parked, q.next)
		q.mu.Unlock()
		q.step(n)
		q.mu.Lock()
		n.done = true
		q.next++
		q.cond.Broadcast()
	}
	q.running = false
}

// takeDone reports whether w's step has run and, if so, makes w
// submittable again.
func (q *sequencer) takeDone(w *work) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	done := w.done
	w.done = false
	return done
}

// wait returns once w's step has run, and makes w submittable again.
func (q *sequencer) wait(w *work) {
	q.mu.Lock()
	for !w.done {
		q.cond.Wait()
	}
	w.done = false
	q.mu.Unlock()
}

// seqBatch is a batch with its place in input order.
type seqBatch struct {
	batch *source.Batch
	seq   uint64
}

// ErrStrict wraps the problem that stopped a --strict run.
var ErrStrict = errors.New("stopped at the first bad record (--strict)")

// problems collects input problems from the reader and the workers.
type problems struct {
	mu      sync.Mutex
	byFile  map[string][]source.Problem
	omitted int64
	on      func(source.Problem)
	// fileLevel counts, per path, the records that problems concerning the
	// whole file (not a line) said were lost; a file that then gave no
	// record is a skipped file, and those are not records.
	fileLevel map[string]int64
	failed    map[string]bool
}

func (p *problems) add(pr source.Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on != nil {
		p.on(pr)
	}
	if pr.Unit == "" && !pr.Warning {
		if p.failed == nil {
			p.failed, p.fileLevel = map[string]bool{}, map[string]int64{}
		}
		p.failed[pr.Path] = true
		p.fileLevel[pr.Path] += pr.Records
	}
	list := append(p.byFile[pr.Path], pr)
	// Keep the first problems by line, whatever order workers report them
	// in, so the report is deterministic.
	if len(list) > 2*MaxProblemsPerFile {
		sortProblems(list)
		p.omitted += int64(len(list) - MaxProblemsPerFile)
		list = list[:MaxProblemsPerFile]
	}
	p.byFile[pr.Path] = list
}

func sortProblems(list []source.Problem) {
	slices.SortStableFunc(list, func(a, b source.Problem) int {
		if a.Line != b.Line {
			if a.Line < b.Line {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Reason, b.Reason)
	})
}

// Run triages the inputs named by paths (already expanded by
// source.Expand).
func Run(ctx context.Context, paths []string, opts Options) (*Report, error) {
	k := opts.MaxEvidence
	if k <= 0 {
		k = DefaultMaxEvidence
	}
	// The aggregates are sharded by user, not kept per worker: a worker
	// folds each record into its user's shard under that shard's lock, so
	// every (user, IP set) bucket and its evidence exists once instead of
	// once per worker (half the memory on two cores).
	aggs := make([]*agg, aggShards)
	shards := make([]aggShard, aggShards)
	for i := range aggs {
		a := newAgg(k)
		a.maxShares, a.tempDir = defaultSpillShares/aggShards, opts.TempDir
		if opts.spillShares != 0 {
			a.maxShares = opts.spillShares
		}
		aggs[i], shards[i].a = a, a
	}
	seed := maphash.MakeSeed()
	d, err := decode(ctx, paths, opts, func(w int) batchSink {
		return &shardSink{shards: shards, seed: seed, first: w * 5 % aggShards}
	})
	defer func() {
		for _, a := range aggs {
			if a.shareLog != nil {
				a.shareLog.close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	all := aggs[0]
	for _, a := range aggs[1:] {
		all.merge(a)
	}
	all.flushOrgs()
	all.applyAliases(d.aliases)
	all.dropCopiesOnly()
	if err := all.readSpilledShares(aggs); err != nil {
		return nil, err
	}
	for _, a := range aggs {
		if a.shareLogErr != nil {
			d.probs.add(spillWarning(opts, "sharing records", a.shareLogErr))
			break
		}
	}
	r := finish(all, d.inputs, d.probs, opts, k)
	r.Earliest = d.earliest
	return r, nil
}

// batchSink receives each worker's decoded batches: the in-process
// aggregates (Run), or a callback that ships records elsewhere (Stream).
// One call per batch, on the worker's goroutine, so the hot path pays an
// indirect call per batch, not per record.
type batchSink interface {
	// take folds one batch of input file (at path): ok records decoded, bad ones
	// unreadable, filtered ones left out by --since/--until/--tenant, and
	// the records kept, in input order, with their lines and what
	// deduplication decided for each. An error stops the run.
	take(file int, path string, ok, bad, filtered int64, evs []audit.Event, lines []int64, fate []recordFate) error
}

// aggShards is how many user shards the aggregates have: enough that two
// workers rarely want the same one at once.
const aggShards = 8

// aggShard is one shard of the aggregates and its lock.
type aggShard struct {
	mu sync.Mutex
	a  *agg
	_  [48]byte // one shard a 64-byte cache line: the locks do not share one
}

// shardSink folds a worker's batches into the sharded aggregates.
type shardSink struct {
	shards []aggShard
	seed   maphash.Seed
	first  int       // the shard this worker tries first
	idx    [][]int32 // per shard: the batch's records of its users
	done   []bool    // per shard: folded (or nothing to fold)
}

// shardOf is the shard of a record's user (for a sign-in with no usable
// name, of the name the aggregates give it).
func (s *shardSink) shardOf(ev *audit.Event) int {
	key := ev.User
	if ev.UserKind == audit.UserUnusable {
		key = unknownKey(ev)
	}
	return int(maphash.Bytes(s.seed, key) % uint64(len(s.shards)))
}

// take sorts the batch's records by shard and folds each shard's share
// under its lock, taking first the shards no other worker holds.
func (s *shardSink) take(file int, path string, ok, bad, filtered int64, evs []audit.Event, lines []int64, fate []recordFate) error {
	if s.idx == nil {
		s.idx = make([][]int32, len(s.shards))
		s.done = make([]bool, len(s.shards))
	}
	for i := range s.idx {
		s.idx[i] = s.idx[i][:0]
	}
	var dups int64
	for i := range evs {
		if fate[i] == duplicate {
			dups++
			continue
		}
		sh := s.shardOf(&evs[i])
		s.idx[sh] = append(s.idx[sh], int32(i))
	}
	pending := 0
	for n := range s.idx {
		s.done[n] = len(s.idx[n]) == 0
		if !s.done[n] {
			pending++
		}
	}
	// The batch's counts go to the first shard it locks (or to this
	// worker's first shard when it has no record to fold).
	counted := false
	count := func(a *agg) {
		a.countFile(file, ok, bad)
		a.filtered += filtered
		a.dups += dups
		counted = true
	}
	f := int32(file)
	for pass := 0; pending > 0; pass++ {
		for j := range s.shards {
			n := (s.first + j) % len(s.shards)
			if s.done[n] {
				continue
			}
			sh := &s.shards[n]
			if pass == 0 {
				if !sh.mu.TryLock() {
					continue // another worker has it: come back to it
				}
			} else {
				sh.mu.Lock()
			}
			a := sh.a
			if !counted {
				count(a)
			}
			for _, i := range s.idx[n] {
				if fate[i] == sameSignin {
					a.kept++
					a.cover.add(audit.WorkloadSignIns, evs[i].Time)
					a.addSigninCopy(&evs[i])
				} else {
					a.add(&evs[i], f, lines[i])
				}
			}
			sh.mu.Unlock()
			s.done[n] = true
			pending--
		}
	}
	if !counted {
		sh := &s.shards[s.first%len(s.shards)]
		sh.mu.Lock()
		count(sh.a)
		sh.mu.Unlock()
	}
	return nil
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
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var ours map[string]bool
	if len(opts.Tenants) > 0 {
		ours = map[string]bool{}
		for _, t := range opts.Tenants {
			ours[strings.ToLower(strings.TrimSpace(t))] = true
		}
	}
	var since, until int64
	if !opts.Since.IsZero() {
		since = opts.Since.UnixNano()
	}
	if !opts.Until.IsZero() {
		until = opts.Until.UnixNano()
	}

	probs := &problems{byFile: map[string][]source.Problem{}, on: opts.OnProblem}
	report := func(pr source.Problem) {
		probs.add(pr)
		if opts.Strict && !pr.Warning {
			cancel(errors.Join(ErrStrict, pr))
		}
	}

	earliest := newAtomicMin()
	dups := newDedup()
	dups.ids.dir = opts.TempDir
	if opts.spillSlots != 0 {
		dups.ids.capSlots(opts.spillSlots)
	} else {
		dups.ids.capSlots(defaultSpillSlots)
	}
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
		for i := range w.keys {
			w.fate = append(w.fate, dups.check(&w.keys[i], &w.evs[i]))
		}
	})
	var wg sync.WaitGroup
	for w := range workers {
		sink := sinks[w]
		wg.Go(func() {
			var sets [2]work
			var waiting *work // submitted, not yet aggregated
			// fold aggregates a work whose ordered step is done.
			fold := func(w *work) {
				b := w.batch
				if b == nil {
					return
				}
				if ctx.Err() == nil && opts.stopAfter == stageAll {
					if err := sink.take(b.File, b.Path, w.ok, w.bad, w.filtered, w.evs, w.lines, w.fate); err != nil {
						cancel(sinkError{err})
					}
				}
				b.Release()
				w.batch = nil
			}
			for i := 0; ; i++ {
				sb, more := <-batches
				if !more {
					break
				}
				w := &sets[i&1] // never waiting: that is the other set
				w.seq, w.batch = sb.seq, sb.batch
				w.keys, w.evs, w.lines = w.keys[:0], w.evs[:0], w.lines[:0]
				w.ok, w.bad, w.filtered = 0, 0, 0
				if ctx.Err() == nil {
					b := sb.batch
					unit := record.Unit(b)
					// Decode the whole batch (in parallel with other workers).
					rd := &w.rd
					rd.Begin()
					for i := range b.Records {
						line := b.Records[i].Line
						// Decode into the next free slot; it is kept only if
						// the record passes the filters.
						w.evs = slices.Grow(w.evs, 1)
						e := &w.evs[:len(w.evs)+1][len(w.evs)]
						if err := rd.Decode(b, i, e); err != nil {
							w.bad++
							report(source.Problem{Path: b.Path, Unit: unit, Line: line, Reason: err.Error(), Records: 1})
							continue
						}
						w.ok++
						if (since != 0 && e.Time < since) || (until != 0 && e.Time >= until) ||
							(ours != nil && len(e.OrgID) > 0 && !ours[string(e.OrgID)] && audit.IsTenantID(e.OrgID)) {
							w.filtered++
							continue
						}
						w.evs = w.evs[:len(w.evs)+1]
						w.lines = append(w.lines, line)
					}
					if opts.Progress != nil {
						opts.Progress.Records.Add(w.ok)
					}
					// Keys are parsed here, in parallel; only the set
					// lookups are ordered.
					first := int64(math.MaxInt64)
					for i := range w.evs {
						w.keys = append(w.keys, dups.keys(&w.evs[i]))
						first = min(first, w.evs[i].Time)
					}
					if len(w.evs) > 0 {
						earliest.lower(first)
					}
				} else {
					// Stopping: the batch still takes its place in the
					// order (with no records), or batches behind it would
					// never be deduplicated.
					w.evs = w.evs[:0]
				}
				sq.submit(w)
				if waiting != nil {
					sq.wait(waiting)
					fold(waiting)
					waiting = nil
				}
				if sq.takeDone(w) {
					fold(w)
				} else {
					waiting = w
				}
			}
			if waiting != nil {
				sq.wait(waiting)
				fold(waiting)
			}
		})
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
	dups.ids.release() // every record has been checked
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

// atomicMin is the least value offered to it (once per batch);
// math.MaxInt64 until one is.
type atomicMin struct{ v atomic.Int64 }

func newAtomicMin() *atomicMin {
	m := &atomicMin{}
	m.v.Store(math.MaxInt64)
	return m
}

func (m *atomicMin) lower(x int64) {
	for {
		cur := m.v.Load()
		if cur <= x || m.v.CompareAndSwap(cur, x) {
			return
		}
	}
}

// get is the least value, 0 when none was offered.
func (m *atomicMin) get() int64 {
	if v := m.v.Load(); v != math.MaxInt64 {
		return v
	}
	return 0
}

// tempDir is where the run spills.
func tempDir(opts Options) string {
	if opts.TempDir != "" {
		return opts.TempDir
	}
	return os.TempDir()
}

// spillWarning says that what could not be spilled to the temporary
// folder stayed in memory: the report is whole, the run used more memory.
func spillWarning(opts Options, what string, err error) source.Problem {
	return source.Problem{Path: tempDir(opts), Warning: true,
		Reason: "could not spill " + what + " to this folder, so they stayed in memory (" + err.Error() + "); give --temp-dir or TMPDIR a folder with space"}
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
		fi := FileInfo{Path: in.Path, Format: string(in.Format), Skipped: in.Skipped}
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
	j := &judge{a: a, t: t, k: k, dir: opts.Directory, cite: func(r *ref) string { return cite(r) }}
	j.classify()
	j.citeSource = func(r *ref) string {
		s := cite(r)
		if i := strings.Index(s, " at "); i >= 0 {
			return s[i+4:]
		}
		return s
	}
	r.Identities = j.identities()
	if opts.Directory != nil {
		r.Input.Directory = &DirectoryInfo{Path: opts.DirectoryPath, Accounts: opts.Directory.Len()}
	}
	if opts.GeoIP != nil {
		r.Input.Enrichment = opts.GeoIP.Describe()
		r.IPInfo = enrichIPs(r.Identities, opts.GeoIP)
		raiseForAnonymisers(r.Identities, r.IPInfo)
	}
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
// member sign-ins. idsInferred says which.
func tenantOf(a *agg, opts Options) (t *tenant.Tenant, idsInferred bool) {
	ids := opts.Tenants
	if len(ids) == 0 {
		idsInferred = true
		for _, id := range keysOf(a.orgs) {
			if audit.IsTenantID([]byte(id)) {
				ids = append(ids, id)
			}
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
