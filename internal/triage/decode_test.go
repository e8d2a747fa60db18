package triage

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

const goodReport = `{"schema": "outsider/triage/v1",
 "tenant": {"ids": ["11111111-1111-1111-1111-111111111111"], "domains": ["contoso.com"], "inferred": true},
 "input": {"files": [], "records": 3, "duplicates": 0, "skipped": 0, "from": "2026-10-01T00:00:00Z", "to": "2026-10-02T00:00:00Z"},
 "summary": {"identities": 1, "by_verdict": {"signin-only": 1}},
 "identities": [{"user": "alice@fabrikam.com", "class": "passthrough", "home_tenant": "22222222-2222-2222-2222-222222222222",
   "consumer": false, "verdict": "signin-only", "severity": "info", "reasons": ["2 sign-ins"], "in_directory": "unknown",
   "signins": {"success": 2, "failure": 0, "first": "", "last": "", "ips": [], "user_agents": [], "apps": []},
   "activity": {"by_user": 0, "by_ip": 0, "operations": {}, "evidence": []}, "sharing": [], "ip_also_used_by": []}]}
`

func TestDecodeReport(t *testing.T) {
	rep, err := DecodeReport([]byte(goodReport))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Identities) != 1 || rep.Identities[0].User != "alice@fabrikam.com" || rep.Input.From != "2026-10-01T00:00:00Z" {
		t.Errorf("decoded %+v", rep)
	}
	// What the engine writes reads back as it was.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeReport(b)
	if err != nil || again.Identities[0].Reasons[0] != "2 sign-ins" {
		t.Errorf("round trip: %v, %+v", err, again)
	}
}

func TestDecodeReportErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "the file is empty"},
		{"blank", " \n\t\n", "the file is empty"},
		{"truncated", goodReport[:200], "truncated JSON: the document ends early at line 3"},
		{"truncated after a value", `{"schema": "outsider/triage/v1"`, "truncated JSON: the document ends early at line 1, column 32"},
		{"not json", "schema,user\nx,y\n", "invalid JSON at line 1, column 1"},
		{"trailing data", goodReport + "{}", "invalid JSON at line 9, column 1"},
		{"array", `[{"schema": "outsider/triage/v1"}]`, "the document is an array, not a JSON object"},
		{"string", `"outsider/triage/v1"`, "the document is a string, not a JSON object"},
		{"no schema", `{"identities": []}`, `no "schema" field (want "outsider/triage/v1")`},
		{"other schema", `{"schema": "outsider/diff/v1"}`, `schema "outsider/diff/v1", want "outsider/triage/v1"`},
		{"schema not a string", `{"schema": 1}`, `schema 1, want`},
		{"hostile schema", "{\"schema\": \"\u202e\\u001b[2J\"}", `schema "\u202e\u001b[2J", want`},
		{"wrong type", "{\"schema\": \"outsider/triage/v1\",\n \"identities\": [{\"user\": 7}]}", "line 2, column 26: field identities.user is JSON number, want string"},
		{"duplicate user", `{"schema": "outsider/triage/v1", "identities": [{"user": "a"}, {"user": "b"}, {"user": "a"}]}`,
			`identities[0] and identities[2] are both user "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := DecodeReport([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error; got %+v", rep)
			}
			if rep != nil {
				t.Error("a report returned with the error")
			}
			if !errors.Is(err, ErrNotReport) {
				t.Errorf("%v does not wrap ErrNotReport", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// FuzzDecodeReport: whatever the bytes, DecodeReport returns a report or
// an error wrapping ErrNotReport, never both, never panics, and its error
// is one line of printable ASCII-safe text (it goes to a terminal).
func FuzzDecodeReport(f *testing.F) {
	for _, s := range []string{goodReport, goodReport[:150], `{"schema":"outsider/triage/v1","identities":[{"user":"a"},{"user":"a"}]}`,
		`{"schema":"outsider/triage/v1","identities":[{"user":1}]}`, "{\"schema\":\"\u2028\"}", `[]`, ``, `{"schema":"outsider/triage/v1","identities":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := DecodeReport(data)
		if (rep == nil) == (err == nil) {
			t.Fatalf("report %v and error %v", rep, err)
		}
		if err != nil {
			if !errors.Is(err, ErrNotReport) {
				t.Fatalf("%v does not wrap ErrNotReport", err)
			}
			msg := err.Error()
			if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\n\r\x1b\u202e\u2028") {
				t.Fatalf("error is not one clean line: %q", msg)
			}
			return
		}
		if rep.Schema != Schema {
			t.Fatalf("schema %q accepted", rep.Schema)
		}
		seen := map[string]bool{}
		for _, id := range rep.Identities {
			if seen[id.User] {
				t.Fatalf("duplicate user %q accepted", id.User)
			}
			seen[id.User] = true
		}
	})
}
