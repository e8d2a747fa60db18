package synth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"testing"
)

// parseDefender reads the Defender shapes back with the standard library:
// each row by column name, and its RawEventData as a record.
func parseDefender(t *testing.T, format string, data []byte) []parsed {
	t.Helper()
	var rows []map[string]any
	switch format {
	case FormatDefenderCSV:
		if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			t.Fatal("no byte order mark")
		}
		all, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cloudAppColumns {
			if all[0][i] != c.name {
				t.Fatalf("column %d is %q, want %q", i, all[0][i], c.name)
			}
		}
		for _, r := range all[1:] {
			m := map[string]any{}
			for i, v := range r {
				m[all[0][i]] = v
			}
			rows = append(rows, m)
		}
	case FormatDefenderJSON:
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		sc.Split(splitResponses)
		for sc.Scan() {
			var resp struct {
				Context string `json:"@odata.context"`
				Schema  []struct{ Name, Type string }
				Results []map[string]any
			}
			if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if len(resp.Schema) != len(cloudAppColumns) || len(resp.Results) == 0 || len(resp.Results) > defenderPage {
				t.Fatalf("a response of %d columns, %d results", len(resp.Schema), len(resp.Results))
			}
			for i, c := range cloudAppColumns {
				if resp.Schema[i].Name != c.name || resp.Schema[i].Type != c.typ {
					t.Fatalf("schema %d: %+v, want %+v", i, resp.Schema[i], c)
				}
			}
			rows = append(rows, resp.Results...)
		}
	}
	var out []parsed
	for _, r := range rows {
		var rec map[string]any
		switch raw := r["RawEventData"].(type) {
		case string:
			if err := json.Unmarshal([]byte(raw), &rec); err != nil {
				t.Fatalf("RawEventData %q: %v", raw, err)
			}
		case map[string]any:
			rec = raw
		default:
			t.Fatalf("RawEventData is %T", raw)
		}
		id, _ := rec["Id"].(string)
		out = append(out, parsed{id: id, audit: rec, env: r})
	}
	return out
}

// splitResponses splits the API output at the newline that ends each
// response ("]}" then a newline).
func splitResponses(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.Index(data, []byte("]}\n")); i >= 0 {
		return i + 3, data[:i+2], nil
	}
	if atEOF && len(bytes.TrimSpace(data)) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// TestDefenderFormats: each row of the Defender shapes holds in
// RawEventData exactly the record the JSON Lines output has, with the
// row's columns consistent with it (Timestamp its CreationTime,
// ActionType its Operation, ReportId not its Id), and the answers are the
// UAL's.
func TestDefenderFormats(t *testing.T) {
	ref, baseExp := jsonlReference(t)
	for _, f := range DefenderFormats {
		t.Run(f, func(t *testing.T) {
			data := generateLike(t, f, baseExp)
			recs := parseDefender(t, f, data)
			if len(recs) != len(ref) {
				t.Fatalf("%d rows, jsonl has %d records", len(recs), len(ref))
			}
			texts := 0
			for _, p := range recs {
				want, ok := ref[p.id]
				if !ok {
					t.Fatalf("record %s not in the jsonl output", p.id)
				}
				if !reflect.DeepEqual(p.audit, want) {
					t.Fatalf("record %s: RawEventData differs from the jsonl record:\n%v\n%v", p.id, p.audit, want)
				}
				ts, _ := p.env["Timestamp"].(string)
				if ct, _ := want["CreationTime"].(string); ts != ct+".0000000Z" {
					t.Errorf("record %s: Timestamp %q, CreationTime %q", p.id, ts, ct)
				}
				if p.env["ActionType"] != want["Operation"] {
					t.Errorf("record %s: ActionType %v, Operation %v", p.id, p.env["ActionType"], want["Operation"])
				}
				if rid, _ := p.env["ReportId"].(string); rid == "" || rid == p.id {
					t.Errorf("record %s: ReportId %q", p.id, rid)
				}
				if f == FormatDefenderJSON {
					if _, ok := p.env["RawEventData"].(string); ok {
						texts++
					}
				}
			}
			if f == FormatDefenderJSON && (texts == 0 || texts == len(recs)) {
				t.Errorf("%d of %d RawEventData as text: want some of each", texts, len(recs))
			}
		})
	}
}

// TestDefenderSize: the Defender shapes stop at the size asked, as the
// others do, and say how much they wrote.
func TestDefenderSize(t *testing.T) {
	for _, f := range DefenderFormats {
		t.Run(f, func(t *testing.T) {
			const size = 3 << 20
			checkSize(t, f, size)
		})
	}
}
