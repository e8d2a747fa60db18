package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"strconv"
)

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
// fields hold. Comma exports keep their fast path (csvField's nthComma,
// unquoteField's word and AVX-512 unquoting) untouched: a batch of them
// costs one test of Batch.Separator per record. The other separators
// take csvFieldSep, which walks to the field with IndexByte and unquotes
// it as unquoteField does (the unquoting never looks at separators),
// only the end of the field found at the separator; FuzzCSVSeparator
// holds it to the comma path byte for byte.

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

// csvFieldSep is csvField of a row separated by sep: the same fields, the
// same scratch and the same errors as csvField gives the row with sep and
// ',' swapped (FuzzCSVSeparator), walked field by field with IndexByte.
func csvFieldSep(row []byte, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	i, n := 0, 0
	for {
		quoted := i < len(row) && row[i] == '"'
		switch {
		case quoted && n == col:
			return unquoteFieldSep(row, i, col, sep, scratch)
		case quoted:
			// A quoted field before the wanted one: step over it to
			// the separator after its closing quote.
			j := i + 1
			for {
				k := bytes.IndexByte(row[j:], '"')
				if k < 0 {
					return nil, scratch, fieldsErr(n+1, col)
				}
				if j+k+1 < len(row) && row[j+k+1] == '"' {
					j += k + 2
					continue
				}
				j += k
				break
			}
			next := bytes.IndexByte(row[j+1:], sep)
			if next < 0 {
				return nil, scratch, fieldsErr(n+1, col)
			}
			i = j + 1 + next + 1
		default:
			k := bytes.IndexByte(row[i:], sep)
			if n == col {
				if k < 0 {
					return row[i:], scratch, nil
				}
				return row[i : i+k], scratch, nil
			}
			if k < 0 {
				return nil, scratch, fieldsErr(n+1, col)
			}
			i += k + 1
		}
		n++
	}
}

// unquoteFieldSep is unquoteField for csvFieldSep: the quoted field at
// row[i], its doubled quotes made single, and what follows its closing
// quote up to the separator (malformed, kept as Excel keeps it), appended
// to scratch. The unquoting itself does not depend on the separator: with
// AVX-512 VBMI2 it is unquoteQuoted, 64 bytes at a time, as for commas;
// otherwise eight bytes at a time (unquoteFieldSepWords). AuditData holds
// a doubled quote every ten bytes or so, and an IndexByte and an append
// per quote read a ';' export at a tenth of the speed.
func unquoteFieldSep(row []byte, i, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	if hasCompress && len(row)-i >= 2*64 {
		return unquoteFieldSepBlocks(row, i, col, sep, scratch)
	}
	return unquoteFieldSepWords(row, i, col, sep, scratch)
}

// unquoteFieldSepBlocks is unquoteFieldBlocks with the separator sep.
func unquoteFieldSepBlocks(row []byte, i, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	start := len(scratch)
	if i+1 >= len(row) {
		return nil, scratch, errors.New("quoted field " + strconv.Itoa(col+1) + " does not close")
	}
	scratch = slices.Grow(scratch, len(row)-i+64)
	out := scratch[start : start+len(row)-i+64]
	closing, o := unquoteQuoted(&out[0], &row[i+1], len(row)-i-1)
	if closing < 0 {
		return nil, scratch[:start], errors.New("quoted field " + strconv.Itoa(col+1) + " does not close")
	}
	return closeFieldSep(row, i+1+closing, out, o, scratch, start, sep)
}

// unquoteFieldSepWords is unquoteFieldWords with the separator sep.
func unquoteFieldSepWords(row []byte, i, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	start := len(scratch)
	// The output is never longer than the field; eight bytes of slack
	// let every word be stored whole.
	scratch = slices.Grow(scratch, len(row)-i+8)
	out := scratch[start : start+len(row)-i+8]
	o, j := 0, i+1
	for {
		found := false
		for j+8 <= len(row) {
			w := binary.LittleEndian.Uint64(row[j:])
			binary.LittleEndian.PutUint64(out[o:], w)
			if m := zeroBytes(w ^ quoteWord); m != 0 {
				p := bits.TrailingZeros64(m) >> 3
				o, j, found = o+p, j+p, true
				break
			}
			o, j = o+8, j+8
		}
		if !found {
			for j < len(row) && row[j] != '"' {
				out[o] = row[j]
				o, j = o+1, j+1
			}
			if j >= len(row) {
				return nil, scratch[:start], errors.New("quoted field " + strconv.Itoa(col+1) + " does not close")
			}
		}
		// row[j] is a quote: doubled, it stands for one.
		if j+1 < len(row) && row[j+1] == '"' {
			out[o] = '"'
			o, j = o+1, j+2
			continue
		}
		break
	}
	// row[j] is the closing quote.
	return closeFieldSep(row, j, out, o, scratch, start, sep)
}

// closeFieldSep is closeField with the separator sep: what lies between
// the closing quote row[closing] and the next separator is kept.
func closeFieldSep(row []byte, closing int, out []byte, o int, scratch []byte, start int, sep byte) ([]byte, []byte, error) {
	stop := len(row)
	if next := bytes.IndexByte(row[closing+1:], sep); next >= 0 {
		stop = closing + 1 + next
	}
	o += copy(out[o:], row[closing+1:stop])
	scratch = scratch[:start+o]
	return scratch[start:], scratch, nil
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
