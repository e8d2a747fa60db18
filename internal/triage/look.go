package triage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
)

// What was touched (docs/reports.md "What was touched"). Which objects an
// outside identity touched is a question about its U, P and H records
// alone, and P is known only once every sign-in has been seen: folding
// objects into the aggregates would cost every record of the tenant a
// lookup. The engine instead reuses the evidence it keeps anyway, the K
// earliest records of every (account, IP set) bucket and of every sharing
// target: once the identities are judged, a second look reads those of
// the outside identities again from the inputs (by file and line, checked
// by record Id) and takes the objects they name (objects.go). Records of
// no outside identity are never decoded twice; the inputs that hold none
// of the records wanted are not read again at all, and a plain or gzip
// file or a zip's members are read only around the records wanted
// (source.Index).

// Caps on what the accessed lists hold.
const (
	// MaxAccessedPerIdentity caps Identity.Accessed (AccessedOmitted
	// counts the rest).
	MaxAccessedPerIdentity = 50
	// MaxAccessedSummary caps Report.AccessedSummary.
	MaxAccessedSummary = 200
	// MaxAccessedRecordIDs caps each object's record ids: its earliest.
	MaxAccessedRecordIDs = 5
	// lookPerEvidence bounds an identity's records looked at, as a
	// multiple of the evidence cap: an IP shared with thousands of
	// accounts must not make the second look read the whole tenant.
	lookPerEvidence = 50
)

// How an object was touched (AccessedObject.How).
const (
	howAccount uint8 = 1 << iota
	howIP
	howShared
)

var howNames = []string{"account", "ip", "shared"}

// lookIndexed lets the second look read plain, gzip and zip files by their index
// (source.ReadIndexed); tests turn it off to compare with reading them
// from the start.
var lookIndexed = true

// lookBatchBytes is the batch size of an indexed read: a restart reads
// about one batch, so a small one reads less around each record wanted.
const lookBatchBytes = 64 << 10

// errAllFound stops the second look's read once every record is found.
var errAllFound = errors.New("every record wanted was found")

// lookRef is a kept record to look at again, and how it belongs to the
// identity.
type lookRef struct {
	ref
	how uint8
}

// lookKey finds a record again: its input, line and Id.
type lookKey struct {
	file int32
	line int64
	id   string
}

func (r *ref) key() lookKey { return lookKey{r.file, r.line, r.id} }

// lookList is one identity's records to look at, earliest first.
type lookList struct {
	refs []lookRef
	// partial: some of its records were not kept, so were not looked at.
	partial bool
}

// lookList gathers what an identity's U, P and H records the engine kept:
// the records of its sets, not its capped evidence list. At most
// lookPerEvidence × K of them, the earliest: the buckets are merged into
// bounded lists as they come, so an IP shared by thousands of accounts
// costs a merge per bucket, not a list of all their records.
func (j *judge) lookList(s *sets, shares *shareStats) *lookList {
	limit := lookPerEvidence * j.k
	l := &lookList{}
	var byAccount, byIP topK
	var kept int
	fold := func(into *topK, b *bucket) {
		into.merge(limit, &b.evNon)
		kept += len(b.evNon.order)
		if int64(len(b.evNon.order)) < b.nonSignin {
			l.partial = true
		}
	}
	for _, b := range s.u {
		if b.kind == audit.UserAnonymous {
			fold(&byIP, b) // anonymous-link use from its IPs
		} else {
			fold(&byAccount, b)
		}
	}
	for _, b := range s.p {
		fold(&byIP, b)
	}
	for _, part := range []struct {
		refs []ref
		how  uint8
	}{{byAccount.refs(), howAccount}, {byIP.refs(), howIP}, {s.shareRefs, howShared}} {
		for _, r := range part.refs {
			l.refs = append(l.refs, lookRef{r, part.how})
		}
	}
	if shares != nil && int64(len(s.shareRefs)) < shares.count {
		l.partial = true
	}
	slices.SortFunc(l.refs, func(x, y lookRef) int {
		switch {
		case refBefore(&x.ref, &y.ref):
			return -1
		case refBefore(&y.ref, &x.ref):
			return 1
		}
		return 0
	})
	// One record kept twice (a sharing record from one of its IPs) is
	// looked at once, touched both ways.
	out := l.refs[:0]
	for _, r := range l.refs {
		if n := len(out); n > 0 && out[n-1].key() == r.key() {
			out[n-1].how |= r.how
			continue
		}
		out = append(out, r)
	}
	l.refs = out
	if kept > limit || len(l.refs) > limit {
		l.refs, l.partial = l.refs[:min(limit, len(l.refs))], true
	}
	return l
}

// lookAgain reads the records r.looks names from the inputs (paths as
// given to Run, inputs as read) and fills every identity's Accessed and
// the report's AccessedSummary.
func lookAgain(ctx context.Context, paths []string, inputs []source.Input, r *Report, opts Options, k int) {
	looks := r.looks
	r.looks = nil
	want := map[lookKey]bool{}
	lines := map[int32]map[int64]bool{}
	for _, l := range looks {
		for _, lr := range l.refs {
			want[lr.key()] = true
			if lines[lr.file] == nil {
				lines[lr.file] = map[int64]bool{}
			}
			lines[lr.file][lr.line] = true
		}
	}
	index := map[string]int32{}
	for i, in := range inputs {
		if _, ok := index[in.Path]; !ok {
			index[in.Path] = int32(i)
		}
	}
	// Only the inputs holding a record wanted are read again, one at a
	// time, each until its records are all found (the earliest records of
	// a time-ordered export lie near its start); standard input cannot be
	// read again.
	pending := map[string]int{} // path given → records wanted from it
	// givenOf is, per input, the first path given that it was read from
	// (-1: none), found once per input rather than once per record: a
	// Session's list of paths grows with every call.
	givenOf := map[int32]int{}
	stdin := false
	for key := range want {
		if int(key.file) >= len(inputs) {
			continue
		}
		g, ok := givenOf[key.file]
		if !ok {
			g = -1
			q := inputs[key.file].Path
			for i, p := range paths {
				if q == p || strings.HasPrefix(q, p+"!") {
					g = i
					break
				}
			}
			givenOf[key.file] = g
		}
		switch {
		case g < 0:
		case paths[g] == "-":
			stdin = true
		default:
			pending[paths[g]]++
		}
	}
	// In the order given, each path once.
	var again []string
	listed := map[string]bool{}
	for _, p := range paths {
		if pending[p] > 0 && !listed[p] {
			listed[p] = true
			again = append(again, p)
		}
	}
	found := map[lookKey][]object{}
	var readErr error
	var rd record.Reader
	var ev audit.Event
	srcOpts := opts.Source
	srcOpts.Progress = nil
	if srcOpts.Inflaters == 0 && opts.Workers > 0 {
		srcOpts.Inflaters = min(opts.Workers, 8)
	}
	// A file read again from its start is not read a third time: the
	// checkpoints that read notes go to one store spilling to --temp-dir
	// (not $TMPDIR, where Read's own store would), let go with the look.
	windows := source.NewWindowStore(opts.TempDir)
	defer windows.Close()
	for _, p := range again {
		remaining := pending[p]
		// A plain or gzip file read as JSON Lines or CSV rows, or a zip
		// file whose members holding records wanted all are, is read
		// only where its records wanted lie (source.Index); anything
		// else, or a file changed since, is read from its start.
		var parts []indexedPart
		if lookIndexed {
			parts = indexedParts(p, inputs, index, lines)
		}
		emit := func(b *source.Batch) error {
			defer b.Release()
			f, ok := index[b.Path]
			wantLines := lines[f]
			if !ok || wantLines == nil {
				return nil
			}
			for i := range b.Records {
				line := b.Records[i].Line
				if !wantLines[line] {
					continue
				}
				rd.Begin()
				raw, err := rd.Read(b, i)
				if err != nil || rd.DecodeRaw(raw, &ev) != nil {
					continue
				}
				key := lookKey{f, line, string(ev.ID)}
				if !want[key] {
					continue // the file changed since: not the record kept
				}
				if _, dup := found[key]; dup {
					continue
				}
				remaining--
				if objs, err := readObjects(raw); err == nil {
					found[key] = objs.objects()
				} else {
					found[key] = nil
				}
			}
			if remaining <= 0 {
				return errAllFound
			}
			return nil
		}
		// Problems were reported by the first read; a file that is gone
		// or changed leaves its records unread, which partial says.
		var err error
		stale := parts == nil
		for _, part := range parts {
			if remaining <= 0 {
				break
			}
			ixOpts := srcOpts
			ixOpts.BatchBytes = lookBatchBytes
			err = source.ReadIndexed(ctx, part.path, part.ix, part.lines, ixOpts, emit)
			if errors.Is(err, source.ErrIndexStale) {
				// Read it all again: what was found is not counted twice.
				stale = true
			}
			if err != nil {
				break
			}
		}
		if stale {
			o := srcOpts
			o.Windows = windows
			_, err = source.Read(ctx, []string{p}, o, emit, func(source.Problem) {})
		}
		if err != nil && !errors.Is(err, errAllFound) && readErr == nil {
			readErr = err
		}
	}
	scope := accessedScope(k)
	if stdin {
		scope += "; records read from standard input cannot be read again, so their objects are missing"
	}
	if readErr != nil {
		scope += "; reading the inputs again failed (" + readErr.Error() + "), so some objects are missing"
	}
	fillAccessed(r, looks, found, scope)
}

// indexedPart is an input read again by its index: its path, index and
// the lines wanted from it, sorted.
type indexedPart struct {
	path  string
	ix    *source.Index
	lines []int64
}

// indexedParts returns how the path given p can be read again by index:
// the input p itself, or, for a zip, each of its members (inputs
// "p!member") that holds records wanted; nil when any of them has no
// index, and p must be read from its start.
func indexedParts(p string, inputs []source.Input, index map[string]int32, lines map[int32]map[int64]bool) []indexedPart {
	if f, ok := index[p]; ok {
		if inputs[f].Index == nil {
			return nil
		}
		return []indexedPart{{p, inputs[f].Index, slices.Sorted(maps.Keys(lines[f]))}}
	}
	var parts []indexedPart
	for i, in := range inputs {
		f := int32(i)
		if !strings.HasPrefix(in.Path, p+"!") || index[in.Path] != f || lines[f] == nil {
			continue
		}
		if in.Index == nil {
			return nil
		}
		parts = append(parts, indexedPart{in.Path, in.Index, slices.Sorted(maps.Keys(lines[f]))})
	}
	return parts
}

// accessedScope is AccessedScope for lists made from the records kept
// with an evidence cap of k, however their objects were read.
func accessedScope(k int) string {
	return fmt.Sprintf("objects named by the records kept of each outside identity: the %d earliest of each account and IP set, and of the sharing records naming it (--max-evidence)", k)
}

// fillAccessed fills every identity's Accessed and the report's
// AccessedSummary from the objects of the records found; an identity
// whose records are not all found has partial lists.
func fillAccessed(r *Report, looks map[string]*lookList, found map[lookKey][]object, scope string) {
	r.looks, r.lookK = nil, 0
	r.AccessedScope = scope
	summary := map[object]*objTally{}
	for i := range r.Identities {
		id := &r.Identities[i]
		id.Accessed = []AccessedObject{}
		l := looks[id.User]
		if l == nil {
			continue
		}
		id.AccessedPartial = l.partial
		tallies := map[object]*objTally{}
		for _, lr := range l.refs {
			objs, ok := found[lr.key()]
			if !ok {
				id.AccessedPartial = true
				continue
			}
			for _, o := range objs {
				tallyOf(tallies, o).add(&lr.ref, lr.how)
				st := tallyOf(summary, o)
				st.users[id.User] = true
				if st.seen[lr.key()] {
					st.how |= lr.how
					continue
				}
				st.seen[lr.key()] = true
				st.add(&lr.ref, lr.how)
			}
		}
		id.Accessed, id.AccessedOmitted = accessedList(tallies, MaxAccessedPerIdentity)
	}
	r.AccessedSummary, r.AccessedSummaryOmitted = accessedList(summary, MaxAccessedSummary)
}

// AccessedFromDatabase is why a report from Aggregates.Finish has no
// accessed lists until FillAccessed gives them.
const AccessedFromDatabase = "the records are in the database, not read again from the inputs, and their objects were not given"

// RecordKey names a record an accessed list is made from: its input (an
// index into the files given to Aggregates.Finish), its line and its Id.
type RecordKey struct {
	File int
	Line int64
	ID   string
}

// AccessedRecords lists, sorted, the records the accessed lists of a
// report from Aggregates.Finish are made from: the records kept of each
// outside identity, as the second look would read them again. Empty once
// the lists are filled or dropped.
func (r *Report) AccessedRecords() []RecordKey {
	set := map[lookKey]bool{}
	for _, l := range r.looks {
		for _, lr := range l.refs {
			set[lr.key()] = true
		}
	}
	out := make([]RecordKey, 0, len(set))
	for k := range set {
		out = append(out, RecordKey{File: int(k.file), Line: k.line, ID: k.id})
	}
	slices.SortFunc(out, func(x, y RecordKey) int {
		if x.File != y.File {
			return x.File - y.File
		}
		if x.Line != y.Line {
			if x.Line < y.Line {
				return -1
			}
			return 1
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// FillAccessed makes the accessed lists of a report from
// Aggregates.Finish from the object fields of the records AccessedRecords
// named, as a store kept them (Decoded.Objects): the lists the second look
// makes from the same records. An identity with a record missing from
// objects has partial lists. A report whose lists are filled or dropped
// already is left as it is.
func (r *Report) FillAccessed(objects map[RecordKey]ObjectFields) {
	if r.lookK == 0 {
		return
	}
	found := make(map[lookKey][]object, len(objects))
	for k, o := range objects {
		found[lookKey{int32(k.File), k.Line, k.ID}] = o.objects()
	}
	fillAccessed(r, r.looks, found, accessedScope(r.lookK))
}

// AccessedNotAsked is why a report left out at its caller's request has no
// accessed lists (Options.SkipAccessed).
const AccessedNotAsked = "not asked for (triage --no-accessed; watch, whose findings carry verdicts only)"

// DropAccessed removes the accessed lists and says why in AccessedScope:
// a report that cannot say what was touched leaves the lists out rather
// than show them empty, which would read as "nothing".
func (r *Report) DropAccessed(why string) {
	r.looks, r.lookK = nil, 0
	r.AccessedSummary, r.AccessedSummaryOmitted = nil, 0
	for i := range r.Identities {
		id := &r.Identities[i]
		id.Accessed, id.AccessedOmitted, id.AccessedPartial = nil, 0, false
	}
	r.AccessedScope = "not computed: " + why
}

// objTally counts the records that touched one object.
type objTally struct {
	obj         object
	how         uint8
	records     int64
	ops         map[string]int64
	first, last int64
	earliest    []ref
	// The summary's: the identities, and the records counted (one
	// record can belong to several identities' P).
	users map[string]bool
	seen  map[lookKey]bool
}

func tallyOf(m map[object]*objTally, o object) *objTally {
	t := m[o]
	if t == nil {
		t = &objTally{obj: o, ops: map[string]int64{}, users: map[string]bool{}, seen: map[lookKey]bool{}}
		m[o] = t
	}
	return t
}

func (t *objTally) add(r *ref, how uint8) {
	t.how |= how
	t.records++
	t.ops[r.op]++
	if t.records == 1 || r.time < t.first {
		t.first = r.time
	}
	t.last = max(t.last, r.time)
	i, _ := slices.BinarySearchFunc(t.earliest, r, func(x ref, y *ref) int {
		if refBefore(&x, y) {
			return -1
		}
		return 1
	})
	if i < MaxAccessedRecordIDs {
		t.earliest = slices.Insert(t.earliest, i, *r)
		if len(t.earliest) > MaxAccessedRecordIDs {
			t.earliest = t.earliest[:MaxAccessedRecordIDs]
		}
	}
}

// accessedList orders tallies most records first (then by kind and
// name) and keeps at most limit, returning how many were left out.
func accessedList(m map[object]*objTally, limit int) ([]AccessedObject, int) {
	list := slices.Collect(maps.Values(m))
	slices.SortFunc(list, func(x, y *objTally) int {
		if x.records != y.records {
			if x.records > y.records {
				return -1
			}
			return 1
		}
		if c := slices.Index(ObjectKinds, x.obj.kind) - slices.Index(ObjectKinds, y.obj.kind); c != 0 {
			return c
		}
		return strings.Compare(x.obj.name, y.obj.name)
	})
	omitted := max(0, len(list)-limit)
	list = list[:len(list)-omitted]
	out := make([]AccessedObject, 0, len(list))
	for _, t := range list {
		a := AccessedObject{Kind: t.obj.kind, Object: t.obj.name, How: []string{}, Records: t.records,
			Operations: t.ops, First: audit.FormatTime(t.first), Last: audit.FormatTime(t.last), RecordIDs: []string{}}
		if len(t.seen) > 0 {
			a.Identities = len(t.users)
		}
		for i, name := range howNames {
			if t.how&(1<<i) != 0 {
				a.How = append(a.How, name)
			}
		}
		for _, r := range t.earliest {
			a.RecordIDs = append(a.RecordIDs, r.id)
		}
		out = append(out, a)
	}
	return out, omitted
}
