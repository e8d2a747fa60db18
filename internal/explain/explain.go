// Package explain walks one Microsoft 365 audit record field by field, in
// plain language, for `outsider explain`: a Unified Audit Log record, or a
// record of the Entra ID sign-in log (signin.go).
//
// The triage answers "which outside accounts signed in, and did they do
// anything?" for a whole export; an analyst who doubts a verdict, or who
// holds a single alarming "User logged in" record, needs the other half:
// what each field of that record says (Actor "Unknown", an external UPN,
// the ApplicationId, ResultStatusDetail, RecordType 15, ActorContextId) and
// what it means for the outside-sign-in question. The walk follows the
// record's own field order so it can be read next to the raw JSON, and its
// conclusions come from the same code the engine uses (the audit decoder's
// Outcome, the embedded first-party catalogue, the rules of docs/rules.md)
// so the explanation never contradicts a triage report.
//
// Records are attacker-controlled: every value taken from one goes through
// textsafe.Terminal before it is printed, and the package parses the JSON itself, with
// a depth cap, to keep field order and raw bytes.
package explain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/localedate"
)

// Options for Explain and ExplainFields.
type Options struct {
	// OurTenants: tenant ids the user said are ours (--tenant); empty = take the record's OrganizationId
	// (for a sign-in log record, its resourceTenantId).
	//
	// They decide whether ActorContextId (homeTenantId) names our tenant
	// or another one, exactly as --tenant does for `outsider triage`.
	OurTenants []string
	// Log says which log the record comes from; LogAuto tells from its
	// fields. A caller that knows the input's format (the CLI, from the
	// batch) says so, and the record is then read as the engine reads it.
	Log Log
	// Dates is what the locale dates of the record's input show of their
	// order (source.Batch.Dates, which the CLI passes on): a sign-in's
	// date whose day and month are both 12 or less is read by it, as
	// triage reads it, the order --date-order states included (Stated).
	// Zero says no other date of the input shows one and none was stated.
	Dates localedate.Evidence
}

// Log names the log a record comes from.
type Log uint8

// The logs Explain reads.
const (
	// LogAuto tells the log from the record's fields: a UAL record has
	// CreationTime, Operation, RecordType..., or an AuditData envelope; a
	// sign-in has createdDateTime, userPrincipalName, homeTenantId... in
	// camelCase (Graph), properties (diagnostic settings / Event Hub) or
	// PascalCase (Log Analytics).
	LogAuto Log = iota
	// LogUAL is the Unified Audit Log.
	LogUAL
	// LogSignIn is the Entra ID sign-in log.
	LogSignIn
)

// Class names, as docs/rules.md and the triage report spell them.
const (
	classMember          = "member"
	classGuest           = "guest"
	classPassthrough     = "passthrough"
	classExternalUnknown = "external-unknown"
)

// consumerDomains are the personal Microsoft account domains rules.md uses
// when no record gives an account's home tenant.
var consumerDomains = map[string]bool{
	"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true, "passport.com": true,
}

// recordKeys are fields of which a UAL record has at least one; an object
// with none of them is something else, and explaining it field by field
// would only mislead.
var recordKeys = []string{"CreationTime", "Id", "Operation", "RecordType", "UserId", "Workload", "OrganizationId"}

// facts is what the walk and the conclusion need to know about the whole
// record before printing any one field: an explanation of ApplicationId
// depends on whether the sign-in is a pass-through, and so on.
type facts struct {
	top    *value // the input object (the envelope, if any)
	rec    *value // the audit record itself
	envKey string // "AuditData" or "auditData" when rec came from an envelope
	envStr bool   // the envelope held the record as a JSON string
	envVal *value // the envelope field the record came from

	ev      audit.Event
	evOK    bool
	skipWhy string // why triage would skip the record, or ""

	ours      map[string]bool
	oursFlag  bool // ours came from Options.OurTenants
	filtered  bool // --tenant given and OrganizationId is not one of them
	orgID     string
	actorTen  string
	op        string
	signin    bool // a sign-in record, from either log
	outcome   audit.Outcome
	user      string // canonical user
	userKind  audit.UserKind
	userRaw   string
	hasUserID bool

	class      string // sign-ins only
	consumer   bool
	home       string
	unknownKey string
	noTenant   bool // class decided by rule 5 (no ActorContextId)

	// orgBad and actorBad hold an OrganizationId or ActorContextId (or
	// the sign-in log's tenant fields) that is not a tenant id: a
	// placeholder, which triage reads as no tenant (orgID and actorTen
	// are then empty).
	orgBad, actorBad string

	appID    string
	app      apps.App
	appKnown bool

	// ips notes, during the walk, which field first gave each address.
	ips map[netip.Addr]string

	si signInFacts // Entra ID sign-in log records only
}

// outside reports whether the record is a sign-in by an account that is
// neither ours nor a guest: the pass-through case Microsoft documents.
func (f *facts) outside() bool {
	return f.class == classPassthrough || f.class == classExternalUnknown
}

// Explain writes the plain-language walk of one record to w: raw UAL JSON,
// a PowerShell/Graph envelope with AuditData/auditData as object or JSON
// string, or an Entra ID sign-in log record in JSON (a Graph signIn, a
// diagnostic-settings / Event Hub record, a Log Analytics row). For a
// sign-in CSV row, see ExplainFields.
//
// The output is plain text, at most 100 columns where the values allow,
// with every value from the record passed through a terminal-safe escaper.
// The whole text is built before anything is written, so an error leaves
// w untouched.
func Explain(w io.Writer, record []byte, opts Options) error {
	record = bytes.TrimPrefix(record, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(record)) == 0 {
		return errors.New("empty input: no record")
	}
	top, err := parseJSON(record)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if top.kind != kObject {
		return fmt.Errorf("input is %s, not a JSON object", top.kind)
	}
	log := opts.Log
	if log == LogAuto {
		log = detect(top)
	}
	if log == LogSignIn {
		return explainSignIn(w, record, top, opts)
	}
	f := &facts{top: top, rec: top}
	if err := f.unwrap(); err != nil {
		return err
	}
	if !hasAny(f.rec, recordKeys) {
		if f.envKey != "" && len(f.rec.members) == 0 {
			return fmt.Errorf("%s is an empty object: no record", f.envKey)
		}
		if len(f.rec.members) == 0 {
			return errors.New("empty object: no record")
		}
		return fmt.Errorf("not an audit record: it has none of the fields %s", strings.Join(recordKeys, ", "))
	}
	f.analyse(record, opts)

	var p printer
	p.explain(f)
	_, err = io.WriteString(w, p.b.String())
	return err
}

// unwrap finds the record inside a PowerShell or Graph envelope, taking
// the last AuditData/auditData field as the audit decoder does.
func (f *facts) unwrap() error {
	var data *value
	for _, m := range f.top.members {
		if m.name == "AuditData" || m.name == "auditData" {
			f.envKey, data = m.name, m.val
		}
	}
	f.envVal = data
	if data == nil {
		return nil
	}
	switch data.kind {
	case kObject:
		f.rec = data
	case kString:
		inner, err := parseJSON([]byte(data.text))
		if err != nil {
			return fmt.Errorf("%s: invalid JSON: %w", f.envKey, err)
		}
		if inner.kind != kObject {
			return fmt.Errorf("%s holds %s, not a record", f.envKey, inner.kind)
		}
		f.rec, f.envStr = inner, true
	default:
		return fmt.Errorf("%s is %s, not a record", f.envKey, data.kind)
	}
	return nil
}

func hasAny(v *value, names []string) bool {
	for _, n := range names {
		if v.get(n) != nil {
			return true
		}
	}
	return false
}

// analyse decodes the record with the engine's own decoder and derives
// what the walk needs: outcome, class, application.
func (f *facts) analyse(record []byte, opts Options) {
	if !utf8.Valid(record) {
		f.skipWhy = "it is not valid UTF-8"
	} else {
		var d audit.Decoder
		if err := d.Decode(record, &f.ev); err != nil {
			f.skipWhy = err.Error()
		} else {
			f.evOK = true
		}
	}

	f.orgID = lowerTrim(f.rec.str("OrganizationId"))
	f.actorTen = lowerTrim(f.rec.str("ActorContextId"))
	f.op = f.rec.str("Operation")
	f.userRaw = f.rec.str("UserId")
	f.hasUserID = f.rec.get("UserId") != nil
	f.appID = lowerTrim(f.rec.str("ApplicationId"))
	if f.evOK {
		// The decoder's view wins where it has one: it is what the engine sees.
		f.orgID, f.actorTen, f.op = string(f.ev.OrgID), string(f.ev.ActorTenant), string(f.ev.Operation)
		f.userRaw, f.appID = string(f.ev.UserID), string(f.ev.AppID)
		f.user, f.userKind = string(f.ev.User), f.ev.UserKind
	} else {
		u, k, _ := audit.Canonical([]byte(f.userRaw), nil)
		f.user, f.userKind = string(u), k
	}
	if f.appID != "" {
		f.app, f.appKnown = apps.Lookup(f.appID)
	}
	f.dropPlaceholderTenants()

	f.setOurs(opts.OurTenants)

	f.signin = audit.IsSigninOp([]byte(f.op))
	if f.evOK {
		f.outcome = f.ev.Outcome()
	} else {
		// The engine would skip the record; still read the sign-in fields
		// with the engine's rule, so the walk can say what they claim.
		ev := audit.Event{
			Operation:          []byte(f.op),
			ErrorNumber:        []byte(firstOf(f.rec, "ErrorNumber", "ErrorCode")),
			LogonError:         []byte(f.rec.str("LogonError")),
			ResultStatusDetail: []byte(resultStatusDetail(f.rec)),
		}
		f.outcome = ev.Outcome()
	}
	if f.signin && f.evOK {
		f.classify()
	}
}

// setOurs decides which tenants are ours, as triage does for both logs:
// the --tenant list when given (a record of another tenant is then left
// out), else the record's own tenant (f.orgID).
func (f *facts) setOurs(tenants []string) {
	f.ours = map[string]bool{}
	for _, t := range tenants {
		if t = lowerTrim(t); t != "" {
			f.ours[t] = true
			f.oursFlag = true
		}
	}
	if f.oursFlag {
		f.filtered = f.orgID != "" && !f.ours[f.orgID]
	} else if f.orgID != "" {
		f.ours[f.orgID] = true
	}
}

// dropPlaceholderTenants reads a tenant value that is not a tenant id
// (audit.IsTenantID) as no tenant, as triage does: it makes no tenant
// ours, and never an account an outsider.
func (f *facts) dropPlaceholderTenants() {
	if f.orgID != "" && !audit.IsTenantID([]byte(f.orgID)) {
		f.orgBad, f.orgID = f.orgID, ""
	}
	if f.actorTen != "" && !audit.IsTenantID([]byte(f.actorTen)) {
		f.actorBad, f.actorTen = f.actorTen, ""
	}
}

// classify applies docs/rules.md "Classify" to this one record, as the
// engine does to every sign-in of an account.
func (f *facts) classify() {
	ev := &f.ev
	foreign := f.actorTen != "" && !f.ours[f.actorTen]
	switch {
	case f.userKind == audit.UserUnusable:
		f.class = classExternalUnknown
		switch {
		case len(ev.ActorObject) > 0 && !audit.IsPlaceholderGUID(ev.ActorObject):
			f.unknownKey = strings.ToLower(string(ev.ActorObject))
		case len(ev.UserKey) > 0 && !audit.IsPlaceholder(ev.UserKey):
			f.unknownKey = string(ev.UserKey)
		case f.actorTen != "":
			f.unknownKey = f.actorTen
		}
		if foreign {
			f.home = f.actorTen
		}
	case f.userKind == audit.UserGuest || ev.UserType == 10:
		f.class = classGuest
	case foreign:
		f.class, f.home = classPassthrough, f.actorTen
		f.consumer = f.home == apps.ConsumerTenant
	case f.actorTen != "":
		f.class = classMember
	default:
		f.noTenant = true
		if ev.ActorUnknown {
			f.class, f.consumer = classPassthrough, consumerDomains[string(audit.Domain([]byte(f.user)))]
		} else {
			f.class = classMember
		}
	}
}

// anomalous is the engine's high-severity rule: a successful sign-in by an
// outside account (not a guest) to an application that is not Microsoft
// first-party.
func (f *facts) anomalous() bool {
	return f.outside() && f.outcome == audit.Success && f.appID != "" && !f.appKnown
}

func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// firstOf returns the first of the named fields that has text.
func firstOf(v *value, names ...string) string {
	for _, n := range names {
		if s := v.str(n); s != "" {
			return s
		}
	}
	return ""
}

// resultStatusDetail finds ResultStatusDetail where the decoder looks: in
// ExtendedProperties or at the top level, the later one winning.
func resultStatusDetail(rec *value) string {
	out := ""
	for _, m := range rec.members {
		switch m.name {
		case "ResultStatusDetail":
			if m.val.kind == kString {
				out = m.val.text
			}
		case "ExtendedProperties":
			for _, e := range m.val.elems {
				if e.str("Name") == "ResultStatusDetail" {
					out = e.str("Value")
				}
			}
		}
	}
	return out
}
