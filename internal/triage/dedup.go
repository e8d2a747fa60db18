package triage

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"hash/maphash"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
)

// idKey is a record Id as 16 bytes: the GUID itself when the Id is one (as
// it always is in the UAL), else a 128-bit FNV hash of it.
type idKey [16]byte

// makeKey parses a GUID Id eight hex digits at a time (it runs once per
// record), or hashes anything else.
func makeKey(id []byte) idKey {
	var k idKey
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		le := binary.LittleEndian
		a, okA := hex8(le.Uint64(id[0:8]))
		b, okB := hex8(uint64(le.Uint32(id[9:13])) | uint64(le.Uint32(id[14:18]))<<32)
		c, okC := hex8(uint64(le.Uint32(id[19:23])) | uint64(le.Uint32(id[24:28]))<<32)
		d, okD := hex8(le.Uint64(id[28:36]))
		if okA && okB && okC && okD {
			le.PutUint32(k[0:], a)
			le.PutUint32(k[4:], b)
			le.PutUint32(k[8:], c)
			le.PutUint32(k[12:], d)
			return k
		}
	}
	h := fnv.New128a()
	h.Write(id)
	h.Sum(k[:0])
	k[0] ^= 0x80 // keep hashed ids apart from real GUIDs' bit patterns
	return k
}

// hex8 decodes eight ASCII hex digits, the first in the low byte of v, into
// four bytes (the first in the low byte of the result), and reports
// whether all eight were hex digits: a few word operations instead of a
// table lookup per digit.
func hex8(v uint64) (uint32, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lower := v | 0x2020202020202020 // 'A'-'F' to 'a'-'f' (and only those into 'a'-'f')
	// A byte x (below 0x80) is in [lo, hi] when x+(0x80-lo) has its high
	// bit set and x+(0x7f-hi) has not; no sum carries into the next byte.
	// Digits are tested on v itself: the case bit would also turn 0x10-0x19
	// into digits.
	digit := (v + (0x80-'0')*ones) &^ (v + (0x7f-'9')*ones)
	letter := (lower + (0x80-'a')*ones) &^ (lower + (0x7f-'f')*ones)
	ok := v&highs == 0 && (digit|letter)&highs == highs
	nib := lower&(0x0f*ones) + 9*((letter&highs)>>7)
	t := (nib<<4 | nib>>8) & 0x00ff00ff00ff00ff
	t = (t | t>>8) & 0x0000ffff0000ffff
	t = (t | t>>16) & 0xffffffff
	return uint32(t), ok
}

// dedup decides, for every record, whether its Id was seen before, in
// input order: batch by batch in the order the reader produced them (the
// engine's sequencer runs check for one batch at a time). Decoding (the
// expensive part) stays parallel; only the set lookups are serialised,
// which costs little and makes "the first copy wins" true whatever worker
// reads what. That matters
// because real exports repeat an Id with different content (a CSV and a
// JSON export of one search disagreeing on a UserId): the copy kept must
// not depend on scheduling.
//
// The set is the one structure that grows with the number of records (16
// bytes of key per record): deduplication across files requires it. Past
// 16 MB it spills to disk (idspill.go).
type dedup struct {
	ids idSet
	// ns separates the kinds of key in the one set: record ids of each
	// log, sign-in events, and the UAL's sign-ins that named no
	// application, one namespace per outcome (nsNoApp; see noAppKey)
	// (seeded per run, so that a crafted Id cannot be made to collide with
	// another record's key).
	ns [nsNoApp + audit.Failure + 1]idKey

	// unknownBy and aliases join external-unknown names across logs (see
	// aliasUnknown); both stay tiny: only sign-ins with no usable UserId.
	unknownBy map[idKey]alias
	aliases   [][2]alias

	// signInLogSeen: a sign-in log record's key is in the set.
	signInLogSeen bool
	// noAppSeen: a UAL sign-in that names no application was counted (a
	// noAppKey is in the set).
	noAppSeen bool
}

// nsNoApp+o, for each sign-in outcome o, is the namespace of ns of a UAL
// sign-in of outcome o counted without an application.
const nsNoApp = 3

// recordFate is what the ordered step decides for a record.
type recordFate uint8

const (
	// fresh: aggregate it.
	fresh recordFate = iota
	// duplicate: a repeat of a record already read; dropped.
	duplicate
	// sameSignin: a sign-in already counted from the other log (the UAL's
	// UserLoggedIn and the Entra sign-in log's record of one sign-in):
	// only its facts are kept.
	sameSignin
	// sameSigninFrom+o (o a sign-in outcome): a sameSignin from the
	// sign-in log whose counted copy, a UAL record of the same account of
	// outcome o, named no application while this one does. The UAL that
	// names no application is Sentinel's OfficeActivity, which has no
	// ApplicationId and no error code either (an interrupted sign-in reads
	// as a success there): the counted sign-in takes this copy's
	// application and outcome, as if this copy had been read first, so
	// that which log is read first does not decide the verdict (moveApp).
	sameSigninFrom = sameSignin
)

// copyOnly reports whether a record's fate counts only its sign-in facts.
func (f recordFate) copyOnly() bool { return f >= sameSignin }

// movedFrom is, for a sameSigninFrom+o fate, o; else NotSignin.
func (f recordFate) movedFrom() audit.Outcome {
	if f > sameSigninFrom {
		return audit.Outcome(f - sameSigninFrom)
	}
	return audit.NotSignin
}

// SigninKey is the text of the key a sign-in id (a UAL record's
// IntraSystemId, a sign-in log record's id) is matched by: equal for two
// ids the engine takes for one sign-in. The ClickHouse store uses it to
// find the app-less successes a sign-in log copy moved (noAppFirsts).
func SigninKey(id []byte) string {
	k := makeKey(id)
	return hex.EncodeToString(k[:])
}

// keys returns a record's identity key and, for a sign-in, the keys of the
// sign-in event it records, in its own log's namespace and in the other
// log's (zero when unknown). Called outside the ordered step: parsing is
// the expensive part.
func (d *dedup) keys(ev *audit.Event) (k recordKeys) {
	if ev.Kind == audit.KindSignIn {
		if len(ev.SignInID) == 0 {
			return k
		}
		id := makeKey(ev.SignInID)
		// alt: a UAL record whose Id is this sign-in's id, i.e. its
		// twin when (as usual) its IntraSystemId equals its Id.
		return recordKeys{record: xorKey(id, d.ns[1]), own: xorKey(id, d.ns[3]), other: xorKey(id, d.ns[2]), alt: id}
	}
	if len(ev.ID) > 0 {
		k.record = makeKey(ev.ID)
	}
	// The UAL's STS logon carries the Entra request id (the sign-in log's
	// id) as IntraSystemId.
	if len(ev.IntraSystemID) > 0 && ev.IsSignin() {
		id := makeKey(ev.IntraSystemID)
		k.own, k.other = xorKey(id, d.ns[2]), xorKey(id, d.ns[3])
		// Usually IntraSystemId is the record's own Id: then the record
		// key already says the event was seen (the sign-in log checks it
		// as alt), and a second key per UAL sign-in, a fifth of the set's
		// memory, is saved.
		k.ownIsRecord = id == k.record
	}
	return k
}

// recordKeys are the set keys of one record.
type recordKeys struct {
	record     idKey // the record itself
	own, other idKey // the sign-in event, as this log and the other log name it
	// ownIsRecord: own need not be stored, record stands for it; alt is,
	// for a sign-in log record, the key under which such a UAL record is.
	ownIsRecord bool
	alt         idKey
}

// check decides a record's fate; only the batch whose turn it is calls it.
// A sign-in is the same as one counted before only when the other log
// recorded it: two UAL records that share an IntraSystemId both count.
func (d *dedup) check(k *recordKeys, ev *audit.Event) recordFate {
	if k.record != (idKey{}) && !d.ids.add(k.record) {
		return duplicate
	}
	if k.own != (idKey{}) {
		signInLog := ev.Kind == audit.KindSignIn
		if !k.ownIsRecord {
			d.ids.add(k.own)
			d.signInLogSeen = d.signInLogSeen || signInLog
		}
		// A UAL sign-in's twin can only be there once the sign-in log has
		// been read from: before that (a UAL export alone, or the UAL
		// given first) the lookup, a trip to memory in the ordered step,
		// is skipped.
		twin := (signInLog || d.signInLogSeen) && d.ids.has(k.other)
		unusable := ev.UserKind == audit.UserUnusable
		if twin || (k.alt != (idKey{}) && d.ids.has(k.alt)) {
			if unusable {
				d.aliasUnknown(k.other, ev)
			}
			// Only once an app-less UAL sign-in was counted, and only for
			// a copy that names an application: the UAL with its
			// ApplicationId pays nothing.
			if signInLog && d.noAppSeen && len(ev.AppID) > 0 {
				name := ev.User
				if unusable {
					name = d.countedUnknown(k.other, ev)
				}
				for o := audit.Success; o <= audit.Failure; o++ {
					if d.ids.has(d.noAppKey(k.other, name, unusable, o)) {
						return sameSigninFrom + recordFate(o)
					}
				}
			}
			return sameSignin
		}
		if unusable {
			if d.unknownBy == nil {
				d.unknownBy = map[idKey]alias{}
			}
			d.unknownBy[k.own] = alias{name: "unknown:" + string(unknownKey(ev)), kind: ev.Kind, account: accountKeyed(ev)}
		}
		if !signInLog && len(ev.AppID) == 0 {
			if o := ev.Outcome(); o != audit.NotSignin {
				name := ev.User
				if unusable {
					name = unknownKey(ev)
				}
				d.ids.add(d.noAppKey(k.own, name, unusable, o))
				d.noAppSeen = true
			}
		}
	}
	return fresh
}

// noAppKey is the key under which a UAL sign-in counted without an
// application is remembered, so that its twin in the sign-in log, which
// names the application, can give it one (sameSigninFrom): the sign-in
// event as the UAL names it (ual: a UAL record's own key, a sign-in log
// record's other), in the namespace of the counted copy's outcome o, and
// the account it was counted under: its canonical user, or for an
// unusable UserId (unknown) its unknownKey.
//
// The account is in the key because the move happens on the twin's
// account: when the logs name the account differently (they disagree
// about the sign-in), the counted sign-in stays where the copy read first
// put it, rather than one account's count going negative and another's
// application being one it was never counted with. Two names that
// aliasUnknown joins are one account (countedUnknown).
func (d *dedup) noAppKey(ual idKey, name []byte, unknown bool, o audit.Outcome) idKey {
	ns := nsNoApp + int(o)
	k := xorKey(xorKey(ual, d.ns[2]), d.ns[ns])
	// The name hashed in two halves keyed by the namespace; an unknownKey
	// is told apart from a canonical user by the keys used.
	k0, k1 := binary.LittleEndian.Uint64(d.ns[ns][:8]), binary.LittleEndian.Uint64(d.ns[ns][8:])
	if unknown {
		k0, k1 = ^k0, ^k1
	}
	var u idKey
	binary.LittleEndian.PutUint64(u[:8], keyedHash(k0, name))
	binary.LittleEndian.PutUint64(u[8:], keyedHash(k1, name))
	return xorKey(k, u)
}

// countedUnknown is the unknownKey a sign-in log record with an unusable
// UserId is to find its counted UAL copy's mark under: the UAL's, when
// aliasUnknown joins the two names into one identity (each log keys such
// an account its own way), else its own. counted is the sign-in event's
// key as the UAL names it.
func (d *dedup) countedUnknown(counted idKey, ev *audit.Event) []byte {
	c, ok := d.unknownBy[counted]
	if ok && c.kind == audit.KindUAL && c.account && accountKeyed(ev) {
		return []byte(strings.TrimPrefix(c.name, "unknown:"))
	}
	return unknownKey(ev)
}

// alias is the name an unusable account's sign-in was counted under, and
// the log that named it.
type alias struct {
	name    string
	kind    audit.Kind
	account bool // named by an account id, not the tenant fallback
	// org is the OrganizationId of the record that revealed the pair (on
	// the pair's second name only), for sinks that keep tenants apart.
	org string
}

// accountKeyed reports whether unknownKey names the account itself.
func accountKeyed(ev *audit.Event) bool {
	return (ev.ActorObject != nil && !audit.IsPlaceholderGUID(ev.ActorObject)) ||
		(len(ev.UserKey) > 0 && !audit.IsPlaceholder(ev.UserKey))
}

// aliasUnknown records that a sign-in counted under one external-unknown
// name is, in the other log, under another: the logs key an account with
// no usable UserId differently (the UAL by its Actor or UserKey, the sign-in
// log by its userId or tenant), and the two names are one identity.
//
// Only names that identify an account (its object id, its UserKey) are
// joined: a name that falls back to the home tenant covers every unknown
// account of that tenant, and joining through it would merge accounts the
// UAL keeps apart.
func (d *dedup) aliasUnknown(counted idKey, ev *audit.Event) {
	c, ok := d.unknownBy[counted]
	name := "unknown:" + string(unknownKey(ev))
	if !ok || c.name == name || !c.account || !accountKeyed(ev) {
		return
	}
	org := ""
	if audit.IsTenantID(ev.OrgID) {
		org = string(ev.OrgID)
	}
	d.aliases = append(d.aliases, [2]alias{c, {name: name, kind: ev.Kind, org: org}})
}

func xorKey(a, b idKey) idKey {
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

func newDedup() *dedup {
	d := &dedup{ids: newIDSet()}
	for i := 1; i < len(d.ns); i++ {
		seed := maphash.MakeSeed()
		binary.LittleEndian.PutUint64(d.ns[i][:8], maphash.Bytes(seed, []byte{byte(i)}))
		binary.LittleEndian.PutUint64(d.ns[i][8:], maphash.Bytes(seed, []byte{byte(i), 1}))
	}
	return d
}

// idSet is a hash set of 16-byte keys, in idShards open-addressing
// tables chosen by the top bits of the key's hash: 16 bytes a slot, each
// table at most three quarters full, probed linearly. It holds one entry
// per record (two for a UAL sign-in), so its memory is what grows with
// the input: sharded, each table doubles on its own, and growing never
// holds the old and new copy of the whole set at once (a single table
// would briefly need 1.5 times its size). The tables live outside the Go
// heap where the platform allows (offHeap): on the heap they would raise
// the garbage collector's goal by their own size. The hash is seeded per
// process so that crafted Ids cannot make probes collide.
type idSet struct {
	shards  [idShards]idTable
	seed    uint64
	hasZero bool // the all-zero key marks empty slots, so it is kept apart

	// Spilling (idspill.go): a table never grows past maxSlots (0: no
	// cap); the set moves its keys to runs in dir instead.
	maxSlots int
	dir      string
	runs     []*idRun
	spills   int
	sortTmp  []idKey // sortKeys' scratch, kept across spills
	page     [fenceEvery]idKey
	// spillErr: writing a run failed, so the set grows in memory from then
	// on; ioErr: reading a run failed, so the run cannot be trusted.
	spillErr, ioErr error
	// touched sums what touch reads, so that the reads are not dropped.
	touched uint64
	// arena holds the tables once they are large (idarena.go); arenaMap
	// is its mapping; noArena: mapping it failed, so tables keep their own.
	arena    []idKey
	arenaMap []byte
	noArena  bool
}

// idShards is a power of two; 64 tables keep each one's growth small.
const idShards = 64

// idTable is one open-addressing table of an idSet.
type idTable struct {
	slots []idKey
	n     int
	mask  uint64
}

func newIDSet() idSet {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], maphash.Bytes(maphash.MakeSeed(), []byte("outsider")))
	s := idSet{seed: binary.LittleEndian.Uint64(b[:]) | 1}
	for i := range s.shards {
		s.shards[i] = idTable{slots: offHeap[idKey](1 << 10), mask: 1<<10 - 1}
	}
	return s
}

func (s *idSet) hash(k *idKey) uint64 {
	x := binary.LittleEndian.Uint64(k[:8]) ^ s.seed
	x *= 0x9e3779b97f4a7c15
	x ^= binary.LittleEndian.Uint64(k[8:])
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x
}

// table returns k's table and its hash; the top bits choose the table,
// the low bits the slot.
func (s *idSet) table(k *idKey) (*idTable, uint64) {
	h := s.hash(k)
	return &s.shards[h>>58], h
}

// touch reads the first slot each of a batch's record keys probes, before
// the batch is checked: the set is far larger than the caches, so each
// insert is a trip to memory, and making them one after the other in the
// ordered step waits on each in turn, while the reads here, independent of
// one another, are in flight together. It changes nothing: a key's slot
// moves when its table grows, and then the check merely misses.
func (s *idSet) touch(keys []recordKeys) {
	var t uint64
	for i := range keys {
		k := &keys[i]
		if k.record != (idKey{}) {
			tb, h := s.table(&k.record)
			t += uint64(tb.slots[h&tb.mask][0])
		}
		if k.own != (idKey{}) && !k.ownIsRecord {
			tb, h := s.table(&k.own)
			t += uint64(tb.slots[h&tb.mask][0])
		}
	}
	s.touched += t
}

// has reports whether k is in the set.
func (s *idSet) has(k idKey) bool {
	if k == (idKey{}) {
		return s.hasZero
	}
	t, h := s.table(&k)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i] {
		case idKey{}:
			return len(s.runs) > 0 && s.inRuns(&k, h)
		case k:
			return true
		}
	}
}

// add inserts k and reports whether it was new.
func (s *idSet) add(k idKey) bool {
	if k == (idKey{}) {
		if s.hasZero {
			return false
		}
		s.hasZero = true
		return true
	}
	t, h := s.table(&k)
	s.makeRoom(t)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i] {
		case idKey{}:
			if len(s.runs) > 0 && s.inRuns(&k, h) {
				return false
			}
			t.slots[i] = k
			t.n++
			return true
		case k:
			return false
		}
	}
}

// makeRoom grows t, or spills the set, before t takes one more key.
func (s *idSet) makeRoom(t *idTable) {
	if 4*(t.n+1) > 3*len(t.slots) {
		if s.maxSlots > 0 && len(t.slots) >= s.maxSlots && s.spillErr == nil {
			// Every table empties into a run (t with them).
			if err := s.spill(); err != nil {
				s.spillErr = err
				t.grow(s)
			}
		} else {
			t.grow(s)
		}
	}
}

func (t *idTable) grow(s *idSet) {
	old := t.slots
	defer s.freeTable(old)
	t.slots = s.tableMem(s.tableIndex(t), 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, k := range old {
		if k == (idKey{}) {
			continue
		}
		h := s.hash(&k) & t.mask
		for t.slots[h] != (idKey{}) {
			h = (h + 1) & t.mask
		}
		t.slots[h] = k
	}
}

// len is the number of keys in the set.
func (s *idSet) len() int {
	n := 0
	for i := range s.shards {
		n += s.shards[i].n
	}
	for _, r := range s.runs {
		n += r.n
	}
	if s.hasZero {
		n++
	}
	return n
}

// release frees the tables.
func (s *idSet) release() {
	for i := range s.shards {
		s.freeTable(s.shards[i].slots)
		s.shards[i].slots = nil
	}
	freeArena(s.arenaMap)
	s.arena, s.arenaMap = nil, nil
	for _, r := range s.runs {
		r.close()
	}
	s.runs = nil
}
