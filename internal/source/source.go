// Package source opens audit-log inputs (files, folders, globs, stdin, .gz,
// .zip), recognises their container format from the content, and frames
// them into raw records that the decoders in package audit turn into events.
//
// The package deals in bytes only: it never interprets the fields of a
// record. That keeps the expensive part (field decoding) parallel in the
// engine's workers while framing, which must be sequential, stays a cheap
// scan for quotes, brackets and newlines. The one exception is a survey,
// not a decode: the locale dates of a CSV's time columns, whose order
// only the whole file can say (dates.go, Batch.Dates).
package source

import "fmt"

// Format names a container format. The names appear in reports
// (input.files[].format) and are accepted by --input-format.
type Format string

// The formats outsider reads. Each one is framed by one file in this
// package (format_<name>.go).
const (
	// Auto asks Read to sniff the format from the content.
	Auto Format = ""
	// UALJSONL is JSON Lines: one record (or envelope) per line, the form
	// of Microsoft-Extractor-Suite's JSONL, Splunk and Elastic exports.
	UALJSONL Format = "ual-jsonl"
	// UALJSON is a JSON array of records (Management Activity API content
	// blobs), compact or pretty, or a sequence of pretty-printed objects.
	UALJSON Format = "ual-json"
	// PowerShellJSON is ConvertTo-Json of Search-UnifiedAuditLog objects:
	// one pretty object or an array, AuditData nested as an object or a
	// string, CreationDate as \/Date(ms)\/.
	PowerShellJSON Format = "ps-json"
	// GraphAudit is Microsoft Graph auditLogRecord output: pages shaped
	// {"value":[...]} (one or many per file), a bare array, or JSON Lines,
	// with the original record under auditData.
	GraphAudit Format = "graph-audit"
	// PurviewCSV is the current Purview portal export, 8 columns:
	// RecordId,CreationDate,RecordType,Operation,UserId,AuditData,
	// AssociatedAdminUnits,AssociatedAdminUnitsNames.
	PurviewCSV Format = "purview-csv"
	// PurviewCSVLegacy is the Security & Compliance Center export, 4
	// columns: CreationDate,UserIds,Operations,AuditData.
	PurviewCSVLegacy Format = "purview-csv-legacy"
	// ExportCSV is Search-UnifiedAuditLog | Export-Csv, 10 columns
	// (RecordType,CreationDate,UserIds,Operations,AuditData,ResultIndex,
	// ResultCount,Identity,IsValid,ObjectState), US dates, optionally led
	// by a "#TYPE ..." line.
	ExportCSV Format = "ual-export-csv"
	// GraphAuditCSV is Get-UALGraph's CSV: id,createdDateTime,...,auditData.
	GraphAuditCSV Format = "graph-audit-csv"

	// Microsoft Sentinel (Log Analytics) keeps the UAL in its
	// OfficeActivity table: the record's fields as columns, partly renamed
	// (OfficeId, TimeGenerated, OfficeWorkload, Client_IPAddress...), no
	// AuditData (audit/office.go; Azure Monitor Logs reference,
	// https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity).
	// The decoder is audit.Decoder.DecodeOfficeKeep (JSON) or
	// DecodeOfficeFieldsKeep (CSV rows, with Batch.Header).

	// SentinelOfficeCSV is the portal's "Export to CSV" of an
	// OfficeActivity query: the table's columns by name ("TimeGenerated
	// [UTC]" in the US locale, RecordType as a name or a number, duplicated
	// columns with a "_" suffix), framed as rows with Batch.Header set.
	SentinelOfficeCSV Format = "sentinel-officeactivity-csv"
	// SentinelOfficeJSON is OfficeActivity rows as JSON objects with the
	// table's column names: an array (the portal's JSON, `az monitor
	// log-analytics query`), JSON Lines or a sequence of objects.
	SentinelOfficeJSON Format = "sentinel-officeactivity-json"

	// The Entra ID sign-in log (docs/rules.md treats each record as a
	// sign-in, Operation "SignIn"), in the shapes its exports take. The
	// decoder is audit.Decoder.DecodeSignInKeep (JSON) or
	// DecodeSignInFieldsKeep (CSV rows, with Batch.Header).

	// EntraSignIn is Microsoft Graph signIn objects (GET /auditLogs/signIns,
	// v1.0 or beta: camelCase, status{errorCode}, location{...}): pages
	// {"@odata.context":"...#auditLogs/signIns","value":[...]}, one or many
	// per file, pretty or one per line; bare arrays; JSON Lines; and the
	// Entra admin center's JSON download (an array of the same objects).
	EntraSignIn Format = "entra-signin"
	// EntraSignInEventHub is diagnostic settings output (Event Hub, storage
	// account): {"records":[{"time","category","tenantId","resultType",
	// "callerIpAddress","correlationId","properties":{...signIn...}}]},
	// category SignInLogs, NonInteractiveUserSignInLogs or
	// ServicePrincipalSignInLogs; also JSON Lines of such records.
	EntraSignInEventHub Format = "entra-signin-eventhub"
	// EntraSignInLA is a Log Analytics (Microsoft Sentinel) export of the
	// SigninLogs or AADNonInteractiveUserSignInLogs table: PascalCase rows
	// (TimeGenerated, UserPrincipalName, ResultType, HomeTenantId,
	// ResourceTenantId, CrossTenantAccessType, Status, LocationDetails...)
	// as a JSON array or JSON Lines, dynamic columns as objects or JSON
	// text; or CSV with those column names (Batch.Header set).
	EntraSignInLA Format = "entra-signin-la"
	// EntraSignInCSV is the Entra admin center's sign-in CSV download
	// ("Date (UTC)","Request ID",...,"Username",...,"Sign-in error code"),
	// framed as rows with Batch.Header set.
	EntraSignInCSV Format = "entra-signin-csv"

	// LAQueryAPI is a response of the Log Analytics query API
	// ({"tables":[{"name","columns":[{"name","type"}],"rows":[[...]]}]}, the
	// shape of `GET/POST .../v1/workspaces/{id}/query` and of Sentinel
	// notebooks' raw output; https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format)
	// holding OfficeActivity, SigninLogs or AADNonInteractiveUserSignInLogs
	// rows (Azure Monitor Logs reference: tables/officeactivity,
	// tables/signinlogs, tables/aadnoninteractiveusersigninlogs under
	// https://learn.microsoft.com/azure/azure-monitor/reference/), one or
	// several tables. Each table is told by its columns; each
	// row is framed as a record (the JSON array of its values), its batch
	// carrying the table's column names in Header and what the table holds
	// in Table. A table of other columns is skipped with one problem.
	LAQueryAPI Format = "la-query-api"

	// Microsoft Defender XDR advanced hunting keeps the Microsoft 365 audit
	// log in its CloudAppEvents table, each row's RawEventData the audit
	// record (format_defender.go; the decoder is
	// audit.Decoder.DecodeDefenderKeep or DecodeDefenderFieldsKeep).

	// DefenderCSV is the Defender portal's export of an advanced hunting
	// query's results: the table's columns by name (Timestamp, ActionType,
	// ..., ReportId, RawEventData as JSON text), framed as rows with
	// Batch.Header set. Rows of a table other than CloudAppEvents are
	// skipped, each with the reason DefenderTableProblem gives.
	DefenderCSV Format = "defender-cloudappevents-csv"
	// DefenderJSON is an advanced hunting API response,
	// {"Schema":[...],"Results":[{row},...]} (the Defender XDR API) or
	// {"schema":[...],"results":[...]} (Microsoft Graph runHuntingQuery):
	// each result row, a JSON object, is a record.
	DefenderJSON Format = "defender-cloudappevents-json"
)

// Formats lists every format a user may force, in the order help shows them.
var Formats = []Format{UALJSONL, UALJSON, PowerShellJSON, GraphAudit, PurviewCSV, PurviewCSVLegacy, ExportCSV, GraphAuditCSV,
	SentinelOfficeCSV, SentinelOfficeJSON, EntraSignIn, EntraSignInEventHub, EntraSignInLA, EntraSignInCSV, LAQueryAPI,
	DefenderCSV, DefenderJSON}

// ParseFormat validates a --input-format value ("" or "auto" means sniff).
func ParseFormat(s string) (Format, error) {
	if s == "" || s == "auto" {
		return Auto, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return Auto, fmt.Errorf("unknown input format %q", s)
}

// IsCSV reports whether records of this format arrive as CSV rows.
// EntraSignInLA may be either: its batches say so with Header.
func (f Format) IsCSV() bool {
	switch f {
	case PurviewCSV, PurviewCSVLegacy, ExportCSV, GraphAuditCSV, SentinelOfficeCSV, EntraSignInCSV, DefenderCSV:
		return true
	}
	return false
}

// IsSignIn reports whether the format is an Entra ID sign-in log, whose
// records are decoded with the sign-in decoders rather than as UAL records.
func (f Format) IsSignIn() bool {
	switch f {
	case EntraSignIn, EntraSignInEventHub, EntraSignInLA, EntraSignInCSV:
		return true
	}
	return false
}
