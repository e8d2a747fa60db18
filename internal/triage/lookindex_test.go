package triage

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// accessedOf is what the second look decides in a report, as JSON.
func accessedOf(t *testing.T, r *Report) []byte {
	t.Helper()
	type ident struct {
		User     string
		Accessed []AccessedObject
		Omitted  int
		Partial  bool
	}
	var out struct {
		Identities []ident
		Summary    []AccessedObject
		Omitted    int
		Scope      string
	}
	for _, id := range r.Identities {
		out.Identities = append(out.Identities, ident{id.User, id.Accessed, id.AccessedOmitted, id.AccessedPartial})
	}
	out.Summary, out.Omitted, out.Scope = r.AccessedSummary, r.AccessedSummaryOmitted, r.AccessedScope
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withIndex runs f with the second look reading plain files by their
// index (source.ReadIndexed) or from their start.
func withIndex(on bool, f func()) {
	defer func(v bool) { lookIndexed = v }(lookIndexed)
	lookIndexed = on
	f()
}

// multiLineCSV breaks every row of a Purview CSV export over three lines
// inside its quoted AuditData cell (JSON allows the whitespace), as a
// hand-edited or re-exported file may.
func multiLineCSV(t *testing.T, data []byte) []byte {
	out := bytes.ReplaceAll(data, []byte(`,""Operation"":`), []byte(",\r\n\n\"\"Operation\"\":"))
	if bytes.Equal(out, data) {
		t.Fatal("no AuditData cell to break over lines")
	}
	return out
}

// TestAccessedIndexedMatchesFullRead checks that reading the records kept
// again by the files' index gives the accessed lists reading the files
// from their start gives, in every generated format (the JSON arrays are
// not indexed and read as before) and in a newest-first Purview CSV whose
// rows span lines.
func TestAccessedIndexedMatchesFullRead(t *testing.T) {
	dir := t.TempDir()
	inputs := map[string][]byte{}
	for _, format := range synth.Formats {
		data, _ := generate(t, synth.Options{Seed: 11, Format: format, Size: 3 << 20, Duplicates: 5})
		inputs[format] = data
		if format == synth.FormatPurviewCSV {
			inputs[format+"-multiline"] = multiLineCSV(t, data)
		}
	}
	opts := Options{Workers: 2, Source: source.Options{BatchBytes: 64 << 10}}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			yield(k)
		}
	}) {
		p := testutil.WriteFile(t, dir, name, inputs[name])
		// JSON Lines and CSV files are indexed, in several points, so
		// that the look reads parts of them (the JSON arrays and Graph
		// pages are not).
		in, err := source.Read(context.Background(), []string{p}, opts.Source, func(b *source.Batch) error { b.Release(); return nil }, nil)
		if err != nil {
			t.Fatal(err)
		}
		ix := in[0].Index
		if want := in[0].Format == source.UALJSONL || in[0].Format.IsCSV(); want && (ix == nil || len(ix.Points) < 10) {
			t.Errorf("%s (%s): index %v", name, in[0].Format, ix != nil)
		}
		var indexed, full *Report
		withIndex(true, func() { indexed = run(t, opts, p) })
		withIndex(false, func() { full = run(t, opts, p) })
		if len(indexed.AccessedSummary) == 0 {
			t.Errorf("%s: nothing accessed", name)
		}
		if a, b := accessedOf(t, indexed), accessedOf(t, full); !bytes.Equal(a, b) {
			t.Errorf("%s: the accessed lists read by the index differ from those read from the start:\n%s", name, firstDiff(string(a), string(b)))
		}
	}
}

// zipOf is a zip holding data as its first member, compressed with
// method, and a second member of one record no outside identity has.
func zipOf(t *testing.T, method uint16, data []byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, m := range []struct {
		name string
		data []byte
	}{{"export", data}, {"other.jsonl", []byte(`{"Id":"x","RecordType":1}` + "\n")}} {
		f, err := w.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(m.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAccessedGzipIndexed checks that a gzip file, in one member or in
// several, and a zip's member, deflated or stored, read again by their
// index (checkpoints every 64 KiB of output here, so that the look
// restarts inflating in the middle), give the accessed lists of reading
// them from their start and of the plain file, for JSON Lines and for a
// Purview CSV whose rows span lines.
func TestAccessedGzipIndexed(t *testing.T) {
	defer source.SetGzipCheckpointSpacing(64 << 10)()
	dir := t.TempDir()
	opts := Options{Workers: 2, Source: source.Options{BatchBytes: 64 << 10}}
	jl, _ := generate(t, synth.Options{Seed: 13, Format: synth.FormatJSONL, Size: 3 << 20, Duplicates: 5})
	pv, _ := generate(t, synth.Options{Seed: 17, Format: synth.FormatPurviewCSV, Size: 3 << 20})
	pv = multiLineCSV(t, pv)
	for _, name := range []string{"jsonl", "purview-multiline"} {
		data := map[string][]byte{"jsonl": jl, "purview-multiline": pv}[name]
		plain := run(t, opts, testutil.WriteFile(t, dir, name+".plain", data))
		half := len(data) / 2
		for _, gz := range []struct {
			name string
			data []byte
		}{
			{"one-member.gz", testutil.Gzip(data)},
			{"members.gz", append(testutil.Gzip(data[:half]), testutil.Gzip(data[half:])...)},
			{"deflated.zip", zipOf(t, zip.Deflate, data)},
			{"stored.zip", zipOf(t, zip.Store, data)},
		} {
			p := testutil.WriteFile(t, dir, name+"."+gz.name, gz.data)
			in, err := source.Read(context.Background(), []string{p}, opts.Source, func(b *source.Batch) error { b.Release(); return nil }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if in[0].Index == nil || len(in[0].Index.Points) < 10 { // a zip's first member
				t.Fatalf("%s %s: not indexed", name, gz.name)
			}
			var indexed, full *Report
			withIndex(true, func() { indexed = run(t, opts, p) })
			withIndex(false, func() { full = run(t, opts, p) })
			if len(indexed.AccessedSummary) == 0 {
				t.Errorf("%s %s: nothing accessed", name, gz.name)
			}
			a, b, c := accessedOf(t, indexed), accessedOf(t, full), accessedOf(t, plain)
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: read by the index, the accessed lists differ from those read from the start:\n%s", name, gz.name, firstDiff(string(a), string(b)))
			}
			if !bytes.Equal(a, c) {
				t.Errorf("%s %s: the accessed lists differ from the plain file's:\n%s", name, gz.name, firstDiff(string(a), string(c)))
			}
			if gz.name == "stored.zip" {
				continue
			}
			// The checkpoints' windows over a budget of two go to a
			// temporary file, gone when the run ends; where none can be
			// made, they are thinned, and the report says so.
			for _, mode := range []string{"spilled", "thinned"} {
				tmp := t.TempDir()
				o := opts
				o.TempDir = tmp
				if mode == "thinned" {
					o.TempDir = filepath.Join(tmp, "missing")
				}
				var r *Report
				restore := source.SetWindowBudget(64 << 10)
				withIndex(true, func() { r = run(t, o, p) })
				restore()
				if d := accessedOf(t, r); !bytes.Equal(a, d) {
					t.Errorf("%s %s, %s: the accessed lists differ:\n%s", name, gz.name, mode, firstDiff(string(a), string(d)))
				}
				if left, _ := os.ReadDir(tmp); len(left) > 0 {
					t.Errorf("%s %s, %s: %d files left in the temporary folder", name, gz.name, mode, len(left))
				}
				warned := false
				for _, pr := range r.Problems {
					warned = warned || pr.Warning && strings.Contains(pr.Reason, "could not spill the checkpoints")
				}
				if warned != (mode == "thinned") {
					t.Errorf("%s %s, %s: warned %v", name, gz.name, mode, warned)
				}
			}
		}
	}
}

// TestAccessedFileChangedBetweenPasses changes a file between the
// session's read and its report: one whose size or time changed is read
// from its start, as without the index; one rewritten to the same size
// and time (the index then points into other records) must not be
// misread: every object it reports is one the unchanged file's records
// name for that identity.
func TestAccessedFileChangedBetweenPasses(t *testing.T) {
	dir := t.TempDir()
	data, _ := generate(t, synth.Options{Seed: 5, Format: synth.FormatJSONL, Size: 2 << 20})
	lines := bytes.SplitAfter(data, []byte("\n"))
	slices.Reverse(lines)
	reversed := bytes.Join(lines, nil)
	if len(reversed) != len(data) {
		t.Fatal("reversing changed the size")
	}
	opts := Options{Workers: 2, Source: source.Options{BatchBytes: 64 << 10}}
	ctx := context.Background()
	report := func(keepTime bool) *Report {
		p := testutil.WriteFile(t, dir, "changed.jsonl", data)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSession(opts)
		if err := s.Add(ctx, []string{p}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, reversed, 0o600); err != nil {
			t.Fatal(err)
		}
		if keepTime {
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var indexed, full *Report
	withIndex(true, func() { indexed = report(false) })
	withIndex(false, func() { full = report(false) })
	if a, b := accessedOf(t, indexed), accessedOf(t, full); !bytes.Equal(a, b) {
		t.Errorf("changed file: the accessed lists differ:\n%s", firstDiff(string(a), string(b)))
	}

	unchanged := run(t, opts, testutil.WriteFile(t, dir, "unchanged.jsonl", data))
	named := map[string]bool{}
	for _, id := range unchanged.Identities {
		for _, a := range id.Accessed {
			named[id.User+" "+a.Kind+" "+a.Object] = true
		}
	}
	var same *Report
	withIndex(true, func() { same = report(true) })
	for _, id := range same.Identities {
		for _, a := range id.Accessed {
			if !named[id.User+" "+a.Kind+" "+a.Object] {
				t.Errorf("file rewritten to the same size and time: %s reported as touching %s %s, which its records do not name", id.User, a.Kind, a.Object)
			}
		}
	}
}

// TestLookAgainWindows: the second look's reading of a file from its
// start notes the checkpoints of a gzip input in --temp-dir, not
// $TMPDIR, and lets go of them when it ends. Linux only (openIn).
func TestLookAgainWindows(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	defer func(v bool) { lookIndexed = v }(lookIndexed)
	lookIndexed = false // every file read again from its start
	var ual bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	defer source.SetGzipCheckpointSpacing(8 << 10)()
	defer source.SetWindowBudget(16 << 10)()
	tmp, sys := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", sys)
	path := testutil.WriteFile(t, t.TempDir(), "ual.jsonl.gz", testutil.Gzip(ual.Bytes()))
	r, err := Run(context.Background(), []string{path}, Options{TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.AccessedSummary) == 0 {
		t.Fatal("nothing touched: no second look, the case is too thin")
	}
	for _, dir := range []string{tmp, sys} {
		if n := testutil.OpenIn(dir); n != 0 {
			t.Errorf("%d files of %s still open after Run", n, dir)
		}
	}
}
