package triage

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/outsider-sec/outsider/internal/audit"
)

// The engine never keeps records. Workers fold the records they decode
// into aggregates keyed by what the due diligence asks about: per user (its
// sign-ins), per (user, IP set) "bucket" (everything else), and per
// sharing target. Memory therefore grows with distinct users, IPs and
// user×IP pairs, not with records. The aggregates are sharded by user (a
// lock each, engine.go's shardSink); the shards are merged once at the
// end, and every merge is order-independent (sums, unions, the K
// earliest), so the result does not depend on which worker saw which
// record.

// opCount is one entry of an operation histogram.
type opCount struct {
	op string
	n  int64
}

type histogram []opCount

// counts is a tiny string → count table (an account's actor tenants: one
// or two), scanned linearly: cheaper than a map at this size and no
// allocation per record.
type counts = histogram

// asMap returns the counts as a map, for judging.
func (h histogram) asMap() map[string]int64 {
	m := make(map[string]int64, len(h))
	for _, c := range h {
		m[c.op] += c.n
	}
	return m
}

// addOp counts one record of op, interning the name only the first time
// this bucket sees it: the common case is a comparison, not a map lookup.
// It returns the interned name.
func (h *histogram) addOp(a *agg, op []byte) string {
	for i := range *h {
		if (*h)[i].op == string(op) {
			(*h)[i].n++
			return (*h)[i].op
		}
	}
	name := a.str(op)
	*h = append(*h, opCount{name, 1})
	return name
}

func (h *histogram) add(op string, n int64) {
	for i := range *h {
		if (*h)[i].op == op {
			(*h)[i].n += n
			return
		}
	}
	*h = append(*h, opCount{op, n})
}

// merge adds o's counts to h.
func (h *histogram) merge(o histogram) {
	for _, oc := range o {
		h.add(oc.op, oc.n)
	}
}

// bucket aggregates the records of one canonical user from one IP set.
type bucket struct {
	user string
	kind audit.UserKind
	ips  []netip.Addr

	nonSignin int64
	signins   int64
	// nonAccess counts non-sign-in records that are not opening shared
	// content; anonUsed counts AnonymousLinkUsed.
	nonAccess int64
	anonUsed  int64
	cats      audit.Category

	ops     histogram // non-sign-in operations
	signOps histogram // sign-in operations

	evNon topK // earliest non-sign-in records
	evSig topK // earliest sign-in records
	// account is the userStats of the bucket's user once it has signed in
	// from this IP set (this worker's; never used after the merge).
	account *userStats
	// earliest record of each kind a reason may cite
	firstMailbox, firstAdmin, firstNonAccess firstRec
}

// appStats is one application a user signed in to.
type appStats struct {
	count   int64
	success int64
	// firstSuccess is the earliest successful sign-in, cited when the app
	// makes the verdict anomalous.
	firstSuccess firstRec
	// names counts the names the sign-in log gives the app (appnames.go).
	names histogram
}

// userStats aggregates the sign-in records of one canonical user.
type userStats struct {
	user string
	// unusable: the sign-ins named nobody (external-unknown).
	unusable bool

	success, failure, interrupted int64
	first, last                   int64

	ips     map[netip.Addr]struct{}
	uas     []string // distinct user agents, sorted, at most maxUserAgents
	apps    map[string]*appStats
	tenants counts // actor tenant → sign-ins
	// tenantNames counts the names the sign-in log gives its home
	// tenants (tenantnames.go).
	tenantNames histogram

	// noApp is the earliest of its successful sign-ins that named no
	// application and the ones the sign-in log then gave one (moveApp),
	// nil until it has such a success: the empty application's first
	// success to cite (noAppFirsts).
	noApp *noAppFirsts

	// Most accounts sign in to a few apps: remembering the last one saves
	// a map lookup per sign-in.
	lastApp   *appStats
	lastAppID string

	guest        bool // #EXT# UPN or UserType 10
	actorUnknown bool

	// days are the UTC days it signed in on, which the input's coverage
	// must span (coverage.go).
	days signinDays

	facts signinFacts
}

// signinFacts are what an account's sign-ins say beyond counts, most of it
// only in the Entra sign-in log. They are folded in for every sign-in
// record, including the copy of a sign-in already counted from the other
// log, so that an identity seen in both keeps the facts of both.
type signinFacts struct {
	sources     uint8  // a bit per audit.Kind
	crossTenant counts // crossTenantAccessType → sign-ins
	guestType   bool   // userType guest in the sign-in log
	memberType  bool   // userType member in the sign-in log
	locations   counts // "country|state|city" → sign-ins
	caStatus    counts // conditionalAccessStatus → sign-ins
	risk        counts // risk level → sign-ins
	clientApps  counts // clientAppUsed → sign-ins
	interactive int64
	background  int64 // non-interactive
}

func (f *signinFacts) add(a *agg, ev *audit.Event) {
	f.sources |= 1 << ev.Kind
	if ev.Kind != audit.KindSignIn {
		return
	}
	if len(ev.CrossTenantAccessType) > 0 {
		f.crossTenant.addOp(a, ev.CrossTenantAccessType)
	}
	switch string(ev.UserTypeName) {
	case "guest":
		f.guestType = true
	case "member":
		f.memberType = true
	}
	if len(ev.Country)+len(ev.State)+len(ev.City) > 0 {
		a.keyBuf = append(append(append(append(append(a.keyBuf[:0], ev.Country...), '|'), ev.State...), '|'), ev.City...)
		f.locations.addOp(a, a.keyBuf)
	}
	if len(ev.ConditionalAccessStatus) > 0 {
		f.caStatus.addOp(a, ev.ConditionalAccessStatus)
	}
	if len(ev.RiskLevel) > 0 {
		f.risk.addOp(a, ev.RiskLevel)
	}
	if len(ev.ClientApp) > 0 {
		f.clientApps.addOp(a, ev.ClientApp)
	}
	if ev.Interactive != nil {
		if *ev.Interactive {
			f.interactive++
		} else {
			f.background++
		}
	}
}

func (f *signinFacts) merge(o *signinFacts) {
	f.sources |= o.sources
	f.guestType = f.guestType || o.guestType
	f.memberType = f.memberType || o.memberType
	f.interactive += o.interactive
	f.background += o.background
	for _, pair := range []struct{ dst, src *counts }{{&f.crossTenant, &o.crossTenant}, {&f.locations, &o.locations},
		{&f.caStatus, &o.caStatus}, {&f.risk, &o.risk}, {&f.clientApps, &o.clientApps}} {
		for _, c := range *pair.src {
			pair.dst.add(c.op, c.n)
		}
	}
}

// maxUserAgents caps the user agents kept per identity: distinct values
// are attacker-chosen and could otherwise grow without bound.
const maxUserAgents = 20

// shareStats aggregates sharing records that name one target.
type shareStats struct {
	count int64
	ev    topK
}

// agg is one worker's aggregates.
type agg struct {
	k int // evidence cap

	users   map[string]*userStats
	buckets map[string]*bucket
	shares  map[string]*shareStats
	orgs    map[string]int64
	// orgCounts counts records per OrganizationId (one tenant, or a few in
	// an MSSP's export); folded into orgs when workers merge.
	orgCounts counts
	// crossOrgCounts counts the resource tenants of Entra sign-ins by an
	// account of another home tenant, folded into orgs under
	// crossOrgPrefix: ours when the sign-in came in, a partner's when it
	// went out (a tenant's sign-in log also holds its own users' sign-ins
	// to other tenants, as guests there). They name our tenant only when
	// nothing else does (tenantOf).
	crossOrgCounts counts
	// guestHosts are the host domains of #EXT# guest UPNs: ours.
	guestHosts map[string]bool

	kept, dups, filtered int64
	minT, maxT           int64
	// cover counts the kept records per workload and day.
	cover coverage

	// per-file counts, indexed by file
	fileRecords, fileSkipped []int64

	intern  map[string]string
	keyBuf  []byte
	userBuf []byte
	// nameBuf builds the key of a home tenant's name (tenantnames.go).
	nameBuf []byte

	// Sharing records for targets past maxShares go to shareLog
	// (sharespill.go); 0 keeps every target in memory.
	maxShares   int
	tempDir     string
	shareLog    *shareLog
	shareLogErr error
}

func newAgg(k int) *agg {
	return &agg{
		k:       k,
		users:   map[string]*userStats{},
		buckets: map[string]*bucket{},
		shares:  map[string]*shareStats{},
		orgs:    map[string]int64{},
		intern:  map[string]string{},

		guestHosts: map[string]bool{},
	}
}

// str interns short repeated strings (operations, tenants) so each costs
// one allocation per worker, not one per record.
func (a *agg) str(b []byte) string {
	if s, ok := a.intern[string(b)]; ok {
		return s
	}
	if len(a.intern) > 1<<16 {
		// Attacker-chosen values could fill the table; stop interning.
		return string(b)
	}
	s := string(b)
	a.intern[s] = s
	return s
}

func (a *agg) countFile(file int, records, skipped int64) {
	for len(a.fileRecords) <= file {
		a.fileRecords = append(a.fileRecords, 0)
		a.fileSkipped = append(a.fileSkipped, 0)
	}
	a.fileRecords[file] += records
	a.fileSkipped[file] += skipped
}

// unknownKey names the identity of a sign-in whose UserId is unusable
// (docs/rules.md "Classify" 1). A placeholder object id, UserKey or
// actor tenant names nothing.
func unknownKey(ev *audit.Event) []byte {
	switch {
	case ev.ActorObject != nil && !audit.IsPlaceholderGUID(ev.ActorObject):
		return ev.ActorObject
	case len(ev.UserKey) > 0 && !audit.IsPlaceholder(ev.UserKey):
		return ev.UserKey
	case audit.IsTenantID(ev.ActorTenant):
		return ev.ActorTenant
	}
	return nil
}

// add folds one decoded, deduplicated record into the aggregates.
func (a *agg) add(ev *audit.Event, file int32, line int64) {
	a.addTo(a.bucketOf(ev), ev, file, line)
}

// bucketOf returns the bucket of a record that add would fold, creating
// it: the map lookup add needs first, split out so that a batch's lookups
// can run back to back (shardSink.take) and their cache misses overlap.
// It sorts the record's address list, as add needs.
func (a *agg) bucketOf(ev *audit.Event) *bucket {
	user := ev.User
	if ev.Outcome() != audit.NotSignin {
		user = a.signinUser(ev)
	}
	// Bucket key: user, NUL, then each address as 16 bytes.
	a.keyBuf = append(a.keyBuf[:0], user...)
	a.keyBuf = append(a.keyBuf, 0)
	ips := ev.IPList()
	if len(ips) > 1 {
		slices.SortFunc(ips, func(x, y netip.Addr) int { return x.Compare(y) })
	}
	for _, ip := range ips {
		b := ip.As16()
		a.keyBuf = append(a.keyBuf, b[:]...)
	}
	b := a.buckets[string(a.keyBuf)]
	if b == nil {
		b = &bucket{user: string(user), kind: ev.UserKind, ips: slices.Clone(ips)}
		a.buckets[string(a.keyBuf)] = b
	}
	return b
}

// addTo folds one decoded, deduplicated record into the aggregates; b is
// its bucket (bucketOf).
func (a *agg) addTo(b *bucket, ev *audit.Event, file int32, line int64) {
	a.kept++
	if a.minT == 0 || ev.Time < a.minT {
		a.minT = ev.Time
	}
	if ev.Time > a.maxT {
		a.maxT = ev.Time
	}
	if len(ev.OrgID) > 0 {
		if ev.Kind == audit.KindSignIn && len(ev.ActorTenant) > 0 && !bytes.Equal(ev.ActorTenant, ev.OrgID) {
			a.crossOrgCounts.addOp(a, ev.OrgID)
		} else {
			a.orgCounts.addOp(a, ev.OrgID)
		}
	}
	a.cover.add(ev.WorkloadOf(), ev.Time)

	outcome := ev.Outcome()
	if outcome != audit.NotSignin {
		b.signins++
		op := b.signOps.addOp(a, ev.Operation)
		b.evSig.offer(a.k, op, ev, file, line, ev.AppID, nil)
		a.addSignin(b, ev, a.signinUser(ev), ev.UserKind, outcome, op, file, line)
		return
	}
	op := b.ops.addOp(a, ev.Operation)
	cat := ev.Categorize()
	b.nonSignin++
	b.cats |= cat
	if cat&audit.CatAccess == 0 {
		b.nonAccess++
		b.firstNonAccess.offer(ev.Time, ev.ID, file, line)
	}
	if cat&audit.CatAnonLinkUsed != 0 {
		b.anonUsed++
	}
	if cat&audit.CatMailbox != 0 {
		b.firstMailbox.offer(ev.Time, ev.ID, file, line)
	}
	if cat&audit.CatAdmin != 0 {
		b.firstAdmin.offer(ev.Time, ev.ID, file, line)
	}
	b.evNon.offer(a.k, op, ev, file, line, ev.ObjectID, nil)
	if cat&audit.CatSharing != 0 {
		a.addShare(ev, file, line)
	}
}

// op is the operation's interned name; b is the bucket the sign-in went
// to, which remembers its account's userStats (one map lookup less per
// sign-in) and, having the same IP set, tells whether the account's IP set
// needs updating at all: only on the bucket's first sign-in.
func (a *agg) addSignin(b *bucket, ev *audit.Event, user []byte, kind audit.UserKind, outcome audit.Outcome, op string, file int32, line int64) {
	u := b.account
	if u == nil {
		if u = a.users[string(user)]; u == nil {
			u = &userStats{
				user:     string(user),
				unusable: kind == audit.UserUnusable,
				ips:      map[netip.Addr]struct{}{},
				apps:     map[string]*appStats{},
			}
			a.users[u.user] = u
		}
		b.account = u
	}
	u.countOutcome(outcome, 1)
	if u.first == 0 || ev.Time < u.first {
		u.first = ev.Time
	}
	if ev.Time > u.last {
		u.last = ev.Time
	}
	u.days.add(ev.Time)
	if b.signins == 1 {
		for _, ip := range ev.IPList() {
			u.ips[ip] = struct{}{}
		}
	}
	if len(ev.UserAgent) > 0 {
		u.addUA(ev.UserAgent)
	}
	app := u.lastApp
	if app == nil || u.lastAppID != string(ev.AppID) {
		app = u.apps[string(ev.AppID)]
		if app == nil {
			app = &appStats{}
			u.apps[a.str(ev.AppID)] = app
		}
		u.lastApp, u.lastAppID = app, a.str(ev.AppID)
	}
	app.count++
	if len(ev.AppName) > 0 {
		u.noteAppName(a, ev, app)
	}
	if len(ev.HomeTenantName) > 0 {
		a.noteTenantName(u, ev)
	}
	if outcome == audit.Success {
		app.success++
		app.firstSuccess.offer(ev.Time, ev.ID, file, line)
		if len(ev.AppID) == 0 {
			u.offerNoApp(ev, file, line)
		}
	}
	if len(ev.ActorTenant) > 0 {
		u.tenants.addOp(a, ev.ActorTenant)
	}
	if kind == audit.UserGuest || ev.UserType == 10 {
		u.guest = true
		if kind == audit.UserGuest {
			if h := audit.GuestHostDomain(ev.UserID); h != nil && !a.guestHosts[string(h)] {
				a.guestHosts[string(h)] = true
			}
		}
	}
	if ev.ActorUnknown {
		u.actorUnknown = true
	}
	u.facts.add(a, ev)
}

// signinUser returns the aggregate key of a sign-in's account: its
// canonical user, or for an unusable UserId the external-unknown key.
func (a *agg) signinUser(ev *audit.Event) []byte {
	if ev.UserKind != audit.UserUnusable {
		return ev.User
	}
	a.userBuf = append(append(a.userBuf[:0], "unknown:"...), unknownKey(ev)...)
	return a.userBuf
}

// addSigninCopy folds in a sign-in already counted from the other log
// (the same sign-in in the UAL and the Entra sign-in log): only its
// facts, so the identity lists both sources and the sign-in log's
// location, conditional access and risk, without counting it twice.
func (a *agg) addSigninCopy(ev *audit.Event) *userStats {
	user := a.signinUser(ev)
	u := a.users[string(user)]
	if u == nil {
		// The counted copy may be in another worker's aggregates, or (for an
		// account with no usable UserId) under another name: keep the facts
		// here; workers merge, aliases join names, and dropCopiesOnly
		// removes what never met a counted sign-in.
		u = &userStats{user: string(user), unusable: ev.UserKind == audit.UserUnusable,
			ips: map[netip.Addr]struct{}{}, apps: map[string]*appStats{}}
		a.users[u.user] = u
	}
	u.facts.add(a, ev)
	if len(ev.AppName) > 0 {
		u.noteAppName(a, ev, nil)
	}
	if len(ev.HomeTenantName) > 0 {
		a.noteTenantName(u, ev)
	}
	return u
}

// moveApp gives a sign-in counted from an app-less UAL record of u's,
// whose outcome was from, the application and the outcome of its copy ev
// from the sign-in log (dedup's sameSigninFrom): the sign-in leaves from's
// count and the empty application ("") for ev's outcome and application,
// and ev is that application's successful sign-in to cite when it
// succeeded. Only counts move, so the result is the same whichever worker
// folds the counted copy or ev first (a count may be -1 in between); the
// rest of the counted copy stays (its bucket and evidence, addresses,
// agent, time). A success that leaves the empty application is noted in
// noApp, so that the judge cites none of its copies as that
// application's first success (noAppFirsts).
func (a *agg) moveApp(u *userStats, ev *audit.Event, from audit.Outcome, file int32, line int64) {
	to := ev.Outcome()
	u.countOutcome(from, -1)
	u.countOutcome(to, 1)
	was := u.apps[""]
	if was == nil {
		was = &appStats{}
		u.apps[""] = was
	}
	app := u.apps[string(ev.AppID)]
	if app == nil {
		app = &appStats{}
		u.apps[a.str(ev.AppID)] = app
	}
	was.count--
	app.count++
	if from == audit.Success {
		was.success--
		if u.noApp == nil {
			u.noApp = &noAppFirsts{}
		}
		u.noApp.moved = append(u.noApp.moved, makeKey(ev.SignInID))
	}
	if to == audit.Success {
		app.success++
		app.firstSuccess.offer(ev.Time, ev.ID, file, line)
	}
}

// NoAppCands is how many of an account's earliest app-less successes
// noAppFirsts keeps; the ClickHouse store looks at as many, so that both
// cite the same sign-in.
const NoAppCands = 8

// noAppFirsts finds the empty application's first success still counted
// there. A UAL success that named no application is folded before the
// sign-in log's copy may take it to that copy's application and outcome
// (moveApp), possibly in another worker, so its firstSuccess alone may be
// a sign-in the sign-in log says was interrupted, or one now counted under
// its application. This keeps the NoAppCands earliest app-less successes
// with the sign-in each records, and the sign-ins moved away; first is the
// earliest kept that was not moved. Only Sentinel's OfficeActivity (or a
// UAL record lacking ApplicationId) has such sign-ins: the common export
// never allocates one.
type noAppFirsts struct {
	cands []noAppCand // sorted by refBefore, at most NoAppCands
	// moved are the sign-ins (makeKey of the sign-in log's id, the UAL
	// record's IntraSystemId) of successes moved away.
	moved []idKey
}

// noAppCand is one app-less success: where it was read, and the sign-in
// it records (makeKey of IntraSystemId; zero when the record names none,
// which nothing can move).
type noAppCand struct {
	rec    firstRec
	signin idKey
}

// offerNoApp keeps ev, an app-less success, if it is among the earliest.
func (u *userStats) offerNoApp(ev *audit.Event, file int32, line int64) {
	if u.noApp == nil {
		u.noApp = &noAppFirsts{}
	}
	var c noAppCand
	c.rec.offer(ev.Time, ev.ID, file, line)
	if ev.Kind == audit.KindUAL && len(ev.IntraSystemID) > 0 {
		c.signin = makeKey(ev.IntraSystemID)
	}
	u.noApp.offer(c)
}

func (n *noAppFirsts) offer(c noAppCand) {
	i := len(n.cands)
	for i > 0 && c.rec.before(&n.cands[i-1].rec) {
		i--
	}
	if i >= NoAppCands {
		return
	}
	n.cands = slices.Insert(n.cands, i, c)
	if len(n.cands) > NoAppCands {
		n.cands = n.cands[:NoAppCands]
	}
}

// merge folds in o, the same account's from another worker.
func (n *noAppFirsts) merge(o *noAppFirsts) {
	for _, c := range o.cands {
		n.offer(c)
	}
	n.moved = append(n.moved, o.moved...)
}

// first is the earliest app-less success kept whose sign-in was not moved
// away (every copy of a sign-in the sign-in log took is left out, as the
// ClickHouse store leaves them out), or nil when every one kept was: then
// no app-less success is cited, rather than one no longer counted there.
func (n *noAppFirsts) first() *ref {
	for i := range n.cands {
		c := &n.cands[i]
		if c.signin == (idKey{}) || !slices.Contains(n.moved, c.signin) {
			return c.rec.first()
		}
	}
	return nil
}

// countOutcome adds n sign-ins of outcome o.
func (u *userStats) countOutcome(o audit.Outcome, n int64) {
	switch o {
	case audit.Success:
		u.success += n
	case audit.Interrupted:
		u.interrupted += n
	default:
		u.failure += n
	}
}

// dropCopiesOnly removes accounts known only from sign-ins counted under
// another name: reporting them would show an identity with no sign-ins.
func (a *agg) dropCopiesOnly() {
	for name, u := range a.users {
		if u.success+u.failure+u.interrupted == 0 {
			delete(a.users, name)
		}
	}
}

// addUA keeps the smallest maxUserAgents distinct agents: a deterministic
// choice whatever order records arrive in.
func (u *userStats) addUA(b []byte) {
	// A binary search written out: slices.BinarySearch would need the
	// agent as a string, an allocation per sign-in.
	lo, hi := 0, len(u.uas)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if u.uas[m] < string(b) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := lo
	if (i < len(u.uas) && u.uas[i] == string(b)) || i >= maxUserAgents {
		return
	}
	u.uas = slices.Insert(u.uas, i, string(b))
	if len(u.uas) > maxUserAgents {
		u.uas = u.uas[:maxUserAgents]
	}
}

func (a *agg) addShare(ev *audit.Event, file int32, line int64) {
	start := len(a.userBuf)
	target, kind, buf := audit.Canonical(ev.Target, a.userBuf)
	a.userBuf = buf[:start]
	if kind == audit.UserUnusable || len(target) == 0 {
		return
	}
	s := a.shares[string(target)]
	if s == nil {
		if a.maxShares > 0 && len(a.shares) >= a.maxShares &&
			a.spillShare(target, a.str(ev.Operation), ev, file, line) {
			return
		}
		s = &shareStats{}
		a.shares[string(target)] = s
	}
	s.count++
	s.ev.offer(a.k, a.str(ev.Operation), ev, file, line, ev.ObjectID, ev.Target)
}

// crossOrgPrefix marks, among orgs, the resource tenants of cross-tenant
// Entra sign-ins (crossOrgCounts); a tenant id never starts with it.
const crossOrgPrefix = "cross:"

// flushOrgs moves orgCounts and crossOrgCounts into orgs.
func (a *agg) flushOrgs() {
	for _, c := range a.orgCounts {
		a.orgs[c.op] += c.n
	}
	for _, c := range a.crossOrgCounts {
		a.orgs[crossOrgPrefix+c.op] += c.n
	}
	a.orgCounts, a.crossOrgCounts = nil, nil
}

// mergeSpan widens the time span [*lo, *hi] to cover [olo, ohi]; a zero
// lo is a span with no record yet.
func mergeSpan(lo, hi *int64, olo, ohi int64) {
	if olo != 0 && (*lo == 0 || olo < *lo) {
		*lo = olo
	}
	if ohi > *hi {
		*hi = ohi
	}
}

// merge folds o into a.
func (a *agg) merge(o *agg) {
	a.flushOrgs()
	o.flushOrgs()
	a.kept += o.kept
	a.dups += o.dups
	a.filtered += o.filtered
	mergeSpan(&a.minT, &a.maxT, o.minT, o.maxT)
	a.cover.merge(&o.cover)
	for k, n := range o.orgs {
		a.orgs[k] += n
	}
	for h := range o.guestHosts {
		a.guestHosts[h] = true
	}
	for i := range o.fileRecords {
		a.countFile(i, o.fileRecords[i], o.fileSkipped[i])
	}
	mergeInto(a.users, o.users, (*userStats).merge)
	mergeInto(a.buckets, o.buckets, func(b, ob *bucket) { b.merge(a.k, ob) })
	mergeInto(a.shares, o.shares, func(s, os *shareStats) { s.merge(a.k, os) })
}

// mergeInto folds each entry of src into dst's entry of the same key, or
// moves it over where dst has none: the one rule every keyed aggregate
// merges by. src is not used after.
func mergeInto[V any](dst, src map[string]*V, fold func(d, s *V)) {
	for k, s := range src {
		if d := dst[k]; d != nil {
			fold(d, s)
		} else {
			dst[k] = s
		}
	}
}

// merge folds o, the same account's sign-ins from another worker (or
// under another name, applyAliases), into u.
func (u *userStats) merge(o *userStats) {
	u.success += o.success
	u.failure += o.failure
	u.interrupted += o.interrupted
	mergeSpan(&u.first, &u.last, o.first, o.last)
	u.days.merge(&o.days)
	for ip := range o.ips {
		u.ips[ip] = struct{}{}
	}
	for _, ua := range o.uas {
		u.addUA([]byte(ua))
	}
	mergeInto(u.apps, o.apps, (*appStats).merge)
	for _, c := range o.tenants {
		u.tenants.add(c.op, c.n)
	}
	for _, c := range o.tenantNames {
		u.tenantNames.addNameN(c.op, c.n)
	}
	if o.noApp != nil {
		if u.noApp == nil {
			u.noApp = &noAppFirsts{}
		}
		u.noApp.merge(o.noApp)
	}
	u.guest = u.guest || o.guest
	u.actorUnknown = u.actorUnknown || o.actorUnknown
	u.facts.merge(&o.facts)
}

// merge folds o, the same app's sign-ins from another worker, into ap.
func (ap *appStats) merge(o *appStats) {
	ap.count += o.count
	ap.success += o.success
	ap.firstSuccess.merge(&o.firstSuccess)
	for _, c := range o.names {
		ap.names.addNameN(c.op, c.n)
	}
}

// merge folds o, the same bucket from another worker, into b; k is the
// evidence cap.
func (b *bucket) merge(k int, o *bucket) {
	b.nonSignin += o.nonSignin
	b.signins += o.signins
	b.nonAccess += o.nonAccess
	b.anonUsed += o.anonUsed
	b.cats |= o.cats
	b.ops.merge(o.ops)
	b.signOps.merge(o.signOps)
	b.evNon.merge(k, &o.evNon)
	b.evSig.merge(k, &o.evSig)
	b.firstMailbox.merge(&o.firstMailbox)
	b.firstAdmin.merge(&o.firstAdmin)
	b.firstNonAccess.merge(&o.firstNonAccess)
}

// merge folds o, the same target's sharing records from another worker,
// into s; k is the evidence cap.
func (s *shareStats) merge(k int, o *shareStats) {
	s.count += o.count
	s.ev.merge(k, &o.ev)
}

// applyAliases merges external-unknown identities that the two logs named
// differently (dedup.aliasUnknown) into one. The name kept does not depend
// on which log was read first: the UAL's name (the one docs/rules.md
// defines) when a UAL record gave one, else the smallest.
func (a *agg) applyAliases(pairs [][2]alias) {
	if len(pairs) == 0 {
		return
	}
	// Union-find over names.
	parent := map[string]string{}
	fromUAL := map[string]bool{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	better := func(x, y string) bool { // x is the better name
		if fromUAL[x] != fromUAL[y] {
			return fromUAL[x]
		}
		return x < y
	}
	for _, p := range pairs {
		for _, al := range p {
			if al.kind == audit.KindUAL {
				fromUAL[al.name] = true
			}
		}
	}
	for _, p := range pairs {
		x, y := find(p[0].name), find(p[1].name)
		if x == y {
			continue
		}
		if better(y, x) {
			x, y = y, x
		}
		parent[y] = x
	}
	for name := range parent {
		root := find(name)
		if root == name {
			continue
		}
		if u := a.users[name]; u != nil {
			if r := a.users[root]; r != nil {
				r.merge(u)
			} else {
				u.user = root
				a.users[root] = u
			}
			delete(a.users, name)
		}
		for _, b := range a.buckets {
			if b.user == name {
				b.user = root
			}
		}
	}
}
