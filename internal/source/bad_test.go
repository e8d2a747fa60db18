package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
)

const goodLine = `{"CreationTime":"2024-01-01T00:00:00","Id":"good"}`

func jsonl(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"CreationTime":"2024-01-01T00:00:00","Id":"%08d","Operation":"UserLoggedIn","Pad":"%s"}`+"\n", i, strings.Repeat("x", i%50))
	}
	return b.Bytes()
}

// wantProblem.line values for a line the test cannot know beforehand:
// the line after the last record framed from the bad input, or any.
const (
	lineAfterFramed = -1
	anyLine         = -2
)

type wantProblem struct {
	path    string // file name; "" = the bad input
	unit    string
	line    int64
	reason  string // substring
	records int64
}

func TestBadInputs(t *testing.T) {
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(garbage)
	garbage[0] = 0x03 // not a magic byte nor '{'

	corruptGz := testutil.Gzip(jsonl(20000))
	truncGz := corruptGz[:len(corruptGz)/2]
	flipped := append([]byte(nil), corruptGz...)
	for i := len(flipped) / 2; i < len(flipped)/2+64; i++ {
		flipped[i] ^= 0x5a
	}

	goodMember := []byte(goodLine + "\n")
	badZip := zipBytes(t,
		member{name: "a.jsonl", data: goodMember},
		member{name: "b.jsonl", data: jsonl(2000)},
		member{name: "c.jsonl", data: goodMember},
	)
	// Corrupt b's deflate stream: find its local header and damage the
	// bytes that follow it.
	bi := bytes.Index(badZip, []byte("b.jsonl"))
	for i := bi + 200; i < bi+400; i++ {
		badZip[i] ^= 0xa5
	}

	deepArray := strings.Repeat("[", 100000)
	deepObject := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	bigLine := `{"Id":"` + strings.Repeat("x", 12<<20) + `"}`

	cases := []struct {
		name   string
		data   []byte
		framed int64 // records framed from the bad input
		want   []wantProblem
	}{
		{"empty", nil, 0, []wantProblem{{reason: "empty file", records: 0}}},
		{"blank", []byte("\ufeff \r\n\t\n"), 0, []wantProblem{{reason: "empty file", records: 0}}},
		{"garbage", garbage, 0, []wantProblem{{reason: "unknown format: first bytes are not JSON or a CSV header with an AuditData column", records: 1}}},
		{"xml", []byte(`<?xml version="1.0"?><Objs/>`), 0, []wantProblem{{reason: "unknown format: first bytes look like XML", records: 1}}},
		{"csv-without-auditdata", []byte("a,b,c\n1,2,3\n"), 0, []wantProblem{{reason: "unknown format: csv header has no AuditData column", records: 1}}},
		{"truncated-line", []byte(goodLine + "\n" + goodLine[:20]), 2, nil},
		{"invalid-utf8", []byte("{\"Id\":\"\xff\xfe\xc3\"}\n"), 1, nil},
		{"truncated-array", []byte("[\n" + goodLine + ",\n  {\"Id\":\n"), 1, []wantProblem{{unit: "line", line: 3, reason: "truncated JSON", records: 1}}},
		{"unclosed-array", []byte("[\n" + goodLine + "\n"), 1, []wantProblem{{unit: "line", line: 1, reason: "truncated JSON: the array", records: 0}}},
		{"not-objects", []byte("[1, \"s\", [2], null, " + goodLine + "]"), 1, []wantProblem{
			{unit: "line", line: 1, reason: "array element is a number, not an object", records: 1},
			{unit: "line", line: 1, reason: "array element is a string, not an object", records: 1},
			{unit: "line", line: 1, reason: "array element is an array, not an object", records: 1},
			{unit: "line", line: 1, reason: "array element is null, not an object", records: 1},
		}},
		{"deep-array", []byte(deepArray), 0, []wantProblem{{unit: "line", line: 1, reason: "nested deeper than 512", records: 1}}},
		{"deep-object", []byte(deepObject), 0, []wantProblem{{unit: "line", line: 1, reason: "nested deeper than 512", records: 1}}},
		{"12MB-line", []byte(goodLine + "\n" + bigLine + "\n" + goodLine + "\n"), 2, []wantProblem{
			{unit: "line", line: 2, reason: fmt.Sprintf("record is %d bytes, over the limit of %d", len(bigLine), DefaultMaxRecordBytes), records: 1}}},
		{"12MB-element", []byte("[" + goodLine + ",\n" + bigLine + ",\n" + goodLine + "]"), 2, []wantProblem{
			{unit: "line", line: 2, reason: fmt.Sprintf("record is %d bytes, over the limit of %d", len(bigLine), DefaultMaxRecordBytes), records: 1}}},
		// A stream that breaks names the line where reading stopped (the
		// one after the last record framed) and says the rest is lost.
		{"corrupt-gzip-truncated", truncGz, -1, []wantProblem{{unit: "line", line: lineAfterFramed, reason: "corrupt gzip: unexpected EOF: reading stopped here, so the report holds nothing of this input after it", records: 1}}},
		{"corrupt-gzip-flipped", flipped, -1, []wantProblem{{unit: "line", line: anyLine, reason: "corrupt gzip: ", records: -1}}},
		{"gzip-bad-header", []byte{0x1f, 0x8b, 0, 0, 0}, 0, []wantProblem{{reason: "corrupt gzip: ", records: 1}}},
		{"zip-bad-member", badZip, -1, []wantProblem{{path: "!b.jsonl", unit: "line", line: anyLine, reason: "corrupt zip member: ", records: -1}}},
		{"zip-bad-directory", []byte("PK\x03\x04 this is not a zip"), 0, []wantProblem{{reason: "corrupt zip: ", records: 1}}},
		{"utf16-odd-byte", append(utf16Bytes(goodLine+"\n", false, true), 'x'), 1, []wantProblem{{reason: "utf-16 text ends with an odd byte", records: 0}}},
		{"csv-unbalanced-quote", []byte("RecordId,AuditData\n1,\"{\"\"Id\"\":1}\"\n2,\"{oops\n3,\"{}\"\n4,{}\n"), 3, []wantProblem{
			{unit: "row", line: 3, reason: "unbalanced quote", records: 1}}},
		{"csv-unbalanced-last-row", []byte("RecordId,AuditData\n1,{}\n2,\"{oops"), 1, []wantProblem{
			{unit: "row", line: 3, reason: "unbalanced quote", records: 1}}},
		{"page-without-items", []byte(`{"value":[{"a":1}]}` + "\n" + `{"error":{"code":"x"}}`), 1, []wantProblem{
			{unit: "line", line: 2, reason: `object has no "value" or "records" array`, records: 1}}},
		{"top-level-garbage", []byte("{\n\"a\":1}\n{\"b\":2}\nxyz"), 2, []wantProblem{
			{unit: "line", line: 4, reason: "unexpected 'x' at top level", records: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := testutil.WriteFile(t, dir, "bad", tc.data)
			good := testutil.WriteFile(t, dir, "good.jsonl", []byte(goodLine+"\n"))
			done := make(chan result, 1)
			go func() { done <- readAll(t, []string{bad, good}, Options{}) }()
			var res result
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Read hangs")
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			last := res.inputs[len(res.inputs)-1]
			if last.Path != good || last.Framed != 1 || last.Format != UALJSONL {
				t.Errorf("the run did not go on: last input %+v", last)
			}
			var framed int64
			for _, in := range res.inputs[:len(res.inputs)-1] {
				framed += in.Framed
			}
			if tc.framed >= 0 && framed != tc.framed {
				t.Errorf("framed %d records from the bad input, want %d", framed, tc.framed)
			}
			if tc.framed < 0 && framed == 0 {
				t.Errorf("no record kept from before the corruption")
			}
			if len(res.probs) != len(tc.want) {
				t.Fatalf("problems:\n%s\nwant %d", fmtProblems(res.probs), len(tc.want))
			}
			for i, w := range tc.want {
				p := res.probs[i]
				wantPath := bad + w.path
				switch w.line {
				case lineAfterFramed:
					w.line = framed + 1
				case anyLine:
					w.line = max(p.Line, 1)
				}
				if p.Path != wantPath || p.Unit != w.unit || p.Line != w.line || !strings.Contains(p.Reason, w.reason) ||
					w.records >= 0 && p.Records != w.records || p.Warning {
					t.Errorf("problem %d: %+v\nwant %+v", i, p, w)
				}
				if strings.HasSuffix(p.Reason, ".") || p.Reason != "" && p.Reason[0] >= 'A' && p.Reason[0] <= 'Z' && !strings.HasPrefix(p.Reason, "JSON") {
					t.Errorf("problem %d is not lowercase without a final period: %q", i, p.Reason)
				}
			}
		})
	}
}

func fmtProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s (records %d, warning %v)\n", p.Error(), p.Records, p.Warning)
	}
	return b.String()
}

func TestMissingPath(t *testing.T) {
	dir := t.TempDir()
	good := testutil.WriteFile(t, dir, "good.jsonl", []byte(goodLine+"\n"))
	missing := filepath.Join(dir, "nope.json")
	res := readAll(t, []string{missing, good, "-"}, Options{})
	if len(res.probs) != 2 {
		t.Fatalf("problems:\n%s", fmtProblems(res.probs))
	}
	if p := res.probs[0]; p.Error() != missing+": no such file or directory" || p.Records != 1 {
		t.Errorf("problem %q", p.Error())
	}
	if p := res.probs[1]; p.Error() != "-: no standard input to read" {
		t.Errorf("problem %q", p.Error())
	}
	if len(res.inputs) != 3 || res.inputs[1].Framed != 1 || res.inputs[0].Skipped != 1 {
		t.Errorf("inputs %+v", res.inputs)
	}
}

func TestCapWarning(t *testing.T) {
	for _, n := range []int{4999, 5000, 50000} {
		res := readBytes(t, jsonl(n), Options{})
		var warned bool
		for _, p := range res.probs {
			if !p.Warning || p.Records != 0 || p.Path != "-" {
				t.Errorf("problem %+v", p)
			}
			warned = true
			if !strings.Contains(p.Reason, "exactly the cap") || !strings.Contains(p.Reason, "probably truncated") {
				t.Errorf("reason %q", p.Reason)
			}
		}
		if warned != (n != 4999) {
			t.Errorf("%d records: warned %v", n, warned)
		}
	}
	// Skipped records count towards the cap.
	in := append(jsonl(4999), []byte("\n"+strings.Repeat("x", 300)+"\n")...)
	res := readBytes(t, in, Options{MaxRecordBytes: 200})
	if len(res.probs) != 2 || !res.probs[1].Warning {
		t.Errorf("problems:\n%s", fmtProblems(res.probs))
	}
}

// TestCapWarningDefender: a CloudAppEvents export of exactly 100,000 rows
// met the advanced hunting cap (100,000 rows per query,
// https://learn.microsoft.com/defender-xdr/api-advanced-hunting), and the
// warning names that cap, not the Purview search's, which a Defender
// analyst never ran.
func TestCapWarningDefender(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(cloudAppHeader + "\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&b, "2026-10-06T09:14:03Z,FileAccessed,Microsoft SharePoint Online,20892,,p@fabrikam.com,p@fabrikam.com,198.18.7.1,,r%d,\"{\"\"Id\"\":\"\"u%d\"\"}\"\n", i, i)
	}
	res := readBytes(t, b.Bytes(), Options{})
	var warned bool
	for _, p := range res.probs {
		if p.Warning && strings.Contains(p.Reason, "exactly the cap") {
			warned = true
			if !strings.Contains(p.Reason, "advanced hunting") || strings.Contains(p.Reason, "Purview") {
				t.Errorf("reason %q: want Defender advanced hunting's cap, not Purview's", p.Reason)
			}
		}
	}
	if !warned || len(res.inputs) != 1 || res.inputs[0].Format != DefenderCSV {
		t.Errorf("no cap warning for 100,000 CloudAppEvents rows: inputs %+v, problems:\n%s", res.inputs, fmtProblems(res.probs))
	}
}

func TestCancel(t *testing.T) {
	data := jsonl(100000)
	checkStops(t, []string{"-"}, []string{"-", "-"}, func() Options {
		return Options{Stdin: bytes.NewReader(data), BatchBytes: 4096}
	})
}

// checkStops reads paths with a context cancelled at the third batch, then
// stopPaths with an emit that fails at the first: Read must return
// context.Canceled, then emit's error, at once.
func checkStops(t *testing.T, paths, stopPaths []string, opts func() Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	_, err := Read(ctx, paths, opts(), func(b *Batch) error {
		batches++
		b.Release()
		if batches == 3 {
			cancel()
		}
		return nil
	}, nil)
	if !errors.Is(err, context.Canceled) || batches != 3 {
		t.Errorf("cancelled: err %v after %d batches", err, batches)
	}

	stop := errors.New("stop")
	batches = 0
	_, err = Read(context.Background(), stopPaths, opts(), func(b *Batch) error {
		batches++
		b.Release()
		return stop
	}, nil)
	if err != stop || batches != 1 {
		t.Errorf("stopped: err %v after %d batches", err, batches)
	}
}

// TestBatches checks batching: sizes near BatchBytes, records in order,
// buffers recycled (a released batch's memory is reused and records of a
// batch still held are not overwritten).
func TestBatches(t *testing.T) {
	data := jsonl(20000)
	var held []*Batch
	var all []string
	_, err := Read(context.Background(), []string{"-"}, Options{Stdin: bytes.NewReader(data), BatchBytes: 64 << 10}, func(b *Batch) error {
		var n int
		for _, r := range b.Records {
			n += len(r.Data) + 1
			all = append(all, string(r.Data))
		}
		if n > 64<<10 {
			t.Errorf("batch of %d bytes", n)
		}
		held = append(held, b)
		if len(held) > 4 {
			// Check the oldest held batch is intact, then release it.
			old := held[0]
			held = held[1:]
			for _, r := range old.Records {
				if !bytes.HasPrefix(r.Data, []byte(`{"CreationTime"`)) || !bytes.HasSuffix(r.Data, []byte(`"}`)) {
					t.Fatalf("record overwritten: %q", r.Data)
				}
			}
			old.Release()
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(all) != len(want) {
		t.Fatalf("%d records, want %d", len(all), len(want))
	}
	for i := range want {
		if all[i] != want[i] {
			t.Fatalf("record %d: %q, want %q", i, all[i], want[i])
		}
	}
}

func TestStdinZip(t *testing.T) {
	z := zipBytes(t,
		member{name: "a/one.jsonl", data: []byte(goodLine + "\n" + goodLine + "\n")},
		member{name: "__MACOSX/a/._one.jsonl", data: []byte{0, 5, 22, 7}},
		member{name: "a/.hidden", data: []byte("junk")},
		member{name: "two.csv", data: []byte("RecordId,AuditData\n1,{}\n"), store: true},
		member{name: "inner.zip", data: zipBytes(t, member{name: "x.jsonl.gz", data: testutil.Gzip([]byte(goodLine))})},
	)
	res := readBytes(t, testutil.Gzip(z), Options{})
	if len(res.probs) > 0 {
		t.Errorf("problems:\n%s", fmtProblems(res.probs))
	}
	var got []string
	for _, in := range res.inputs {
		got = append(got, fmt.Sprintf("%s %s %d", in.Path, in.Format, in.Framed))
	}
	want := []string{"-!a/one.jsonl ual-jsonl 2", "-!two.csv purview-csv 1", "-!inner.zip!x.jsonl.gz ual-jsonl 1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("inputs %q, want %q", got, want)
	}
	// Multi-member gzip reads as one stream.
	mm := append(testutil.Gzip([]byte(goodLine+"\n")), testutil.Gzip([]byte(goodLine+"\n"))...)
	if res := readBytes(t, mm, Options{}); len(res.recs) != 2 || len(res.probs) != 0 {
		t.Errorf("multi-member gzip: %d records, problems %v", len(res.recs), res.probs)
	}
}

// TestSlowReaders feeds inputs one byte per Read (splitting UTF-16
// surrogate pairs, BOMs and magic numbers across reads) and through a
// reader that returns (0, nil) now and then: the records must not change.
func TestSlowReaders(t *testing.T) {
	for _, tc := range sniffCases {
		for _, enc := range []string{"utf8", "utf16le", "utf16be", "gzip"} {
			var data []byte
			switch enc {
			case "utf8":
				data = []byte(tc.in)
			case "utf16le":
				data = utf16Bytes(tc.in, false, true)
			case "utf16be":
				data = utf16Bytes(tc.in, true, true)
			case "gzip":
				data = testutil.Gzip([]byte(tc.in))
			}
			want := readBytes(t, data, Options{})
			for _, slow := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, func(r io.Reader) io.Reader { return &stutter{r: r} }} {
				res := readAll(t, []string{"-"}, Options{Stdin: slow(bytes.NewReader(data)), BatchBytes: 32})
				if fmt.Sprint(res.recs) != fmt.Sprint(want.recs) || len(res.probs) != 0 || len(res.recs) != len(tc.recs) {
					t.Errorf("%s/%s: %+v %v\nwant %+v", tc.name, enc, res.recs, res.probs, want.recs)
				}
			}
		}
	}
}

// stutter returns (0, nil) every other call.
type stutter struct {
	r io.Reader
	n int
}

func (s *stutter) Read(p []byte) (int, error) {
	s.n++
	if s.n%2 == 0 {
		return 0, nil
	}
	return s.r.Read(p)
}

func TestUTF16Surrogates(t *testing.T) {
	// A lone high surrogate, a lone low surrogate, a pair, in LE.
	units := []uint16{0xfeff, '{', 0xd83d, 'a', 0xde00, 0xd83d, 0xde00, '}', 0xd83d}
	var data []byte
	for _, u := range units {
		data = append(data, byte(u), byte(u>>8))
	}
	res := readAll(t, []string{"-"}, Options{Stdin: iotest.OneByteReader(bytes.NewReader(data)), Format: UALJSONL})
	if len(res.recs) != 1 || res.recs[0].Data != "{\ufffda\ufffd😀}\ufffd" {
		t.Errorf("%+v %v", res.recs, res.probs)
	}
}
