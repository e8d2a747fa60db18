package source

import "bytes"

// CSV exports separated by other than commas. Excel saves "CSV" with the
// locale's list separator, ';' in most of Europe, and "Unicode Text" as
// UTF-16 with tabs (Excel's help page "Import or export text (.txt or
// .csv) files"); PowerShell's Export-Csv -UseCulture (or -Delimiter) does
// the same
// (https://learn.microsoft.com/powershell/module/microsoft.powershell.utility/export-csv). An analyst who opens a Purview audit export, an Entra
// sign-in download or a Log Analytics export in Excel and saves it gets
// one of those. Everything else about the file is CSV as Excel writes it
// (RFC 4180 quoting: a field holding the separator, a quote or a line
// break is quoted, quotes doubled), so rows are framed exactly as a comma
// export's (frameCSV counts quotes, never separators) and only the split
// of a row into fields needs the separator.
//
// The separator is decided once per file, from its header row
// (headerSeparator), never per row: a row cannot change it, whatever its
// fields hold. Comma exports keep their fast path (csvField jumps to
// the col-th comma with nthComma): a batch of them costs one test of
// Batch.Separator per record. Every separator then takes the same walk
// and unquoting (csvFieldFrom, unquoteField, closeField, the separator a
// parameter; the unquoting itself never looks at it), ';' and tab from
// the row's first field, as such exports are rare; FuzzCSVSeparator
// holds them to the comma path byte for byte.

// headerNames are column names of the UAL, sign-in log and OfficeActivity
// exports, lower-cased and trimmed: the header's separator is the one that
// splits it into the most of them.
var headerNames = map[string]bool{
	// UAL exports: Purview (RecordId,CreationDate,RecordType,Operation,
	// UserId,AuditData,...;
	// https://learn.microsoft.com/purview/audit-log-export-records), the
	// Security & Compliance Center (CreationDate,UserIds,Operations,
	// AuditData), Export-Csv of Search-UnifiedAuditLog (ResultIndex) and
	// Get-UALGraph (auditLogRecordType, createdDateTime).
	"auditdata": true, "recordid": true, "creationdate": true, "userids": true, "operations": true,
	"resultindex": true, "auditlogrecordtype": true, "createddatetime": true,
	// The Entra admin center's sign-in download
	// (https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs)
	// and Log Analytics' SigninLogs
	// (https://learn.microsoft.com/azure/azure-monitor/reference/tables/signinlogs).
	"date (utc)": true, "username": true, "request id": true, "userprincipalname": true, "resulttype": true,
	// Sentinel's OfficeActivity
	// (https://learn.microsoft.com/azure/azure-monitor/reference/tables/officeactivity).
	"officeworkload": true, "officeid": true, "timegenerated": true,
	// Defender advanced hunting's CloudAppEvents
	// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table).
	"timestamp": true, "reportid": true, "raweventdata": true, "actiontype": true,
}

// headerSeparator returns the separator of the CSV whose header row is
// row: ';' or '\t' when splitting the row at it gives more known column
// names (headerNames) than splitting it at commas (and, for a tab, than
// at ';'); 0, for commas, otherwise, so that a header of no known name
// is read (and refused) as before.
func headerSeparator(row []byte) byte {
	best, most := byte(0), knownColumns(row, ',')
	for _, sep := range []byte{';', '\t'} {
		if bytes.IndexByte(row, sep) < 0 {
			continue
		}
		if n := knownColumns(row, sep); n > most {
			best, most = sep, n
		}
	}
	return best
}

// knownColumns counts the names in headerNames among the fields of row
// split at sep.
func knownColumns(row []byte, sep byte) int {
	fields, _, _ := csvFields(row, sep, nil, nil)
	n := 0
	for _, f := range fields {
		if headerNames[headerKey(string(f))] {
			n++
		}
	}
	return n
}

// FormatName names the input's format as a report shows it: the format,
// with the separator said when it is not a comma ("purview-csv
// (semicolon-separated)"), so that a report tells which file Excel saved
// again.
func (in Input) FormatName() string {
	switch in.Separator {
	case ';':
		return string(in.Format) + " (semicolon-separated)"
	case '\t':
		return string(in.Format) + " (tab-separated)"
	}
	return string(in.Format)
}
