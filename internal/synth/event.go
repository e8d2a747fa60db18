package synth

// This file turns an event (the few facts that decide a verdict, plus
// context) into the compact JSON of a UAL record, field for field in the
// order and shape of real exported records (public sample logs). Noise and
// scenario records go through the same encoders, so nothing distinguishes
// a scenario record but its content.
//
// Strings are escaped as the Microsoft services escape them: '/' becomes
// "\/" (DataContractJsonSerializer), which the real JSON Lines and CSV
// exports keep; the PowerShell and Graph formats re-encode.

type kind uint8

const (
	kSignin  kind = iota // RecordType 15, AzureActiveDirectoryStsLogon
	kFile                // RecordType 6, SharePointFileOperation
	kPage                // RecordType 4, SharePoint
	kSharing             // RecordType 14, SharePointSharingOperation
	kMail                // RecordType 50, ExchangeItemAggregated
	kExAdmin             // RecordType 1, ExchangeAdmin
	kDir                 // RecordType 8, AzureActiveDirectory
	kTeams               // RecordType 25, MicrosoftTeams
)

const (
	opLoggedIn    = "UserLoggedIn"
	opLoginFailed = "UserLoginFailed"
)

// event is one audit record before encoding. Fields that are empty are
// left out of the record where the real record leaves them out.
type event struct {
	t    int64  // CreationTime, Unix seconds
	idx  uint64 // index that makes the Id unique
	seq  int    // scenario order, breaks ties of t
	kind kind
	rt   int
	op   string

	workload string
	userID   string
	userKey  string
	userType int

	// Entra fields.
	actor0   string // Actor entry of Type 0 (object id, "Unknown"); "" = none
	actorUPN string // Actor entry of Type 5; "" = none
	actorCtx string // ActorContextId
	actorIP  string // ActorIpAddress
	appID    string // ApplicationId
	resource string // Target / ObjectId of a sign-in
	errNum   string // ErrorNumber; "" = absent
	logonErr string // LogonError; "" = absent
	rsd      string // ResultStatusDetail

	// clientIP is ClientIP, or ClientIPAddress for mailbox records.
	clientIP string
	ua       *userAgent

	// SharePoint fields.
	site       *site
	file       string // SourceFileName; "" for a site or page
	itemType   string
	target     string // TargetUserOrGroupName
	targetType string // TargetUserOrGroupType
	sharedWith string // UserSharedWith
	eventData  string
	appDisplay string // ApplicationId of the SharePoint client

	// Exchange and directory fields.
	owner     string // MailboxOwnerUPN, cmdlet Identity, directory target
	logonType int
	external  bool
	puid      string
	objectID2 string // object id of the acting account (directory records)

	id [36]byte // set by encoding
	// corr is a sign-in's InterSystemsId (the Entra correlation id), set
	// by encoding; the sign-in log's twin of the record carries it as
	// correlationId, and the record's IntraSystemId (its id) as id.
	corr [36]byte

	// Sign-ins that only the Entra sign-in log has (Options.SignInLog):
	// signInOnly marks them, nonInteractive says they are token
	// refreshes rather than interactive sign-ins.
	signInOnly     bool
	nonInteractive bool
}

var rtNames = map[int]string{
	1:  "ExchangeAdmin",
	4:  "SharePoint",
	6:  "SharePointFileOperation",
	7:  "OneDrive",
	8:  "AzureActiveDirectory",
	14: "SharePointSharingOperation",
	15: "AzureActiveDirectoryStsLogon",
	25: "MicrosoftTeams",
	50: "ExchangeItemAggregated",
}

// graphRecordTypes are the Graph auditLogRecordType values (camelCase).
var graphRecordTypes = map[int]string{
	1:  "exchangeAdmin",
	4:  "sharePoint",
	6:  "sharePointFileOperation",
	7:  "oneDrive",
	8:  "azureActiveDirectory",
	14: "sharePointSharingOperation",
	15: "azureActiveDirectoryStsLogon",
	25: "microsoftTeams",
	50: "exchangeItemAggregated",
}

var graphUserTypes = []string{"regular", "reserved", "admin", "dcAdmin", "system", "application",
	"servicePrincipal", "customPolicy", "systemPolicy", "partnerTechnician", "guest"}

// objectID is the record's ObjectId, for envelopes (Graph objectId).
func (e *event) objectID() string {
	switch e.kind {
	case kSignin:
		return e.resource
	case kFile, kSharing, kPage:
		return e.spObject()
	case kExAdmin, kDir:
		return e.owner
	}
	return ""
}

func (e *event) spObject() string {
	s := e.site
	switch {
	case s == nil:
		return ""
	case e.file != "":
		return s.url + s.library + "/" + e.file
	case e.kind == kPage && e.op == "PageViewed":
		if s.oneDrive {
			return s.url + "_layouts/15/onedrive.aspx"
		}
		return s.url + "SitePages/Home.aspx"
	}
	return s.url[:len(s.url)-1]
}

// escapes says how a string encoder writes each byte: 0 as itself, 'u'
// as \u00XX, any other as a backslash and that byte. The JSON and the
// PowerShell (JavaScriptSerializer) writers differ only in their tables.
type escapes [256]byte

// newEscapes is the table every encoder starts from: the ASCII controls
// as \u00XX, except the three with a short form, and the quote and
// backslash escaped; extra adds the encoder's own escapes.
func newEscapes(extra map[byte]byte) *escapes {
	var t escapes
	for i := 0; i < 0x20; i++ {
		t[i] = 'u'
	}
	t['\n'], t['\r'], t['\t'] = 'n', 'r', 't'
	t['"'], t['\\'] = '"', '\\'
	for c, e := range extra {
		t[c] = e
	}
	return &t
}

// jsonEsc is the table of the JSON records synth writes (/ escaped as
// \/ too).
var jsonEsc = newEscapes(map[byte]byte{'/': '/'})

// appendEscaped appends s escaped by the table t, without quotes.
func appendEscaped[T string | []byte](b []byte, s T, t *escapes) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		e := t[c]
		if e == 0 {
			continue
		}
		b = append(b, s[start:i]...)
		if e == 'u' {
			b = append(b, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
		} else {
			b = append(b, '\\', e)
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendJS appends s escaped for a JSON string, without quotes.
func appendJS(b []byte, s string) []byte {
	return appendEscaped(b, s, jsonEsc)
}

// field appends ,"name":"value" (value escaped).
func field(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '"')
	b = appendJS(b, value)
	return append(b, '"')
}

// userFields appends the fields most records carry, in this order:
// UserKey, UserType, Version, Workload, ClientIP, ObjectId and UserId.
func (e *event) userFields(b []byte, userKey, workload, objectID string) []byte {
	b = field(b, "UserKey", userKey)
	b = append(b, `,"UserType":`...)
	b = appendInt(b, e.userType)
	b = append(b, `,"Version":1`...)
	b = field(b, "Workload", workload)
	b = field(b, "ClientIP", e.clientIP)
	b = field(b, "ObjectId", objectID)
	return field(b, "UserId", e.userID)
}

func fieldGUID(b []byte, name string, r *rng) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '"')
	b = appendGUID(b, r)
	return append(b, '"')
}

func nameValue(b []byte, name, value string) []byte {
	b = append(b, `{"Name":"`...)
	b = append(b, name...)
	b = append(b, `","Value":"`...)
	b = appendJS(b, value)
	return append(b, `"}`...)
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
const b64std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func appendB64(b []byte, alphabet string, n int, r *rng) []byte {
	var v uint64
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			v = r.u64()
		}
		c := alphabet[v&63]
		v >>= 6
		if c == '/' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return b
}

// head appends the common start of a record: CreationTime, Id, Operation,
// OrganizationId, RecordType.
func (e *event) head(b []byte, key uint64, idStyle int, r *rng) []byte {
	b = append(b, `"CreationTime":"`...)
	b = appendISO(b, e.t)
	b = append(b, `","Id":"`...)
	start := len(b)
	b = appendRecordID(b, e.idx, key, idStyle, e.t, r)
	copy(e.id[:], b[start:])
	b = append(b, `","Operation":"`...)
	b = appendJS(b, e.op)
	b = append(b, `","OrganizationId":"`+TenantID+`","RecordType":`...)
	return appendInt(b, e.rt)
}

// encode appends the record's compact JSON.
func (e *event) encode(b []byte, key uint64, r *rng) []byte {
	switch e.kind {
	case kSignin:
		return e.encSignin(b, key, r)
	case kFile, kPage, kSharing:
		return e.encSharePoint(b, key, r)
	case kMail:
		return e.encMail(b, key, r)
	case kExAdmin:
		return e.encExAdmin(b, key, r)
	case kDir:
		return e.encDir(b, key, r)
	case kTeams:
		return e.encTeams(b, key, r)
	}
	panic("synth: unknown event kind")
}

var requestTypes = []string{"OAuth2:Authorize", "OAuth2:Authorize", "OAuth2:Token", "Login:login", "Login:reprocess", "SAS:EndAuth", "Kmsi:kmsi"}

func (e *event) encSignin(b []byte, key uint64, r *rng) []byte {
	b = append(b, '{')
	b = e.head(b, key, idSTS, r)
	if e.op == opLoggedIn {
		b = append(b, `,"ResultStatus":"Success"`...)
	} else {
		b = append(b, `,"ResultStatus":"Failed"`...)
	}
	b = e.userFields(b, e.userKey, "AzureActiveDirectory", e.resource)
	b = append(b, `,"AzureActiveDirectoryEventType":1,"ExtendedProperties":[`...)
	// Entries come in either order in real records: consumers must look
	// them up by Name.
	reqType := pick(r, requestTypes)
	if r.chance(0.7) {
		b = nameValue(b, "ResultStatusDetail", e.rsd)
		b = append(b, ',')
		b = nameValue(b, "UserAgent", e.ua.ua)
		b = append(b, `,{"Name":"UserAuthenticationMethod","Value":"1"},`...)
		b = nameValue(b, "RequestType", reqType)
	} else {
		b = nameValue(b, "UserAgent", e.ua.ua)
		b = append(b, `,{"Name":"UserAuthenticationMethod","Value":"9"},`...)
		b = nameValue(b, "RequestType", reqType)
		b = append(b, ',')
		b = nameValue(b, "ResultStatusDetail", e.rsd)
		b = append(b, `,{"Name":"KeepMeSignedIn","Value":"False"}`...)
	}
	b = append(b, `],"ModifiedProperties":[],"Actor":[`...)
	n := len(b)
	b = actorEntry(b, n, e.actor0, '0')
	b = actorEntry(b, n, e.actorUPN, '5')
	b = actorEntry(b, n, e.puid, '3')
	b = append(b, ']')
	b = field(b, "ActorContextId", e.actorCtx)
	b = field(b, "ActorIpAddress", e.actorIP)
	b = fieldGUID(b, "InterSystemsId", r)
	copy(e.corr[:], b[len(b)-37:len(b)-1])
	b = append(b, `,"IntraSystemId":"`...)
	b = append(b, e.id[:]...)
	b = append(b, `","SupportTicketId":"","Target":[{"ID":"`...)
	b = appendJS(b, e.resource)
	b = append(b, `","Type":0}],"TargetContextId":"`+TenantID+`"`...)
	b = field(b, "ApplicationId", e.appID)
	b = append(b, `,"DeviceProperties":[`...)
	if e.ua.os != "" {
		b = nameValue(b, "OS", e.ua.os)
		b = append(b, ',')
	}
	b = nameValue(b, "BrowserType", e.ua.browser)
	b = append(b, `,{"Name":"IsCompliantAndManaged","Value":"False"},{"Name":"SessionId","Value":"`...)
	b = appendGUID(b, r)
	b = append(b, `"}]`...)
	if e.errNum != "" {
		b = field(b, "ErrorNumber", e.errNum)
	}
	if e.logonErr != "" {
		b = field(b, "LogonError", e.logonErr)
	}
	return append(b, '}')
}

// actorEntry appends one {"ID","Type"} entry of an Actor list whose
// entries start at b[start:], unless id is empty; typ is the one-digit
// Type (0 object id, 3 PUID, 5 UPN).
func actorEntry(b []byte, start int, id string, typ byte) []byte {
	if id == "" {
		return b
	}
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, `{"ID":"`...)
	b = appendJS(b, id)
	b = append(b, `","Type":`...)
	return append(b, typ, '}')
}

func (e *event) system() bool { return e.userID == "app@sharepoint" }

func (e *event) anonymous() bool {
	return len(e.userID) > 13 && e.userID[:13] == "urn:spo:anon#"
}

func (e *event) encSharePoint(b []byte, key uint64, r *rng) []byte {
	b = append(b, '{')
	interactive := !e.system() && !e.anonymous()
	if interactive {
		b = append(b, `"AppAccessContext":{"AADSessionId":"`...)
		b = appendGUID(b, r)
		b = append(b, `","CorrelationId":"`...)
		b = appendGUID(b, r)
		b = append(b, `","UniqueTokenId":"`...)
		b = appendB64(b, b64url, 22, r)
		b = append(b, `"},`...)
	}
	b = e.head(b, key, idTicks, r)
	b = e.userFields(b, e.userKey, e.workload, e.spObject())
	b = fieldGUID(b, "CorrelationId", r)
	if e.kind == kFile {
		b = append(b, `,"CustomUniqueId":true`...)
	}
	b = append(b, `,"EventSource":"SharePoint"`...)
	b = field(b, "ItemType", e.itemType)
	s := e.site
	if e.file != "" {
		b = field(b, "ListId", s.listID)
		b = fieldGUID(b, "ListItemUniqueId", r)
	}
	b = field(b, "Site", s.siteID)
	ua := ""
	if e.ua != nil {
		ua = e.ua.ua
	}
	b = field(b, "UserAgent", ua)
	b = field(b, "WebId", s.webID)
	if e.kind == kFile {
		if e.op == "FileModified" || e.op == "FileUploaded" {
			b = append(b, `,"FileSizeBytes":`...)
			b = appendInt(b, r.between(900, 9_000_000))
		}
		b = append(b, `,"HighPriorityMediaProcessing":false,"ListBaseType":1,"ListServerTemplate":`...)
		if s.oneDrive {
			b = append(b, "700"...)
		} else {
			b = append(b, "101"...)
		}
	}
	if e.file != "" {
		ext := ""
		for i := len(e.file) - 1; i >= 0; i-- {
			if e.file[i] == '.' {
				ext = e.file[i+1:]
				break
			}
		}
		b = field(b, "SourceFileExtension", ext)
	}
	if e.kind != kPage {
		b = field(b, "SiteUrl", s.url)
		if e.file != "" {
			b = field(b, "SourceRelativeUrl", s.library)
			b = field(b, "SourceFileName", e.file)
		}
	}
	if e.kind == kSharing {
		if e.targetType != "" {
			b = field(b, "TargetUserOrGroupType", e.targetType)
		}
		if e.target != "" {
			b = field(b, "TargetUserOrGroupName", e.target)
		}
		if e.sharedWith != "" {
			b = field(b, "UserSharedWith", e.sharedWith)
		}
		if e.eventData != "" {
			b = field(b, "EventData", e.eventData)
		}
		switch e.op {
		case "AnonymousLinkCreated", "SecureLinkCreated", "AddedToSecureLink", "SecureLinkUsed", "AnonymousLinkUsed", "SharingInvitationCreated":
			b = fieldGUID(b, "UniqueSharingId", r)
		}
	}
	switch {
	case interactive:
		b = field(b, "ApplicationDisplayName", firstPartyApps[e.appDisplay])
		b = field(b, "ApplicationId", e.appDisplay)
		b = append(b, `,"AuthenticationType":"OAuth"`...)
		if e.ua != nil {
			b = field(b, "BrowserName", e.ua.browser)
			b = append(b, `,"GeoLocation":"EUR","IsManagedDevice":false`...)
			b = field(b, "Platform", e.ua.platform)
		}
		b = fieldGUID(b, "UserSessionId", r)
	case e.anonymous():
		b = append(b, `,"AuthenticationType":"Anonymous","GeoLocation":"EUR","IsManagedDevice":false`...)
		if e.ua != nil {
			b = field(b, "BrowserName", e.ua.browser)
			b = field(b, "Platform", e.ua.platform)
		}
	}
	return append(b, '}')
}

var exchangeServers = []string{"AM6PR08MB5062", "DB9PR03MB7321", "VI1PR07MB4410", "PAXPR08MB6413", "AS8PR04MB8246"}

func (e *event) encMail(b []byte, key uint64, r *rng) []byte {
	b = append(b, '{')
	b = e.head(b, key, idTicks, r)
	b = append(b, `,"ResultStatus":"Succeeded"`...)
	b = field(b, "UserKey", e.puid)
	b = append(b, `,"UserType":`...)
	b = appendInt(b, e.userType)
	b = append(b, `,"Version":1,"Workload":"Exchange"`...)
	b = field(b, "UserId", e.userID)
	b = field(b, "AppId", e.appID)
	b = append(b, `,"ClientAppId":""`...)
	b = field(b, "ClientIPAddress", e.clientIP)
	b = append(b, `,"ClientInfoString":"Client=REST;Client=RESTSystem;;","ExternalAccess":`...)
	if e.external {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `,"InternalLogonType":0,"LogonType":`...)
	b = appendInt(b, e.logonType)
	b = append(b, `,"LogonUserSid":"S-1-5-21-3624186121-2711914123-1539962473-`...)
	b = appendInt(b, r.between(10000000, 99999999))
	b = append(b, `","MailboxGuid":"`...)
	b = appendGUID(b, r)
	b = append(b, `","MailboxOwnerSid":"S-1-5-21-3624186121-2711914123-1539962473-`...)
	b = appendInt(b, r.between(10000000, 99999999))
	b = append(b, '"')
	b = field(b, "MailboxOwnerUPN", e.owner)
	access := "Bind"
	if r.chance(0.3) {
		access = "Sync"
	}
	b = append(b, `,"OperationProperties":[{"Name":"MailAccessType","Value":"`...)
	b = append(b, access...)
	b = append(b, `"},{"Name":"IsThrottled","Value":"False"}],"OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"`...)
	srv := pick(r, exchangeServers)
	b = append(b, srv...)
	b = append(b, ` (15.20.8048.0`...)
	b = append2(b, r.intn(40))
	b = append(b, `)\r\n","SessionId":"`...)
	b = appendGUID(b, r)
	b = append(b, `","Folders":[{"FolderItems":[`...)
	n := r.between(1, 3)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"InternetMessageId":"<`...)
		b = appendHexUpper(b, r.u64(), 16)
		b = append(b, '@')
		b = append(b, srv...)
		b = append(b, `.eurprd08.prod.outlook.com>","SizeInBytes":`...)
		b = appendInt(b, r.between(2000, 400000))
		b = append(b, '}')
	}
	b = append(b, `],"Id":"LgAAAAA`...)
	b = appendB64(b, b64std, 57, r)
	b = append(b, `","Path":"\\Inbox"}],"OperationCount":`...)
	b = appendInt(b, n)
	return append(b, '}')
}

type cmdlet struct {
	name   string
	params [][2]string // "" value = filled with the target
}

var cmdlets = []cmdlet{
	{"Set-Mailbox", [][2]string{{"Identity", ""}, {"AuditEnabled", "True"}}},
	{"Add-MailboxPermission", [][2]string{{"Identity", ""}, {"AccessRights", "FullAccess"}, {"InheritanceType", "All"}}},
	{"Set-CASMailbox", [][2]string{{"Identity", ""}, {"OWAEnabled", "True"}}},
	{"Set-MailboxRegionalConfiguration", [][2]string{{"Identity", ""}, {"Language", "en-GB"}, {"TimeZone", "W. Europe Standard Time"}}},
	{"New-InboxRule", [][2]string{{"Mailbox", ""}, {"Name", "Newsletters"}, {"MoveToFolder", "Newsletters"}, {"StopProcessingRules", "False"}}},
	{"Set-MailboxAutoReplyConfiguration", [][2]string{{"Identity", ""}, {"AutoReplyState", "Scheduled"}}},
}

func (e *event) encExAdmin(b []byte, key uint64, r *rng) []byte {
	b = append(b, `{"AppAccessContext":{"IssuedAtTime":"`...)
	b = appendISO(b, e.t-int64(r.between(60, 3000)))
	b = append(b, `","UniqueTokenId":"`...)
	b = appendB64(b, b64url, 22, r)
	b = append(b, `"},`...)
	b = e.head(b, key, idTicks, r)
	b = append(b, `,"ResultStatus":"True"`...)
	b = e.userFields(b, e.puid, "Exchange", e.owner)
	b = append(b, `,"AppId":"`+appExoAdminAPI+`","AppPoolName":"MSExchangeAdminApiNetCore","ClientAppId":"","CorrelationID":"","ExternalAccess":false,"OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"`...)
	b = append(b, pick(r, exchangeServers)...)
	b = append(b, ` (15.20.8048.018)","Parameters":[`...)
	c := cmdletByName(e.op)
	for i, p := range c.params {
		if i > 0 {
			b = append(b, ',')
		}
		v := p[1]
		if v == "" {
			v = e.owner
		}
		b = nameValue(b, p[0], v)
	}
	b = append(b, ']')
	b = fieldGUID(b, "RequestId", r)
	b = fieldGUID(b, "SessionId", r)
	return append(b, '}')
}

func cmdletByName(name string) cmdlet {
	for _, c := range cmdlets {
		if c.name == name {
			return c
		}
	}
	return cmdlet{name: name, params: [][2]string{{"Identity", ""}}}
}

// dirOps are Entra directory operations with the audit category of each.
var dirOps = [][2]string{
	{"Update user.", "User"},
	{"Update user.", "User"},
	{"Add member to group.", "Group"},
	{"Update group.", "Group"},
	{"Change user license.", "User"},
	{"Reset user password.", "User"},
	{"Add user.", "User"},
}

func (e *event) encDir(b []byte, key uint64, r *rng) []byte {
	b = append(b, '{')
	b = e.head(b, key, idPlain, r)
	b = append(b, `,"ResultStatus":"Success"`...)
	b = field(b, "UserKey", e.userKey)
	b = append(b, `,"UserType":0,"Version":1,"Workload":"AzureActiveDirectory"`...)
	b = field(b, "ObjectId", e.owner)
	b = field(b, "UserId", e.userID)
	category := "User"
	for _, o := range dirOps {
		if o[0] == e.op {
			category = o[1]
		}
	}
	if e.op == "Consent to application." {
		category = "ApplicationManagement"
	}
	// additionalDetails is JSON inside a JSON string, as Entra writes it.
	b = append(b, `,"AzureActiveDirectoryEventType":1,"ExtendedProperties":[{"Name":"additionalDetails","Value":"{\"UserType\":\"Member\",\"User-Agent\":\"O365AdminPortal\"}"},`...)
	b = nameValue(b, "extendedAuditEventCategory", category)
	b = append(b, `],"ModifiedProperties":[`...)
	switch category {
	case "ApplicationManagement":
		b = append(b, `{"Name":"ConsentContext.IsAdminConsent","NewValue":"False","OldValue":""},{"Name":"ConsentAction.Permissions","NewValue":"[] => [[Scope: User.Read offline_access openid profile]]; ","OldValue":""}`...)
	case "Group":
		b = append(b, `{"Name":"Group.DisplayName","NewValue":"`...)
		b = append(b, e.site.url[len("https://contoso.sharepoint.com/sites/"):len(e.site.url)-1]...)
		b = append(b, ` Members","OldValue":""}`...)
	default:
		b = append(b, `{"Name":"Included Updated Properties","NewValue":"","OldValue":""}`...)
	}
	b = append(b, `],"Actor":[{"ID":"`...)
	b = appendJS(b, e.actorUPN)
	b = append(b, `","Type":5},{"ID":"`...)
	b = append(b, e.puid...)
	b = append(b, `","Type":3},{"ID":"User_`...)
	b = append(b, e.objectID2...)
	b = append(b, `","Type":2},{"ID":"`...)
	b = append(b, e.objectID2...)
	b = append(b, `","Type":2},{"ID":"User","Type":2}]`...)
	b = field(b, "ActorContextId", e.actorCtx)
	b = fieldGUID(b, "InterSystemsId", r)
	b = fieldGUID(b, "IntraSystemId", r)
	var oid [36]byte
	appendGUID(oid[:0], r)
	b = append(b, `,"SupportTicketId":"","Target":[{"ID":"User_`...)
	b = append(b, oid[:]...)
	b = append(b, `","Type":2},{"ID":"`...)
	b = append(b, oid[:]...)
	b = append(b, `","Type":2},{"ID":"User","Type":2}`...)
	if e.owner != "" {
		b = append(b, `,{"ID":"`...)
		b = appendJS(b, e.owner)
		b = append(b, `","Type":5}`...)
	}
	b = append(b, `],"TargetContextId":"`+TenantID+`"}`...)
	return b
}

var teamsOps = []string{"MessageSent", "MessageSent", "TeamsSessionStarted", "ChatRetrieved", "MessagesListed", "MessageRead"}

func (e *event) encTeams(b []byte, key uint64, r *rng) []byte {
	b = append(b, '{')
	b = e.head(b, key, idPlain, r)
	b = field(b, "UserKey", e.objectID2)
	b = append(b, `,"UserType":0,"Version":1,"Workload":"MicrosoftTeams"`...)
	b = field(b, "ClientIP", e.clientIP)
	b = field(b, "UserId", e.userID)
	b = append(b, `,"ChatThreadId":"19:`...)
	b = appendHex(b, r.u64(), 16)
	b = appendHex(b, r.u64(), 16)
	b = append(b, `@thread.v2","CommunicationType":"GroupChat","ExtraProperties":[{"Key":"TimeZone","Value":"Europe\/London"},{"Key":"OsName","Value":"`...)
	b = append(b, e.ua.platform...)
	b = append(b, `"},{"Key":"ClientName","Value":"skypeteams"}],"MessageId":"`...)
	b = appendInt(b, int(e.t)*1000+r.intn(1000))
	b = append(b, `","ParticipantInfo":{"HasForeignTenantUsers":false,"HasGuestUsers":false,"HasOtherGovernmentUsers":false,"HasUnauthenticatedUsers":false,"ParticipatingDomains":[],"ParticipatingSIPDomains":[],"ParticipatingTenantIds":["`+TenantID+`"]},"ResourceTenantId":"`+TenantID+`"`...)
	return append(b, '}')
}
