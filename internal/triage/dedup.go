package triage

import (
	"hash/fnv"
	"sync"

	"github.com/outsider-sec/outsider/internal/audit"
)

// idKey is a record Id as 16 bytes: the GUID itself when the Id is one (as
// it always is in the UAL), else a 128-bit FNV hash of it.
type idKey [16]byte

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

// dedup decides, for every record, whether its Id was seen before, in
// input order: batch by batch in the order the reader produced them, each
// worker waiting for its turn. Decoding (the expensive part) stays
// parallel; only the set lookups are serialised, which costs little and
// makes "the first copy wins" true whatever worker reads what. That matters
// because real exports repeat an Id with different content (a CSV and a
// JSON export of one search disagreeing on a UserId): the copy kept must
// not depend on scheduling.
//
// The set is the one structure that grows with the number of records (16
// bytes of key per record plus map overhead): deduplication across files
// requires it.
type dedup struct {
	mu   sync.Mutex
	turn *sync.Cond
	next uint64
	seen map[idKey]struct{}
}

func newDedup() *dedup {
	d := &dedup{seen: map[idKey]struct{}{}}
	d.turn = sync.NewCond(&d.mu)
	return d
}

// enter waits until batch seq is next in input order.
func (d *dedup) enter(seq uint64) {
	d.mu.Lock()
	for d.next != seq {
		d.turn.Wait()
	}
	d.mu.Unlock()
}

// add reports whether the id is new. Only the batch whose turn it is calls
// it, so the map needs no lock of its own.
func (d *dedup) add(k idKey) bool {
	if _, ok := d.seen[k]; ok {
		return false
	}
	d.seen[k] = struct{}{}
	return true
}

// leave passes the turn to the next batch.
func (d *dedup) leave() {
	d.mu.Lock()
	d.next++
	d.turn.Broadcast()
	d.mu.Unlock()
}
