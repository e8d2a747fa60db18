package synth

// The tenant's logs as a Microsoft Sentinel analyst exports them from Log
// Analytics:
//
//   - the OfficeActivity table, where Sentinel keeps the UAL, as the
//     portal's "Export to CSV" writes it (FormatSentinelCSV): the record's
//     fields flattened into the table's columns (Azure Monitor Logs
//     reference, https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity),
//     with the header of a real 131-column export (below), UTF-8 with a
//     byte order mark, CRLF, newest first; TimeGenerated in the portal's
//     US locale ("4/28/2021, 3:05:26.000 PM"); RecordType a name on most
//     rows and a number on some; UserType a name; the "_" copies of
//     OrganizationId, UserId and ClientIP, either or both filled; Actor,
//     ExtendedProperties and the other nested fields as their JSON text;
//   - the sign-in log as a Log Analytics query API response
//     (SignInLogLAQuery; https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format):
//     one response per page of sign-ins, one per line, whose tables hold
//     the interactive sign-ins (SigninLogs) and the non-interactive ones
//     (AADNonInteractiveUserSignInLogs) with the tables' columns
//     (https://learn.microsoft.com/azure/azure-monitor/reference/tables/signinlogs),
//     dynamic columns (Status, LocationDetails, DeviceDetail) as their
//     JSON text, as the API returns them.
//
// Both are derived from what the other formats write (a record's UAL JSON,
// a sign-in's Graph signIn object), so they say the same things, except
// that the export's columns have no ApplicationId: an OfficeActivity
// sign-in row does not say which application was signed in to. The
// answers (Expected) therefore hold for the OfficeActivity export read
// with the sign-in log, as a Sentinel analyst exports both.

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
)

// FormatSentinelCSV is the portal's CSV export of the OfficeActivity table.
const FormatSentinelCSV = "sentinel-officeactivity-csv"

// SentinelFormats lists the Log Analytics shapes of the UAL Generate writes
// besides Formats (which keep every record whole).
var SentinelFormats = []string{FormatSentinelCSV}

// The shapes of the sign-in log (Options.SignInLogFormat).
const (
	// SignInLogGraph is Microsoft Graph signIn pages (the default).
	SignInLogGraph = "graph"
	// SignInLogLAQuery is Log Analytics query API responses holding
	// SigninLogs and AADNonInteractiveUserSignInLogs rows.
	SignInLogLAQuery = "la-query-api"
	// SignInLogEntraCSV is the Entra admin center's CSV download
	// (entracsv.go).
	SignInLogEntraCSV = "entra-csv"
)

// SignInLogFormats lists the Options.SignInLogFormat values.
var SignInLogFormats = []string{SignInLogGraph, SignInLogLAQuery, SignInLogEntraCSV}

// officeHeader is the header of a real portal export of OfficeActivity
// (2021), column for column.
var officeHeader = strings.Split("TenantId,Application,UserDomain,UserAgent,RecordType,TimeGenerated [UTC],Operation,OrganizationId,"+
	"OrganizationId_,UserType,UserKey,OfficeWorkload,ResultStatus,ResultReasonType,OfficeObjectId,UserId,UserId_,ClientIP,ClientIP_,"+
	"Scope,Site_,ItemType,EventSource,Source_Name,MachineDomainInfo,MachineId,Site_Url,Site_Url_,SourceRelativeUrl,SourceRelativeUrl_,"+
	"SourceFileName,SourceFileName_,SourceFileExtension,DestinationRelativeUrl,DestinationFileName,DestinationFileExtension,"+
	"UserSharedWith,SharingType,CustomEvent,Event_Data,ModifiedObjectResolvedName,Parameters,ExternalAccess,OriginatingServer,"+
	"OrganizationName,Logon_Type,InternalLogonType,MailboxGuid,MailboxOwnerUPN,MailboxOwnerSid,MailboxOwnerMasterAccountSid,"+
	"LogonUserSid,LogonUserDisplayName,ClientInfoString,Client_IPAddress,ClientMachineName,ClientProcessName,ClientVersion,Folder,"+
	"CrossMailboxOperations,DestMailboxId,DestMailboxOwnerUPN,DestMailboxOwnerSid,DestMailboxOwnerMasterAccountSid,DestFolder,"+
	"Folders,AffectedItems,Item,ModifiedProperties,SendAsUserSmtp,SendAsUserMailboxGuid,SendOnBehalfOfUserSmtp,"+
	"SendonBehalfOfUserMailboxGuid,ExtendedProperties,Client,LoginStatus,Actor,ActorContextId,ActorIpAddress,InterSystemsId,"+
	"IntraSystemId,SupportTicketId,TargetContextId,DataCenterSecurityEventType,EffectiveOrganization,ElevationTime [UTC],"+
	"ElevationApprover,ElevationApprovedTime [UTC],ElevationRequestId,ElevationRole,ElevationDuration,GenericInfo,SourceSystem,"+
	"OfficeId,SourceRecordId,AzureActiveDirectory_EventType,AADTarget,Start_Time [UTC],OfficeTenantId,OfficeTenantId_,"+
	"TargetUserOrGroupName,TargetUserOrGroupType,MessageId,Members,TeamName,TeamGuid,ChannelType,ChannelName,ChannelGuid,"+
	"ExtraProperties,AddOnType,AddonName,TabType,Name,OldValue,NewValue,ItemName,ChatThreadId,ChatName,CommunicationType,"+
	"AADGroupId,AddOnGuid,AppDistributionMode,TargetUserId,OperationScope,AzureADAppId,OperationProperties,AppId,ClientAppId,"+
	"Type,_ResourceId", ",")

var officeColumn = func() map[string]int {
	m := make(map[string]int, len(officeHeader))
	for i, c := range officeHeader {
		m[c] = i
	}
	return m
}()

// renamed are the UAL fields the table keeps under another column name.
var renamed = map[string]string{
	"Workload":                      "OfficeWorkload",
	"ObjectId":                      "OfficeObjectId",
	"ClientIPAddress":               "Client_IPAddress",
	"Site":                          "Site_",
	"SiteUrl":                       "Site_Url",
	"EventData":                     "Event_Data",
	"LogonType":                     "Logon_Type",
	"AzureActiveDirectoryEventType": "AzureActiveDirectory_EventType",
}

// The workspace the tenant's logs are kept in.
const (
	workspaceID = "0f0e0d0c-0b0a-4909-8807-060504030201"
	workspaceRI = "/subscriptions/2c6e1f0a-7d4b-4e8a-9c3f-5b1d0e2a4c6f/resourcegroups/soc/providers/microsoft.operationalinsights/workspaces/soc-sentinel"
)

// sentinelUserTypes are UserType names as the table writes them.
var sentinelUserTypes = []string{"Regular", "Reserved", "Admin", "DcAdmin", "System", "Application",
	"ServicePrincipal", "CustomPolicy", "SystemPolicy", "PartnerTechnician", "Guest"}

// logonTypes name Exchange's LogonType values (Exchange Mailbox schema of
// the Office 365 Management Activity API).
var logonTypes = []string{"Owner", "Admin", "Delegated", "Transport", "SystemService", "BestAccess", "DelegatedAdmin"}

// officeCSV writes the OfficeActivity export.
type officeCSV struct {
	csvRows
	row     []string
	scratch []byte
}

func (f *officeCSV) begin() { f.bomHeader(officeHeader) }

// dupFill says, from a record's id and a salt, which of a column and its "_"
// copy are filled: 0 the column, 1 the copy, 2 both.
func dupFill(id []byte, salt string) int {
	h := fnv.New32a()
	h.Write(id)
	h.Write([]byte(salt))
	switch h.Sum32() % 8 {
	case 0, 1:
		return 1
	case 2:
		return 2
	}
	return 0
}

// appendPortalTime appends "4/28/2021, 3:05:26.000 PM", the Log Analytics
// portal's export form.
func appendPortalTime(b []byte, sec int64) []byte { return appendUSTime(b, sec, ", ", ".000") }

// text is a field's value as the table holds it: a string's text, a
// number or literal as written, a container's JSON text; "" for null.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case raw[0] == 't':
		return "True"
	case raw[0] == 'f':
		return "False"
	}
	return string(raw)
}

// render fills the row of one record from its UAL JSON.
func (f *officeCSV) render(b []byte, e *event, js []byte) []byte {
	if f.row == nil {
		f.row = make([]string, len(officeHeader))
	}
	row := f.row
	for i := range row {
		row[i] = ""
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(js, &rec); err != nil {
		panic("synth: a generated record is not JSON: " + err.Error())
	}
	set := func(col, v string) {
		if i, ok := officeColumn[col]; ok {
			row[i] = v
		}
	}
	for k, raw := range rec {
		col := k
		if r, ok := renamed[k]; ok {
			col = r
		}
		set(col, text(raw))
	}
	id := e.id[:]
	set("TenantId", workspaceID)
	set("TimeGenerated [UTC]", string(appendPortalTime(nil, e.t)))
	// RecordType: the member name, but a number on some rows (always for
	// ExchangeItemAggregated, as the real export shows).
	if name, ok := rtNames[e.rt]; ok && e.rt != 50 && dupFill(id, "rt") != 1 {
		set("RecordType", name)
	}
	if e.userType >= 0 && e.userType < len(sentinelUserTypes) {
		set("UserType", sentinelUserTypes[e.userType])
	}
	if lt, ok := rec["LogonType"]; ok {
		if n, err := strconv.Atoi(text(lt)); err == nil && n >= 0 && n < len(logonTypes) {
			set("Logon_Type", logonTypes[n])
		}
	}
	for _, c := range []string{"OrganizationId", "UserId", "ClientIP"} {
		v := row[officeColumn[c]]
		switch dupFill(id, c) {
		case 1:
			set(c, "")
			set(c+"_", v)
		case 2:
			set(c+"_", v)
		}
	}
	set("OfficeId", string(id))
	set("SourceRecordId", string(id))
	set("OfficeTenantId", TenantID)
	set("OfficeTenantId_", TenantID)
	if e.kind == kExAdmin {
		set("Start_Time [UTC]", row[officeColumn["TimeGenerated [UTC]"]])
	}
	set("SourceSystem", "OfficeActivityManager")
	set("Type", "OfficeActivity")
	set("_ResourceId", workspaceRI)
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		f.scratch = append(f.scratch[:0], v...)
		if len(v) > 0 {
			b = appendCSVMin(b, f.scratch)
		}
	}
	return append(b, '\r', '\n')
}

// appendColumns appends a table's columns as the query APIs list them
// (Log Analytics' "columns", advanced hunting's "schema"): {"name",
// "type"} objects, comma-separated.
func appendColumns(b []byte, cols []struct{ name, typ string }) []byte {
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":"`...)
		b = append(b, c.name...)
		b = append(b, `","type":"`...)
		b = append(b, c.typ...)
		b = append(b, `"}`...)
	}
	return b
}

// laColumns are the columns the sign-in tables' rows carry, in the
// tables' order, with their Log Analytics types (SigninLogs and
// AADNonInteractiveUserSignInLogs share them).
var laColumns = []struct{ name, typ string }{
	{"TenantId", "string"}, {"SourceSystem", "string"}, {"TimeGenerated", "datetime"}, {"ResourceId", "string"},
	{"OperationName", "string"}, {"OperationVersion", "string"}, {"Category", "string"}, {"ResultType", "string"},
	{"ResultSignature", "string"}, {"ResultDescription", "string"}, {"DurationMs", "long"}, {"CorrelationId", "string"},
	{"Resource", "string"}, {"ResourceGroup", "string"}, {"Identity", "string"}, {"Level", "string"}, {"Location", "string"},
	{"AADTenantId", "string"}, {"AppDisplayName", "string"}, {"AppId", "string"}, {"AuthenticationRequirement", "string"},
	{"ClientAppUsed", "string"}, {"ConditionalAccessStatus", "string"}, {"CreatedDateTime", "datetime"},
	{"CrossTenantAccessType", "string"}, {"DeviceDetail", "dynamic"}, {"HomeTenantId", "string"}, {"Id", "string"},
	{"IPAddress", "string"}, {"IsInteractive", "bool"}, {"IsRisky", "bool"}, {"LocationDetails", "dynamic"},
	{"OriginalRequestId", "string"}, {"ProcessingTimeInMilliseconds", "string"}, {"ResourceDisplayName", "string"},
	{"ResourceIdentity", "string"}, {"ResourceTenantId", "string"}, {"RiskDetail", "string"}, {"RiskLevelAggregated", "string"},
	{"RiskLevelDuringSignIn", "string"}, {"RiskState", "string"}, {"SignInIdentifier", "string"}, {"Status", "dynamic"},
	{"TokenIssuerType", "string"}, {"UserAgent", "string"}, {"UserDisplayName", "string"}, {"UserId", "string"},
	{"UserPrincipalName", "string"}, {"UserType", "string"}, {"Type", "string"},
}

// fromGraph names the Graph signIn property each column copies.
var fromGraph = map[string]string{
	"AppDisplayName": "appDisplayName", "AppId": "appId", "AuthenticationRequirement": "authenticationRequirement",
	"ClientAppUsed": "clientAppUsed", "ConditionalAccessStatus": "conditionalAccessStatus", "CreatedDateTime": "createdDateTime",
	"CrossTenantAccessType": "crossTenantAccessType", "DeviceDetail": "deviceDetail", "HomeTenantId": "homeTenantId", "Id": "id",
	"IPAddress": "ipAddress", "IsInteractive": "isInteractive", "LocationDetails": "location", "OriginalRequestId": "originalRequestId",
	"ProcessingTimeInMilliseconds": "processingTimeInMilliseconds", "ResourceDisplayName": "resourceDisplayName",
	"ResourceIdentity": "resourceId", "ResourceTenantId": "resourceTenantId", "RiskDetail": "riskDetail",
	"RiskLevelAggregated": "riskLevelAggregated", "RiskLevelDuringSignIn": "riskLevelDuringSignIn", "RiskState": "riskState",
	"SignInIdentifier": "signInIdentifier", "Status": "status", "TokenIssuerType": "tokenIssuerType", "UserAgent": "userAgent",
	"UserDisplayName": "userDisplayName", "UserId": "userId", "UserPrincipalName": "userPrincipalName", "UserType": "userType",
	"CorrelationId": "correlationId", "Identity": "userDisplayName", "TimeGenerated": "createdDateTime",
}

// signInStatus is a Graph signIn's status object.
type signInStatus struct {
	ErrorCode     int    `json:"errorCode"`
	FailureReason string `json:"failureReason"`
}

// graphSignIn splits a generated Graph signIn object into its members and
// its status, what the shapes written from it (laRow, the Entra CSV
// download) start from.
func graphSignIn(graph []byte) (map[string]json.RawMessage, signInStatus) {
	var g map[string]json.RawMessage
	if err := json.Unmarshal(graph, &g); err != nil {
		panic("synth: a generated sign-in is not JSON: " + err.Error())
	}
	var status signInStatus
	_ = json.Unmarshal(g["status"], &status)
	return g, status
}

// laRow appends the Log Analytics row of a sign-in given as its Graph
// signIn object.
func laRow(b []byte, graph []byte) []byte {
	g, status := graphSignIn(graph)
	var loc struct {
		Country string `json:"countryOrRegion"`
	}
	_ = json.Unmarshal(g["location"], &loc)
	interactive := string(g["isInteractive"]) == "true"
	quote := func(b []byte, s string) []byte {
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	b = append(b, '[')
	for i, c := range laColumns {
		if i > 0 {
			b = append(b, ',')
		}
		var v string
		switch c.name {
		case "TenantId":
			v = workspaceID
		case "SourceSystem":
			v = "Azure AD"
		case "ResourceId":
			v = "/tenants/" + TenantID + "/providers/Microsoft.aadiam"
		case "OperationName":
			v = "Sign-in activity"
		case "OperationVersion":
			v = "1.0"
		case "Category":
			v = "SignInLogs"
			if !interactive {
				v = "NonInteractiveUserSignInLogs"
			}
		case "ResultType":
			v = strconv.Itoa(status.ErrorCode)
		case "ResultSignature":
			v = "None"
		case "ResultDescription":
			if status.ErrorCode != 0 {
				v = status.FailureReason
			}
		case "DurationMs":
			b = append(b, '0')
			continue
		case "Resource", "ResourceGroup":
			v = "Microsoft.aadiam"
		case "Level":
			v = "4"
		case "Location":
			v = loc.Country
		case "AADTenantId":
			v = TenantID
		case "IsRisky":
			b = append(b, "false"...)
			continue
		case "Type":
			v = "SigninLogs"
			if !interactive {
				v = "AADNonInteractiveUserSignInLogs"
			}
		default:
			raw := bytes.TrimSpace(g[fromGraph[c.name]])
			switch {
			case c.typ == "bool":
				if len(raw) == 0 {
					raw = []byte("null")
				}
				b = append(b, raw...)
				continue
			case c.typ == "dynamic":
				// The API returns a dynamic value as its JSON text.
				if len(raw) == 0 || string(raw) == "null" {
					b = append(b, "null"...)
					continue
				}
				var compact bytes.Buffer
				_ = json.Compact(&compact, raw)
				v = compact.String()
			default:
				v = text(raw)
			}
		}
		b = quote(b, v)
	}
	return append(b, ']')
}

// laQueryLog writes the sign-in log as query API responses: one per page,
// with a table of interactive and one of non-interactive sign-ins.
type laQueryLog struct {
	interactive, background []byte
	ni, nb                  int
}

// add takes one sign-in's Graph object.
func (l *laQueryLog) add(graph []byte) {
	if bytes.Contains(graph, []byte(`"isInteractive":false`)) {
		if l.nb > 0 {
			l.background = append(l.background, ',')
		}
		l.background = laRow(l.background, graph)
		l.nb++
		return
	}
	if l.ni > 0 {
		l.interactive = append(l.interactive, ',')
	}
	l.interactive = laRow(l.interactive, graph)
	l.ni++
}

// page appends the response of what was added since the last page.
func (l *laQueryLog) page(b []byte) []byte {
	table := func(b []byte, name string, rows []byte) []byte {
		b = append(b, `{"name":"`...)
		b = append(b, name...)
		b = append(b, `","columns":[`...)
		b = appendColumns(b, laColumns)
		b = append(b, `],"rows":[`...)
		b = append(b, rows...)
		return append(b, "]}"...)
	}
	b = append(b, `{"tables":[`...)
	b = table(b, "PrimaryResult", l.interactive)
	b = append(b, ',')
	b = table(b, "Table_1", l.background)
	b = append(b, "]}\n"...)
	l.interactive, l.background = l.interactive[:0], l.background[:0]
	l.ni, l.nb = 0, 0
	return b
}
