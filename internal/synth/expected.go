package synth

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Expected states the answers for one generated output: what an engine
// that follows docs/rules.md must report. It marshals to JSON with a
// stable field order and sorted slices.
type Expected struct {
	// TenantID is our tenant (the OrganizationId of every record).
	TenantID string `json:"tenant_id"`
	// Domains are our tenant's domains.
	Domains []string `json:"domains"`
	// InferredDomains are the domains rules.md infers when --domain is not
	// given: the UPN domains of member sign-ins plus the host domain of
	// guest UPNs. It includes the look-alike decoy domain, whose users sign
	// in with our tenant's ActorContextId.
	InferredDomains []string `json:"inferred_domains"`
	// Format and Seed are the options the output was made with.
	Format string `json:"format"`
	Seed   int64  `json:"seed"`
	// Records is the number of distinct records written, Duplicates the
	// number of extra copies, Bytes the output size.
	Records    int64 `json:"records"`
	Duplicates int64 `json:"duplicates"`
	Bytes      int64 `json:"bytes"`
	// From and To are the times (RFC 3339) of the oldest and newest record.
	From string `json:"from"`
	To   string `json:"to"`
	// Summary counts the identities by verdict.
	Summary ExpectedSummary `json:"summary"`
	// Identities are every external identity, sorted by severity (high
	// first) then user, as the report sorts them.
	Identities []ExpectedIdentity `json:"identities"`
	// NotReported are accounts the scenarios put in the log that must not
	// appear as identities (decoys), sorted by user.
	NotReported []ExpectedDecoy `json:"not_reported"`
	// SignInLog describes the Entra sign-in log written beside the UAL
	// (Options.SignInLog); nil when none was. With it, Identities are the
	// answers for both logs read together.
	SignInLog *ExpectedSignInLog `json:"signin_log,omitempty"`
}

// ExpectedSignInLog counts the sign-in log's records.
type ExpectedSignInLog struct {
	// Records is the number of signIn objects; Twins of them are the twins
	// of UAL sign-ins (id = the UAL record's IntraSystemId, correlationId =
	// its InterSystemsId), OnlyInSignInLog the sign-ins no UAL record has.
	Records         int64 `json:"records"`
	Twins           int64 `json:"twins"`
	OnlyInSignInLog int64 `json:"only_in_signin_log"`
	Bytes           int64 `json:"bytes"`
}

// ExpectedSummary is the report's summary block.
type ExpectedSummary struct {
	// Identities is the number of external identities.
	Identities int `json:"identities"`
	// ByVerdict counts them per verdict (every verdict present, 0 or not).
	ByVerdict map[string]int `json:"by_verdict"`
}

// ExpectedIdentity is the answer for one external identity.
type ExpectedIdentity struct {
	// User is the canonical user (rules.md), or unknown:<key>.
	User string `json:"user"`
	// Class is passthrough, guest or external-unknown.
	Class    string `json:"class"`
	Consumer bool   `json:"consumer"`
	// HomeTenant is the most frequent actor tenant of its sign-ins that is
	// not ours (ties: the smallest); "" when there is none (guests).
	HomeTenant string `json:"home_tenant"`
	// Verdict is anomalous, activity, shared or signin-only; Severity
	// high, medium, low or info.
	Verdict  string `json:"verdict"`
	Severity string `json:"severity"`
	// SigninsSuccess and SigninsFailure count its sign-in records; failure
	// counts every sign-in that is not a success, SigninsInterrupted
	// those of them that were interrupted.
	SigninsSuccess     int `json:"signins_success"`
	SigninsFailure     int `json:"signins_failure"`
	SigninsInterrupted int `json:"signins_interrupted"`
	// IPs are the normalised addresses of its sign-ins, sorted (IPv4
	// before IPv6, numerically).
	IPs []string `json:"ips"`
	// Apps are the distinct ApplicationIds of its sign-ins, sorted.
	Apps []string `json:"apps"`
	// ByUser is |U|, ByIP |P|, Sharing |H| (rules.md).
	ByUser  int `json:"by_user"`
	ByIP    int `json:"by_ip"`
	Sharing int `json:"sharing"`
	// IPAlsoUsedBy are the other users with a record from its IPs, sorted.
	IPAlsoUsedBy []string `json:"ip_also_used_by"`
	// Touched names the objects its U, P and H records name, as
	// "<kind> <object>" (docs/reports.md "What was touched"), sorted.
	Touched []string `json:"touched"`
	// Sources are the logs holding the identity's own records (its
	// sign-ins, and its other records by account), sorted: "entra-signin"
	// and "ual". Only set when the sign-in log is written: a sign-in in
	// both logs counts once and puts the identity in both.
	Sources []string `json:"sources,omitempty"`
	// Scenario names the case that produced it; Note says what it shows.
	Scenario string `json:"scenario"`
	Note     string `json:"note"`
}

// ExpectedDecoy is an account that appears in the log and must not be
// reported.
type ExpectedDecoy struct {
	// User is the account in canonical form.
	User string `json:"user"`
	// Note says why it must not be reported.
	Note string `json:"note"`
}

// Identity returns the answer for a user (canonical form or unknown:key).
func (e *Expected) Identity(user string) (ExpectedIdentity, bool) {
	for _, id := range e.Identities {
		if id.User == user {
			return id, true
		}
	}
	return ExpectedIdentity{}, false
}

// Scenario returns the identities a scenario produced.
func (e *Expected) Scenario(name string) []ExpectedIdentity {
	var out []ExpectedIdentity
	for _, id := range e.Identities {
		if id.Scenario == name {
			out = append(out, id)
		}
	}
	return out
}

// Users returns the users of every identity, in report order.
func (e *Expected) Users() []string {
	out := make([]string, len(e.Identities))
	for i, id := range e.Identities {
		out[i] = id.User
	}
	return out
}

// SeverityRank orders severities for sorting: high 0 ... info 3.
func SeverityRank(s string) int {
	switch s {
	case "high":
		return 0
	case "medium":
		return 1
	case "low":
		return 2
	}
	return 3
}

// ---- the rules, applied to the scenario records ----------------------
//
// This is the generator's own bookkeeping: docs/rules.md applied to the
// events it wrote for the scenarios. Noise cannot change these answers
// (its accounts and addresses are disjoint from the outsiders'); the tests
// check that claim by running an independent implementation of the rules
// over the whole decoded output.

type userKind int

const (
	userNormal userKind = iota
	userAnon
	userUnusable
)

// canonicalUser applies rules.md's canonical form.
func canonicalUser(s string) (string, userKind) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "unknown", "not available", "n/a", "null", "none", "-",
		"redacted", "removed", "hidden", "masked", "sanitized", "sanitised", "scrubbed", "anonymized",
		"anonymised", "obfuscated", "withheld", "placeholder", "not applicable":
		return "", userUnusable
	case "anonymous":
		return s, userAnon
	}
	if strings.HasPrefix(s, "urn:spo:anon#") {
		return s, userAnon
	}
	if placeholderName(s) {
		return "", userUnusable
	}
	if i := strings.LastIndexByte(s, '|'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(s, "urn:spo:guest#")
	if i := strings.Index(s, "#ext#"); i >= 0 {
		local := s[:i]
		if j := strings.LastIndexByte(local, '_'); j >= 0 {
			s = local[:j] + "@" + local[j+1:]
		}
	}
	return s, userNormal
}

// placeholderName applies rules.md's placeholder names: <...>, [...], or
// a mask of * # ? and three x or more (before the @ of an address).
func placeholderName(s string) bool {
	if i := strings.LastIndexByte(s, '|'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(s, "urn:spo:guest#")
	if len(s) >= 2 && (s[0] == '<' && s[len(s)-1] == '>' || s[0] == '[' && s[len(s)-1] == ']') {
		return true
	}
	local := s
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		local = s[:at]
	}
	if local == "" || strings.Trim(local, "*#?x._-") != "" {
		return false
	}
	return strings.ContainsAny(local, "*#?") || strings.Count(local, "x") >= 3
}

// normaliseIP applies rules.md's IP normalisation.
func normaliseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return netip.Addr{}, false
		}
		s = s[1:j]
	} else if strings.Count(s, ":") == 1 {
		s = s[:strings.IndexByte(s, ':')]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// interruptCodes and interruptNames are docs/rules.md's interrupt codes
// and their names (the UAL's LogonError), written out again.
var interruptCodes = map[string]bool{
	"16001": true, "50058": true, "50072": true, "50074": true, "50076": true, "50079": true,
	"50097": true, "50125": true, "50140": true, "50158": true, "50168": true, "50199": true,
	"90095": true, "1000002": true, "1002013": true,
}

var interruptNames = map[string]bool{
	"UserAccountSelectionInvalid": true, "UserInformationNotProvided": true,
	"UserStrongAuthEnrollmentRequiredInterrupt": true, "UserStrongAuthClientAuthNRequiredInterrupt": true,
	"UserStrongAuthClientAuthNRequired": true, "UserStrongAuthEnrollmentRequired": true,
	"DeviceAuthenticationRequired": true, "PasswordResetRegistrationRequiredInterrupt": true,
	"KmsiInterrupt": true, "ExternalSecurityChallenge": true, "ChromeBrowserSsoInterruptRequired": true,
	"CmsiInterrupt": true, "AdminConsentRequiredRequestAccess": true, "BindCompleteInterruptError": true,
}

var sharingOps = map[string]bool{
	"SharingInvitationCreated": true, "SharingInvitationUpdated": true, "SharingSet": true,
	"AddedToSecureLink": true, "AddedToGroup": true, "AccessInvitationCreated": true,
	"AccessInvitationUpdated": true,
}

var openingOps = map[string]bool{
	"FileAccessed": true, "FileAccessedExtended": true, "FilePreviewed": true, "FileDownloaded": true,
	"FileSyncDownloadedFull": true, "FileSyncDownloadedPartial": true, "PageViewed": true,
	"PageViewedExtended": true, "ClientViewSignaled": true, "ListViewed": true, "ListItemViewed": true,
	"SecureLinkUsed": true, "AnonymousLinkUsed": true, "CompanyLinkUsed": true,
	"SharingInvitationAccepted": true, "AccessInvitationAccepted": true,
}

type outcome int

const (
	success outcome = iota
	interrupted
	failure
)

// signinOutcome is docs/rules.md "Outcome": the error number decides,
// whatever the operation; then the LogonError's name; then the operation
// and ResultStatusDetail.
func signinOutcome(e *event) outcome {
	switch {
	case e.errNum != "" && e.errNum != "0":
		if interruptCodes[e.errNum] {
			return interrupted
		}
		return failure
	case e.logonErr != "":
		if interruptNames[e.logonErr] {
			return interrupted
		}
		return failure
	case e.op != opLoggedIn:
		return failure
	case e.rsd == "" || e.rsd == "Success":
		return success
	case e.rsd == "Redirect" || e.rsd == "Interrupted":
		return interrupted
	}
	return failure
}

func isSignin(e *event) bool { return e.op == opLoggedIn || e.op == opLoginFailed }

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// realGUID applies rules.md's "tenant id" (and object id): a GUID that is
// not a placeholder (hex digits all in equal pairs, or a sequential
// example).
func realGUID(s string) bool {
	if !isGUID(s) {
		return false
	}
	s = strings.ToLower(s)
	switch s {
	case "12345678-1234-1234-1234-123456789012", "12345678-1234-1234-1234-123456789abc",
		"12345678-90ab-cdef-1234-567890abcdef", "01234567-89ab-cdef-0123-456789abcdef":
		return false
	}
	digits := strings.ReplaceAll(s, "-", "")
	for i := 0; i < len(digits); i += 2 {
		if digits[i] != digits[i+1] {
			return true
		}
	}
	return false
}

// identifying applies rules.md's "IPs": which addresses link records.
func identifying(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsUnspecified() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0, b[0] >= 240,
			b[0] == 192 && b[1] == 0 && b[2] == 2,
			b[0] == 198 && b[1] == 51 && b[2] == 100,
			b[0] == 203 && b[1] == 0 && b[2] == 113:
			return false
		}
		return true
	}
	b := a.As16()
	if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 {
		return false // 2001:db8::/32
	}
	return !(b[0] == 0x3f && b[1] == 0xff && b[2]&0xf0 == 0) // 3fff::/20
}

func recordIPs(e *event) []netip.Addr {
	var out []netip.Addr
	for _, s := range []string{e.clientIP, e.actorIP} {
		if a, ok := normaliseIP(s); ok && (len(out) == 0 || out[0] != a) {
			out = append(out, a)
		}
	}
	if e.kind == kDir {
		return nil // directory records carry no address
	}
	return out
}

// rec is an event with what the rules derive from it.
type rec struct {
	e      *event
	user   string // canonical user, or unknown:<key> for unusable sign-ins
	kind   userKind
	ips    []netip.Addr
	signin bool
}

func (g *gen) judge(events []*event) ([]ExpectedIdentity, error) {
	recs := make([]rec, len(events))
	for i, e := range events {
		u, k := canonicalUser(e.userID)
		r := rec{e: e, user: u, kind: k, ips: recordIPs(e), signin: isSignin(e)}
		if k == userUnusable && r.signin {
			key := ""
			switch {
			case realGUID(e.actor0):
				key = strings.ToLower(e.actor0)
			default:
				if uk, kk := canonicalUser(e.userKey); kk != userUnusable {
					key = uk
				} else if realGUID(e.actorCtx) {
					key = strings.ToLower(e.actorCtx)
				}
			}
			r.user = "unknown:" + key
		}
		recs[i] = r
	}

	// Classify every user with a sign-in.
	type ident struct {
		user     string
		class    string
		signins  []*rec
		tenants  map[string]int
		external bool
	}
	idents := map[string]*ident{}
	var order []string
	for i := range recs {
		r := &recs[i]
		if !r.signin || r.kind == userAnon {
			continue
		}
		id := idents[r.user]
		if id == nil {
			id = &ident{user: r.user, tenants: map[string]int{}}
			idents[r.user] = id
			order = append(order, r.user)
		}
		id.signins = append(id.signins, r)
	}
	for _, id := range idents {
		guest, foreign, ours := false, false, false
		for _, r := range id.signins {
			e := r.e
			if strings.Contains(strings.ToLower(e.userID), "#ext#") || e.userType == 10 {
				guest = true
			}
			ctx := strings.ToLower(e.actorCtx)
			switch {
			case !realGUID(ctx):
			case ctx == TenantID:
				ours = true
			default:
				foreign = true
				id.tenants[ctx]++
			}
		}
		switch {
		case strings.HasPrefix(id.user, "unknown:"):
			id.class = "external-unknown"
		case guest:
			id.class = "guest"
		case foreign:
			id.class = "passthrough"
		case ours:
			id.class = "member"
		default:
			return nil, fmt.Errorf("synth: %s: sign-in without an actor tenant", id.user)
		}
		id.external = id.class != "member"
	}

	var out []ExpectedIdentity
	for _, user := range order {
		x := idents[user]
		if !x.external {
			continue
		}
		res := ExpectedIdentity{User: user, Class: x.class, IPs: []string{}, Apps: []string{}, IPAlsoUsedBy: []string{}}
		ipset := map[netip.Addr]bool{}
		apps := map[string]bool{}
		anomalous := false
		for _, r := range x.signins {
			for _, a := range r.ips {
				ipset[a] = true
			}
			if r.e.appID != "" {
				apps[r.e.appID] = true
			}
			switch signinOutcome(r.e) {
			case success:
				res.SigninsSuccess++
				if x.class != "guest" && r.e.appID != "" && firstPartyApps[strings.ToLower(r.e.appID)] == "" {
					anomalous = true
				}
			case interrupted:
				res.SigninsFailure++
				res.SigninsInterrupted++
			default:
				res.SigninsFailure++
			}
		}
		best, bestN := "", 0
		for t, n := range x.tenants {
			if n > bestN || n == bestN && t < best {
				best, bestN = t, n
			}
		}
		res.HomeTenant = best
		res.Consumer = x.class == "passthrough" && best == ConsumerTenant

		meets := func(r *rec) bool {
			for _, a := range r.ips {
				if ipset[a] && identifying(a) {
					return true
				}
			}
			return false
		}
		var u, p, h []*rec
		also := map[string]bool{}
		for i := range recs {
			r := &recs[i]
			if r.user == user {
				if !r.signin {
					u = append(u, r)
				}
				continue
			}
			if !meets(r) {
				continue
			}
			if r.kind == userAnon {
				u = append(u, r)
				continue
			}
			if r.user == "" {
				continue
			}
			also[r.user] = true
			if r.signin && idents[r.user] != nil && idents[r.user].external {
				continue
			}
			p = append(p, r)
		}
		for i := range recs {
			r := &recs[i]
			if !sharingOps[r.e.op] {
				continue
			}
			t := r.e.target
			if t == "" {
				t = r.e.sharedWith
			}
			if c, k := canonicalUser(t); k == userNormal && c == user {
				res.Sharing++
				h = append(h, r)
			}
		}
		for _, r := range u {
			if r.e.op == "AnonymousLinkUsed" {
				res.Sharing++
			}
		}
		res.ByUser, res.ByIP = len(u), len(p)
		touched := map[string]bool{}
		for _, rs := range [][]*rec{u, p, h} {
			for _, r := range rs {
				for _, t := range touchedBy(r.e) {
					touched[t] = true
				}
			}
		}
		res.Touched = []string{}
		for t := range touched {
			res.Touched = append(res.Touched, t)
		}
		sort.Strings(res.Touched)

		mailboxOrAdmin := func(rs []*rec) bool {
			for _, r := range rs {
				switch r.e.rt {
				case 1, 2, 3, 8, 18, 50:
					return true
				}
				switch r.e.op {
				case "MailItemsAccessed", "MailboxLogin", "Send", "SendAs", "SendOnBehalf",
					"SiteCollectionAdminAdded", "SiteCollectionAdminRemoved":
					return true
				}
			}
			return false
		}
		allOpening := true
		for _, r := range u {
			wl := r.e.workload
			if wl != "SharePoint" && wl != "OneDrive" || !openingOps[r.e.op] {
				allOpening = false
			}
		}
		memberInP := false
		for _, r := range p {
			if id := idents[r.user]; id != nil && id.class == "member" {
				memberInP = true
			}
		}
		switch {
		case anomalous:
			res.Verdict, res.Severity = "anomalous", "high"
		case len(u) == 0 && len(p) == 0:
			res.Verdict, res.Severity = "signin-only", "info"
		case res.Sharing > 0 && len(p) == 0 && allOpening:
			res.Verdict, res.Severity = "shared", "low"
		default:
			res.Verdict, res.Severity = "activity", "medium"
			if mailboxOrAdmin(u) || mailboxOrAdmin(p) || memberInP {
				res.Severity = "high"
			}
		}

		addrs := make([]netip.Addr, 0, len(ipset))
		for a := range ipset {
			addrs = append(addrs, a)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		for _, a := range addrs {
			res.IPs = append(res.IPs, a.String())
		}
		for a := range apps {
			res.Apps = append(res.Apps, a)
		}
		if g.o.SignInLog != nil {
			ual, log := false, false
			for i := range recs {
				r := &recs[i]
				if r.user != user {
					continue
				}
				ual = ual || !r.e.signInOnly
				log = log || r.signin
			}
			if log {
				res.Sources = append(res.Sources, "entra-signin")
			}
			if ual {
				res.Sources = append(res.Sources, "ual")
			}
		}
		sort.Strings(res.Apps)
		for o := range also {
			res.IPAlsoUsedBy = append(res.IPAlsoUsedBy, o)
		}
		sort.Strings(res.IPAlsoUsedBy)
		out = append(out, res)
	}
	sortIdentities(out)
	return out, nil
}

func sortIdentities(ids []ExpectedIdentity) {
	sort.Slice(ids, func(i, j int) bool {
		a, b := SeverityRank(ids[i].Severity), SeverityRank(ids[j].Severity)
		if a != b {
			return a < b
		}
		return ids[i].User < ids[j].User
	})
}

// inferredDomains are rules.md's inferred "our domains": UPN domains of
// member sign-ins (scenario and noise) plus guests' host domains.
func (g *gen) inferredDomains(p *plan) []string {
	set := map[string]bool{}
	for d := range g.signinDomains {
		set[d] = true
	}
	for _, e := range p.events {
		if !isSignin(e) {
			continue
		}
		lower := strings.ToLower(e.userID)
		at := strings.LastIndexByte(lower, '@')
		if at < 0 {
			continue
		}
		switch {
		case strings.Contains(lower, "#ext#"):
			set[lower[at+1:]] = true
		case strings.ToLower(e.actorCtx) == TenantID && e.userType != 10:
			set[lower[at+1:]] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// touchedBy names the objects a record names, as "<kind> <object>": the
// site of a SharePoint/OneDrive record (its SiteUrl without the final
// slash) and the item, when the record's ObjectId names one below the
// site; the mailbox of a mailbox record (MailboxOwnerUPN) and the one
// folder encMail writes (\Inbox). The generator writes no team or
// channel.
func touchedBy(e *event) []string {
	var out []string
	switch e.kind {
	case kFile, kPage, kSharing:
		if e.site == nil {
			break
		}
		site := strings.TrimSuffix(e.site.url, "/")
		out = append(out, "sharepoint-site "+site)
		if obj := e.spObject(); obj != site {
			out = append(out, "sharepoint-file "+obj)
		}
	case kMail:
		if e.owner != "" {
			out = append(out, "mailbox "+e.owner, "mailbox-folder "+e.owner+` \Inbox`)
		}
	}
	return out
}
