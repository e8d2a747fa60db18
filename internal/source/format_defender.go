package source

import (
	"encoding/json"
	"strconv"

	"strings"
)

// Microsoft Defender XDR advanced hunting exports. The Microsoft 365 audit
// log is its CloudAppEvents table
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table),
// each row's RawEventData the audit record (audit/defender.go). The portal
// exports a query's results as CSV with the table's column names; the API
// returns {"Stats":{...},"Schema":[{"Name","Type"}],"Results":[{row},...]}
// (the Defender XDR advanced hunting API, POST
// https://api.security.microsoft.com/api/advancedhunting/run;
// https://learn.microsoft.com/defender-xdr/api-advanced-hunting) or
// {"schema":[{"name","type"}],"results":[{row},...]} (Microsoft Graph
// security runHuntingQuery, whose huntingQueryResults are
// https://learn.microsoft.com/graph/api/resources/security-huntingqueryresults),
// rows as objects keyed by column name.

// jsonKind names the kind of JSON value that starts with c, arrays
// included.
func jsonKind(c byte) string {
	if c == '[' {
		return "an array"
	}
	return valueKind(c)
}

// isDefenderResponse reports whether a top-level JSON object with these
// keys is an advanced hunting API response.
func isDefenderResponse(keys int) bool {
	return keys&kSchema != 0 && keys&kResults != 0
}

// defenderCSVHeader reports whether a CSV header with these column names
// (lower-cased, " [utc]" removed) is an advanced hunting export: every
// table has Timestamp, and the tables outsider meets all have ReportId
// ("Unique identifier for the event"); CloudAppEvents' own RawEventData
// alone says it too.
func defenderCSVHeader(cols map[string]bool) bool {
	return cols["raweventdata"] || cols["timestamp"] && cols["reportid"]
}

// sniffDefenderCSV names an advanced hunting CSV export: its rows are
// framed under its header whatever the table, and decoded by the header's
// names (audit.NewDefenderColumns), whose error for a table other than
// CloudAppEvents names it and is every row's reason, so that each row is
// counted skipped.
func sniffDefenderCSV(s sniffed, row []byte) (sniffed, error) {
	return sniffByHeader(s, row, DefenderCSV)
}

// frameDefenderResults frames the rows of advanced hunting API responses: each
// element of a response's Results (results) is a record, a JSON object
// decoded by audit.Decoder.DecodeDefenderKeep. When the response's schema
// comes first and is not CloudAppEvents' (no RawEventData column), its
// rows are skipped with one problem that names the table or its columns
// and counts them; rows without a schema before them are framed, and each
// decoded or refused by its own keys. Several responses may follow one
// another in one input.
func frameDefenderResults(f *feed, line int64) error {
	return frameResponses(f, line, (*queryFramer).defenderResponse, func(c byte) string {
		return "not a Defender advanced hunting API response ({\"Schema\":[...],\"Results\":[...]}): found " + jsonKind(c)
	})
}

// defenderResponse reads one response object.
func (q *queryFramer) defenderResponse() error {
	f := q.f
	line := f.lineAt(q.pos)
	results := false
	why := "" // why the rows cannot be read, once the schema says so
	var skipped int64
	err := q.members("response", func(key string, c byte) error {
		switch {
		case (key == "Schema" || key == "schema") && c == '[':
			data, over, err := q.marked(f.lineAt(q.pos), "schema array")
			if err != nil {
				return err
			}
			if over {
				why = "its schema array is over " + strconv.Itoa(q.limit) + " bytes"
			} else {
				why = defenderSchema(data)
			}
			return nil
		case (key == "Results" || key == "results") && c == '[':
			results = true
			n, err := q.defenderResults(why != "")
			skipped += n
			return err
		}
		return q.skipElem(line, "response")
	})
	if skipped > 0 {
		f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Records: skipped,
			Reason: "results of " + why + ": " + strconv.FormatInt(skipped, 10) + " rows skipped"})
	}
	if err != nil {
		return err
	}
	if !results {
		f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Records: 1,
			Reason: `object has no "Results" array: not a Defender advanced hunting API response`})
	}
	return nil
}

// defenderSchema reads a schema array and says why its rows cannot be
// read ("" for CloudAppEvents, or a schema that cannot be read or names
// no column: then each row is decoded by its own keys).
func defenderSchema(data []byte) string {
	var cols []struct {
		Name  string `json:"Name"`
		Lower string `json:"name"`
	}
	if json.Unmarshal(data, &cols) != nil || len(cols) == 0 {
		return ""
	}
	header := make([]string, 0, len(cols))
	for _, c := range cols {
		n := c.Name
		if n == "" {
			n = c.Lower
		}
		header = append(header, n)
	}
	return DefenderTableProblem(header)
}

// defenderResults frames the results array at pos: each element a record,
// or, when skip, counted. It returns how many were counted.
func (q *queryFramer) defenderResults(skip bool) (skipped int64, err error) {
	f := q.f
	line := f.lineAt(q.pos)
	err = q.elements("results array", func(c byte) error {
		rline := f.lineAt(q.pos)
		if skip {
			skipped++
			return q.skipElem(line, "results array")
		}
		if c != '{' {
			// Skipped first: a value nested too deep or cut short is
			// reported (and counted) as that instead.
			if err := q.skipElem(line, "results array"); err != nil {
				return err
			}
			f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: rline, Records: 1,
				Reason: "result row is " + jsonKind(c) + ", not an object"})
			return nil
		}
		start, size, over, err := q.passValue(rline, "row", 1)
		if err != nil {
			return err
		}
		if over {
			f.overLimit("line", rline, size)
		} else {
			f.add(start, q.pos, rline)
		}
		return nil
	})
	return skipped, err
}

// DefenderTableProblem says why the rows of an advanced hunting table with
// these columns are not read: what the table is, as far as its columns
// tell, and what to export instead; "" for CloudAppEvents (a RawEventData
// column).
//
// The sign-in tables EntraIdSignInEvents and AADSignInEventsBeta
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-entraidsigninevents-table,
// https://learn.microsoft.com/defender-xdr/advanced-hunting-aadsignineventsbeta-table)
// have no home tenant (HomeTenantId), no cross-tenant access type and no
// user type column, only IsExternalUser and IsGuestUser and the resource's
// ResourceTenantId: the facts that tell an outside identity's sign-in (and
// its partner) are not there, so their rows cannot be judged as a sign-in
// log's are.
func DefenderTableProblem(header []string) string {
	for _, h := range header {
		if headerKey(h) == "raweventdata" {
			return ""
		}
	}
	names := make(map[string]bool, len(header))
	for _, h := range header {
		names[headerKey(h)] = true
	}
	if names["accountupn"] && names["errorcode"] && (names["resourcetenantid"] || names["logontype"]) {
		return "a Microsoft Defender advanced hunting sign-in table (EntraIdSignInEvents or AADSignInEventsBeta), " +
			"which has no HomeTenantId or CrossTenantAccessType column to tell outside identities by: " +
			"export the Entra sign-in log instead (Entra admin center > Sign-in logs > Download, or " +
			"Sentinel's SigninLogs and AADNonInteractiveUserSignInLogs tables)"
	}
	if names["actiontype"] && (names["applicationid"] || names["application"] &&
		(names["activitytype"] || names["activityobjects"] || names["isadminoperation"] ||
			names["auditsource"] || names["appinstanceid"])) {
		// CloudAppEvents' own columns
		// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table):
		// ActionType with ApplicationId, or with one of ActivityType,
		// ActivityObjects, IsAdminOperation, AuditSource, AppInstanceId,
		// which no other table pairs with ActionType and Application
		// (IdentityLogonEvents has those two only). A query with a
		// project left RawEventData out; sending the analyst to query
		// "CloudAppEvents" would send them to the table they queried.
		return "CloudAppEvents without its RawEventData column (the query's project, or the columns " +
			"chosen for the export, left it out): RawEventData is the audit record outsider reads; " +
			"run the query again without project (or with RawEventData) and export that"
	}
	shown := header
	if len(shown) > 8 {
		shown = append(shown[:8:8], "...")
	}
	cols := strings.Join(shown, ", ")
	if len(cols) > 200 {
		cols = cols[:200] + "..."
	}
	return "a Microsoft Defender advanced hunting table of columns " + cols + ", not CloudAppEvents " +
		"(which has a RawEventData column): outsider reads CloudAppEvents only; query CloudAppEvents " +
		"(the Microsoft 365 audit log) and export that"
}

// headerKey is a CSV column name as the package compares it (the survey's
// time columns, a header's separator, DefenderTableProblem), as audit's
// headerName does: lower case, trimmed, without a byte order mark or Log
// Analytics' " [utc]" suffix.
func headerKey(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))), " [utc]")
}
