package triage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"unsafe"

	"github.com/outsider-sec/outsider/internal/source"
)

// A saved session is everything a Session carries from one Add to the
// next: the aggregate shards, the deduplication state (its keys, their
// per-run namespaces, the external-unknown aliases), the inputs read and
// their problems. The aggregates are written field by field by a small
// reflection codec (below) rather than through an exported mirror of
// every aggregate type: a field added to the engine is saved without
// anyone remembering to, and one the codec cannot write (a function, a
// channel, an interface) fails the save instead of being lost.
//
// The namespaces make crafted record Ids unable to collide with other
// records' keys; a saved session holds them, so it must be kept as
// private as the state (it holds no credential).

// sessionMagic begins a saved session; another layout is refused.
// v4: the deduplication state has the namespaces of app-less UAL
// sign-ins (dedup.noAppKey) and noAppSeen, and a gzip checkpoint holds a
// reference to its window, kept apart.
// v5: an account's earliest app-less successes and the ones moved away
// (userStats.noApp).
const sessionMagic = "outsider/triage-session/v5"

// ErrSessionFormat says a saved session cannot be read: another layout,
// or damaged.
var ErrSessionFormat = errors.New("not a saved triage session of this version")

// ErrSessionVersion says, beside ErrSessionFormat, that the session was
// saved by another version of outsider (another layout), not damaged.
var ErrSessionVersion = errors.New("saved by another version of outsider")

// sessionMagicPrefix begins every layout's sessionMagic.
const sessionMagicPrefix = "outsider/triage-session/"

// codecSkip are fields the codec leaves out, by type and name: caches
// that point into other aggregates (a copy would go stale), scratch
// buffers, and what Session sets again on load.
var codecSkip = map[reflect.Type]map[string]bool{
	reflect.TypeFor[agg]():       {"intern": true, "keyBuf": true, "userBuf": true, "nameBuf": true, "maxShares": true, "tempDir": true, "shareLog": true, "shareLogErr": true},
	reflect.TypeFor[bucket]():    {"account": true},
	reflect.TypeFor[userStats](): {"lastApp": true, "lastAppID": true},
	reflect.TypeFor[topK]():      {"firstTime": true, "firstSet": true},
	reflect.TypeFor[dedup]():     {"ids": true},
	reflect.TypeFor[problems]():  {"mu": true, "on": true},
	// The windows of an input's gzip checkpoints live in the session's
	// store (memory and a temporary file), not in the snapshot: a loaded
	// session's second look restarts such an input at its start or a
	// member's, slower but whole (source.ReadIndexed).
	reflect.TypeFor[source.Index](): {"windows": true},
}

var addrType = reflect.TypeFor[netip.Addr]()

// Save writes the session as it stands, to be continued by LoadSession.
// Sharing records spilled to disk are copied in; the session goes on
// appending to its spill files.
func (s *Session) Save(w io.Writer) error {
	if s.ended {
		return errSessionEnded
	}
	if s.key == 0 {
		return errors.New("triage: only a session from NewSession can be saved")
	}
	for _, a := range s.aggs {
		if a.shareLogErr != nil {
			return fmt.Errorf("triage: sharing records could not be spilled to disk: %w", a.shareLogErr)
		}
	}
	e := &encoder{w: bufio.NewWriterSize(w, 256<<10)}
	e.bytes([]byte(sessionMagic))
	e.varint(int64(s.k))
	e.uvarint(s.key)
	e.value(reflect.ValueOf(s.c.dups).Elem())
	e.varint(s.c.earliest.get())
	e.value(reflect.ValueOf(s.c.probs).Elem())
	e.value(reflect.ValueOf(&s.inputs).Elem())
	e.value(reflect.ValueOf(&s.paths).Elem())
	for _, a := range s.aggs {
		e.value(reflect.ValueOf(a).Elem())
		e.shareLog(a.shareLog)
	}
	e.idSet(&s.c.dups.ids)
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

// LoadSession reads a session Save wrote, at most limit bytes of r, to
// continue it with opts (which must be the options it was started with;
// the caller keeps them). Whatever r holds, it returns a session or an
// error wrapping ErrSessionFormat (or r's own error), never a session
// read wrong: the layout is checked as it is read, and the caller checks
// the bytes' integrity (a checksum) before using the session.
func LoadSession(r io.Reader, limit int64, opts Options) (_ *Session, err error) {
	s := newSession(opts, 0)
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	d := &decoder{r: bufio.NewReaderSize(r, 256<<10), left: limit}
	if h := string(d.bytes()); h != sessionMagic {
		if strings.HasPrefix(h, sessionMagicPrefix) {
			// An upgrade, not damage: said so (a watch rebuilds either
			// way, and says which).
			return nil, fmt.Errorf("%w: %w (layout %q, want %q)", ErrSessionFormat, ErrSessionVersion, h, sessionMagic)
		}
		return nil, fmt.Errorf("%w: no session header", ErrSessionFormat)
	}
	if k := d.varint(); d.err == nil && k != int64(s.k) {
		return nil, fmt.Errorf("%w: saved with %d evidence records, want %d", ErrSessionFormat, k, s.k)
	}
	s.key = d.uvarint()
	d.value(reflect.ValueOf(s.c.dups).Elem())
	if e := d.varint(); e != 0 {
		s.c.earliest.lower(e)
	}
	d.value(reflect.ValueOf(s.c.probs).Elem())
	d.value(reflect.ValueOf(&s.inputs).Elem())
	d.value(reflect.ValueOf(&s.paths).Elem())
	for i := range s.aggs {
		a := &agg{}
		d.value(reflect.ValueOf(a).Elem())
		a.intern = map[string]string{}
		s.setShard(i, a)
		d.shareLog(a)
	}
	d.idSet(&s.c.dups.ids)
	if d.err == nil && s.key == 0 {
		d.fail("no shard key")
	}
	if d.err == nil {
		if _, e := d.r.ReadByte(); e != io.EOF {
			d.fail("bytes after the end")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSessionFormat, err)
	}
	return s, nil
}

// check refuses what the engine could not have written: evidence naming
// files the session did not read, lists longer than the cap. The engine
// indexes by these without checking again.
func (s *Session) check() error {
	files := int32(len(s.inputs))
	k := s.k
	ok := func(f int32) bool { return f >= 0 && f < files }
	topOK := func(t *topK) bool {
		if len(t.items) > k || len(t.order) != len(t.items) || (t.head != 0 && (t.head < 0 || t.head >= len(t.order))) {
			return false
		}
		seen := make([]bool, len(t.items))
		for _, o := range t.order {
			if o < 0 || int(o) >= len(t.items) || seen[o] {
				return false
			}
			seen[o] = true
		}
		for i := range t.items {
			sl := &t.items[i]
			if !ok(sl.file) || sl.nID < 0 || sl.nUser < 0 || sl.nObj < 0 || sl.nID+sl.nUser+sl.nObj > len(sl.buf) {
				return false
			}
		}
		return true
	}
	firstOK := func(f *firstRec) bool { return !f.set || (ok(f.file) && int(f.nID) <= len(f.id)) }
	for _, a := range s.aggs {
		if len(a.fileRecords) != len(a.fileSkipped) || len(a.fileRecords) > len(s.inputs) {
			return errors.New("file counts")
		}
		for _, b := range a.buckets {
			if !topOK(&b.evNon) || !topOK(&b.evSig) || !firstOK(&b.firstMailbox) || !firstOK(&b.firstAdmin) || !firstOK(&b.firstNonAccess) {
				return errors.New("evidence out of bounds")
			}
		}
		for _, u := range a.users {
			if u.ips == nil || u.apps == nil {
				return errors.New("account without its maps")
			}
			for _, ap := range u.apps {
				if ap == nil || !firstOK(&ap.firstSuccess) {
					return errors.New("evidence out of bounds")
				}
			}
			if u.noApp != nil {
				if len(u.noApp.cands) > NoAppCands {
					return errors.New("evidence out of bounds")
				}
				for i := range u.noApp.cands {
					if !firstOK(&u.noApp.cands[i].rec) {
						return errors.New("evidence out of bounds")
					}
				}
			}
		}
		for _, sh := range a.shares {
			if sh == nil || !topOK(&sh.ev) {
				return errors.New("evidence out of bounds")
			}
		}
		for name, u := range a.users {
			if u == nil || u.user != name {
				return errors.New("account under another name")
			}
		}
		for _, b := range a.buckets {
			if b == nil {
				return errors.New("empty bucket")
			}
		}
	}
	return nil
}

// shareLog writes a shard's spilled sharing records (the log's bytes as
// they are), or that there are none.
func (e *encoder) shareLog(l *shareLog) {
	if l == nil {
		e.uvarint(0)
		return
	}
	if e.err == nil {
		e.err = l.w.Flush()
	}
	size, err := l.f.Seek(0, io.SeekEnd)
	if e.err == nil {
		e.err = err
	}
	e.uvarint(uint64(l.n) + 1)
	e.uvarint(uint64(size))
	if e.err == nil {
		_, e.err = io.Copy(e.w, io.NewSectionReader(l.f, 0, size))
	}
}

// shareLog reads what encoder.shareLog wrote into a new log of a's.
func (d *decoder) shareLog(a *agg) {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return
	}
	size := d.count(1)
	if d.err != nil {
		return
	}
	l, err := newShareLog(a.tempDir)
	if err != nil {
		d.err = err
		return
	}
	a.shareLog, l.n = l, int64(n-1)
	if _, err := io.CopyN(l.w, d.r, int64(size)); err != nil {
		d.fail("truncated")
		return
	}
	d.left -= int64(size)
}

// idSet writes the deduplication set as it stands: its hash seed (the
// runs' Bloom filters and the tables depend on it), the keys in its
// tables, and each run spilled to disk as it is (its keys, fences and
// filter), so that loading it sorts and filters nothing again.
func (e *encoder) idSet(s *idSet) {
	e.uvarint(s.seed)
	e.value(reflect.ValueOf(s.hasZero))
	e.uvarint(uint64(s.spills))
	for i := range s.shards {
		var keys []idKey
		for _, k := range s.shards[i].slots {
			if k != (idKey{}) {
				keys = append(keys, k)
			}
		}
		e.uvarint(uint64(len(keys)))
		e.raw(keyBytes(keys))
	}
	e.uvarint(uint64(len(s.runs)))
	for _, r := range s.runs {
		e.uvarint(uint64(r.level))
		size := int64(0)
		for i := range r.seg {
			seg := &r.seg[i]
			e.uvarint(uint64(seg.n))
			e.raw(keyBytes(seg.fences))
			size += int64(seg.n) * int64(len(idKey{}))
		}
		e.uvarint(uint64(len(r.bloom)))
		e.raw(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(r.bloom))), 8*len(r.bloom)))
		if e.err == nil {
			_, e.err = io.Copy(e.w, io.NewSectionReader(r.f, 0, size))
		}
	}
}

// idSet reads what encoder.idSet wrote into s, a new set: the runs go to
// new files in s.dir.
func (d *decoder) idSet(s *idSet) {
	s.seed = d.uvarint() | 1
	var zero bool
	d.value(reflect.ValueOf(&zero).Elem())
	s.hasZero = zero
	s.spills = d.count(0)
	for i := range s.shards {
		n := d.count(int64(len(idKey{})))
		keys := make([]idKey, n)
		d.raw(keyBytes(keys))
		t := &s.shards[i]
		for _, k := range keys {
			if k == (idKey{}) || s.hash(&k)>>58 != uint64(i) {
				d.fail("a key in the wrong table")
				return
			}
			s.makeRoom(t)
			h := s.hash(&k)
			for j := h & t.mask; ; j = (j + 1) & t.mask {
				if t.slots[j] == (idKey{}) {
					t.slots[j] = k
					t.n++
					break
				}
				if t.slots[j] == k {
					d.fail("a key twice")
					return
				}
			}
		}
	}
	runs := d.count(1)
	for range runs {
		if d.err != nil {
			return
		}
		r, err := newRunFile(s.dir)
		if err != nil {
			d.err = err
			return
		}
		s.runs = append(s.runs, r)
		r.level = d.count(0)
		var off int64
		for i := range r.seg {
			seg := &r.seg[i]
			seg.n = d.count(0)
			seg.off = off
			if d.err != nil || int64(seg.n)*int64(len(idKey{})) > d.left {
				d.fail("run longer than the session")
				return
			}
			seg.fences = make([]idKey, (seg.n+fenceEvery-1)/fenceEvery)
			d.raw(keyBytes(seg.fences))
			off += int64(seg.n) * int64(len(idKey{}))
			r.n += seg.n
		}
		words := d.count(8)
		if d.err == nil && words != bloomWords(r.n) {
			d.fail("run filter of %d words for %d keys", words, r.n)
		}
		if d.err != nil {
			return
		}
		r.bloom = offHeap[uint64](words)
		d.raw(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(r.bloom))), 8*words))
		if d.err == nil && off > d.left {
			d.fail("run longer than the session")
		}
		if d.err != nil {
			return
		}
		if _, err := io.CopyN(r.f, d.r, off); err != nil {
			d.fail("truncated")
			return
		}
		d.left -= off
	}
}

// encoder writes values as the codec lays them out: integers as varints,
// strings and byte slices with their length, slices and maps with their
// count, pointers and with a presence byte, structs field by field.
type encoder struct {
	w   *bufio.Writer
	err error
	tmp [binary.MaxVarintLen64]byte
}

func (e *encoder) uvarint(x uint64) { e.raw(binary.AppendUvarint(e.tmp[:0], x)) }
func (e *encoder) varint(x int64)   { e.raw(binary.AppendVarint(e.tmp[:0], x)) }
func (e *encoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
func (e *encoder) bytes(b []byte) {
	e.uvarint(uint64(len(b)))
	e.raw(b)
}

// field returns v's i-th field, writable even when unexported (v is
// addressable).
func field(v reflect.Value, i int) reflect.Value {
	f := v.Field(i)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// savedFields calls each with every field of the struct v that the codec
// saves (all but codecSkip's), in declaration order: the one walk both
// the encoder and the decoder make, so that they cannot disagree on which
// fields a saved session holds.
func savedFields(v reflect.Value, each func(reflect.Value)) {
	t := v.Type()
	skip := codecSkip[t]
	for i := range t.NumField() {
		if !skip[t.Field(i).Name] {
			each(field(v, i))
		}
	}
}

func (e *encoder) value(v reflect.Value) {
	if e.err != nil {
		return
	}
	t := v.Type()
	if t == addrType {
		b, _ := v.Interface().(netip.Addr).MarshalBinary()
		e.bytes(b)
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.raw([]byte{1})
		} else {
			e.raw([]byte{0})
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.varint(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.uvarint(v.Uint())
	case reflect.String:
		e.uvarint(uint64(v.Len()))
		e.raw(unsafe.Slice(unsafe.StringData(v.String()), v.Len()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			e.bytes(v.Bytes())
			return
		}
		e.uvarint(uint64(v.Len()))
		for i := range v.Len() {
			e.value(v.Index(i))
		}
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && v.CanAddr() {
			e.raw(v.Bytes())
			return
		}
		for i := range v.Len() {
			e.value(v.Index(i))
		}
	case reflect.Map:
		e.uvarint(uint64(v.Len()))
		it := v.MapRange()
		for it.Next() {
			e.value(addressable(it.Key()))
			e.value(addressable(it.Value()))
		}
	case reflect.Pointer:
		if v.IsNil() {
			e.raw([]byte{0})
			return
		}
		e.raw([]byte{1})
		e.value(v.Elem())
	case reflect.Struct:
		savedFields(v, e.value)
	default:
		e.err = fmt.Errorf("triage: cannot save a %s (%s)", t, t.Kind())
	}
}

// addressable copies a map's key or value so its fields can be read.
func addressable(v reflect.Value) reflect.Value {
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// decoder reads what encoder wrote; left bounds every length it accepts
// by the bytes that remain, so a damaged count cannot make it allocate
// more than the input could fill.
type decoder struct {
	r    *bufio.Reader
	left int64
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrSessionFormat, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.left <= 0 {
		d.fail("truncated")
		return 0
	}
	b, err := d.r.ReadByte()
	if err != nil {
		d.fail("truncated")
		return 0
	}
	d.left--
	return b
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for s := 0; s < 70; s += 7 {
		b := d.byte()
		if d.err != nil {
			return 0
		}
		if b < 0x80 {
			if s == 63 && b > 1 {
				break
			}
			return x | uint64(b)<<s
		}
		x |= uint64(b&0x7f) << s
	}
	d.fail("bad varint")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) raw(b []byte) {
	if d.err != nil {
		return
	}
	if int64(len(b)) > d.left {
		d.fail("truncated")
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("truncated")
		return
	}
	d.left -= int64(len(b))
}

// count reads a length that at least min bytes an element must fill.
func (d *decoder) count(min int64) int {
	n := d.uvarint()
	if d.err == nil && (n > uint64(d.left) || (min > 0 && n > uint64(d.left/min))) {
		d.fail("length %d past the end", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	b := make([]byte, d.count(1))
	d.raw(b)
	return b
}

func (d *decoder) value(v reflect.Value) {
	if d.err != nil {
		return
	}
	t := v.Type()
	if t == addrType {
		var a netip.Addr
		if err := a.UnmarshalBinary(d.bytes()); err != nil && d.err == nil {
			d.fail("address: %v", err)
		}
		v.Set(reflect.ValueOf(a))
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		switch d.byte() {
		case 0:
		case 1:
			v.SetBool(true)
		default:
			d.fail("bad bool")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := d.varint()
		if v.OverflowInt(x) {
			d.fail("%s out of range", t)
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x := d.uvarint()
		if v.OverflowUint(x) {
			d.fail("%s out of range", t)
		}
		v.SetUint(x)
	case reflect.String:
		v.SetString(string(d.bytes()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if b := d.bytes(); len(b) > 0 {
				v.SetBytes(b)
			}
			return
		}
		n := d.count(1)
		if n == 0 {
			return
		}
		s := reflect.MakeSlice(t, 0, min(n, 1024))
		for range n {
			s = reflect.Append(s, reflect.Zero(t.Elem()))
			d.value(s.Index(s.Len() - 1))
			if d.err != nil {
				return
			}
		}
		v.Set(s)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			d.raw(v.Bytes())
			return
		}
		for i := range v.Len() {
			d.value(v.Index(i))
		}
	case reflect.Map:
		n := d.count(1)
		m := reflect.MakeMapWithSize(t, min(n, 1024))
		for range n {
			k := reflect.New(t.Key()).Elem()
			d.value(k)
			x := reflect.New(t.Elem()).Elem()
			d.value(x)
			if d.err != nil {
				return
			}
			if m.MapIndex(k).IsValid() {
				d.fail("a %s key twice", t)
				return
			}
			m.SetMapIndex(k, x)
		}
		v.Set(m)
	case reflect.Pointer:
		switch d.byte() {
		case 0:
		case 1:
			p := reflect.New(t.Elem())
			d.value(p.Elem())
			v.Set(p)
		default:
			d.fail("bad pointer")
		}
	case reflect.Struct:
		savedFields(v, d.value)
	default:
		d.fail("cannot read a %s", t)
	}
}
