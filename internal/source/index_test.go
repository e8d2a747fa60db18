package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// indexedInputs are plain files of the two indexed framings, with what
// makes their line numbers hard: blank lines, CRLF, a byte order mark,
// over-long records, CSV rows with quoted newlines, a stray quote, a
// "#TYPE" line.
func indexedInputs(r *rand.Rand) map[string]string {
	var jl strings.Builder
	jl.WriteString("\ufeff")
	for i := range 400 {
		switch r.IntN(20) {
		case 0:
			jl.WriteString("\n")
		case 1:
			jl.WriteString("  \r\n")
		case 2:
			fmt.Fprintf(&jl, "{\"Id\":\"big%d\",\"x\":\"%s\"}\n", i, strings.Repeat("y", 2100))
		default:
			fmt.Fprintf(&jl, "{\"Id\":\"r%d\",\"x\":\"%s\"}\r\n", i, strings.Repeat("z", r.IntN(300)))
		}
	}
	cell := func(i int) string {
		s := fmt.Sprintf(`"{""Id"":""r%d"",""x"":""%s""}"`, i, strings.Repeat("q", r.IntN(200)))
		if r.IntN(3) == 0 {
			s = strings.Replace(s, `,""x""`, ",\n\n\""+`"x""`, 1)
		}
		return s
	}
	var pv strings.Builder
	pv.WriteString("RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n")
	var ex strings.Builder
	ex.WriteString("#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\n")
	ex.WriteString(`"RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex","ResultCount","Identity","IsValid","ObjectState"` + "\n")
	for i := range 400 {
		switch r.IntN(25) {
		case 0:
			pv.WriteString("\r\n")
			ex.WriteString("\n")
			continue
		case 1:
			// A stray quote: the row is broken, framing resumes after
			// its first line.
			pv.WriteString("x,\"2024-01-01T00:00:00,15,Op,u@x,\"{}\n")
			continue
		case 2:
			fmt.Fprintf(&pv, "r%d,2024-01-01T00:00:00,15,Op,u@x,\"%s\",,\n", i, strings.Repeat("w", 2100))
		}
		fmt.Fprintf(&pv, "r%d,2024-01-01T00:00:00.0000000Z,15,UserLoggedIn,u@x,%s,,\r\n", i, cell(i))
		fmt.Fprintf(&ex, "\"15\",\"1/1/2024 12:00:00 AM\",\"u@x\",\"UserLoggedIn\",%s,\"1\",\"400\",\"r%d\",\"True\",\"Unchanged\"\n", cell(i), i)
	}
	// A sign-in download re-saved by Excel in en-AU: a span read again
	// carries what the whole file's dates showed (day first), though
	// its own rows may show nothing.
	var au strings.Builder
	au.WriteString("Date (UTC),Request ID,Username,Status\r\n")
	for i := range 400 {
		// Random request ids, so that the gzip encodings have windows
		// enough to spill past the tests' budget.
		fmt.Fprintf(&au, "\"%d/%d/2026 %d:05:26 PM\",s%d-%x,u@x,Success\r\n", 1+r.IntN(12), 1+r.IntN(12), 1+r.IntN(12), i, r.Uint64())
	}
	au.WriteString("\"13/12/2026 3:05:26 PM\",last,u@x,Success\r\n")
	// The Purview export saved again by Excel with ';': its batches,
	// read again by index, carry the separator as a read from the start.
	semi := string(swapBytes([]byte(pv.String()), ',', ';'))
	return map[string]string{"a.jsonl": jl.String(), "purview.csv": pv.String(), "export.csv": ex.String(), "signins-au.csv": au.String(),
		"purview-semicolon.csv": semi}
}

// encodings are the ways an indexed input is tested: as a plain file,
// gzipped with every kind of deflate block (stored, fixed and dynamic
// Huffman, Huffman only), in several members cut at random places, and
// as the first member of a zip, deflated or stored; read both in the
// foreground and by background inflaters.
var encodings = []string{"plain", "gz-1", "gz-9", "gz-stored", "gz-huffman", "gz-flushed", "gz-members", "gz-members-ahead",
	"zip", "zip-stored", "zip-ahead"}

// encode writes data as encoding enc.
func encode(t *testing.T, r *rand.Rand, data []byte, enc string) []byte {
	gz := func(data []byte, level, flush int) []byte {
		var b bytes.Buffer
		w, err := gzip.NewWriterLevel(&b, level)
		if err != nil {
			t.Fatal(err)
		}
		for len(data) > 0 {
			n := len(data)
			if flush > 0 {
				n = min(n, 1+r.IntN(flush))
			}
			w.Write(data[:n])
			data = data[n:]
			if flush > 0 {
				w.Flush()
			}
		}
		w.Close()
		return b.Bytes()
	}
	switch enc {
	case "gz-1":
		return gz(data, 1, 0)
	case "gz-9":
		return gz(data, 9, 0)
	case "gz-stored":
		return gz(data, 0, 0)
	case "gz-huffman":
		return gz(data, gzip.HuffmanOnly, 0)
	case "gz-flushed":
		return gz(data, 6, 500)
	case "zip", "zip-stored", "zip-ahead":
		return zipBytes(t, member{name: "in", data: data, store: enc == "zip-stored"},
			member{name: "other.jsonl", data: []byte("{\"Id\":\"o\"}\n")})
	case "gz-members", "gz-members-ahead":
		var out []byte
		for len(data) > 0 {
			n := min(len(data), 1+r.IntN(len(data)/3+1))
			out = append(out, gz(data[:n], 1+r.IntN(9), 0)...)
			data = data[n:]
		}
		return out
	}
	return data
}

// TestReadIndexed checks that reading a plain file again by its index
// frames, at every line asked for, the record a read from the start
// frames there, with the same format, column and header, and nothing
// that read does not frame.
//
// The checkpoints' windows are kept three ways (windows.go): all in
// memory; over a budget of a few windows, in a temporary file; and, when
// no temporary file can be made, thinned.
func TestReadIndexed(t *testing.T) {
	for _, mode := range []string{"memory", "spilled", "thinned"} {
		t.Run(mode, func(t *testing.T) { testReadIndexed(t, mode) })
	}
}

func testReadIndexed(t *testing.T, mode string) {
	defer func(s, g, b int64) { indexSpacing, gzCheckpointSpacing, windowBudget = s, g, b }(indexSpacing, gzCheckpointSpacing, windowBudget)
	indexSpacing, gzCheckpointSpacing = 700, 3000
	tmp := t.TempDir()
	switch mode {
	case "spilled":
		windowBudget = 8 << 10
	case "thinned":
		windowBudget = 8 << 10
		tmp = filepath.Join(tmp, "missing") // CreateTemp fails there
	}
	r := rand.New(rand.NewPCG(7, 19))
	dir := t.TempDir()
	inputs := indexedInputs(r)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			yield(k)
		}
	}) {
		for _, enc := range encodings {
			data := encode(t, r, []byte(inputs[name]), enc)
			if mode != "memory" && (enc == "plain" || enc == "zip-stored") {
				continue // no windows
			}
			name := name + " " + enc
			p := filepath.Join(dir, "in-"+enc)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			store := NewWindowStore(tmp)
			opts := Options{BatchBytes: 1500, MaxRecordBytes: 2000, noAhead: !strings.HasSuffix(enc, "-ahead"), Windows: store}
			full := readAll(t, []string{p}, opts)
			if !opts.noAhead {
				// Background inflaters start on the files after the
				// first: read the file second.
				empty := filepath.Join(dir, "empty")
				if err := os.WriteFile(empty, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				store.Close()
				store = NewWindowStore(tmp)
				opts.Windows = store
				full = readAll(t, []string{empty, p}, opts)
				full.inputs = full.inputs[1:]
				for i := range full.recs {
					full.recs[i].File--
				}
			}
			// A zip's first member is the input tested.
			full.recs = slices.DeleteFunc(full.recs, func(x rec) bool { return x.File != 0 })
			for _, x := range full.recs {
				if want := map[bool]localedate.Evidence{true: localedate.SawDayFirst}[strings.HasPrefix(name, "signins-au")]; x.Dates != want {
					t.Fatalf("%s: line %d carries dates %d, want %d", name, x.Line, x.Dates, want)
				}
			}
			ip := full.inputs[0].Path
			ix := full.inputs[0].Index
			if ix == nil || len(ix.Points) < 10 {
				t.Fatalf("%s (%s): index %v", name, full.inputs[0].Format, ix)
			}
			if gz := enc != "plain" && enc != "zip-stored"; gz != (len(ix.gz) > 0) || gz && len(ix.gz) < 2 {
				t.Fatalf("%s: %d checkpoints", name, len(ix.gz))
			}
			if ix.windows != store && len(ix.gz) > 0 {
				t.Fatalf("%s: index not kept in the store given", name)
			}
			checkWindows(t, name, mode, store, ix, full.probs, tmp)
			byLine := map[int64]rec{}
			var all []int64
			for _, rc := range full.recs {
				byLine[rc.Line] = rc
				all = append(all, rc.Line)
			}
			if len(all) < 300 {
				t.Fatalf("%s: %d records", name, len(all))
			}
			last := all[len(all)-1]
			sets := [][]int64{all, {last}, {1}, {last + 1}}
			for range 30 {
				var s []int64
				for l := int64(1); l <= last+2; l++ {
					if r.IntN(40) == 0 {
						s = append(s, l)
					}
				}
				sets = append(sets, s)
			}
			for _, batch := range []int{600, 1500, 64 << 10} {
				for _, lines := range sets {
					got := map[int64]rec{}
					err := ReadIndexed(context.Background(), ip, ix, lines, Options{BatchBytes: batch, MaxRecordBytes: 2000}, func(b *Batch) error {
						for _, x := range b.Records {
							rc := rec{b.File, b.Path, b.Format, b.CSVColumn, x.Line, string(x.Data), strings.Join(b.Header, "|"), b.Table, b.Dates, b.Separator}
							if prev, dup := got[x.Line]; dup && prev != rc {
								t.Errorf("%s: line %d framed twice, differently", name, x.Line)
							}
							got[x.Line] = rc
						}
						b.Release()
						return nil
					})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for l, rc := range got {
						if want, ok := byLine[l]; !ok || want != rc {
							t.Fatalf("%s, batch %d: line %d framed as %+v, a read from the start frames %+v (%v)", name, batch, l, rc, want, ok)
						}
					}
					for _, l := range lines {
						if _, ok := byLine[l]; ok {
							if _, found := got[l]; !found {
								t.Fatalf("%s, batch %d, lines %v: line %d not framed", name, batch, lines, l)
							}
						}
					}
				}
			}
			if len(ix.gz) > 0 && mode != "thinned" {
				// Once its store is closed, an index whose windows
				// it held cannot be read by.
				store.Close()
				err := ReadIndexed(context.Background(), ip, ix, []int64{last}, opts, func(b *Batch) error { b.Release(); return nil })
				pt := ix.Points[sort.Search(len(ix.Points), func(i int) bool { return ix.Points[i].Line > last })-1]
				cp := ix.gz[sort.Search(len(ix.gz), func(i int) bool { return ix.gz[i].Out > pt.Off })-1]
				if wantErr := cp.Ref != 0; wantErr != errors.Is(err, errStoreClosed) {
					t.Errorf("%s: read by its index once its store is closed: %v", name, err)
				}
			}
			store.Close()
			if left, _ := filepath.Glob(filepath.Join(tmp, "outsider-windows-*")); len(left) > 0 {
				t.Errorf("%s: %v left behind", name, left)
			}
			// A file changed since is not read by its index.
			if err := os.WriteFile(p, append(data, '\n'), 0o600); err != nil {
				t.Fatal(err)
			}
			err := ReadIndexed(context.Background(), ip, ix, all, opts, func(b *Batch) error {
				t.Errorf("%s: changed file read by its index", name)
				b.Release()
				return nil
			})
			if !errors.Is(err, ErrIndexStale) {
				t.Errorf("%s: changed file: %v, want ErrIndexStale", name, err)
			}
		}
	}
}

// checkWindows checks where the windows of ix's checkpoints are, for the
// mode of TestReadIndexed: all in memory; some in memory and the rest in
// a file that is not left in dir (on Windows it is, until Close); or,
// with no file, fewer, and the run warned of it.
func checkWindows(t *testing.T, name, mode string, s *WindowStore, ix *Index, probs []Problem, dir string) {
	t.Helper()
	where := map[uint8]int{}
	for _, cp := range ix.gz {
		if cp.Window != nil {
			t.Fatalf("%s: a window in the index", name)
		}
		if cp.Ref != 0 {
			where[s.slots[cp.Ref-1].where]++
		}
	}
	var warned bool
	for _, p := range probs {
		if p.Warning && strings.Contains(p.Reason, "could not spill the checkpoints") {
			warned = p.Path == dir && p.Records == 0
		}
	}
	if len(ix.gz) == 0 {
		return
	}
	if where[slotMem]+where[slotFile]+where[slotGone] == 0 {
		return // gzip -9 of a small file: one block, no window
	}
	switch mode {
	case "memory":
		if where[slotMem] == 0 || where[slotFile]+where[slotGone] > 0 || s.file.f != nil || warned {
			t.Fatalf("%s: windows %v, file %v, warned %v", name, where, s.file.f, warned)
		}
	case "spilled":
		if where[slotFile] == 0 || where[slotGone] > 0 || warned || s.held > s.budget {
			t.Fatalf("%s: windows %v, warned %v, %d bytes held", name, where, warned, s.held)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "outsider-windows-*")); len(left) > 0 && runtime.GOOS != "windows" {
			t.Fatalf("%s: temporary file %v not unlinked at once", name, left)
		}
	case "thinned":
		if where[slotGone] == 0 || where[slotFile] > 0 || !warned || s.held > s.budget {
			t.Fatalf("%s: windows %v, stride %d, warned %v, %d bytes held", name, where, s.stride, warned, s.held)
		}
	}
}

// TestIndexOnlyPlain checks which inputs get an index: plain and gzip
// files and members of a zip file framed as lines or rows, not a gzip in
// a zip or in a gzip, a zip in a gzip, UTF-16 or JSON arrays.
func TestIndexOnlyPlain(t *testing.T) {
	dir := t.TempDir()
	js := "{\"Id\":\"a\"}\n{\"Id\":\"b\"}\n"
	files := map[string][]byte{
		"plain.jsonl": []byte(js),
		"arr.json":    []byte("[\n{\"Id\":\"a\"},\n{\"Id\":\"b\"}\n]\n"),
		"u16.jsonl":   utf16Bytes(js, false, true),
		"z.zip":       zipBytes(t, member{name: "m.jsonl", data: []byte(js)}),
		"plain.gz":    testutil.Gzip([]byte(js)),
		"gz-in-gz.gz": testutil.Gzip(testutil.Gzip([]byte(js))),
		"gz-in-zip":   zipBytes(t, member{name: "m.jsonl.gz", data: testutil.Gzip([]byte(js))}),
		"u16.gz":      testutil.Gzip(utf16Bytes(js, false, true)),
		"zip-in-gz":   testutil.Gzip(zipBytes(t, member{name: "m.jsonl", data: []byte(js)})),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		res := readAll(t, []string{p}, Options{})
		if got, want := res.inputs[0].Index != nil, name == "plain.jsonl" || name == "plain.gz" || name == "z.zip"; got != want {
			t.Errorf("%s (%s): indexed %v, want %v", name, res.inputs[0].Format, got, want)
		}
	}
}

// FuzzReadIndexed reads arbitrary bytes, as a plain file and gzipped, from
// the start and again by their index, at every line and at every third:
// what the index read frames at a line must be what the first read
// framed there.
func FuzzReadIndexed(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, in := range indexedInputs(r) {
		f.Add([]byte(in[:min(len(in), 3000)]), uint8(40))
	}
	f.Add([]byte("RecordId,CreationDate,RecordType,Operation,UserId,AuditData\n\"a\nb\",\"x\"\"\n\"\n1,2,3,4,5,\"{}\"\n"), uint8(7))
	f.Add([]byte("Date (UTC),Request ID,Username,Status\n06/10/2026 09:14,a,u,S\n\"13/10/2026\n 09:14\",b,u,S\n10/14/2026 10:00,c,u,S\n"), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, spacing uint8) {
		defer func(s, g, b int64) { indexSpacing, gzCheckpointSpacing, windowBudget = s, g, b }(indexSpacing, gzCheckpointSpacing, windowBudget)
		indexSpacing, gzCheckpointSpacing = int64(spacing)+1, 3*int64(spacing)+1
		// The checkpoints' windows over a budget of a few hundred bytes
		// go to a temporary file or, where none can be made, are thinned.
		windowBudget = int64(spacing%4) * 300
		tmp := t.TempDir()
		if spacing%8 >= 4 {
			tmp = filepath.Join(tmp, "missing")
		}
		// The bytes as a plain file, and gzipped in blocks of a few
		// bytes each (flushed), so that inflating restarts in the middle.
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, 1+int(spacing)%9)
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+int(spacing)%50)
			w.Write(rest[:n])
			w.Flush()
			rest = rest[n:]
		}
		w.Close()
		for _, data := range [][]byte{data, gz.Bytes()} {
			readIndexedSame(t, data, tmp)
		}
	})
}

// readIndexedSame writes data to a file, reads it from the start and
// again by its index, at every line and at every third, and fails when a
// line is framed differently or not at all.
func readIndexedSame(t *testing.T, data []byte, tmp string) {
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{BatchBytes: 64, MaxRecordBytes: 200, TempDir: tmp}
	full := readAll(t, []string{p}, opts)
	ix := full.inputs[0].Index
	if ix == nil {
		return
	}
	byLine := map[int64]rec{}
	var all, third []int64
	for i, rc := range full.recs {
		byLine[rc.Line] = rc
		all = append(all, rc.Line)
		if i%3 == 0 {
			third = append(third, rc.Line)
		}
	}
	for _, lines := range [][]int64{all, third} {
		got := map[int64]bool{}
		err := ReadIndexed(context.Background(), p, ix, lines, opts, func(b *Batch) error {
			for _, x := range b.Records {
				rc := rec{b.File, b.Path, b.Format, b.CSVColumn, x.Line, string(x.Data), strings.Join(b.Header, "|"), b.Table, b.Dates, b.Separator}
				if want, ok := byLine[x.Line]; !ok || want != rc {
					t.Fatalf("line %d framed as %+v, a read from the start frames %+v (%v)", x.Line, rc, want, ok)
				}
				got[x.Line] = true
			}
			b.Release()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if !got[l] {
				t.Fatalf("line %d not framed", l)
			}
		}
	}
}

// TestNoIndex checks Options.NoIndex, for callers that read each input
// once: every encoding frames the same records with the same dates (the
// survey still reads a gzip file or zip member again from its start), no
// input gets an index, and no checkpoint's window reaches the store, in
// memory or in its temporary file, where a read that indexes spills them.
func TestNoIndex(t *testing.T) {
	defer func(s, g, b int64) { indexSpacing, gzCheckpointSpacing, windowBudget = s, g, b }(indexSpacing, gzCheckpointSpacing, windowBudget)
	indexSpacing, gzCheckpointSpacing, windowBudget = 700, 3000, 8<<10
	r := rand.New(rand.NewPCG(3, 5))
	dir := t.TempDir()
	inputs := indexedInputs(r)
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.jsonl", "signins-au.csv"} {
		for _, enc := range encodings {
			p := filepath.Join(dir, "in-"+enc)
			if err := os.WriteFile(p, encode(t, r, []byte(inputs[name]), enc), 0o600); err != nil {
				t.Fatal(err)
			}
			// Background inflaters start on the files after the first.
			paths := []string{p}
			ahead := strings.HasSuffix(enc, "-ahead")
			if ahead {
				paths = []string{empty, p}
			}
			read := func(noIndex bool) (result, *WindowStore) {
				tmp := t.TempDir()
				store := NewWindowStore(tmp)
				t.Cleanup(store.Close)
				return readOK(t, paths, Options{BatchBytes: 1500, MaxRecordBytes: 2000, noAhead: !ahead, Windows: store, TempDir: tmp, NoIndex: noIndex}), store
			}
			want, indexed := read(false)
			got, store := read(true)
			name := name + " " + enc
			if !slices.Equal(got.recs, want.recs) || len(got.recs) < 300 {
				t.Fatalf("%s: %d records, not the %d an indexing read frames (or too few)", name, len(got.recs), len(want.recs))
			}
			for i, in := range got.inputs {
				if in.Index != nil {
					t.Errorf("%s: input %d (%s) indexed", name, i, in.Path)
				}
			}
			if len(store.slots) != 0 || store.file.f != nil || store.held != 0 {
				t.Errorf("%s: %d windows kept (%d bytes in memory, file %v)", name, len(store.slots), store.held, store.file.f)
			}
			if gz := enc != "plain" && enc != "zip-stored"; gz && (len(indexed.slots) == 0 || indexed.file.f == nil) {
				t.Errorf("%s: the indexing read kept %d windows, spilled %v: the case is too thin", name, len(indexed.slots), indexed.file.f != nil)
			}
		}
	}
}
