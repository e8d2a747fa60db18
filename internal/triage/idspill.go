package triage

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"
)

// The deduplication set is the one structure that grows with the number
// of records: 16 bytes a record Id, so 17 MB for 1 GB of UAL, 67 MB for 4
// GB, 670 MB for 40 GB. Past a budget (spillSlots a shard, 16 MB in all)
// the set moves its keys to a sorted run in a temporary folder and keeps,
// for each run, a Bloom filter of 12 bits a key in memory. A lookup then
// costs the table probe it always did plus one cache line per run, and a
// disk read only for a filter's false positive (about 1 %) or a true
// duplicate. Runs of equal size are merged (a binary counter), so a set of
// n keys has at most log2(n/budget)+1 runs. Deduplication stays exact:
// nothing is forgotten, only moved.
//
// Run files are unlinked as soon as they are created (where the platform
// allows), so a killed run leaves nothing behind.

const (
	// defaultSpillSlots caps each shard's table: 64 × 16,384 slots × 16
	// bytes = 16 MB, about what 1 GB of UAL needs (744,000 records).
	defaultSpillSlots = 1 << 14
	// fenceEvery keys make one page read from a run (4 KiB); the first key
	// of each page stays in memory to find it.
	fenceEvery = 256
	// bloomBitsPerKey: 12 bits, 6 probes in one 512-bit block, about 1 %
	// false positives.
	bloomBitsPerKey = 12
)

// idRun is a sorted run of keys on disk: one segment per shard, each
// sorted by key.
type idRun struct {
	f     *os.File
	name  string // set when the file could not be unlinked at once
	level int    // merged level+1 times: 2^level spills
	n     int
	seg   [idShards]idSegment
	bloom []uint64 // blocks of 8 words
}

// idSegment is one shard's keys within a run.
type idSegment struct {
	off    int64
	n      int
	fences []idKey // every fenceEvery-th key
}

// cmpKey orders keys as bytes.Compare does, a word at a time (sorting a
// spill compares millions of keys).
func cmpKey(a, b idKey) int {
	be := binary.BigEndian
	if x, y := be.Uint64(a[:8]), be.Uint64(b[:8]); x != y {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(be.Uint64(a[8:]), be.Uint64(b[8:]))
}

func bloomWords(n int) int {
	blocks := (n*bloomBitsPerKey + 511) / 512
	return max(blocks, 1) * 8
}

// bloomSpot picks a key's block and its 6 bits from the set's hash of it.
// The hash's top bits chose the shard (all keys of a segment share them),
// so it is mixed again first.
func bloomSpot(h uint64, words int) (block int, bits uint64) {
	g := h * 0x9e3779b97f4a7c15
	blocks := uint64(words / 8)
	block = int((g>>32)*blocks>>32) * 8
	g ^= g >> 29
	g *= 0xbf58476d1ce4e5b9
	return block, g
}

func (r *idRun) bloomAdd(h uint64) {
	b, g := bloomSpot(h, len(r.bloom))
	for range 6 {
		v := g & 511
		r.bloom[b+int(v>>6)] |= 1 << (v & 63)
		g >>= 9
	}
}

func (r *idRun) mayHave(h uint64) bool {
	b, g := bloomSpot(h, len(r.bloom))
	for range 6 {
		v := g & 511
		if r.bloom[b+int(v>>6)]&(1<<(v&63)) == 0 {
			return false
		}
		g >>= 9
	}
	return true
}

// lookup reads the page of shard's segment where k would be.
func (r *idRun) lookup(k *idKey, shard int, page *[fenceEvery]idKey) (bool, error) {
	seg := &r.seg[shard]
	// The last page whose first key is <= k.
	p, found := slices.BinarySearchFunc(seg.fences, *k, cmpKey)
	if found {
		return true, nil
	}
	if p == 0 {
		return false, nil
	}
	p--
	start := p * fenceEvery
	n := min(fenceEvery, seg.n-start)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&page[0])), n*len(idKey{}))
	if _, err := r.f.ReadAt(buf, seg.off+int64(start*len(idKey{}))); err != nil {
		return false, fmt.Errorf("deduplication: reading %s: %w", r.f.Name(), err)
	}
	_, found = slices.BinarySearchFunc(page[:n], *k, cmpKey)
	return found, nil
}

func (r *idRun) close() {
	freeOffHeap(r.bloom)
	r.bloom = nil
	r.f.Close()
	if r.name != "" {
		os.Remove(r.name)
	}
}

// keyBytes views keys as bytes, for writing them out in one call.
func keyBytes(keys []idKey) []byte {
	if len(keys) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&keys[0])), len(keys)*len(idKey{}))
}

// newRunFile creates a run file in dir and unlinks it at once where it can.
func newRunFile(dir string) (*idRun, error) {
	f, err := os.CreateTemp(dir, "outsider-ids-*")
	if err != nil {
		return nil, err
	}
	r := &idRun{f: f}
	if os.Remove(f.Name()) != nil {
		r.name = f.Name()
	}
	return r, nil
}

// capSlots caps each table at n slots (a power of two; 0: no cap),
// shrinking the empty initial tables if they are larger (tests spill
// after a few keys).
func (s *idSet) capSlots(n int) {
	s.maxSlots = n
	for i := range s.shards {
		t := &s.shards[i]
		if n > 0 && len(t.slots) > n && t.n == 0 {
			freeOffHeap(t.slots)
			t.slots, t.mask = offHeap[idKey](n), uint64(n-1)
		}
	}
}

// spill moves every key of the tables to a new run, then merges runs of
// equal size. On failure the tables are as they were (the caller grows
// them instead).
func (s *idSet) spill() error {
	r, err := newRunFile(s.dir)
	if err != nil {
		return err
	}
	total := 0
	for i := range s.shards {
		total += s.shards[i].n
	}
	r.n = total
	r.bloom = offHeap[uint64](bloomWords(total))
	w := bufio.NewWriterSize(r.f, 256<<10)
	var off int64
	for i := range s.shards {
		t := &s.shards[i]
		keys := t.compact()
		s.sortTmp = sortKeys(keys, s.sortTmp)
		seg := &r.seg[i]
		seg.off, seg.n = off, len(keys)
		seg.fences = make([]idKey, 0, (len(keys)+fenceEvery-1)/fenceEvery)
		for j := 0; j < len(keys); j += fenceEvery {
			seg.fences = append(seg.fences, keys[j])
		}
		for j := range keys {
			r.bloomAdd(s.hash(&keys[j]))
		}
		w.Write(keyBytes(keys))
		off += int64(len(keys) * len(idKey{}))
	}
	if err := w.Flush(); err != nil {
		r.close()
		for i := range s.shards {
			s.shards[i].rehash(s)
		}
		return err
	}
	for i := range s.shards {
		t := &s.shards[i]
		clear(t.slots)
		t.n = 0
	}
	s.runs = append(s.runs, r)
	s.spills++
	for len(s.runs) >= 2 && s.runs[len(s.runs)-1].level == s.runs[len(s.runs)-2].level {
		a, b := s.runs[len(s.runs)-2], s.runs[len(s.runs)-1]
		m, err := s.merge(a, b)
		if err != nil {
			// More runs, slower lookups, still exact.
			break
		}
		s.runs = append(s.runs[:len(s.runs)-2], m)
	}
	return nil
}

// sortKeys sorts keys (in cmpKey's order) by their first byte into tmp
// and back, then each run of equal first bytes by comparison: keys are
// random, so the runs are short, and a spill's sort does a quarter of the
// comparisons a plain sort would. It returns tmp, grown if it had to be.
func sortKeys(keys, tmp []idKey) []idKey {
	if cap(tmp) < len(keys) {
		tmp = make([]idKey, len(keys))
	}
	tmp = tmp[:len(keys)]
	var start [257]int
	for i := range keys {
		start[int(keys[i][0])+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	next := start
	for i := range keys {
		b := keys[i][0]
		tmp[next[b]] = keys[i]
		next[b]++
	}
	copy(keys, tmp)
	for b := range 256 {
		slices.SortFunc(keys[start[b]:start[b+1]], cmpKey)
	}
	return tmp
}

// compact moves the table's keys to its front, out of hash order, and
// returns them; the table must be cleared or rehashed afterwards.
func (t *idTable) compact() []idKey {
	n := 0
	for _, k := range t.slots {
		if k != (idKey{}) {
			t.slots[n] = k
			n++
		}
	}
	return t.slots[:n]
}

// rehash restores a compacted table.
func (t *idTable) rehash(s *idSet) {
	keys := slices.Clone(t.slots[:t.n])
	clear(t.slots)
	for _, k := range keys {
		h := s.hash(&k) & t.mask
		for t.slots[h] != (idKey{}) {
			h = (h + 1) & t.mask
		}
		t.slots[h] = k
	}
}

// merge writes the union of two runs as one run a level up.
func (s *idSet) merge(a, b *idRun) (*idRun, error) {
	r, err := newRunFile(s.dir)
	if err != nil {
		return nil, err
	}
	r.level = a.level + 1
	r.bloom = offHeap[uint64](bloomWords(a.n + b.n))
	w := bufio.NewWriterSize(r.f, 256<<10)
	ra, rb := bufio.NewReaderSize(nil, 64<<10), bufio.NewReaderSize(nil, 64<<10)
	// Merged keys are written a page at a time: writing each from a local
	// array would make the array escape, one allocation per key.
	out := s.page[:0]
	flush := func() {
		w.Write(keyBytes(out))
		out = out[:0]
	}
	var ka, kb idKey
	var off int64
	fail := func(err error) (*idRun, error) {
		r.close()
		return nil, err
	}
	for i := range r.seg {
		sa, sb := &a.seg[i], &b.seg[i]
		ra.Reset(io.NewSectionReader(a.f, sa.off, int64(sa.n*len(idKey{}))))
		rb.Reset(io.NewSectionReader(b.f, sb.off, int64(sb.n*len(idKey{}))))
		seg := &r.seg[i]
		seg.off = off
		seg.fences = make([]idKey, 0, (sa.n+sb.n+fenceEvery-1)/fenceEvery)
		na, nb := sa.n, sb.n
		next := func(rd *bufio.Reader, k *idKey, left *int) (bool, error) {
			if *left == 0 {
				return false, nil
			}
			*left--
			_, err := io.ReadFull(rd, k[:])
			return err == nil, err
		}
		okA, err := next(ra, &ka, &na)
		if err != nil {
			return fail(err)
		}
		okB, err := next(rb, &kb, &nb)
		if err != nil {
			return fail(err)
		}
		for okA || okB {
			var k idKey
			switch {
			case okA && (!okB || cmpKey(ka, kb) <= 0):
				k = ka
				if okB && ka == kb { // not expected: a key lives in one run
					if okB, err = next(rb, &kb, &nb); err != nil {
						return fail(err)
					}
				}
				if okA, err = next(ra, &ka, &na); err != nil {
					return fail(err)
				}
			default:
				k = kb
				if okB, err = next(rb, &kb, &nb); err != nil {
					return fail(err)
				}
			}
			if seg.n%fenceEvery == 0 {
				seg.fences = append(seg.fences, k)
			}
			seg.n++
			r.bloomAdd(s.hash(&k))
			if out = append(out, k); len(out) == cap(out) {
				flush()
			}
		}
		flush()
		off += int64(seg.n * len(idKey{}))
		r.n += seg.n
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	a.close()
	b.close()
	return r, nil
}

// inRuns reports whether k, of hash h, is in a run on disk.
func (s *idSet) inRuns(k *idKey, h uint64) bool {
	for _, r := range s.runs {
		if !r.mayHave(h) {
			continue
		}
		found, err := r.lookup(k, int(h>>58), &s.page)
		if err != nil {
			// Cannot tell: the run fails rather than count a record twice
			// or drop one.
			if s.ioErr == nil {
				s.ioErr = err
			}
			return false
		}
		if found {
			return true
		}
	}
	return false
}
