package synth

import (
	"hash/fnv"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// The tenant's Entra ID sign-in log (Options.SignInLog), as Microsoft Graph
// returns it from GET /auditLogs/signIns (beta, with the header
// "Prefer: include-unknown-enum-members", without which Graph writes
// unknownFutureValue where this log has passthrough): pages
// {"@odata.context","@odata.nextLink","value":[signIn...]} of at most 1000
// sign-ins, one page per line.
//
// Every STS sign-in of the UAL (UserLoggedIn, UserLoginFailed) has its
// twin here: id = the UAL record's IntraSystemId (the Entra request id),
// correlationId = its InterSystemsId, the same time, account, application,
// address (ipAddress in plain notation: the UAL's ActorIpAddress) and
// outcome (status.errorCode: the UAL's ErrorNumber, 50140 for a redirect
// with none, 50126 for a failure with none). The sign-in log adds what only
// it knows: homeTenantId, resourceTenantId, crossTenantAccessType
// (passthrough for accounts of other tenants, b2bCollaboration for B2B
// guests, none for members), userType (guest or member), location,
// conditionalAccessStatus, riskLevelDuringSignIn, clientAppUsed, userAgent
// and deviceDetail. Guests are written with their own address
// (bob@fabrikam.com), as the sign-in log stores them, not the #EXT# UPN.
// A few sign-ins exist only here (scenario signin-log-only).
//
// Field names and shapes: microsoft-graph-docs-contrib
// api-reference/beta/resources/signin.md; the sample of
// MicrosoftDocs/entra-docs reference-sign-ins-log-schema.md.

// signInLog writes the sign-in log pages.
type signInLog struct {
	sink
	seed int64
	key  uint64
	graphPages
	r     rng
	twins int64
	only  int64
	// la, when set, writes the pages in another shape than Graph's: Log
	// Analytics query API responses (sentinel.go) or the Entra admin
	// center's CSV download (entracsv.go); one holds a sign-in's Graph
	// object on its way there.
	la  signInShape
	one []byte
}

const signInPage = 1000

// signInShape turns the sign-ins' Graph objects into another shape of the
// sign-in log, a page at a time.
type signInShape interface {
	// add takes one sign-in's Graph object.
	add(graph []byte)
	// page appends what was added since the last page.
	page(b []byte) []byte
}

func newSignInLog(w io.Writer, seed int64, key uint64) *signInLog {
	return &signInLog{sink: sink{w: w, buf: make([]byte, 0, flushAt+64<<10)}, seed: seed, key: key,
		r: newRng(seed, streamFormat, 3)}
}

func (l *signInLog) header(b []byte, more bool) []byte {
	b = append(b, `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",`...)
	if more {
		b = append(b, `"@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$top=1000&$skiptoken=`...)
		for i := 0; i < 2; i++ {
			b = appendHex(b, l.r.u64(), 16)
		}
		b = append(b, `",`...)
	}
	return append(b, `"value":[`...)
}

// add writes the sign-in log record of a UAL sign-in or of a sign-in only
// the log has.
func (l *signInLog) add(e *event) {
	if l.n == signInPage {
		l.flushPage(true)
	}
	if l.n > 0 && l.la == nil {
		l.page = append(l.page, ',')
	}
	r := newRng(l.seed, streamSignIn, e.idx)
	if e.signInOnly {
		// No UAL record gave it an id and a correlation id.
		var id []byte
		id = appendRecordID(id, e.idx, l.key, idSTS, e.t, &r)
		copy(e.id[:], id)
		appendGUID(e.corr[:0], &r)
		l.only++
	} else {
		l.twins++
	}
	if l.la != nil {
		l.one = renderSignIn(l.one[:0], e, &r)
		l.la.add(l.one)
	} else {
		l.page = renderSignIn(l.page, e, &r)
	}
	l.n++
}

func (l *signInLog) flushPage(more bool) {
	if l.la != nil {
		l.buf = l.la.page(l.buf)
		l.n = 0
		l.flush()
		return
	}
	l.flushGraphPage(&l.graphPages, l.header, more)
}

func (l *signInLog) end() { l.flushPage(false) }

// signInFacts are what the sign-in log says of a sign-in event.
type signInFacts struct {
	upn, userID, home, ctat, userType string
	ip                                string
	code                              int
}

// factsOf derives the sign-in log's view of a UAL sign-in.
func factsOf(e *event) signInFacts {
	f := signInFacts{upn: e.userID, home: e.actorCtx, userType: "member"}
	canon, kind := canonicalUser(e.userID)
	guest := e.userType == 10 || strings.Contains(strings.ToLower(e.userID), "#ext#")
	switch {
	case kind == userUnusable:
		// Entra knows no name for it (the UAL's "Not Available").
		f.upn = ""
		f.ctat = "passthrough"
	case guest:
		f.upn = canon
		f.userType = "guest"
		f.ctat = "b2bCollaboration"
		f.home = partnerTenant(canon[strings.LastIndexByte(canon, '@')+1:])
	case strings.EqualFold(e.actorCtx, TenantID):
		f.ctat = "none"
	default:
		f.ctat = "passthrough"
	}
	switch {
	case isGUID(e.actor0):
		f.userID = strings.ToLower(e.actor0)
	case isGUID(e.userKey):
		f.userID = strings.ToLower(e.userKey)
	default:
		// A pass-through account's object id in its home tenant: stable
		// per account.
		f.userID = partnerTenant("user:" + canon)
	}
	for _, s := range []string{e.actorIP, e.clientIP} {
		if a, ok := normaliseIP(s); ok {
			f.ip = a.String()
			break
		}
	}
	f.code = signInCode(e)
	return f
}

// signInCode is status.errorCode for a UAL sign-in: its ErrorNumber, so
// that both logs give the same outcome (docs/rules.md "Outcome"); 50140
// (the "Keep me signed in" interrupt) for a redirect without one; 50126
// for a failure without one.
func signInCode(e *event) int {
	n, err := strconv.Atoi(e.errNum)
	if err != nil {
		n = 0
	}
	switch {
	case e.op == opLoginFailed && n == 0:
		return 50126
	case n != 0:
		return n
	case e.logonErr != "":
		return 50126
	case e.op == opLoggedIn && e.rsd != "" && e.rsd != "Success":
		return 50140
	}
	return 0
}

// failureReasons are the texts Entra writes for the codes the generator
// uses.
var failureReasons = map[int]string{
	0:       "Other.",
	50020:   "User account from identity provider does not exist in tenant and cannot access the application in that tenant.",
	50053:   "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
	50055:   "The password is expired.",
	50074:   "Strong Authentication is required.",
	50097:   "Device authentication is required.",
	50126:   "Error validating credentials due to invalid username or password.",
	50140:   "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
	500121:  "Authentication failed during strong authentication request.",
	7000215: "Invalid client secret provided.",
}

// place is a sign-in location.
type place struct {
	city, state, country string
	lat, lon             string
}

var officePlaces = []place{
	{"London", "London", "GB", "51.5072", "-0.1276"},
	{"Reading", "Reading", "GB", "51.4543", "-0.9781"},
	{"Amsterdam", "Noord-Holland", "NL", "52.3676", "4.9041"},
}

var outsidePlaces = []place{
	{"Madrid", "Madrid", "ES", "40.4168", "-3.7038"},
	{"Copenhagen", "Hovedstaden", "DK", "55.6761", "12.5683"},
	{"Sofia", "Sofia-Grad", "BG", "42.6977", "23.3219"},
	{"Lisbon", "Lisboa", "PT", "38.7223", "-9.1393"},
	{"Seattle", "Washington", "US", "47.6062", "-122.3321"},
	{"Toronto", "Ontario", "CA", "43.6532", "-79.3832"},
	{"Munich", "Bayern", "DE", "48.1351", "11.5820"},
	{"Oslo", "Oslo", "NO", "59.9139", "10.7522"},
	{"Singapore", "Singapore", "SG", "1.3521", "103.8198"},
	{"Dublin", "Dublin", "IE", "53.3498", "-6.2603"},
}

// placeOf is the account's usual location: stable per account.
func placeOf(user string, member bool) place {
	h := fnv.New32a()
	h.Write([]byte(user))
	if member {
		return officePlaces[h.Sum32()%uint32(len(officePlaces))]
	}
	return outsidePlaces[h.Sum32()%uint32(len(outsidePlaces))]
}

// thirdPartyNames name applications that are not Microsoft's.
var thirdPartyNames = []string{"Contoso Expense Helper", "Fabrikam Timesheets", "Proseware CRM Connector", "Litware Survey", "Adatum Travel Desk"}

func appName(id string) string {
	if n := firstPartyApps[strings.ToLower(id)]; n != "" {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return thirdPartyNames[h.Sum32()%uint32(len(thirdPartyNames))]
}

// displayName turns First.Last@x into "First Last".
func displayName(upn string) string {
	local := upn
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' })
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// renderSignIn appends the Graph signIn object of a sign-in event.
func renderSignIn(b []byte, e *event, r *rng) []byte {
	f := factsOf(e)
	member := f.ctat == "none"
	canon, _ := canonicalUser(e.userID)
	pl := placeOf(canon, member)
	ua := ""
	if e.ua != nil {
		ua = e.ua.ua
	}
	str := func(b []byte, name, v string) []byte {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, `":"`...)
		b = appendGraphJS(b, v)
		return append(b, '"')
	}
	b = append(b, `{"id":"`...)
	b = append(b, e.id[:]...)
	b = append(b, `","createdDateTime":"`...)
	b = appendISO(b, e.t)
	b = append(b, `Z"`...)
	b = str(b, "userDisplayName", displayName(f.upn))
	b = str(b, "userPrincipalName", f.upn)
	b = str(b, "userId", f.userID)
	b = str(b, "appId", e.appID)
	b = str(b, "appDisplayName", appName(e.appID))
	b = str(b, "ipAddress", f.ip)
	b = append(b, `,"ipAddressFromResourceProvider":null`...)
	client := "Mobile Apps and Desktop clients"
	if strings.HasPrefix(ua, "Mozilla/") {
		client = "Browser"
	}
	b = str(b, "clientAppUsed", client)
	b = str(b, "userAgent", ua)
	b = append(b, `,"correlationId":"`...)
	b = append(b, e.corr[:]...)
	ca := "notApplied"
	if member && f.code == 0 && r.chance(0.6) {
		ca = "success"
	}
	b = append(b, `","conditionalAccessStatus":"`...)
	b = append(b, ca...)
	b = append(b, `","originalRequestId":"`...)
	b = append(b, e.id[:]...)
	b = append(b, `","isInteractive":`...)
	if e.nonInteractive {
		b = append(b, "false"...)
	} else {
		b = append(b, "true"...)
	}
	b = append(b, `,"tokenIssuerName":"","tokenIssuerType":"AzureAD","processingTimeInMilliseconds":`...)
	b = appendInt(b, r.between(40, 400))
	risk := "none"
	if !member && f.code != 0 && !interruptCodes[strconv.Itoa(f.code)] {
		risk = "low"
	}
	b = append(b, `,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"`...)
	b = append(b, risk...)
	b = append(b, `","riskState":"none","riskEventTypes_v2":[]`...)
	resource := e.resource
	if !isGUID(resource) {
		resource = e.appID
	}
	b = str(b, "resourceDisplayName", appName(resource))
	b = str(b, "resourceId", resource)
	b = append(b, `,"resourceTenantId":"`+TenantID+`"`...)
	b = str(b, "homeTenantId", f.home)
	b = append(b, `,"homeTenantName":"","authenticationRequirement":"singleFactorAuthentication"`...)
	b = str(b, "signInIdentifier", f.upn)
	b = str(b, "userType", f.userType)
	b = str(b, "crossTenantAccessType", f.ctat)
	if e.nonInteractive {
		b = append(b, `,"signInEventTypes":["nonInteractiveUser"]`...)
	} else {
		b = append(b, `,"signInEventTypes":["interactiveUser"]`...)
	}
	b = append(b, `,"status":{"errorCode":`...)
	b = appendInt(b, f.code)
	reason := failureReasons[f.code]
	if reason == "" {
		reason = "Other."
	}
	b = str(b, "failureReason", reason)
	b = append(b, `,"additionalDetails":null},"deviceDetail":{"deviceId":"","displayName":""`...)
	os, browser := "", ""
	if e.ua != nil {
		os, browser = e.ua.os, e.ua.browser
	}
	b = str(b, "operatingSystem", os)
	b = str(b, "browser", browser)
	b = append(b, `,"isCompliant":false,"isManaged":false,"trustType":""},"location":{`...)
	b = append(b, `"city":"`...)
	b = append(b, pl.city...)
	b = append(b, `","state":"`...)
	b = append(b, pl.state...)
	b = append(b, `","countryOrRegion":"`...)
	b = append(b, pl.country...)
	b = append(b, `","geoCoordinates":{"altitude":null,"latitude":`...)
	b = append(b, pl.lat...)
	b = append(b, `,"longitude":`...)
	b = append(b, pl.lon...)
	return append(b, `}},"appliedConditionalAccessPolicies":[]}`...)
}

// signInOnlyEvent is a sign-in that only the sign-in log has, of x from
// address a.
func signInOnlyEvent(x *outsider, t int64, app string, a netip.Addr, interactive bool) *event {
	ip := a.String()
	return &event{t: t, kind: kSignin, rt: 15, op: opLoggedIn, workload: "AzureActiveDirectory",
		userID: x.upn, userKey: x.userKey, actorCtx: x.tenant, clientIP: ip, actorIP: ip,
		appID: app, resource: app, rsd: "Success", errNum: "0", ua: &x.ua, actor0: "Unknown", actorUPN: x.upn,
		signInOnly: true, nonInteractive: !interactive}
}
