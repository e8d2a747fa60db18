package explain

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// TestGolden explains every testdata/*.json record and compares the text
// with testdata/*.golden; run with -update to rewrite them, then review the
// change in git diff.
func TestGolden(t *testing.T) {
	testutil.GoldenFiles(t, "testdata", []string{".json"}, 1, func(t *testing.T, _ string, data []byte) []byte {
		var out bytes.Buffer
		if err := Explain(&out, data, Options{}); err != nil {
			t.Fatalf("Explain: %v", err)
		}
		checkSafe(t, out.Bytes())
		return out.Bytes()
	})
}

// checkSafe asserts the output cannot drive a terminal: no control byte
// but the newline, no DEL, valid UTF-8 with no C1 controls or bidi
// overrides, and no line over the width except for long unbreakable values.
func checkSafe(t *testing.T, out []byte) {
	t.Helper()
	for i, c := range out {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("raw control byte 0x%02x at %d in output:\n%s", c, i, out)
		}
	}
	if !utf8.Valid(out) {
		t.Fatalf("output is not valid UTF-8")
	}
	for _, r := range string(out) {
		if (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
			r == 0x200b || r == 0x200e || r == 0x200f || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			t.Fatalf("raw U+%04X in output:\n%s", r, out)
		}
	}
}

// TestWidth checks that explanations wrap at 100 columns: only a line
// holding a long value from the record may be longer.
func TestWidth(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var out bytes.Buffer
		if err := Explain(&out, data, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if utf8.RuneCountInString(line) <= width {
				continue
			}
			// A field line ("Name: value") or list item, or a wrapped line
			// that is one long word.
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(line, " ") && !strings.HasPrefix(trimmed, "- ") && strings.Contains(trimmed, " ") {
				t.Errorf("%s: explanation line over %d columns: %q", f, width, line)
			}
		}
	}
}

func TestHostile(t *testing.T) {
	// The UPN and user agent carry ANSI escapes, a right-to-left override,
	// a bell, C1 NEL, DEL, a zero-width space, markup and invalid UTF-8.
	rec := "{\"CreationTime\":\"2026-10-11T01:02:03\",\"Id\":\"a1a1a1a1-b2b2-4c3c-8d4d-e5e5e5e5e5e5\"," +
		"\"Operation\":\"UserLoggedIn\",\"OrganizationId\":\"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e\"," +
		"\"RecordType\":15,\"UserId\":\"\\u001b[31mceo\\u202e@contoso.com<script>alert(1)</script>\x1b[0m\xff\"," +
		"\"ActorContextId\":\"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6\",\"Actor\":[{\"ID\":\"Unknown\",\"Type\":0}]," +
		"\"ExtendedProperties\":[{\"Name\":\"UserAgent\",\"Value\":\"Mozilla\\u001b]0;pwned\\u0007 \\u202e<script>x</script>\\u200b\\u0085\\u007f\\r\\n\\t\"}," +
		"{\"Name\":\"ResultStatusDetail\",\"Value\":\"Success\"}]," +
		"\"ClientIP\":\"\\u001b[2J198.51.100.1\",\"Weird\\u001bName\":1,\"ApplicationId\":\"\\u202e0000\"}"
	explainHostile(t, rec)
}

// explainHostile explains rec, a record whose UPN and user agent carry the
// hostile values of TestHostile, and checks that the output is safe and
// shows each value escaped. It returns the output.
func explainHostile(t *testing.T, rec string) string {
	t.Helper()
	var out bytes.Buffer
	if err := Explain(&out, []byte(rec), Options{}); err != nil {
		t.Fatal(err)
	}
	checkSafe(t, out.Bytes())
	s := out.String()
	for _, want := range []string{
		`\x1b[31mceo\u202e@contoso.com<script>alert(1)</script>\x1b[0m\xff`,
		`Mozilla\x1b]0;pwned\x07 \u202e<script>x</script>\u200b\u0085\x7f\x0d\x0a\x09`,
		`Weird\x1bName`,
		"not valid UTF-8",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	return s
}

// TestShow: a long value is cut at a character boundary and its length
// said (the escaping itself is textsafe's, tested there).
func TestShow(t *testing.T) {
	long := strings.Repeat("é", 1000)
	if got := show(long); !utf8.ValidString(got) || !strings.HasSuffix(got, "(2000 bytes in all)") {
		t.Errorf("show(long) = %q", got)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "empty input: no record"},
		{"  \n\t", "empty input: no record"},
		{"\xef\xbb\xbf", "empty input: no record"},
		{"{", "invalid JSON: expected a field name, found end of input at byte 1"},
		{`{"a":}`, `invalid JSON: unexpected "}" at byte 5`},
		{`{"a":1} x`, `invalid JSON: unexpected "x" after the value at byte 8`},
		{`{"a":"\q"}`, "invalid JSON: bad escape in string at byte 6"},
		{`{"a":"abc`, "invalid JSON: unterminated string at byte 9"},
		{`{"a":01}`, `invalid JSON: expected ',' or '}', found "1" at byte 6`},
		{`[1,2]`, "input is an array, not a JSON object"},
		{`"UserLoggedIn"`, "input is a string, not a JSON object"},
		{`null`, "input is null, not a JSON object"},
		{`{}`, "empty object: no record"},
		{`{"foo":1,"bar":[]}`, "not an audit record: it has none of the fields CreationTime, Id, Operation, RecordType, UserId, Workload, OrganizationId"},
		{`{"AuditData":null}`, "AuditData is null, not a record"},
		{`{"AuditData":{}}`, "AuditData is an empty object: no record"},
		{`{"auditData":"[1]"}`, "auditData holds an array, not a record"},
		{`{"auditData":"{\"Id\":"}`, "auditData: invalid JSON: unexpected end of input at byte 6"},
		{`{"AuditData":42}`, "AuditData is a number, not a record"},
		{strings.Repeat("[", 600) + strings.Repeat("]", 600), "invalid JSON: nested deeper than 512 levels at byte 512"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := Explain(&out, []byte(c.in), Options{})
		if err == nil {
			t.Errorf("Explain(%q): no error, output:\n%s", c.in, out.String())
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Explain(%q) = %q, want %q", c.in, err, c.want)
		}
		if out.Len() != 0 {
			t.Errorf("Explain(%q) wrote output on error", c.in)
		}
		msg := err.Error()
		if msg != strings.ToLower(msg[:1])+msg[1:] && !strings.HasPrefix(msg, "AuditData") {
			t.Errorf("error %q does not start in lower case", msg)
		}
		if strings.HasSuffix(msg, ".") {
			t.Errorf("error %q ends with a period", msg)
		}
	}
}

// TestOurTenants checks that --tenant decides what "ours" is: the same
// member sign-in, read with another tenant given, is left out by triage.
func TestOurTenants(t *testing.T) {
	data, err := os.ReadFile("testdata/passthrough-sharepoint.json")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// Claim fabrikam's tenant as ours too: the account becomes a member.
	opts := Options{OurTenants: []string{" 6A1E5B2C-9D3F-4B7A-8E21-3C5D7F9A1B2E ", "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"}}
	if err := Explain(&out, data, opts); err != nil {
		t.Fatal(err)
	}
	if s := flat(out.String()); !strings.Contains(s, "Class: member.") || !strings.Contains(s, "one of the tenants given with --tenant") {
		t.Errorf("with both tenants ours, want a member:\n%s", s)
	}
	out.Reset()
	if err := Explain(&out, data, Options{OurTenants: []string{"11111111-2222-4333-8444-555555555555"}}); err != nil {
		t.Fatal(err)
	}
	if s := flat(out.String()); !strings.Contains(s, "leaves it out") {
		t.Errorf("with another tenant given, want the record left out:\n%s", s)
	}
}

// TestOutcomeAgrees checks the conclusion against the audit decoder for
// every sign-in in testdata: the walk must never contradict the engine.
func TestOutcomeAgrees(t *testing.T) {
	// The outcome each record's explanation must give, and its class
	// where one is checked.
	for name, w := range map[string]struct{ outcome, class string }{
		"member-signin":            {"Outcome: success.", "Class: member."},
		"passthrough-sharepoint":   {"Outcome: success.", "Class: pass-through."},
		"passthrough-access-panel": {"Outcome: success.", "Class: pass-through."},
		"consumer-outlook":         {"Outcome: success.", "Class: pass-through, consumer."},
		"passthrough-third-party":  {"Outcome: success.", "Class: pass-through."},
		"kmsi-50140":               {"Outcome: interrupted.", "Class: pass-through."},
		"redirect":                 {"Outcome: interrupted.", ""},
		"login-failed-50126":       {"Outcome: failure", ""},
		"login-failed-kmsi-50140":  {"Outcome: interrupted.", ""},
		"guest-ext":                {"Outcome: success.", "Class: guest."},
		"not-available":            {"Outcome: success.", "Class: external-unknown."},
		"ps-envelope":              {"Outcome: success.", "Class: pass-through."},
	} {
		s := explainFile(t, "testdata/"+name+".json", Options{})
		if !strings.Contains(s, w.outcome) {
			t.Errorf("%s: want %q in:\n%s", name, w.outcome, s)
		}
		if w.class != "" && !strings.Contains(s, w.class) {
			t.Errorf("%s: want %q in:\n%s", name, w.class, s)
		}
	}
	data, _ := os.ReadFile("testdata/passthrough-third-party.json")
	var out bytes.Buffer
	_ = Explain(&out, data, Options{})
	if !strings.Contains(flat(out.String()), "WARNING: this should not happen") {
		t.Errorf("third-party pass-through lacks the warning:\n%s", out.String())
	}
}

// TestDuplicateField checks that a repeated field is flagged.
func TestDuplicateField(t *testing.T) {
	rec := `{"CreationTime":"2026-10-03T08:15:42","Operation":"UserLoggedIn","UserId":"a@fabrikam.com",` +
		`"UserId":"b@contoso.com","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"}`
	var out bytes.Buffer
	if err := Explain(&out, []byte(rec), Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flat(out.String()), "UserId appears more than once") {
		t.Errorf("duplicate not flagged:\n%s", out.String())
	}
}

// TestUndecodable checks a record the engine cannot read (no time) is
// still walked, with a note that triage skips it.
func TestUndecodable(t *testing.T) {
	rec := `{"Operation":"UserLoggedIn","UserId":"a@fabrikam.com","ErrorNumber":"50126"}`
	var out bytes.Buffer
	if err := Explain(&out, []byte(rec), Options{}); err != nil {
		t.Fatal(err)
	}
	s := flat(out.String())
	for _, w := range []string{"cannot read this record (no CreationTime)", "Outcome: failure", "at an unknown time"} {
		if !strings.Contains(s, w) {
			t.Errorf("want %q in:\n%s", w, s)
		}
	}
}

// flat joins wrapped lines, so a test can look for a sentence wherever
// the wrapping breaks it.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func FuzzExplain(f *testing.F) {
	testutil.AddSeedFiles(f, "testdata/*.json")
	f.Add([]byte(`{"AuditData":"{\"CreationTime\":\"2026-01-01T00:00:00\",\"Actor\":[{\"ID\":\"Unknown\"}]}"}`))
	f.Add([]byte(`{"EventData":"<Type>View</Type><a><b></a>","Operation":"SharingSet","TargetUserOrGroupName":"x#ext#@y"}`))
	f.Add([]byte(`{"Id":"\ud800\udc00\ud800","ErrorNumber":1e5,"RecordType":"15","UserType":-3,"LogonType":"2"}`))
	addSignInSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := fuzzExplain(&out, data)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("output written on error %v", err)
			}
			for _, c := range []byte(err.Error()) {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("control byte in error %q", err)
				}
			}
			return
		}
		for i, c := range out.Bytes() {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				t.Fatalf("raw control byte 0x%02x at %d", c, i)
			}
		}
		if !utf8.Valid(out.Bytes()) {
			t.Fatalf("output is not valid UTF-8")
		}
	})
}

// TestHostileSize feeds records built to make the walk quadratic or its
// output huge (repeated fields, endless EventData tags, thousands of
// names); the output must stay small, which also bounds the work.
func TestHostileSize(t *testing.T) {
	const n = 50000
	head := `{"CreationTime":"2026-01-01T00:00:00","Operation":"UserLoggedIn"`
	cases := map[string]string{
		"repeated field": head + strings.Repeat(`,"TargetUserOrGroupName":"a"`, n) + `}`,
		"repeated ip":    head + strings.Repeat(`,"ClientIP":"192.0.2.1"`, n) + `}`,
		"event data":     head + `,"EventData":"` + strings.Repeat("<a>", n) + `"}`,
		"many names":     head + strings.Repeat(`,"x":1,"y":2`, n) + `}`,
		"many entries":   head + `,"Actor":[` + strings.Repeat(`{"ID":"Unknown","Type":0},`, n) + `{}]}`,
		"many props":     head + `,"ExtendedProperties":[` + strings.Repeat(`{"Name":"UserAgent","Value":"x"},`, n) + `{}]}`,
		"long value":     head + `,"UserId":"` + strings.Repeat(`\u202e`, n) + `"}`,
	}
	explainSmall(t, cases)
}

// explainSmall explains each hostile case and checks the output is safe
// and at most 64 KiB, which also bounds the work done.
func explainSmall(t *testing.T, cases map[string]string) {
	t.Helper()
	for name, in := range cases {
		var out bytes.Buffer
		if err := Explain(&out, []byte(in), Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkSafe(t, out.Bytes())
		if out.Len() > 64<<10 {
			t.Errorf("%s: %d bytes of output", name, out.Len())
		}
	}
}

// TestLookAlikeUsers: explain never shows an account an attacker named to
// pass for another (an invisible character, an escape sequence, the
// literal text of an escape) like the account it imitates.
func TestLookAlikeUsers(t *testing.T) {
	// jsonString writes s as a JSON string whose bytes decode to s:
	// controls as \u escapes, invalid UTF-8 left raw, as a hostile
	// export would hold it.
	jsonString := func(s string) string {
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
		}
		return b.String() + `"`
	}
	explain := func(user string) string {
		rec := `{"CreationTime":"2026-10-11T01:02:03","Id":"a1a1a1a1-b2b2-4c3c-8d4d-e5e5e5e5e5e5",` +
			`"Operation":"UserLoggedIn","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e",` +
			`"RecordType":15,"UserId":` + jsonString(user) + `,` +
			`"ActorContextId":"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6","Actor":[{"ID":"Unknown","Type":0}],` +
			`"ClientIP":"198.51.100.1"}`
		var out bytes.Buffer
		if err := Explain(&out, []byte(rec), Options{}); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		checkSafe(t, out.Bytes())
		return out.String()
	}
	for _, p := range testutil.LookAlikes {
		a, b := explain(p[0]), explain(p[1])
		if a == b {
			t.Errorf("%q and %q explained alike", p[0], p[1])
		}
		for i, out := range []string{a, b} {
			if want := textsafe.Terminal(p[i]); !strings.Contains(out, want) {
				t.Errorf("%q not shown as %q:\n%s", p[i], want, out)
			}
		}
	}
}
