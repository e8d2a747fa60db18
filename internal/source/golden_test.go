package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestGolden frames each file of testdata/in and compares the records and
// problems with testdata/golden/<name>.txt.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "in", "*"))
	if err != nil || len(files) == 0 {
		t.Fatal("no golden inputs", err)
	}
	for _, in := range files {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			res := readOK(t, []string{in}, Options{})
			var b strings.Builder
			for i, input := range res.inputs {
				fmt.Fprintf(&b, "input %s format=%s framed=%d skipped=%d\n", filepath.ToSlash(input.Path), input.FormatName(), input.Framed, input.Skipped)
				header, table := "", Auto
				for _, r := range res.recs {
					if r.File != i {
						continue
					}
					if r.Header != header || r.Table != table {
						// Only the batches of CSV read by name and of
						// query API tables carry these.
						header, table = r.Header, r.Table
						fmt.Fprintf(&b, "header table=%s %q\n", table, header)
					}
					fmt.Fprintf(&b, "record line=%d col=%d %q\n", r.Line, r.Col, r.Data)
					if r.Col >= 0 {
						js, _, err := CSVFieldSep([]byte(r.Data), r.Col, r.Sep, nil)
						fmt.Fprintf(&b, "  auditdata %q %v\n", js, err)
					}
					if r.Sep != 0 {
						// Rows of a ';' or tab export: every field, as
						// split by the separator its header gave.
						fields, _, err := CSVFieldsSep([]byte(r.Data), r.Sep, nil, nil)
						fmt.Fprintf(&b, "  fields %q %v\n", fields, err)
					}
				}
				for _, p := range res.probs {
					if p.Path == input.Path {
						fmt.Fprintf(&b, "problem records=%d warning=%v %s\n", p.Records, p.Warning, filepath.ToSlash(p.Error()))
					}
				}
			}
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".txt")
			testutil.Golden(t, golden, []byte(b.String()))
		})
	}
}

// TestSamples reads the real exports in shared/samples.
func TestSamples(t *testing.T) {
	dir := testutil.SharedSamples(t, "det-eng-samples")
	paths, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, p := range paths {
		if filepath.Base(p) != "LICENSE" {
			kept = append(kept, p)
		}
	}
	res := readAll(t, kept, Options{})
	if res.err != nil || len(res.probs) > 0 {
		t.Fatalf("err %v, problems:\n%s", res.err, fmtProblems(res.probs))
	}
	var total int64
	for _, in := range res.inputs {
		total += in.Framed
		base := filepath.Base(in.Path)
		want := UALJSONL
		switch {
		case strings.HasSuffix(base, ".csv"):
			want = ExportCSV
		case base == "t1114.003_rule_mail_forward_same_dest.json" || base == "t1564.008_rule_mark_as_read_move.json":
			want = PowerShellJSON
		}
		if in.Format != want {
			t.Errorf("%s: format %s, want %s", base, in.Format, want)
		}
		if in.Framed == 0 {
			t.Errorf("%s: no record", base)
		}
	}
	if total != 125 {
		t.Errorf("%d records, want 125", total)
	}
	// The other sample folders are JSON Lines and read cleanly too; the
	// Sentinel export's rows are OfficeActivity's.
	for _, sub := range []string{"elastic-beats", "otrf-security-datasets"} {
		res := readAll(t, []string{filepath.Join(dir, "..", sub)}, Options{})
		if len(res.probs) > 0 || len(res.recs) == 0 {
			t.Errorf("%s: %d records, problems:\n%s", sub, len(res.recs), fmtProblems(res.probs))
		}
		for _, in := range res.inputs {
			want := UALJSONL
			if filepath.Base(in.Path) == "OfficeActivityEvents.json" {
				want = SentinelOfficeJSON
			}
			if in.Format != want {
				t.Errorf("%s: format %s, want %s", in.Path, in.Format, want)
			}
		}
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/x.json", "b.json", "a/.hidden/y.json", "a/.z.json", "a/c.csv", "a/d/e.jsonl", "[odd].json"} {
		testutil.WriteFile(t, dir, p, []byte("{}"))
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	j := func(ps ...string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, filepath.Join(dir, p))
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []string
		err  string
	}{
		{args: []string{dir}, want: j("[odd].json", "a/c.csv", "a/d/e.jsonl", "b.json", "b/x.json")},
		{args: []string{filepath.Join(dir, "a"), "-", filepath.Join(dir, "b.json")}, want: append(append(j("a/c.csv", "a/d/e.jsonl"), "-"), j("b.json")...)},
		{args: []string{filepath.Join(dir, "*.json")}, want: j("[odd].json", "b.json")},
		{args: []string{filepath.Join(dir, "[odd].json")}, want: j("[odd].json")},
		{args: []string{filepath.Join(dir, "?")}, want: j("a/c.csv", "a/d/e.jsonl", "b/x.json")},
		{args: []string{filepath.Join(dir, "a", ".z.json")}, want: j("a/.z.json")},
		{args: []string{filepath.Join(dir, "nope.json")}, err: filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{args: []string{filepath.Join(dir, "*.xml")}, err: "no input files match " + filepath.Join(dir, "*.xml")},
		{args: []string{filepath.Join(dir, "empty")}, err: "no input files in " + filepath.Join(dir, "empty")},
		{args: nil, err: "no input files: no path given"},
	} {
		got, err := Expand(tc.args)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Expand(%q): %v, want error %q", tc.args, err, tc.err)
			}
			if strings.HasPrefix(tc.err, "no input") && !errors.Is(err, ErrNoInputs) {
				t.Errorf("Expand(%q): %v is not ErrNoInputs", tc.args, err)
			}
			if strings.Contains(tc.err, "no such file") && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Expand(%q): %v is not fs.ErrNotExist", tc.args, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Expand(%q) = %q, %v\nwant %q", tc.args, got, err, tc.want)
		}
		if !sort.StringsAreSorted(got) && len(tc.args) == 1 {
			t.Errorf("Expand(%q) not sorted", tc.args)
		}
	}
	// Read expands folders itself too.
	res := readAll(t, []string{filepath.Join(dir, "a")}, Options{})
	if len(res.inputs) != 2 {
		t.Errorf("Read of a folder: %+v", res.inputs)
	}
}

func TestCSVField(t *testing.T) {
	for _, tc := range []struct {
		row  string
		col  int
		want string
		err  string
	}{
		{`a,b,c`, 0, "a", ""},
		{`a,b,c`, 2, "c", ""},
		{`a,,c`, 1, "", ""},
		{`a,b,`, 2, "", ""},
		{`"a,1","b""x""",c`, 0, "a,1", ""},
		{`"a,1","b""x""",c`, 1, `b"x"`, ""},
		{`"a,1","b""x""",c`, 2, "c", ""},
		{`"",x`, 0, "", ""},
		{`""""`, 0, `"`, ""},
		{"\"multi\nline\",x", 0, "multi\nline", ""},
		{`"a"junk,b`, 0, "ajunk", ""},
		{`"a"junk,b`, 1, "b", ""},
		{`a,b`, 4, "", "row has 2 fields, AuditData is column 5"},
		{`"a,b`, 0, "", "quoted field 1 does not close"},
		{`"a,b`, 1, "", "row has 1 fields, AuditData is column 2"},
		{``, 0, "", ""},
	} {
		got, _, err := CSVField([]byte(tc.row), tc.col, nil)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("CSVField(%q, %d): %q, %v, want error %q", tc.row, tc.col, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("CSVField(%q, %d) = %q, %v, want %q", tc.row, tc.col, got, err, tc.want)
		}
	}
	row := []byte(`"x","{""Id"":""1"",""A"":""b""}",y`)
	scratch := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		js, sc, err := CSVField(row, 1, scratch)
		if err != nil || string(js) != `{"Id":"1","A":"b"}` {
			t.Fatalf("%q %v", js, err)
		}
		scratch = sc
	})
	if allocs != 0 {
		t.Errorf("CSVField allocates %v times with a large enough scratch", allocs)
	}
}
