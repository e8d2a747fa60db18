package source

import (
	"bytes"
	"math/bits"
	"strings"
)

// framing is how an input is cut into records, which the format name
// alone does not say: a graph-audit file may be pages, an array or lines.
type framing uint8

const (
	// frameLines: one record per line.
	frameLines framing = iota
	// frameJSON: the elements of top-level arrays, and top-level objects.
	frameJSON
	// frameWrapped: the items of the "value" or "records" array of each
	// top-level object (Graph pages, Event Hub envelopes), and the
	// elements of top-level arrays.
	frameWrapped
	// frameCSV: the data rows under a header.
	frameRows
	// frameQuery: the rows of each table of a Log Analytics query API
	// response (format_laquery.go).
	frameQuery
	// frameDefender: the result rows of each Defender advanced hunting
	// API response (format_defender.go).
	frameDefender
)

// Sniff windows: most inputs are recognised from their first few KB; the
// first JSON object may need up to sniffMax to be seen whole.
const (
	sniffSmall = 64 << 10
	sniffMax   = 1 << 20
)

// sniffed is what sniffing found.
type sniffed struct {
	format  Format
	framing framing
	csvCol  int
	// header is the header row of a sign-in log CSV.
	header []string
	// sep is a CSV's separator, from its header (headerSeparator).
	sep byte
	// line is the line at the first non-blank byte (leading blank lines
	// are skipped before sniffing).
	line int64
	// problem, when set, is why the input cannot be read; empty tells an
	// empty input apart (it loses no record).
	problem string
	empty   bool
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v'
}

// sniff skips leading whitespace and finds the format and framing of the
// input from its first bytes (or takes the forced format and finds only
// how to frame it). It consumes nothing but the leading whitespace.
func (f *feed) sniff(forced Format) (sniffed, error) {
	s := sniffed{line: 1, csvCol: -1}
	for {
		b := f.buf[f.start:]
		i := 0
		for i < len(b) && isSpace(b[i]) {
			if b[i] == '\n' {
				s.line++
			}
			i++
		}
		f.start += i
		if f.start < len(f.buf) {
			break
		}
		_, ok, err := f.more()
		if err != nil {
			return s, err
		}
		if !ok {
			s.problem, s.empty = "empty file", true
			return s, nil
		}
	}
	// The first look stays within the batch buffer, so that sniffing
	// costs no extra allocation; only an undecided sniff looks further.
	small := sniffSmall
	if c := cap(f.buf) - f.start - f.minRead; c < small {
		small = max(c, 64)
	}
	if err := f.peek(small); err != nil {
		return s, err
	}
	s.format = forced
	switch {
	case forced == UALJSONL:
		s.framing = frameLines
		return s, nil
	case forced == LAQueryAPI:
		s.framing = frameQuery
		return s, nil
	case forced.IsCSV():
		return f.sniffCSV(s)
	case forced == EntraSignInLA && f.buf[f.start] != '[' && f.buf[f.start] != '{':
		// Log Analytics exports are JSON or CSV: the first byte says which.
		return f.sniffCSV(s)
	case forced != Auto:
		return f.sniffJSON(s)
	}
	switch c := f.buf[f.start]; c {
	case '[', '{':
		return f.sniffJSON(s)
	case '<':
		s.problem = "unknown format: first bytes look like XML (Export-Clixml?), not JSON or CSV"
		return s, nil
	}
	return f.sniffCSV(s)
}

// Keys whose presence in the first record tells the formats apart.
const (
	kAuditData          = 1 << iota // PowerShell objects: the record nested
	kauditData                      // Graph auditLogRecord: the record nested
	kAuditLogRecordType             // Graph auditLogRecord
	kCreatedDateTime                // Graph
	kCreationDate                   // PowerShell: CreationDate as \/Date()\/
	kResultIndex                    // PowerShell
	kCreationTime                   // a raw UAL record
	kOperation                      // a raw UAL record

	// Entra sign-in logs. Diagnostic settings (Event Hub) records:
	// {"time","category","properties":{...}}.
	kTime
	kCategory
	kProperties
	// Keys of a Graph signIn that a Graph auditLogRecord lacks (with
	// createdDateTime).
	kGAppID
	kGIPAddress
	kGStatus
	kGCrossTenant
	kGHomeTenant
	kGResourceTenant
	kGConditionalAccess
	kGClientApp
	kGIsInteractive
	// Columns of the Log Analytics SigninLogs table.
	kLAUserPrincipalName
	kLAResultType
	kLAAppID
	kLAIPAddress
	kLACrossTenant
	kLAHomeTenant
	kLAResourceTenant
	kLAConditionalAccess
	kLALocationDetails
	kLAAADTenantID

	// Columns of Sentinel's OfficeActivity table that no UAL record has.
	kOfficeWorkload
	kOfficeID
	kOfficeObjectID
	kOfficeTenantID
	kSourceRecordID
	kClientIPAddressLA
	kOrganizationIDDup
	kUserIDDup
	kClientIPDup

	// A Log Analytics query API response: {"tables":[...]}.
	kTables
	// A Microsoft Defender advanced hunting API response:
	// {"Schema":[...],"Results":[...]}.
	kSchema
	kResults
	// A row of Defender's CloudAppEvents table as a JSON object.
	kRawEventData

	// graphSignInKeys and laSignInKeys group the bits above.
	graphSignInKeys = kGAppID | kGIPAddress | kGStatus | kGCrossTenant | kGHomeTenant | kGResourceTenant |
		kGConditionalAccess | kGClientApp | kGIsInteractive
	laSignInKeys = kLAUserPrincipalName | kLAResultType | kLAAppID | kLAIPAddress | kLACrossTenant |
		kLAHomeTenant | kLAResourceTenant | kLAConditionalAccess | kLALocationDetails | kLAAADTenantID
	// ualKeys mark a UAL record or an envelope of one.
	ualKeys = kAuditData | kauditData | kAuditLogRecordType | kCreationTime | kOperation | kResultIndex
	// officeKeys mark an OfficeActivity row.
	officeKeys = kOfficeWorkload | kOfficeID | kOfficeObjectID | kOfficeTenantID | kSourceRecordID |
		kClientIPAddressLA | kOrganizationIDDup | kUserIDDup | kClientIPDup
)

var sniffKeys = map[string]int{
	"AuditData":          kAuditData,
	"auditData":          kauditData,
	"auditLogRecordType": kAuditLogRecordType,
	"createdDateTime":    kCreatedDateTime,
	"CreationDate":       kCreationDate,
	"ResultIndex":        kResultIndex,
	"CreationTime":       kCreationTime,
	"Operation":          kOperation,

	// Diagnostic settings sign-in records: "Interpret the Microsoft Entra
	// sign-in logs schema in Azure Monitor" (MicrosoftDocs/azure-docs
	// articles/active-directory/reports-monitoring/reference-azure-monitor-sign-ins-log-schema.md).
	"time":       kTime,
	"category":   kCategory,
	"properties": kProperties,
	// Graph signIn (microsoft-graph-docs-contrib api-reference/{v1.0,beta}/resources/signin.md).
	"appId":                   kGAppID,
	"ipAddress":               kGIPAddress,
	"status":                  kGStatus,
	"crossTenantAccessType":   kGCrossTenant,
	"homeTenantId":            kGHomeTenant,
	"resourceTenantId":        kGResourceTenant,
	"conditionalAccessStatus": kGConditionalAccess,
	"clientAppUsed":           kGClientApp,
	"isInteractive":           kGIsInteractive,
	// Log Analytics SigninLogs / AADNonInteractiveUserSignInLogs columns
	// (MicrosoftDocs/azure-reference-other azure-monitor-ref/tables/includes/signinlogs-include.md).
	"UserPrincipalName":       kLAUserPrincipalName,
	"ResultType":              kLAResultType,
	"AppId":                   kLAAppID,
	"IPAddress":               kLAIPAddress,
	"CrossTenantAccessType":   kLACrossTenant,
	"HomeTenantId":            kLAHomeTenant,
	"ResourceTenantId":        kLAResourceTenant,
	"ConditionalAccessStatus": kLAConditionalAccess,
	"LocationDetails":         kLALocationDetails,
	"AADTenantId":             kLAAADTenantID,
	// OfficeActivity columns (Azure Monitor Logs reference,
	// https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity)
	// and the "_" copies Log Analytics keeps of colliding names.
	"OfficeWorkload":   kOfficeWorkload,
	"OfficeId":         kOfficeID,
	"OfficeObjectId":   kOfficeObjectID,
	"OfficeTenantId":   kOfficeTenantID,
	"SourceRecordId":   kSourceRecordID,
	"Client_IPAddress": kClientIPAddressLA,
	"OrganizationId_":  kOrganizationIDDup,
	"UserId_":          kUserIDDup,
	"ClientIP_":        kClientIPDup,
	"tables":           kTables,
	"Schema":           kSchema,
	"Results":          kResults,
	"schema":           kSchema,
	"results":          kResults,
	"RawEventData":     kRawEventData,
}

// officeFormat reports whether a record with these keys is an
// OfficeActivity row: two of the table's own columns, and nothing of a
// raw UAL record or an envelope (Operation the two share).
func officeFormat(keys int) bool {
	return keys&(ualKeys&^kOperation) == 0 && bits.OnesCount(uint(keys&officeKeys)) >= 2
}

// objectFormat names the format of records whose first object has these
// top-level keys, one object per line (lines) or pretty-printed. One
// object a line is PowerShell's only with CreationDate beside AuditData,
// and is otherwise UAL JSON Lines rather than UAL JSON.
func objectFormat(keys int, lines bool) Format {
	switch {
	case keys&kRawEventData != 0:
		return DefenderJSON
	case signInFormat(keys) != Auto:
		return signInFormat(keys)
	case keys&(kauditData|kAuditLogRecordType) != 0:
		return GraphAudit
	case keys&kAuditData != 0 && (!lines || keys&kCreationDate != 0):
		return PowerShellJSON
	case officeFormat(keys):
		return SentinelOfficeJSON
	case lines:
		return UALJSONL
	}
	return UALJSON
}

// isQueryResponse reports whether a top-level object with these keys is a
// Log Analytics query API response.
func isQueryResponse(keys int) bool {
	return keys&kTables != 0 && keys&(ualKeys|officeKeys|graphSignInKeys|laSignInKeys) == 0
}

// signInFormat names the sign-in log format of a record with these keys,
// or returns Auto when the record is not a sign-in. A sign-in is
// recognised by what no UAL record or envelope has: an Event Hub record's
// category and properties; or two of a Graph signIn's own keys (with
// createdDateTime, three without); or two Log Analytics sign-in columns.
func signInFormat(keys int) Format {
	if keys&ualKeys != 0 {
		return Auto
	}
	switch {
	case keys&kCategory != 0 && keys&kProperties != 0 && keys&kTime != 0:
		return EntraSignInEventHub
	case keys&kCreatedDateTime != 0 && bits.OnesCount(uint(keys&graphSignInKeys)) >= 2,
		bits.OnesCount(uint(keys&graphSignInKeys)) >= 3:
		return EntraSignIn
	case bits.OnesCount(uint(keys&laSignInKeys)) >= 2:
		return EntraSignInLA
	}
	return Auto
}

// stringEnds steps over byte c inside a JSON string, esc saying whether
// the byte before was an escaping backslash: true when c is the closing
// quote.
func stringEnds(c byte, esc *bool) bool {
	switch {
	case *esc:
		*esc = false
	case c == '\\':
		*esc = true
	case c == '"':
		return true
	}
	return false
}

// objInfo is what inspectObject learns about the first JSON object.
type objInfo struct {
	end     int  // offset just past the closing brace, -1 if not in data
	newline bool // a newline occurs inside the object (as far as seen)
	keys    int  // k* bits of its top-level keys
	items   int  // offset of the '[' of a top-level "value"/"records" array, or -1
	deep    bool // nested deeper than MaxDepth
}

// inspectObject scans the object starting at data[i] (a '{'), collecting
// its top-level keys. It is a plain byte loop: it only ever sees the sniff
// window.
func inspectObject(data []byte, i int) objInfo {
	info := objInfo{end: -1, items: -1}
	depth := 0
	inStr, esc := false, false
	expectKey, afterColon, itemsKey := false, false, false
	keyStart := -1
	for ; i < len(data); i++ {
		c := data[i]
		if c == '\n' {
			info.newline = true
		}
		if inStr {
			if stringEnds(c, &esc) {
				inStr = false
				if keyStart >= 0 {
					key := data[keyStart:i]
					info.keys |= sniffKeys[string(key)]
					itemsKey = string(key) == "value" || string(key) == "records"
					keyStart = -1
				}
			}
			continue
		}
		if depth == 1 && afterColon && !isSpace(c) {
			afterColon = false
			if c == '[' && itemsKey && info.items < 0 {
				info.items = i
			}
		}
		switch c {
		case '"':
			inStr = true
			if depth == 1 && expectKey {
				keyStart = i + 1
				expectKey = false
			}
		case '{', '[':
			depth++
			if depth == 1 {
				expectKey = true
			}
			if depth > MaxDepth {
				info.deep = true
				return info
			}
		case '}', ']':
			depth--
			if depth == 0 {
				info.end = i + 1
				return info
			}
		case ',':
			if depth == 1 {
				expectKey = true
			}
		case ':':
			if depth == 1 {
				afterColon = true
			}
		}
	}
	return info
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// elementFormat names the format of an array whose first element has
// these keys.
func elementFormat(keys int) Format {
	if keys&kRawEventData != 0 {
		return DefenderJSON
	}
	if f := signInFormat(keys); f != Auto {
		return f
	}
	switch {
	case keys&(kauditData|kAuditLogRecordType) != 0:
		return GraphAudit
	case keys&(kAuditData|kCreationDate|kResultIndex) != 0:
		return PowerShellJSON
	case officeFormat(keys):
		return SentinelOfficeJSON
	}
	return UALJSON
}

// sniffJSON tells JSON Lines, arrays, object sequences and wrapped pages
// apart. f.buf[f.start] is '[' or '{' unless the format was forced.
func (f *feed) sniffJSON(s sniffed) (sniffed, error) {
	forced := s.format
	data := f.buf[f.start:]
	// widen looks at the whole sniff window when what decides the format
	// (the first object, the first item of a page) does not end in the
	// part seen so far.
	widen := func(end int) error {
		if end >= 0 || f.eof || len(data) >= sniffMax {
			return nil
		}
		if err := f.peek(sniffMax); err != nil {
			return err
		}
		data = f.buf[f.start:]
		return nil
	}
	if data[0] == '[' {
		s.framing = frameJSON
		s.format = UALJSON
		if i := skipSpace(data, 1); i < len(data) && data[i] == '{' {
			info := inspectObject(data, i)
			if err := widen(info.end); err != nil {
				return s, err
			}
			s.format = elementFormat(inspectObject(data, i).keys)
		}
		if forced == GraphAudit || forced == EntraSignIn || forced == EntraSignInEventHub {
			s.framing = frameWrapped
		}
		if forced != Auto {
			s.format = forced
		}
		return s, nil
	}
	info := inspectObject(data, 0)
	if isQueryResponse(info.keys) && forced == Auto {
		s.framing, s.format = frameQuery, LAQueryAPI
		return s, nil
	}
	if info.end < 0 && info.items < 0 {
		if err := widen(info.end); err != nil {
			return s, err
		}
		info = inspectObject(data, 0)
	}
	if isDefenderResponse(info.keys) && (forced == Auto || forced == DefenderJSON) {
		s.framing, s.format = frameDefender, DefenderJSON
		return s, nil
	}
	switch {
	case info.items >= 0:
		// A page: {"@odata.context":..., "value":[...]}. Its items are
		// Graph records, unless they are plainly something else.
		s.framing = frameWrapped
		s.format = GraphAudit
		if i := skipSpace(data, info.items+1); i < len(data) && data[i] == '{' {
			item := inspectObject(data, i)
			if err := widen(item.end); err != nil {
				return s, err
			}
			k := inspectObject(data, i).keys
			switch {
			case signInFormat(k) != Auto:
				s.format = signInFormat(k)
			case k&(kauditData|kAuditLogRecordType|kCreatedDateTime) != 0:
			case k&kAuditData != 0:
				s.format = PowerShellJSON
			case k&kCreationTime != 0:
				s.format = UALJSON
			}
		}
	case info.end >= 0 && !info.newline && nextLineStartsObject(data, info.end),
		info.end < 0 && !info.newline && !info.deep && data[0] == '{':
		// One object per line; or a first line longer than the whole
		// sniff window, which only JSON Lines has.
		s.framing = frameLines
		s.format = objectFormat(info.keys, true)
	default:
		// Pretty-printed objects; or a first object nested so deep
		// that it must be hostile, which the scanner reports.
		s.framing = frameJSON
		s.format = objectFormat(info.keys, false)
	}
	if forced != Auto {
		s.format = forced
		if forced == UALJSON || forced == PowerShellJSON || forced == SentinelOfficeJSON {
			// Lines of objects frame the same structurally; the
			// scanner also copes with what is not one per line.
			if s.framing == frameLines {
				s.framing = frameJSON
			}
		}
	}
	return s, nil
}

// nextLineStartsObject reports whether, after the object that ends at
// data[end], the line holds nothing more and the next non-blank byte
// starts another object (or the input ends): the shape of JSON Lines.
func nextLineStartsObject(data []byte, end int) bool {
	i := end
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	if i == len(data) {
		return true
	}
	if data[i] != '\n' {
		return false
	}
	i = skipSpace(data, i)
	return i == len(data) || data[i] == '{'
}

// sniffCSV reads the header row (after an optional "#TYPE ..." line that
// Windows PowerShell's Export-Csv writes) and names the export by its
// columns.
func (f *feed) sniffCSV(s sniffed) (sniffed, error) {
	forced := s.format
	row, ok := firstCSVRow(f.buf[f.start:], f.eof)
	if !ok && !f.eof {
		if err := f.peek(sniffMax); err != nil {
			return s, err
		}
		row, ok = firstCSVRow(f.buf[f.start:], f.eof)
	}
	unknown := "unknown format: first bytes are not JSON or a CSV header with an AuditData column"
	if !ok {
		if forced != Auto {
			unknown = "csv header row not found in the first 1 MB"
		}
		s.problem = unknown
		return s, nil
	}
	cols := make(map[string]bool)
	var scratch []byte
	s.sep = headerSeparator(row)
	for i := 0; ; i++ {
		name, sc, err := CSVFieldSep(row, i, s.sep, scratch)
		if err != nil {
			break
		}
		scratch = sc
		n := strings.ToLower(strings.TrimSpace(string(name)))
		if n == "auditdata" && s.csvCol < 0 {
			s.csvCol = i
		}
		cols[n] = true
		// Log Analytics' CSV export names datetime columns
		// "TimeGenerated [UTC]".
		if b, ok := strings.CutSuffix(n, " [utc]"); ok {
			cols[b] = true
		}
	}
	if forced == DefenderCSV || forced == Auto && s.csvCol < 0 && defenderCSVHeader(cols) {
		return sniffDefenderCSV(s, row)
	}
	// CSV read by column names: a sign-in log, or Sentinel's OfficeActivity.
	if forced.IsSignIn() || forced == SentinelOfficeCSV || forced == Auto && s.csvCol < 0 {
		var format Format
		var why string
		switch {
		case forced.IsSignIn():
			format, why = signInCSV(cols)
		case forced == SentinelOfficeCSV:
			format, why = officeCSV(cols)
		default:
			if format, why = signInCSV(cols); format == Auto && why == "" {
				format, why = officeCSV(cols)
			}
		}
		if format != Auto || forced != Auto {
			if format == Auto {
				s.problem = why
				switch {
				case why != "":
				case forced == SentinelOfficeCSV:
					s.problem = "csv header has no OfficeActivity columns: " + expectOffice
				default:
					s.problem = "csv header has no sign-in log columns: " + expectSignIn
				}
				return s, nil
			}
			if forced != Auto {
				format = forced
			}
			return sniffByHeader(s, row, format)
		} else if why != "" {
			s.problem = "unknown format: " + why
			return s, nil
		}
	}
	if s.csvCol < 0 {
		switch {
		case forced != Auto:
			s.problem = "csv header has no AuditData column"
		case len(cols) >= 3 && printable(row):
			s.problem = unknownCSV
		default:
			s.problem = unknown
		}
		return s, nil
	}
	s.framing = frameRows
	has := func(names ...string) bool {
		for _, n := range names {
			if !cols[n] {
				return false
			}
		}
		return true
	}
	switch {
	case forced != Auto:
		s.format = forced
	case has("recordid", "creationdate", "recordtype", "operation", "userid"):
		s.format = PurviewCSV
	case len(cols) == 4 && has("creationdate", "userids", "operations"):
		s.format = PurviewCSVLegacy
	case cols["resultindex"] || cols["resultcount"] || cols["identity"]:
		s.format = ExportCSV
	case cols["auditlogrecordtype"] || cols["createddatetime"]:
		s.format = GraphAuditCSV
	default:
		// Some other selection of columns (Microsoft's own example
		// exports CreationDate,UserIds,RecordType,AuditData): framed
		// the same way, by the AuditData column.
		s.format = PurviewCSV
	}
	return s, nil
}

// What each kind of CSV needs, for messages that say what a header lacks.
const (
	expectSignIn = "no Date (UTC) and Username (Entra download) or UserPrincipalName and ResultType (Log Analytics) columns"
	expectOffice = "no OfficeWorkload or OfficeId, Operation and TimeGenerated (or Start_Time) columns (Sentinel's OfficeActivity table)"
	// unknownCSV is what a header of text that none of them fits gets.
	unknownCSV = "unknown format: csv header has no AuditData column (a UAL export), no Date (UTC) and Username or " +
		"UserPrincipalName and ResultType columns (a sign-in log) and no OfficeWorkload, OfficeId, Operation and " +
		"TimeGenerated columns (Sentinel's OfficeActivity table)"
)

// officeCSV names the OfficeActivity CSV with these (lower-cased, trimmed,
// " [utc]" removed) column names, or returns Auto and, when the header
// looks like one that cannot be read, why. The header is OfficeActivity's
// when it has one of the table's own columns (OfficeWorkload, OfficeId,
// OfficeObjectId, OfficeTenantId, SourceRecordId, Client_IPAddress; Azure
// Monitor Logs reference,
// https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity),
// or RecordType and Operation with TimeGenerated, which only Log
// Analytics adds to UAL names. It can be read with a time (TimeGenerated,
// or Start_Time in exports without it) and an Operation column.
func officeCSV(cols map[string]bool) (Format, string) {
	own := false
	for _, c := range []string{"officeworkload", "officeid", "officeobjectid", "officetenantid", "sourcerecordid", "client_ipaddress"} {
		own = own || cols[c]
	}
	if !own && !(cols["recordtype"] && cols["operation"] && cols["timegenerated"]) {
		return Auto, ""
	}
	var missing []string
	if !cols["timegenerated"] && !cols["start_time"] {
		missing = append(missing, "TimeGenerated (or Start_Time)")
	}
	if !cols["operation"] {
		missing = append(missing, "Operation")
	}
	if len(missing) > 0 {
		return Auto, "csv header looks like a Sentinel OfficeActivity export but has no " + strings.Join(missing, ", no ") + " column"
	}
	return SentinelOfficeCSV, ""
}

// signInCSV names the sign-in log CSV with these (lower-cased, trimmed)
// column names, or returns Auto and, when the header looks like a sign-in
// log that cannot be read, why.
//
// The Entra admin center's download (Sign-in logs > Download > CSV) has
// "Date (UTC)", "Request ID", "User agent", "Correlation ID", "User ID",
// "User", "Username", "User type", "Cross tenant access type",
// "Application", "Application ID ", "Resource tenant ID", "Home tenant ID",
// "IP address", "Location", "Status", "Sign-in error code", "Failure
// reason", "Client app", "Conditional Access", ... (as downloaded in
// 2025, 56 columns; the service principal download has "Service principal
// ID" instead of the user columns). A Log Analytics CSV export has the
// table's column names (UserPrincipalName, ResultType, TimeGenerated
// [UTC], ...).
func signInCSV(cols map[string]bool) (Format, string) {
	// The columns audit.NewSignInColumns needs: a time, a user, a result.
	lacks := func(what string, groups ...[]string) string {
		var missing []string
		for _, g := range groups {
			found := false
			for _, c := range g {
				found = found || cols[c]
			}
			if !found {
				missing = append(missing, g[0])
			}
		}
		if len(missing) == 0 {
			return ""
		}
		return "csv header looks like " + what + " but has no " + strings.Join(missing, ", no ") + " column"
	}
	switch {
	case cols["date (utc)"] && cols["service principal id"] && !cols["username"]:
		return Auto, "csv header is an Entra service principal sign-in download (no Username column): not a user sign-in log"
	case cols["date (utc)"]:
		if why := lacks("an Entra sign-in download", []string{"username"}, []string{"sign-in error code", "status"}); why != "" {
			return Auto, why
		}
		return EntraSignInCSV, ""
	case cols["userprincipalname"] && (cols["resulttype"] || cols["timegenerated"] || cols["createddatetime"]):
		if why := lacks("a Log Analytics sign-in export", []string{"timegenerated", "createddatetime"}, []string{"resulttype", "status"}); why != "" {
			return Auto, why
		}
		return EntraSignInLA, ""
	}
	return Auto, ""
}

// printable reports whether b is text (no control bytes but tab), to tell
// a CSV header without AuditData from binary garbage.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// firstCSVRow returns the header row at the start of data, skipping a
// "#TYPE" line; ok is false when the row does not end within data (and
// the input goes on).
func firstCSVRow(data []byte, eof bool) (row []byte, ok bool) {
	if bytes.HasPrefix(data, []byte("#TYPE")) {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, false
		}
		data = data[i+1:]
	}
	end, ok := csvRowEnd(data, 0)
	if !ok {
		if !eof {
			return nil, false
		}
		end = len(data)
	}
	return bytes.TrimRight(data[:end], "\r"), true
}

// csvRowEnd finds the newline that ends the row starting at data[i]: the
// first one after an even number of quotes.
func csvRowEnd(data []byte, i int) (int, bool) {
	odd := 0
	for {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return 0, false
		}
		odd ^= bytes.Count(data[i:i+j], quote) & 1
		if odd == 0 {
			return i + j, true
		}
		i += j + 1
	}
}

var quote = []byte{'"'}

// sniffByHeader names a CSV export of format whose rows are decoded by
// the names in its header row: every batch carries the header.
func sniffByHeader(s sniffed, row []byte, format Format) (sniffed, error) {
	fields, _, err := CSVFieldsSep(row, s.sep, nil, nil)
	if err != nil {
		s.problem = "csv header: " + err.Error()
		return s, nil
	}
	s.header = make([]string, len(fields))
	for i, name := range fields {
		s.header[i] = string(name)
	}
	s.format, s.framing, s.csvCol = format, frameRows, -1
	return s, nil
}
