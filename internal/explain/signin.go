package explain

// The walk of an Entra ID sign-in log record. The record comes in the
// shapes its exports take (internal/audit/signin.go): a Microsoft Graph
// signIn (camelCase), a diagnostic-settings / Event Hub record whose
// properties hold the signIn, a Log Analytics row (PascalCase), or a CSV
// row (the Entra admin center's download, or a Log Analytics export). The
// conclusions come from the engine's own sign-in decoder, as they do for
// the Unified Audit Log, and the class follows docs/rules.md, where the
// sign-in log's homeTenantId, resourceTenantId, userType and
// crossTenantAccessType stand for ActorContextId, OrganizationId, UserType
// and Actor "Unknown".

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// shape is the form a sign-in record takes.
type shape uint8

const (
	shapeNone shape = iota
	shapeGraph
	shapeEventHub
	shapeLA
	shapePortalCSV
	shapeLACSV
)

// signInFacts is what the walk of a sign-in log record needs beyond the
// facts both logs share.
type signInFacts struct {
	on       bool // the record is from the Entra ID sign-in log
	csv      bool // a CSV row (ExplainFields)
	shape    shape
	propsStr bool   // Event Hub: properties held the sign-in as JSON text
	propsErr string // Event Hub: why properties gave no sign-in object
	level    int    // during the walk: 1 inside an Event Hub record's properties
	orgField string // the field our tenant was taken from, for sentences
	timeKey  string // the fact the decoder took the time from
	ctat     string // crossTenantAccessType, normalised as the decoder does
	guestWhy []string
	category string              // the log category (Event Hub, Log Analytics), if any
	dates    localedate.Evidence // Options.Dates
}

// ualKeys are fields only a UAL record or its envelopes have: an object
// with one of them is read as UAL, as today.
var ualKeys = []string{"CreationTime", "Operation", "RecordType", "Workload", "OrganizationId", "ActorContextId",
	"UserKey", "ResultStatus", "ClientIP", "CreationDate", "auditLogRecordType", "operation", "AuditData", "auditData"}

// laKeys mark a Log Analytics row (PascalCase), graphKeys a Graph signIn.
var (
	laKeys = []string{"TimeGenerated", "AADTenantId", "UserPrincipalName", "ResultType", "HomeTenantId",
		"ResourceTenantId", "CreatedDateTime", "CrossTenantAccessType", "IPAddress", "AppId", "ConditionalAccessStatus"}
	graphKeys = []string{"createdDateTime", "userPrincipalName", "homeTenantId", "resourceTenantId",
		"crossTenantAccessType", "appId", "ipAddress", "conditionalAccessStatus", "correlationId", "resultType",
		"signInEventTypes", "isInteractive", "clientAppUsed", "category", "callerIpAddress"}
)

// detect tells the log a JSON object comes from.
func detect(top *value) Log {
	if hasAny(top, ualKeys) {
		return LogUAL
	}
	if signInShape(top) != shapeNone {
		return LogSignIn
	}
	return LogUAL
}

// signInShape tells which sign-in export a JSON object looks like, or
// shapeNone.
func signInShape(top *value) shape {
	switch {
	case top.get("properties") != nil:
		// The decoder reads properties wherever it is: the sign-in, in
		// a diagnostic-settings record.
		return shapeEventHub
	case hasAny(top, laKeys):
		return shapeLA
	case hasAny(top, graphKeys):
		return shapeGraph
	}
	return shapeNone
}

// explainSignIn is Explain for a sign-in log record in JSON.
func explainSignIn(w io.Writer, record []byte, top *value, opts Options) error {
	if len(top.members) == 0 {
		return errors.New("empty object: no record")
	}
	f := &facts{top: top, rec: top}
	f.si.on = true
	f.si.shape = signInShape(top)
	if f.si.shape == shapeNone {
		f.si.shape = shapeGraph
	}
	if f.si.shape == shapeEventHub {
		f.unwrapProperties()
	}
	f.analyseSignIn(opts, func(d *audit.Decoder) error {
		if !utf8.Valid(record) {
			return errors.New("it is not valid UTF-8")
		}
		return d.DecodeSignIn(record, &f.ev)
	})
	var p printer
	p.explainSignIn(f)
	_, err := io.WriteString(w, p.b.String())
	return err
}

// ExplainFields writes the plain-language walk of one row of a sign-in log
// CSV (the Entra admin center's download, or a Log Analytics export) to
// w: header is the file's header row and fields the row's fields, both
// split with source.CSVFields, as the engine reads them. It is an error
// when the header is not a sign-in log's (no time, user or result
// column). Like Explain, it writes nothing on error.
func ExplainFields(w io.Writer, header []string, fields [][]byte, opts Options) error {
	if len(header) == 0 {
		return errors.New("empty header: no columns")
	}
	cols, err := audit.NewSignInColumns(header)
	if err != nil {
		return err
	}
	row := &value{kind: kObject}
	for i, fv := range fields {
		name := fmt.Sprintf("(column %d, not in the header)", i+1)
		if i < len(header) {
			name = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
		}
		row.members = append(row.members, member{name, &value{kind: kString, text: string(fv)}})
	}
	f := &facts{top: row, rec: row}
	f.si.on, f.si.csv = true, true
	f.si.shape = shapePortalCSV
	for _, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "timegenerated [utc]", "timegenerated", "userprincipalname", "resulttype", "createddatetime [utc]", "createddatetime":
			f.si.shape = shapeLACSV
		}
	}
	f.analyseSignIn(opts, func(d *audit.Decoder) error {
		for _, fv := range fields {
			if !utf8.Valid(fv) {
				return errors.New("it is not valid UTF-8")
			}
		}
		return d.DecodeSignInFieldsKeep(cols, fields, &f.ev)
	})
	var p printer
	p.explainSignIn(f)
	_, err = io.WriteString(w, p.b.String())
	return err
}

// unwrapProperties makes an Event Hub record's properties the record the
// walk explains, as an object or the JSON text of one.
func (f *facts) unwrapProperties() {
	pv := f.top.get("properties")
	switch pv.kind {
	case kObject:
		f.rec = pv
	case kString:
		inner, err := parseJSON([]byte(pv.text))
		switch {
		case err != nil:
			f.si.propsErr = "its JSON text does not parse (" + err.Error() + ")"
		case inner.kind != kObject:
			f.si.propsErr = "its JSON text is " + inner.kind.String() + ", not an object"
		default:
			f.rec, f.si.propsStr = inner, true
		}
	default:
		f.si.propsErr = "it is " + pv.kind.String() + ", not an object"
	}
}

// fact returns the value of a sign-in fact (a key of the sign-in field
// table) as the decoder takes it. JSON: the last non-empty copy in the
// order of the text, an Event Hub record's properties read where they
// stand among the record's own fields. CSV: the first column of that
// name, empty or not.
func (f *facts) fact(key string) *value {
	var out *value
	var look func(obj *value) bool
	look = func(obj *value) bool {
		for _, m := range obj.members {
			if obj == f.top && f.rec != f.top && m.name == "properties" {
				if look(f.rec) {
					return true
				}
				continue
			}
			if _, k := f.lookup(m.name); k != key {
				continue
			}
			if f.si.csv {
				out = m.val
				return true
			}
			if m.val.kind != kString || m.val.text != "" {
				out = m.val
			}
		}
		return false
	}
	look(f.top)
	return out
}

// factText is fact as text, for strings and numbers.
func (f *facts) factText(key string) string { return f.fact(key).asText() }

// analyseSignIn decodes the record with the engine's sign-in decoder and
// derives what the walk needs.
func (f *facts) analyseSignIn(opts Options, decode func(*audit.Decoder) error) {
	var d audit.Decoder
	d.SetDates(opts.Dates)
	f.si.dates = opts.Dates
	if err := decode(&d); err != nil {
		f.skipWhy = err.Error()
	} else {
		f.evOK = true
	}
	f.signin, f.op = true, "SignIn"
	if f.evOK {
		ev := &f.ev
		f.orgID, f.actorTen = string(ev.OrgID), string(ev.ActorTenant)
		f.userRaw, f.appID = string(ev.UserID), string(ev.AppID)
		f.user, f.userKind = string(ev.User), ev.UserKind
		f.hasUserID = len(ev.UserID) > 0
		f.si.ctat = string(ev.CrossTenantAccessType)
	} else {
		// The engine would skip the record; still read what the fields
		// claim, with the engine's rules.
		f.orgID = lowerTrim(firstNonEmpty(f.factText("resourcetenantid"), f.factText("aadtenantid"), f.ehTenant()))
		f.actorTen = lowerTrim(f.factText("hometenantid"))
		f.userRaw = f.factText("userprincipalname")
		f.hasUserID = strings.TrimSpace(f.userRaw) != ""
		f.appID = lowerTrim(f.factText("appid"))
		u, k, _ := audit.Canonical([]byte(f.userRaw), nil)
		f.user, f.userKind = string(u), k
		f.si.ctat = normToken(f.factText("crosstenantaccesstype"))
	}
	if f.appID != "" {
		f.app, f.appKnown = apps.Lookup(f.appID)
	}
	f.dropPlaceholderTenants()
	f.si.orgField = "resourceTenantId"
	if f.fact("resourcetenantid") == nil && f.fact("aadtenantid") != nil {
		f.si.orgField = "AADTenantId"
	} else if f.fact("resourcetenantid") == nil && f.ehTenant() != "" {
		f.si.orgField = "tenantId"
	}
	switch {
	case f.factText("createddatetime") != "":
		f.si.timeKey = "createddatetime"
	case f.factText("timegenerated") != "":
		f.si.timeKey = "timegenerated"
	default:
		f.si.timeKey = "time"
	}
	f.si.category = f.factText("category")

	f.setOurs(opts.OurTenants)

	if f.evOK {
		f.outcome = f.ev.Outcome()
		f.classifySignIn()
	} else {
		f.outcome = f.fallbackOutcome()
	}
}

// ehTenant is an Event Hub record's own tenantId (lower-case spelling
// only: Log Analytics' TenantId is the workspace).
func (f *facts) ehTenant() string {
	if f.si.shape != shapeEventHub {
		return ""
	}
	return f.top.str("tenantId")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// normToken normalises an enum value as the decoder does: lower case,
// without spaces, hyphens and underscores ("B2B collaboration" and
// b2bCollaboration read alike).
func normToken(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch r {
		case ' ', '-', '_':
			continue
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// asObject returns a dynamic field (status, LocationDetails...) as an
// object: the object itself, or the one its JSON text holds; nil
// otherwise.
func asObject(v *value) *value {
	return asKind(v, kObject, "{")
}

// asKind returns v when it is of kind k, or the value of kind k its JSON
// text holds when the text starts with open (Log Analytics writes dynamic
// columns as JSON text); nil otherwise.
func asKind(v *value, k kind, open string) *value {
	if v == nil {
		return nil
	}
	switch v.kind {
	case k:
		return v
	case kString:
		t := strings.TrimSpace(v.text)
		if strings.HasPrefix(t, open) {
			if o, err := parseJSON([]byte(t)); err == nil && o.kind == k {
				return o
			}
		}
	}
	return nil
}

// fallbackOutcome reads the outcome of a record the decoder rejected,
// with the decoder's rule: status.errorCode, else ResultType; a textual
// status when there is no code.
func (f *facts) fallbackOutcome() audit.Outcome {
	var code, text string
	st := f.fact("status")
	if o := asObject(st); o != nil {
		code = firstOf(o, "errorCode", "ErrorCode")
	} else if st != nil && st.kind == kString {
		text = strings.TrimSpace(st.text)
	}
	if code == "" {
		code = f.factText("errorcode")
	}
	if code == "" {
		code = f.factText("resulttype")
	}
	code = strings.TrimSpace(code)
	if code != "" && !isDigits(strings.TrimPrefix(code, "-")) {
		if text == "" {
			text = code
		}
		code = ""
	}
	ev := audit.Event{Operation: []byte("SignIn")}
	switch {
	case code != "":
		ev.ErrorNumber = []byte(code)
	case strings.EqualFold(text, "success"):
		ev.ErrorNumber = []byte("0")
	default:
		ev.ResultStatusDetail = []byte(text)
	}
	return ev.Outcome()
}

// crossTenantOutside are the crossTenantAccessType values that make an
// account pass-through whatever its tenant (docs/rules.md rule 3).
var crossTenantOutside = map[string]bool{
	"passthrough": true, "b2bdirectconnect": true, "serviceprovider": true, "microsoftsupport": true,
}

// classifySignIn applies docs/rules.md "Classify" to this one sign-in, as
// the engine does to every sign-in of an account.
func (f *facts) classifySignIn() {
	ev := &f.ev
	foreign := f.actorTen != "" && !f.ours[f.actorTen]
	if f.userKind == audit.UserGuest {
		f.si.guestWhy = append(f.si.guestWhy, "the UPN has the #EXT# form")
	}
	if ev.UserType == 10 {
		f.si.guestWhy = append(f.si.guestWhy, "userType is guest")
	}
	if f.si.ctat == "b2bcollaboration" {
		f.si.guestWhy = append(f.si.guestWhy, "crossTenantAccessType is b2bCollaboration")
	}
	switch {
	case f.userKind == audit.UserUnusable:
		f.class = classExternalUnknown
		switch {
		case len(ev.ActorObject) > 0 && !audit.IsPlaceholderGUID(ev.ActorObject):
			// As the engine writes it: unknown:<userId as given>.
			f.unknownKey = string(ev.ActorObject)
		case f.actorTen != "":
			f.unknownKey = f.actorTen
		}
		if foreign {
			f.home = f.actorTen
		}
	case len(f.si.guestWhy) > 0:
		f.class = classGuest
	case foreign || crossTenantOutside[f.si.ctat]:
		f.class = classPassthrough
		if foreign {
			f.home = f.actorTen
		}
		f.consumer = f.home == apps.ConsumerTenant
	case f.actorTen != "":
		f.class = classMember
	default:
		f.noTenant = true
		f.class = classMember
		f.consumer = consumerDomains[string(audit.Domain([]byte(f.user)))]
	}
}

// explainSignIn writes the whole walk of a sign-in record.
func (p *printer) explainSignIn(f *facts) {
	p.signInHeadline(f)
	p.line("")
	switch {
	case f.si.csv:
		p.line("The row, column by column:")
		p.walkBy(f, f.rec, f.lookup, "Also present")
	case f.si.shape == shapeEventHub:
		p.line("The diagnostic-settings record, field by field:")
		p.walkBy(f, f.top, f.lookup, "Also present in the record")
		if f.rec != f.top {
			p.line("")
			p.line("The sign-in (properties), field by field:")
			f.si.level = 1
			p.walkBy(f, f.rec, f.lookup, "Also present")
			f.si.level = 0
		}
	default:
		p.line("The sign-in, field by field:")
		p.walkBy(f, f.rec, f.lookup, "Also present")
	}
	p.line("")
	p.line("What this means:")
	p.signInMeaning(f)
}

// signInHeadline says what the record is, in one line, and which export
// it comes from in another.
func (p *printer) signInHeadline(f *facts) {
	var b strings.Builder
	b.WriteString("Sign-in by ")
	b.WriteString(whoAndWhen(f, "userPrincipalName", signInTime(f)))
	b.WriteString(" (Entra ID sign-in log)")
	p.line(b.String())
	switch f.si.shape {
	case shapeGraph:
		p.line("A Microsoft Graph signIn object (GET /auditLogs/signIns, or the Entra admin center's " +
			"JSON download).")
	case shapeEventHub:
		s := "A diagnostic-settings record (Event Hub, storage account)"
		if f.si.category != "" {
			s += ", category " + show(f.si.category)
		}
		switch {
		case f.si.propsErr != "":
			s += "; its properties field should hold the sign-in, but " + textsafe.Terminal(f.si.propsErr) + "."
		case f.si.propsStr:
			s += "; the sign-in is its properties field, as JSON text."
		default:
			s += "; the sign-in is its properties field."
		}
		p.b.WriteString(wrap(s, ""))
	case shapeLA:
		p.b.WriteString(wrap("A Log Analytics row (SigninLogs or AADNonInteractiveUserSignInLogs): the Graph "+
			"fields in PascalCase, with TimeGenerated, ResultType and AADTenantId added.", ""))
	case shapePortalCSV:
		p.line(fmt.Sprintf("A row of the Entra admin center's sign-in CSV download (%s).", plural(len(f.rec.members), "column")))
	case shapeLACSV:
		p.line(fmt.Sprintf("A row of a Log Analytics CSV export of the sign-in log (%s).", plural(len(f.rec.members), "column")))
	}
}

// signInTime is the sign-in's time in UTC as the engine reads it.
func signInTime(f *facts) string {
	if f.evOK {
		return audit.FormatTime(f.ev.Time)
	}
	for _, k := range []string{"createddatetime", "timegenerated", "time"} {
		if ns, ok := audit.ParseTime([]byte(strings.TrimSpace(f.factText(k)))); ok && ns != 0 {
			return audit.FormatTime(ns)
		}
	}
	return ""
}

// signInMeaning writes the conclusion for a sign-in log record.
func (p *printer) signInMeaning(f *facts) {
	p.notJudged(f, f.si.orgField)
	success := "The error code is 0: Entra accepted the account's credentials for this sign-in."
	if len(f.ev.ErrorNumber) == 0 && f.evOK {
		success = "The record gives no error code and no failing status; outsider counts a " +
			"sign-in without one as a success."
	}
	p.outcome(f, success, signInWhy, "a later sign-in of the same account with the same correlationId")
	if f.class == "" {
		return
	}
	app := appLabel(f.appID, f.appKnown, f.app)
	if n := strings.TrimSpace(string(f.ev.AppName)); f.evOK && n != "" && f.appID != "" && !(f.appKnown && f.app.Name != "") {
		// As triage names it: the log's name, marked as the log's.
		app += ` ("` + textsafe.Terminal(n) + `", as the sign-in log names it)`
	}
	who := show(f.user)
	switch f.class {
	case classMember:
		if f.noTenant {
			p.para("Class: member, by this record alone. It gives no homeTenantId%s and no "+
				"crossTenantAccessType that marks an outside account, so nothing here says the "+
				"account is from outside; outsider triage makes it a pass-through when, across the "+
				"logs, %s is not one of our domains (or --domain says so).",
				placeholderNote(f), show(string(audit.Domain([]byte(f.user)))))
			return
		}
		if f.fact("hometenantid") == nil && (f.fact("serviceprincipalname") != nil || f.fact("serviceprincipalid") != nil) {
			p.para("Class: member. A service principal signs in as an object of the resource " +
				"tenant's own directory (it has no home tenant of its own): one of our own " +
				"applications, not an outside sign-in. Nothing here for the outside-sign-in question.")
			return
		}
		p.para("Class: member. The account's home tenant (homeTenantId) is %s: one of our own "+
			"accounts, not an outside sign-in. Nothing here for the outside-sign-in question.", oursWord(f))
	case classGuest:
		p.para("Class: guest (%s). A B2B guest that someone in the organisation invited, with a "+
			"user object in our directory. A guest is not a pass-through, and may be assigned any "+
			"application, so even a sign-in to a third-party application is not anomalous by "+
			"itself. outsider triage still reports the guest, with everything it did and what was "+
			"shared with it.", strings.Join(f.si.guestWhy, "; "))
	case classPassthrough, classExternalUnknown:
		p.para("%s", signInClassWhy(f, who))
		p.outsideAdvice(f, app)
	}
}

// signInWhy names what made a sign-in not a success, as the engine reads
// it: the error code, else the textual status.
func signInWhy(f *facts) string {
	code := string(f.ev.ErrorNumber)
	rsd := string(f.ev.ResultStatusDetail)
	if !f.evOK {
		if st := asObject(f.fact("status")); st != nil {
			code = firstOf(st, "errorCode", "ErrorCode")
		}
		code = strings.TrimSpace(firstNonEmpty(code, f.factText("errorcode"), f.factText("resulttype")))
		if !isDigits(strings.TrimPrefix(code, "-")) {
			rsd, code = firstNonEmpty(code, f.factText("status")), ""
		}
	}
	if code != "" && code != "0" {
		if e, known := aadsts[code]; known {
			return fmt.Sprintf("AADSTS%s, %s", code, e.meaning)
		}
		return "error AADSTS" + show(code)
	}
	if strings.EqualFold(rsd, "interrupted") {
		return "the status is Interrupted, Entra's own word, with no error code"
	}
	return "the status is " + quote(rsd) + " with no error code; outsider counts anything but " +
		"Success and Interrupted as a failure"
}

// signInClassWhy is the class paragraph for an outside account.
func signInClassWhy(f *facts, who string) string {
	home := ""
	if f.home != "" {
		home = " (" + textsafe.Terminal(f.home) + ")"
	}
	switch {
	case f.class == classExternalUnknown:
		s := "Class: external-unknown. userPrincipalName names nobody, so the record cannot say " +
			"who signed in; outsider groups such sign-ins as " + unknownName(f) + "."
		if f.home != "" {
			s += " The account's home tenant is " + textsafe.Terminal(f.home) + ", not ours."
		} else if f.actorBad != "" {
			s += " Its home tenant is unknown: homeTenantId " + quote(f.actorBad) + " is not a tenant id."
		}
		return s
	case f.consumer:
		return "Class: pass-through, consumer. " + who + " is a personal Microsoft account (its " +
			"homeTenantId is the consumer tenant, " + apps.ConsumerTenant + ") with no user object " +
			"in our directory: " + passVerb(f) + "."
	case f.si.ctat == "b2bdirectconnect":
		return "Class: pass-through (B2B direct connect). " + who + " comes from another tenant" + home +
			" and reached a Teams shared channel of ours through B2B direct connect, without a guest " +
			"object in our directory; outsider reports it with the pass-through accounts " +
			"(docs/rules.md rule 3)."
	case f.si.ctat == "serviceprovider":
		return "Class: pass-through (service provider). " + who + " comes from another tenant" + home +
			": a partner's administrator acting in our tenant through delegated admin privileges, " +
			"with no user object in our directory; outsider reports it with the pass-through " +
			"accounts (docs/rules.md rule 3)."
	case f.si.ctat == "microsoftsupport":
		return "Class: pass-through (Microsoft support). " + who + " is Microsoft support staff " +
			"acting in our tenant, with no user object in our directory; outsider reports it with " +
			"the pass-through accounts (docs/rules.md rule 3)."
	case f.home == "":
		return "Class: pass-through. crossTenantAccessType is passthrough: " + who + " has no user " +
			"object in our directory, and " + passVerb(f) + ". The record does not give its home tenant."
	}
	s := "Class: pass-through. " + who + " comes from another tenant" + home + ", not ours"
	switch f.si.ctat {
	case "passthrough":
		s += ", and has no user object in our directory (crossTenantAccessType passthrough)"
	case "unknownfuturevalue":
		s += " (crossTenantAccessType unknownFutureValue: most likely passthrough, exported " +
			"without the header that shows it)"
	}
	return s + ": " + passVerb(f) + "."
}

// passVerb says what Entra did with an outside account, by the outcome:
// a failed or interrupted sign-in authenticated nobody.
func passVerb(f *facts) string {
	if f.outcome == audit.Success {
		return "Entra authenticated it against our tenant (pass-through authentication)"
	}
	return "it tried to sign in to our tenant by pass-through authentication"
}
