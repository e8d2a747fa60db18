package synth

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// The scenarios: one outside identity each (several instances of some),
// written among the noise at seed-chosen times. Each instance states what
// it intends (class, verdict, severity); the answers themselves are
// derived from the records written (judge), and Generate fails if the two
// disagree, so a scenario cannot silently stop showing what it claims.

// Scenario names, as they appear in ExpectedIdentity.Scenario.
const (
	ScenarioPassthroughSigninOnly = "passthrough-signin-only"
	ScenarioPassthroughFailed     = "passthrough-failed"
	ScenarioConsumerSigninOnly    = "consumer-signin-only"
	ScenarioPassthroughShared     = "passthrough-shared"
	ScenarioSharedNeverUsed       = "shared-never-used"
	ScenarioPassthroughActivity   = "passthrough-activity"
	ScenarioPassthroughMailbox    = "passthrough-mailbox"
	ScenarioAnomalousThirdParty   = "anomalous-third-party"
	ScenarioSharedEgress          = "shared-egress"
	ScenarioGuestB2B              = "guest-b2b"
	ScenarioExternalUnknown       = "external-unknown"
	ScenarioAnonymousLink         = "anonymous-link"
	// ScenarioSignInLogOnly is an outsider that only the Entra sign-in
	// log knows (Options.SignInLog): its sign-ins are in no UAL record.
	ScenarioSignInLogOnly = "signin-log-only"
)

type intent struct {
	scenario, note           string
	class, verdict, severity string
	consumer                 bool
}

type plan struct {
	events []*event
	// only are the sign-ins that only the sign-in log has, in time order.
	only    []*event
	intents map[string]intent
	decoys  []ExpectedDecoy
	exp     *Expected
}

// outsider is an account from outside the organisation.
type outsider struct {
	upn      string // as Entra writes it in sign-ins
	lower    string
	canon    string // canonical user (rules.md)
	tenant   string // ActorContextId of its sign-ins
	guest    bool
	objectID string // a guest's object id in our directory
	userKey  string
	ua       userAgent
}

type builder struct {
	g *gen
	r rng
	// rs draws what only the sign-in log has, so that the UAL output does
	// not depend on whether the sign-in log is written.
	rs   rng
	p    *plan
	seq  int
	used map[*member]bool
}

var consumerDomains = map[string]bool{"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true, "passport.com": true}

func (b *builder) passthrough(upn string) *outsider { return b.passthroughFrom(upn, &b.r) }

// passthroughFrom is passthrough drawing from r.
func (b *builder) passthroughFrom(upn string, r *rng) *outsider {
	lower := strings.ToLower(upn)
	domain := lower[strings.LastIndexByte(lower, '@')+1:]
	x := &outsider{upn: upn, lower: lower, canon: lower, tenant: partnerTenant(domain), ua: userAgents[r.intn(5)]}
	x.userKey = string(appendPUID(nil, r))
	if consumerDomains[domain] {
		x.tenant = ConsumerTenant
		x.userKey = "00037FFE" + x.userKey[8:]
	}
	return x
}

// guest is a B2B guest: local_home#EXT#@contoso.onmicrosoft.com.
func (b *builder) guest(local, home string) *outsider {
	upn := local + "_" + home + "#EXT#@contoso.onmicrosoft.com"
	x := &outsider{upn: upn, lower: strings.ToLower(upn), canon: strings.ToLower(local + "@" + home),
		tenant: TenantID, guest: true, ua: userAgents[b.r.intn(5)]}
	x.objectID = guid(&b.r)
	x.userKey = x.objectID
	return x
}

// member picks a colleague for a scenario role (never an admin, never one
// already cast).
func (b *builder) member() *member {
	ms := b.g.tn.members
	for {
		m := ms[3+b.r.intn(len(ms)-3)]
		if !b.used[m] {
			b.used[m] = true
			return m
		}
	}
}

// anchor is the start time of a scenario instance: in the first three
// quarters of the period (an instance spans at most a few hours), at a
// time weighted like the rest of the traffic.
func (b *builder) anchor() int64 { return b.g.timeAt(0.03 + float64(0.72*b.r.f64())) }

func (b *builder) add(e *event) *event {
	if e.t >= b.g.end {
		e.t = b.g.end - 1
	}
	e.seq = b.seq
	b.seq++
	b.p.events = append(b.p.events, e)
	return e
}

// signInOnly adds a sign-in of x that only the Entra sign-in log has (a
// non-interactive token refresh, or an interactive sign-in that the UAL
// missed).
func (b *builder) signInOnly(x *outsider, t int64, app string, a netip.Addr, interactive bool) *event {
	e := signInOnlyEvent(x, t, app, a, interactive)
	if e.t >= b.g.end {
		e.t = b.g.end - 1
	}
	b.p.only = append(b.p.only, e)
	return e
}

func (b *builder) want(x *outsider, scenario, note, class, verdict, severity string) {
	b.p.intents[x.canon] = intent{scenario: scenario, note: note, class: class, verdict: verdict, severity: severity,
		consumer: x.tenant == ConsumerTenant}
}

func (b *builder) v4() netip.Addr { return b.g.tn.outsiderV4(&b.r) }
func (b *builder) v6() netip.Addr { return b.g.tn.outsiderV6(&b.r) }
func (b *builder) ip(a netip.Addr, notation int) string {
	return ipText(a, notation, &b.r)
}

// signin is a successful sign-in of x to app.
func (b *builder) signin(x *outsider, t int64, app, clientIP, actorIP string) *event {
	e := &event{t: t, kind: kSignin, rt: 15, op: opLoggedIn, workload: "AzureActiveDirectory",
		userID: x.upn, userKey: x.userKey, actorCtx: x.tenant, clientIP: clientIP, actorIP: actorIP,
		appID: app, resource: app, rsd: "Success", ua: &x.ua, actor0: "Unknown", actorUPN: x.upn}
	if x.guest {
		e.userType = 10
		e.actor0 = x.objectID
	}
	if b.r.chance(0.6) {
		e.errNum = "0"
	}
	return b.add(e)
}

func (b *builder) failed(x *outsider, t int64, app, ip, errNum, logonErr string) *event {
	e := b.signin(x, t, app, ip, ip)
	e.op, e.errNum, e.logonErr, e.rsd = opLoginFailed, errNum, logonErr, "UserError"
	return e
}

func spKind(e *event) {
	s := e.site
	e.workload = "SharePoint"
	if s.oneDrive {
		e.workload = "OneDrive"
	}
	switch e.kind {
	case kFile:
		e.rt = 6
	case kPage:
		e.rt = 4
	default:
		e.rt = 14
	}
	switch {
	case e.file != "":
		e.itemType = "File"
	case e.kind == kPage && e.op == "PageViewed":
		e.itemType = "Page"
	default:
		e.itemType = "Web"
	}
}

// sp is a SharePoint or OneDrive record of x; userID is how SharePoint
// names it in this record (plain UPN, urn:spo:guest#..., #ext# UPN).
func (b *builder) sp(x *outsider, t int64, k kind, op string, s *site, file, userID, ip string) *event {
	key := "i:0#.f|membership|urn%3aspo%3aguest#" + x.lower
	if x.guest {
		key = "i:0#.f|membership|" + x.lower
	}
	e := &event{t: t, kind: k, op: op, userID: userID, userKey: key, ua: &x.ua, site: s, file: file,
		clientIP: ip, appDisplay: appSharePoint}
	spKind(e)
	return b.add(e)
}

// spMember is a SharePoint or OneDrive record of a colleague.
func (b *builder) spMember(m *member, t int64, k kind, op string, s *site, file string) *event {
	e := &event{t: t, kind: k, op: op, userID: m.lower, userKey: "i:0h.f|membership|" + lowerHex(m.puid) + "@live.com",
		puid: m.puid, ua: &m.ua, site: s, file: file, clientIP: ipText(m.ips[0], nPlain, &b.r), appDisplay: appOneDriveWeb}
	spKind(e)
	return b.add(e)
}

// share is a sharing record by m naming target.
func (b *builder) share(m *member, t int64, op string, s *site, file, target, targetType, eventData string) *event {
	e := b.spMember(m, t, kSharing, op, s, file)
	e.target, e.targetType, e.eventData = target, targetType, eventData
	return e
}

func (b *builder) memberSignin(m *member, t int64, app, ip string) *event {
	e := &event{t: t, kind: kSignin, rt: 15, op: opLoggedIn, workload: "AzureActiveDirectory",
		userID: m.upn, userKey: m.objectID, actor0: m.objectID, actorUPN: m.upn, actorCtx: TenantID,
		clientIP: ip, actorIP: ip, appID: app, resource: appGraph, rsd: "Success", errNum: "0", ua: &m.ua}
	return b.add(e)
}

func (b *builder) mail(x *outsider, t int64, ip, owner string) *event {
	e := &event{t: t, kind: kMail, rt: 50, op: "MailItemsAccessed", workload: "Exchange", userID: x.lower,
		puid: x.userKey, clientIP: ip, appID: appExchange, owner: owner, logonType: 2, external: true, ua: &x.ua}
	return b.add(e)
}

func (b *builder) directory(actorUPN, userID, puid, objectID string, t int64, op, target string) *event {
	e := &event{t: t, kind: kDir, rt: 8, op: op, workload: "AzureActiveDirectory", userID: userID,
		userKey: puid + "@contoso.onmicrosoft.com", actorUPN: actorUPN, actorCtx: TenantID, puid: puid,
		objectID2: objectID, owner: target, ua: &userAgents[0]}
	return b.add(e)
}

func (g *gen) scenarios() (*plan, error) {
	b := &builder{g: g, r: newRng(g.o.Seed, streamScenario, 0), rs: newRng(g.o.Seed, streamSignIn, 1<<48),
		p: &plan{intents: map[string]intent{}}, used: map[*member]bool{}}
	withLog := g.o.SignInLog != nil
	tn := g.tn
	const (
		min  = 60
		hour = 3600
	)

	// 1. passthrough-signin-only: the seed's case. Pass-through sign-ins to
	// the App Access Panel (one interrupted by a redirect first) and nothing
	// else; another partner's user through SharePoint, ClientIP (IPv4) and
	// ActorIpAddress (IPv6) differing.
	{
		x := b.passthrough("Pilar.Pinilla@fabrikam.com")
		a4, a6 := b.v4(), b.v6()
		t := b.anchor()
		b.signin(x, t, appAccessPanel, b.ip(a4, nPlain), b.ip(a4, nPlain)).rsd = "Redirect"
		b.signin(x, t+40, appAccessPanel, b.ip(a4, nPlain), b.ip(a4, nPlain))
		b.signin(x, t+3*hour, appAccessPanel, b.ip(a6, nUpper), b.ip(a6, nExpanded))
		// Token refreshes for SharePoint that only the sign-in log has:
		// more sign-ins and another application, the same verdict.
		b.signInOnly(x, t+20*min, appSharePoint, a4, false)
		b.signInOnly(x, t+3*hour+10*min, appSharePoint, a6, false)
		note := "pass-through sign-ins to the App Access Panel only (the seed's case); one interrupted by a redirect"
		if withLog {
			note += "; the sign-in log adds two non-interactive sign-ins to SharePoint"
		}
		b.want(x, ScenarioPassthroughSigninOnly, note, "passthrough", "signin-only", "info")

		y := b.passthrough("Megan.Bowen@northwindtraders.com")
		c4, c6 := b.v4(), b.v6()
		t = b.anchor()
		b.signin(y, t, appSharePoint, b.ip(c4, nPlain), b.ip(c6, nPlain))
		b.signin(y, t+25*min, appSharePoint, b.ip(c4, nPort), b.ip(c6, nUpper))
		b.want(y, ScenarioPassthroughSigninOnly, "pass-through sign-ins to SharePoint only; ClientIP IPv4 and ActorIpAddress IPv6 differ", "passthrough", "signin-only", "info")
	}

	// 2. passthrough-failed: wrong passwords and an interrupted sign-in.
	{
		x := b.passthrough("Ivan.Petrov@adatum.com")
		a := b.v4()
		t := b.anchor()
		for i, n := range []int{nPlain, nPort, nBracketPort} {
			b.failed(x, t+int64(i)*45, appExchange, b.ip(a, n), "50126", "InvalidUserNameOrPassword")
		}
		e := b.signin(x, t+4*min, appExchange, b.ip(a, nMapped), b.ip(a, nPlain))
		e.errNum, e.logonErr = "50140", "KmsiInterrupt"
		b.want(x, ScenarioPassthroughFailed, "only failed sign-ins (50126) and one UserLoggedIn interrupted (50140): no success", "passthrough", "signin-only", "info")
	}

	// 3. consumer-signin-only: a personal Microsoft account.
	{
		x := b.passthrough("sara.davis@outlook.com")
		a := b.v4()
		t := b.anchor()
		b.signin(x, t, appSharePoint, b.ip(a, nPlain), b.ip(a, nPlain)).rsd = "Redirect"
		b.signin(x, t+30, appSharePoint, b.ip(a, nPlain), b.ip(a, nPlain))
		b.want(x, ScenarioConsumerSigninOnly, "personal Microsoft account (outlook.com) signs in to SharePoint, nothing else", "passthrough", "signin-only", "info")
	}

	// 4. passthrough-shared: a colleague shares a OneDrive file through a
	// secure link; the outsider signs in and opens it (SharePoint names it
	// urn:spo:guest#... in some records, plainly in others; the address in
	// every notation). A colleague of the outsider signs in from the same
	// egress address and does nothing else: the outsider's file access is
	// P for that colleague (scenario shared-egress).
	{
		m := b.member()
		x := b.passthrough("PilarP@woodgrovebank.com")
		a := b.v4()
		s := m.oneDrive
		file := s.files[0]
		t := b.anchor()
		b.spMember(m, t, kSharing, "SecureLinkCreated", s, file).eventData = "<Type>View</Type>"
		b.share(m, t, "AddedToSecureLink", s, file, x.lower, "Guest", "<Type>View</Type>")
		b.share(m, t+1, "SharingSet", s, file, "SharingLinks."+guid(&b.r)+".Flexible."+guid(&b.r), "SharePointGroup", "<Permissions granted>Read</Permissions granted>")
		t += 2 * hour
		b.signin(x, t, appSharePoint, b.ip(a, nPlain), b.ip(a, nPlain))
		b.sp(x, t+30, kSharing, "SecureLinkUsed", s, file, "urn:spo:guest#"+x.lower, b.ip(a, nPort))
		b.sp(x, t+60, kFile, "FileAccessed", s, file, x.lower, b.ip(a, nBracketPort))
		b.sp(x, t+120, kFile, "FilePreviewed", s, file, "urn:spo:guest#"+x.lower, b.ip(a, nMapped))
		b.sp(x, t+200, kFile, "FileDownloaded", s, file, x.lower, b.ip(a, nMappedBracketPort))
		b.want(x, ScenarioPassthroughShared, "a colleague shared a OneDrive file by secure link; the outsider opened, previewed and downloaded it", "passthrough", "shared", "low")

		q := b.passthrough("Quinn.Baker@woodgrovebank.com")
		b.signin(q, t+3*hour, appSharePoint, b.ip(a, nMappedUpper), b.ip(a, nPlain))
		b.want(q, ScenarioSharedEgress, "signs in from the egress address of a colleague who opened shared files: those file records are P", "passthrough", "activity", "medium")

		// The consumer variant: a site invitation, accepted, pages and files
		// opened over IPv6.
		m2 := b.member()
		y := b.passthrough("jdoe@hotmail.com")
		a6 := b.v6()
		site := tn.sites[2]
		t = b.anchor()
		b.share(m2, t, "SharingInvitationCreated", site, "", y.lower, "Guest", "<Type>Edit</Type>")
		t += 40 * min
		b.signin(y, t, appSharePoint, b.ip(a6, nPlain), b.ip(a6, nPlain))
		b.sp(y, t+20, kSharing, "SharingInvitationAccepted", site, "", "urn:spo:guest#"+y.lower, b.ip(a6, nPort))
		b.sp(y, t+50, kPage, "PageViewed", site, "", "urn:spo:guest#"+y.lower, b.ip(a6, nUpper))
		b.sp(y, t+90, kFile, "FileAccessed", site, site.files[0], y.lower, b.ip(a6, nExpanded))
		b.want(y, ScenarioPassthroughShared, "consumer account invited to a site; accepts, views pages and a file (IPv6 in several notations)", "passthrough", "shared", "low")
	}

	// 5. shared-never-used: invited (UserSharedWith only), signs in, nothing
	// else.
	{
		m := b.member()
		x := b.passthrough("Lee.Gu@proseware.com")
		a := b.v4()
		site := tn.sites[1]
		t := b.anchor()
		e := b.share(m, t, "SharingInvitationCreated", site, "", "", "Guest", "<Type>View</Type>")
		e.sharedWith = x.lower
		b.signin(x, t+hour, appSharePoint, b.ip(a, nPlain), b.ip(a, nPlain))
		b.signin(x, t+hour+15*min, appSharePoint, b.ip(a, nBracket), b.ip(a, nPlain))
		b.want(x, ScenarioSharedNeverUsed, "invited to a site (UserSharedWith), signed in, opened nothing", "passthrough", "signin-only", "info")
	}

	// 6. passthrough-activity: edits and uploads nobody shared.
	{
		x := b.passthrough("Nestor.Wilke@litware.com")
		a := b.v6()
		site := tn.sites[5]
		t := b.anchor()
		b.signin(x, t, appSharePoint, b.ip(a, nPlain), b.ip(a, nUpper))
		b.sp(x, t+40, kFile, "FileAccessed", site, site.files[0], x.lower, b.ip(a, nPort))
		b.sp(x, t+160, kFile, "FileModified", site, site.files[0], "urn:spo:guest#"+x.lower, b.ip(a, nBracket))
		b.sp(x, t+300, kFile, "FileUploaded", site, "export.zip", x.lower, b.ip(a, nPlain))
		b.sp(x, t+420, kPage, "SearchQueryPerformed", site, "", x.lower, b.ip(a, nUpper))
		b.want(x, ScenarioPassthroughActivity, "modifies and uploads files and searches a site without any sharing", "passthrough", "activity", "medium")
	}

	// 7. passthrough-mailbox: mailbox access by the outsider itself; and an
	// outsider whose address a colleague signs in from.
	{
		x := b.passthrough("Adele.Vance@relecloud.com")
		a := b.v4()
		t := b.anchor()
		b.signin(x, t, appExchange, b.ip(a, nPlain), b.ip(a, nPlain))
		b.mail(x, t+2*min, b.ip(a, nPlain), "support@contoso.com")
		b.mail(x, t+9*min, b.ip(a, nMapped), "support@contoso.com")
		b.want(x, ScenarioPassthroughMailbox, "reads a shared mailbox (MailItemsAccessed by the outsider)", "passthrough", "activity", "high")

		m := b.member()
		y := b.passthrough("Kai.Carter@wingtiptoys.com")
		c := b.v4()
		t = b.anchor()
		b.signin(y, t, appTeams, b.ip(c, nPlain), b.ip(c, nPlain))
		b.memberSignin(m, t+20*min, appOffice, b.ip(c, nBracketPort))
		b.want(y, ScenarioPassthroughMailbox, "a colleague signs in from the outsider's address (P holds a member's record)", "passthrough", "activity", "high")
	}

	// 8. anomalous-third-party: a successful pass-through sign-in to a
	// non-Microsoft application; and one that failed (not anomalous).
	{
		app := guid(&b.r)
		x := b.passthrough("Mallory.Reyes@fourthcoffee.com")
		a := b.v4()
		t := b.anchor()
		b.signin(x, t, app, b.ip(a, nPlain), b.ip(a, nPlain))
		b.want(x, ScenarioAnomalousThirdParty, "successful pass-through sign-in to a third-party application", "passthrough", "anomalous", "high")

		y := b.passthrough("Trent.Olsen@fourthcoffee.com")
		c := b.v6()
		b.failed(y, t+hour, app, b.ip(c, nPlain), "50020", "UserUnauthorized")
		b.want(y, ScenarioAnomalousThirdParty, "failed pass-through sign-in to a third-party application (50020): not anomalous", "passthrough", "signin-only", "info")
	}

	// 9. shared-egress: two users of one partner behind one address.
	{
		x := b.passthrough("Anna.Lidman@alpineskihouse.com")
		y := b.passthrough("Ben.Walters@alpineskihouse.com")
		a := b.v4()
		t := b.anchor()
		b.signin(x, t, appAccessPanel, b.ip(a, nPlain), b.ip(a, nPlain))
		b.signin(y, t+7*min, appSharePoint, b.ip(a, nPort), b.ip(a, nPlain))
		b.signin(y, t+hour, appSharePoint, b.ip(a, nMapped), b.ip(a, nMapped))
		b.want(x, ScenarioSharedEgress, "shares an egress address with a colleague from its company; both only sign in", "passthrough", "signin-only", "info")
		b.want(y, ScenarioSharedEgress, "shares an egress address with a colleague from its company; both only sign in", "passthrough", "signin-only", "info")
	}

	// 10. guest-b2b: B2B guests (directory objects of ours).
	{
		admin := tn.members[0]
		invite := func(x *outsider, t int64) {
			b.directory(admin.upn, admin.lower, admin.puid, admin.objectID, t, "Invite external user.", x.lower)
		}

		x := b.guest("bob", "fabrikam.com")
		a := b.v4()
		t := b.anchor()
		invite(x, t-2*hour)
		b.signin(x, t, appAccessPanel, b.ip(a, nPlain), b.ip(a, nPlain))
		b.signin(x, t+10*min, tn.thirdPartyApps[0], b.ip(a, nPlain), b.ip(a, nPlain))
		b.want(x, ScenarioGuestB2B, "guest signs in, once to a third-party application (allowed for guests)", "guest", "signin-only", "info")

		m := b.member()
		y := b.guest("diego.siciliani", "adventure-works.com")
		c := b.v6()
		site := tn.sites[2]
		t = b.anchor()
		invite(y, t-hour)
		b.share(m, t, "AddedToGroup", site, "", y.lower, "Guest", "<Group>ProjectFalcon Visitors</Group>")
		b.share(m, t+5, "SharingSet", site, site.files[1], y.canon, "Guest", "<Permissions granted>Read</Permissions granted>")
		t += hour
		b.signin(y, t, appSharePoint, b.ip(c, nPlain), b.ip(c, nPlain))
		b.sp(y, t+30, kFile, "FileAccessed", site, site.files[1], y.lower, b.ip(c, nPort))
		b.sp(y, t+80, kPage, "PageViewed", site, "", y.lower, b.ip(c, nUpper))
		b.sp(y, t+140, kFile, "FileDownloaded", site, site.files[1], y.lower, b.ip(c, nExpanded))
		b.want(y, ScenarioGuestB2B, "guest added to a site group and shared a file; opens and downloads it", "guest", "shared", "low")

		m2 := b.member()
		z := b.guest("erin.hale", "margiestravel.com")
		d := b.v4()
		site2 := tn.sites[6]
		t = b.anchor()
		invite(z, t-3*hour)
		b.share(m2, t, "SharingSet", site2, site2.files[0], z.lower, "Guest", "<Permissions granted>Contribute</Permissions granted>")
		t += 30 * min
		b.signin(z, t, appSharePoint, b.ip(d, nPlain), b.ip(d, nPlain))
		b.sp(z, t+30, kFile, "FileAccessed", site2, site2.files[0], z.lower, b.ip(d, nPlain))
		b.sp(z, t+600, kFile, "FileModified", site2, site2.files[0], z.lower, b.ip(d, nPort))
		b.sp(z, t+900, kFile, "FileUploaded", site2, "Expenses October.xlsx", z.lower, b.ip(d, nBracketPort))
		b.want(z, ScenarioGuestB2B, "guest shared a file with edit rights; modifies it and uploads another", "guest", "activity", "medium")

		w := b.guest("grace_t", "northwindtraders.com")
		f := b.v4()
		t = b.anchor()
		invite(w, t-5*hour)
		b.signin(w, t, appAccessPanel, b.ip(f, nPlain), b.ip(f, nPlain))
		b.directory(w.upn, w.lower, string(appendPUID(nil, &b.r)), w.objectID, t+3*min, "Consent to application.", "Contoso Expense Helper")
		b.want(w, ScenarioGuestB2B, "guest (underscore in its own name) consents to an application: an Entra directory change", "guest", "activity", "high")
	}

	// 11. external-unknown: sign-ins with no usable user ("Not Available").
	{
		tenant := partnerTenant("blueyonderairlines.com")
		a := b.v4()
		key := guid(&b.r)
		t := b.anchor()
		for i, n := range []int{nPlain, nPort} {
			e := &event{t: t + int64(i)*90, kind: kSignin, rt: 15, op: opLoggedIn, workload: "AzureActiveDirectory",
				userID: "Not Available", userKey: key, userType: 4, actor0: key, actorCtx: tenant,
				clientIP: b.ip(a, n), actorIP: b.ip(a, nPlain), appID: appSharePoint, resource: appSharePoint,
				rsd: "Success", errNum: "0", ua: &userAgents[1]}
			b.add(e)
		}
		b.p.intents["unknown:"+key] = intent{scenario: ScenarioExternalUnknown, note: "UserId \"Not Available\" (UserType 4), grouped by the Actor object id",
			class: "external-unknown", verdict: "signin-only", severity: "info"}

		c := b.v6()
		key2 := guid(&b.r)
		t = b.anchor()
		for i, op := range []string{opLoginFailed, opLoggedIn} {
			e := &event{t: t + int64(i)*300, kind: kSignin, rt: 15, op: op, workload: "AzureActiveDirectory",
				userID: "Not Available", userKey: key2, userType: 4, actor0: "Unknown", actorCtx: tenant,
				clientIP: b.ip(c, nPlain), actorIP: b.ip(c, nPlain), appID: appAccessPanel, resource: appAccessPanel,
				rsd: "Success", ua: &userAgents[3]}
			if op == opLoginFailed {
				e.errNum, e.logonErr, e.rsd = "50126", "InvalidUserNameOrPassword", "UserError"
			}
			b.add(e)
		}
		b.p.intents["unknown:"+key2] = intent{scenario: ScenarioExternalUnknown, note: "UserId \"Not Available\", Actor \"Unknown\": grouped by UserKey",
			class: "external-unknown", verdict: "signin-only", severity: "info"}
	}

	// 12. anonymous-link: a colleague creates an anonymous link; the
	// outsider signs in, and the link is used from its address.
	{
		m := b.member()
		x := b.passthrough("Olga.Petrova@graphicdesigninstitute.com")
		a := b.v4()
		site := tn.sites[1]
		file := site.files[0]
		anon := "urn:spo:anon#" + string(appendHex(appendHex(nil, b.r.u64(), 16), b.r.u64(), 16))
		t := b.anchor()
		b.spMember(m, t, kSharing, "AnonymousLinkCreated", site, file).eventData = "<Type>View</Type>"
		b.share(m, t, "SharingSet", site, file, "SharingLinks."+guid(&b.r)+".AnonymousView."+guid(&b.r), "SharePointGroup", "<Permissions granted>Read</Permissions granted>")
		t += 3 * hour
		b.signin(x, t, appSharePoint, b.ip(a, nPlain), b.ip(a, nPlain))
		ua := x.ua
		for i, op := range []string{"AnonymousLinkUsed", "FileAccessed"} {
			k := kSharing
			if op == "FileAccessed" {
				k = kFile
			}
			e := &event{t: t + 20 + int64(i)*15, kind: k, op: op, userID: anon, userKey: anon, ua: &ua,
				site: site, file: file, clientIP: b.ip(a, []int{nPort, nMapped}[i])}
			spKind(e)
			b.add(e)
		}
		b.want(x, ScenarioAnonymousLink, "an anonymous link is used from the outsider's address (urn:spo:anon records count in U and H)", "passthrough", "shared", "low")
	}

	// 13. Decoys: must not be reported.
	{
		t := b.anchor()
		m := b.member()
		e := b.memberSignin(m, t, appOffice, ipText(m.ips[0], nPlain, &b.r))
		e.errNum, e.logonErr = "50126", "InvalidUserNameOrPassword"
		e = b.memberSignin(m, t+60, appOffice, ipText(m.ips[0], nPlain, &b.r))
		e.errNum, e.logonErr = "50074", "UserStrongAuthClientAuthNRequiredInterrupt"
		b.decoy(m.lower, "member whose UserLoggedIn records carry ErrorNumber 50126 and 50074")

		m = b.member()
		b.memberSignin(m, t+hour, appOfficeHome, ipText(m.ips[0], nPlain, &b.r)).rsd = "Redirect"
		b.decoy(m.lower, "member with a ResultStatusDetail Redirect sign-in")

		m = b.member()
		last := m.ips[len(m.ips)-1]
		for i, n := range []int{nMappedBracketPort, nBracket, nUpper, nExpanded} {
			b.memberSignin(m, t+2*hour+int64(i)*60, appTeams, ipText(last, n, &b.r))
		}
		b.decoy(m.lower, "member signing in with addresses in odd notations")

		look := tn.newMember("Adam.Ross@"+lookalikeDomain, lookalikeDomain)
		t2 := b.anchor()
		b.memberSignin(look, t2, appSharePoint, ipText(look.ips[1], nPlain, &b.r))
		b.spMember(look, t2+60, kFile, "FileAccessed", tn.sites[0], tn.sites[0].files[0])
		b.decoy(look.lower, "look-alike domain, but ActorContextId is ours: a member")

		sys := &event{t: t2 + 300, kind: kSharing, rt: 14, op: "AddedToGroup", workload: "SharePoint",
			userID: "app@sharepoint", userKey: "i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint",
			site: tn.sites[3], itemType: "Web", target: "Everyone except external users", targetType: "SecurityGroup",
			eventData: "<Group>Site Members</Group>"}
		b.add(sys)
		b.decoy("app@sharepoint", "SharePoint system account, ClientIP empty")

		m = b.member()
		b.share(m, t2+400, "SharingInvitationCreated", m.oneDrive, m.oneDrive.files[0], "carlos.gomez@tailspintoys.com", "Guest", "<Type>View</Type>")
		b.decoy("carlos.gomez@tailspintoys.com", "shared with, never signs in: not an identity")
	}

	// 14. signin-log-only: an outsider whose sign-ins only the Entra
	// sign-in log has (the UAL never recorded them): one failed and one
	// successful interactive sign-in to SharePoint, then a token refresh.
	// Drawn after every other scenario, from rs, so the UAL is the same
	// whether the sign-in log is written or not.
	{
		h := b.passthroughFrom("Hana.Sato@tailwindtraders.com", &b.rs)
		a := tn.outsiderV4(&b.rs)
		t := b.g.timeAt(0.03 + float64(0.72*b.rs.f64()))
		f := b.signInOnly(h, t, appSharePoint, a, true)
		f.op, f.errNum, f.logonErr, f.rsd = opLoginFailed, "50126", "InvalidUserNameOrPassword", "UserError"
		b.signInOnly(h, t+2*min, appSharePoint, a, true)
		b.signInOnly(h, t+50*min, appSharePoint, a, false)
		if withLog {
			b.want(h, ScenarioSignInLogOnly, "known only from the Entra sign-in log: a failed and a successful pass-through sign-in to SharePoint and a token refresh", "passthrough", "signin-only", "info")
		}
	}

	// 15. Partner scale (Options.Partners, Options.Outsiders), last so
	// that the scenarios above are drawn the same with or without it.
	if err := g.partners(b); err != nil {
		return nil, err
	}

	sort.SliceStable(b.p.events, func(i, j int) bool {
		a, c := b.p.events[i], b.p.events[j]
		if a.t != c.t {
			return a.t < c.t
		}
		return a.seq < c.seq
	})
	for i, e := range b.p.events {
		e.idx = 1<<46 | uint64(i)
	}
	sort.SliceStable(b.p.only, func(i, j int) bool { return b.p.only[i].t < b.p.only[j].t })
	for i, e := range b.p.only {
		e.idx = 1<<47 | uint64(i)
	}
	judged := b.p.events
	if withLog {
		judged = append(judged[:len(judged):len(judged)], b.p.only...)
	}
	ids, err := g.judge(judged)
	if err != nil {
		return nil, err
	}
	if err := b.p.check(ids); err != nil {
		return nil, err
	}
	sort.Slice(b.p.decoys, func(i, j int) bool { return b.p.decoys[i].User < b.p.decoys[j].User })
	exp := &Expected{
		TenantID:    TenantID,
		Domains:     append([]string(nil), Domains...),
		Summary:     ExpectedSummary{Identities: len(ids), ByVerdict: map[string]int{"anomalous": 0, "activity": 0, "shared": 0, "signin-only": 0}},
		Identities:  ids,
		NotReported: b.p.decoys,
	}
	for _, id := range ids {
		exp.Summary.ByVerdict[id.Verdict]++
	}
	b.p.exp = exp
	return b.p, nil
}

func (b *builder) decoy(user, note string) {
	b.p.decoys = append(b.p.decoys, ExpectedDecoy{User: user, Note: note})
}

// check compares the derived answers with what each scenario meant, and
// names the identities.
func (p *plan) check(ids []ExpectedIdentity) error {
	seen := map[string]bool{}
	for i := range ids {
		id := &ids[i]
		in, ok := p.intents[id.User]
		if !ok {
			return fmt.Errorf("synth: bug: identity %s reported by no scenario", id.User)
		}
		if id.Class != in.class || id.Verdict != in.verdict || id.Severity != in.severity || id.Consumer != in.consumer {
			return fmt.Errorf("synth: bug: %s (%s) came out %s %s/%s consumer=%v, the scenario meant %s %s/%s consumer=%v",
				id.User, in.scenario, id.Class, id.Verdict, id.Severity, id.Consumer, in.class, in.verdict, in.severity, in.consumer)
		}
		id.Scenario, id.Note = in.scenario, in.note
		seen[id.User] = true
	}
	for user, in := range p.intents {
		if !seen[user] {
			return fmt.Errorf("synth: bug: scenario %s meant %s to be reported", in.scenario, user)
		}
	}
	for _, d := range p.decoys {
		if seen[d.User] {
			return fmt.Errorf("synth: bug: decoy %s is reported", d.User)
		}
	}
	return nil
}
