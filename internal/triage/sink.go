package triage

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/outsider-sec/outsider/internal/audit"
)

// batchSink receives each worker's decoded batches: the in-process
// aggregates (Run), or a callback that ships records elsewhere (Stream).
// One call per batch, on the worker's goroutine, so the hot path pays an
// indirect call per batch, not per record.
type batchSink interface {
	// take folds one decoded batch whose ordered step is done: its
	// counts (w.ok, w.bad, w.filtered) and the records kept (w.evs, in
	// input order) with their lines and what deduplication decided for
	// each (w.fate). The batch is valid only during the call. An error
	// stops the run.
	take(w *work) error
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
	// key, when not 0, chooses shards instead of seed: a saved Session
	// must put each user in the same shard after it is loaded again.
	key   uint64
	first int // the shard this worker tries first
	// fileBase numbers the batch's file after the inputs of a Session's
	// earlier calls (0 in a Run).
	fileBase int
	idx      [][]int32 // per shard: the batch's records of its users
	done     []bool    // per shard: folded (or nothing to fold)
	bks      []*bucket // per record of the batch: its bucket (resolve)
	// touched sums what resolve reads, so that the reads are not dropped.
	touched int64
}

// resolve finds the buckets of a shard's share of a batch before any is
// folded. Aggregation is memory-bound: the buckets, their accounts and
// lists are cold when a record arrives (the decoder streams the input
// through the caches in between), and folding record after record waits
// on each miss in turn. Looking the buckets up back to back, then reading
// a word of each (and of its account) in a loop whose iterations do not
// depend on one another, lets the processor have many of those misses in
// flight at once; the fold then finds the lines in the cache.
func (s *shardSink) resolve(a *agg, idx []int32, evs []audit.Event, fate []recordFate) {
	if cap(s.bks) < len(evs) {
		s.bks = make([]*bucket, len(evs))
	}
	s.bks = s.bks[:len(evs)]
	for _, i := range idx {
		if !fate[i].copyOnly() {
			s.bks[i] = a.bucketOf(&evs[i])
		}
	}
	var t int64
	for _, i := range idx {
		if fate[i].copyOnly() {
			continue
		}
		b := s.bks[i]
		t += b.signins + b.nonSignin + int64(len(b.ops)) + b.evNon.last + b.evSig.last
		if u := b.account; u != nil {
			t += u.success + int64(len(u.apps))
		}
		// A record that will enter a full evidence list (in a newest-first
		// export, every one) takes the slot of its last record: read it too,
		// and the first bytes of its buffer, which the record overwrites.
		l := &b.evNon
		if audit.IsSigninOp(evs[i].Operation) {
			l = &b.evSig
		}
		if n := len(l.order); n > 0 && evs[i].Time < l.last {
			sl := l.at(n - 1)
			t += sl.time
			if len(sl.buf) > 0 {
				t += int64(sl.buf[0])
			}
		}
	}
	s.touched += t
}

// shardOf is the shard of a record's user (for a sign-in with no usable
// name, of the name the aggregates give it).
func (s *shardSink) shardOf(ev *audit.Event) int {
	key := ev.User
	if ev.UserKind == audit.UserUnusable {
		key = unknownKey(ev)
	}
	if s.key != 0 {
		return int(keyedHash(s.key, key) % uint64(len(s.shards)))
	}
	return int(maphash.Bytes(s.seed, key) % uint64(len(s.shards)))
}

// take sorts the batch's records by shard and folds each shard's share
// under its lock, taking first the shards no other worker holds.
func (s *shardSink) take(w *work) error {
	file, evs, lines, fate := w.batch.File+s.fileBase, w.evs, w.lines, w.fate
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
		a.countFile(file, w.ok, w.bad)
		a.filtered += w.filtered
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
			s.resolve(a, s.idx[n], evs, fate)
			for _, i := range s.idx[n] {
				if fate[i].copyOnly() {
					a.kept++
					a.cover.add(audit.WorkloadSignIns, evs[i].Time)
					u := a.addSigninCopy(&evs[i])
					if o := fate[i].movedFrom(); o != audit.NotSignin {
						a.moveApp(u, &evs[i], o, f, lines[i])
					}
				} else {
					a.addTo(s.bks[i], &evs[i], f, lines[i])
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

// keyedHash mixes b under key, eight bytes at a time (a user name is a few
// dozen bytes): only a Session's shard choice uses it, and an attacker who
// cannot read the key cannot pile users into one shard.
func keyedHash(key uint64, b []byte) uint64 {
	h := key ^ uint64(len(b))*0x9e3779b97f4a7c15
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
		b = b[8:]
	}
	var t [8]byte
	copy(t[:], b)
	h = (h ^ binary.LittleEndian.Uint64(t[:])) * 0x94d049bb133111eb
	return h ^ h>>29
}
