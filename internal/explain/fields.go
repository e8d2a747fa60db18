package explain

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// recordFields are the record fields the walk explains. The others are
// listed at the end: an analyst reading the walk next to the JSON sees
// that nothing was hidden, without a line for every SupportTicketId.
var recordFields = map[string]handler{
	"CreationTime":          onText(str, creationTime),
	"Id":                    onText(str, recordID),
	"Operation":             onText(str, operation),
	"OrganizationId":        onText(str, organizationID),
	"RecordType":            recordType,
	"ResultStatus":          onText(str, resultStatus),
	"ResultStatusDetail":    onText(str, topResultStatusDetail),
	"UserKey":               onText(str, userKey),
	"UserType":              userType,
	"Workload":              onText(str, workload),
	"ClientIP":              onText(str, ipField),
	"ClientIp":              onText(str, ipField),
	"clientIp":              onText(str, ipField),
	"ActorIpAddress":        onText(str, ipField),
	"ClientIPAddress":       onText(str, ipField),
	"Client_IPAddress":      onText(str, ipField),
	"ObjectId":              onText(str, objectID),
	"UserId":                onText(str, userID),
	"User":                  onText(str, userID),
	"Actor":                 actor,
	"Target":                target,
	"ActorContextId":        onText(str, actorContextID),
	"TargetContextId":       onText(str, targetContextID),
	"ApplicationId":         onText(str, applicationID),
	"AppId":                 onText(str, applicationID),
	"ClientAppId":           onText(str, applicationID),
	"ExtendedProperties":    extendedProperties,
	"DeviceProperties":      deviceProperties,
	"ErrorNumber":           errorNumber,
	"ErrorCode":             errorNumber,
	"LogonError":            onText(str, logonError),
	"UserAgent":             onText(str, topUserAgent),
	"InterSystemsId":        onText(str, interSystemsID),
	"IntraSystemId":         onText(str, intraSystemID),
	"TargetUserOrGroupName": onText(str, targetUserOrGroupName),
	"TargetUserOrGroupType": onText(str, targetUserOrGroupType),
	"UserSharedWith":        onText(str, userSharedWith),
	"EventData":             onText(str, eventData),
	"SiteUrl":               simple(str, "The SharePoint or OneDrive site the item is in."),
	"SourceFileName":        simple(str, "The name of the file acted on."),
	"SourceRelativeUrl":     simple(str, "The folder of the file, relative to the site."),
	"ItemType":              onText(str, itemType),
	"MailboxOwnerUPN":       onText(str, mailboxOwnerUPN),
	"LogonType":             logonType,
	"ClientInfoString":      onText(str, clientInfoString),
	"ExternalAccess":        externalAccess,
	"OperationProperties":   operationProperties,
	"Folders":               folders,
	"OperationCount":        scalarField("How many accesses this one aggregated record stands for."),
}

// envelopeFields are the fields of a PowerShell or Graph envelope.
var envelopeFields = map[string]handler{
	// PowerShell Search-UnifiedAuditLog
	"RecordType":   envRecordType,
	"CreationDate": onText(str, envDate),
	"UserIds":      scalarField("A copy of the record's UserId."),
	"Operations":   scalarField("A copy of the record's Operation."),
	"Identity":     scalarField("The record's Id, used when the record itself has none."),
	"AuditData":    envAuditData,
	// Microsoft Graph auditLogRecord
	"id":                 scalarField("The record's Id, used when the record itself has none."),
	"createdDateTime":    onText(str, envDate),
	"auditLogRecordType": envRecordType,
	"operation":          scalarField("A copy of the record's Operation."),
	"organizationId":     scalarField("A copy of the record's OrganizationId: our tenant."),
	"userId":             scalarField("A copy of the record's UserId."),
	"userPrincipalName":  scalarField("The account's UPN as Graph resolved it."),
	"userType":           scalarField("The record's UserType, by name."),
	"service":            scalarField("A copy of the record's Workload."),
	"objectId":           scalarField("A copy of the record's ObjectId."),
	"clientIp":           onText(str, ipField),
	"auditData":          envAuditData,
}

// str writes the field line and returns the string value; for another
// type it says why the value is not used.
func str(p *printer, name string, v *value) (string, bool) {
	p.field(name, display(v))
	switch v.kind {
	case kString:
		return v.text, true
	case kNull:
		p.say("null: the record leaves this field empty.")
	default:
		p.say("Expected a string here, found %s; outsider does not use it.", v.kind)
	}
	return "", false
}

// reader reads a string field for a handler: str for audit records,
// sstr for sign-in records (where a blank string means absent).
type reader func(p *printer, name string, v *value) (string, bool)

// textHandler explains a string field from its value, once onText has
// written the field line and read the string.
type textHandler func(p *printer, f *facts, name, s string)

// onText makes a handler of a textHandler: read writes the field line and
// says why a value that is not a usable string is not explained further;
// fn explains one that is. Both walkers' string fields go through here, so
// what an absent, null or mistyped value prints is decided once.
func onText(read reader, fn textHandler) handler {
	return func(p *printer, f *facts, name string, v *value) {
		if s, ok := read(p, name, v); ok {
			fn(p, f, name, s)
		}
	}
}

// simple explains a string field with one fixed sentence, read by read.
func simple(read reader, text string) handler {
	return onText(read, func(p *printer, f *facts, name, s string) { p.say("%s", text) })
}

// scalarField explains a field of any type (a string, a number, a bool)
// with one fixed sentence: a copy, or a field outsider only describes.
func scalarField(text string) handler {
	return func(p *printer, f *facts, name string, v *value) {
		p.field(name, display(v))
		p.say("%s", text)
	}
}

func envRecordType(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	if num, nm, found := recordTypeByName(v.text); v.kind == kString && found {
		p.say("The record type by name: %s is number %d.", nm, num)
		return
	}
	p.say("The record type, as the envelope writes it.")
}

func envDate(p *printer, f *facts, name, s string) {
	ns, good := audit.ParseTime([]byte(s))
	switch {
	case !good:
		p.say("Not a time outsider can read.")
	case strings.HasPrefix(s, "/Date("):
		p.say("PowerShell's date form, milliseconds since 1970: %s (UTC). outsider uses the record's "+
			"own CreationTime and falls back on this only when the record has none.", audit.FormatTime(ns))
	default:
		p.say("%s (UTC). outsider uses the record's own CreationTime and falls back on this only "+
			"when the record has none.", audit.FormatTime(ns))
	}
}

func envAuditData(p *printer, f *facts, name string, v *value) {
	if v.kind == kString {
		p.field(name, fmt.Sprintf("(a JSON string of %d bytes)", len(v.text)))
	} else {
		p.field(name, display(v))
	}
	if v == f.envVal {
		p.say("The audit record itself, explained below.")
	} else {
		p.say("Another copy of the record field; the last one is the record explained below.")
	}
}

func creationTime(p *printer, f *facts, name, s string) {
	ns, good := audit.ParseTime([]byte(s))
	if !good {
		p.say("Not a time outsider can read: outsider triage skips this record.")
		return
	}
	utc := audit.FormatTime(ns)
	switch {
	case len(s) == 19 || (len(s) > 19 && s[19] == '.' && !strings.ContainsAny(s[19:], "Zz+-")):
		p.say("When the event happened: %s. The record carries no time zone; Microsoft writes "+
			"UTC, and outsider reads it as UTC.", utc)
	case strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z"):
		p.say("When the event happened, in UTC: %s.", utc)
	default:
		p.say("When the event happened; in UTC: %s.", utc)
	}
}

func recordID(p *printer, f *facts, name, s string) {
	p.say("The record's unique id. The Management API can deliver one record more than once; " +
		"outsider triage keeps one copy per Id.")
	if !audit.IsGUID([]byte(s)) {
		p.say("It is not in the usual GUID form.")
	}
}

func operation(p *printer, f *facts, name, s string) {
	if m, known := opMeanings[s]; known {
		p.say("%s", m)
	} else {
		p.say("The action the record is about. outsider has no description of this operation.")
	}
	if f.signin {
		p.say("A sign-in record: outsider classifies accounts from these and decides each one's " +
			"outcome from the fields below, not from the operation name alone.")
	}
}

func workload(p *printer, f *facts, name, s string) {
	switch s {
	case "AzureActiveDirectory":
		p.say("Entra ID (formerly Azure AD): sign-ins and directory changes.")
	case "SharePoint":
		p.say("SharePoint Online: sites, files and sharing.")
	case "OneDrive":
		p.say("OneDrive for Business: personal file storage, and sharing from it.")
	case "Exchange":
		p.say("Exchange Online: mailboxes and their administration.")
	case "MicrosoftTeams":
		p.say("Microsoft Teams.")
	default:
		p.say("The Microsoft 365 service that wrote the record.")
	}
}

func recordType(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	n, ok := intOf(v)
	if !ok {
		if v.kind == kString {
			if num, nm, found := recordTypeByName(v.text); found {
				p.say("The record type by name (%s, number %d); raw UAL records give the number.", nm, num)
				return
			}
			p.say("A record type name outsider does not know; raw UAL records give a number.")
			return
		}
		p.say("Expected a number, found %s.", v.kind)
		return
	}
	nm, known := recordTypes[n]
	if !known {
		p.say("RecordType %d is not in the documented list (Microsoft adds types often).", n)
		return
	}
	switch n {
	case 15:
		p.say("%s: a Secure Token Service (STS) logon, Entra ID's record of a sign-in step. This "+
			"is the type of Microsoft's pass-through example (callout E in its guidance).", nm)
	case 9:
		p.say("%s: the older form of Entra ID sign-in records.", nm)
	case 8:
		p.say("%s: a change in the Entra ID directory; outsider counts it as an admin operation.", nm)
	case 1:
		p.say("%s: an Exchange administration cmdlet; outsider counts it as an admin operation.", nm)
	case 18:
		p.say("%s: a Security & Compliance cmdlet; outsider counts it as an admin operation.", nm)
	case 2, 3, 50:
		p.say("%s: access to mailbox items; outsider counts it as mailbox access.", nm)
	case 14:
		p.say("%s: a SharePoint or OneDrive sharing operation.", nm)
	case 6:
		p.say("%s: a SharePoint or OneDrive file operation.", nm)
	default:
		p.say("%s.", nm)
	}
}

func organizationID(p *printer, f *facts, name, s string) {
	p.say("The tenant the record belongs to: the organisation whose audit log this is (ours).")
	ourTenantNotes(p, f, s, true, "ActorContextId")
}

// notTenantID warns, and reports true, when a tenant field holds what is
// not a tenant id (audit.IsTenantID): a placeholder or redaction such as
// "<USER HOME TENANT ID>" or the nil GUID, which triage never takes as
// evidence of a tenant.
func notTenantID(p *printer, s string) bool {
	if audit.IsTenantID([]byte(strings.TrimSpace(s))) {
		return false
	}
	if audit.IsGUID([]byte(strings.TrimSpace(s))) {
		p.warn("this is a placeholder GUID (the nil GUID, or digits in pairs as documentation " +
			"writes them), not a real tenant id.")
	} else {
		p.warn("this is not a tenant id (a GUID): most likely a placeholder or redaction.")
	}
	return true
}

// tenantRelation says how a tenant id relates to ours.
func tenantRelation(f *facts, id string) string {
	id = lowerTrim(id)
	switch {
	case id == "":
		return "empty"
	case len(f.ours) == 0:
		return "unknown"
	case f.ours[id]:
		return "ours"
	}
	return "other"
}

// oursWord names where "ours" came from, for sentences.
func oursWord(f *facts) string {
	switch {
	case f.oursFlag:
		return "our tenant (--tenant)"
	case f.si.on:
		return "our tenant (" + f.si.orgField + ")"
	}
	return "our tenant (OrganizationId)"
}

// homeTenantNotes says how the home tenant of the account that acted
// (ActorContextId, homeTenantId) relates to ours. orgField names the field
// that gives ours; otherTail ends the sentence for another tenant.
func homeTenantNotes(p *printer, f *facts, s, orgField, otherTail string) {
	if strings.TrimSpace(s) != "" && notTenantID(p, s) {
		p.say("outsider takes it as no home tenant: it never makes the account an outsider, and " +
			"the account's home tenant is unknown.")
		return
	}
	switch tenantRelation(f, s) {
	case "empty":
		p.say("Empty: the record does not say where the account comes from.")
	case "unknown":
		p.say("There is nothing to compare it with: the record has no %s that is a "+
			"tenant id and no --tenant was given.", orgField)
	case "ours":
		p.say("It is %s: the account belongs to this tenant.", oursWord(f))
	default:
		id := lowerTrim(s)
		switch t, ms := apps.LookupTenant(id); {
		case id == apps.ConsumerTenant:
			p.say("It is not %s. It is the consumer tenant: the account is a personal Microsoft "+
				"account (outlook.com, live.com, hotmail.com), not an organisation's account.", oursWord(f))
		case ms:
			p.say("It is not %s. It is a Microsoft tenant, %s: %s", oursWord(f), textsafe.Terminal(t.Label), textsafe.Terminal(t.Meaning))
		default:
			p.say("It is not %s: the account comes from another organisation's tenant.%s", oursWord(f), otherTail)
		}
	}
}

func actorContextID(p *printer, f *facts, name, s string) {
	p.say("The home tenant of the account that acted.")
	homeTenantNotes(p, f, s, "OrganizationId", "")
}

func targetContextID(p *printer, f *facts, name, s string) {
	p.say("The tenant of the target (the resource signed in to or acted on).")
	if strings.TrimSpace(s) != "" && notTenantID(p, s) {
		return
	}
	switch tenantRelation(f, s) {
	case "ours":
		p.say("It is %s, as expected for a record in our log.", oursWord(f))
	case "other":
		p.say("It is not %s.", oursWord(f))
	}
}

func userID(p *printer, f *facts, name, s string) {
	u, kind, _ := audit.Canonical([]byte(s), nil)
	user := string(u)
	lower := strings.ToLower(strings.TrimSpace(s))
	switch kind {
	case audit.UserUnusable:
		if placeholderName(s) {
			p.say("A placeholder or redaction marker, not an account name: it names nobody, so " +
				"the record cannot say who acted. outsider treats it as it treats \"Not Available\": " +
				"a sign-in is grouped by the Actor object id, UserKey or ActorContextId instead.")
			return
		}
		p.say("This names nobody. Entra leaves the user unnamed when it cannot match the " +
			"account to a user here (since November 2020 it no longer fills UserId for unknown " +
			"accounts), so the record cannot say who signed in. outsider groups such records " +
			"by the Actor object id, UserKey or ActorContextId instead.")
		return
	case audit.UserGuest:
		host := string(audit.GuestHostDomain([]byte(s)))
		p.say("A B2B guest in its #EXT# form: the guest's own address is %s, and %s is the "+
			"domain of the tenant that invited it (ours). A guest has a user object in our "+
			"directory: someone in the organisation invited it.", show(user), show(host))
		return
	case audit.UserSPOGuest:
		p.say("SharePoint's name for an external user (urn:spo:guest#): the account is %s. It has "+
			"no user object in our directory; SharePoint knows it through a sharing invitation "+
			"or link.", show(user))
		return
	case audit.UserAnonymous:
		p.say("Someone who opened an \"Anyone\" link. The record names no one; outsider ties " +
			"such records to an outside account only through a shared IP address.")
		return
	}
	switch lower {
	case "app@sharepoint", `sharepoint\system`, `nt authority\system`, "nt authority\\system (microsoft.exchange.servicehost)":
		p.say("A system account: the service acting on its own, not a person.")
		return
	}
	if user != lower {
		p.say("A SharePoint claim; the account is %s.", show(user))
	} else {
		p.say("The account that acted: its user principal name (UPN).")
		if f.signin && f.outside() {
			p.say("For this sign-in it is the outside account's own UPN (callout B in Microsoft's " +
				"guidance).")
		}
		if user != strings.TrimSpace(s) {
			p.say("outsider compares accounts in lower case: %s.", show(user))
		}
	}
	if d := string(audit.Domain(u)); consumerDomains[d] {
		p.say("%s is a personal Microsoft account domain.", show(d))
	}
}

var userTypes = []string{
	"Regular: an ordinary user (Entra ID events show administrators as 0 too)",
	"Reserved",
	"Admin: an administrator",
	"DcAdmin: a Microsoft datacenter operator",
	"System: a system account",
	"Application: an application",
	"ServicePrincipal: a service principal",
	"CustomPolicy: a custom policy",
	"SystemPolicy: a system policy",
	"PartnerTechnician: a partner's technician",
	"Guest: a guest user",
}

func userType(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	n, ok := intOf(v)
	if !ok {
		if v.kind == kString {
			p.say("The user type by name; raw UAL records give a number (0 Regular ... 10 Guest).")
		}
		return
	}
	if n < 0 || n >= len(userTypes) {
		p.say("Not a documented user type (0 to 10).")
		return
	}
	p.say("%d = %s.", n, userTypes[n])
	switch n {
	case 10:
		p.say("outsider classifies a sign-in by a guest as guest, whatever its tenant.")
	case 4:
		if f.userKind == audit.UserUnusable {
			p.say("Seen with UserId \"Not Available\" on sign-ins Entra could not attribute.")
		}
	}
}

func userKey(p *printer, f *facts, name, s string) {
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "i:0h.f|membership|"):
		p.say("Another id for the account: SharePoint's claim form of its PUID (Microsoft's " +
			"internal account id). The @live.com suffix is part of that form, not a sign of a " +
			"personal account.")
	case strings.HasPrefix(lower, "i:0i.t|"):
		p.say("An application's claim: an app acting, not a person.")
	case placeholderName(s):
		p.say("A placeholder or redaction marker, not an id: outsider does not group by it.")
	case audit.IsGUID([]byte(s)):
		p.say("Another id for the account: its object id.")
	case isPUID(s):
		p.say("Another id for the account: its PUID (Microsoft's internal account id).")
	default:
		p.say("Another id for the account (for SharePoint, OneDrive and Exchange usually its PUID).")
	}
	if f.class == classExternalUnknown && (len(f.ev.ActorObject) == 0 || audit.IsPlaceholderGUID(f.ev.ActorObject)) && f.unknownKey == s {
		p.say("With no usable UserId and no Actor object id, outsider groups this record's " +
			"account under this key.")
	}
}

// isPUID reports whether s looks like a PUID: 16 hex digits, maybe with
// "@domain" after them.
func isPUID(s string) bool {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// appWords describes an application id: its catalogue name, or that it
// is not in the catalogue.
func appWords(id string) (string, bool) {
	a, ok := apps.Lookup(id)
	if !ok {
		return "", false
	}
	name := a.Name
	if name == "" {
		name = "an unnamed application"
	}
	return textsafe.Terminal(name), true
}

// firstParty says which Microsoft first-party application an id in the
// catalogue is, for ApplicationId and appId alike.
func firstParty(p *printer, a apps.App) {
	nm := a.Name
	if nm == "" {
		nm = "an application with no name in the sources"
	}
	fam := ""
	if a.Family != "" {
		fam = " (family " + a.Family + ")"
	}
	p.say("%s%s: a Microsoft first-party application (listed by outsider's catalogue "+
		"sources: %s).", textsafe.Terminal(nm), textsafe.Terminal(fam), strings.Join(a.Sources, ", "))
	if a.Family == "sharepoint-onedrive" {
		p.say("The same id serves SharePoint Online and OneDrive for Business.")
	}
}

func applicationID(p *printer, f *facts, name, s string) {
	id := lowerTrim(s)
	switch name {
	case "ApplicationId":
		p.say("The application that asked for the sign-in or acted (callout C in Microsoft's guidance).")
	default:
		p.say("The application the client used.")
	}
	if !audit.IsGUID([]byte(id)) {
		p.say("It is not an application id (a GUID).")
		return
	}
	a, known := apps.Lookup(id)
	if known {
		firstParty(p, a)
		return
	}
	p.say("Not in outsider's catalogue of Microsoft first-party applications (%d ids): a "+
		"third-party or tenant-registered application, or a Microsoft one no source lists.", apps.Len())
	if name == "ApplicationId" && f.signin && f.outside() {
		p.warn("this is a sign-in by an outside account to an application that is not Microsoft " +
			"first-party. Entra ID allows pass-through authentication only for first-party " +
			"applications; it should not happen for any other.")
	}
}

func objectID(p *printer, f *facts, name, s string) {
	sts := f.signin || f.ev.RecordType == 15 || f.ev.RecordType == 9
	switch {
	case sts && strings.EqualFold(s, "Unknown"):
		p.say("The resource the sign-in was for; \"Unknown\" means Entra did not record it.")
	case sts && audit.IsGUID([]byte(s)):
		if nm, known := appWords(s); known {
			p.say("The resource the sign-in asked a token for: %s.", nm)
		} else {
			p.say("The resource the sign-in asked a token for; this id is not in the first-party catalogue.")
		}
	case strings.HasPrefix(strings.ToLower(s), "http"):
		p.say("The item acted on: its full address.")
	default:
		p.say("The object acted on.")
	}
}

var identityTypes = []string{"Claim", "Name", "Other", "PUID", "SPN", "UPN"}

// identity explains one {"ID": ..., "Type": n} entry of Actor or Target.
func identity(p *printer, f *facts, e *value, resource bool) {
	if e.kind != kObject {
		p.entry(e, "Not an {ID, Type} entry.")
		return
	}
	id := e.str("ID")
	idv := e.get("ID")
	typ, hasType := intOf(e.get("Type"))
	tname := "no Type"
	if hasType {
		tname = fmt.Sprintf("Type %d", typ)
		if typ >= 0 && typ < len(identityTypes) {
			tname += ", " + identityTypes[typ]
		}
	}
	shown := `""`
	if idv != nil {
		shown = display(idv)
	}
	p.item(fmt.Sprintf("%s (%s)", shown, tname))
	switch {
	case strings.EqualFold(strings.TrimSpace(id), "unknown"):
		if resource {
			p.itemSay("Entra did not record the resource.")
		} else {
			p.itemSay("The account does not exist in this tenant's directory: Entra could not " +
				"match it to a user object here (callout A in Microsoft's guidance).")
		}
		return
	case !hasType:
		p.itemSay("An identity with no type.")
		return
	}
	switch typ {
	case 0, 4:
		if nm, known := appWords(id); known {
			p.itemSay("The application %s (a Microsoft first-party id).", nm)
		} else if audit.IsGUID([]byte(id)) {
			if resource {
				p.itemSay("The resource's id; not in the first-party catalogue.")
			} else if typ == 0 && audit.IsPlaceholderGUID([]byte(id)) {
				p.itemSay("A placeholder GUID (the nil GUID, or digits in pairs as documentation " +
					"writes them): it names no object, and outsider does not use it.")
			} else if typ == 0 {
				p.itemSay("The object id of the account's user object (or of an application): " +
					"Entra found the account in a directory.")
				if f.class == classExternalUnknown && strings.EqualFold(id, f.unknownKey) {
					p.itemSay("With no usable UserId, outsider groups this account's sign-ins " +
						"under this id.")
				}
			} else {
				p.itemSay("A service principal (application) id; not in the first-party catalogue.")
			}
		} else {
			p.itemSay("A claim value.")
		}
	case 1:
		p.itemSay("A display name (\"Azure ESTS Service\" is Entra's token service itself).")
	case 2:
		switch {
		case strings.HasPrefix(id, "User_"):
			p.itemSay("A user object, by its object id.")
		case strings.HasPrefix(id, "ServicePrincipal_"):
			p.itemSay("An application's service principal, by its object id.")
		default:
			p.itemSay("Another kind of identifier.")
		}
	case 3:
		p.itemSay("The account's PUID: Microsoft's internal id for the account.")
	case 5:
		if !resource && f.hasUserID && !strings.EqualFold(strings.TrimSpace(id), strings.TrimSpace(f.userRaw)) {
			p.itemSay("A user principal name; it differs from UserId (%s).", show(f.userRaw))
		} else {
			p.itemSay("The user principal name, the same as UserId.")
		}
	default:
		p.itemSay("Not a documented identity type (0 Claim to 5 UPN).")
	}
}

func identities(p *printer, f *facts, name string, v *value, resource bool) {
	p.field(name, display(v))
	if v.kind != kArray {
		p.say("Expected a list of {ID, Type} entries, found %s.", v.kind)
		return
	}
	if resource {
		p.say("What the account acted on: for a sign-in, the resource application.")
	} else {
		p.say("Who acted, as a list of identities (Type 0 Claim, 1 Name, 2 Other, 3 PUID, 4 SPN, 5 UPN).")
	}
	for i, e := range v.elems {
		if p.more(i, len(v.elems)) {
			break
		}
		identity(p, f, e, resource)
	}
}

func actor(p *printer, f *facts, name string, v *value)  { identities(p, f, name, v, false) }
func target(p *printer, f *facts, name string, v *value) { identities(p, f, name, v, true) }

func resultStatus(p *printer, f *facts, name, s string) {
	sts := f.signin || f.ev.RecordType == 15
	switch {
	case sts && (s == "Succeeded" || s == "Success"):
		p.say("For a sign-in this only means the HTTP operation worked, not that the logon " +
			"succeeded: the outcome comes from ResultStatusDetail, ErrorNumber and LogonError.")
	case sts:
		p.say("The status of the sign-in request; the outcome comes from ResultStatusDetail, " +
			"ErrorNumber and LogonError.")
	case s == "True" || s == "False":
		p.say("Whether the cmdlet ran without error.")
	default:
		p.say("Whether the operation succeeded (Succeeded, PartiallySucceeded or Failed).")
	}
}

// explainResultStatusDetail is shared by the top-level field and the
// ExtendedProperties entry.
func explainResultStatusDetail(say func(string, ...any), f *facts, s string) {
	switch s {
	case "Success":
		if f.signin && f.outside() {
			say("Entra completed this step: for a pass-through sign-in, pass-through " +
				"authentication confirmed the account's identity (callout D in Microsoft's guidance).")
		} else {
			say("Entra completed this step of the sign-in.")
		}
	case "Redirect":
		say("An intermediate step: Entra sent the browser on (to MFA, to the account's home " +
			"tenant, to a consent page). Not a completed sign-in; outsider counts it as interrupted.")
	case "Interrupted":
		say("Entra's word for a sign-in it stopped to ask for one more step; outsider counts it as " +
			"interrupted (an error number, when there is one, decides instead).")
	case "":
		say("Empty: no detail.")
	default:
		say("Not Success, Redirect or Interrupted: the sign-in did not succeed (outsider counts it as a failure).")
	}
}

func topResultStatusDetail(p *printer, f *facts, name, s string) {
	explainResultStatusDetail(p.say, f, s)
}

// nameValues walks an array of {"Name", "Value"} entries.
func nameValues(p *printer, name string, v *value, intro string, entry func(n, val string)) {
	p.field(name, display(v))
	if v.kind != kArray {
		p.say("Expected a list of {Name, Value} entries, found %s.", v.kind)
		return
	}
	p.say("%s", intro)
	for i, e := range v.elems {
		if p.more(i, len(v.elems)) {
			break
		}
		nv, vv := e.get("Name"), e.get("Value")
		if e.kind != kObject || nv == nil || nv.kind != kString {
			p.entry(e, "Not a {Name, Value} entry.")
			continue
		}
		val := ""
		shown := "(no Value)"
		if vv != nil {
			shown = display(vv)
			if vv.kind == kString {
				val = vv.text
			}
		}
		p.item(textsafe.Terminal(nv.text) + ": " + shown)
		entry(nv.text, val)
	}
}

func extendedProperties(p *printer, f *facts, name string, v *value) {
	nameValues(p, name, v, "Details of the event as Name/Value pairs; their order varies, so "+
		"outsider looks them up by Name.", func(n, val string) {
		switch n {
		case "ResultStatusDetail":
			explainResultStatusDetail(p.itemSay, f, val)
		case "UserAgent":
			explainUserAgent(p.itemSay, val)
		case "RequestType":
			p.itemSay("%s", requestType(val))
		case "KeepMeSignedIn":
			p.itemSay("Whether the user answered yes to \"Stay signed in?\".")
		case "UserAuthenticationMethod":
			p.itemSay("A number Microsoft does not document (1 and 9 are common); do not read it as " +
				"a particular method.")
		case "LoginError", "LogonError":
			p.itemSay("The sign-in error (older records keep it here).")
		default:
			p.itemSay("No description.")
		}
	})
}

func requestType(s string) string {
	switch s {
	case "OAuth2:Authorize":
		return "A browser or app asked for authorization (the interactive OAuth 2.0 endpoint)."
	case "OAuth2:Token":
		return "A token request to the OAuth 2.0 token endpoint: an app or script, or a token refresh."
	case "Login:login":
		return "The user name and password form was posted."
	case "Login:reprocess":
		return "Entra processed the sign-in again after a step (a prompt, a redirect)."
	case "SAS:EndAuth", "SAS:ProcessAuth", "SAS:BeginAuth":
		return "A step of multi-factor authentication (the strong authentication service)."
	case "Kmsi:kmsi":
		return "The answer to the \"Stay signed in?\" prompt."
	case "OrgIdWsFederation:federation":
		return "A WS-Federation sign-in (older protocol, used by some clients and federated domains)."
	case "Saml2:processrequest":
		return "A SAML 2.0 sign-in."
	}
	return "The kind of request Entra handled."
}

// explainUserAgent notes user agents that mark a script or a tool; any
// user agent is what the client claims, and can be anything.
func explainUserAgent(say func(string, ...any), ua string) {
	l := strings.ToLower(ua)
	switch {
	case ua == "":
		say("Empty: the client sent no user agent.")
	case strings.Contains(l, "powershell"):
		say("The client software: PowerShell, i.e. a script or an administrator's console " +
			"(as the client describes itself; it can claim anything).")
	case strings.Contains(l, "python") || strings.Contains(l, "curl/") || strings.Contains(l, "go-http-client") ||
		strings.Contains(l, "okhttp") || strings.Contains(l, "axios") || strings.Contains(l, "node-fetch"):
		say("The client software: a script or an HTTP library rather than a browser or an " +
			"Office app (as the client describes itself; it can claim anything).")
	default:
		say("The client software, as it describes itself (it can claim anything).")
	}
}

func topUserAgent(p *printer, f *facts, name, s string) {
	explainUserAgent(p.say, s)
}

func deviceProperties(p *printer, f *facts, name string, v *value) {
	nameValues(p, name, v, "The device as Entra saw it, from what the client reported.", func(n, val string) {
		switch n {
		case "OS", "BrowserType", "DisplayName":
			p.itemSay("As the client reported it.")
		case "IsCompliant", "IsCompliantAndManaged":
			p.itemSay("Whether the device is managed by the tenant and meets its compliance policy.")
		case "TrustType":
			switch val {
			case "0":
				p.itemSay("0: a registered device.")
			case "1":
				p.itemSay("1: joined to Entra ID.")
			case "2":
				p.itemSay("2: hybrid joined (on-premises AD and Entra ID).")
			default:
				p.itemSay("How the device is known to the tenant.")
			}
		case "Id":
			p.itemSay("The device's id, when the tenant knows the device.")
		case "SessionId":
			p.itemSay("The sign-in session.")
		default:
			p.itemSay("No description.")
		}
	})
}

func errorNumber(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	s, ok := v.scalar()
	if !ok || v.kind == kNull || v.kind == kBool {
		p.say("Expected an error number, found %s.", v.kind)
		return
	}
	s = strings.TrimSpace(s)
	if s == "0" || s == "" {
		p.say("No error.")
		return
	}
	if !isDigits(s) {
		p.say("Not an AADSTS error number.")
		return
	}
	p.say("%s", codeWords(s))
}

// codeWords explains a non-zero AADSTS error number (digits only): its
// meaning and how the engine counts it, asking the audit package so the
// two never disagree.
func codeWords(s string) string {
	var b strings.Builder
	if e, known := aadsts[s]; known {
		fmt.Fprintf(&b, "AADSTS%s: %s", s, e.meaning)
		if e.name != "" {
			fmt.Fprintf(&b, " (%s)", e.name)
		}
		b.WriteString(".")
	} else {
		fmt.Fprintf(&b, "AADSTS%s: a code outsider has no description of.", s)
	}
	ev := audit.Event{Operation: []byte("UserLoggedIn"), ErrorNumber: []byte(s)}
	if ev.Outcome() == audit.Interrupted {
		b.WriteString(" outsider counts it as an interrupted sign-in: Entra asked for one more step.")
	} else {
		b.WriteString(" outsider counts it as a failed sign-in.")
	}
	if _, known := aadsts[s]; !known {
		b.WriteString(" Microsoft's description: https://login.microsoftonline.com/error?code=" + s)
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func logonError(p *printer, f *facts, name, s string) {
	if s == "" {
		p.say("Empty: no error.")
		return
	}
	for code, e := range aadsts {
		if e.name != "" && e.name == s {
			p.say("Entra's name for error AADSTS%s: %s.", code, e.meaning)
			break
		}
	}
	if audit.IsInterruptName([]byte(s)) {
		p.say("The name of an interrupt: the sign-in did not complete because Entra asked for one more " +
			"step. outsider goes by ErrorNumber when the record has one, and by this name only when it has none.")
		return
	}
	p.say("Any LogonError means the sign-in did not succeed (outsider counts it as a failure " +
		"unless ErrorNumber is a code for one more step).")
}

func ipField(p *printer, f *facts, name, s string) {
	switch name {
	case "ActorIpAddress":
		p.say("The address Entra saw the account at.")
	case "ClientIPAddress":
		p.say("The address of the client that reached the mailbox.")
	default:
		p.say("The address of the client, as the service saw it.")
	}
	ipNotes(p, f, name, s, true)
}

// ipNotes explains an address after the sentence that says whose it is:
// whether another field gave it already, its normal form, and what kind
// of address it is. used says whether the engine reads this field.
func ipNotes(p *printer, f *facts, name, s string, used bool) {
	a, good := audit.ParseIP([]byte(s))
	if good {
		if first, seen := f.ips[a]; seen {
			p.say("The same address as %s.", textsafe.Terminal(first))
			return
		}
		if f.ips == nil {
			f.ips = map[netip.Addr]string{}
		}
		f.ips[a] = name
	}
	if !good {
		switch {
		case maskedAddress(s) || audit.IsPlaceholder([]byte(strings.TrimSpace(s))):
			p.say("A masked or redacted address, not an IP address: it can identify nobody, and " +
				"outsider ignores it.")
		case strings.TrimSpace(s) != "":
			p.say("Not an IP address; outsider ignores it.")
		case f.si.on:
			p.say("Empty: no address.")
		default:
			p.say("Empty: no address; common for SharePoint's own system records.")
		}
		return
	}
	if a.String() != s {
		p.say("Normalised: %s (outsider strips ports and brackets and unmaps ::ffff:, so one "+
			"address written two ways still matches).", a)
	}
	kind := audit.KindOfAddr(a)
	if note := addrNote(kind); note != "" {
		p.say("%s", note)
	}
	switch {
	case !used:
	case !kind.Identifying():
		p.say("It cannot identify a client, so outsider links no other record to it; it is " +
			"still listed among the account's sign-in addresses.")
	case kind == audit.AddrShared:
		p.say("outsider looks for every other record from this address, and calls what it " +
			"finds a weak link: many clients behind one NAT or proxy share such an address.")
	default:
		p.say("outsider looks for every other record from this address.")
	}
}

// addrNote says what kind of address a client address is
// (audit.KindOfAddr, the rule triage links records by).
func addrNote(k audit.AddrKind) string {
	switch k {
	case audit.AddrDocumentation:
		return "A documentation address (RFC 5737 / RFC 3849 / RFC 9637): this record is an " +
			"example or was sanitised, not real traffic."
	case audit.AddrLoopback:
		return "A loopback address: not where the client really was."
	case audit.AddrUnspecified:
		return "The unspecified address: no address at all."
	case audit.AddrLinkLocal:
		return "A link-local address: not where the client really was."
	case audit.AddrMulticast:
		return "A multicast address: a group, not a client."
	case audit.AddrReserved:
		return "A reserved or broadcast address: never a client's."
	case audit.AddrShared:
		return "A private or carrier-grade NAT address: the service saw an internal hop, a NAT " +
			"or a proxy, not the client's public address."
	}
	return ""
}

// maskedAddress reports whether s looks like an address with its digits
// masked (10.x.x.x, 1.2.3.xxx, ***.***.*.*, 2001:db8:xxxx::1): a redaction.
func maskedAddress(s string) bool {
	s = strings.TrimSpace(s)
	if strings.Count(s, ".") != 3 && strings.Count(s, ":") < 2 {
		return false
	}
	masked := false
	for _, c := range s {
		switch {
		case c == 'x' || c == 'X' || c == '*' || c == '#':
			masked = true
		case c == '.' || c == ':' || '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return masked
}

// placeholderName reports whether an account name is a placeholder or
// redaction marker (audit.IsPlaceholder), in any of the forms Canonical
// reads: plain, a claim, a SharePoint guest.
func placeholderName(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(l, '|'); i >= 0 && (strings.HasPrefix(l, "i:0") || strings.HasPrefix(l, "c:0")) {
		l = l[i+1:]
	}
	l = strings.TrimPrefix(l, "urn:spo:guest#")
	return audit.IsPlaceholder([]byte(l))
}

func interSystemsID(p *printer, f *facts, name, _ string) {
	p.say("A GUID that tracks the action across Microsoft 365 components. Use it, with " +
		"IntraSystemId, to find the matching entry in the Entra ID sign-in logs, which has " +
		"more detail (location, conditional access, MFA).")
}

func intraSystemID(p *printer, f *facts, name, _ string) {
	p.say("The GUID Entra ID generated for this request.")
}

func isOutsideName(s string) bool {
	_, kind, _ := audit.Canonical([]byte(s), nil)
	return kind == audit.UserGuest || kind == audit.UserSPOGuest
}

func targetUserOrGroupName(p *printer, f *facts, name, s string) {
	u, kind, _ := audit.Canonical([]byte(s), nil)
	p.say("Who was given access: a user or a group.")
	if kind != audit.UserUnusable && kind != audit.UserAnonymous && string(u) != strings.TrimSpace(s) {
		p.say("outsider reads it as %s.", show(string(u)))
	}
	if isOutsideName(s) || strings.EqualFold(f.rec.str("TargetUserOrGroupType"), "Guest") {
		p.say("Someone outside the organisation: outsider lists this record under that " +
			"account's sharing.")
	}
}

func targetUserOrGroupType(p *printer, f *facts, name, s string) {
	switch s {
	case "Guest":
		p.say("Guest: someone outside the organisation.")
	case "Member":
		p.say("Member: someone in the organisation.")
	case "SharePointGroup", "SecurityGroup", "Group":
		p.say("A group, not a single person.")
	case "Partner":
		p.say("Partner: an account from a partner organisation.")
	default:
		p.say("The kind of target (Member, Guest, SharePointGroup, SecurityGroup, Partner).")
	}
}

func userSharedWith(p *printer, f *facts, name, s string) {
	p.say("Who the item was shared with. outsider uses it when TargetUserOrGroupName is absent.")
	if isOutsideName(s) {
		p.say("Someone outside the organisation.")
	}
}

// eventPairs reads the <Tag>value</Tag> pairs of SharePoint's EventData.
func eventPairs(s string) [][2]string {
	var out [][2]string
	// Bounded work whatever the record holds: EventData is a short
	// fragment, and a hostile one must not cost a quadratic scan.
	if len(s) > 4096 {
		s = s[:4096]
	}
	for tries := 0; len(out) < maxItems && tries < 4*maxItems; tries++ {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := s[i+1 : i+j]
		rest := s[i+j+1:]
		end := strings.Index(rest, "</"+tag+">")
		if tag == "" || tag[0] == '/' || end < 0 {
			s = rest
			continue
		}
		out = append(out, [2]string{tag, rest[:end]})
		s = rest[end+len(tag)+3:]
	}
	return out
}

func eventData(p *printer, f *facts, name, s string) {
	p.say("Details of the sharing, as an XML fragment.")
	for _, kv := range eventPairs(s) {
		k, val := kv[0], kv[1]
		switch {
		case k == "Type" && strings.EqualFold(val, "View"):
			p.say("Type View: the link lets its holder view, not change.")
		case k == "Type" && strings.EqualFold(val, "Edit"):
			p.say("Type Edit: the link lets its holder change the item.")
		case k == "Type" && strings.EqualFold(val, "Review"):
			p.say("Type Review: the link lets its holder comment, not change.")
		case strings.HasPrefix(k, "Permissions"):
			p.say("Permission granted: %s.", show(val))
		case k == "Group":
			p.say("Through the SharePoint group %s.", show(val))
		default:
			p.say("%s: %s.", textsafe.Terminal(k), show(val))
		}
	}
}

func itemType(p *printer, f *facts, name, s string) {
	p.say("What kind of item: %s.", show(s))
}

func mailboxOwnerUPN(p *printer, f *facts, name, s string) {
	p.say("Whose mailbox it is.")
	if f.hasUserID && f.userKind != audit.UserUnusable {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(f.userRaw)) {
			p.say("The same account as UserId: the owner reached their own mailbox.")
		} else {
			p.say("Not the account in UserId: someone other than the owner reached this mailbox.")
		}
	}
}

var logonTypes = []string{
	"Owner: the mailbox owner",
	"Admin: an administrator",
	"Delegated: a delegate the owner gave access to",
	"Transport: the transport service",
	"SystemService: a Microsoft service account",
	"BestAccess: reserved for Microsoft's internal use",
	"DelegatedAdmin: a delegated administrator",
}

func logonType(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	n, ok := intOf(v)
	if !ok || n < 0 || n >= len(logonTypes) {
		p.say("How the mailbox was reached (0 Owner, 1 Admin, 2 Delegated, ...).")
		return
	}
	p.say("%d = %s.", n, logonTypes[n])
}

func clientInfoString(p *printer, f *facts, name, _ string) {
	p.say("The client that reached the mailbox, as it describes itself (Client=OWA is " +
		"Outlook on the web, Client=REST an app using the API).")
}

func externalAccess(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	s, _ := v.scalar()
	switch strings.ToLower(s) {
	case "true":
		p.say("true: the access came from outside the organisation (for admin cmdlets: " +
			"Microsoft datacenter staff or services, or a delegated administrator).")
	case "false":
		p.say("false: someone in the organisation.")
	default:
		p.say("Whether the access came from outside the organisation.")
	}
}

func operationProperties(p *printer, f *facts, name string, v *value) {
	nameValues(p, name, v, "Details of the mailbox access as Name/Value pairs.", func(n, val string) {
		switch {
		case n == "MailAccessType" && val == "Bind":
			p.itemSay("Bind: individual messages were opened.")
		case n == "MailAccessType" && val == "Sync":
			p.itemSay("Sync: a mail client synchronised whole folders (desktop Outlook, or a " +
				"mailbox being downloaded).")
		case n == "IsThrottled" && strings.EqualFold(val, "True"):
			p.itemSay("Auditing of this mailbox was throttled (over 1,000 such records in 24 " +
				"hours): some access is not recorded.")
		case n == "IsThrottled":
			p.itemSay("Auditing was not throttled: the record is complete.")
		default:
			p.itemSay("No description.")
		}
	})
}

func folders(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	if v.kind != kArray {
		p.say("Expected a list of folders, found %s.", v.kind)
		return
	}
	items := 0
	var paths []string
	for _, e := range v.elems {
		if fi := e.get("FolderItems"); fi != nil && fi.kind == kArray {
			items += len(fi.elems)
		}
		if pth := e.str("Path"); pth != "" && len(paths) < 5 {
			paths = append(paths, show(pth))
		}
	}
	p.say("The mailbox folders reached: %s, %s listed.", plural(len(v.elems), "folder"), plural(items, "message"))
	if len(paths) > 0 {
		p.say("Folders: %s.", strings.Join(paths, ", "))
	}
}

// recordTypeByName finds a record type by its name, ignoring case; the
// smallest number wins should two share a name.
func recordTypeByName(name string) (int, string, bool) {
	best, bestName := -1, ""
	for num, nm := range recordTypes {
		if strings.EqualFold(nm, name) && (best < 0 || num < best) {
			best, bestName = num, nm
		}
	}
	return best, bestName, best >= 0
}
