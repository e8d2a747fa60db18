package synth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parsed is one record read back with the standard library only.
type parsed struct {
	id    string
	audit map[string]any
	// env is the envelope: the object around AuditData (PowerShell, Graph)
	// or the CSV row by column name; nil for raw records.
	env map[string]any
}

func (p parsed) creationTime(t testing.TB) time.Time {
	s, _ := p.audit["CreationTime"].(string)
	tm, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		t.Fatalf("record %s: CreationTime %q: %v", p.id, s, err)
	}
	return tm
}

// parseOutput decodes a whole output of the given format.
func parseOutput(t testing.TB, format string, data []byte) []parsed {
	t.Helper()
	switch format {
	case FormatJSONL:
		var out []parsed
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("jsonl line %d: %v", n, err)
			}
			out = append(out, parsed{id: m["Id"].(string), audit: m})
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	case FormatJSON, FormatPSJSON:
		// Both are one JSON array; PowerShell's objects carry the record
		// as their AuditData.
		var arr []map[string]any
		if err := json.Unmarshal(data, &arr); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := make([]parsed, len(arr))
		for i, m := range arr {
			if format == FormatJSON {
				out[i] = parsed{id: m["Id"].(string), audit: m}
				continue
			}
			a, ok := m["AuditData"].(map[string]any)
			if !ok {
				t.Fatalf("ps-json object %d: AuditData is not an object", i)
			}
			out[i] = parsed{id: a["Id"].(string), audit: a, env: m}
		}
		return out
	case FormatGraph:
		var out []parsed
		dec := json.NewDecoder(bytes.NewReader(data))
		for page := 1; ; page++ {
			var p struct {
				Context  string           `json:"@odata.context"`
				NextLink string           `json:"@odata.nextLink"`
				Value    []map[string]any `json:"value"`
			}
			err := dec.Decode(&p)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("graph page %d: %v", page, err)
			}
			if len(p.Value) == 0 || len(p.Value) > 1000 || p.Context == "" {
				t.Fatalf("graph page %d: %d records, context %q", page, len(p.Value), p.Context)
			}
			more := dec.More()
			if (p.NextLink != "") != more {
				t.Fatalf("graph page %d: nextLink %q but more pages %v", page, p.NextLink, more)
			}
			for _, m := range p.Value {
				a, ok := m["auditData"].(map[string]any)
				if !ok {
					t.Fatalf("graph page %d: auditData is not an object", page)
				}
				if typ, _ := a["@odata.type"].(string); !strings.HasPrefix(typ, "#microsoft.graph.security.") {
					t.Fatalf("graph: auditData @odata.type %q", typ)
				}
				delete(a, "@odata.type")
				out = append(out, parsed{id: m["id"].(string), audit: a, env: m})
			}
		}
		return out
	case FormatPurviewCSV, FormatPurviewCSVLegacy, FormatExportCSV:
		r := csv.NewReader(bytes.NewReader(data))
		header, err := r.Read()
		if err != nil {
			t.Fatalf("%s header: %v", format, err)
		}
		want := map[string]string{
			FormatPurviewCSV:       "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames",
			FormatPurviewCSVLegacy: "CreationDate,UserIds,Operations,AuditData",
			FormatExportCSV:        "RecordType,CreationDate,UserIds,Operations,AuditData,ResultIndex,ResultCount,Identity,IsValid,ObjectState",
		}[format]
		if got := strings.Join(header, ","); got != want {
			t.Fatalf("%s header %q, want %q", format, got, want)
		}
		var out []parsed
		for row := 2; ; row++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s row %d: %v", format, row, err)
			}
			env := map[string]any{}
			for i, h := range header {
				env[h] = rec[i]
			}
			var a map[string]any
			if err := json.Unmarshal([]byte(env["AuditData"].(string)), &a); err != nil {
				t.Fatalf("%s row %d AuditData: %v", format, row, err)
			}
			out = append(out, parsed{id: a["Id"].(string), audit: a, env: env})
		}
		return out
	}
	t.Fatalf("no parser for %s", format)
	return nil
}

// checkEnvelope checks the fields around AuditData against AuditData.
func checkEnvelope(t testing.TB, format string, p parsed) {
	t.Helper()
	a, env := p.audit, p.env
	ct := p.creationTime(t)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	num := func(v any) int {
		switch x := v.(type) {
		case float64:
			return int(x)
		case string:
			n, _ := strconv.Atoi(x)
			return n
		}
		return -1
	}
	fail := func(format2 string, args ...any) {
		t.Helper()
		t.Fatalf("%s record %s: %s", format, p.id, fmt.Sprintf(format2, args...))
	}
	rt := num(a["RecordType"])
	switch format {
	case FormatPSJSON:
		if want := fmt.Sprintf("/Date(%d)/", ct.UnixMilli()); str(env, "CreationDate") != want {
			fail("CreationDate %q, want %q", str(env, "CreationDate"), want)
		}
		if str(env, "RecordType") != rtNames[rt] || str(env, "Operations") != str(a, "Operation") ||
			str(env, "UserIds") != str(a, "UserId") || str(env, "Identity") != p.id || env["IsValid"] != true {
			fail("envelope %v", env)
		}
		if i, n := num(env["ResultIndex"]), num(env["ResultCount"]); i < 1 || i > n {
			fail("ResultIndex %d of %d", i, n)
		}
	case FormatGraph:
		if str(env, "createdDateTime") != ct.Format(time.RFC3339) || str(env, "auditLogRecordType") != graphRecordTypes[rt] ||
			str(env, "operation") != str(a, "Operation") || str(env, "userId") != str(a, "UserId") ||
			str(env, "organizationId") != str(a, "OrganizationId") || str(env, "service") != str(a, "Workload") ||
			str(env, "userType") != graphUserTypes[num(a["UserType"])] {
			fail("envelope %v", env)
		}
		if ip := str(env, "clientIp"); ip != "" && ip != str(a, "ClientIP") && ip != str(a, "ClientIPAddress") {
			fail("clientIp %q not an address of the record", ip)
		}
	case FormatPurviewCSV:
		if str(env, "CreationDate") != ct.Format("1/2/2006 3:04:05 PM") || str(env, "RecordId") != p.id ||
			num(env["RecordType"]) != rt || str(env, "Operation") != str(a, "Operation") || str(env, "UserId") != str(a, "UserId") {
			fail("row %v", env)
		}
	case FormatPurviewCSVLegacy:
		if str(env, "CreationDate") != ct.Format("2006-01-02T15:04:05.0000000Z") || str(env, "Operations") != str(a, "Operation") ||
			str(env, "UserIds") != str(a, "UserId") {
			fail("row %v", env)
		}
	case FormatExportCSV:
		if str(env, "CreationDate") != ct.Format("1/2/2006 3:04:05 PM") || str(env, "RecordType") != rtNames[rt] ||
			str(env, "Identity") != p.id || str(env, "Operations") != str(a, "Operation") || str(env, "UserIds") != str(a, "UserId") ||
			str(env, "IsValid") != "True" || str(env, "ObjectState") != "Unchanged" {
			fail("row %v", env)
		}
		if i, n := num(env["ResultIndex"]), num(env["ResultCount"]); i < 1 || i > n {
			fail("ResultIndex %d of %d", i, n)
		}
	}
}
