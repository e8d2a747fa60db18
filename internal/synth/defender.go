package synth

// The tenant's audit log as a Microsoft Defender XDR analyst exports it
// from advanced hunting's CloudAppEvents table, where Defender for Cloud
// Apps' Microsoft 365 connector keeps it
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table):
//
//   - the portal's export of a query's results (FormatDefenderCSV): the
//     table's columns in the reference's order, UTF-8 with a byte order
//     mark, CRLF; RawEventData the record's JSON text;
//   - the API's response (FormatDefenderJSON): Microsoft Graph
//     runHuntingQuery's huntingQueryResults,
//     {"@odata.context":...,"schema":[{"name","type"}],"results":[{row}]}
//     (https://learn.microsoft.com/graph/api/security-security-runhuntingquery),
//     one response of at most defenderPage rows, one row a line; RawEventData the
//     record itself on most rows and its JSON text on some, as dynamic
//     values come back either way.
//
// Each row's RawEventData is the record every other format writes, so the
// answers (Expected) are the UAL's. Timestamp is written in the API's form
// ("2024-03-26T09:39:50.7688641Z"); ReportId is the event's id in Defender,
// which is not the record's Id. The columns Defender adds (Application,
// IPAddress, UserAgent, ActivityType, ...) are filled from the record; the
// enrichment ones (CountryCode, Isp, LastSeenForUser...) are left empty.

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"strings"
)

// The Defender advanced hunting shapes of the UAL Generate writes.
const (
	// FormatDefenderCSV is the Defender portal's CSV export of a
	// CloudAppEvents query.
	FormatDefenderCSV = "defender-cloudappevents-csv"
	// FormatDefenderJSON is advanced hunting API responses of a
	// CloudAppEvents query.
	FormatDefenderJSON = "defender-cloudappevents-json"
)

// DefenderFormats lists the Defender shapes of the UAL Generate writes.
var DefenderFormats = []string{FormatDefenderCSV, FormatDefenderJSON}

// cloudAppColumns are CloudAppEvents' columns with their types, in the
// order of the table's reference.
var cloudAppColumns = []struct{ name, typ string }{
	{"Timestamp", "DateTime"}, {"ActionType", "String"}, {"Application", "String"}, {"ApplicationId", "Int32"},
	{"AppInstanceId", "Int32"}, {"AccountObjectId", "String"}, {"AccountId", "String"}, {"AccountDisplayName", "String"},
	{"IsAdminOperation", "Boolean"}, {"DeviceType", "String"}, {"OSPlatform", "String"}, {"IPAddress", "String"},
	{"IsAnonymousProxy", "Boolean"}, {"CountryCode", "String"}, {"City", "String"}, {"Isp", "String"},
	{"UserAgent", "String"}, {"ActivityType", "String"}, {"ActivityObjects", "Object"}, {"ObjectName", "String"},
	{"ObjectType", "String"}, {"ObjectId", "String"}, {"ReportId", "String"}, {"AccountType", "String"},
	{"IsExternalUser", "Boolean"}, {"IsImpersonated", "Boolean"}, {"IPTags", "Object"}, {"IPCategory", "String"},
	{"UserAgentTags", "Object"}, {"RawEventData", "Object"}, {"AdditionalFields", "Object"},
	{"LastSeenForUser", "Object"}, {"UncommonForUser", "Object"}, {"AuditSource", "String"},
	{"SessionData", "Object"}, {"OAuthAppId", "String"},
}

// defenderApps names the application of each workload as Defender for
// Cloud Apps' catalogue does; the numbers are placeholders (the reader
// reads neither).
var defenderApps = map[string]struct {
	name string
	id   string
}{
	"Exchange":             {"Microsoft Exchange Online", "20893"},
	"SharePoint":           {"Microsoft SharePoint Online", "20892"},
	"OneDrive":             {"Microsoft OneDrive for Business", "15600"},
	"MicrosoftTeams":       {"Microsoft Teams", "28375"},
	"AzureActiveDirectory": {"Office 365", "11161"},
}

// defenderPage is how many rows one API response holds.
const defenderPage = 1000

// cloudAppRow is one record's row: its values by column, "" for empty,
// and RawEventData's JSON.
type cloudAppRow struct {
	vals map[string]string
	raw  []byte
}

// reportID is a row's ReportId: derived from the record's Id, but not it.
func reportID(id []byte) string {
	h := fnv.New64a()
	h.Write(id)
	h.Write([]byte("ReportId"))
	return string(appendHex(nil, h.Sum64(), 16))
}

// cloudAppRowOf fills the row of one record from its UAL JSON.
func cloudAppRowOf(e *event, js []byte) cloudAppRow {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(js, &rec); err != nil {
		panic("synth: a generated record is not JSON: " + err.Error())
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, unescapeSlashes(nil, js)); err != nil {
		panic("synth: a generated record is not JSON: " + err.Error())
	}
	v := map[string]string{}
	ts := appendISO(nil, e.t)
	v["Timestamp"] = string(ts) + ".0000000Z"
	v["ActionType"] = e.op
	if app, ok := defenderApps[e.workload]; ok {
		v["Application"], v["ApplicationId"] = app.name, app.id
	}
	v["AppInstanceId"] = "0"
	if e.actor0 != "" && e.actor0 != "Unknown" {
		v["AccountObjectId"], v["AccountId"] = e.actor0, e.actor0
	} else if strings.Contains(e.userID, "@") {
		v["AccountId"] = e.userID
	}
	v["AccountDisplayName"] = e.userID
	v["IsAdminOperation"] = "false"
	if e.kind == kExAdmin || e.kind == kDir {
		v["IsAdminOperation"] = "true"
	}
	ip := text(rec["ClientIP"])
	if ip == "" {
		ip = text(rec["ClientIPAddress"])
	}
	if ip == "" {
		ip = text(rec["ActorIpAddress"])
	}
	v["IPAddress"] = ip
	v["IsAnonymousProxy"] = "false"
	v["UserAgent"] = text(rec["UserAgent"])
	if v["UserAgent"] == "" {
		v["UserAgent"] = text(rec["ClientInfoString"])
	}
	v["ActivityType"] = "Basic"
	v["ObjectName"] = text(rec["ObjectId"])
	v["ObjectId"] = text(rec["ObjectId"])
	v["ReportId"] = reportID(e.id[:])
	v["AccountType"] = "Regular"
	if e.kind == kExAdmin || e.kind == kDir {
		v["AccountType"] = "Admin"
	}
	v["IsExternalUser"] = "false"
	if e.actor0 == "Unknown" || strings.Contains(strings.ToLower(e.userID), "#ext#") {
		v["IsExternalUser"] = "true"
	}
	v["IsImpersonated"] = "false"
	v["AuditSource"] = "Defender for Cloud Apps app connector"
	return cloudAppRow{vals: v, raw: compact.Bytes()}
}

// defenderCSV writes the portal's export.
type defenderCSV struct{ csvRows }

func (f *defenderCSV) begin() {
	names := make([]string, len(cloudAppColumns))
	for i, c := range cloudAppColumns {
		names[i] = c.name
	}
	f.bomHeader(names)
}

func (f *defenderCSV) render(b []byte, e *event, js []byte) []byte {
	row := cloudAppRowOf(e, js)
	for i, c := range cloudAppColumns {
		if i > 0 {
			b = append(b, ',')
		}
		v := []byte(row.vals[c.name])
		if c.name == "RawEventData" {
			v = row.raw
		}
		if len(v) > 0 {
			b = appendCSVMin(b, v)
		}
	}
	return append(b, '\r', '\n')
}

// defenderJSON writes API responses, one per defenderPage rows.
type defenderJSON struct {
	sink
	page []byte
	n    int
}

// defenderHeader opens a response, up to the first result.
func defenderHeader(b []byte) []byte {
	b = append(b, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults","schema":[`...)
	b = appendColumns(b, cloudAppColumns)
	return append(b, `],"results":[`...)
}

var defenderHeaderSize = int64(len(defenderHeader(nil))) + int64(len("\n]}\n"))

func (f *defenderJSON) begin() {}

func (f *defenderJSON) render(b []byte, e *event, js []byte) []byte {
	row := cloudAppRowOf(e, js)
	b = append(b, '{')
	for i, c := range cloudAppColumns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, c.name...)
		b = append(b, `":`...)
		v := row.vals[c.name]
		switch {
		case c.name == "RawEventData":
			// The record itself, or (one row in four) its JSON text.
			if dupFill(e.id[:], "RawEventData") == 1 {
				b = append(b, '"')
				b = appendGraphJS(b, string(row.raw))
				b = append(b, '"')
			} else {
				b = append(b, row.raw...)
			}
		case v == "":
			b = append(b, "null"...)
		case c.typ == "Boolean" || c.typ == "Int32":
			b = append(b, v...)
		default:
			b = append(b, '"')
			b = appendGraphJS(b, v)
			b = append(b, '"')
		}
	}
	return append(b, '}')
}

func (f *defenderJSON) add(e *event, js []byte) {
	if f.n == defenderPage {
		f.flushPage()
	}
	if f.n > 0 {
		f.page = append(f.page, ',')
	}
	// One result a line, so that evidence names a record's line.
	f.page = append(f.page, '\n')
	f.page = f.render(f.page, e, js)
	f.n++
}

func (f *defenderJSON) flushPage() {
	if f.n == 0 {
		return
	}
	f.buf = defenderHeader(f.buf)
	f.buf = append(f.buf, f.page...)
	f.buf = append(f.buf, "\n]}\n"...)
	f.page, f.n = f.page[:0], 0
	f.maybeFlush()
}

func (f *defenderJSON) end() {
	f.flushPage()
	f.flush()
}
func (f *defenderJSON) descending() bool { return false }
func (f *defenderJSON) estimate(e *event, js []byte) int64 {
	return int64(len(f.render(nil, e, js))) + 2
}
func (f *defenderJSON) size() int64 {
	n := f.sink.size() + int64(len(f.page))
	if f.n > 0 {
		n += defenderHeaderSize
	}
	return n
}
