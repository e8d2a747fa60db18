package source

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// frameBytes reads data from stdin and returns what came out, checking
// the invariants every run must keep.
func frameBytes(t *testing.T, data []byte, opts Options) ([]rec, []Problem, []Input) {
	t.Helper()
	res := readBytes(t, data, opts)
	if res.err != nil {
		t.Fatalf("Read: %v", res.err)
	}
	for _, p := range res.probs {
		if p.Records < 0 || p.Warning && p.Records != 0 || p.Reason == "" {
			t.Fatalf("bad problem %+v", p)
		}
		if (p.Unit == "") != (p.Line == 0) {
			t.Fatalf("problem with unit %q line %d", p.Unit, p.Line)
		}
	}
	limit := opts.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	for _, r := range res.recs {
		if len(r.Data) == 0 || len(r.Data) > limit || r.Line < 1 {
			t.Fatalf("bad record %+v", r)
		}
	}
	return res.recs, res.probs, res.inputs
}

// plain reports whether data reaches the framer unchanged (no byte order
// mark, no container magic, nothing that looks like UTF-16).
func plain(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) ||
		bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0x1f, 0x8b}) ||
		bytes.HasPrefix(data, []byte("PK")) {
		return false
	}
	return !(len(data) >= 4 && (data[1] == 0 && data[3] == 0 || data[0] == 0 && data[2] == 0))
}

// inOrder checks that every record is a piece of data, in order.
func inOrder(t *testing.T, data []byte, recs []rec) {
	t.Helper()
	off := 0
	for _, r := range recs {
		i := bytes.Index(data[off:], []byte(r.Data))
		if i < 0 {
			t.Fatalf("record %q (line %d) is not in the input after offset %d", r.Data, r.Line, off)
		}
		off += i + len(r.Data)
	}
}

func sameOutput(t *testing.T, what string, r1, r2 []rec, p1, p2 []Problem) {
	t.Helper()
	if fmt.Sprint(r1) != fmt.Sprint(r2) {
		t.Fatalf("%s: records differ:\n%+v\n%+v", what, r1, r2)
	}
	if fmt.Sprint(p1) != fmt.Sprint(p2) {
		t.Fatalf("%s: problems differ:\n%v\n%v", what, p1, p2)
	}
}

func fuzzOpts(batch, limit uint16) Options {
	return Options{BatchBytes: 1 + int(batch%600), MaxRecordBytes: 1 + int(limit%300)}
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s), uint16(7), uint16(40))
		f.Add([]byte(s), uint16(100), uint16(1000))
	}
}

func FuzzJSONLines(f *testing.F) {
	addSeeds(f, "{\"a\":1}\n\n {\"b\":2} \r\n{\"c\":", "\n\n\ufeff{}\r\n", strings.Repeat("x", 50)+"\n{}\n")
	f.Fuzz(func(t *testing.T, data []byte, batch, limit uint16) {
		if !plain(data) {
			t.Skip()
		}
		opts := fuzzOpts(batch, limit)
		opts.Format = UALJSONL
		recs, probs, _ := frameBytes(t, data, opts)
		inOrder(t, data, recs)

		// The reference: split on newlines. Leading blanks of the
		// input are skipped (and do not count towards the first line).
		var want []rec
		var wantProbs []string
		if len(bytes.TrimLeft(data, " \t\r\n\f\v")) == 0 {
			wantProbs = append(wantProbs, "-: empty file")
		}
		rest := data
		line := int64(1)
		for len(rest) > 0 && isSpace(rest[0]) {
			if rest[0] == '\n' {
				line++
			}
			rest = rest[1:]
		}
		if len(rest) > 0 {
			for _, l := range bytes.Split(rest, []byte("\n")) {
				if len(l) > opts.MaxRecordBytes {
					wantProbs = append(wantProbs, fmt.Sprintf("-: line %d: record is %d bytes, over the limit of %d", line, len(l), opts.MaxRecordBytes))
				} else if s, e := trimLine(l, 0, len(l)); e > s {
					want = append(want, rec{Path: "-", Format: UALJSONL, Col: -1, Line: line, Data: string(l[s:e])})
				}
				line++
			}
		}
		var gotProbs []string
		for _, p := range probs {
			gotProbs = append(gotProbs, p.Error())
		}
		if fmt.Sprint(recs) != fmt.Sprint(want) || fmt.Sprint(gotProbs) != fmt.Sprint(wantProbs) {
			t.Fatalf("got\n%+v\n%q\nwant\n%+v\n%q", recs, gotProbs, want, wantProbs)
		}
	})
}

// frameDirect runs the JSON scanner on data without sniffing.
func frameDirect(t *testing.T, data []byte, opts Options, pages bool) ([]rec, []Problem) {
	t.Helper()
	recs, probs := frameWith(t, data, opts, UALJSON, func(f *feed) error { return frameJSONValues(f, 1, pages) })
	for _, x := range recs {
		if len(x.Data) == 0 || len(x.Data) > opts.MaxRecordBytes || x.Line < 1 {
			t.Fatalf("bad record %+v", x)
		}
	}
	return recs, probs
}

// frameWith runs frame on data read as format, without sniffing, and
// checks that what was framed is accounted for (checkCounts).
func frameWith(t *testing.T, data []byte, opts Options, format Format, frame func(f *feed) error) ([]rec, []Problem) {
	t.Helper()
	var res result
	r := &run{ctx: context.Background(), opts: opts, pool: &batchPool{size: opts.BatchBytes},
		inputs: []Input{{Path: "-"}}, problem: func(p Problem) { res.probs = append(res.probs, p) }}
	r.emit = func(b *Batch) error {
		for _, x := range b.Records {
			res.recs = append(res.recs, rec{b.File, b.Path, b.Format, b.CSVColumn, x.Line, string(x.Data), strings.Join(b.Header, "|"), b.Table, b.Dates, b.Separator})
		}
		b.Release()
		return nil
	}
	f := r.newFeed(0, "-", bytes.NewReader(data))
	f.format = format
	if err := frame(f); err != nil {
		t.Fatal(err)
	}
	if err := f.finish(); err != nil {
		t.Fatal(err)
	}
	r.inputs[0].Framed = f.framed
	res.inputs = r.inputs
	checkCounts(t, res)
	return res.recs, res.probs
}

func FuzzJSONStructural(f *testing.F) {
	addSeeds(f, `[{"a":"]\"}"},{"b":[1,{}]}, 3, "x", [1]]`, "{\n\"a\":1}\n{\"b\":{\"c\":[]}}", `[{"a":1},{"b":`, `{"value":[{"a":1}],"x":{"value":[]}}`, "[[[[[[", `{"a":"\\"}`)
	f.Fuzz(func(t *testing.T, data []byte, batch, limit uint16) {
		for _, pages := range []bool{false, true} {
			opts := fuzzOpts(batch, limit)
			recs, probs := frameDirect(t, data, opts, pages)
			inOrder(t, data, recs)
			for _, r := range recs {
				// Brackets are not matched by kind (the decoder
				// rejects "{]"), only counted.
				if last := r.Data[len(r.Data)-1]; r.Data[0] != '{' || last != '}' && last != ']' {
					t.Fatalf("record %q is not an object", r.Data)
				}
			}
			// The same with one big buffer: framing must not depend
			// on where buffers end.
			big := opts
			big.BatchBytes = 64 << 10
			recs2, probs2 := frameDirect(t, data, big, pages)
			sameOutput(t, "batch sizes", recs, recs2, probs, probs2)

			// Valid arrays of objects frame as encoding/json splits them.
			var elems []json.RawMessage
			if !pages && json.Unmarshal(data, &elems) == nil && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("[")) {
				big.MaxRecordBytes = 1 << 20
				recs3, probs3 := frameDirect(t, data, big, pages)
				if strings.Contains(fmt.Sprint(probs3), "nested deeper") {
					continue
				}
				var want, got []string
				for _, e := range elems {
					if len(e) > 0 && e[0] == '{' {
						want = append(want, string(e))
					}
				}
				for _, r := range recs3 {
					got = append(got, r.Data)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) || len(probs3) != len(elems)-len(want) {
					t.Fatalf("valid array: got %q %v\nwant %q", got, probs3, want)
				}
			}
		}
	})
}

func FuzzCSV(f *testing.F) {
	addSeeds(f, "1,\"{\"\"a\"\":1}\"\n2,{}\n", "1,\"a\nb\"\n\n2,\"x", "\"\"\"\n,,,\n\"a\"b,c\n")
	f.Fuzz(func(t *testing.T, data []byte, batch, limit uint16) {
		in := append([]byte("RecordId,AuditData\n"), data...)
		opts := fuzzOpts(batch, limit)
		opts.Format = PurviewCSV
		recs, probs, _ := frameBytes(t, in, opts)
		inOrder(t, in, recs)
		var scratch []byte
		for _, r := range recs {
			for i := 0; i < 4; i++ {
				var err error
				if _, scratch, err = CSVField([]byte(r.Data), i, scratch); err != nil && err.Error() == "" {
					t.Fatal("empty error")
				}
			}
		}
		big := opts
		big.BatchBytes = 64 << 10
		recs2, probs2, _ := frameBytes(t, in, big)
		sameOutput(t, "batch sizes", recs, recs2, probs, probs2)

		// Well-formed CSV frames and splits as encoding/csv reads it.
		if bytes.IndexByte(in, '\r') >= 0 || !utf8.Valid(in) {
			return
		}
		cr := csv.NewReader(bytes.NewReader(in))
		cr.FieldsPerRecord = -1
		all, err := cr.ReadAll()
		if err != nil {
			return
		}
		big.MaxRecordBytes = 1 << 20
		recs3, probs3, _ := frameBytes(t, in, big)
		if len(probs3) > 0 || len(recs3) != len(all)-1 {
			t.Fatalf("encoding/csv reads %d rows, we frame %d (%v)", len(all)-1, len(recs3), probs3)
		}
		for i, r := range recs3 {
			for c, want := range all[i+1] {
				got, _, err := CSVField([]byte(r.Data), c, nil)
				if err != nil || string(got) != want {
					t.Fatalf("row %q field %d: %q %v, want %q", r.Data, c, got, err, want)
				}
			}
			if _, _, err := CSVField([]byte(r.Data), len(all[i+1]), nil); err == nil {
				t.Fatalf("row %q has more than %d fields", r.Data, len(all[i+1]))
			}
		}
	})
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1}\n{\"b\":2}\n", "[{\"a\":1}]", "{\n\"AuditData\":{}\n}", `{"value":[{"auditData":{}}]}`,
		"RecordId,CreationDate,RecordType,Operation,UserId,AuditData\n1,2,3,4,5,{}\n",
		"#TYPE x\n\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\n1,2,3,\"{\"\"a\"\":1}\"\n",
		// Excel's re-saves: ';' and tabs.
		"RecordId;CreationDate;RecordType;Operation;UserId;AuditData\r\n1;2;3;4;5;\"{\"\"a\"\":\"\"b;c,d\"\"}\"\r\n",
		"CreationDate\tUserIds\tOperations\tAuditData\n1\t2\t\"x\ny\"\t{}\n",
		"", " \n", "<xml/>", "\x00\x01\x02",
	} {
		for mode := byte(0); mode < 4; mode++ {
			f.Add([]byte(s), mode)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		opts := Options{BatchBytes: 64, MaxRecordBytes: 200}
		recs, probs, inputs := frameBytes(t, data, opts)
		if len(inputs) == 0 {
			t.Fatal("no input")
		}
		checkPlain(t, data, opts, recs, probs)
		// The same content in a container or another encoding frames the
		// same.
		var wrapped []byte
		switch mode % 4 {
		case 1:
			wrapped = testutil.Gzip(data)
		case 2:
			wrapped = zipBytes(t, member{name: "m", data: data})
		case 3:
			if !plain(data) || !utf8.Valid(data) {
				return
			}
			wrapped = utf16Bytes(string(data), false, true)
		default:
			return
		}
		recs2, probs2, _ := frameBytes(t, wrapped, opts)
		for i := range recs2 {
			recs2[i].Path = "-"
		}
		var r1, r2 []string
		for _, p := range probs {
			r1 = append(r1, fmt.Sprint(p.Unit, p.Line, p.Reason, p.Records))
		}
		for _, p := range probs2 {
			r2 = append(r2, fmt.Sprint(p.Unit, p.Line, p.Reason, p.Records))
		}
		if fmt.Sprint(recs) != fmt.Sprint(recs2) || fmt.Sprint(r1) != fmt.Sprint(r2) {
			t.Fatalf("mode %d differs:\n%+v\n%q\n%+v\n%q", mode%4, recs, r1, recs2, r2)
		}
	})
}

// TestReadNoHang runs every format over a few hand-made nasty inputs.
func TestReadNoHang(t *testing.T) {
	inputs := []string{
		strings.Repeat("[", 5000), strings.Repeat(`{"a":`, 5000), strings.Repeat(`"`, 5000),
		strings.Repeat("\\", 5000), "[" + strings.Repeat(`"\\`, 3000), strings.Repeat("{}", 5000),
		"RecordId,AuditData\n" + strings.Repeat("\"", 5001), strings.Repeat("\n", 5000),
	}
	for _, in := range inputs {
		for _, format := range append([]Format{Auto}, Formats...) {
			res := readBytes(t, []byte(in), Options{Format: format, BatchBytes: 100, MaxRecordBytes: 300})
			if res.err != nil {
				t.Fatal(res.err)
			}
		}
	}
}

// FuzzUnquoteField holds the 64-byte (AVX-512) unquoting to the word at a
// time one: same field, same error, same scratch, for any row and start.
func FuzzUnquoteField(f *testing.F) {
	if !hasCompress {
		f.Skip("this CPU has no AVX-512 VBMI2: only the word-at-a-time path runs here")
	}
	js := `{""CreationTime"":""2026-10-01T00:00:00"",""Id"":""c35c4367-d793-41cb-81b2-08df1f4ef021"",""Operation"":""MailItemsAccessed"",""X"":""""}`
	f.Add([]byte(`2026,"`+js+`",tail`), 5)
	f.Add([]byte(`"`+js+`"`), 0)
	f.Add([]byte(`"`+js+`x"junk,next`), 0)
	f.Add([]byte(`"`+strings.Repeat(`""`, 70)+`"`), 0)
	f.Add([]byte(`"`+strings.Repeat(`a`, 63)+`"`+strings.Repeat(`b`, 64)), 0)
	f.Add([]byte(`"`+strings.Repeat(`a`, 62)+`""`+strings.Repeat(`b`, 64)+`"`), 0)
	f.Add([]byte(`"`+strings.Repeat(`""""x`, 40)), 0)
	f.Fuzz(func(t *testing.T, row []byte, i int) {
		if i < 0 || i >= len(row) || row[i] != '"' {
			return
		}
		prefix := []byte("kept")
		sameField(t, row, "at", i,
			outcome(unquoteFieldBlocks(row, i, 3, ',', slices.Clone(prefix))),
			outcome(unquoteFieldWords(row, i, 3, ',', slices.Clone(prefix))))
	})
}

// fieldRead is what a CSV field reader (csvField, unquoteField...) gives:
// the field, the scratch it may have appended to, an error.
type fieldRead struct {
	field, scratch []byte
	err            error
}

func outcome(field, scratch []byte, err error) fieldRead { return fieldRead{field, scratch, err} }

// sameField fails t unless two readers of the row (one checked, one
// trusted) gave the same field, scratch and error; where and n say what
// was read ("at" an offset, a "col"umn).
func sameField(t *testing.T, row []byte, where string, n int, got, want fieldRead) {
	t.Helper()
	if (want.err == nil) != (got.err == nil) || (want.err != nil && want.err.Error() != got.err.Error()) {
		t.Fatalf("%q %s %d: error %v, want %v", row, where, n, got.err, want.err)
	}
	if !bytes.Equal(got.field, want.field) || !bytes.Equal(got.scratch, want.scratch) {
		t.Fatalf("%q %s %d:\n got %q (scratch %q)\nwant %q (scratch %q)", row, where, n, got.field, got.scratch, want.field, want.scratch)
	}
}

// TestUnquoteBlocksRandom: the comparison of FuzzUnquoteField on 200,000
// random rows made mostly of quotes (runs of every length, across block
// boundaries, closing or not), and on 100,000 more of ';' and tabs, the
// separators of csv_sep.go's exports (what follows the closing quote is
// kept up to the separator), alternately. With -short (the race
// detector's run in .ci/run, where this single-goroutine check costs 15 s
// and finds no race) the first tenth of the same rows.
func TestUnquoteBlocksRandom(t *testing.T) {
	if !hasCompress {
		t.Skip("this CPU has no AVX-512 VBMI2")
	}
	for _, c := range []struct {
		seps, alphabet string
		seed1, seed2   uint64
		rows           int
	}{
		{",", `"""""a,\}`, 5, 6, 200000},
		{";\t", "\"\"\"\"a;,\t\\}", 11, 12, 100000},
	} {
		rows := c.rows
		if testing.Short() {
			rows /= 10
		}
		r := rand.New(rand.NewPCG(c.seed1, c.seed2))
		for n := range rows {
			sep := c.seps[n%len(c.seps)]
			row := testutil.RandomBytes(r, []byte(c.alphabet), 1+r.IntN(700))
			if n%3 == 0 { // mostly pairs, like JSON in a CSV field
				for k := 0; k+1 < len(row); k += 2 {
					if row[k] == '"' {
						row[k+1] = '"'
					}
				}
			}
			i := r.IntN(len(row))
			row[i] = '"'
			sameField(t, row, "at", i, outcome(unquoteFieldBlocks(row, i, 3, sep, []byte("kept"))),
				outcome(unquoteFieldWords(row, i, 3, sep, []byte("kept"))))
		}
	}
}

// checkPlain, for uncompressed single-byte input, checks that the records
// come in input order and, for input under 32 KiB, that sniffing and
// framing do not depend on buffer sizes beyond the sniff window.
func checkPlain(t *testing.T, data []byte, opts Options, recs []rec, probs []Problem) {
	t.Helper()
	if !plain(data) {
		return
	}
	inOrder(t, data, recs)
	if len(data) < 32<<10 {
		big := opts
		big.BatchBytes = 64 << 10
		recs2, probs2, _ := frameBytes(t, data, big)
		sameOutput(t, "batch sizes", recs, recs2, probs, probs2)
	}
}
