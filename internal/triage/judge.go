package triage

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/tenant"
)

// consumerDomains are personal Microsoft account domains, used to mark an
// account as a consumer one when no record gives its home tenant.
var consumerDomains = map[string]bool{
	"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true, "passport.com": true,
}

// classified is a sign-in actor's class (docs/rules.md "Classify").
type classified struct {
	class    string
	home     string
	consumer bool
	inDir    InDirectory
	entry    *DirectoryMatch
	// company is the directory entry's companyName (directoryTenantNames).
	company string
}

// judge turns the merged aggregates into the report's identities.
type judge struct {
	a       *agg
	t       *tenant.Tenant
	dir     *directory.Directory // nil without --directory
	k       int
	classes map[string]classified
	cite    func(r *ref) string
	// cited collects the records the current identity's reasons cite:
	// its deciding records (Identity.Deciding).
	cited []*ref
	// citeSource renders only "file:line" (evidence's source field)
	citeSource func(r *ref) string
	// indexes over buckets, built for the identities that need them
	byUser map[string][]*bucket
	byIP   map[netip.Addr][]*bucket
	// looks are the records each identity's objects are read from
	// (look.go); noLooks: not gathered, the report leaves them out
	// (Options.SkipAccessed).
	looks   map[string]*lookList
	noLooks bool
}

// classify applies rules 1–4 to every sign-in actor; rule 5 needs our
// domains, which come from the members found by rule 4.
func (j *judge) classify() {
	j.classes = make(map[string]classified, len(j.a.users))
	var pending []*userStats
	for _, u := range j.a.users {
		switch {
		case u.unusable:
			j.classes[u.user] = classified{class: ClassExternalUnknown, home: mostFrequentForeign(u.tenants.asMap(), j.t)}
		case isGuest(u) && !outbound(u, j.t):
			j.classes[u.user] = classified{class: ClassGuest}
		default:
			home := mostFrequentForeign(u.tenants.asMap(), j.t)
			if home != "" || crossTenantExternal(u) {
				j.classes[u.user] = classified{class: ClassPassthrough, home: home, consumer: home == apps.ConsumerTenant}
			} else if hasTenantID(u.tenants) {
				j.classes[u.user] = classified{class: ClassMember}
			} else {
				pending = append(pending, u)
			}
		}
	}
	for _, u := range pending {
		dom := string(audit.Domain([]byte(u.user)))
		foreign := len(j.t.Domains) > 0 && !j.t.HasDomain(dom)
		if u.actorUnknown || foreign {
			j.classes[u.user] = classified{class: ClassPassthrough, consumer: consumerDomains[dom]}
		} else {
			j.classes[u.user] = classified{class: ClassMember}
		}
	}
	if j.dir != nil {
		for user, c := range j.classes {
			j.classes[user] = j.byDirectory(user, c)
		}
	}
}

// byDirectory lets the directory decide the class of a sign-in actor: an
// account found there is a guest or a member whatever the logs suggest (a
// guest whose mail is the outsider's address is a guest, not
// pass-through); an account not found keeps the class the logs give, now
// known to be absent. Unusable names (external-unknown) cannot be looked
// up.
func (j *judge) byDirectory(user string, c classified) classified {
	if c.class == ClassExternalUnknown {
		return c
	}
	e, by, ok := j.dir.Lookup(user)
	if !ok {
		c.inDir = DirectoryAbsent
		return c
	}
	c.inDir = DirectoryPresent
	c.entry = &DirectoryMatch{UPN: e.UPN, UserType: e.UserType, MatchedBy: string(by)}
	c.company = e.CompanyName
	if c.entry.UserType == "" {
		c.entry.UserType = "Member"
		if e.IsGuest() {
			c.entry.UserType = "Guest"
		}
	}
	if e.IsGuest() {
		c.class, c.consumer = ClassGuest, false
	} else {
		c.class, c.home, c.consumer = ClassMember, "", false
	}
	return c
}

// isGuest reports whether a sign-in actor is a B2B guest: a #EXT# UPN or
// UserType 10 in the UAL, userType guest or crossTenantAccessType
// b2bCollaboration in the Entra sign-in log.
func isGuest(u *userStats) bool {
	if u.guest || u.facts.guestType {
		return true
	}
	for _, c := range u.facts.crossTenant {
		if c.op == "b2bcollaboration" {
			return true
		}
	}
	return false
}

// outbound reports whether a sign-in actor's signs of a guest are its own
// sign-ins to other tenants: our tenant's sign-in log also holds our
// users' sign-ins to partners' tenants, where they are guests (userType
// guest, crossTenantAccessType b2bCollaboration, the partner's resource
// tenant), while their home tenant is ours. A guest of ours never has our
// tenant for home, nor an #EXT# name; an account whose home tenants are
// all ours and whose domain is ours is a member signing in elsewhere.
func outbound(u *userStats, t *tenant.Tenant) bool {
	if audit.GuestHostDomain([]byte(u.user)) != nil || !hasTenantID(u.tenants) || mostFrequentForeign(u.tenants.asMap(), t) != "" {
		return false
	}
	return t.HasDomain(string(audit.Domain([]byte(u.user))))
}

// crossTenantExternal reports whether the Entra sign-in log says the
// account came from another tenant without a guest object here:
// pass-through, B2B direct connect (Teams shared channels), a service
// provider's delegated admin (GDAP) or Microsoft support.
func crossTenantExternal(u *userStats) bool {
	for _, c := range u.facts.crossTenant {
		switch c.op {
		case "passthrough", "b2bdirectconnect", "serviceprovider", "microsoftsupport":
			return true
		}
	}
	return false
}

// memberDomains are the UPN domains of members found by actor tenant, the
// inferred "our domains".
func memberDomains(a *agg, t *tenant.Tenant) []string {
	set := map[string]bool{}
	for _, u := range a.users {
		if u.unusable || isGuest(u) || crossTenantExternal(u) || mostFrequentForeign(u.tenants.asMap(), t) != "" || !hasTenantID(u.tenants) {
			continue
		}
		if d := audit.Domain([]byte(u.user)); d != nil {
			set[string(d)] = true
		}
	}
	for d := range a.guestHosts {
		set[d] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// mostFrequentForeign returns the actor tenant, not ours, seen most often
// (ties: the smallest id), or "". A value that is not a tenant id (a
// placeholder such as "<USER HOME TENANT ID>" or the nil GUID) is no
// tenant: it never makes an account an outsider (placeholderTenants).
func mostFrequentForeign(tenants map[string]int64, t *tenant.Tenant) string {
	best, bestN := "", int64(0)
	for id, n := range tenants {
		if t.IsOurs(id) || !audit.IsTenantID([]byte(id)) {
			continue
		}
		if n > bestN || (n == bestN && id < best) {
			best, bestN = id, n
		}
	}
	return best
}

// hasTenantID reports whether any of an account's actor tenants is a
// tenant id.
func hasTenantID(tenants counts) bool {
	for _, c := range tenants {
		if audit.IsTenantID([]byte(c.op)) {
			return true
		}
	}
	return false
}

// placeholderTenants says, for an identity's reasons, which actor tenants
// of its sign-ins were not tenant ids and were therefore ignored; "" when
// none was.
func placeholderTenants(u *userStats, home string) string {
	var bad []string
	var n int64
	for _, c := range u.tenants {
		if !audit.IsTenantID([]byte(c.op)) {
			bad = append(bad, c.op)
			n += c.n
		}
	}
	if len(bad) == 0 {
		return ""
	}
	slices.Sort(bad)
	give := " give"
	if n == 1 {
		give = " gives"
	}
	msg := fmt.Sprintf("%s%s its home tenant as %s, which is not a tenant id (a placeholder or redaction): not taken as evidence",
		count(n, "sign-in", "sign-ins"), give, quoteValues(bad, 3))
	if home == "" {
		msg += "; its home tenant is unknown"
	}
	return msg
}

// quoteValues quotes values taken from the logs for a reason: escaped,
// each clipped, at most limit of them.
func quoteValues(vs []string, limit int) string {
	var b strings.Builder
	for i, v := range vs {
		if i == limit {
			fmt.Fprintf(&b, " and %d more", len(vs)-limit)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(v) > 64 {
			cut := 64
			for cut > 0 && !utf8.RuneStart(v[cut]) {
				cut--
			}
			v = v[:cut] + "…"
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

// isMember reports whether a user counts as one of ours when it appears in
// another identity's P: a classified member, or an account that never
// signed in but has one of our domains.
func (j *judge) isMember(user string) bool {
	if c, ok := j.classes[user]; ok {
		return c.class == ClassMember
	}
	if j.dir != nil {
		if e, _, ok := j.dir.Lookup(user); ok {
			return !e.IsGuest()
		}
	}
	d := audit.Domain([]byte(user))
	return d != nil && j.t.HasDomain(string(d))
}

func (j *judge) isExternal(user string) bool {
	c, ok := j.classes[user]
	return ok && c.class != ClassMember
}

// index builds the user and IP indexes over buckets, restricted to the
// external identities and their IPs: the only lookups judging needs. An
// address that cannot identify a client (audit.Identifying: loopback,
// documentation ranges...) is left out, so it joins nobody.
func (j *judge) index(externals []*userStats) {
	j.byUser = map[string][]*bucket{}
	j.byIP = map[netip.Addr][]*bucket{}
	for _, u := range externals {
		j.byUser[u.user] = nil
		for ip := range u.ips {
			if audit.Identifying(ip) {
				j.byIP[ip] = nil
			}
		}
	}
	for _, b := range j.a.buckets {
		if _, ok := j.byUser[b.user]; ok {
			j.byUser[b.user] = append(j.byUser[b.user], b)
		}
		for _, ip := range b.ips {
			if _, ok := j.byIP[ip]; ok {
				j.byIP[ip] = append(j.byIP[ip], b)
			}
		}
	}
}

// identities judges every external sign-in actor.
func (j *judge) identities() []Identity {
	var externals []*userStats
	for _, u := range j.a.users {
		if j.classes[u.user].class != ClassMember {
			externals = append(externals, u)
		}
	}
	slices.SortFunc(externals, func(x, y *userStats) int { return strings.Compare(x.user, y.user) })
	j.index(externals)
	out := make([]Identity, 0, len(externals))
	for _, u := range externals {
		out = append(out, j.identity(u))
	}
	sortIdentities(out)
	return out
}

// sets is U, P and H for one identity, as found in the buckets.
type sets struct {
	u, p []*bucket
	// pExcludeSignins marks P buckets of other outside identities, whose
	// sign-ins are context (ip_also_used_by), not activity.
	pExcludeSignins map[*bucket]bool

	byUser, byIP int64
	nonAccess    int64 // records of U that are not opening shared content
	anonUsed     int64 // AnonymousLinkUsed records in U
	sharing      int64 // |H|
	mailbox      bool
	admin        bool

	ops, uOps, pOps map[string]int64
	alsoUsedBy      []string
	evidence        []ref
	shareRefs       []ref

	// records reasons cite
	firstU, firstP, firstNonAccess *ref
	firstMailbox, firstAdmin       *ref
	firstAnonUsed                  *ref
	memberRecord                   *ref
	memberUser                     string

	// Links through private or CGNAT addresses only (audit.WeakLink):
	// the P records and anonymous-link records so tied, whether the
	// member record is, and the addresses.
	weakP, weakAnon                      int64
	memberWeak                           bool
	weakPIPs, weakAnonIPs, memberWeakIPs []netip.Addr
}

// foldAccess folds what a U bucket and a P bucket count alike: whether
// it touched a mailbox or administered anything, its operations (into
// the identity's and into side, uOps or pOps) and its first such records.
func (s *sets) foldAccess(b *bucket, side map[string]int64) {
	s.mailbox = s.mailbox || b.cats&audit.CatMailbox != 0
	s.admin = s.admin || b.cats&audit.CatAdmin != 0
	s.countOps(b.ops, side)
	s.firstMailbox = earlier(s.firstMailbox, b.firstMailbox.first())
	s.firstAdmin = earlier(s.firstAdmin, b.firstAdmin.first())
}

// countOps adds ops to the identity's operations and to side.
func (s *sets) countOps(ops histogram, side map[string]int64) {
	for _, oc := range ops {
		s.ops[oc.op] += oc.n
		side[oc.op] += oc.n
	}
}

func (j *judge) collect(u *userStats) *sets {
	s := &sets{ops: map[string]int64{}, uOps: map[string]int64{}, pOps: map[string]int64{}, pExcludeSignins: map[*bucket]bool{}}
	// U: the identity's own non-sign-in records ...
	seen := map[*bucket]bool{}
	for _, b := range j.byUser[u.user] {
		if b.nonSignin > 0 {
			s.u = append(s.u, b)
			seen[b] = true
		}
	}
	// ... and anonymous-link users' records from its IPs; P: everyone
	// else's records from its IPs.
	also := map[string]bool{}
	// strong marks buckets met through an address that is not a weak link.
	strong := map[*bucket]bool{}
	for _, ip := range sortedIPs(u.ips) {
		weak := audit.WeakLink(ip)
		for _, b := range j.byIP[ip] {
			if !weak {
				strong[b] = true
			}
			if seen[b] || b.user == u.user {
				continue
			}
			seen[b] = true
			if b.kind == audit.UserAnonymous {
				s.u = append(s.u, b)
				continue
			}
			if b.user != "" {
				also[b.user] = true
			}
			if j.isExternal(b.user) {
				if b.nonSignin == 0 {
					continue
				}
				s.pExcludeSignins[b] = true
			}
			s.p = append(s.p, b)
		}
	}
	s.alsoUsedBy = slices.Sorted(maps.Keys(also))
	sortBuckets(s.u)
	sortBuckets(s.p)
	// weakOnly reports whether b was met only through weak links; if so
	// it adds the addresses in common to the set given.
	weakOnly := func(b *bucket, into map[netip.Addr]struct{}) bool {
		if strong[b] || b.user == u.user {
			return false
		}
		for _, ip := range b.ips {
			if _, mine := u.ips[ip]; mine {
				into[ip] = struct{}{}
			}
		}
		return true
	}
	weakP, weakAnon := map[netip.Addr]struct{}{}, map[netip.Addr]struct{}{}
	var common map[netip.Addr]struct{} // one P bucket's weak addresses

	var ev topK
	for _, b := range s.u {
		s.byUser += b.nonSignin
		s.nonAccess += b.nonAccess
		s.anonUsed += b.anonUsed
		s.foldAccess(b, s.uOps)
		s.firstNonAccess = earlier(s.firstNonAccess, b.firstNonAccess.first())
		s.firstU = earlier(s.firstU, b.evNon.first())
		if b.kind == audit.UserAnonymous && weakOnly(b, weakAnon) {
			s.weakAnon += b.nonSignin
		}
		if b.kind == audit.UserAnonymous && b.anonUsed > 0 {
			for i := range b.evNon.order {
				if b.evNon.at(i).op == "AnonymousLinkUsed" {
					r := b.evNon.at(i).ref()
					s.firstAnonUsed = earlier(s.firstAnonUsed, &r)
					break
				}
			}
		}
		ev.merge(j.k, &b.evNon)
	}
	for _, b := range s.p {
		clear(common)
		if common == nil {
			common = map[netip.Addr]struct{}{}
		}
		weak := weakOnly(b, common)
		if weak {
			maps.Copy(weakP, common)
			s.weakP += b.nonSignin
			if !s.pExcludeSignins[b] {
				s.weakP += b.signins
			}
		}
		s.byIP += b.nonSignin
		s.foldAccess(b, s.pOps)
		s.firstP = earlier(s.firstP, b.evNon.first())
		ev.merge(j.k, &b.evNon)
		if !s.pExcludeSignins[b] {
			s.byIP += b.signins
			s.countOps(b.signOps, s.pOps)
			s.firstP = earlier(s.firstP, b.evSig.first())
			ev.merge(j.k, &b.evSig)
		}
		if j.isMember(b.user) && (b.nonSignin > 0 || !s.pExcludeSignins[b]) {
			first := earlier(b.evNon.first(), b.evSig.first())
			if s.memberRecord == nil || (first != nil && refBefore(first, s.memberRecord)) {
				s.memberRecord, s.memberUser, s.memberWeak = first, b.user, weak
				s.memberWeakIPs = sortedIPs(common)
			}
		}
	}
	s.evidence = ev.refs()
	s.weakPIPs, s.weakAnonIPs = sortedIPs(weakP), sortedIPs(weakAnon)

	// H: sharing records naming it, plus anonymous-link use from its IPs.
	s.sharing = s.anonUsed
	if sh := j.a.shares[u.user]; sh != nil {
		s.sharing += sh.count
		s.shareRefs = sh.ev.refs()
	}
	return s
}

func sortBuckets(bs []*bucket) {
	slices.SortFunc(bs, func(x, y *bucket) int {
		if c := strings.Compare(x.user, y.user); c != 0 {
			return c
		}
		return slices.CompareFunc(x.ips, y.ips, func(a, b netip.Addr) int { return a.Compare(b) })
	})
}

func sortedIPs(set map[netip.Addr]struct{}) []netip.Addr {
	ips := slices.Collect(maps.Keys(set))
	slices.SortFunc(ips, func(a, b netip.Addr) int { return a.Compare(b) })
	return ips
}

// identity judges one external identity.
func (j *judge) identity(u *userStats) Identity {
	c := j.classes[u.user]
	s := j.collect(u)
	if !j.noLooks {
		if j.looks == nil {
			j.looks = map[string]*lookList{}
		}
		j.looks[u.user] = j.lookList(s, j.a.shares[u.user])
	}
	id := Identity{
		User:       u.user,
		Class:      c.class,
		HomeTenant: c.home,
		Consumer:   c.consumer,
		Signins: Signins{
			Success:    u.success,
			Failure:    u.failure + u.interrupted,
			First:      audit.FormatTime(u.first),
			Last:       audit.FormatTime(u.last),
			IPs:        []string{},
			UserAgents: append([]string{}, u.uas...),
			Apps:       []App{},
		},
		Activity: Activity{
			ByUser:     s.byUser,
			ByIP:       s.byIP,
			Operations: s.ops,
			Evidence:   []Evidence{},
		},
		Sharing:      []Share{},
		IPAlsoUsedBy: s.alsoUsedBy,
		Reasons:      []string{},
		SharingCount: s.sharing,
		InDirectory:  c.inDir,
		Directory:    c.entry,
	}
	if id.IPAlsoUsedBy == nil {
		id.IPAlsoUsedBy = []string{}
	}
	for _, ip := range sortedIPs(u.ips) {
		id.Signins.IPs = append(id.Signins.IPs, ip.String())
	}
	j.signinFacts(&id, u)
	appIDs := slices.Sorted(maps.Keys(u.apps))
	var thirdParty []string
	for _, appID := range appIDs {
		st := u.apps[appID]
		if st.count <= 0 {
			// Only names, from copies of sign-ins counted under another
			// app; or the empty app, every sign-in of which its copy in
			// the sign-in log gave an application (moveApp).
			continue
		}
		a := appEntry(appID, st)
		id.Signins.Apps = append(id.Signins.Apps, a)
		if appID != "" && !a.FirstParty && st.success > 0 {
			thirdParty = append(thirdParty, appID)
		}
	}
	for _, r := range s.evidence {
		id.Activity.Evidence = append(id.Activity.Evidence, j.evidence(&r))
	}
	for _, r := range s.shareRefs {
		id.Sharing = append(id.Sharing, Share{
			Time: audit.FormatTime(r.time), Operation: r.op, By: r.user,
			Target: r.target, Object: r.object, RecordID: r.id,
		})
	}
	j.cited = j.cited[:0]
	j.verdict(&id, u, c, s, thirdParty)
	noAppReason(&id, u, c)
	addressReasons(&id, u, s)
	if r := placeholderTenants(u, c.home); r != "" {
		id.Reasons = append(id.Reasons, r)
	}
	seen := map[ref]bool{}
	for _, r := range j.cited {
		if r == nil || seen[*r] {
			continue
		}
		seen[*r] = true
		id.Deciding = append(id.Deciding, j.evidence(r))
	}
	return id
}

// citeRef cites a record in a reason and remembers it as deciding.
func (j *judge) citeRef(r *ref) string {
	if r != nil {
		j.cited = append(j.cited, r)
	}
	return j.cite(r)
}

// firstSuccess is the identity's earliest successful sign-in (of every
// application's first), or nil: what a verdict resting on sign-ins alone
// cites.
func firstSuccess(u *userStats) *ref {
	var first *ref
	for _, id := range slices.Sorted(maps.Keys(u.apps)) {
		// An application left with no success (moveApp took them) keeps
		// a first success the store outside the engine does not: skip it.
		st := u.apps[id]
		if st.success <= 0 {
			continue
		}
		r := st.firstSuccess.first()
		if id == "" && u.noApp != nil {
			// Not one the sign-in log's copy took away (noAppFirsts).
			r = u.noApp.first()
		}
		first = earlier(first, r)
	}
	return first
}

// signinsCited is describeSignins with the earliest successful sign-in
// cited, when there is one.
func (j *judge) signinsCited(u *userStats) string {
	d := describeSignins(u)
	if r := firstSuccess(u); r != nil {
		d += " (first successful: " + j.citeRef(r) + ")"
	}
	return d
}

// signinFacts fills the identity's sources and what the sign-in log says.
func (j *judge) signinFacts(id *Identity, u *userStats) {
	f := &u.facts
	id.Sources = []string{}
	// Sorted by name: entra-signin, ual.
	for _, k := range []audit.Kind{audit.KindSignIn, audit.KindUAL} {
		if f.sources&(1<<k) != 0 {
			id.Sources = append(id.Sources, k.String())
		}
	}
	for _, c := range f.locations {
		parts := strings.SplitN(c.op, "|", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		id.Signins.Locations = append(id.Signins.Locations, Location{Country: parts[0], State: parts[1], City: parts[2], Count: c.n})
	}
	slices.SortFunc(id.Signins.Locations, func(a, b Location) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Country+"|"+a.State+"|"+a.City, b.Country+"|"+b.State+"|"+b.City)
	})
	id.Signins.ConditionalAccess = nilIfEmpty(f.caStatus.asMap())
	id.Signins.RiskLevels = nilIfEmpty(f.risk.asMap())
	id.Signins.ClientApps = nilIfEmpty(f.clientApps.asMap())
	id.Signins.CrossTenantAccess = nilIfEmpty(f.crossTenant.asMap())
	id.Signins.Interactive, id.Signins.NonInteractive = f.interactive, f.background
}

func nilIfEmpty(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	return m
}

func (j *judge) evidence(r *ref) Evidence {
	e := Evidence{
		Time: audit.FormatTime(r.time), Operation: r.op, User: r.user,
		Object: r.object, RecordID: r.id, Source: j.citeSource(r),
	}
	if r.ip.IsValid() {
		e.IP = r.ip.String()
	}
	return e
}

// verdict applies DESIGN.md's rule (docs/rules.md "Judge") and writes the
// reasons, each citing the records that decided it.
func (j *judge) verdict(id *Identity, u *userStats, c classified, s *sets, thirdParty []string) {
	signins := describeSignins(u)
	gap := j.a.cover.gapFor(&u.days)
	switch {
	case c.class != ClassGuest && len(thirdParty) > 0:
		id.Verdict, id.Severity = VerdictAnomalous, SeverityHigh
		for _, appID := range thirdParty {
			st := u.apps[appID]
			id.Reasons = append(id.Reasons, fmt.Sprintf(
				"%s to application %s, which is not a Microsoft first-party application: Entra ID allows pass-through sign-ins only to first-party applications, so this account reached an application it should not (first: %s)",
				count(st.success, "successful sign-in", "successful sign-ins"), appReasonLabel(appID, st), j.citeRef(st.firstSuccess.first())))
		}
		id.Reasons = append(id.Reasons, signins)
		j.activityReasons(id, s)
		coverageNote(id, &gap)
	case s.byUser == 0 && s.byIP == 0 && !gap.empty():
		j.unverified(id, s, j.signinsCited(u), &gap)
	case s.byUser == 0 && s.byIP == 0:
		id.Verdict, id.Severity = VerdictSigninOnly, SeverityInfo
		id.Reasons = append(id.Reasons, j.signinsCited(u)+"; no other record by the account or from its IPs, which Microsoft's guidance says can be ignored")
		if s.sharing > 0 {
			id.Reasons = append(id.Reasons, fmt.Sprintf("shared with it %s but never used (first: %s)", count(s.sharing, "time", "times"), j.citeShare(s)))
		}
	case s.sharing > 0 && s.byIP == 0 && s.nonAccess == 0 && !gap.empty():
		j.unverified(id, s, j.signinsCited(u), &gap)
	case s.sharing > 0 && s.byIP == 0 && s.nonAccess == 0:
		id.Verdict, id.Severity = VerdictShared, SeverityLow
		id.Reasons = append(id.Reasons, signins)
		id.Reasons = append(id.Reasons, fmt.Sprintf("someone in the organisation shared with it: %s (first: %s)", count(s.sharing, "sharing record", "sharing records"), j.citeShare(s)))
		id.Reasons = append(id.Reasons, fmt.Sprintf("all %d of its other records open shared SharePoint/OneDrive content (%s; first: %s), and nobody else used its IPs",
			s.byUser, formatOps(s.uOps), j.citeRef(s.firstU)))
	default:
		id.Verdict, id.Severity = VerdictActivity, SeverityMedium
		id.Reasons = append(id.Reasons, signins)
		j.activityReasons(id, s)
		if s.mailbox || s.admin || s.memberRecord != nil {
			id.Severity = SeverityHigh
		}
		coverageNote(id, &gap)
	}
}

// noAppReason says when the anomalous rule could not be checked: successful
// sign-ins whose record names no application (Sentinel's OfficeActivity
// export has no ApplicationId column; a UAL record may lack the field) may
// have been to a third-party application, so "nothing but sign-ins" is not
// Microsoft's harmless case until the sign-in log names the application.
// The reason goes right after the one describing the sign-ins, so that an
// unverified verdict's coverage reason stays the last.
func noAppReason(id *Identity, u *userStats, c classified) {
	st := u.apps[""]
	if c.class == ClassGuest || id.Verdict == VerdictAnomalous || st == nil || st.success <= 0 {
		return
	}
	id.SigninsNoApp = st.success
	verb := "do"
	if st.success == 1 {
		verb = "does"
	}
	r := fmt.Sprintf("%s %s not name the application signed in to (no ApplicationId in the input), so a sign-in to an application that is not Microsoft first-party, which would make it anomalous, is not ruled out: give the Entra ID sign-in log for the same days",
		count(st.success, "successful sign-in", "successful sign-ins"), verb)
	at := min(1, len(id.Reasons))
	id.Reasons = slices.Insert(id.Reasons, at, r)
}

// unverified is the verdict where the records present would make the
// identity signin-only or shared but the input does not cover the tenant's
// activity around its sign-ins: an empty U and P proves nothing then.
func (j *judge) unverified(id *Identity, s *sets, signins string, gap *coverageGap) {
	id.Verdict, id.Severity = VerdictUnverified, SeverityLow
	if s.byUser == 0 {
		id.Reasons = append(id.Reasons, signins+"; no other record by the account or from its IPs in this input")
	} else {
		id.Reasons = append(id.Reasons, signins)
		id.Reasons = append(id.Reasons, fmt.Sprintf("all %d of its other records open shared SharePoint/OneDrive content (%s; first: %s), and nobody else used its IPs in this input",
			s.byUser, formatOps(s.uOps), j.citeRef(s.firstU)))
	}
	if s.sharing > 0 {
		id.Reasons = append(id.Reasons, fmt.Sprintf("someone in the organisation shared with it: %s (first: %s)", count(s.sharing, "sharing record", "sharing records"), j.citeShare(s)))
	}
	id.Reasons = append(id.Reasons, "cannot tell whether the account and its IPs appear only in sign-ins: "+gap.describe())
}

// coverageNote adds to a verdict the records present decide (anomalous,
// activity) that the input lacks workloads around its sign-ins: its
// activity may be larger than counted.
func coverageNote(id *Identity, gap *coverageGap) {
	if gap.empty() {
		return
	}
	id.Reasons = append(id.Reasons, "its activity may be larger than counted: "+gap.describe())
}

// activityReasons explains U and P, and what raises activity to high.
func (j *judge) activityReasons(id *Identity, s *sets) {
	if s.byUser > 0 {
		msg := fmt.Sprintf("%s by the account besides sign-ins (%s; first: %s)", count(s.byUser, "record", "records"), formatOps(s.uOps), j.citeRef(s.firstU))
		if s.sharing > 0 && s.nonAccess > 0 {
			msg += fmt.Sprintf("; sharing does not explain %d of them (first: %s)", s.nonAccess, j.citeRef(s.firstNonAccess))
		} else if s.sharing == 0 && id.Verdict == VerdictActivity && s.nonAccess == 0 {
			msg += "; nobody in the organisation is recorded sharing anything with it"
		}
		id.Reasons = append(id.Reasons, msg)
	}
	if s.byIP > 0 {
		msg := fmt.Sprintf("%s by others from its IPs (%s; first: %s)", count(s.byIP, "record", "records"), formatOps(s.pOps), j.citeRef(s.firstP))
		switch {
		case s.weakP == s.byIP:
			msg += "; the only addresses in common are " + weakLink(s.weakPIPs)
		case s.weakP > 0:
			msg += fmt.Sprintf("; %d of them share only %s", s.weakP, weakLink(s.weakPIPs))
		}
		id.Reasons = append(id.Reasons, msg)
	}
	if s.mailbox {
		id.Reasons = append(id.Reasons, "mailbox access (first: "+j.citeRef(s.firstMailbox)+")")
	}
	if s.admin {
		id.Reasons = append(id.Reasons, "administrative operation (first: "+j.citeRef(s.firstAdmin)+")")
	}
	if s.memberRecord != nil {
		msg := fmt.Sprintf("its IPs are also used by member account %s (first: %s)", s.memberUser, j.citeRef(s.memberRecord))
		if s.memberWeak {
			msg += "; that record shares only " + weakLink(s.memberWeakIPs)
		}
		id.Reasons = append(id.Reasons, msg)
	}
}

// weakLink names the private or CGNAT addresses a link went through and
// says what they are worth.
func weakLink(ips []netip.Addr) string {
	var list []string
	for _, ip := range ips {
		list = append(list, ip.String())
	}
	if len(list) > 5 {
		list = append(list[:5], fmt.Sprintf("%d more", len(ips)-5))
	}
	return "private or carrier-grade NAT addresses (" + strings.Join(list, ", ") +
		"), which a NAT or proxy shares among many clients: a weak link"
}

// addressReasons says which of an identity's sign-in addresses link it to
// nobody (audit.Identifying), and which anonymous-link records are tied to
// it only weakly.
func addressReasons(id *Identity, u *userStats, s *sets) {
	var none []string
	for _, ip := range sortedIPs(u.ips) {
		if k := audit.KindOfAddr(ip); !k.Identifying() {
			none = append(none, ip.String()+" ("+k.String()+")")
		}
	}
	if len(none) > 0 {
		what := fmt.Sprintf("%d of its sign-in IPs cannot identify a client and link", len(none))
		if len(none) == 1 {
			what = "1 of its sign-in IPs cannot identify a client and links"
		}
		id.Reasons = append(id.Reasons, what+" it to no other account: "+strings.Join(none, ", "))
	}
	if s.weakAnon > 0 {
		are := " are"
		if s.weakAnon == 1 {
			are = " is"
		}
		id.Reasons = append(id.Reasons, count(s.weakAnon, "anonymous-link record", "anonymous-link records")+are+" tied to it only through "+weakLink(s.weakAnonIPs))
	}
}

func (j *judge) citeShare(s *sets) string {
	var r *ref
	if len(s.shareRefs) > 0 {
		r = &s.shareRefs[0]
	}
	r = earlier(r, s.firstAnonUsed)
	if r == nil {
		return "not kept"
	}
	if r.target != "" {
		return fmt.Sprintf("%s %s %s with it, %s", r.user, r.op, r.object, j.citeRef(r))
	}
	return fmt.Sprintf("%s from its IP, %s", r.op, j.citeRef(r))
}

func describeSignins(u *userStats) string {
	total := u.success + u.failure + u.interrupted
	parts := []string{fmt.Sprintf("%d successful", u.success)}
	if u.failure > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", u.failure))
	}
	if u.interrupted > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted", u.interrupted))
	}
	return fmt.Sprintf("%s (%s) from %s", count(total, "sign-in", "sign-ins"), strings.Join(parts, ", "), count(int64(len(u.ips)), "IP", "IPs"))
}

// formatOps renders an operation histogram, largest first, at most 6.
func formatOps(ops map[string]int64) string {
	type kv struct {
		op string
		n  int64
	}
	var list []kv
	for op, n := range ops {
		list = append(list, kv{op, n})
	}
	slices.SortFunc(list, func(a, b kv) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		return strings.Compare(a.op, b.op)
	})
	var b strings.Builder
	for i, e := range list {
		if i == 6 {
			fmt.Fprintf(&b, ", %d more operations", len(list)-6)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.op)
		b.WriteString(" ")
		b.WriteString(strconv.FormatInt(e.n, 10))
	}
	return b.String()
}

// count is n with the noun in the right number: "1 record", "2 records".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
