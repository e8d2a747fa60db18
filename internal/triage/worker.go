package triage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
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

	// ok records decoded, bad ones unreadable, filtered ones left out by
	// --since/--until/--tenant.
	ok, bad, filtered int64
	done              bool // the ordered step ran (guarded by the sequencer)
}

// seqBatch is a batch with its place in input order.
type seqBatch struct {
	batch *source.Batch
	seq   uint64
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

// recordFilter is --since, --until and --tenant as the workers apply them.
type recordFilter struct {
	// since and until bound CreationTime (Unix ns; 0: unbounded).
	since, until int64
	// ours holds the lower-cased tenants given; nil keeps every tenant.
	ours map[string]bool
}

func newRecordFilter(opts Options) recordFilter {
	var f recordFilter
	if len(opts.Tenants) > 0 {
		f.ours = map[string]bool{}
		for _, t := range opts.Tenants {
			f.ours[strings.ToLower(strings.TrimSpace(t))] = true
		}
	}
	if !opts.Since.IsZero() {
		f.since = opts.Since.UnixNano()
	}
	if !opts.Until.IsZero() {
		f.until = opts.Until.UnixNano()
	}
	return f
}

// worker decodes batches on its own goroutine, hands them to the
// sequencer for the ordered step and folds each into its sink once that
// step is done. It has two work sets, so that it decodes one batch while
// the other waits for its turn.
type worker struct {
	ctx      context.Context
	cancel   context.CancelCauseFunc
	opts     *Options
	keep     recordFilter
	dups     *dedup
	earliest *atomicMin
	report   func(source.Problem)
	sq       *sequencer
	sink     batchSink
	sets     [2]work
}

// run works through batches until the channel is closed.
func (k *worker) run(batches <-chan seqBatch) {
	var waiting *work // submitted, not yet folded
	for i := 0; ; i++ {
		sb, more := <-batches
		if !more {
			break
		}
		w := &k.sets[i&1] // never waiting: that is the other set
		w.seq, w.batch = sb.seq, sb.batch
		w.keys, w.evs, w.lines = w.keys[:0], w.evs[:0], w.lines[:0]
		w.ok, w.bad, w.filtered = 0, 0, 0
		if k.ctx.Err() == nil {
			k.decode(w)
		}
		// Even when stopping, the batch takes its place in the order
		// (with no records), or batches behind it would never be
		// deduplicated.
		k.sq.submit(w)
		if waiting != nil {
			k.sq.wait(waiting)
			k.fold(waiting)
			waiting = nil
		}
		if k.sq.takeDone(w) {
			k.fold(w)
		} else {
			waiting = w
		}
	}
	if waiting != nil {
		k.sq.wait(waiting)
		k.fold(waiting)
	}
}

// decode decodes w's whole batch (in parallel with other workers), keeps
// the records the filters pass and parses their deduplication keys; only
// the set lookups are left to the ordered step.
func (k *worker) decode(w *work) {
	b := w.batch
	unit := record.Unit(b)
	rd := &w.rd
	rd.Begin()
	// The filters in locals, tested inline: a call per record shows.
	since, until, ours := k.keep.since, k.keep.until, k.keep.ours
	for i := range b.Records {
		line := b.Records[i].Line
		// Decode into the next free slot; it is kept only if the record
		// passes the filters.
		w.evs = slices.Grow(w.evs, 1)
		e := &w.evs[:len(w.evs)+1][len(w.evs)]
		if err := rd.Decode(b, i, e); err != nil {
			w.bad++
			k.report(source.Problem{Path: b.Path, Unit: unit, Line: line, Reason: badRowReason(err, unit, b.Records[i].Data), Records: 1})
			continue
		}
		w.ok++
		// A record of another tenant is left out only when its
		// OrganizationId is a tenant id: a placeholder in a sanitised log
		// names no tenant, so it stays.
		if (since != 0 && e.Time < since) || (until != 0 && e.Time >= until) ||
			(ours != nil && len(e.OrgID) > 0 && !ours[string(e.OrgID)] && audit.IsTenantID(e.OrgID)) {
			w.filtered++
			continue
		}
		w.evs = w.evs[:len(w.evs)+1]
		w.lines = append(w.lines, line)
	}
	if k.opts.Progress != nil {
		k.opts.Progress.Records.Add(w.ok)
	}
	first := int64(math.MaxInt64)
	for i := range w.evs {
		w.keys = append(w.keys, k.dups.keys(&w.evs[i]))
		first = min(first, w.evs[i].Time)
	}
	if len(w.evs) > 0 {
		k.earliest.lower(first)
	}
}

// fold hands a work whose ordered step is done to the sink and releases
// its batch.
func (k *worker) fold(w *work) {
	b := w.batch
	if b == nil {
		return
	}
	if k.ctx.Err() == nil && k.opts.stopAfter == stageAll {
		if err := k.sink.take(w); err != nil {
			k.cancel(sinkError{err})
		}
	}
	b.Release()
	w.batch = nil
}

// badRowReason is why a record is skipped. A CSV row that runs over line
// breaks says so: a stray quote (a row cut short, a quote a tool did not
// double) makes the rows after it part of its quoted field, until another
// quote pairs with it, and their records are lost with it; the count of
// line breaks tells the analyst where to look. A row framed whole (its
// reason is a value that reads, such as an ambiguous date) gets no hint.
func badRowReason(err error, unit string, data []byte) string {
	var de *audit.DecodeError
	if unit == "row" && !(errors.As(err, &de) && de.Framed) {
		if n := bytes.Count(data, []byte{'\n'}); n > 0 {
			breaks := "line breaks"
			if n == 1 {
				breaks = "line break"
			}
			return fmt.Sprintf("%v (the row runs over %d %s: if a stray quote joined the rows after it to this one, their records are lost with it)", err, n, breaks)
		}
	}
	return err.Error()
}
