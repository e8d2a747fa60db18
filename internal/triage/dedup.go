package triage

import (
	"hash/fnv"
	"sync"

	"github.com/outsider-sec/outsider/internal/audit"
)

// dedupShards spreads the record-id set over independently locked shards
// so workers rarely wait on each other.
const dedupShards = 64

// idKey is a record Id as 16 bytes: the GUID itself when the Id is one (as
// it always is in the UAL), else a 128-bit FNV hash of it.
type idKey [16]byte

// pos is a record's place: file index in the high 24 bits, line below.
type pos uint64

func makePos(file int32, line int64) pos { return pos(uint64(file)<<40 | uint64(line)&(1<<40-1)) }
func (p pos) file() int32                { return int32(p >> 40) }
func (p pos) line() int64                { return int64(p & (1<<40 - 1)) }

// dedup is the set of record ids seen. It is the one structure that grows
// with the number of records (24 bytes of key and value per record plus
// map overhead), because deduplication across files requires it. For each
// id it keeps the earliest place the record was found, so evidence cites
// the same file and line whichever copy a worker happened to read first.
type dedup struct {
	shards [dedupShards]struct {
		mu sync.Mutex
		m  map[idKey]pos
	}
}

func newDedup() *dedup {
	d := &dedup{}
	for i := range d.shards {
		d.shards[i].m = map[idKey]pos{}
	}
	return d
}

func makeKey(id []byte) idKey {
	var k idKey
	if audit.IsGUID(id) {
		j := 0
		for i := 0; i < len(id); i += 2 {
			if id[i] == '-' {
				i--
				continue
			}
			k[j] = unhex(id[i])<<4 | unhex(id[i+1])
			j++
		}
		return k
	}
	h := fnv.New128a()
	h.Write(id)
	h.Sum(k[:0])
	k[0] ^= 0x80 // keep hashed ids apart from real GUIDs' bit patterns
	return k
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// add records id at p and reports whether it was new.
func (d *dedup) add(k idKey, p pos) bool {
	s := &d.shards[k[15]%dedupShards]
	s.mu.Lock()
	old, seen := s.m[k]
	if !seen || p < old {
		s.m[k] = p
	}
	s.mu.Unlock()
	return !seen
}

// place returns the earliest place of id, if it was seen.
func (d *dedup) place(k idKey) (pos, bool) {
	s := &d.shards[k[15]%dedupShards]
	s.mu.Lock()
	p, ok := s.m[k]
	s.mu.Unlock()
	return p, ok
}
