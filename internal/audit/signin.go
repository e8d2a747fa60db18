package audit

// The Entra ID sign-in log decoder. One sign-in record, in any of the
// shapes its exports take, becomes an Event whose common fields say what
// a UAL UserLoggedIn says (Operation "SignIn", UserID, ActorTenant, OrgID,
// AppID, ErrorNumber, IPs, ID, Time) and whose sign-in fields keep what
// only the sign-in log knows (event.go). Sources, by shape:
//
//   - Microsoft Graph signIn, camelCase, v1.0 and beta
//     (microsoftgraph/microsoft-graph-docs-contrib
//     api-reference/v1.0/resources/signin.md and
//     api-reference/beta/resources/signin.md): id, createdDateTime,
//     userPrincipalName, userId, userType (member, guest), appId,
//     appDisplayName, ipAddress, homeTenantId, homeTenantName (beta:
//     "only populated in cases where the home tenant has provided
//     affirmative consent", and never across tenants: see
//     Event.HomeTenantName), resourceTenantId,
//     crossTenantAccessType (none, b2bCollaboration, b2bDirectConnect,
//     microsoftSupport, serviceProvider, unknownFutureValue, passthrough:
//     passthrough only with "Prefer: include-unknown-enum-members"),
//     status {errorCode, failureReason, additionalDetails}, location {city,
//     state, countryOrRegion, geoCoordinates}, conditionalAccessStatus,
//     riskLevelDuringSignIn, riskLevelAggregated, clientAppUsed, userAgent,
//     correlationId, originalRequestId, isInteractive, signInEventTypes,
//     servicePrincipalId, servicePrincipalName. The Entra admin center's
//     JSON download has the same objects (MicrosoftDocs/entra-docs
//     docs/identity/monitoring-health/reference-sign-ins-log-schema.md).
//   - Diagnostic settings / Event Hub records (MicrosoftDocs/azure-docs
//     articles/active-directory/reports-monitoring/reference-azure-monitor-sign-ins-log-schema.md):
//     {"time", "category" (SignInLogs, NonInteractiveUserSignInLogs,
//     ServicePrincipalSignInLogs, ManagedIdentitySignInLogs), "tenantId",
//     "resultType", "resultDescription", "callerIpAddress", "correlationId",
//     "location" (country), "properties": {the Graph fields; userType
//     written "Member"}}. The record's own fields are fallbacks for those
//     of properties.
//   - Log Analytics SigninLogs and AADNonInteractiveUserSignInLogs rows
//     (MicrosoftDocs/azure-reference-other
//     azure-monitor-ref/tables/includes/signinlogs-include.md and
//     aadnoninteractiveusersigninlogs-include.md): the Graph names in
//     PascalCase (Id, CreatedDateTime, UserPrincipalName, HomeTenantId,
//     HomeTenantName, ResourceTenantId, CrossTenantAccessType, IPAddress, AppId, UserType,
//     ConditionalAccessStatus, ClientAppUsed, CorrelationId,
//     OriginalRequestId, IsInteractive, Category...), plus TimeGenerated,
//     AADTenantId (the Entra tenant; TenantId is the Log Analytics
//     workspace and is ignored), ResultType (the error code as text,
//     "0" = success), ResultDescription, Location (the country code) and
//     the dynamic columns Status and LocationDetails (objects, or their
//     JSON text as in CSV and some JSON exports). Get-MgAuditLogSignIn |
//     ConvertTo-Json objects (PascalCase, nested objects) read the same.
//   - The Entra admin center's CSV download (see SignInColumns).

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// siField names a sign-in fact, whatever a format calls it.
type siField uint8

const (
	sfNone siField = iota
	sfID
	sfOrigID
	sfCreated
	sfTimeGen
	sfTimeEH
	sfUPN
	sfUserID
	sfUserType
	sfAppID
	sfAppName
	sfIP
	sfCallerIP
	sfHome
	sfHomeName
	sfResource
	sfAADTenant
	sfTenantEH
	sfCTAT
	sfStatus
	sfErrorCode
	sfResultType
	sfFailure
	sfResultDesc
	sfLocation
	sfLocationDetails
	sfCity
	sfState
	sfCountry
	sfCAStatus
	sfRiskDuring
	sfRiskAgg
	sfClientApp
	sfUA
	sfCorrelation
	sfInteractive
	sfCategory
	sfSPName
	sfSPID
	sfEventTypes
	sfProperties
	sfCount
)

// signInKey maps a JSON key to its fact. level 0 is the record itself,
// level 1 an Event Hub record's properties, where the envelope's own keys
// (time, tenantId, callerIpAddress, resultType...) mean nothing.
func signInKey(k []byte, level int) siField {
	switch string(k) {
	case "id", "Id":
		return sfID
	case "originalRequestId", "OriginalRequestId":
		return sfOrigID
	case "createdDateTime", "CreatedDateTime":
		return sfCreated
	case "TimeGenerated":
		return sfTimeGen
	case "userPrincipalName", "UserPrincipalName":
		return sfUPN
	case "userId", "UserId":
		return sfUserID
	case "userType", "UserType":
		return sfUserType
	case "appId", "AppId":
		return sfAppID
	case "appDisplayName", "AppDisplayName":
		return sfAppName
	case "ipAddress", "IPAddress", "IpAddress":
		return sfIP
	case "homeTenantId", "HomeTenantId":
		return sfHome
	case "homeTenantName", "HomeTenantName":
		return sfHomeName
	case "resourceTenantId", "ResourceTenantId":
		return sfResource
	case "AADTenantId":
		return sfAADTenant
	case "crossTenantAccessType", "CrossTenantAccessType":
		return sfCTAT
	case "status", "Status":
		return sfStatus
	case "ResultType", "resultType":
		return sfResultType
	case "ResultDescription", "resultDescription":
		return sfResultDesc
	case "location", "Location":
		return sfLocation
	case "LocationDetails":
		return sfLocationDetails
	case "conditionalAccessStatus", "ConditionalAccessStatus":
		return sfCAStatus
	case "riskLevelDuringSignIn", "RiskLevelDuringSignIn":
		return sfRiskDuring
	case "riskLevelAggregated", "RiskLevelAggregated":
		return sfRiskAgg
	case "clientAppUsed", "ClientAppUsed":
		return sfClientApp
	case "userAgent", "UserAgent":
		return sfUA
	case "correlationId", "CorrelationId":
		return sfCorrelation
	case "isInteractive", "IsInteractive":
		return sfInteractive
	case "category", "Category":
		return sfCategory
	case "servicePrincipalName", "ServicePrincipalName":
		return sfSPName
	case "servicePrincipalId", "ServicePrincipalId":
		return sfSPID
	case "signInEventTypes", "SignInEventTypes":
		return sfEventTypes
	}
	if level == 0 {
		switch string(k) {
		case "time":
			return sfTimeEH
		case "tenantId":
			return sfTenantEH
		case "callerIpAddress":
			return sfCallerIP
		case "properties":
			return sfProperties
		}
	}
	return sfNone
}

// signInColumn maps a CSV column name, lower-cased and trimmed, with Log
// Analytics' " [utc]" suffix removed, to its fact: the Entra admin
// center's download names and the Log Analytics column names.
func signInColumn(name string) siField {
	switch name {
	// The Entra admin center's download.
	case "date (utc)":
		return sfCreated
	case "request id":
		return sfID
	case "user agent":
		return sfUA
	case "correlation id":
		return sfCorrelation
	case "user id":
		return sfUserID
	case "username":
		return sfUPN
	case "user type":
		return sfUserType
	case "cross tenant access type":
		return sfCTAT
	case "application":
		return sfAppName
	case "application id":
		return sfAppID
	case "resource tenant id":
		return sfResource
	case "home tenant id":
		return sfHome
	case "home tenant name":
		return sfHomeName
	case "ip address":
		return sfIP
	case "sign-in error code":
		return sfErrorCode
	case "failure reason":
		return sfFailure
	case "client app":
		return sfClientApp
	case "conditional access":
		return sfCAStatus
	case "service principal id":
		return sfSPID
	case "service principal name":
		return sfSPName
	// Log Analytics (and older exports with plain City/Country columns).
	case "id":
		return sfID
	case "originalrequestid":
		return sfOrigID
	case "createddatetime":
		return sfCreated
	case "timegenerated":
		return sfTimeGen
	case "userprincipalname":
		return sfUPN
	case "userid":
		return sfUserID
	case "usertype":
		return sfUserType
	case "appid":
		return sfAppID
	case "appdisplayname":
		return sfAppName
	case "ipaddress":
		return sfIP
	case "hometenantid":
		return sfHome
	case "hometenantname":
		return sfHomeName
	case "resourcetenantid":
		return sfResource
	case "aadtenantid":
		return sfAADTenant
	case "crosstenantaccesstype":
		return sfCTAT
	case "status":
		return sfStatus
	case "resulttype":
		return sfResultType
	case "resultdescription":
		return sfResultDesc
	case "location":
		return sfLocation
	case "locationdetails":
		return sfLocationDetails
	case "city":
		return sfCity
	case "state":
		return sfState
	case "country", "country or region", "countryorregion":
		return sfCountry
	case "conditionalaccessstatus":
		return sfCAStatus
	case "risklevelduringsignin":
		return sfRiskDuring
	case "risklevelaggregated":
		return sfRiskAgg
	case "clientappused":
		return sfClientApp
	case "useragent":
		return sfUA
	case "correlationid":
		return sfCorrelation
	case "isinteractive":
		return sfInteractive
	case "category":
		return sfCategory
	case "serviceprincipalname":
		return sfSPName
	case "serviceprincipalid":
		return sfSPID
	case "signineventtypes":
		return sfEventTypes
	}
	return sfNone
}

// signInState holds what a record says before the fallbacks between its
// fields are settled. It lives on the decoder's caller's stack.
type signInState struct {
	created, timeGen, timeEH  []byte
	id, origID                []byte
	errCode, resultType       []byte
	statusText                []byte
	resultDesc                []byte
	resource, aad, tenantEH   []byte
	ip, callerIP              []byte
	country, countryFallback  []byte
	riskDuring, riskAgg       []byte
	category, eventType       []byte
	spName, spID              []byte
	interactive               int8 // -1 unknown, 0 false, 1 true
	hasCreated, hasTimeGen    bool
	hasTimeEH                 bool
	createdField, timeGenName string
}

var (
	opSignIn = []byte("SignIn")
	zeroCode = []byte("0")
	// statusInterrupted is the Status a sign-in without an error code
	// has when Entra shows it as interrupted.
	statusInterrupted = []byte("Interrupted")
	// Event.Interactive points at one of these; nobody writes through it.
	boolTrue  = true
	boolFalse = false
)

// DecodeSignIn is DecodeSignInKeep reusing the arena: the Event's byte
// fields are valid until the next call.
func (d *Decoder) DecodeSignIn(data []byte, ev *Event) error {
	d.arena = d.arena[:0]
	return d.DecodeSignInKeep(data, ev)
}

// DecodeSignInKeep fills ev from one Entra ID sign-in log record in JSON:
// a Graph signIn object (camelCase), a diagnostic settings / Event Hub
// record (its properties hold the signIn), or a Log Analytics row
// (PascalCase, dynamic columns as objects or JSON text). Like DecodeKeep
// it reads only the fields the engine needs in one pass, points into data
// or the decoder's arena (kept until ResetArena), and is lenient with
// wrong types in fields that matter little; a record that is not a JSON
// object, is truncated, or has no time is an error.
func (d *Decoder) DecodeSignInKeep(data []byte, ev *Event) error {
	ev.Reset()
	st := signInState{interactive: -1}
	// Nested JSON text (signInJSONText) gets its own scanner without
	// bitmaps, so these stay valid for the whole record.
	s := d.scanner(data)
	if err := d.signInObject(&s, ev, &st, 0); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.data) {
		return decodeErr("unexpected %s after the record", s.what())
	}
	return d.finishSignIn(ev, &st)
}

// signInObject decodes the fields of one record object (level 0) or of an
// Event Hub record's properties (level 1).
func (d *Decoder) signInObject(s *scanner, ev *Event, st *signInState, level int) error {
	if err := s.starts('{', "record"); err != nil {
		return err
	}
	s.i++
	for first := true; ; first = false {
		s.ws()
		if s.i >= len(s.data) {
			return decodeErr("truncated record")
		}
		if s.data[s.i] == '}' {
			s.i++
			return nil
		}
		if !first {
			if s.data[s.i] != ',' {
				return decodeErr("expected ',' or '}' at byte %d, found %s", s.i, s.what())
			}
			s.i++
			s.ws()
		}
		key, err := d.key(s)
		if err != nil {
			return err
		}
		f := signInKey(key, level)
		switch f {
		case sfNone:
			err = s.skip(d)
		case sfCreated, sfTimeGen, sfTimeEH, sfUPN, sfID:
			// The fields a record cannot do without must be strings.
			var b []byte
			if b, err = d.needString(s, keyName(f, key)); err == nil {
				err = d.setSignIn(st, ev, f, b)
				d.noteTimeField(st, f, key)
			}
		case sfErrorCode, sfResultType:
			var b []byte
			if b, err = d.scalarText(s); err == nil {
				err = d.setSignIn(st, ev, f, b)
			}
		case sfInteractive:
			err = d.signInBool(s, st)
		case sfEventTypes:
			err = d.signInEventTypes(s, st)
		case sfStatus, sfLocation, sfLocationDetails, sfProperties:
			err = d.signInNested(s, ev, st, f, level)
		default:
			var b []byte
			if b, err = d.looseString(s); err == nil {
				err = d.setSignIn(st, ev, f, b)
			}
		}
		if err != nil {
			return err
		}
	}
}

// noteTimeField remembers how the record spells its time field, for
// error messages.
func (d *Decoder) noteTimeField(st *signInState, f siField, key []byte) {
	switch f {
	case sfCreated:
		if st.createdField == "" {
			st.createdField = timeFieldName(key)
		}
	case sfTimeGen:
		st.timeGenName = "TimeGenerated"
	}
}

// keyName names a required field for error messages without converting
// the key (which would allocate for every record).
func keyName(f siField, key []byte) string {
	pascal := len(key) > 0 && 'A' <= key[0] && key[0] <= 'Z'
	switch f {
	case sfCreated:
		return timeFieldName(key)
	case sfTimeGen:
		return "TimeGenerated"
	case sfTimeEH:
		return "time"
	case sfUPN:
		if pascal {
			return "UserPrincipalName"
		}
		return "userPrincipalName"
	}
	if pascal {
		return "Id"
	}
	return "id"
}

// timeFieldName returns the constant spelling of a time key (no
// allocation for the names the decoder knows).
func timeFieldName(key []byte) string {
	if string(key) == "CreatedDateTime" {
		return "CreatedDateTime"
	}
	return "createdDateTime"
}

// signInBool reads isInteractive: true/false, or a string "True"/"false".
func (d *Decoder) signInBool(s *scanner, st *signInState) error {
	if s.i >= len(s.data) {
		return decodeErr("truncated record")
	}
	switch s.data[s.i] {
	case 't':
		st.interactive = 1
	case 'f':
		st.interactive = 0
	case '"':
		b, err := d.str(s)
		if err != nil {
			return err
		}
		st.interactive = parseBool(b)
		return nil
	}
	return s.skip(d)
}

func parseBool(b []byte) int8 {
	switch {
	case bytes.EqualFold(b, []byte("true")):
		return 1
	case bytes.EqualFold(b, []byte("false")):
		return 0
	}
	return -1
}

// signInEventTypes reads signInEventTypes (an array of strings, or in Log
// Analytics its JSON text) and keeps the first.
func (d *Decoder) signInEventTypes(s *scanner, st *signInState) error {
	if s.i >= len(s.data) {
		return decodeErr("truncated record")
	}
	switch s.data[s.i] {
	case '"':
		b, err := d.str(s)
		if err != nil {
			return err
		}
		st.eventType = firstJSONString(b)
		return nil
	case '[':
	default:
		return s.skip(d)
	}
	s.i++
	for first := true; ; first = false {
		s.ws()
		if s.i >= len(s.data) {
			return decodeErr("signInEventTypes: truncated array")
		}
		if s.data[s.i] == ']' {
			s.i++
			return nil
		}
		if !first {
			if s.data[s.i] != ',' {
				return decodeErr("signInEventTypes: expected ',' or ']', found %s", s.what())
			}
			s.i++
			s.ws()
		}
		if s.i < len(s.data) && s.data[s.i] == '"' {
			b, err := d.str(s)
			if err != nil {
				return err
			}
			if st.eventType == nil {
				st.eventType = b
			}
		} else if err := s.skip(d); err != nil {
			return err
		}
	}
}

// firstJSONString returns the first quoted word of a short JSON text such
// as `["interactiveUser"]` (Log Analytics' rendering of an array), or the
// text itself when it has no quote.
func firstJSONString(b []byte) []byte {
	i := bytes.IndexByte(b, '"')
	if i < 0 {
		return bytes.TrimSpace(b)
	}
	j := bytes.IndexByte(b[i+1:], '"')
	if j < 0 {
		return nil
	}
	return b[i+1 : i+1+j]
}

// signInNested reads status, location, LocationDetails or an Event Hub
// record's properties: an object, or (Log Analytics) the JSON text of one
// in a string, or for status and location plain text (the Entra
// download's "Success", Log Analytics' country code).
func (d *Decoder) signInNested(s *scanner, ev *Event, st *signInState, f siField, level int) error {
	if s.i >= len(s.data) {
		return decodeErr("truncated record")
	}
	switch s.data[s.i] {
	case '{':
		if f == sfProperties {
			return d.signInObject(s, ev, st, level+1)
		}
		return d.signInSub(s, ev, st, f)
	case '"':
		b, err := d.str(s)
		if err != nil {
			return err
		}
		return d.setSignIn(st, ev, f, b)
	}
	// null, or a wrong type: nothing to learn.
	return s.skip(d)
}

// signInSub reads a status or location object.
func (d *Decoder) signInSub(s *scanner, ev *Event, st *signInState, f siField) error {
	name := subName(f)
	return d.fields(s, name, func(k []byte) (err error) {
		var sub siField
		switch f {
		case sfStatus:
			switch string(k) {
			case "errorCode", "ErrorCode":
				var b []byte
				if b, err = d.scalarText(s); err == nil {
					st.errCode = b
				}
				return err
			case "failureReason", "FailureReason":
				sub = sfFailure
			}
		default:
			switch string(k) {
			case "city", "City":
				sub = sfCity
			case "state", "State":
				sub = sfState
			case "countryOrRegion", "CountryOrRegion":
				sub = sfCountry
			}
		}
		if sub == sfNone {
			return s.skip(d)
		}
		var b []byte
		if b, err = d.looseString(s); err == nil {
			err = d.setSignIn(st, ev, sub, b)
		}
		return err
	})
}

func subName(f siField) string {
	switch f {
	case sfStatus:
		return "status"
	case sfLocationDetails:
		return "LocationDetails"
	case sfProperties:
		return "properties"
	}
	return "location"
}

// signInJSONText decodes the JSON text of a dynamic column (status,
// location, properties) held in a string or a CSV field.
func (d *Decoder) signInJSONText(ev *Event, st *signInState, f siField, text []byte) error {
	if !utf8.Valid(text) {
		return decodeErr("%s: invalid UTF-8", subName(f))
	}
	s := scanner{data: text}
	s.ws()
	var err error
	if f == sfProperties {
		err = d.signInObject(&s, ev, st, 1)
	} else {
		err = d.signInSub(&s, ev, st, f)
	}
	if err != nil {
		return errors.New(subName(f) + ": " + err.Error())
	}
	s.ws()
	if s.i < len(s.data) {
		return decodeErr("%s: unexpected %s after the object", subName(f), s.what())
	}
	return nil
}

// setSignIn records one fact given as text (a JSON string or number, or
// a CSV field). Empty text counts as absent.
func (d *Decoder) setSignIn(st *signInState, ev *Event, f siField, v []byte) error {
	if len(v) == 0 {
		return nil
	}
	switch f {
	case sfID:
		st.id = v
	case sfOrigID:
		st.origID = v
	case sfCreated:
		st.created, st.hasCreated = v, true
	case sfTimeGen:
		st.timeGen, st.hasTimeGen = v, true
	case sfTimeEH:
		st.timeEH, st.hasTimeEH = v, true
	case sfUPN:
		ev.UserID = v
	case sfUserID:
		if isGUID(v) {
			ev.ActorObject = v
		}
	case sfUserType:
		ev.UserTypeName = d.lowerBytes(v)
	case sfAppID:
		ev.AppID = d.lowerBytes(v)
	case sfAppName:
		ev.AppName = v
	case sfIP:
		st.ip = v
	case sfCallerIP:
		st.callerIP = v
	case sfHome:
		ev.ActorTenant = d.lowerBytes(v)
	case sfHomeName:
		ev.HomeTenantName = v
	case sfResource:
		st.resource = v
	case sfAADTenant:
		st.aad = v
	case sfTenantEH:
		st.tenantEH = v
	case sfCTAT:
		ev.CrossTenantAccessType = d.token(v)
	case sfStatus:
		if v[0] == '{' {
			return d.signInJSONText(ev, st, f, v)
		}
		st.statusText = v
	case sfErrorCode:
		st.errCode = bytes.TrimSpace(v)
	case sfResultType:
		st.resultType = bytes.TrimSpace(v)
	case sfFailure:
		ev.FailureReason = v
	case sfResultDesc:
		st.resultDesc = v
	case sfLocation, sfLocationDetails:
		switch {
		case v[0] == '{':
			return d.signInJSONText(ev, st, f, v)
		case bytes.IndexByte(v, ',') >= 0:
			// The Entra download's "City, State, CC".
			splitLocation(ev, v)
		default:
			// Log Analytics' Location and the Event Hub record's location:
			// the country code.
			st.countryFallback = v
		}
	case sfCity:
		ev.City = v
	case sfState:
		ev.State = v
	case sfCountry:
		st.country = v
	case sfCAStatus:
		ev.ConditionalAccessStatus = d.camel(v)
	case sfRiskDuring:
		st.riskDuring = v
	case sfRiskAgg:
		st.riskAgg = v
	case sfClientApp:
		ev.ClientApp = v
	case sfUA:
		ev.UserAgent = v
	case sfCorrelation:
		ev.CorrelationID = d.lowerBytes(v)
	case sfInteractive:
		st.interactive = parseBool(v)
	case sfCategory:
		st.category = v
	case sfSPName:
		st.spName = v
	case sfSPID:
		st.spID = v
	case sfEventTypes:
		st.eventType = firstJSONString(v)
	case sfProperties:
		if v[0] == '{' {
			return d.signInJSONText(ev, st, f, v)
		}
	}
	return nil
}

// splitLocation reads the Entra download's "City, State, CC": the last
// part is the country, the one before it the state, the rest the city;
// with two parts, the city and the country.
func splitLocation(ev *Event, v []byte) {
	last := bytes.LastIndexByte(v, ',')
	ev.Country = bytes.TrimSpace(v[last+1:])
	rest := v[:last]
	mid := bytes.LastIndexByte(rest, ',')
	if mid < 0 {
		ev.City = bytes.TrimSpace(rest)
		return
	}
	ev.State = bytes.TrimSpace(rest[mid+1:])
	ev.City = bytes.TrimSpace(rest[:mid])
}

// signInCategories are the diagnostic settings categories of the sign-in
// logs (and Category in Log Analytics): 1 interactive, 0 not, -1 not a
// user sign-in (service principal, managed identity).
func signInCategory(c []byte) (interactive int8, ok bool) {
	switch {
	case bytes.EqualFold(c, []byte("SignInLogs")):
		return 1, true
	case bytes.EqualFold(c, []byte("NonInteractiveUserSignInLogs")):
		return 0, true
	case bytes.EqualFold(c, []byte("ServicePrincipalSignInLogs")),
		bytes.EqualFold(c, []byte("ManagedIdentitySignInLogs")):
		return -1, true
	case bytes.EqualFold(c, []byte("SignIn")):
		// The schema page's field table calls the category "SignIn".
		return 2, true
	}
	return 0, false
}

// finishSignIn settles the fallbacks and fills the common fields.
func (d *Decoder) finishSignIn(ev *Event, st *signInState) error {
	ev.Kind = KindSignIn
	ev.Operation = opSignIn

	// Time: createdDateTime, else TimeGenerated, else the Event Hub
	// record's time.
	var t int64
	var order DateOrder
	switch {
	case st.hasCreated:
		if t, order, _ = signInTime(st.created, d.dates); order >= DateAmbiguous {
			name := st.createdField
			if name == "" {
				name = "Date (UTC)"
			}
			return timeErr(name, st.created, order, d.dates)
		}
	case st.hasTimeGen:
		if t, order, _ = signInTime(st.timeGen, d.dates); order >= DateAmbiguous {
			return timeErr("TimeGenerated", st.timeGen, order, d.dates)
		}
	case st.hasTimeEH:
		if t, order, _ = signInTime(st.timeEH, d.dates); order >= DateAmbiguous {
			return timeErr("time", st.timeEH, order, d.dates)
		}
	default:
		return decodeErr("no createdDateTime")
	}
	ev.Time = t

	// The category: a sign-in log's, or the record is something else.
	spCategory := false
	if len(st.category) > 0 {
		c, known := signInCategory(st.category)
		if !known {
			return decodeErr(`category "%s" is not a sign-in log`, clip(st.category))
		}
		switch c {
		case -1:
			spCategory = true
			if st.interactive < 0 {
				st.interactive = 0
			}
		case 0, 1:
			if st.interactive < 0 {
				st.interactive = c
			}
		}
	}
	switch {
	case bytes.EqualFold(st.eventType, []byte("interactiveUser")):
		if st.interactive < 0 {
			st.interactive = 1
		}
	case bytes.EqualFold(st.eventType, []byte("nonInteractiveUser")):
		if st.interactive < 0 {
			st.interactive = 0
		}
	case bytes.EqualFold(st.eventType, []byte("servicePrincipal")), bytes.EqualFold(st.eventType, []byte("managedIdentity")):
		spCategory = true
	}
	switch st.interactive {
	case 1:
		ev.Interactive = &boolTrue
	case 0:
		ev.Interactive = &boolFalse
	}

	id := st.id
	if len(id) == 0 {
		id = st.origID
	}
	if len(id) > 0 {
		ev.ID, ev.SignInID = id, d.lowerBytes(id)
	}

	// Tenants: resourceTenantId, else Log Analytics' AADTenantId, else the
	// Event Hub record's tenantId.
	org := st.resource
	if len(org) == 0 {
		org = st.aad
	}
	if len(org) == 0 {
		org = st.tenantEH
	}
	if len(org) > 0 {
		ev.OrgID = d.lowerBytes(org)
	}

	// The outcome: status.errorCode, else ResultType; a textual result
	// (the Entra download's Status, "Success"/"Failure" in ResultType)
	// when there is no code.
	code := st.errCode
	if len(code) == 0 {
		code = st.resultType
	}
	if len(code) > 0 && !isDigits(code) {
		if len(st.statusText) == 0 {
			st.statusText = code
		}
		code = nil
	}
	switch {
	case len(code) > 0:
		ev.ErrorNumber = code
	case bytes.EqualFold(st.statusText, []byte("success")):
		ev.ErrorNumber = zeroCode
	case bytes.EqualFold(st.statusText, []byte("interrupted")):
		// The Entra download's Status: Entra's own word, in one spelling
		// for Outcome.
		ev.ResultStatusDetail = statusInterrupted
	case len(st.statusText) > 0:
		ev.ResultStatusDetail = st.statusText
	}
	if len(ev.FailureReason) == 0 {
		ev.FailureReason = st.resultDesc
	}

	// Address: ipAddress, else the Event Hub record's callerIpAddress.
	ip := st.ip
	if len(ip) == 0 {
		ip = st.callerIP
	}
	if a, ok := ParseIP(ip); ok {
		ev.addIP(a)
	}

	if len(st.country) > 0 {
		ev.Country = st.country
	} else if len(ev.Country) == 0 {
		ev.Country = st.countryFallback
	}
	ev.RiskLevel = st.riskDuring
	if len(ev.RiskLevel) == 0 {
		ev.RiskLevel = st.riskAgg
	}
	if len(ev.UserAgent) == 0 {
		ev.UserAgent = nil
	}

	// A service principal or managed identity signs in as an object of
	// the resource tenant's directory: no UPN, no home tenant
	// ("Not applicable in Managed Identity or service principal sign
	// ins", Graph homeTenantId). It is named by its servicePrincipalName
	// (else id) and belongs to the resource tenant.
	if len(ev.UserID) == 0 && (spCategory || len(st.spID) > 0 || len(st.spName) > 0) {
		ev.UserID = st.spName
		if len(ev.UserID) == 0 {
			ev.UserID = st.spID
		}
		if len(ev.ActorTenant) == 0 {
			ev.ActorTenant = ev.OrgID
		}
		if ev.Interactive == nil {
			ev.Interactive = &boolFalse
		}
	}

	ev.UserType = 0
	if string(ev.UserTypeName) == "guest" {
		ev.UserType = 10
	}
	ev.ActorUnknown = string(ev.CrossTenantAccessType) == "passthrough"
	ev.User, ev.UserKind, d.arena = Canonical(ev.UserID, d.arena)
	return nil
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == '-' {
		b = b[1:]
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// lowerBytes lower-cases b into the arena unless it is lower-case already.
func (d *Decoder) lowerBytes(b []byte) []byte {
	if isLower(b) {
		return b
	}
	start := len(d.arena)
	d.arena = appendLower(d.arena, b)
	return d.arena[start:]
}

// token lower-cases an enum value and drops spaces, hyphens and
// underscores, so that the Graph value (b2bCollaboration), Log Analytics'
// and a portal rendering ("B2B collaboration") compare equal.
func (d *Decoder) token(b []byte) []byte {
	b = bytes.TrimSpace(b)
	clean := true
	for _, c := range b {
		if ('A' <= c && c <= 'Z') || c == ' ' || c == '-' || c == '_' || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	start := len(d.arena)
	for _, c := range b {
		switch {
		case c == ' ' || c == '-' || c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		d.arena = append(d.arena, c)
	}
	return d.arena[start:]
}

// camel turns a portal rendering of an enum ("Not Applied") into its API
// value ("notApplied"); values without spaces are kept as they are.
func (d *Decoder) camel(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if bytes.IndexByte(b, ' ') < 0 {
		return b
	}
	start := len(d.arena)
	first, wordStart := true, true
	for _, c := range b {
		if c == ' ' {
			if !wordStart {
				first = false
			}
			wordStart = true
			continue
		}
		switch {
		case wordStart && !first && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case (!wordStart || first) && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		wordStart = false
		d.arena = append(d.arena, c)
	}
	return d.arena[start:]
}

// DateOrder says how a time was read: as ISO 8601 (or PowerShell's
// /Date()/), or as a spreadsheet's or the Azure portal's locale date, in
// which order; or why it was not.
type DateOrder uint8

const (
	// DateISO: ISO 8601 or /Date(ms)/, the forms Microsoft's APIs write.
	DateISO DateOrder = iota
	// DateMonthFirst: M/D/YYYY, the US order (also a slashed date whose
	// day and month are the same, where the order does not matter).
	DateMonthFirst
	// DateDayFirst: D/M/YYYY or D.M.YYYY, the order of most other locales.
	DateDayFirst
	// DateAmbiguous: D/M or M/D cannot be told apart (both 12 or less,
	// and no other date of the file says which comes first, or its dates
	// show both orders): the time is not read.
	DateAmbiguous
	// DateInvalid: not a time.
	DateInvalid
)

// SetDates tells the decoder what the locale dates of the file whose
// records it decodes next show of their order (source.Batch.Dates): a
// date whose day and month are both 12 or less is read in the order the
// file's other dates show, when they show one only.
func (d *Decoder) SetDates(file localedate.Evidence) { d.dates = file }

// ReadTime reads a sign-in's or an OfficeActivity row's time as the
// decoders do (signInTime) for a file whose locale dates show file, and
// says how: outsider explain tells the analyst which order a locale date
// was read in and whether the file's other dates decided it, or why it
// was not read.
func ReadTime(b []byte, file localedate.Evidence) (ns int64, order DateOrder, byFile bool) {
	return signInTime(b, file)
}

// signInTime reads createdDateTime (ISO 8601, "Z" or an offset, any
// number of fractional digits: Graph "2024-07-23T15:19:52Z", Event Hub
// "2019-03-12T16:02:15.5522137+00:00") and, for files re-saved by a
// spreadsheet or Log Analytics' CSV export, locale dates, UTC.
//
// The Entra download writes ISO 8601 ("Timestamps in the downloaded
// files are based on UTC", How to download logs in Microsoft Entra ID,
// https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs),
// but a file opened and saved again in Excel gets the dates of the
// computer's locale, and the Azure portal's Log Analytics export writes
// TimeGenerated in the browser's ("4/28/2021, 3:05:26.000 PM" in en-US).
// The order is never guessed (localedate.Read): a date shows it by
// itself (dots, or a number over 12), or the file's other dates show it
// (file, from source's survey of the file's time columns); AM/PM says
// nothing, as en-AU writes "7/12/2026 3:05:26 PM" day first. The order
// is DateMonthFirst or DateDayFirst for a locale date that reads, byFile
// true when the file's dates decided it; the time is usable only when the
// order is below DateAmbiguous.
func signInTime(b []byte, file localedate.Evidence) (int64, DateOrder, bool) {
	b = bytes.TrimSpace(b)
	if t, ok := ParseTime(b); ok {
		return t, DateISO, false
	}
	ns, o, byFile := localedate.Read(b, file)
	switch o {
	case localedate.MonthFirst, localedate.Same:
		return ns, DateMonthFirst, byFile
	case localedate.DayFirst:
		return ns, DateDayFirst, byFile
	case localedate.Ambiguous:
		return 0, DateAmbiguous, byFile
	}
	return 0, DateInvalid, false
}

// timeErr is the error for a time field that does not read, in a file
// whose locale dates show file.
func timeErr(name string, v []byte, order DateOrder, file localedate.Evidence) error {
	switch {
	case order == DateAmbiguous && file.Mixed():
		return framedErr(`%s "%s" is ambiguous: day and month are both 12 or less, and the file's other dates show both orders `+
			`(some can only be day first, others only month first), so none says which comes first, nor can --date-order; give the export as downloaded, with ISO 8601 times`, name, clip(v))
	case order == DateAmbiguous:
		return framedErr(`%s "%s" is ambiguous: day and month are both 12 or less and no other date of the file shows which comes first; `+
			`state it with --date-order day-first or month-first (the locale the file was written in), or give the export as downloaded, with ISO 8601 times`, name, clip(v))
	}
	return decodeErr(`%s "%s" is not a time`, name, clip(v))
}

// SignInColumns maps the columns of one sign-in CSV header (the Entra
// admin center's download, or a Log Analytics export) to the facts the
// decoder reads. Build it once per file with NewSignInColumns.
//
// The Entra download's columns (MicrosoftDocs/entra-docs
// docs/identity/monitoring-health/howto-download-logs.md: CSV or JSON,
// timestamps in UTC; names as the 2025 download writes them): "Date
// (UTC)" (ISO 8601, e.g. 2025-12-04T08:19:41Z), "Request ID" (the
// sign-in id), "User agent", "Correlation ID", "User ID", "Username"
// (the UPN), "User type", "Cross tenant access type", "Application",
// "Application ID " (with a trailing space), "Resource tenant ID", "Home
// tenant ID", "Home tenant name" (the activity details' name for
// homeTenantName; empty across tenants), "IP address", "Location" ("City, State, CC"), "Status"
// (Success, Failure, Interrupted), "Sign-in error code", "Failure
// reason", "Client app", "Conditional Access". Names are matched trimmed
// and case-insensitively. A Log Analytics CSV has the table's column
// names (TimeGenerated [UTC], UserPrincipalName, ResultType, Status and
// LocationDetails as JSON text...).
type SignInColumns struct {
	col [sfCount]int
	n   int
	// timeName is the time column's name, for error messages.
	timeName string
}

// NewSignInColumns maps a header. It is an error when the header lacks a
// time, a user or a result column.
func NewSignInColumns(header []string) (*SignInColumns, error) {
	c := &SignInColumns{n: len(header)}
	mapColumns(c.col[:], header, signInColumn)
	if j := c.col[sfCreated]; j >= 0 {
		c.timeName = strings.TrimSpace(header[j])
	}
	var missing []string
	if c.col[sfCreated] < 0 && c.col[sfTimeGen] < 0 {
		missing = append(missing, "time (Date (UTC), CreatedDateTime or TimeGenerated)")
	}
	if c.col[sfUPN] < 0 && c.col[sfSPName] < 0 && c.col[sfSPID] < 0 {
		missing = append(missing, "user (Username or UserPrincipalName)")
	}
	if c.col[sfErrorCode] < 0 && c.col[sfResultType] < 0 && c.col[sfStatus] < 0 {
		missing = append(missing, "result (Sign-in error code, Status or ResultType)")
	}
	if len(missing) > 0 {
		return nil, errors.New("sign-in csv header has no " + strings.Join(missing, ", no ") + " column")
	}
	return c, nil
}

// DecodeSignInFieldsKeep fills ev from the fields of one sign-in CSV row
// (split with source.CSVFields), like DecodeSignInKeep: the byte fields
// alias fields' bytes or the arena. A row with fewer fields than the
// header, or without a time, is an error.
func (d *Decoder) DecodeSignInFieldsKeep(c *SignInColumns, fields [][]byte, ev *Event) error {
	ev.Reset()
	if len(fields) < c.n {
		return decodeErr("row has %d fields, the header %d", len(fields), c.n)
	}
	st := signInState{interactive: -1}
	for f := siField(1); f < sfCount; f++ {
		i := c.col[f]
		if i < 0 {
			continue
		}
		v := fields[i]
		if len(v) == 0 {
			continue
		}
		if !utf8.Valid(v) {
			return decodeErr("column %d: invalid UTF-8", i+1)
		}
		if err := d.setSignIn(&st, ev, f, v); err != nil {
			return err
		}
	}
	st.createdField = c.timeName
	return d.finishSignIn(ev, &st)
}
