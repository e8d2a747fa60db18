package triage

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/maphash"

	"github.com/outsider-sec/outsider/internal/source"
)

// Session triages inputs given in several calls as Run triages them given
// at once: Add reads more files after those already read, and the report
// is the one Run would return for all of them in the order they were
// added. Between calls the session can be saved (Save) and loaded again
// (LoadSession), so that a caller who only ever appends files (watch, whose
// archive grows by new files) reads each file once instead of the whole
// list every time.
//
// It is exact, not approximate, because nothing in the engine depends on
// where a run starts or stops: deduplication decides each record's fate
// from the records before it in input order (the set and alias state are
// carried), the aggregates are sharded by a keyed hash of the user that a
// saved session keeps (each account's records fold into one shard, in
// input order, as in one run), and files are numbered on from the last.
type Session struct {
	opts   Options
	k      int
	aggs   []*agg
	shards []aggShard
	// key chooses each user's shard; 0 (Run) uses seed, which cannot be
	// saved, instead.
	key    uint64
	seed   maphash.Seed
	c      *carried
	inputs []source.Input
	// paths are the paths given to Add, in order: what the second look
	// (lookAgain) reads again for the records it names.
	paths []string
	ended bool
}

// errSessionEnded says a session was used after Report or Close.
var errSessionEnded = errors.New("triage: session already ended")

// NewSession starts a session that reads nothing yet.
func NewSession(opts Options) *Session {
	var b [8]byte
	rand.Read(b[:])
	return newSession(opts, binary.LittleEndian.Uint64(b[:])|1)
}

func newSession(opts Options, key uint64) *Session {
	k := opts.MaxEvidence
	if k <= 0 {
		k = DefaultMaxEvidence
	}
	s := &Session{opts: opts, k: k, key: key, seed: maphash.MakeSeed(), c: newCarried(opts)}
	// The aggregates are sharded by user, not kept per worker: a worker
	// folds each record into its user's shard under that shard's lock, so
	// every (user, IP set) bucket and its evidence exists once instead of
	// once per worker (half the memory on two cores).
	s.aggs = make([]*agg, aggShards)
	s.shards = make([]aggShard, aggShards)
	for i := range s.aggs {
		s.setShard(i, newAgg(k))
	}
	return s
}

func (s *Session) setShard(i int, a *agg) {
	a.maxShares, a.tempDir = defaultSpillShares/aggShards, s.opts.TempDir
	if s.opts.spillShares != 0 {
		a.maxShares = s.opts.spillShares
	}
	s.aggs[i], s.shards[i].a = a, a
}

// Add reads paths (already expanded by source.Expand) after the files
// read so far. An error ends the session: what it holds is then no
// longer the triage of the files added.
func (s *Session) Add(ctx context.Context, paths []string) error {
	return s.add(ctx, paths, false)
}

func (s *Session) add(ctx context.Context, paths []string, last bool) error {
	if s.ended {
		return errSessionEnded
	}
	base := len(s.inputs)
	d, err := decodeMore(ctx, paths, s.opts, s.c, last, func(w int) batchSink {
		return &shardSink{shards: s.shards, seed: s.seed, key: s.key, first: w * 5 % aggShards, fileBase: base}
	})
	if err != nil {
		s.Close()
		return err
	}
	s.inputs = append(s.inputs, d.inputs...)
	s.paths = append(s.paths, paths...)
	return nil
}

// Close frees what the session holds (the deduplication set, spilled
// sharing records, the compressed inputs' checkpoints) without a report.
func (s *Session) Close() {
	if s.ended {
		return
	}
	s.ended = true
	s.c.dups.ids.release()
	s.c.windows.Close()
	for _, a := range s.aggs {
		if a.shareLog != nil {
			a.shareLog.close()
		}
	}
}

// Report ends the session and returns the report of every file added;
// ctx bounds the second look at the inputs for what was touched.
func (s *Session) Report(ctx context.Context) (*Report, error) {
	if s.ended {
		return nil, errSessionEnded
	}
	defer s.Close()
	aggs, opts, probs := s.aggs, s.opts, s.c.probs
	all := aggs[0]
	for _, a := range aggs[1:] {
		all.merge(a)
	}
	all.flushOrgs()
	all.applyAliases(s.c.dups.aliases)
	all.dropCopiesOnly()
	if err := all.readSpilledShares(aggs); err != nil {
		return nil, err
	}
	for _, a := range aggs {
		if a.shareLogErr != nil {
			probs.add(spillWarning(opts, "sharing records", a.shareLogErr))
			break
		}
	}
	r := finish(all, s.inputs, probs, opts, s.k)
	if opts.SkipAccessed {
		r.DropAccessed(AccessedNotAsked)
	} else {
		lookAgain(ctx, s.paths, s.inputs, r, opts, s.k)
	}
	r.Earliest = s.c.earliest.get()
	return r, nil
}

// Earliest is the time (Unix ns) of the earliest record read so far that
// passed the filters, as Report.Earliest; 0 when none did.
func (s *Session) Earliest() int64 { return s.c.earliest.get() }
