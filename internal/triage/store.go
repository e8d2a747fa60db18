package triage

import (
	"bytes"
	"context"
	"net/netip"
	"slices"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
)

// This file is the engine's door to stores outside the process (today
// ClickHouse, internal/clickhouse), in both directions:
//
//   - Stream runs the engine's own reading, decoding and deduplication and
//     hands the records to a callback instead of folding them, so a loader
//     normalises exactly what Run would have counted;
//   - Aggregates lets a store that grouped those records the way the engine
//     does fill the engine's aggregates, and Finish judges them with the
//     engine's own classification, correlation and verdict code, so the
//     report is the one Run writes for the same records, by construction
//     rather than by a second implementation of docs/rules.md.

// Fate is what deduplication decided for a record handed to a Stream
// callback.
type Fate uint8

const (
	// Fresh records are counted: the first copy read of a record.
	Fresh Fate = iota
	// Duplicate records repeat a record already read (same Id): the report
	// counts them in input.duplicates and nowhere else.
	Duplicate
	// SigninCopy records are a sign-in already counted from the other log
	// (the UAL's UserLoggedIn and the Entra sign-in log's record of one
	// sign-in): input.records counts them and their sign-in facts
	// (sources, location, conditional access...) count; nothing else does,
	// but for the application and outcome one may give the counted sign-in
	// (Decoded.MovedFrom).
	SigninCopy
)

// Decoded is one record as Stream hands it over.
type Decoded struct {
	// Event aliases the batch being decoded: it is valid only during the
	// callback.
	Event *audit.Event
	// File is the index of the record's input in Streamed.Files, Path
	// its path as reports cite it.
	File int
	Path string
	// Line is the line (or CSV row) where the record starts.
	Line int64
	Fate Fate
	// MovedFrom is, for a SigninCopy from the Entra sign-in log whose
	// counted copy was a UAL record of the same account that named no
	// application while this one names one, the counted copy's outcome;
	// else audit.NotSignin. Sentinel's OfficeActivity has no ApplicationId
	// and no error code, so the sign-in is then counted with this copy's
	// application and outcome, whichever log was read first: it leaves
	// MovedFrom's count and the empty application ("") for this copy's
	// outcome and application, and is cited by this copy as the
	// application's successful sign-in when it succeeded. Nothing else of
	// the counted copy changes (its buckets and evidence, addresses,
	// agent, the empty application's first success).
	MovedFrom audit.Outcome

	// Where the record's text is, for Objects: its batch and the first
	// record of the batch at or after its line.
	sink  *streamSink
	batch *source.Batch
	rec   int
}

// Objects reads the fields of the record that name objects, with the
// tolerant parser the second look uses (objects.go), from the record's
// text: what a store keeps so that a report's accessed lists can be made
// from it (Report.FillAccessed). A sign-in, or a record whose fields do
// not parse, names none. It reads the record's text again (one checking
// pass for most UAL records, objscan.go), about as much again as
// decoding it: call it only for records that may be evidence (not
// sign-ins), and only during the callback.
func (d *Decoded) Objects() ObjectFields {
	s, b := d.sink, d.batch
	if s == nil || b == nil {
		return ObjectFields{}
	}
	// The records that start on its line: one, or several of a JSON array
	// written on one line.
	lo := d.rec
	if lo >= len(b.Records) || b.Records[lo].Line != d.Line {
		lo = slices.IndexFunc(b.Records, func(r source.Record) bool { return r.Line == d.Line })
		if lo < 0 {
			return ObjectFields{}
		}
	}
	hi := lo + 1
	for hi < len(b.Records) && b.Records[hi].Line == d.Line {
		hi++
	}
	for i := lo; i < hi; i++ {
		raw, err := s.rd.Read(b, i)
		if err != nil {
			continue
		}
		// Of several, the first with its Id: the record the second look
		// would take for its file, line and Id.
		if hi-lo > 1 && (s.rd.DecodeRaw(raw, &s.ev) != nil || !bytes.Equal(s.ev.ID, d.Event.ID)) {
			continue
		}
		if o, err := readObjects(raw); err == nil {
			return o
		}
		return ObjectFields{}
	}
	return ObjectFields{}
}

// Alias is one name of an external-unknown identity and the log that gave
// it.
type Alias struct {
	Name string
	Kind audit.Kind
}

// AliasPair says that two external-unknown names are one identity: the
// logs name an account with no usable UserId differently, and a sign-in
// recorded in both revealed it. Tenant is the OrganizationId of the record
// that revealed it.
type AliasPair struct {
	Tenant string
	A, B   Alias
}

// Streamed is what Stream read besides the records.
type Streamed struct {
	// Files are the inputs in input order, each with the records read from
	// it and the records skipped, as a report's input.files counts them.
	Files []FileInfo
	// Aliases join external-unknown names (see AliasPair).
	Aliases []AliasPair
	// Filtered counts records left out by Options.Since, Until and Tenants.
	Filtered int64
}

// streamSink hands a worker's batches to a Stream callback.
type streamSink struct {
	fn   func([]Decoded) error
	recs []Decoded
	// rd and ev read records again for Decoded.Objects.
	rd record.Reader
	ev audit.Event
	// per input file, like agg.countFile
	records, skipped []int64
	filtered         int64
}

func (s *streamSink) take(w *work) error {
	file, path, evs, lines, fate := w.batch.File, w.batch.Path, w.evs, w.lines, w.fate
	ok, bad, filtered := w.ok, w.bad, w.filtered
	for len(s.records) <= file {
		s.records = append(s.records, 0)
		s.skipped = append(s.skipped, 0)
	}
	s.records[file] += ok
	s.skipped[file] += bad
	s.filtered += filtered
	s.recs = s.recs[:0]
	s.rd.Begin()
	b, rec := w.batch, 0
	for i := range evs {
		// The batch's records in order, the kept ones among them: rec
		// moves to the first at the event's line.
		for rec < len(b.Records) && b.Records[rec].Line < lines[i] {
			rec++
		}
		f := Fresh
		switch {
		case fate[i] == duplicate:
			f = Duplicate
		case fate[i].copyOnly():
			f = SigninCopy
		}
		s.recs = append(s.recs, Decoded{Event: &evs[i], File: file, Path: path, Line: lines[i], Fate: f, MovedFrom: fate[i].movedFrom(),
			sink: s, batch: b, rec: rec})
	}
	if len(s.recs) == 0 {
		return nil
	}
	return s.fn(s.recs)
}

// Stream reads, decodes, filters and deduplicates the inputs exactly as Run
// does (same reader, decoders, worker pool and input-order deduplication)
// and calls fn with each batch of records instead of aggregating them.
// fn is called from several workers at once; the records are valid only
// during the call; an error from fn stops the run and is returned.
// Options.MaxEvidence, Directory and GeoIP do not apply.
func Stream(ctx context.Context, paths []string, opts Options, fn func([]Decoded) error) (*Streamed, error) {
	var sinks []*streamSink
	d, err := decode(ctx, paths, opts, func(int) batchSink {
		s := &streamSink{fn: fn}
		sinks = append(sinks, s)
		return s
	})
	if err != nil {
		return nil, err
	}
	out := &Streamed{Files: []FileInfo{}}
	for i, in := range d.inputs {
		fi := FileInfo{Path: in.Path, Format: in.FormatName(), Skipped: in.Skipped}
		for _, s := range sinks {
			if i < len(s.records) {
				fi.Records += s.records[i]
				fi.Skipped += s.skipped[i]
			}
		}
		out.Files = append(out.Files, fi)
	}
	for _, s := range sinks {
		out.Filtered += s.filtered
	}
	for _, p := range d.aliases {
		out.Aliases = append(out.Aliases, AliasPair{Tenant: p[1].org,
			A: Alias{Name: p[0].name, Kind: p[0].kind}, B: Alias{Name: p[1].name, Kind: p[1].kind}})
	}
	return out, nil
}

// SigninAccount is the name the engine aggregates a sign-in record under:
// its canonical user, or for a sign-in whose UserId names nobody
// "unknown:" and the first usable key of docs/rules.md "Classify" 1.
func SigninAccount(ev *audit.Event) string {
	if ev.UserKind != audit.UserUnusable {
		return string(ev.User)
	}
	return "unknown:" + string(unknownKey(ev))
}

// Count is one value of a small histogram and how many records had it.
type Count struct {
	Value string
	N     int64
}

// Ref is a record kept as evidence, as Aggregates takes it: when it
// happened, which record it is and where it was read (File indexes the
// files given to Finish), and what the report shows of it.
type Ref struct {
	Time int64
	ID   string
	File int
	Line int64
	// Op is the Operation; User the raw UserId; IP the record's smallest
	// address (netip order); Object the ObjectId, or for a sign-in the
	// ApplicationId; Target the raw sharing target (sharing records only).
	Op     string
	User   string
	IP     netip.Addr
	Object string
	Target string
}

// UserApp is one application an account signed in to: counted sign-ins,
// successful ones and the earliest successful one, and the names the
// sign-in log gives it (SigninAppName of every sign-in, copies included)
// with how many sign-ins gave each. An entry may have names and no counted
// sign-ins (the names came with copies of sign-ins counted elsewhere).
type UserApp struct {
	ID             string
	Count, Success int64
	FirstSuccess   *Ref
	Names          []Count
}

// TenantName is one name the sign-in log gives a home tenant and how many
// sign-ins gave it.
type TenantName struct {
	Tenant, Name string
	N            int64
}

// User is what the engine knows about one sign-in account (userStats):
// its counted sign-ins and, from every copy of them, the sign-in facts.
// A member needs only what classification reads (Unusable, the counts,
// Tenants, Guest, ActorUnknown, CrossTenant, GuestType); an external
// identity needs everything.
type User struct {
	Name     string
	Unusable bool

	Success, Failure, Interrupted int64
	// First and Last are the times (Unix ns) of the earliest and latest
	// counted sign-in.
	First, Last int64
	IPs         []netip.Addr
	// UserAgents: at most the smallest 20 distinct are kept.
	UserAgents []string
	Apps       []UserApp
	// Tenants counts counted sign-ins per actor tenant.
	Tenants []Count
	// TenantNames are the names the sign-in log gives the home tenants
	// (SigninTenantName of every sign-in, copies included) with how many
	// sign-ins gave each.
	TenantNames  []TenantName
	Guest        bool // a #EXT# UPN or UserType 10
	ActorUnknown bool
	// SigninDays are the UTC days (UTCDay) of its counted sign-ins, in
	// any order: the input's coverage must span them.
	SigninDays []int32

	// Sources is a bit per audit.Kind of the logs the sign-ins came from.
	Sources uint8
	// The Entra sign-in log's facts, over every copy of the sign-ins.
	CrossTenant, Locations, ConditionalAccess, RiskLevels, ClientApps []Count
	GuestType, MemberType                                             bool
	Interactive, NonInteractive                                       int64
}

// Bucket is the records of one account from one set of addresses (the
// engine's bucket): counts, operation histograms, categories and the
// earliest records.
type Bucket struct {
	User string
	Kind audit.UserKind
	// IPs sorted in netip order, as the engine keys buckets.
	IPs []netip.Addr

	NonSignin, Signins int64
	// NonAccess counts non-sign-in records that are not opening shared
	// content; AnonUsed counts AnonymousLinkUsed.
	NonAccess, AnonUsed int64
	Cats                audit.Category
	Ops, SigninOps      []Count
	// Evidence and SigninEvidence hold at least the K earliest non-sign-in
	// and sign-in records (more are dropped); the firsts are the earliest
	// mailbox, admin and not-opening-shared-content records.
	Evidence, SigninEvidence                 []Ref
	FirstMailbox, FirstAdmin, FirstNonAccess *Ref
}

// Shared is the sharing records naming one target: how many and at least
// the K earliest.
type Shared struct {
	Target   string
	Count    int64
	Evidence []Ref
}

// Aggregates are the engine's aggregates filled from outside the engine.
// Fill them with what the records say, then call Externals (to learn which
// accounts need their full User, buckets and shares) or Finish; each
// consumes the aggregates.
type Aggregates struct {
	a       *agg
	aliases [][2]alias
}

// NewAggregates returns empty aggregates keeping maxEvidence records of
// evidence (0: DefaultMaxEvidence).
func NewAggregates(maxEvidence int) *Aggregates {
	if maxEvidence <= 0 {
		maxEvidence = DefaultMaxEvidence
	}
	return &Aggregates{a: newAgg(maxEvidence)}
}

// SetTotals sets the records kept (sign-in copies included), the
// duplicates dropped, the records filtered out, and the times (Unix ns) of
// the earliest and latest counted record.
func (x *Aggregates) SetTotals(kept, duplicates, filtered, minTime, maxTime int64) {
	x.a.kept, x.a.dups, x.a.filtered, x.a.minT, x.a.maxT = kept, duplicates, filtered, minTime, maxTime
}

// UTCDay is the UTC day of a time in Unix nanoseconds, as days since
// 1970-01-01: the unit of coverage (AddCoverage, User.SigninDays).
func UTCDay(t int64) int32 { return int32(dayOf(t)) }

// AddCoverage counts records kept (sign-in copies included) of one
// workload on one UTC day: n records, the earliest at first and the
// latest at last (Unix ns). Call it once per workload and day.
func (x *Aggregates) AddCoverage(w audit.Workload, utcDay int32, n, first, last int64) {
	x.a.cover.addDays(w, day(utcDay), n, first, last)
}

// AddOrg counts records of one OrganizationId (the inferred tenant).
func (x *Aggregates) AddOrg(id string, records int64) { x.a.orgs[id] += records }

// AddGuestHost adds the host domain of a #EXT# guest UPN (ours).
func (x *Aggregates) AddGuestHost(domain string) { x.a.guestHosts[domain] = true }

// AddAlias joins two external-unknown names.
func (x *Aggregates) AddAlias(p AliasPair) {
	x.aliases = append(x.aliases, [2]alias{{name: p.A.Name, kind: p.A.Kind}, {name: p.B.Name, kind: p.B.Kind, org: p.Tenant}})
}

// put keeps r if it is among the k earliest.
func (t *topK) put(k int, r *Ref) {
	if r == nil {
		return
	}
	s := t.place(k, r.Time, []byte(r.ID), int32(r.File), r.Line)
	if s == nil {
		return
	}
	s.time, s.file, s.line, s.op, s.ip = r.Time, int32(r.File), r.Line, r.Op, r.IP
	s.buf = append(append(append(append(s.buf[:0], r.ID...), r.User...), r.Object...), r.Target...)
	s.nID, s.nUser, s.nObj = len(r.ID), len(r.User), len(r.Object)
	t.settle()
}

// put keeps a stored record if it is the earliest.
func (f *firstRec) put(r *Ref) {
	if r != nil {
		f.offer(r.Time, []byte(r.ID), int32(r.File), r.Line)
	}
}

func (t *topK) putAll(k int, refs []Ref) {
	for i := range refs {
		t.put(k, &refs[i])
	}
}

func histogramOf(cs []Count) histogram {
	var h histogram
	for _, c := range cs {
		h.add(c.Value, c.N)
	}
	return h
}

// AddUser adds one sign-in account; a second call for the same name
// replaces the first.
func (x *Aggregates) AddUser(u *User) {
	s := &userStats{
		user: u.Name, unusable: u.Unusable,
		success: u.Success, failure: u.Failure, interrupted: u.Interrupted,
		first: u.First, last: u.Last,
		ips:  make(map[netip.Addr]struct{}, len(u.IPs)),
		apps: make(map[string]*appStats, len(u.Apps)),

		tenants: histogramOf(u.Tenants),
		guest:   u.Guest, actorUnknown: u.ActorUnknown,
		facts: signinFacts{
			sources: u.Sources, guestType: u.GuestType, memberType: u.MemberType,
			crossTenant: histogramOf(u.CrossTenant), locations: histogramOf(u.Locations),
			caStatus: histogramOf(u.ConditionalAccess), risk: histogramOf(u.RiskLevels),
			clientApps: histogramOf(u.ClientApps), interactive: u.Interactive, background: u.NonInteractive,
		},
	}
	for _, ip := range u.IPs {
		s.ips[ip] = struct{}{}
	}
	for _, d := range u.SigninDays {
		if s.days.set == nil {
			s.days.set = map[day]struct{}{}
		}
		s.days.set[day(d)] = struct{}{}
	}
	for _, ua := range u.UserAgents {
		s.addUA([]byte(ua))
	}
	for _, ap := range u.Apps {
		st := &appStats{count: ap.Count, success: ap.Success}
		st.firstSuccess.put(ap.FirstSuccess)
		for _, c := range ap.Names {
			st.names.addNameN(c.Value, c.N)
		}
		s.apps[ap.ID] = st
	}
	for _, c := range u.TenantNames {
		s.tenantNames.addNameN(tenantNameKey(c.Tenant, c.Name), c.N)
	}
	x.a.users[u.Name] = s
}

// AddBucket adds the records of one account from one set of addresses.
func (x *Aggregates) AddBucket(b *Bucket) {
	k := x.a.k
	bk := &bucket{
		user: b.User, kind: b.Kind, ips: slices.Clone(b.IPs),
		nonSignin: b.NonSignin, signins: b.Signins, nonAccess: b.NonAccess, anonUsed: b.AnonUsed, cats: b.Cats,
		ops: histogramOf(b.Ops), signOps: histogramOf(b.SigninOps),
	}
	bk.evNon.putAll(k, b.Evidence)
	bk.evSig.putAll(k, b.SigninEvidence)
	bk.firstMailbox.put(b.FirstMailbox)
	bk.firstAdmin.put(b.FirstAdmin)
	bk.firstNonAccess.put(b.FirstNonAccess)
	// The key only has to be unique per (user, IP set), as in agg.add.
	key := append([]byte(b.User), 0)
	for _, ip := range b.IPs {
		a16 := ip.As16()
		key = append(key, a16[:]...)
	}
	x.a.buckets[string(key)] = bk
}

// AddShared adds the sharing records naming one (canonical) target.
func (x *Aggregates) AddShared(s *Shared) {
	st := &shareStats{count: s.Count}
	st.ev.putAll(x.a.k, s.Evidence)
	x.a.shares[s.Target] = st
}

// Externals classifies every account added, as the report would, and
// returns, sorted, the names of the outside identities (every class but
// member) and every name an alias joins to another: the accounts whose
// full User, buckets and shares Finish needs. It consumes x.
func (x *Aggregates) Externals(opts Options) []string {
	a := x.a
	a.applyAliases(x.aliases)
	a.dropCopiesOnly()
	t, _ := tenantOf(a, opts)
	j := &judge{a: a, t: t, k: a.k, dir: opts.Directory}
	j.classify()
	set := map[string]bool{}
	for user, c := range j.classes {
		if c.class != ClassMember {
			set[user] = true
		}
	}
	for _, p := range x.aliases {
		set[p[0].name], set[p[1].name] = true, true
	}
	return keysOf(set)
}

// Finish judges the aggregates and returns the report, exactly as Run
// finishes its own. files are the inputs in input order (Ref.File indexes
// them) with their records and skipped counts. It consumes x.
func (x *Aggregates) Finish(files []FileInfo, opts Options) *Report {
	a := x.a
	inputs := make([]source.Input, len(files))
	for i, f := range files {
		inputs[i] = source.Input{Path: f.Path, Format: source.Format(f.Format)}
		a.countFile(i, f.Records, f.Skipped)
	}
	a.applyAliases(x.aliases)
	a.dropCopiesOnly()
	r := finish(a, inputs, &problems{byFile: map[string][]source.Problem{}}, opts, a.k)
	if opts.SkipAccessed {
		r.DropAccessed(AccessedNotAsked)
		return r
	}
	// Not computed until the store gives the objects (FillAccessed).
	looks := r.looks
	r.DropAccessed(AccessedFromDatabase)
	r.looks, r.lookK = looks, a.k
	return r
}
