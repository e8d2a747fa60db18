package triage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf16"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// The end-to-end tests check the engine against the synthetic tenant's
// answers, which internal/synth computes with its own implementation of
// docs/rules.md: every identity's class, verdict, severity and exact
// counts, in every input format and wrapping.

func generate(t testing.TB, opts synth.Options) ([]byte, *synth.Expected) {
	t.Helper()
	var b bytes.Buffer
	exp, err := synth.Generate(&b, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), exp
}

// generateWithSignIns generates a tenant with opts and its Entra sign-in
// log, writes the UAL and the log to dir (ual.jsonl, signins.json) and
// returns their paths, the UAL's bytes and the generator's answers.
func generateWithSignIns(t testing.TB, dir string, opts synth.Options) (ualPath, sigPath string, ual []byte, exp *synth.Expected) {
	t.Helper()
	var u, s bytes.Buffer
	opts.SignInLog = &s
	exp, err := synth.Generate(&u, opts)
	if err != nil {
		t.Fatal(err)
	}
	return testutil.WriteFile(t, dir, "ual.jsonl", u.Bytes()), testutil.WriteFile(t, dir, "signins.json", s.Bytes()), u.Bytes(), exp
}

// filterUAL keeps the records of a JSON Lines UAL export for which keep
// says yes, by operation and workload, and counts those it drops.
func filterUAL(t testing.TB, ual []byte, keep func(op, workload string) bool) (kept []byte, dropped int) {
	t.Helper()
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(ual))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r struct{ Operation, Workload string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if !keep(r.Operation, r.Workload) {
			dropped++
			continue
		}
		out.Write(sc.Bytes())
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), dropped
}

// sameReport checks that r, read from name, reports what the first report
// of the test (kept in *first, from firstName) did, input files and
// record places apart.
func sameReport(t *testing.T, first *[]byte, firstName, name string, r *Report) {
	t.Helper()
	js, _ := json.Marshal(placeless(r))
	if *first == nil {
		*first = js
	} else if !bytes.Equal(js, *first) {
		t.Errorf("%s: report differs from the %s one", name, firstName)
	}
}

// checkAgainstGenerator compares each reported identity's class, verdict,
// severity and counts with the generator's answers, and their number;
// also checks what a test compares beyond that.
func checkAgainstGenerator(t *testing.T, ids []Identity, exp *synth.Expected, also func(id Identity, e synth.ExpectedIdentity)) {
	t.Helper()
	for _, id := range ids {
		e, ok := exp.Identity(id.User)
		if !ok {
			t.Errorf("%s reported, not expected", id.User)
			continue
		}
		if got, want := verdictOf(id), expectedVerdict(e); got != want {
			t.Errorf("%s: got %+v, generator says %+v", id.User, got, want)
		}
		also(id, e)
	}
	if len(ids) != len(exp.Identities) {
		t.Errorf("%d identities, generator expects %d", len(ids), len(exp.Identities))
	}
}

// checkExpected compares a report with the generator's answers.
func checkExpected(t *testing.T, label string, r *Report, exp *synth.Expected) {
	t.Helper()
	if r.Input.Records != exp.Records || r.Input.Duplicates != exp.Duplicates || r.Input.Skipped != 0 {
		t.Errorf("%s: records %d duplicates %d skipped %d; want %d, %d, 0 (problems %v)", label,
			r.Input.Records, r.Input.Duplicates, r.Input.Skipped, exp.Records, exp.Duplicates, r.Problems)
	}
	if r.Input.From != exp.From || r.Input.To != exp.To {
		t.Errorf("%s: period %s..%s, want %s..%s", label, r.Input.From, r.Input.To, exp.From, exp.To)
	}
	if len(r.Tenant.IDs) != 1 || r.Tenant.IDs[0] != exp.TenantID {
		t.Errorf("%s: tenant %v, want %s", label, r.Tenant.IDs, exp.TenantID)
	}
	if !slices.Equal(r.Tenant.Domains, exp.InferredDomains) {
		t.Errorf("%s: domains %v, want %v", label, r.Tenant.Domains, exp.InferredDomains)
	}
	type row struct {
		User, Class, Home, Verdict, Severity string
		Consumer                             bool
		Success, Failure, ByUser, ByIP       int64
		Sharing                              int64
		IPs, Also                            []string
	}
	var got, want []row
	for _, id := range r.Identities {
		got = append(got, row{id.User, id.Class, id.HomeTenant, id.Verdict, id.Severity, id.Consumer,
			id.Signins.Success, id.Signins.Failure, id.Activity.ByUser, id.Activity.ByIP, id.SharingCount,
			id.Signins.IPs, id.IPAlsoUsedBy})
	}
	for _, e := range exp.Identities {
		also := e.IPAlsoUsedBy
		if also == nil {
			also = []string{}
		}
		want = append(want, row{e.User, e.Class, e.HomeTenant, e.Verdict, e.Severity, e.Consumer,
			int64(e.SigninsSuccess), int64(e.SigninsFailure), int64(e.ByUser), int64(e.ByIP), int64(e.Sharing),
			e.IPs, also})
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d identities, want %d", label, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s: identity %d:\n got %s\nwant %s\nreasons: %q", label, i, gj, wj, r.Identities[i].Reasons)
		}
	}
	// What was touched: the objects the generator says the records name,
	// wherever every record was kept (a partial list is a subset).
	complete := 0
	for _, id := range r.Identities {
		e, ok := exp.Identity(id.User)
		if !ok {
			continue
		}
		var names []string
		for _, a := range id.Accessed {
			names = append(names, a.Kind+" "+a.Object)
		}
		slices.Sort(names)
		switch {
		case !id.AccessedPartial && id.AccessedOmitted == 0:
			complete++
			if !slices.Equal(names, e.Touched) && (len(names) > 0 || len(e.Touched) > 0) {
				t.Errorf("%s: %s touched %q, want %q", label, id.User, names, e.Touched)
			}
		default:
			for _, n := range names {
				if _, found := slices.BinarySearch(e.Touched, n); !found {
					t.Errorf("%s: %s touched %q, not among %q", label, id.User, n, e.Touched)
				}
			}
		}
	}
	if complete == 0 && len(r.Identities) > 0 {
		t.Errorf("%s: no identity's accessed list is complete: nothing checked", label)
	}
	for _, d := range exp.NotReported {
		for _, id := range r.Identities {
			if id.User == d.User {
				t.Errorf("%s: decoy %s reported", label, d.User)
			}
		}
	}
}

// sourceFormat maps the generator's format names to the sniffed ones.
func sourceFormat(synthFormat string) string {
	switch synthFormat {
	case "jsonl":
		return string(source.UALJSONL)
	case "json":
		return string(source.UALJSON)
	}
	return synthFormat
}

// placeless drops what depends on where records were read (file names,
// lines or rows: reasons and evidence cite them), so reports of one tenant
// in different formats compare equal.
func placeless(r *Report) Report {
	c := *r
	c.Input.Files = nil
	c.Identities = nil
	for _, id := range r.Identities {
		id.Reasons = nil
		ev := slices.Clone(id.Activity.Evidence)
		for i := range ev {
			ev[i].Source = ""
		}
		id.Activity.Evidence = ev
		c.Identities = append(c.Identities, id)
	}
	return c
}

func utf16LE(data []byte) []byte {
	u := utf16.Encode([]rune(string(data)))
	out := make([]byte, 2+2*len(u))
	out[0], out[1] = 0xff, 0xfe
	for i, c := range u {
		binary.LittleEndian.PutUint16(out[2+2*i:], c)
	}
	return out
}

// TestEndToEndEveryFormat: the same tenant written in every format, plain,
// gzip-compressed, zipped and as UTF-16 with BOM, gives the generator's
// answers, and the same JSON report apart from the input file list.
func TestEndToEndEveryFormat(t *testing.T) {
	dir := t.TempDir()
	var reference []byte
	for _, format := range synth.Formats {
		data, exp := generate(t, synth.Options{Seed: 3, Format: format, Duplicates: 37})
		variants := map[string][]byte{
			format:            data,
			format + ".gz":    testutil.Gzip(data),
			format + ".zip":   testutil.Zipped("export/"+format, data),
			format + ".utf16": utf16LE(data),
		}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range variants {
				if !yield(k) {
					return
				}
			}
		}) {
			p := testutil.WriteFile(t, dir, name, variants[name])
			r, err := Run(context.Background(), []string{p}, Options{Workers: 2, Source: source.Options{BatchBytes: 64 << 10}})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := r.Input.Files[0].Format; got != sourceFormat(format) {
				t.Errorf("%s: sniffed as %s", name, got)
			}
			checkExpected(t, name, r, exp)
			sameReport(t, &reference, synth.Formats[0], name, r)
		}
	}
}

// TestEndToEndSeeds varies the tenant: several seeds, a larger size with
// member noise, and duplicates spread over two overlapping files.
func TestEndToEndSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	for _, seed := range []int64{1, 2, 5} {
		data, exp := generate(t, synth.Options{Seed: seed, Size: 3 << 20})
		p := testutil.WriteFile(t, dir, "t.jsonl", data)
		r, err := Run(context.Background(), []string{p}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkExpected(t, "seed", r, exp)
	}
	// The same export twice, and a CSV of it: every record is a duplicate.
	data, exp := generate(t, synth.Options{Seed: 9})
	csvData, _ := generate(t, synth.Options{Seed: 9, Format: "purview-csv"})
	a := testutil.WriteFile(t, dir, "a.jsonl", data)
	b := testutil.WriteFile(t, dir, "b.csv", csvData)
	r, err := Run(context.Background(), []string{a, b, a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	exp.Duplicates = 2 * exp.Records
	checkExpected(t, "overlap", r, exp)
}

// TestEndToEndPartners: a tenant with 200 partners and 450 more outside
// identities (synth.Options.Partners, Outsiders), every verdict and class
// among them, gives the generator's answers read as JSON Lines and as the
// Purview CSV, and the same report either way.
func TestEndToEndPartners(t *testing.T) {
	dir := t.TempDir()
	var reference []byte
	for _, format := range []string{"jsonl", "purview-csv", "ual-export-csv"} {
		data, exp := generate(t, synth.Options{Seed: 17, Format: format, Partners: 200, Outsiders: 450})
		if len(exp.Identities) < 450 {
			t.Fatalf("%s: %d identities", format, len(exp.Identities))
		}
		p := testutil.WriteFile(t, dir, "partners."+format, data)
		r, err := Run(context.Background(), []string{p}, Options{Workers: 2})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		checkExpected(t, format, r, exp)
		sameReport(t, &reference, "jsonl", format, r)
	}
	// With the Entra sign-in log beside the UAL: the answers for both.
	ualPath, sigPath, _, exp := generateWithSignIns(t, dir, synth.Options{Seed: 17, Partners: 200, Outsiders: 450})
	r, err := Run(context.Background(), []string{ualPath, sigPath}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Identities) != len(exp.Identities) {
		t.Fatalf("with the sign-in log: %d identities, want %d", len(r.Identities), len(exp.Identities))
	}
	for i, e := range exp.Identities {
		g := r.Identities[i]
		if g.User != e.User || g.Verdict != e.Verdict || g.Severity != e.Severity || !slices.Equal(g.Sources, e.Sources) ||
			g.Signins.Success != int64(e.SigninsSuccess) || g.Signins.Failure != int64(e.SigninsFailure) {
			t.Errorf("with the sign-in log, identity %d: got %s %s/%s %v %d/%d, want %s %s/%s %v %d/%d", i,
				g.User, g.Verdict, g.Severity, g.Sources, g.Signins.Success, g.Signins.Failure,
				e.User, e.Verdict, e.Severity, e.Sources, e.SigninsSuccess, e.SigninsFailure)
		}
	}
}

// TestExampleIsCurrent keeps the README's bundled example in step with the
// generator: examples/tenant.jsonl is 'outsider generate' with defaults.
func TestExampleIsCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "examples", "tenant.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := generate(t, synth.Options{Seed: 1})
	if !bytes.Equal(got, want) {
		t.Error("examples/tenant.jsonl is not what 'outsider generate' writes: regenerate it (see examples/README.md)")
	}
}

func BenchmarkRunJSONL(b *testing.B) {
	benchRun(b, "jsonl")
}

func BenchmarkRunPurviewCSV(b *testing.B) {
	benchRun(b, "purview-csv")
}

// benchRun times the whole engine (framing, decoding, aggregating,
// judging) on 64 MB of generated tenant, from a file in the page cache.
func benchRun(b *testing.B, format string) {
	data, _ := generate(b, synth.Options{Seed: 7, Size: 64 << 20, Format: format})
	p := testutil.WriteFile(b, b.TempDir(), "t", data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), []string{p}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// resaved is a CSV export as Excel saves it again in a locale whose list
// separator is sep (';' in most of Europe: "CSV"; '\t': "Unicode Text",
// then written as UTF-16): the same rows, quoted only where a field holds
// sep, a quote or a line break, CRLF line ends.
func resaved(t *testing.T, data []byte, sep rune) []byte {
	t.Helper()
	bom := bytes.HasPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord, r.LazyQuotes = -1, false
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if bom {
		b.WriteString("\xef\xbb\xbf")
	}
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = sep, true
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if sep == '\t' {
		return utf16LE(bytes.TrimPrefix(b.Bytes(), []byte("\xef\xbb\xbf")))
	}
	return b.Bytes()
}

// TestEndToEndSeparators: the same tenant's CSV exports (the Purview
// portal's, the Security & Compliance Center's, Export-Csv's and
// Sentinel's OfficeActivity) saved again by Excel with ';' and as UTF-16
// with tabs give the generator's answers and the report of the comma
// export, and the report names the separator with the format; so does
// Defender's CloudAppEvents export.
func TestEndToEndSeparators(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{synth.FormatPurviewCSV, synth.FormatPurviewCSVLegacy, synth.FormatExportCSV, synth.FormatSentinelCSV, synth.FormatDefenderCSV} {
		data, exp := generate(t, synth.Options{Seed: 3, Format: format, Duplicates: 37})
		var reference []byte
		for _, v := range []struct {
			name, suffix string
			data         []byte
		}{
			{"comma", "", data},
			{"semicolon", " (semicolon-separated)", resaved(t, data, ';')},
			{"tab-utf16", " (tab-separated)", resaved(t, data, '\t')},
		} {
			name := format + "-" + v.name
			p := testutil.WriteFile(t, dir, name, v.data)
			r, err := Run(context.Background(), []string{p}, Options{Workers: 2, Source: source.Options{BatchBytes: 64 << 10}})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := r.Input.Files[0].Format; got != format+v.suffix {
				t.Errorf("%s: format %q, want %q", name, got, format+v.suffix)
			}
			if format != synth.FormatSentinelCSV {
				checkExpected(t, name, r, exp)
			} else if r.Input.Skipped != 0 || len(r.Identities) == 0 {
				t.Errorf("%s: %d skipped, %d identities (problems %v)", name, r.Input.Skipped, len(r.Identities), r.Problems)
			}
			sameReport(t, &reference, format+"-comma", name, r)
		}
	}
}
