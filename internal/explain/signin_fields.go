package explain

import (
	"fmt"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// signInField is one fact of a sign-in record and how each export spells
// it.
type signInField struct {
	// names are its JSON spellings: Graph's camelCase (the first names
	// the fact); the PascalCase form of each (Log Analytics) is added.
	names []string
	// csv are header names (lower-case) besides the lower-cased JSON
	// spellings: the Entra admin center's download.
	csv []string
	h   handler
}

// The lookup tables, built by init from signInTable (a table that names
// its handlers cannot be a package variable's initial value: the handlers
// look fields up in it).
var (
	siHandlers  map[string]handler // fact → handler
	siJSONNames map[string]string  // JSON spelling → fact
	siCSVNames  map[string]string  // header name, lower-case → fact
)

func init() {
	table := []signInField{
		{names: []string{"id"}, csv: []string{"request id"}, h: onText(sstr, siID)},
		{names: []string{"originalRequestId"}, h: onText(sstr, siOrigID)},
		{names: []string{"correlationId"}, csv: []string{"correlation id"}, h: onText(sstr, siCorrelation)},
		{names: []string{"createdDateTime"}, csv: []string{"date (utc)", "date"}, h: onText(sstr, siTime)},
		{names: []string{"TimeGenerated"}, h: onText(sstr, siTime)},
		{names: []string{"time"}, h: onText(sstr, siTime)},
		{names: []string{"userPrincipalName"}, csv: []string{"username", "user principal name"}, h: onText(str, siUPN)},
		{names: []string{"userId"}, csv: []string{"user id"}, h: onText(sstr, siUserID)},
		{names: []string{"userDisplayName"}, csv: []string{"user"}, h: onText(sstr, siDisplayName)},
		{names: []string{"identity"}, h: onText(sstr, siDisplayName)},
		{names: []string{"alternateSignInName", "signInIdentifier"}, csv: []string{"sign-in identifier"}, h: onText(sstr, siAltName)},
		{names: []string{"userType"}, csv: []string{"user type"}, h: onText(sstr, siUserType)},
		{names: []string{"appId"}, csv: []string{"application id"}, h: onText(sstr, siAppID)},
		{names: []string{"appDisplayName"}, csv: []string{"application"}, h: onText(sstr, siAppName)},
		{names: []string{"appOwnerTenantId"}, csv: []string{"app owner tenant id"}, h: onText(sstr, siOwnerTenant)},
		{names: []string{"resourceId"}, csv: []string{"resource id"}, h: onText(sstr, siResourceID)},
		{names: []string{"resourceDisplayName"}, csv: []string{"resource"}, h: onText(sstr, siResourceName)},
		{names: []string{"resourceServicePrincipalId"}, h: simple(sstr, "The object id of the resource's service principal in the resource tenant.")},
		{names: []string{"resourceOwnerTenantId"}, csv: []string{"resource owner tenant id"}, h: onText(sstr, siOwnerTenant)},
		{names: []string{"homeTenantId"}, csv: []string{"home tenant id"}, h: onText(sstr, siHomeTenant)},
		{names: []string{"homeTenantName"}, csv: []string{"home tenant name"}, h: onText(sstr, siHomeTenantName)},
		{names: []string{"resourceTenantId"}, csv: []string{"resource tenant id"}, h: ourTenantField("The tenant of the resource signed in to: the organisation whose sign-in log this is "+
			"(ours). outsider takes it as our tenant, as OrganizationId in the Unified Audit Log.", "resourceTenantId")},
		{names: []string{"AADTenantId"}, h: ourTenantField("The Entra tenant the row comes from. outsider takes it as our tenant only when the row "+
			"has no ResourceTenantId.", "AADTenantId")},
		{names: []string{"tenantId"}, h: onText(sstr, siTenantID)},
		{names: []string{"crossTenantAccessType"}, csv: []string{"cross tenant access type"}, h: onText(sstr, siCrossTenant)},
		{names: []string{"status"}, h: siStatus},
		{csv: []string{"sign-in error code", "errorcode"}, h: siErrorCode},
		{csv: []string{"failure reason", "failurereason"}, h: siFailureReason},
		{names: []string{"resultType"}, h: siResultType},
		{names: []string{"resultDescription"}, h: onText(sstr, siResultDescription)},
		{names: []string{"conditionalAccessStatus"}, csv: []string{"conditional access"}, h: onText(sstr, siCAStatus)},
		{names: []string{"appliedConditionalAccessPolicies", "conditionalAccessPolicies"}, h: siCAPolicies},
		{names: []string{"riskLevelDuringSignIn"}, h: onText(sstr, siRiskLevel)},
		{names: []string{"riskLevelAggregated"}, h: onText(sstr, siRiskLevel)},
		{names: []string{"riskState"}, h: onText(sstr, siRiskState)},
		{names: []string{"riskDetail"}, h: simple(sstr, "Why the risk state is what it is (none when there is nothing to say).")},
		{names: []string{"riskEventTypes_v2", "riskEventTypes", "RiskEventTypes_V2"}, h: siRiskEvents},
		{names: []string{"isRisky"}, h: scalarField("Whether Microsoft Entra ID Protection flagged the sign-in as risky.")},
		{names: []string{"location"}, h: siLocation},
		{names: []string{"locationDetails"}, h: siLocation},
		{csv: []string{"city"}, h: simple(sstr, "The city Entra placed the address in (an estimate from the address).")},
		{csv: []string{"state"}, h: simple(sstr, "The state or region Entra placed the address in.")},
		{csv: []string{"country", "country or region", "countryorregion"}, h: simple(sstr, "The country Entra placed the address in.")},
		{names: []string{"ipAddress", "IPAddress"}, csv: []string{"ip address"}, h: onText(sstr, siIP)},
		{names: []string{"callerIpAddress"}, h: onText(sstr, siIP)},
		{names: []string{"ipAddressFromResourceProvider"}, csv: []string{"ip address (seen by resource)"}, h: onText(sstr, siIP)},
		{names: []string{"clientAppUsed"}, csv: []string{"client app"}, h: onText(sstr, siClientApp)},
		{names: []string{"userAgent"}, csv: []string{"user agent"}, h: onText(sstr, siUserAgent)},
		{names: []string{"isInteractive"}, h: siInteractive},
		{names: []string{"signInEventTypes"}, h: siEventTypes},
		{names: []string{"category"}, h: onText(sstr, siCategory)},
		{names: []string{"operationName"}, h: onText(sstr, siOperationName)},
		{names: []string{"authenticationRequirement"}, csv: []string{"authentication requirement"}, h: onText(sstr, siAuthRequirement)},
		{names: []string{"authenticationDetails"}, h: siAuthDetails},
		{names: []string{"deviceDetail"}, h: siDeviceDetail},
		{csv: []string{"device id"}, h: onText(sstr, siDeviceColumn)},
		{csv: []string{"browser"}, h: onText(sstr, siDeviceColumn)},
		{csv: []string{"operating system"}, h: onText(sstr, siDeviceColumn)},
		{csv: []string{"compliant"}, h: onText(sstr, siDeviceColumn)},
		{csv: []string{"managed"}, h: onText(sstr, siDeviceColumn)},
		{csv: []string{"join type"}, h: onText(sstr, siDeviceColumn)},
		{names: []string{"properties"}, h: siProperties},
		{names: []string{"servicePrincipalName"}, csv: []string{"service principal name"}, h: onText(sstr, siServicePrincipal)},
		{names: []string{"servicePrincipalId"}, csv: []string{"service principal id"}, h: onText(sstr, siServicePrincipal)},
		{names: []string{"sessionId"}, csv: []string{"session id"}, h: simple(sstr, "The sign-in session: the sign-ins of one session share it.")},
		{names: []string{"uniqueTokenIdentifier"}, csv: []string{"unique token identifier"}, h: simple(sstr, "The id of the token Entra issued.")},
		{names: []string{"tokenIssuerType"}, csv: []string{"token issuer type"}, h: simple(sstr, "Who issued the token: AzureAD is Entra ID itself, ADFederationServices an AD FS server.")},
		{names: []string{"autonomousSystemNumber"}, csv: []string{"autonomous system number", "autonomous system  number"}, h: scalarField("The network the address belongs to (its autonomous system number); outsider does not use it.")},
		{names: []string{"flaggedForReview"}, csv: []string{"flagged for review"}, h: scalarField("Whether an administrator flagged the sign-in for review.")},
	}
	siHandlers = map[string]handler{}
	siJSONNames = map[string]string{}
	siCSVNames = map[string]string{}
	for _, e := range table {
		key := ""
		if len(e.names) > 0 {
			key = strings.ToLower(e.names[0])
		} else {
			key = e.csv[0]
		}
		siHandlers[key] = e.h
		for _, n := range e.names {
			siJSONNames[n] = key
			siJSONNames[strings.ToUpper(n[:1])+n[1:]] = key
			siCSVNames[strings.ToLower(n)] = key
		}
		for _, n := range e.csv {
			siCSVNames[n] = key
		}
	}
}

// lookup finds the handler of a sign-in field and the fact it gives: JSON
// names as the decoder spells them, CSV header names trimmed, in any case,
// without Log Analytics' " [UTC]" suffix.
func (f *facts) lookup(name string) (handler, string) {
	var key string
	if f.si.csv {
		n := strings.ToLower(strings.TrimSpace(name))
		key = siCSVNames[strings.TrimSuffix(n, " [utc]")]
	} else {
		key = siJSONNames[name]
	}
	if key == "" {
		return nil, ""
	}
	return siHandlers[key], key
}

// factOf is the fact a field name gives.
func (f *facts) factOf(name string) string {
	_, key := f.lookup(name)
	return key
}

// sstr is str for sign-in fields, where an empty string means absent.
func sstr(p *printer, name string, v *value) (string, bool) {
	s, ok := str(p, name, v)
	if ok && strings.TrimSpace(s) == "" {
		p.say("Empty: the record leaves this field blank.")
		return "", false
	}
	return s, ok
}

// envelopeCopy reports whether the field is a diagnostic-settings record's
// own copy of a fact its properties give.
func envelopeCopy(f *facts) bool {
	return f.si.shape == shapeEventHub && f.si.level == 0 && f.rec != f.top
}

func siID(p *printer, f *facts, name, s string) {
	p.say("The sign-in's request id. The Unified Audit Log records the same sign-in (UserLoggedIn or " +
		"UserLoginFailed, RecordType 15) with this id as its IntraSystemId: outsider triage matches the " +
		"two logs on it and counts the sign-in once, keeping what only this log knows (location, " +
		"conditional access, risk). It also keeps one copy of a sign-in exported twice.")
	if !audit.IsGUID([]byte(strings.TrimSpace(s))) {
		p.say("It is not in the usual GUID form.")
	}
}

func siOrigID(p *printer, f *facts, name, s string) {
	p.say("The id of the first request of this sign-in; outsider takes it as the sign-in's id only " +
		"when id is missing.")
	if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(f.factText("id"))) {
		p.say("The same as id.")
	}
}

func siCorrelation(p *printer, f *facts, name, _ string) {
	if envelopeCopy(f) {
		p.say("The record's copy of the sign-in's correlationId (explained below).")
		return
	}
	p.say("Ties together the requests of one sign-in flow (the password, a prompt, MFA, the token). " +
		"The Unified Audit Log's record of this sign-in carries it as InterSystemsId; search either " +
		"log for it to see the other steps of the same sign-in.")
}

// noZone reports whether an ISO 8601 time has no zone ("2026-10-01T08:05:00").
func noZone(s string) bool {
	return len(s) == 19 || (len(s) > 19 && s[19] == '.' && !strings.ContainsAny(s[19:], "Zz+-"))
}

func siTime(p *printer, f *facts, name, s string) {
	key := f.factOf(name)
	used := f.si.timeKey == key
	what := "When the sign-in happened"
	switch key {
	case "timegenerated":
		what = "When Log Analytics received the row"
	case "time":
		what = "When diagnostic settings wrote the record"
	}
	s = strings.TrimSpace(s)
	// The sign-in decoder's own reading, locale dates included.
	ns, order, byFile := audit.ReadTime([]byte(s), f.si.dates)
	if order >= audit.DateAmbiguous {
		why := "not a time outsider can read"
		switch {
		case order == audit.DateAmbiguous && f.si.dates.Mixed():
			why = "a date whose day and month are both 12 or less, in a file whose other dates show both orders " +
				"(some can only be day first, others only month first), so nothing says which comes first and " +
				"outsider does not guess, nor does --date-order decide; the export as downloaded has ISO 8601 times"
		case order == audit.DateAmbiguous:
			why = "a date whose day and month are both 12 or less with nothing to say which comes first " +
				"(AM/PM does not: en-AU writes it day first), which outsider does not guess; --date-order " +
				"day-first or month-first states the order the file was written in, and the export as " +
				"downloaded has ISO 8601 times"
		}
		if used {
			p.say("%s, but %s: outsider triage skips this record.", what, why)
		} else {
			p.say("%s, but %s.", what, why)
		}
		return
	}
	utc := audit.FormatTime(ns)
	switch t := time.Unix(0, ns).UTC(); {
	case order == audit.DateMonthFirst && int(t.Month()) == t.Day():
		// Read month first, but nothing had to say so.
		p.say("%s: %s. A locale date whose day and month are the same, so their order does not matter, as "+
			"Excel or a Log Analytics CSV export writes it; outsider reads it as UTC.", what, utc)
	case order == audit.DateMonthFirst && byFile && f.si.dates.Seen() == 0:
		p.say("%s: %s. A locale date whose day and month are both 12 or less, read month first (the US order) "+
			"because --date-order month-first says so: no other date of the file shows an order; "+
			"outsider reads it as UTC.", what, utc)
	case order == audit.DateDayFirst && byFile && f.si.dates.Seen() == 0:
		p.say("%s: %s. A locale date whose day and month are both 12 or less, read day first because "+
			"--date-order day-first says so: no other date of the file shows an order; "+
			"outsider reads it as UTC.", what, utc)
	case order == audit.DateMonthFirst && byFile:
		p.say("%s: %s. A locale date whose day and month are both 12 or less, read month first (the US order) "+
			"because the file's other dates are: some have a second number over 12 and none a first%s; "+
			"outsider reads it as UTC.", what, utc, overruled(f.si.dates))
	case order == audit.DateMonthFirst:
		p.say("%s: %s. A locale date, month first (the US order: its second number is over 12, so only a day), as "+
			"Excel or a Log Analytics CSV export writes it; outsider reads it as UTC.", what, utc)
	case order == audit.DateDayFirst && byFile:
		p.say("%s: %s. A locale date whose day and month are both 12 or less, read day first because the "+
			"file's other dates are: some have a first number over 12 (or dots) and none a second%s; "+
			"outsider reads it as UTC.", what, utc, overruled(f.si.dates))
	case order == audit.DateDayFirst:
		p.say("%s: %s. A locale date, day first (a first number over 12, or dots, says so), as Excel "+
			"writes it outside the US; outsider reads it as UTC.", what, utc)
	case noZone(s):
		p.say("%s: %s. The value carries no time zone; Entra writes UTC, and outsider reads it as UTC.", what, utc)
	case strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z"):
		p.say("%s, in UTC: %s.", what, utc)
	default:
		p.say("%s; in UTC: %s.", what, utc)
	}
	switch {
	case key == "createddatetime":
	case used:
		p.say("The record has no createdDateTime, so outsider takes this as the sign-in's time.")
	default:
		p.say("outsider takes the sign-in's own createdDateTime instead.")
	}
}

func siUPN(p *printer, f *facts, name, s string) {
	u, kind, _ := audit.Canonical([]byte(s), nil)
	user := string(u)
	switch kind {
	case audit.UserUnusable:
		if placeholderName(s) {
			p.say("A placeholder or redaction marker, not an account name: it names nobody, so the " +
				"record cannot say who signed in. outsider groups such sign-ins by userId (or " +
				"homeTenantId) instead.")
			return
		}
		p.say("This names nobody, so the record cannot say who signed in. outsider groups such " +
			"sign-ins by userId (or homeTenantId) instead.")
		return
	case audit.UserGuest:
		host := string(audit.GuestHostDomain([]byte(s)))
		p.say("A B2B guest in its #EXT# form: the guest's own address is %s, and %s is the "+
			"domain of the tenant that invited it (ours). outsider classifies the account as guest.",
			show(user), show(host))
		return
	}
	p.say("The account that signed in: its user principal name (UPN), as its home tenant knows it. " +
		"The sign-in log writes a guest under its own address (bob@fabrikam.com), not in the #EXT# " +
		"form, so userType and crossTenantAccessType, not the UPN, tell a guest apart.")
	if f.outside() {
		p.say("For this sign-in it is the outside account's own UPN (callout B in Microsoft's guidance).")
	}
	if user != strings.TrimSpace(s) {
		p.say("outsider compares accounts in lower case: %s.", show(user))
	}
	if d := string(audit.Domain(u)); consumerDomains[d] {
		p.say("%s is a personal Microsoft account domain.", show(d))
	}
}

func siUserID(p *printer, f *facts, name, s string) {
	id := lowerTrim(s)
	if !audit.IsGUID([]byte(id)) {
		p.say("The account's object id, but not a GUID: outsider does not use it.")
		return
	}
	if audit.IsPlaceholderGUID([]byte(id)) {
		p.say("The account's object id, but a placeholder GUID (the nil GUID, or digits in pairs as " +
			"documentation writes them): it names no object, and outsider does not use it.")
		return
	}
	switch f.class {
	case classGuest:
		p.say("The object id of the guest's user object in our directory.")
	case classMember:
		p.say("The object id of the account's user object in our directory.")
	case classPassthrough, classExternalUnknown:
		if f.consumer {
			p.say("The account's id in the directory of personal Microsoft accounts: it names no " +
				"user object in ours.")
		} else {
			p.say("The account's object id in its home directory: it names no user object in ours.")
		}
	default:
		p.say("The object id of the account's user object, in the directory that holds it.")
	}
	if f.class == classExternalUnknown && strings.EqualFold(f.unknownKey, id) {
		p.say("With no usable userPrincipalName, outsider groups this account's sign-ins under this id.")
	}
}

func siDisplayName(p *printer, f *facts, name, _ string) {
	if f.factOf(name) == "identity" {
		p.say("The account's display name (diagnostic settings and Log Analytics call it identity). " +
			"Anyone can set a display name: it identifies nobody, and outsider does not use it.")
		return
	}
	p.say("The account's display name, from its home directory. Anyone can set a display name: it " +
		"identifies nobody, and outsider does not use it.")
}

func siAltName(p *printer, f *facts, name, s string) {
	p.say("What the user typed to sign in (a UPN, an email address, a phone number); outsider goes " +
		"by userPrincipalName.")
	if upn := strings.TrimSpace(f.factText("userprincipalname")); upn != "" && !strings.EqualFold(strings.TrimSpace(s), upn) {
		p.say("It differs from userPrincipalName (%s).", show(upn))
	}
}

func siUserType(p *printer, f *facts, name, s string) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "member":
		p.say("member: not a B2B guest. It does not make the account one of ours: an account from " +
			"another tenant that signs in by pass-through is written member too; homeTenantId and " +
			"crossTenantAccessType decide.")
	case "guest":
		p.say("guest: a B2B guest, with a user object in our directory that someone in the " +
			"organisation invited. outsider classifies the account as guest (docs/rules.md rule 2), " +
			"whatever its tenant.")
	case "unknownfuturevalue":
		p.say("unknownFutureValue: Graph's placeholder for a value the caller did not ask for; " +
			"outsider ignores it.")
	default:
		p.say("Not member or guest: outsider ignores it.")
		return
	}
	if t != strings.TrimSpace(s) {
		p.say("Written capitalised (diagnostic settings and Log Analytics do); outsider compares it " +
			"in lower case.")
	}
}

func siAppID(p *printer, f *facts, name, s string) {
	id := lowerTrim(s)
	p.say("The application the account signed in to, the client that asked Entra for a token " +
		"(ApplicationId in the Unified Audit Log; callout C in Microsoft's guidance).")
	if !audit.IsGUID([]byte(id)) {
		p.say("It is not an application id (a GUID).")
		return
	}
	if a, known := apps.Lookup(id); known {
		firstParty(p, a)
		if f.outside() {
			p.say("Entra ID allows pass-through authentication only for Microsoft first-party " +
				"applications, and this is one: as expected.")
		}
		return
	}
	p.say("NOT in outsider's catalogue of Microsoft first-party applications (%d ids): a "+
		"third-party or tenant-registered application, or a Microsoft one no source lists.", apps.Len())
	switch {
	case f.outside() && f.outcome == audit.Success:
		p.warn("this is a sign-in by an outside account to an application that is not Microsoft " +
			"first-party. Entra ID allows pass-through authentication only for first-party " +
			"applications; it should not happen for any other.")
	case f.outside():
		p.say("An outside account tried an application that is not Microsoft first-party; Entra ID " +
			"allows pass-through authentication only for first-party applications, and this " +
			"attempt did not succeed.")
	default:
		p.say("Entra ID allows pass-through authentication only for first-party applications; a " +
			"member or a guest may be assigned any application.")
	}
}

func siAppName(p *printer, f *facts, name, s string) {
	p.say("The application's name, as Entra shows it. The id, not the name, says which application " +
		"it is: a registered application can take any name.")
	switch {
	case f.appID == "" || !audit.IsGUID([]byte(f.appID)):
	case !f.appKnown:
		p.say("Its id is not a Microsoft first-party one, whatever the name says.")
	case f.app.Name != "" && !strings.EqualFold(strings.TrimSpace(s), f.app.Name):
		p.say("outsider's catalogue calls it %s.", textsafe.Terminal(f.app.Name))
	}
}

func siOwnerTenant(p *printer, f *facts, name, s string) {
	id := lowerTrim(s)
	what := "application"
	if f.factOf(name) == "resourceownertenantid" {
		what = "resource"
	}
	p.say("The tenant that owns the %s (where it is registered).", what)
	switch t, ms := apps.LookupTenant(id); {
	case ms:
		p.say("A Microsoft tenant, %s: %s", textsafe.Terminal(t.Label), textsafe.Terminal(t.Meaning))
	case f.ours[id]:
		p.say("%s: an application registered here.", capitalise(oursWord(f)))
	default:
		p.say("Another organisation's tenant: an application that organisation publishes to others.")
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func siResourceID(p *printer, f *facts, name, s string) {
	id := lowerTrim(s)
	switch {
	case strings.HasPrefix(id, "/tenants/"):
		p.say("The Azure resource id of the log itself (a tenant's Entra ID diagnostic logs), not what " +
			"the account signed in to; outsider does not use it.")
	case audit.IsGUID([]byte(id)):
		p.say("The resource (API) the token was for.")
		if nm, known := appWords(id); known {
			p.say("%s (a Microsoft first-party id).", nm)
		} else {
			p.say("Not in outsider's catalogue of Microsoft first-party applications.")
		}
		if id == f.appID {
			p.say("The same as appId: the application asked for a token to itself.")
		}
	default:
		p.say("The resource the token was for.")
	}
}

func siResourceName(p *printer, f *facts, name, _ string) {
	p.say("The resource's name, as Entra shows it.")
}

func siHomeTenant(p *printer, f *facts, name, s string) {
	p.say("The account's home tenant: the directory that holds its credentials and authenticated it " +
		"(ActorContextId in the Unified Audit Log).")
	homeTenantNotes(p, f, s, "resourceTenantId", " A home tenant that differs from the resource "+
		"tenant is Microsoft's own test for an account from outside in this log.")
}

func siHomeTenantName(p *printer, f *facts, name, s string) {
	p.say("The name of the account's home tenant. Entra fills it only when that tenant consented, " +
		"so it is often empty for accounts from elsewhere; the id is what counts.")
	if audit.IsPlaceholder([]byte(strings.TrimSpace(s))) {
		p.say("This one is a placeholder or redaction, not a name: outsider never names a partner by it.")
		return
	}
	p.say("outsider triage names the partner (the accounts of this home tenant) by the name most of " +
		"that tenant's sign-ins give (not for personal Microsoft accounts), unless --partner-names " +
		"names the tenant: the tenant's own words, shown as written.")
}

// ourTenantNotes says how a tenant id the record gives as ours relates to
// --tenant, and whether Microsoft owns it.
func ourTenantNotes(p *printer, f *facts, s string, used bool, homeField string) {
	id := lowerTrim(s)
	if notTenantID(p, s) {
		if used {
			p.say("outsider takes the record as having no tenant: it makes no tenant ours, and " +
				"--tenant does not leave the record out.")
		}
		return
	}
	if used {
		switch {
		case f.oursFlag && f.ours[id]:
			p.say("It is one of the tenants given with --tenant.")
		case f.oursFlag:
			p.warn("It is not one of the tenants given with --tenant: outsider triage leaves this " +
				"record out.")
		default:
			p.say("No --tenant was given, so this id is taken as ours when reading %s.", homeField)
		}
	}
	if t, ms := apps.LookupTenant(id); ms {
		p.say("It is a Microsoft tenant (%s).", textsafe.Terminal(t.Label))
	}
}

// ourTenantField explains a field that gives the tenant whose sign-in log
// this is (resourceTenantId, AADTenantId): what it is, then how it
// relates to --tenant when it is the field outsider takes ours from.
func ourTenantField(text, orgField string) handler {
	return func(p *printer, f *facts, name string, v *value) {
		s, ok := sstr(p, name, v)
		if !ok {
			return
		}
		p.say("%s", text)
		ourTenantNotes(p, f, s, f.si.orgField == orgField, "homeTenantId")
	}
}

func siTenantID(p *printer, f *facts, name, s string) {
	if name != "tenantId" || f.si.shape != shapeEventHub || f.si.level != 0 {
		p.say("In Log Analytics, the workspace's id, not an Entra tenant: outsider ignores it.")
		return
	}
	p.say("The Entra tenant that wrote the record. outsider takes it as our tenant only when the " +
		"sign-in has no resourceTenantId.")
	ourTenantNotes(p, f, s, f.si.orgField == "tenantId", "homeTenantId")
}

func siCrossTenant(p *printer, f *facts, name, s string) {
	p.say("How the account crossed from its tenant into ours: none, b2bCollaboration, " +
		"b2bDirectConnect, microsoftSupport, serviceProvider, passthrough or unknownFutureValue.")
	switch t := normToken(s); t {
	case "none":
		p.say("none: no tenant boundary was crossed; the account signed in to its own tenant.")
	case "passthrough":
		p.say("passthrough: an account from another tenant, or a personal Microsoft account, with " +
			"no user object here; its home tenant authenticated it and Entra let it through to a " +
			"Microsoft first-party application of ours (pass-through authentication). outsider " +
			"classifies it pass-through (docs/rules.md rule 3).")
		p.say("Graph returns passthrough only to a caller that sends the header Prefer: " +
			"include-unknown-enum-members; without it the same sign-in reads unknownFutureValue.")
	case "b2bcollaboration":
		p.say("b2bCollaboration: a B2B guest, invited into our tenant, with a user object here. " +
			"outsider classifies it guest (docs/rules.md rule 2).")
	case "b2bdirectconnect":
		p.say("b2bDirectConnect: an account of another tenant reaching a Teams shared channel of " +
			"ours through B2B direct connect, with no guest object here. outsider classifies it " +
			"pass-through (docs/rules.md rule 3).")
	case "serviceprovider":
		p.say("serviceProvider: a partner's administrator acting in our tenant through delegated " +
			"admin privileges (GDAP or DAP), with no user object here. outsider classifies it " +
			"pass-through (docs/rules.md rule 3).")
	case "microsoftsupport":
		p.say("microsoftSupport: Microsoft support staff acting in our tenant. outsider classifies " +
			"it pass-through (docs/rules.md rule 3).")
	case "unknownfuturevalue":
		p.say("unknownFutureValue: Graph's placeholder for a value the caller did not ask for. " +
			"Graph returns passthrough only to a caller that sends the header Prefer: " +
			"include-unknown-enum-members, so an export made without it shows pass-through " +
			"sign-ins as unknownFutureValue. outsider cannot tell which it was, and decides from " +
			"homeTenantId.")
	default:
		p.say("Not a value outsider knows; it decides from homeTenantId.")
	}
}

// codeSentence explains an error code (status.errorCode, ResultType, the
// download's Sign-in error code).
func codeSentence(v *value) string {
	s, ok := v.scalar()
	if !ok || v.kind == kNull || v.kind == kBool {
		return fmt.Sprintf("Expected an error number, found %s.", v.kind)
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "Empty: no error code."
	case s == "0":
		return "0: no error; Entra let the account in."
	case !isDigits(s):
		return "Not an AADSTS error number."
	}
	return codeWords(s)
}

// failureSentence explains status.failureReason.
func failureSentence(f *facts, v *value) string {
	s := ""
	if v.kind == kString {
		s = strings.TrimSpace(v.text)
	}
	switch {
	case s == "":
		return "Empty: no reason given."
	case s == "Other." && f.outcome == audit.Success:
		return "With error code 0 Entra writes \"Other.\" here: it means nothing."
	}
	return "Entra's description of the error; outsider names the error by its code."
}

func siStatus(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	obj := v
	switch v.kind {
	case kObject:
		p.say("The result: errorCode (0 = success), failureReason and additionalDetails.")
	case kString:
		t := strings.TrimSpace(v.text)
		if !strings.HasPrefix(t, "{") {
			siStatusText(p, t)
			return
		}
		o, err := parseJSON([]byte(t))
		switch {
		case err != nil:
			p.say("JSON text that does not parse (%s): outsider triage cannot read this record.", textsafe.Terminal(err.Error()))
			return
		case o.kind != kObject:
			p.say("JSON text of %s, not of an object; outsider does not use it.", o.kind)
			return
		}
		p.say("The result, as JSON text (Log Analytics writes its dynamic columns so): errorCode " +
			"(0 = success), failureReason and additionalDetails.")
		obj = o
	case kNull:
		p.say("null: the record gives no result here.")
		return
	default:
		p.say("Expected an object, found %s; outsider does not use it.", v.kind)
		return
	}
	for i, m := range obj.members {
		if p.more(i, len(obj.members)) {
			break
		}
		p.item(textsafe.Terminal(m.name) + ": " + display(m.val))
		switch m.name {
		case "errorCode", "ErrorCode":
			p.itemSay("%s", codeSentence(m.val))
		case "failureReason", "FailureReason":
			p.itemSay("%s", failureSentence(f, m.val))
		case "additionalDetails", "AdditionalDetails":
			if m.val.kind == kNull || (m.val.kind == kString && m.val.text == "") {
				p.itemSay("Nothing more.")
			} else {
				p.itemSay("More about the result, in Entra's words.")
			}
		default:
			p.itemSay("No description.")
		}
	}
}

// siStatusText explains a textual result: the download's Status column.
func siStatusText(p *printer, t string) {
	switch strings.ToLower(t) {
	case "success":
		p.say("Success: the download's word for error code 0.")
	case "failure":
		p.say("Failure: the download's word for a sign-in Entra refused.")
	case "interrupted":
		p.say("Interrupted: the download's word for a sign-in Entra stopped to ask for one more step.")
	default:
		p.say("The result, in words.")
	}
	p.say("outsider goes by the error code when the record has one, and by this only when it has none.")
}

func siErrorCode(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	p.say("%s", codeSentence(v))
}

func siFailureReason(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	p.say("%s", failureSentence(f, v))
}

func siResultType(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	if envelopeCopy(f) {
		p.say("The record's copy of the sign-in's error code (0 = success); outsider reads the " +
			"sign-in's own status.errorCode first.")
	} else {
		p.say("The error code, as diagnostic settings and Log Analytics write it (0 = success); " +
			"outsider reads it when status has no errorCode.")
	}
	p.say("%s", codeSentence(v))
}

func siResultDescription(p *printer, f *facts, name, _ string) {
	p.say("The error's description, as diagnostic settings and Log Analytics write it.")
}

func siCAStatus(p *printer, f *facts, name, s string) {
	p.say("What conditional access decided for this sign-in.")
	switch normToken(s) {
	case "success":
		p.say("success: the policies that applied were satisfied.")
	case "failure":
		p.say("failure: a policy blocked the sign-in, or the account did not meet a control it " +
			"requires.")
	case "notapplied":
		p.say("notApplied: no conditional access policy applied to this sign-in.")
	case "unknownfuturevalue":
		p.say("unknownFutureValue: Graph's placeholder for a value the caller did not ask for.")
	default:
		p.say("Not a documented value (success, failure, notApplied).")
	}
	p.say("outsider reports it with the account.")
}

// caResult explains one policy's result.
func caResult(r string) string {
	switch normToken(r) {
	case "success":
		return "Satisfied: its controls were met."
	case "failure":
		return "Not satisfied: it blocked the sign-in, or a control it requires was not met."
	case "notapplied":
		return "Did not apply: its conditions did not match this sign-in."
	case "notenabled":
		return "Switched off."
	case "reportonlysuccess":
		return "Report-only (not enforced): it would have been satisfied."
	case "reportonlyfailure":
		return "Report-only (not enforced): it would have blocked the sign-in or required a control."
	case "reportonlynotapplied":
		return "Report-only (not enforced): it would not have applied."
	case "reportonlyinterrupted":
		return "Report-only (not enforced): it would have asked for one more step."
	case "unknown", "unknownfuturevalue":
		return "Result not known."
	}
	return "Not a documented result."
}

// asArray returns v as an array: the array itself, or the one its JSON
// text holds (Log Analytics); nil otherwise.
func asArray(v *value) *value {
	return asKind(v, kArray, "[")
}

// listField writes the field line of a list of objects and returns the
// list (or the one its JSON text holds); nil, having said why, when there
// is no list of what, or when it is empty (none says so).
func listField(p *printer, name string, v *value, what, none string) *value {
	p.field(name, display(v))
	arr := asArray(v)
	if arr == nil {
		p.say("Expected a list of %s, found %s.", what, v.kind)
		return nil
	}
	if len(arr.elems) == 0 {
		p.say("%s", none)
		return nil
	}
	return arr
}

func siCAPolicies(p *printer, f *facts, name string, v *value) {
	arr := listField(p, name, v, "policies", "No conditional access policy is listed: none was evaluated, "+
		"or the export could not see them (Graph lists them only to applications with conditional access privileges).")
	if arr == nil {
		return
	}
	var order []string
	count := map[string]int{}
	for _, e := range arr.elems {
		r := e.str("result")
		if r == "" {
			r = "(no result)"
		}
		if count[r] == 0 && len(order) < maxItems {
			order = append(order, r)
		}
		count[r]++
	}
	var parts []string
	for _, r := range order {
		parts = append(parts, fmt.Sprintf("%d %s", count[r], show(r)))
	}
	p.say("The conditional access policies Entra evaluated for this sign-in: %d, with results %s.",
		len(arr.elems), strings.Join(parts, ", "))
	p.eachObject(arr, "Not a policy entry.", func(e *value) {
		nm := firstOf(e, "displayName", "id")
		if nm == "" {
			nm = "(unnamed policy)"
		}
		p.item(fmt.Sprintf("%s (%s)", show(nm), show(e.str("result"))))
		p.itemSay("%s", caResult(e.str("result")))
		if g := e.get("enforcedGrantControls"); g != nil && g.kind == kArray && len(g.elems) > 0 {
			var req []string
			for j, c := range g.elems {
				if j == maxItems {
					break
				}
				if c.kind == kString {
					req = append(req, show(c.text))
				}
			}
			if len(req) > 0 {
				p.itemSay("Grant controls it enforces: %s.", strings.Join(req, ", "))
			}
		}
	})
}

func siRiskLevel(p *printer, f *facts, name, s string) {
	if f.factOf(name) == "risklevelaggregated" {
		p.say("The risk of the sign-in as Microsoft Entra ID Protection judges it in the end, with " +
			"what it found after the sign-in too.")
	} else {
		p.say("The risk Microsoft Entra ID Protection gave this sign-in as it happened.")
	}
	switch normToken(s) {
	case "none":
		p.say("none: no risk detected.")
	case "low", "medium", "high":
		p.say("%s: ID Protection found signs that the sign-in may not be the account owner's (see "+
			"riskEventTypes and riskDetail).", show(strings.TrimSpace(s)))
	case "hidden":
		p.say("hidden: the level is not shown; Microsoft writes hidden when the user or sign-in is " +
			"not covered by ID Protection (which needs Entra ID P2).")
	case "unknownfuturevalue":
		p.say("unknownFutureValue: Graph's placeholder for a value the caller did not ask for.")
	default:
		p.say("Not a documented level (none, low, medium, high, hidden).")
	}
	p.say("outsider reports the level with the account (riskLevelDuringSignIn, else riskLevelAggregated).")
}

func siRiskState(p *printer, f *facts, name, s string) {
	switch normToken(s) {
	case "none":
		p.say("none: no risk to act on.")
	case "confirmedsafe":
		p.say("confirmedSafe: an administrator confirmed the sign-in was safe.")
	case "remediated":
		p.say("remediated: the risk was dealt with (the user changed the password or passed MFA).")
	case "dismissed":
		p.say("dismissed: an administrator dismissed the risk.")
	case "atrisk":
		p.say("atRisk: the account or the sign-in is still at risk.")
	case "confirmedcompromised":
		p.say("confirmedCompromised: an administrator confirmed the account was compromised.")
	default:
		p.say("The state of the risk (none, confirmedSafe, remediated, dismissed, atRisk, " +
			"confirmedCompromised).")
	}
}

// stringList reads an array of strings, or the JSON text of one.
func stringList(v *value) ([]string, bool) {
	arr := asArray(v)
	if arr == nil {
		return nil, false
	}
	var out []string
	for i, e := range arr.elems {
		if i == maxItems {
			out = append(out, fmt.Sprintf("and %d more", len(arr.elems)-maxItems))
			break
		}
		if s, ok := e.scalar(); ok {
			out = append(out, show(s))
		}
	}
	return out, true
}

func siRiskEvents(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	list, ok := stringList(v)
	switch {
	case !ok:
		p.say("Expected a list of risk detections, found %s.", v.kind)
	case len(list) == 0:
		p.say("No risk detection on this sign-in.")
	default:
		p.say("The risk detections on this sign-in: %s.", strings.Join(list, ", "))
	}
}

func siLocation(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	obj := v
	switch v.kind {
	case kObject:
	case kString:
		t := strings.TrimSpace(v.text)
		switch {
		case strings.HasPrefix(t, "{"):
			if obj = asObject(v); obj == nil {
				p.say("JSON text that does not parse: outsider does not use it.")
				return
			}
		case t == "":
			p.say("Empty: no location.")
			return
		case strings.Contains(t, ","):
			p.say("City, state, country: where Entra placed the IP address (an estimate from the " +
				"address, not from the device). outsider reports it with the account.")
			return
		case len(t) == 2:
			p.say("A country code: where Entra placed the IP address. Diagnostic settings and Log " +
				"Analytics write the country here and the details elsewhere (LocationDetails, location).")
			return
		default:
			p.say("Where Entra placed the IP address.")
			return
		}
	case kNull:
		p.say("null: no location.")
		return
	default:
		p.say("Expected an object, found %s; outsider does not use it.", v.kind)
		return
	}
	p.say("Where Entra placed the IP address (city, state, country or region): an estimate from " +
		"the address, not from the device. outsider reports it with the account.")
	for i, m := range obj.members {
		if p.more(i, len(obj.members)) {
			break
		}
		if m.name == "geoCoordinates" && m.val.kind == kObject {
			lat, lon := m.val.get("latitude"), m.val.get("longitude")
			if lat != nil && lon != nil {
				p.item(fmt.Sprintf("%s: latitude %s, longitude %s", textsafe.Terminal(m.name), display(lat), display(lon)))
				continue
			}
		}
		p.item(textsafe.Terminal(m.name) + ": " + display(m.val))
	}
}

func siIP(p *printer, f *facts, name, s string) {
	used := true
	switch f.factOf(name) {
	case "ipaddressfromresourceprovider":
		p.say("The address the resource saw, which can differ from the one Entra saw (a proxy); " +
			"outsider does not use it.")
		used = false
	case "calleripaddress":
		p.say("The record's copy of the client's address; outsider uses it only when the sign-in " +
			"has no ipAddress.")
		if used = f.factText("ipaddress") == ""; used {
			p.say("The sign-in has none, so outsider uses this one.")
		}
	default:
		p.say("The address of the client, as Entra saw it.")
	}
	ipNotes(p, f, name, s, used)
}

// legacyClients are clientAppUsed values of legacy authentication.
var legacyClients = map[string]bool{
	"exchange activesync": true, "imap4": true, "imap": true, "pop3": true, "pop": true, "smtp": true,
	"authenticated smtp": true, "mapi over http": true, "mapi": true, "offline address book": true,
	"other clients": true, "autodiscover": true, "exchange web services": true,
	"exchange online powershell": true, "outlook anywhere (rpc over http)": true, "reporting web services": true,
}

func siClientApp(p *printer, f *facts, name, s string) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch {
	case l == "browser":
		p.say("A web browser (modern authentication).")
	case l == "mobile apps and desktop clients":
		p.say("An app using modern authentication (Outlook, Teams, OneDrive and the like).")
	case legacyClients[l]:
		p.say("Legacy authentication: it cannot do multi-factor authentication, and is a common " +
			"route for password spraying.")
	default:
		p.say("The kind of client, as Entra classes it.")
	}
	p.say("outsider reports the client apps with the account.")
}

func siUserAgent(p *printer, f *facts, name, s string) {
	explainUserAgent(p.say, s)
}

func siInteractive(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	s, _ := v.scalar()
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		p.say("true: an interactive sign-in: the user was at a sign-in prompt (a password, MFA).")
	case "false":
		p.say("false: a non-interactive sign-in: a client signed in on the user's behalf with a " +
			"token or session it already had, without a prompt.")
	default:
		p.say("Expected true or false; outsider goes by signInEventTypes or the category instead.")
	}
}

var eventTypeWords = map[string]string{
	"interactiveuser":    "a user at a sign-in prompt",
	"noninteractiveuser": "a client on a user's behalf, without a prompt",
	"serviceprincipal":   "an application signing in as itself",
	"managedidentity":    "an Azure managed identity",
}

func siEventTypes(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	list, ok := stringList(v)
	if !ok {
		if v.kind == kString && strings.TrimSpace(v.text) != "" {
			list = []string{show(strings.TrimSpace(v.text))}
		} else {
			p.say("Expected a list, found %s.", v.kind)
			return
		}
	}
	var words []string
	for _, t := range list {
		if w, known := eventTypeWords[normToken(t)]; known {
			words = append(words, t+" ("+w+")")
		} else {
			words = append(words, t)
		}
	}
	if len(words) == 0 {
		p.say("Empty: the kind of sign-in is not given.")
		return
	}
	p.say("The kind of sign-in: %s. outsider reads the first.", strings.Join(words, ", "))
}

func siCategory(p *printer, f *facts, name, s string) {
	switch normToken(s) {
	case "signinlogs":
		p.say("SignInLogs: the interactive user sign-ins.")
	case "noninteractiveusersigninlogs":
		p.say("NonInteractiveUserSignInLogs: sign-ins a client made on a user's behalf without a " +
			"prompt (a token or session it already had).")
	case "serviceprincipalsigninlogs":
		p.say("ServicePrincipalSignInLogs: applications signing in as themselves, with no user.")
	case "managedidentitysigninlogs":
		p.say("ManagedIdentitySignInLogs: Azure managed identities signing in.")
	case "signin":
		p.say("SignIn: the category name Microsoft's schema page gives sign-ins.")
	default:
		p.warn("not a sign-in log category: outsider triage skips this record.")
	}
}

func siOperationName(p *printer, f *facts, name, s string) {
	if strings.EqualFold(strings.TrimSpace(s), "Sign-in activity") {
		p.say("Every sign-in record says this; it names the log, not the result.")
		return
	}
	p.say("The operation, as diagnostic settings name it.")
}

func siAuthRequirement(p *printer, f *facts, name, s string) {
	switch normToken(s) {
	case "singlefactorauthentication":
		p.say("Single-factor: one factor (a password, or a token obtained with one) was enough.")
	case "multifactorauthentication":
		p.say("Multi-factor: the sign-in needed a second factor (MFA), by policy or by the " +
			"account's own settings.")
	default:
		p.say("The authentication the sign-in needed.")
	}
	p.say("It is the strongest authentication any step of the sign-in required, not a proof of what " +
		"the user did.")
}

func siAuthDetails(p *printer, f *facts, name string, v *value) {
	arr := listField(p, name, v, "steps", "No step is listed.")
	if arr == nil {
		return
	}
	p.say("How the account authenticated, step by step (%s).", plural(len(arr.elems), "step"))
	p.eachObject(arr, "Not a step.", func(e *value) {
		m := e.str("authenticationMethod")
		if m == "" {
			m = "(no method)"
		}
		line := show(m)
		if sv := e.get("succeeded"); sv != nil {
			if s, ok := sv.scalar(); ok {
				switch strings.ToLower(s) {
				case "true":
					line += ": succeeded"
				case "false":
					line += ": failed"
				}
			}
		}
		p.item(line)
		if d := e.str("authenticationStepResultDetail"); d != "" {
			p.itemSay("%s", show(d))
		}
	})
}

// deviceWords explains one device fact (deviceDetail's fields, the
// download's device columns), by its Graph name in lower case.
func deviceWords(key, val string) string {
	val = strings.TrimSpace(val)
	switch key {
	case "deviceid", "device id":
		if val == "" {
			return "Empty: the device is not known to our tenant (as usual for an outside account's device)."
		}
		return "The device's id, in the tenant that knows it."
	case "displayname":
		return "The device's name, when the tenant knows it."
	case "operatingsystem", "operating system", "browser":
		return "As the client reported it (it can claim anything)."
	case "iscompliant", "compliant":
		return "Whether the device meets the tenant's compliance policy (false for a device the tenant does not manage)."
	case "ismanaged", "managed":
		return "Whether the tenant manages the device."
	case "trusttype", "join type":
		if val == "" {
			return "Empty: the device is neither joined to nor registered with the tenant."
		}
		return "How the device is known to the tenant (joined, hybrid joined, registered)."
	}
	return "No description."
}

func siDeviceDetail(p *printer, f *facts, name string, v *value) {
	p.field(name, display(v))
	obj := asObject(v)
	if obj == nil {
		p.say("Expected an object, found %s.", v.kind)
		return
	}
	if v.kind == kString {
		p.say("The device, as JSON text: as the client reported it and as the tenant knows it.")
	} else {
		p.say("The device, as the client reported it and as the tenant knows it.")
	}
	for i, m := range obj.members {
		if p.more(i, len(obj.members)) {
			break
		}
		p.item(textsafe.Terminal(m.name) + ": " + display(m.val))
		val, _ := m.val.scalar()
		p.itemSay("%s", deviceWords(strings.ToLower(m.name), val))
	}
}

func siDeviceColumn(p *printer, f *facts, name, s string) {
	p.say("%s", deviceWords(f.factOf(name), s))
}

func siProperties(p *printer, f *facts, name string, v *value) {
	if v.kind == kString {
		p.field(name, fmt.Sprintf("(JSON text of %d bytes)", len(v.text)))
	} else {
		p.field(name, display(v))
	}
	switch {
	case f.si.level != 0 || f.si.shape != shapeEventHub:
		p.say("outsider does not read a properties field here.")
	case v != f.top.get("properties"):
		p.say("Another copy of properties; the last one is the sign-in explained below.")
	case f.si.propsErr != "":
		p.say("It should hold the sign-in, but %s: outsider triage cannot read the sign-in.", textsafe.Terminal(f.si.propsErr))
	default:
		p.say("The sign-in itself, a Graph signIn object: explained field by field below.")
	}
}

func siServicePrincipal(p *printer, f *facts, name, _ string) {
	p.say("A service principal: an application signing in as itself, with no user. outsider names " +
		"such a sign-in by it when there is no userPrincipalName, and counts it as our tenant's own.")
}

// overruled says that the file's own dates outranked --date-order, when
// they did.
func overruled(e localedate.Evidence) string {
	if !e.Contradicts() {
		return ""
	}
	if e.Stated() == localedate.DayFirst {
		return " (they outrank --date-order day-first)"
	}
	return " (they outrank --date-order month-first)"
}
