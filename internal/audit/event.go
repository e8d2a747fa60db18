// Package audit holds the normalised audit event and the decoder that
// turns one Unified Audit Log record (raw, or inside a PowerShell or Graph
// envelope) into it.
//
// The decoder is the hot path of every triage: it runs once per record on
// every core. It therefore reads only the fields the engine needs, scans
// the JSON text once without building a tree, and points into the record's
// bytes instead of copying them. Fields of an Event are valid until the
// next Decode call with the same Decoder.
package audit

import (
	"net/netip"
)

// MaxIPs is how many distinct addresses one record can carry (ClientIP,
// ActorIpAddress, ClientIPAddress, clientIp).
const MaxIPs = 4

// Event is one normalised audit record. Byte-slice fields alias the
// record text or the decoder's arena.
type Event struct {
	// ID is the record's Id (for an envelope without one: Identity / id).
	ID []byte
	// Time is CreationTime in Unix nanoseconds, UTC.
	Time int64
	// RecordType is the numeric RecordType, or -1 when absent or a name.
	RecordType int
	Operation  []byte
	Workload   []byte
	// OrgID is OrganizationId, lower-cased: the tenant the record belongs to.
	OrgID []byte
	// ActorTenant is ActorContextId, lower-cased: the actor's home tenant.
	ActorTenant []byte
	// UserID is the raw UserId.
	UserID []byte
	// User is the canonical user (see Canonical).
	User     []byte
	UserKind UserKind
	UserKey  []byte
	// UserType is the numeric UserType, or -1.
	UserType int
	// ActorUnknown is set when an Actor entry has ID "Unknown": the account
	// is not in the tenant's directory.
	ActorUnknown bool
	// ActorObject is the first Actor entry of Type 0 that is a GUID.
	ActorObject []byte
	IPs         [MaxIPs]netip.Addr
	NIPs        int
	// AppID is ApplicationId (lower-cased), the application signed in to.
	AppID              []byte
	ResultStatus       []byte
	ResultStatusDetail []byte
	LogonError         []byte
	ErrorNumber        []byte
	UserAgent          []byte
	ObjectID           []byte
	// Target is the sharing target: TargetUserOrGroupName, else
	// UserSharedWith.
	Target     []byte
	TargetType []byte
	// InterSystemsID and IntraSystemID tie an STS logon to its Entra
	// sign-in record.
	InterSystemsID []byte
	IntraSystemID  []byte

	// Kind says which log the record came from.
	Kind Kind

	// Entra ID sign-in log facts (Kind == KindSignIn). The decoder also
	// fills the common fields above, so the engine treats a sign-in from
	// either log alike: Operation "SignIn", UserID the userPrincipalName,
	// ActorTenant the homeTenantId, OrgID the resourceTenantId, AppID the
	// appId, ErrorNumber the status.errorCode ("" or "0" = success),
	// IPs the ipAddress, ID the sign-in id, Time createdDateTime.
	//
	// SignInID is the sign-in's id (request id), CorrelationID its
	// correlationId: with IntraSystemID / InterSystemsID of a UAL STS
	// record they find the same sign-in in both logs.
	SignInID, CorrelationID []byte
	// CrossTenantAccessType is crossTenantAccessType, lower-cased:
	// none, passthrough, b2bcollaboration, b2bdirectconnect,
	// serviceprovider, microsoftsupport, unknownfuturevalue.
	CrossTenantAccessType []byte
	// UserTypeName is userType, lower-cased: member or guest.
	UserTypeName []byte
	// Location facts (location.city/state/countryOrRegion).
	Country, State, City []byte
	// ConditionalAccessStatus (success, failure, notApplied),
	// RiskLevel (riskLevelDuringSignIn, else riskLevelAggregated),
	// ClientApp (clientAppUsed), AppName (appDisplayName),
	// FailureReason (status.failureReason).
	ConditionalAccessStatus, RiskLevel, ClientApp, AppName, FailureReason []byte
	// HomeTenantName is homeTenantName (Log Analytics HomeTenantName, the
	// download's "Home tenant name"): the name of the tenant ActorTenant
	// names, as the home tenant chose to show it. Microsoft fills it only
	// where the home tenant consented, and not across tenants ("Due to
	// privacy commitments, Microsoft Entra ID doesn't populate the home
	// tenant name during cross-tenant scenarios",
	// https://learn.microsoft.com/entra/identity/monitoring-health/concept-sign-in-log-activity-details;
	// https://learn.microsoft.com/graph/api/resources/signin?view=graph-rest-beta),
	// so most outside sign-ins have none. As written: attacker-controlled.
	HomeTenantName []byte
	// Interactive is isInteractive (or the log category: SignInLogs vs
	// NonInteractiveUserSignInLogs); nil when unknown.
	Interactive *bool
}

// Kind says which log a record came from.
type Kind uint8

// Record kinds.
const (
	// KindUAL is a Unified Audit Log record.
	KindUAL Kind = iota
	// KindSignIn is an Entra ID sign-in log record.
	KindSignIn
)

func (k Kind) String() string {
	if k == KindSignIn {
		return "entra-signin"
	}
	return "ual"
}

// Reset clears e for reuse.
func (e *Event) Reset() { *e = Event{RecordType: -1, UserType: -1} }

// IPList returns the record's distinct addresses.
func (e *Event) IPList() []netip.Addr { return e.IPs[:e.NIPs] }

// addIP adds a normalised address unless already present or full.
func (e *Event) addIP(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	for i := 0; i < e.NIPs; i++ {
		if e.IPs[i] == a {
			return
		}
	}
	if e.NIPs < MaxIPs {
		e.IPs[e.NIPs] = a
		e.NIPs++
	}
}

// IsSignin reports whether the record is a sign-in (UserLoggedIn or
// UserLoginFailed, whatever its RecordType).
func (e *Event) IsSignin() bool { return IsSigninOp(e.Operation) }

// IsSigninOp reports whether op names a sign-in record: UAL's
// UserLoggedIn and UserLoginFailed, and "SignIn", the operation the
// decoder gives every Entra sign-in log record.
func IsSigninOp(op []byte) bool {
	return string(op) == "UserLoggedIn" || string(op) == "UserLoginFailed" || string(op) == "SignIn"
}
