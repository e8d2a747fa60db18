package clickhouse

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/triage"
)

// LoadOptions control Load.
type LoadOptions struct {
	// Source is passed to source.Read (a forced --input-format, stdin).
	Source source.Options
	// Workers decode in parallel; 0 means one per CPU.
	Workers int
	// Strict makes the first unreadable record or file fatal.
	Strict bool
	// BatchBytes is the TSV sent in one INSERT (default 32 MB): large
	// inserts make few parts for ClickHouse to merge, and one batch is
	// what a retry has to keep in memory.
	BatchBytes int
	// Retries and Backoff: a failed INSERT is sent again Retries times
	// (default 5), waiting Backoff (default 1 s), doubling each time.
	Retries int
	Backoff time.Duration
	// Progress, if set, is advanced as inputs are read and records
	// decoded, for a progress line.
	Progress *progress.Counters
	// OnProblem, if set, is called for every input problem as it is found.
	OnProblem func(source.Problem)
	// Now is the clock (load order of files); nil means time.Now.
	Now func() time.Time
}

// LoadResult says what Load stored.
type LoadResult struct {
	// Files are the inputs with the records read and skipped in each.
	Files []triage.FileInfo
	// Rows are the events stored (records kept, sign-in copies included);
	// Duplicates the repeats dropped (each stored as a duplicate row).
	Rows, Duplicates int64
	// Inserts counts INSERT requests, Retried the ones sent again.
	Inserts, Retried int64
}

// Load reads the inputs with the engine's reader, decoders and
// deduplication (triage.Stream) and streams them into the events table,
// the repeats into the duplicates table, then the alias pairs and, last,
// one row per input into the files table: a file is listed only once all
// its records are stored. Memory is the engine's deduplication set (16
// bytes a record of this load) and a few batches, whatever the size of the
// records. A load killed half-way and run again stores the same rows
// again, which the ReplacingMergeTree tables collapse (and every query
// reads with FINAL), so nothing is counted twice.
func Load(ctx context.Context, c *Client, paths []string, o LoadOptions) (*LoadResult, error) {
	if o.BatchBytes <= 0 {
		o.BatchBytes = 32 << 20
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if len(paths) > 1<<20 {
		return nil, fmt.Errorf("too many inputs for one load (%d; at most %d)", len(paths), 1<<20)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	loadSeq := uint64(now().UnixMilli()) << 20
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	res := &LoadResult{}
	events := newInserter(ctx, c, EventsTable, names(eventColumns), o, res)
	dups := newInserter(ctx, c, DuplicatesTable, names(duplicateColumns), o, res)
	// Workers encode batches into buffers; one goroutine feeds them to the
	// INSERTs, so decoding and sending overlap and at most a few buffers
	// wait.
	type chunk struct {
		buf *bytes.Buffer
		dup bool
	}
	chunks := make(chan chunk, 4)
	pool := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	sendErr := make(chan error, 1)
	go func() {
		var err error
		for ch := range chunks {
			if err == nil {
				if ch.dup {
					err = dups.write(ch.buf.Bytes())
				} else {
					err = events.write(ch.buf.Bytes())
				}
				if err != nil {
					cancel()
				}
			}
			ch.buf.Reset()
			pool.Put(ch.buf)
		}
		if err == nil {
			err = events.close()
		}
		if err == nil {
			err = dups.close()
		}
		sendErr <- err
	}()

	var mu sync.Mutex
	fileTenants := map[int]map[string]bool{}
	var rows, dupCount atomic.Int64
	st, err := triage.Stream(ctx, paths, triage.Options{
		Workers: o.Workers, Strict: o.Strict, Source: o.Source, Progress: o.Progress, OnProblem: o.OnProblem,
	}, func(recs []triage.Decoded) error {
		if recs[0].File >= 1<<20 {
			return fmt.Errorf("too many inputs for one load (at most %d)", 1<<20)
		}
		ev, du := pool.Get().(*bytes.Buffer), pool.Get().(*bytes.Buffer)
		tenants := map[string]bool{}
		var scratch []byte
		var nev, ndup int64
		for i := range recs {
			d := &recs[i]
			tenants[string(recordTenant(d.Event))] = true
			if d.Fate == triage.Duplicate {
				scratch = appendDuplicate(scratch[:0], d)
				du.Write(scratch)
				ndup++
				continue
			}
			scratch = appendEvent(scratch[:0], d, loadSeq|uint64(d.File))
			ev.Write(scratch)
			nev++
		}
		mu.Lock()
		ft := fileTenants[recs[0].File]
		if ft == nil {
			ft = map[string]bool{}
			fileTenants[recs[0].File] = ft
		}
		for t := range tenants {
			ft[t] = true
		}
		mu.Unlock()
		rows.Add(nev)
		dupCount.Add(ndup)
		for _, ch := range []chunk{{ev, false}, {du, true}} {
			if ch.buf.Len() == 0 {
				pool.Put(ch.buf)
				continue
			}
			select {
			case chunks <- ch:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		return nil
	})
	close(chunks)
	serr := <-sendErr
	if serr != nil {
		return nil, fmt.Errorf("loading into %s: %w", c, serr)
	}
	if err != nil {
		return nil, err
	}
	res.Rows, res.Duplicates, res.Files = rows.Load(), dupCount.Load(), st.Files

	// Aliases, then the files: their rows say the load is complete.
	var ab []byte
	for _, p := range st.Aliases {
		ab = appendTSVRow(ab, p.Tenant, p.A.Name, strconv.Itoa(int(p.A.Kind)), p.B.Name, strconv.Itoa(int(p.B.Kind)))
	}
	if len(ab) > 0 {
		if err := insertRetrying(ctx, c, AliasesTable, names(aliasColumns), ab, o, res); err != nil {
			return nil, fmt.Errorf("loading into %s: %w", c, err)
		}
	}
	var fb []byte
	loaded := strconv.FormatInt(now().Unix(), 10)
	for i, f := range st.Files {
		var ts []string
		for t := range fileTenants[i] {
			ts = append(ts, "'"+hex.EncodeToString([]byte(t))+"'")
		}
		slices.Sort(ts)
		fb = appendTSVRow(fb, strconv.FormatUint(loadSeq|uint64(i), 10), f.Path, f.Format,
			strconv.FormatInt(f.Records, 10), strconv.FormatInt(f.Skipped, 10))
		fb = fb[:len(fb)-1]
		fb = append(fb, '\t', '[')
		for j, t := range ts {
			if j > 0 {
				fb = append(fb, ',')
			}
			fb = append(fb, t...)
		}
		fb = append(fb, "]\t"...)
		fb = append(fb, loaded...)
		fb = append(fb, '\n')
	}
	if len(fb) > 0 {
		if err := insertRetrying(ctx, c, FilesTable, names(fileColumns), fb, o, res); err != nil {
			return nil, fmt.Errorf("loading into %s: %w", c, err)
		}
	}
	return res, nil
}

// appendTSVRow appends fields as one escaped TSV row.
func appendTSVRow(dst []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, '\t')
		}
		dst = AppendTSV(dst, []byte(f))
	}
	return append(dst, '\n')
}

// maxDateTime is the last second a DateTime holds; the exact time is ts.
const maxDateTime = 1<<32 - 1

func appendSeconds(dst []byte, ns int64) []byte {
	s := ns / 1e9
	if ns < 0 && ns%1e9 != 0 {
		s--
	}
	s = min(max(s, 0), maxDateTime)
	return strconv.AppendInt(dst, s, 10)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, '\t', '1')
	}
	return append(dst, '\t', '0')
}

func field(dst, s []byte) []byte { return AppendTSV(append(dst, '\t'), s) }

// appendEvent appends one record as a row of eventColumns: the
// normalisation the engine applies in agg.add and agg.addSignin, done once
// here so the SQL only groups and counts.
func appendEvent(dst []byte, d *triage.Decoded, seq uint64) []byte {
	ev := d.Event
	outcome := ev.Outcome()
	signin := outcome != audit.NotSignin
	dst = AppendTSV(dst, recordTenant(ev))
	if signin {
		dst = field(dst, []byte(triage.SigninAccount(ev)))
	} else {
		dst = field(dst, ev.User)
	}
	dst = appendSeconds(append(dst, '\t'), ev.Time)
	dst = field(dst, ev.ID)
	var nokey uint64
	if len(ev.ID) == 0 {
		// Records without an Id are all distinct to the engine; keep them
		// apart by where they were read, which a reload repeats.
		h := fnv.New64a()
		fmt.Fprintf(h, "%s:%d", d.Path, d.Line)
		nokey = h.Sum64() | 1
	}
	dst = strconv.AppendUint(append(dst, '\t'), nokey, 10)
	dst = strconv.AppendInt(append(dst, '\t'), ev.Time, 10)
	dst = strconv.AppendUint(append(dst, '\t'), uint64(ev.Kind), 10)
	// copy: 0 counted, 1 a sign-in copy, 1+o a copy that gives the
	// counted sign-in, of outcome o, its application and outcome
	// (triage.Decoded.MovedFrom).
	var copyCode byte
	if d.Fate == triage.SigninCopy {
		copyCode = 1 + byte(d.MovedFrom)
	}
	dst = append(dst, '\t', '0'+copyCode)
	dst = strconv.AppendUint(append(dst, '\t'), uint64(outcome), 10)
	dst = strconv.AppendUint(append(dst, '\t'), uint64(ev.UserKind), 10)
	dst = field(dst, ev.UserID)
	// Addresses sorted as the engine sorts them (agg.add): the bucket key,
	// and the first is the one evidence shows.
	var ipsBuf [audit.MaxIPs]netip.Addr
	ips := append(ipsBuf[:0], ev.IPList()...)
	slices.SortFunc(ips, func(x, y netip.Addr) int { return x.Compare(y) })
	dst = append(dst, '\t', '[')
	for i, ip := range ips {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '\'')
		dst = ip.AppendTo(dst)
		dst = append(dst, '\'')
	}
	dst = append(dst, ']')
	dst = field(dst, ev.Operation)
	var cats audit.Category
	if !signin {
		cats = ev.Categorize()
	}
	dst = strconv.AppendUint(append(dst, '\t'), uint64(cats), 10)
	dst = field(dst, ev.AppID)
	dst = field(dst, ev.UserAgent)
	dst = field(dst, ev.ActorTenant)
	dst = appendBool(dst, signin && (ev.UserKind == audit.UserGuest || ev.UserType == 10))
	var host []byte
	if signin && ev.UserKind == audit.UserGuest {
		host = audit.GuestHostDomain(ev.UserID)
	}
	dst = field(dst, host)
	dst = appendBool(dst, ev.ActorUnknown)
	dst = field(dst, ev.ObjectID)
	dst = field(dst, ev.Target)
	var shareTo []byte
	if cats&audit.CatSharing != 0 {
		if t, kind, _ := audit.Canonical(ev.Target, nil); kind != audit.UserUnusable && len(t) > 0 {
			shareTo = t
		}
	}
	dst = field(dst, shareTo)
	dst = field(dst, ev.CrossTenantAccessType)
	dst = field(dst, ev.UserTypeName)
	dst = append(dst, '\t')
	if len(ev.Country)+len(ev.State)+len(ev.City) > 0 {
		dst = AppendTSV(dst, ev.Country)
		dst = append(dst, '|')
		dst = AppendTSV(dst, ev.State)
		dst = append(dst, '|')
		dst = AppendTSV(dst, ev.City)
	}
	dst = field(dst, ev.ConditionalAccessStatus)
	dst = field(dst, ev.RiskLevel)
	dst = field(dst, ev.ClientApp)
	inter := 0
	if ev.Interactive != nil {
		inter = 2
		if *ev.Interactive {
			inter = 1
		}
	}
	dst = strconv.AppendInt(append(dst, '\t'), int64(inter), 10)
	dst = field(dst, []byte(triage.SigninAppName(ev)))
	dst = field(dst, []byte(triage.SigninTenantName(ev)))
	dst = strconv.AppendUint(append(dst, '\t'), seq, 10)
	dst = strconv.AppendInt(append(dst, '\t'), d.Line, 10)
	dst = strconv.AppendUint(append(dst, '\t'), uint64(ev.WorkloadOf()), 10)
	dst = appendObjects(dst, d, signin)
	// signin: what the engine's noAppFirsts matches, for the rows it keeps.
	var key string
	switch {
	case copyCode == 0 && ev.Kind == audit.KindUAL && outcome == audit.Success && len(ev.AppID) == 0 && len(ev.IntraSystemID) > 0:
		key = triage.SigninKey(ev.IntraSystemID)
	case copyCode == 1+byte(audit.Success):
		key = triage.SigninKey(ev.SignInID)
	}
	return append(field(dst, []byte(key)), '\n')
}

// appendObjects appends the object columns: the fields that name what a
// record touched, read with the engine's parser (Decoded.Objects) from
// every record but a sign-in, which names none. Any record may turn out
// to be evidence of an outside identity, which is decided only at triage.
func appendObjects(dst []byte, d *triage.Decoded, signin bool) []byte {
	var o triage.ObjectFields
	if !signin {
		o = d.Objects()
	}
	// ObjectId is most records' longest field, and nearly always what the
	// object column holds already.
	read, objectID := byte('1'), o.ObjectID
	if objectID == string(d.Event.ObjectID) {
		read, objectID = '2', ""
	}
	for _, f := range []string{o.SiteURL, objectID, o.RelativeURL, o.FileName, o.Owner} {
		dst = field(dst, []byte(f))
	}
	var folders []byte
	if len(o.Folders) > 0 {
		folders, _ = json.Marshal(o.Folders) // strings only: cannot fail
	}
	dst = field(dst, folders)
	dst = field(dst, []byte(o.Team))
	dst = field(dst, []byte(o.Channel))
	return append(dst, '\t', read) // objects_read
}

// recordTenant is a record's tenant column: its OrganizationId when that
// is a tenant id (audit.IsTenantID), else empty, as for a record without
// one. A placeholder such as "<TENANT ID>" names no tenant: the engine
// keeps such a record whatever --tenant says and never infers it as ours,
// and so must every tenant's scope here.
func recordTenant(ev *audit.Event) []byte {
	if audit.IsTenantID(ev.OrgID) {
		return ev.OrgID
	}
	return nil
}

// appendDuplicate appends one dropped repeat as a row of duplicateColumns.
func appendDuplicate(dst []byte, d *triage.Decoded) []byte {
	ev := d.Event
	dst = AppendTSV(dst, recordTenant(ev))
	dst = appendSeconds(append(dst, '\t'), ev.Time)
	dst = strconv.AppendInt(append(dst, '\t'), ev.Time, 10)
	dst = field(dst, ev.ID)
	dst = field(dst, []byte(d.Path))
	dst = strconv.AppendInt(append(dst, '\t'), d.Line, 10)
	return append(dst, '\n')
}

// inserter streams rows into one table through an io.Pipe: a request is
// open while rows arrive, and is closed (and a new one opened) every
// BatchBytes. The batch's bytes are kept until the INSERT succeeds so a
// failed one can be sent again: memory stays at about one batch.
type inserter struct {
	ctx     context.Context
	c       *Client
	table   string
	columns []string
	o       LoadOptions
	res     *LoadResult

	pw   *io.PipeWriter
	done chan error
	kept []byte
}

func newInserter(ctx context.Context, c *Client, table string, columns []string, o LoadOptions, res *LoadResult) *inserter {
	return &inserter{ctx: ctx, c: c, table: table, columns: columns, o: o, res: res}
}

// insertSettings: through a Distributed table the insert must reach the
// shards before it returns (the default queues it, and a triage right
// after would miss rows; clickhouse.md measured 1,581 of 2,000 visible).
var insertSettings = map[string]string{"insert_distributed_sync": "1"}

func (in *inserter) start() {
	pr, pw := io.Pipe()
	in.pw, in.done = pw, make(chan error, 1)
	in.res.Inserts++
	go func() {
		err := in.c.Insert(in.ctx, in.table, in.columns, pr, insertSettings)
		// Whatever happened, unblock the writer.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(errors.New("insert finished early"))
		}
		in.done <- err
	}()
}

func (in *inserter) write(p []byte) error {
	if in.pw == nil {
		in.start()
	}
	in.kept = append(in.kept, p...)
	if _, err := in.pw.Write(p); err != nil {
		return in.flush()
	}
	if len(in.kept) >= in.o.BatchBytes {
		return in.flush()
	}
	return nil
}

// flush ends the open INSERT and, if it failed, sends the batch again.
func (in *inserter) flush() error {
	if in.pw == nil {
		return nil
	}
	in.pw.Close()
	err := <-in.done
	in.pw = nil
	if err != nil {
		err = retry(in.ctx, in.c, in.table, in.columns, in.kept, in.o, in.res, err)
	}
	in.kept = in.kept[:0]
	return err
}

func (in *inserter) close() error { return in.flush() }

// insertRetrying sends one batch, retrying.
func insertRetrying(ctx context.Context, c *Client, table string, columns []string, data []byte, o LoadOptions, res *LoadResult) error {
	res.Inserts++
	err := c.Insert(ctx, table, columns, bytes.NewReader(data), insertSettings)
	if err != nil {
		err = retry(ctx, c, table, columns, data, o, res, err)
	}
	return err
}

// retry sends a failed batch again with exponential backoff, unless the
// failure cannot be cured by waiting. Rows of a failed INSERT may have
// been stored already: sending them again is safe, the tables replace
// them.
func retry(ctx context.Context, c *Client, table string, columns []string, data []byte, o LoadOptions, res *LoadResult, err error) error {
	wait := o.Backoff
	for attempt := 1; attempt <= o.Retries && retryable(err); attempt++ {
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
		res.Retried++
		res.Inserts++
		if err = c.Insert(ctx, table, columns, bytes.NewReader(data), insertSettings); err == nil {
			return nil
		}
	}
	return err
}

// retryable says whether an INSERT error may go away by itself (a server
// restarting, a shard down for a moment, too many parts to merge), as
// opposed to a mistake (no such table or column, bad credentials, rows
// the server cannot parse).
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		switch e.Code {
		case 16, 26, 27, 60, 62, 81, 117, 192, 193, 194, 497, 516:
			return false
		}
	}
	return true
}
