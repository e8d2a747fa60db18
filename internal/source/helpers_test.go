package source

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// rec is a framed record copied out of its batch.
type rec struct {
	File   int
	Path   string
	Format Format
	Col    int
	Line   int64
	Data   string
	// Header is the batch's Header joined with "|", Table its Table.
	Header string
	Table  Format
	// Dates is the batch's Dates.
	Dates localedate.Evidence
	// Sep is the batch's Separator.
	Sep byte
}

type result struct {
	recs   []rec
	probs  []Problem
	inputs []Input
	err    error
}

// readAll runs Read and copies out everything it produced, checking the
// per-input counts against what was emitted.
func readAll(t testing.TB, paths []string, opts Options) result {
	t.Helper()
	var res result
	emit := func(b *Batch) error {
		if len(b.Records) == 0 {
			t.Errorf("empty batch emitted for %s", b.Path)
		}
		for _, r := range b.Records {
			res.recs = append(res.recs, rec{b.File, b.Path, b.Format, b.CSVColumn, r.Line, string(r.Data), strings.Join(b.Header, "|"), b.Table, b.Dates, b.Separator})
		}
		b.Release()
		return nil
	}
	res.inputs, res.err = Read(context.Background(), paths, opts, emit, func(p Problem) { res.probs = append(res.probs, p) })
	checkCounts(t, res)
	return res
}

// checkFramed checks what res framed from one input of the given format
// against want, record by record: line, data (written with \n; \r\n
// when crlf), format, no CSV column, and the header and table that
// batch(i) says record i's batch carries.
func checkFramed(t *testing.T, res result, crlf bool, format Format, want []wantRec, batch func(i int) (header string, table Format)) {
	t.Helper()
	if len(res.inputs) != 1 || res.inputs[0].Format != format {
		t.Fatalf("inputs %+v, want one of format %s", res.inputs, format)
	}
	if len(res.recs) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(res.recs), len(want), res.recs)
	}
	for i, w := range want {
		g := res.recs[i]
		data := w.data
		if crlf {
			data = strings.ReplaceAll(data, "\n", "\r\n")
		}
		header, table := batch(i)
		if g.Line != w.line || g.Data != data || g.Format != format || g.Header != header || g.Table != table || g.Col != -1 {
			t.Errorf("record %d: line %d %s col %d header %q table %s %q\nwant line %d %s col -1 header %q table %s %q",
				i, g.Line, g.Format, g.Col, g.Header, g.Table, g.Data, w.line, format, header, table, data)
		}
	}
}

// readOK is readAll of a read that must not fail as a whole (problems
// with single records or files aside).
func readOK(t testing.TB, paths []string, opts Options) result {
	t.Helper()
	res := readAll(t, paths, opts)
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res
}

// readClean is readOK of one input that must give no problem at all.
func readClean(t testing.TB, path string, opts Options) result {
	t.Helper()
	res := readOK(t, []string{path}, opts)
	for _, p := range res.probs {
		t.Errorf("problem: %s", p.Error())
	}
	return res
}

// checkCounts verifies Framed and Skipped against the records and
// problems seen.
func checkCounts(t testing.TB, res result) {
	t.Helper()
	framed := make([]int64, len(res.inputs))
	for _, r := range res.recs {
		if r.File < 0 || r.File >= len(res.inputs) {
			t.Fatalf("record with file index %d of %d inputs", r.File, len(res.inputs))
		}
		if res.inputs[r.File].Path != r.Path {
			t.Errorf("batch path %q, input %d is %q", r.Path, r.File, res.inputs[r.File].Path)
		}
		framed[r.File]++
	}
	skipped := make(map[string]int64)
	for _, p := range res.probs {
		skipped[p.Path] += p.Records
	}
	seen := make(map[string]int64)
	for i, in := range res.inputs {
		if in.Framed != framed[i] {
			t.Errorf("%s: Framed %d, emitted %d", in.Path, in.Framed, framed[i])
		}
		seen[in.Path] += in.Skipped
	}
	for p, n := range skipped {
		if seen[p] != n {
			t.Errorf("%s: Skipped %d, problems counted %d", p, seen[p], n)
		}
	}
}

func readBytes(t testing.TB, data []byte, opts Options) result {
	t.Helper()
	opts.Stdin = bytes.NewReader(data)
	return readAll(t, []string{"-"}, opts)
}

type member struct {
	name  string
	data  []byte
	store bool // no compression
}

func zipBytes(t testing.TB, members ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, m := range members {
		method := zip.Deflate
		if m.store {
			method = zip.Store
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(m.name, "/") {
			fw.Write(m.data)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// eachVariant writes in in every variant (container, encoding, line
// ends) under dir and runs check on it as the subtest NAME/VARIANT/batch=B
// for batch sizes 0 (the default) and 7, with whether the variant's lines
// end in CRLF and the options that set the batch size.
func eachVariant(t *testing.T, dir, name, in string, check func(t *testing.T, path string, crlf bool, opts Options)) {
	t.Helper()
	for _, v := range variants {
		for _, batch := range []int{0, 7} {
			t.Run(fmt.Sprintf("%s/%s/batch=%d", name, v.name, batch), func(t *testing.T) {
				path, crlf := v.make(t, filepath.Join(dir, name, v.name, fmt.Sprint(batch)), in)
				check(t, path, crlf, Options{BatchBytes: batch})
			})
		}
	}
}
