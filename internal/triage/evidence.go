package triage

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/outsider-sec/outsider/internal/audit"
)

// Evidence is kept as the K earliest records of each aggregate. Exports
// often come newest first (the Purview portal's do), and then every record
// beats the ones kept so far: keeping evidence must cost a copy into a
// reused buffer, not an allocation, or descending input would churn the
// garbage collector. Slots therefore own byte buffers that are overwritten
// in place; strings are made only when the judge reads the few lists it
// needs.

// ref is a record kept as evidence, as the judge reads it: enough to show
// it and to find it raw.
type ref struct {
	time   int64
	id     string
	file   int32
	line   int64
	op     string
	user   string // raw UserId as written in the record
	ip     netip.Addr
	object string
	target string
}

// refBefore orders evidence: earliest first, then by id and position so
// that ties never depend on arrival order.
func refBefore(a, b *ref) bool {
	if a.time != b.time {
		return a.time < b.time
	}
	if a.id != b.id {
		return a.id < b.id
	}
	if a.file != b.file {
		return a.file < b.file
	}
	return a.line < b.line
}

// earlier returns the earlier of two refs; nil counts as later than any.
func earlier(x, y *ref) *ref {
	switch {
	case x == nil:
		return y
	case y == nil:
		return x
	case refBefore(y, x):
		return y
	}
	return x
}

// slot is one kept record. buf holds its id, raw user, object and target
// back to back.
type slot struct {
	time             int64
	file             int32
	line             int64
	op               string // interned
	ip               netip.Addr
	buf              []byte
	nID, nUser, nObj int
}

func (s *slot) id() []byte { return s.buf[:s.nID] }

// less orders slots like refBefore.
func (s *slot) less(time int64, id []byte, file int32, line int64) bool {
	if time != s.time {
		return time < s.time
	}
	if c := bytes.Compare(id, s.id()); c != 0 {
		return c < 0
	}
	if file != s.file {
		return file < s.file
	}
	return line < s.line
}

func (s *slot) ref() ref {
	b := s.buf
	return ref{
		time: s.time, file: s.file, line: s.line, op: s.op, ip: s.ip,
		id:     string(b[:s.nID]),
		user:   string(b[s.nID : s.nID+s.nUser]),
		object: string(b[s.nID+s.nUser : s.nID+s.nUser+s.nObj]),
		target: string(b[s.nID+s.nUser+s.nObj:]),
	}
}

// topK keeps the k earliest records, sorted. The slots stay where they
// were first stored and order lists them earliest first: making room for
// a record moves a few int32s, not k slots of a hundred bytes each. That
// is the common case for newest-first exports (the Purview portal's),
// where every record is the earliest seen so far.
type topK struct {
	items []slot
	// order indexes items earliest first, as a ring starting at head:
	// a record earlier than all (every record of a newest-first export)
	// then takes the last one's slot by moving head back one, with no
	// shifting. Other insertions straighten the ring first (head = 0).
	order []int32
	head  int
	// last is the time of the last kept record: most records are turned
	// away by it alone, and reading it here rather than in items saves a
	// cache miss per record (aggregation is memory-bound: a 4 GB export
	// has thousands of lists, visited in no order).
	last int64
	// firstTime is the time of the earliest kept record when firstSet, for
	// the same reason: a newest-first export offers every record, and
	// each must be found earlier than all without reaching into items
	// (two dependent misses, order then the slot: ~10% of a Purview CSV
	// triage). Not saved with a session (snapshot.go): unset after a
	// load, until the list next changes.
	firstTime int64
	firstSet  bool
}

// at returns the i-th earliest kept record.
func (t *topK) at(i int) *slot {
	j := t.head + i
	if j >= len(t.order) {
		j -= len(t.order)
	}
	return &t.items[t.order[j]]
}

// settle records the times of the first and last kept records.
func (t *topK) settle() {
	t.last = t.at(len(t.order) - 1).time
	t.firstTime, t.firstSet = t.at(0).time, true
}

// wants reports whether a record would enter the list, before anything is
// copied.
func (t *topK) wants(k int, ev *audit.Event, file int32, line int64) bool {
	if len(t.order) < k {
		return true
	}
	if ev.Time != t.last { // the usual case, decided without a call
		return ev.Time < t.last
	}
	return t.at(len(t.order)-1).less(ev.Time, ev.ID, file, line)
}

// place makes room for a record at its sorted position and returns the
// slot to fill: a new one while the list is short, else the evicted last
// one, whose buffer is reused.
func (t *topK) place(k int, time int64, id []byte, file int32, line int64) *slot {
	// The position: the first kept record that is not before this one. A
	// record earlier than all (newest-first input) needs one comparison.
	lo, hi := 0, len(t.order)
	if hi > 0 {
		var before bool
		if t.firstSet && time != t.firstTime {
			before = time < t.firstTime // as at(0).less would decide
		} else {
			before = t.at(0).less(time, id, file, line)
		}
		if before {
			hi = 0
		}
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.at(m).less(time, id, file, line) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	i := lo
	if i == 0 && len(t.order) == k {
		// Earliest of all, list full: the last record's slot becomes the
		// first, by turning the ring.
		t.head--
		if t.head < 0 {
			t.head += k
		}
		return &t.items[t.order[t.head]]
	}
	if t.head != 0 {
		// Straighten the ring so the insertion below can shift.
		slices.Reverse(t.order[:t.head])
		slices.Reverse(t.order[t.head:])
		slices.Reverse(t.order)
		t.head = 0
	}
	if len(t.order) < k {
		if len(t.items) == cap(t.items) {
			// Grow to at most k: append's doubling would leave a full list of
			// 20 with room for 32, and a 4 GB export holds thousands of them.
			n := min(k, max(2*cap(t.items), 1))
			t.items = slices.Grow(t.items, n-len(t.items))
			t.order = slices.Grow(t.order, n-len(t.order))
		}
		t.items = append(t.items, slot{})
		t.order = append(t.order, int32(len(t.items)-1))
	} else if i >= k {
		return nil
	}
	spare := t.order[len(t.order)-1]
	copy(t.order[i+1:], t.order[i:len(t.order)-1])
	t.order[i] = spare
	return &t.items[spare]
}

// offer keeps the record if it is among the k earliest. object and target
// are what the evidence shows for it (the object, or for a sign-in the
// application).
func (t *topK) offer(k int, op string, ev *audit.Event, file int32, line int64, object, target []byte) {
	if !t.wants(k, ev, file, line) {
		return
	}
	s := t.place(k, ev.Time, ev.ID, file, line)
	if s == nil {
		return
	}
	s.time, s.file, s.line, s.op = ev.Time, file, line, op
	s.ip = netip.Addr{}
	if ev.NIPs > 0 {
		s.ip = ev.IPs[0]
	}
	// One allocation at most (four appends could each grow the buffer).
	buf := slices.Grow(s.buf[:0], len(ev.ID)+len(ev.UserID)+len(object)+len(target))
	s.buf = append(append(append(append(buf, ev.ID...), ev.UserID...), object...), target...)
	s.nID, s.nUser, s.nObj = len(ev.ID), len(ev.UserID), len(object)
	t.settle()
}

// merge folds o's records into t.
func (t *topK) merge(k int, o *topK) {
	for i := range o.order {
		src := o.at(i)
		s := t.place(k, src.time, src.id(), src.file, src.line)
		if s == nil {
			continue
		}
		buf := append(s.buf[:0], src.buf...)
		*s = *src
		s.buf = buf
		t.settle()
	}
}

// refs materialises the kept records, earliest first.
func (t *topK) refs() []ref {
	out := make([]ref, len(t.order))
	for i := range t.order {
		out[i] = t.at(i).ref()
	}
	return out
}

// first returns the earliest kept record, or nil.
func (t *topK) first() *ref {
	if len(t.order) == 0 {
		return nil
	}
	r := t.at(0).ref()
	return &r
}

// firstRec is the earliest record of a kind in an aggregate (the first
// mailbox access, administrative operation, successful sign-in...), for a
// reason that cites it: its time, place and id, nothing else. It is kept
// inline in its bucket: a newest-first export replaces it on every record
// of that kind, and in place that touches no memory the bucket has not
// already brought into cache.
type firstRec struct {
	time int64
	line int64
	file int32
	set  bool
	nID  uint8    // bytes of id used; longID holds a longer one
	id   [36]byte // a GUID's length
	// longID holds an id longer than a GUID (not seen in practice).
	longID string
}

func (f *firstRec) idBytes() []byte {
	if f.longID != "" {
		return []byte(f.longID)
	}
	return f.id[:f.nID]
}

// offer keeps the record if it is earlier than the one kept (in the
// order of refBefore).
func (f *firstRec) offer(time int64, id []byte, file int32, line int64) {
	if f.set {
		switch {
		case time != f.time:
			if time > f.time {
				return
			}
		default:
			if c := bytes.Compare(id, f.idBytes()); c != 0 {
				if c > 0 {
					return
				}
			} else if file > f.file || (file == f.file && line >= f.line) {
				return
			}
		}
	}
	f.time, f.file, f.line, f.set = time, file, line, true
	if len(id) <= len(f.id) {
		f.nID, f.longID = uint8(copy(f.id[:], id)), ""
	} else {
		f.nID, f.longID = 0, string(id)
	}
}

// before reports whether f's record comes before o's in the order of
// refBefore (both set), without building a ref.
func (f *firstRec) before(o *firstRec) bool {
	if f.time != o.time {
		return f.time < o.time
	}
	if c := bytes.Compare(f.idBytes(), o.idBytes()); c != 0 {
		return c < 0
	}
	if f.file != o.file {
		return f.file < o.file
	}
	return f.line < o.line
}

// merge folds in o's record.
func (f *firstRec) merge(o *firstRec) {
	if o.set {
		f.offer(o.time, o.idBytes(), o.file, o.line)
	}
}

// first returns the record kept, or nil.
func (f *firstRec) first() *ref {
	if !f.set {
		return nil
	}
	return &ref{time: f.time, id: string(f.idBytes()), file: f.file, line: f.line}
}
