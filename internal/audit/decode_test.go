package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// dump renders every decoded field, one per line, for golden files.
func dump(ev *Event) string {
	var b strings.Builder
	p := func(k string, v any) { fmt.Fprintf(&b, "%s: %v\n", k, v) }
	q := func(k string, v []byte) {
		if v != nil {
			fmt.Fprintf(&b, "%s: %q\n", k, v)
		}
	}
	q("ID", ev.ID)
	p("Time", FormatTime(ev.Time))
	p("RecordType", ev.RecordType)
	q("Operation", ev.Operation)
	q("Workload", ev.Workload)
	q("OrgID", ev.OrgID)
	q("ActorTenant", ev.ActorTenant)
	q("UserID", ev.UserID)
	q("User", ev.User)
	p("UserKind", ev.UserKind)
	q("UserKey", ev.UserKey)
	p("UserType", ev.UserType)
	p("ActorUnknown", ev.ActorUnknown)
	q("ActorObject", ev.ActorObject)
	p("IPs", ev.IPList())
	q("AppID", ev.AppID)
	q("ResultStatus", ev.ResultStatus)
	q("ResultStatusDetail", ev.ResultStatusDetail)
	q("LogonError", ev.LogonError)
	q("ErrorNumber", ev.ErrorNumber)
	q("UserAgent", ev.UserAgent)
	q("ObjectID", ev.ObjectID)
	q("Target", ev.Target)
	q("TargetType", ev.TargetType)
	q("InterSystemsID", ev.InterSystemsID)
	q("IntraSystemID", ev.IntraSystemID)
	p("Outcome", ev.Outcome())
	p("Categories", fmt.Sprintf("%05b", ev.Categorize()))
	return b.String()
}

func TestDecodeGolden(t *testing.T) {
	var d Decoder
	testutil.GoldenFiles(t, "testdata/records", []string{".json"}, 1, func(t *testing.T, _ string, data []byte) []byte {
		var ev Event
		if err := d.Decode(data, &ev); err != nil {
			t.Fatalf("decode: %v", err)
		}
		return []byte(dump(&ev))
	})
}

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	deepArr := `{"CreationTime":"2026-10-01T00:00:00","X":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "}"
	cases := []errCase{
		{"empty", ``, "empty record"},
		{"array", `[1,2]`, "not a JSON object"},
		{"number", `42`, "not a JSON object"},
		{"truncated", `{"CreationTime":"2026-10-01T00:00:00","Id":"ab`, "unterminated string"},
		{"truncated-after-key", `{"CreationTime":"2026-10-01T00:00:00","Id":`, "truncated record"},
		{"no-time", `{"Id":"x","Operation":"UserLoggedIn"}`, "no CreationTime"},
		{"bad-time", `{"CreationTime":"yesterday"}`, "is not a time"},
		{"bad-time-month", `{"CreationTime":"2026-13-01T00:00:00"}`, "is not a time"},
		{"wrong-type-user", `{"CreationTime":"2026-10-01T00:00:00","UserId":42}`, "field UserId is a number, not a string"},
		{"wrong-type-op", `{"CreationTime":"2026-10-01T00:00:00","Operation":["x"]}`, "field Operation is an array"},
		{"trailing", `{"CreationTime":"2026-10-01T00:00:00"} x`, "unexpected \"x\" after the record"},
		{"two-records", `{"CreationTime":"2026-10-01T00:00:00"}{"CreationTime":"2026-10-01T00:00:00"}`, "unexpected an object after"},
		{"missing-colon", `{"CreationTime" "2026"}`, "expected ':'"},
		{"missing-comma", `{"CreationTime":"2026-10-01T00:00:00" "Id":"x"}`, "expected ',' or '}'"},
		{"mismatched", `{"CreationTime":"2026-10-01T00:00:00","X":[}]}`, "mismatched"},
		{"deep-object", deep, "nested deeper than 512"},
		{"deep-array", deepArr, "nested deeper than 512"},
		{"bad-escape", `{"CreationTime":"2026-10-01T00:00:00","Id":"a\qb"}`, `bad escape \q`},
		{"bad-unicode", `{"CreationTime":"2026-10-01T00:00:00","Id":"a\u12"}`, `bad \u escape`},
		{"bad-literal", `{"CreationTime":"2026-10-01T00:00:00","X":nul}`, "invalid literal"},
		{"auditdata-number", `{"AuditData":5}`, "AuditData is a number, not a record"},
		{"auditdata-bad-inner", `{"AuditData":"{\"CreationTime\":"}`, "AuditData: truncated record"},
		{"garbage", "\x00\x01\x02", "starts with byte 0x00"},
	}
	var d Decoder
	wantErrors(t, cases, d.Decode)
}

// TestStartsMessages pins the whole error for a record or row that does
// not open as it must, the same for every reader that checks it.
func TestStartsMessages(t *testing.T) {
	var d Decoder
	for _, c := range []struct {
		in, want string
		read     func([]byte) error
	}{
		{"", "empty record", func(b []byte) error { var ev Event; return d.Decode(b, &ev) }},
		{" [1]", "record is not a JSON object (starts with an array)", func(b []byte) error { var ev Event; return d.Decode(b, &ev) }},
		{"42", "record is not a JSON object (starts with a number)", func(b []byte) error { var ev Event; return d.DecodeSignIn(b, &ev) }},
		{"[]", "record is not a JSON object (starts with an array)", func(b []byte) error { var ev Event; return d.DecodeOfficeKeep(b, &ev) }},
		{"\n", "empty row", func(b []byte) error { _, err := d.RowFieldsKeep(b, nil); return err }},
		{`{"a":1}`, "row is not a JSON array (starts with an object)", func(b []byte) error { _, err := d.RowFieldsKeep(b, nil); return err }},
	} {
		if err := c.read([]byte(c.in)); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// errCase is an input a decoder must refuse, with a part of the error it
// must give.
type errCase struct{ name, in, want string }

// wantErrors runs each case through decode as a subtest.
func wantErrors(t *testing.T, cases []errCase, decode func([]byte, *Event) error) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ev Event
			err := decode([]byte(c.in), &ev)
			if err == nil {
				t.Fatalf("decoded %q without error", clip([]byte(c.in)))
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestDecodeLenientTypes(t *testing.T) {
	in := `{"CreationTime":"2026-10-01T00:00:00","RecordType":"15","UserType":"Regular","Workload":5,"Actor":"x","ExtendedProperties":{"a":1},"ClientIP":null,"ErrorNumber":50126,"Id":null}`
	var d Decoder
	var ev Event
	if err := d.Decode([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RecordType != 15 || ev.UserType != -1 || ev.Workload != nil || ev.NIPs != 0 || string(ev.ErrorNumber) != "50126" || ev.ID != nil {
		t.Errorf("unexpected decode: %s", dump(&ev))
	}
}

func TestDecoderReuse(t *testing.T) {
	// A second Decode must not see anything of the first.
	var d Decoder
	var ev Event
	first, _ := os.ReadFile("testdata/records/passthrough-signin.json")
	if err := d.Decode(first, &ev); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode([]byte(`{"CreationTime":"2026-10-01T00:00:00"}`), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ActorUnknown || ev.NIPs != 0 || ev.UserID != nil || ev.RecordType != -1 {
		t.Errorf("state leaked between records: %s", dump(&ev))
	}
}

// FuzzDecode checks the hand-written decoder against encoding/json: it
// never panics, and when both accept a record the string fields agree.
func FuzzDecode(f *testing.F) {
	testutil.AddSeedFiles(f, "testdata/records/*.json")
	f.Add([]byte(`{"CreationTime":"2026-10-01T00:00:00","Id":"a\"b\\c\u00e9\ud83d\ude00"}`))
	f.Add([]byte(`{"AuditData":"{\"CreationTime\":\"2026-10-01T00:00:00\"}"}`))
	fuzzDecoded(f, (*Decoder).Decode, func(t *testing.T, data []byte, ev *Event) {
		if bytes.Contains(data, []byte("uditData")) || bytes.Contains(data, []byte(`\u`)) {
			return // envelopes and escaped keys: covered by the golden tests
		}
		// The reference reads the top level into a map: field names match
		// exactly, as in the decoder ("Id" is the record's, "id" a Graph
		// envelope's), where decoding into a struct would match them
		// case-insensitively ("OperAtion" as Operation).
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) != nil {
			return
		}
		check := func(name string, got []byte) {
			raw, ok := top[name]
			if !ok {
				return
			}
			var want *string
			if json.Unmarshal(raw, &want) != nil || want == nil {
				return // we are more lenient than the stdlib (wrong types)
			}
			if string(got) != *want {
				t.Errorf("%s: got %q, encoding/json says %q", name, got, *want)
			}
		}
		check("Id", ev.ID)
		check("Operation", ev.Operation)
		check("UserId", ev.UserID)
	})
}

// fuzzDecoded is the differential fuzz target of a decoder: on valid UTF-8
// (the engine rejects the rest before decoding) decode must not panic, and
// what it accepts is handed to check with its event.
func fuzzDecoded(f *testing.F, decode func(*Decoder, []byte, *Event) error, check func(t *testing.T, data []byte, ev *Event)) {
	f.Add([]byte(`[[[[`))
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return
		}
		var ev Event
		if err := decode(&d, data, &ev); err != nil {
			return
		}
		check(t, data, &ev)
	})
}

func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile("testdata/records/passthrough-signin.json")
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, bytes.TrimSpace(data), (*Decoder).Decode)
}

// benchDecode measures decode on one record: its throughput and its
// allocations, which must stay at none.
func benchDecode(b *testing.B, data []byte, decode func(*Decoder, []byte, *Event) error) {
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decode(&d, data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// mixLines generates the record mix of a tenant, one record a line.
func mixLines(b *testing.B) (lines [][]byte, size int) {
	var buf bytes.Buffer
	if _, err := synth.Generate(&buf, synth.Options{Seed: 7, Size: 8 << 20}); err != nil {
		b.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")), buf.Len()
}

// BenchmarkDecodeMix decodes the record mix of a generated tenant (sign-ins,
// SharePoint, Exchange, admin, Teams), which is what the engine sees.
func BenchmarkDecodeMix(b *testing.B) {
	lines, size := mixLines(b)
	var d Decoder
	var ev Event
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if err := d.Decode(l, &ev); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecodeMixParts splits BenchmarkDecodeMix's cost: "masks" only
// builds each record's bitmaps; "walk" also walks every key of the top
// level and skips every value (what a structural index could speed up);
// "decode" is the whole decode, so decode minus walk is the work on the
// fields themselves (times, addresses, lower-casing, users).
func BenchmarkDecodeMixParts(b *testing.B) {
	lines, size := mixLines(b)
	var d Decoder
	var ev Event
	b.Run("masks", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, l := range lines {
				d.masks.build(l)
			}
		}
	})
	b.Run("walk", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, l := range lines {
				s := d.scanner(l)
				if err := d.fields(&s, "record", func([]byte) error { return s.skip(&d) }); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, l := range lines {
				if err := d.Decode(l, &ev); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
