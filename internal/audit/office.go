package audit

// The Microsoft Sentinel / Log Analytics OfficeActivity decoder. Sentinel
// keeps the Unified Audit Log in the OfficeActivity table, whose columns
// are the UAL record's fields flattened and in part renamed (Azure Monitor
// Logs reference, "OfficeActivity":
// https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity;
// MicrosoftDocs/azure-reference-other
// azure-monitor-ref/tables/includes/officeactivity-include.md):
//
//   - OfficeId is the UAL Id ("Unique identifier of an audit record"; so is
//     SourceRecordId), TimeGenerated the CreationTime ("when the user
//     performed the activity"), OfficeWorkload the Workload, OfficeObjectId
//     the ObjectId, Client_IPAddress Exchange's ClientIPAddress;
//   - RecordType and UserType are strings: the record type's member name
//     (SharePointFileOperation) on most rows of an export and a number on
//     others, the user type's name (Regular, Admin...);
//   - Actor, ExtendedProperties and the other nested UAL fields are the
//     JSON text of the UAL value;
//   - a column whose name collides with another keeps a copy with a "_"
//     suffix (OrganizationId_, UserId_, ClientIP_, OfficeTenantId_), and
//     either may be the filled one;
//   - TenantId is the Log Analytics workspace, not the Microsoft 365
//     tenant (OrganizationId), and is ignored.
//
// The same rows arrive as a CSV export of the portal (columns by name,
// TimeGenerated as "4/28/2021, 3:05:26.000 PM", header "TimeGenerated
// [UTC]"; some exports have Start_Time but no TimeGenerated), as JSON
// objects (an array, JSON Lines, `az monitor log-analytics query`), and as
// rows of a Log Analytics query API response (arrays of values in the
// order of the table's columns). Every shape goes through one column
// mapping (officeColumn) and one settlement (finishOffice), so a row reads
// the same whatever carried it, and reads as the UAL record it came from.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// ofField names an OfficeActivity column the decoder reads.
type ofField uint8

const (
	ofNone ofField = iota
	ofID
	ofSourceRecordID
	ofTime
	ofStart
	ofRecordType
	ofOperation
	ofWorkload
	ofOrg
	ofOrg2
	ofOfficeTenant
	ofOfficeTenant2
	ofActorCtx
	ofUser
	ofUser2
	ofUserKey
	ofUserType
	ofClientIP
	ofClientIP2
	ofClientIPAddress
	ofActorIP
	ofAppID
	ofResultStatus
	ofResultStatusDetail
	ofLogonError
	ofErrorNumber
	ofExtended
	ofUA
	ofClientInfo
	ofObjectID
	ofTarget
	ofSharedWith
	ofTargetType
	ofInterSys
	ofIntraSys
	ofActor
	ofCount
)

// officeColumn maps a column name, lower-cased and trimmed, with the
// portal's " [utc]" suffix removed, to its field.
func officeColumn(name string) ofField {
	switch name {
	case "officeid":
		return ofID
	case "sourcerecordid":
		return ofSourceRecordID
	case "timegenerated":
		return ofTime
	case "start_time":
		return ofStart
	case "recordtype":
		return ofRecordType
	case "operation":
		return ofOperation
	case "officeworkload":
		return ofWorkload
	case "organizationid":
		return ofOrg
	case "organizationid_":
		return ofOrg2
	case "officetenantid":
		return ofOfficeTenant
	case "officetenantid_":
		return ofOfficeTenant2
	case "actorcontextid":
		return ofActorCtx
	case "userid":
		return ofUser
	case "userid_":
		return ofUser2
	case "userkey":
		return ofUserKey
	case "usertype":
		return ofUserType
	case "clientip":
		return ofClientIP
	case "clientip_":
		return ofClientIP2
	case "client_ipaddress":
		return ofClientIPAddress
	case "actoripaddress":
		return ofActorIP
	case "applicationid":
		return ofAppID
	case "resultstatus":
		return ofResultStatus
	// Not columns of the table, but UAL fields an export may carry
	// under their own names.
	case "resultstatusdetail":
		return ofResultStatusDetail
	case "logonerror":
		return ofLogonError
	case "errornumber":
		return ofErrorNumber
	case "extendedproperties":
		return ofExtended
	case "useragent":
		return ofUA
	case "clientinfostring":
		return ofClientInfo
	case "officeobjectid":
		return ofObjectID
	case "targetuserorgroupname":
		return ofTarget
	case "usersharedwith":
		return ofSharedWith
	case "targetuserorgrouptype":
		return ofTargetType
	case "intersystemsid":
		return ofInterSys
	case "intrasystemid":
		return ofIntraSys
	case "actor":
		return ofActor
	}
	return ofNone
}

// officeKey maps a JSON key (a column name as Log Analytics writes it,
// e.g. "TimeGenerated") to its field, without allocating.
func officeKey(k []byte) ofField {
	var buf [32]byte
	if len(k) > len(buf) {
		return ofNone
	}
	return officeColumn(string(lowerASCII(buf[:], k)))
}

// userTypes are the UserType enum's member names, lower-cased, by value
// (Office 365 Management Activity API schema, "Enum: User Type":
// https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-schema#user-type).
var userTypes = [...]string{"regular", "reserved", "admin", "dcadmin", "system", "application",
	"serviceprincipal", "custompolicy", "systempolicy", "partnertechnician", "guest"}

// UserTypeNumber returns the value of a UserType given by name (Regular,
// Admin, Guest...; Sentinel's OfficeActivity and Graph's auditLogRecord
// write names), ignoring case, or -1.
func UserTypeNumber(name []byte) int {
	for n, t := range userTypes {
		if len(name) == len(t) && lowerEqual(name, t) {
			return n
		}
	}
	return -1
}

// lowerASCII writes s lower-cased (ASCII letters only) to dst, which must
// be as long, and returns dst[:len(s)]: with dst a caller's array, a
// lookup key made without allocating.
func lowerASCII(dst, s []byte) []byte {
	dst = dst[:len(s)]
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// lowerEqual reports whether b, lower-cased (ASCII), is s.
func lowerEqual(b []byte, s string) bool {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// enumValue reads RecordType or UserType given as a number or as a name.
func enumValue(v []byte, byName func([]byte) int) int {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return -1
	}
	if isDigits(v) {
		if len(v) > 10 {
			return -1
		}
		n := 0
		neg := v[0] == '-'
		if neg {
			v = v[1:]
		}
		for _, c := range v {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		return n
	}
	return byName(v)
}

// officeState holds a row's values by field until they are settled. It
// lives on the decoder's caller's stack.
type officeState struct {
	v [ofCount][]byte
}

// OfficeColumns maps the columns of one OfficeActivity header (a CSV
// export's header row, or a query API table's columns) to the fields the
// decoder reads. Build it once per file with NewOfficeColumns.
type OfficeColumns struct {
	col [ofCount]int
	n   int
}

// NewOfficeColumns maps a header. It is an error when the header has no
// time (TimeGenerated or Start_Time) or no Operation column: without them
// no row says when or what.
func NewOfficeColumns(header []string) (*OfficeColumns, error) {
	c := mapOfficeColumns(header)
	var missing []string
	if c.col[ofTime] < 0 && c.col[ofStart] < 0 {
		missing = append(missing, "time (TimeGenerated or Start_Time)")
	}
	if c.col[ofOperation] < 0 {
		missing = append(missing, "Operation")
	}
	if len(missing) > 0 {
		return nil, errors.New("OfficeActivity header has no " + strings.Join(missing, ", no ") + " column")
	}
	return c, nil
}

// headerName is a CSV header's column name as the column tables key it:
// lower case, trimmed, without a byte order mark or the Azure portal's and
// Log Analytics' " [utc]" suffix.
func headerName(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))), " [utc]")
}

// mapOfficeColumns maps a header's columns to the fields they hold.
func mapOfficeColumns(header []string) *OfficeColumns {
	c := &OfficeColumns{n: len(header)}
	mapColumns(c.col[:], header, officeColumn)
	return c
}

// mapColumns sets col[f] to the first of header's columns that column
// maps to field f, and to -1 for a field no column holds. Field 0 is
// every table's "none".
func mapColumns[F ~uint8](col []int, header []string, column func(string) F) {
	for i := range col {
		col[i] = -1
	}
	for i, h := range header {
		if f := column(headerName(h)); f != 0 && col[f] < 0 {
			col[f] = i
		}
	}
}

// DecodeOfficeFieldsKeep fills ev from the fields of one OfficeActivity
// row (a CSV row split with source.CSVFields, or a query API row split
// with RowFieldsKeep). The byte fields alias fields' bytes or the arena
// (kept until ResetArena). A row with fewer fields than the header, or
// without a time, is an error.
func (d *Decoder) DecodeOfficeFieldsKeep(c *OfficeColumns, fields [][]byte, ev *Event) error {
	ev.Reset()
	if len(fields) < c.n {
		return decodeErr("row has %d fields, the header %d", len(fields), c.n)
	}
	var st officeState
	for f := ofField(1); f < ofCount; f++ {
		if i := c.col[f]; i >= 0 {
			st.v[f] = fields[i]
		}
	}
	return d.finishOffice(ev, &st)
}

// DecodeOfficeKeep fills ev from one OfficeActivity row as a JSON object
// (the portal's JSON, `az monitor log-analytics query`, JSON Lines), like
// DecodeKeep: the byte fields point into data or the arena (kept until
// ResetArena). Values may be strings, numbers, booleans or null; a nested
// column (Actor, ExtendedProperties) may be its JSON text or the value
// itself. The input must be valid UTF-8.
func (d *Decoder) DecodeOfficeKeep(data []byte, ev *Event) error {
	ev.Reset()
	var st officeState
	s := d.scanner(data)
	if err := d.officeObject(&s, func(key []byte) error {
		f := officeKey(key)
		if f == ofNone {
			return s.skip(d)
		}
		v, err := d.valueText(&s)
		st.v[f] = v
		return err
	}); err != nil {
		return err
	}
	return d.finishOffice(ev, &st)
}

// officeObject walks the row object at s, calling member with each key
// (member consumes the value), and checks that nothing follows it.
func (d *Decoder) officeObject(s *scanner, member func(key []byte) error) error {
	if err := s.starts('{', "record"); err != nil {
		return err
	}
	if err := d.fields(s, "record", member); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.data) {
		return decodeErr("unexpected %s after the record", s.what())
	}
	return nil
}

// valueText reads any JSON value as text: a string's (unescaped) content,
// a number or boolean as written, a container's JSON text; null is nil.
func (d *Decoder) valueText(s *scanner) ([]byte, error) {
	if s.i >= len(s.data) {
		return nil, decodeErr("truncated record")
	}
	switch s.data[s.i] {
	case '"':
		return d.str(s)
	case 'n':
		return nil, s.skip(d)
	}
	start := s.i
	err := s.skip(d)
	return s.data[start:s.i], err
}

// RowFieldsKeep splits one row of a Log Analytics query API response (a
// JSON array of the row's values, in the order of its table's columns)
// into dst, each value as valueText reads it: the fields then decode by
// the table's column names exactly as a CSV row's do. Strings that need
// unescaping go to the arena (kept until ResetArena). The input must be
// valid UTF-8.
func (d *Decoder) RowFieldsKeep(row []byte, dst [][]byte) ([][]byte, error) {
	dst = dst[:0]
	s := d.scanner(row)
	if err := s.starts('[', "row"); err != nil {
		return dst, err
	}
	s.i++
	for first := true; ; first = false {
		s.ws()
		if s.i >= len(s.data) {
			return dst, decodeErr("truncated row")
		}
		if s.data[s.i] == ']' {
			s.i++
			break
		}
		if !first {
			if s.data[s.i] != ',' {
				return dst, decodeErr("expected ',' or ']' at byte %d, found %s", s.i, s.what())
			}
			s.i++
			s.ws()
		}
		v, err := d.valueText(&s)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	s.ws()
	if s.i < len(s.data) {
		return dst, decodeErr("unexpected %s after the row", s.what())
	}
	return dst, nil
}

// firstOf returns the first non-empty value of the fields, in order: of a
// column and its "_" twin, either may be the filled one.
func (st *officeState) firstOf(fs ...ofField) []byte {
	for _, f := range fs {
		if v := bytes.TrimSpace(st.v[f]); len(v) > 0 {
			return v
		}
	}
	return nil
}

// finishOffice turns a row's values into the event its UAL record gives.
func (d *Decoder) finishOffice(ev *Event, st *officeState) error {
	ev.Kind = KindUAL
	// TimeGenerated is the UAL's CreationTime; exports without it have
	// Start_Time.
	name, tv := "TimeGenerated", st.firstOf(ofTime)
	if tv == nil {
		name, tv = "Start_Time", st.firstOf(ofStart)
	}
	if tv == nil {
		return decodeErr("no TimeGenerated")
	}
	t, order, _ := signInTime(tv, d.dates)
	if order >= DateAmbiguous {
		return timeErr(name, tv, order, d.dates)
	}
	ev.Time = t
	ev.ID = st.firstOf(ofID, ofSourceRecordID)
	ev.RecordType = enumValue(st.v[ofRecordType], RecordTypeNumber)
	ev.UserType = enumValue(st.v[ofUserType], UserTypeNumber)
	ev.Operation = st.firstOf(ofOperation)
	ev.Workload = st.firstOf(ofWorkload)
	if org := st.firstOf(ofOrg, ofOrg2); org != nil {
		ev.OrgID = d.lowerBytes(org)
	} else if org := st.firstOf(ofOfficeTenant, ofOfficeTenant2); isGUID(org) {
		// OfficeTenantId, "the office tenant id", only when it is one:
		// exports have held placeholders there.
		ev.OrgID = d.lowerBytes(org)
	}
	if v := st.firstOf(ofActorCtx); v != nil {
		ev.ActorTenant = d.lowerBytes(v)
	}
	ev.UserID = st.firstOf(ofUser, ofUser2)
	ev.UserKey = st.firstOf(ofUserKey)
	for _, f := range [...]ofField{ofClientIP, ofClientIP2, ofClientIPAddress, ofActorIP} {
		if a, ok := ParseIP(st.v[f]); ok {
			ev.addIP(a)
		}
	}
	if v := st.firstOf(ofAppID); v != nil {
		ev.AppID = d.lowerBytes(v)
	}
	ev.ResultStatus = st.firstOf(ofResultStatus)
	ev.LogonError = st.firstOf(ofLogonError)
	ev.ErrorNumber = st.firstOf(ofErrorNumber)
	if v := st.firstOf(ofExtended); v != nil {
		if err := d.nestedText(v, ofExtended, ev); err != nil {
			return err
		}
	}
	if v := st.firstOf(ofResultStatusDetail); v != nil {
		ev.ResultStatusDetail = v
	}
	if v := st.firstOf(ofUA); v != nil {
		ev.UserAgent = v
	}
	if len(ev.UserAgent) == 0 {
		ev.UserAgent = st.firstOf(ofClientInfo)
	}
	ev.ObjectID = st.firstOf(ofObjectID)
	ev.Target = st.firstOf(ofTarget, ofSharedWith)
	ev.TargetType = st.firstOf(ofTargetType)
	if v := st.firstOf(ofInterSys); v != nil {
		ev.InterSystemsID = d.lowerBytes(v)
	}
	if v := st.firstOf(ofIntraSys); v != nil {
		ev.IntraSystemID = d.lowerBytes(v)
	}
	if v := st.firstOf(ofActor); v != nil {
		if err := d.nestedText(v, ofActor, ev); err != nil {
			return err
		}
	}
	ev.User, ev.UserKind, d.arena = Canonical(ev.UserID, d.arena)
	return nil
}

// nestedText decodes a nested UAL field held as JSON text (Actor,
// ExtendedProperties: arrays of objects). Text that is not an array says
// nothing the decoder reads and is ignored; an array that does not parse
// is an error, as it is in a UAL record.
func (d *Decoder) nestedText(text []byte, f ofField, ev *Event) error {
	if text[0] != '[' {
		return nil
	}
	s := scanner{data: text}
	name, err := "Actor", error(nil)
	if f == ofExtended {
		name, err = "ExtendedProperties", d.extended(&s, ev)
	} else {
		err = d.actors(&s, ev)
	}
	if err != nil {
		return errors.New(name + ": " + err.Error())
	}
	s.ws()
	if s.i < len(s.data) {
		return decodeErr("%s: unexpected %s after the array", name, s.what())
	}
	return nil
}

// ualNames are the UAL field names of the OfficeActivity columns, for
// OfficeUAL; a column and its "_" copy share one.
var ualNames = [ofCount]string{
	ofID: "Id", ofSourceRecordID: "Id", ofTime: "CreationTime", ofStart: "CreationTime", ofRecordType: "RecordType",
	ofOperation: "Operation", ofWorkload: "Workload", ofOrg: "OrganizationId", ofOrg2: "OrganizationId",
	ofOfficeTenant: "OrganizationId", ofOfficeTenant2: "OrganizationId", ofActorCtx: "ActorContextId",
	ofUser: "UserId", ofUser2: "UserId", ofUserKey: "UserKey", ofUserType: "UserType", ofClientIP: "ClientIP",
	ofClientIP2: "ClientIP", ofClientIPAddress: "ClientIPAddress", ofActorIP: "ActorIpAddress", ofAppID: "ApplicationId",
	ofResultStatus: "ResultStatus", ofResultStatusDetail: "ResultStatusDetail", ofLogonError: "LogonError",
	ofErrorNumber: "ErrorNumber", ofExtended: "ExtendedProperties", ofUA: "UserAgent", ofClientInfo: "ClientInfoString",
	ofObjectID: "ObjectId", ofTarget: "TargetUserOrGroupName", ofSharedWith: "UserSharedWith",
	ofTargetType: "TargetUserOrGroupType", ofInterSys: "InterSystemsId", ofIntraSys: "IntraSystemId", ofActor: "Actor",
}

// OfficeUAL writes an OfficeActivity row (its header and fields, as for
// DecodeOfficeFieldsKeep) as the UAL record it came from, in JSON: the
// columns the decoder reads under their UAL names (of a column and its
// "_" copy, the filled one), TimeGenerated as CreationTime, RecordType
// and UserType as numbers where their names are known, Actor and
// ExtendedProperties as the arrays their text holds. `outsider explain`
// walks that record; the audit decoder reads it as it reads the row. It is
// an error when the row is shorter than the header; a header without the
// columns a CSV export needs (NewOfficeColumns) still gives a record, as
// a JSON object without them is still decoded. dates is what the locale
// dates of the row's file show of their order (Decoder.SetDates): the
// time is written as the decoder reads it.
func OfficeUAL(header []string, fields [][]byte, dates localedate.Evidence) ([]byte, error) {
	c := mapOfficeColumns(header)
	if len(fields) < c.n {
		return nil, decodeErr("row has %d fields, the header %d", len(fields), c.n)
	}
	var st officeState
	for f := ofField(1); f < ofCount; f++ {
		if i := c.col[f]; i >= 0 {
			st.v[f] = fields[i]
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	done := map[string]bool{}
	put := func(name string, raw []byte) {
		if done[name] {
			return
		}
		done[name] = true
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(raw)
	}
	str := func(v []byte) []byte {
		q, _ := json.Marshal(string(v))
		return q
	}
	// The time first, in the UAL's form, when it reads.
	for _, f := range []ofField{ofTime, ofStart} {
		if v := st.firstOf(f); v != nil {
			if t, order, _ := signInTime(v, dates); order < DateAmbiguous {
				put("CreationTime", str([]byte(strings.TrimSuffix(FormatTime(t), "Z"))))
			} else {
				put("CreationTime", str(v))
			}
			break
		}
	}
	for f := ofField(1); f < ofCount; f++ {
		v := bytes.TrimSpace(st.v[f])
		name := ualNames[f]
		if len(v) == 0 || name == "" {
			continue
		}
		switch f {
		case ofTime, ofStart:
			continue
		case ofOfficeTenant, ofOfficeTenant2:
			if !isGUID(v) {
				continue
			}
		case ofRecordType:
			if n := enumValue(v, RecordTypeNumber); n >= 0 {
				put(name, []byte(strconv.Itoa(n)))
				continue
			}
		case ofUserType:
			if n := enumValue(v, UserTypeNumber); n >= 0 {
				put(name, []byte(strconv.Itoa(n)))
				continue
			}
		case ofActor, ofExtended:
			if v[0] == '[' && json.Valid(v) {
				var compact bytes.Buffer
				if json.Compact(&compact, v) == nil {
					put(name, compact.Bytes())
					continue
				}
			}
		}
		put(name, str(v))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// OfficeObjectFields splits an OfficeActivity row given as a JSON object
// into the header and fields OfficeUAL takes (each value as
// RowFieldsKeep reads it).
func OfficeObjectFields(data []byte) (header []string, fields [][]byte, err error) {
	var d Decoder
	s := scanner{data: data}
	err = d.officeObject(&s, func(key []byte) error {
		v, err := d.valueText(&s)
		header = append(header, string(key))
		fields = append(fields, bytes.Clone(v))
		return err
	})
	return header, fields, err
}
