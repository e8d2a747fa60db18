package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
)

func generate(t testing.TB, o Options) ([]byte, *Expected) {
	t.Helper()
	var buf bytes.Buffer
	exp, err := Generate(&buf, o)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return buf.Bytes(), exp
}

func TestDeterministic(t *testing.T) {
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			o := Options{Format: f, Seed: 7}
			a, ea := generate(t, o)
			b, eb := generate(t, o)
			if sha256.Sum256(a) != sha256.Sum256(b) {
				t.Fatal("same options, different output")
			}
			if !reflect.DeepEqual(ea, eb) {
				t.Fatal("same options, different Expected")
			}
			o.Seed = 8
			c, _ := generate(t, o)
			if bytes.Equal(a, c) {
				t.Fatal("different seeds, same output")
			}
			if int64(len(a)) != ea.Bytes {
				t.Fatalf("Expected.Bytes %d, wrote %d", ea.Bytes, len(a))
			}
		})
	}
}

// TestFormatsAgree reads every format back with encoding/json and
// encoding/csv: the same records (Ids and decoded AuditData) in each, the
// envelope consistent with its record, in the promised time order.
func TestFormatsAgree(t *testing.T) {
	ref, baseExp := jsonlReference(t)
	if int64(len(ref)) != baseExp.Records {
		t.Fatalf("jsonl: %d distinct ids, Expected.Records %d", len(ref), baseExp.Records)
	}
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			data := generateLike(t, f, baseExp)
			recs := parseOutput(t, f, data)
			if len(recs) != len(ref) {
				t.Fatalf("%d records, jsonl has %d", len(recs), len(ref))
			}
			desc := strings.Contains(f, "csv")
			var prev time.Time
			for i, p := range recs {
				want, ok := ref[p.id]
				if !ok {
					t.Fatalf("record %s not in the jsonl output", p.id)
				}
				if !reflect.DeepEqual(p.audit, want) {
					t.Fatalf("record %s: AuditData differs from the jsonl one", p.id)
				}
				checkEnvelope(t, f, p)
				ct := p.creationTime(t)
				if i > 0 && (!desc && ct.Before(prev) || desc && ct.After(prev)) {
					t.Fatalf("record %d (%s) out of order: %v after %v", i, p.id, ct, prev)
				}
				prev = ct
			}
		})
	}
}

// TestPaging makes the paged formats span several pages and sessions.
func TestPaging(t *testing.T) {
	for _, f := range []string{FormatGraph, FormatExportCSV, FormatPSJSON} {
		t.Run(f, func(t *testing.T) {
			data, exp := generate(t, Options{Seed: 11, Format: f, Size: 12 << 20, Days: 3})
			recs := parseOutput(t, f, data)
			if int64(len(recs)) != exp.Records {
				t.Fatalf("%d records, Expected.Records %d", len(recs), exp.Records)
			}
			if exp.Records < 2500 {
				t.Fatalf("only %d records: paging not exercised", exp.Records)
			}
			indexes := map[int]bool{}
			for _, p := range recs {
				checkEnvelope(t, f, p)
				if p.env["ResultIndex"] != nil {
					indexes[toInt(p.env["ResultIndex"])] = true
				}
			}
			if f != FormatGraph && len(indexes) >= len(recs) {
				t.Fatal("ResultIndex never restarts: one session only")
			}
		})
	}
}

func toInt(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		n := 0
		for _, c := range x {
			n = n*10 + int(c-'0')
		}
		return n
	}
	return -1
}

func TestDuplicates(t *testing.T) {
	data, exp := generate(t, Options{Seed: 5, Duplicates: 9})
	recs := parseOutput(t, FormatJSONL, data)
	ids := map[string]int{}
	for _, p := range recs {
		ids[p.id]++
	}
	if int64(len(ids)) != exp.Records || int64(len(recs)) != exp.Records+exp.Duplicates || exp.Duplicates != exp.Records/9 {
		t.Fatalf("%d lines, %d distinct; Expected records %d duplicates %d", len(recs), len(ids), exp.Records, exp.Duplicates)
	}
	_, plain := generate(t, Options{Seed: 5})
	if !reflect.DeepEqual(plain.Identities, exp.Identities) {
		t.Fatal("duplicates changed the answers")
	}
}

// TestOracleExample re-derives every answer of the example from the decoded
// output with the test's own implementation of rules.md.
func TestOracleExample(t *testing.T) {
	for _, seed := range []int64{0, 1, 42} {
		data, exp := generate(t, Options{Seed: seed})
		checkOracle(t, data, exp)
	}
}

// TestOracleMedium does the same on ~5 MB, with seeds, start and period
// varied, in a CSV format (descending order) and with duplicates.
func TestOracleMedium(t *testing.T) {
	for _, o := range []Options{
		{Seed: 1234, Size: 5 << 20},
		{Seed: -99, Size: 5 << 20, Days: 3, Start: time.Date(2025, 2, 27, 13, 0, 0, 0, time.UTC), Duplicates: 50},
	} {
		data, exp := generate(t, o)
		checkOracle(t, data, exp)
	}
	data, exp := generate(t, Options{Seed: 77, Size: 5 << 20, Format: FormatPurviewCSV, Days: 30})
	recs := parseOutput(t, FormatPurviewCSV, data)
	var b bytes.Buffer
	for _, p := range recs {
		js, _ := json.Marshal(p.audit)
		b.Write(js)
		b.WriteByte('\n')
	}
	checkOracle(t, b.Bytes(), exp)
}

func checkOracle(t *testing.T, jsonl []byte, exp *Expected) {
	t.Helper()
	var maps []map[string]any
	seen := map[string]bool{}
	for _, p := range parseOutput(t, FormatJSONL, jsonl) {
		if !seen[p.id] {
			seen[p.id] = true
			maps = append(maps, p.audit)
		}
	}
	if int64(len(maps)) != exp.Records {
		t.Fatalf("%d distinct records, Expected.Records %d", len(maps), exp.Records)
	}
	got := runOracle(maps)
	if !reflect.DeepEqual(got.domains, exp.InferredDomains) {
		t.Errorf("inferred domains: oracle %v, Expected %v", got.domains, exp.InferredDomains)
	}
	if len(got.identities) != len(exp.Identities) {
		t.Errorf("oracle finds %d identities %v, Expected %d %v", len(got.identities), names(got.identities), len(exp.Identities), exp.Users())
	}
	for _, g := range got.identities {
		want, ok := exp.Identity(g.User)
		if !ok {
			t.Errorf("oracle reports %s, Expected does not", g.User)
			continue
		}
		want.Scenario, want.Note = "", ""
		if !reflect.DeepEqual(g, want) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(want)
			t.Errorf("%s:\n oracle   %s\n expected %s", g.User, gj, wj)
		}
	}
	for _, d := range exp.NotReported {
		for _, g := range got.identities {
			if g.User == d.User {
				t.Errorf("decoy %s is an identity", d.User)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func names(ids []ExpectedIdentity) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.User)
	}
	return out
}

// TestScenarios pins what each scenario is for, so a change that keeps the
// oracle happy but loses a case is noticed.
func TestScenarios(t *testing.T) {
	_, exp := generate(t, Options{})
	want := map[string]string{ // user → verdict/severity
		"pilar.pinilla@fabrikam.com":              "signin-only/info",
		"megan.bowen@northwindtraders.com":        "signin-only/info",
		"ivan.petrov@adatum.com":                  "signin-only/info",
		"sara.davis@outlook.com":                  "signin-only/info",
		"pilarp@woodgrovebank.com":                "shared/low",
		"quinn.baker@woodgrovebank.com":           "activity/medium",
		"jdoe@hotmail.com":                        "shared/low",
		"lee.gu@proseware.com":                    "signin-only/info",
		"nestor.wilke@litware.com":                "activity/medium",
		"adele.vance@relecloud.com":               "activity/high",
		"kai.carter@wingtiptoys.com":              "activity/high",
		"mallory.reyes@fourthcoffee.com":          "anomalous/high",
		"trent.olsen@fourthcoffee.com":            "signin-only/info",
		"anna.lidman@alpineskihouse.com":          "signin-only/info",
		"ben.walters@alpineskihouse.com":          "signin-only/info",
		"bob@fabrikam.com":                        "signin-only/info",
		"diego.siciliani@adventure-works.com":     "shared/low",
		"erin.hale@margiestravel.com":             "activity/medium",
		"grace_t@northwindtraders.com":            "activity/high",
		"olga.petrova@graphicdesigninstitute.com": "shared/low",
	}
	unknown := 0
	for _, id := range exp.Identities {
		if strings.HasPrefix(id.User, "unknown:") {
			unknown++
			if id.Class != "external-unknown" || id.Verdict != "signin-only" {
				t.Errorf("%s: %s %s", id.User, id.Class, id.Verdict)
			}
			continue
		}
		if w, ok := want[id.User]; !ok || w != id.Verdict+"/"+id.Severity {
			t.Errorf("%s: %s/%s, want %q", id.User, id.Verdict, id.Severity, w)
		}
		delete(want, id.User)
	}
	if unknown != 2 || len(want) > 0 {
		t.Errorf("%d unknown identities, missing %v", unknown, want)
	}
	checks := []struct {
		user string
		ok   func(ExpectedIdentity) bool
	}{
		{"ivan.petrov@adatum.com", func(x ExpectedIdentity) bool {
			return x.SigninsSuccess == 0 && x.SigninsFailure == 4 && x.SigninsInterrupted == 1
		}},
		{"sara.davis@outlook.com", func(x ExpectedIdentity) bool { return x.Consumer && x.HomeTenant == ConsumerTenant }},
		{"jdoe@hotmail.com", func(x ExpectedIdentity) bool { return x.Consumer && x.Sharing == 1 && x.ByUser == 3 }},
		{"lee.gu@proseware.com", func(x ExpectedIdentity) bool { return x.Sharing == 1 }},
		{"megan.bowen@northwindtraders.com", func(x ExpectedIdentity) bool { return len(x.IPs) == 2 }},
		{"pilarp@woodgrovebank.com", func(x ExpectedIdentity) bool {
			return x.ByUser == 4 && x.ByIP == 0 && len(x.IPs) == 1 && reflect.DeepEqual(x.IPAlsoUsedBy, []string{"quinn.baker@woodgrovebank.com"})
		}},
		{"quinn.baker@woodgrovebank.com", func(x ExpectedIdentity) bool { return x.ByIP == 4 && x.ByUser == 0 }},
		{"anna.lidman@alpineskihouse.com", func(x ExpectedIdentity) bool {
			return reflect.DeepEqual(x.IPAlsoUsedBy, []string{"ben.walters@alpineskihouse.com"})
		}},
		{"olga.petrova@graphicdesigninstitute.com", func(x ExpectedIdentity) bool { return x.ByUser == 2 && x.Sharing == 1 }},
		{"diego.siciliani@adventure-works.com", func(x ExpectedIdentity) bool { return x.Class == "guest" && x.Sharing == 2 }},
		{"bob@fabrikam.com", func(x ExpectedIdentity) bool { return x.Class == "guest" && len(x.Apps) == 2 }},
		{"kai.carter@wingtiptoys.com", func(x ExpectedIdentity) bool { return x.ByIP == 1 && len(x.IPAlsoUsedBy) == 1 }},
	}
	for _, c := range checks {
		x, ok := exp.Identity(c.user)
		if !ok || !c.ok(x) {
			j, _ := json.Marshal(x)
			t.Errorf("%s: %s", c.user, j)
		}
	}
	if len(exp.NotReported) < 5 {
		t.Errorf("decoys: %v", exp.NotReported)
	}
	for _, app := range []string{appAccessPanel, appSharePoint, appExchange, appTeams} {
		if !oracleFirstParty[app] {
			t.Errorf("%s missing from the core list", app)
		}
	}
	for app := range firstPartyApps {
		if !oracleFirstParty[app] {
			t.Errorf("generator treats %s as first-party but outsider_core_apps.csv does not list it", app)
		}
	}
}

func TestGolden(t *testing.T) {
	_, exp := generate(t, Options{})
	got, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "example-expected.json")
	testutil.Golden(t, path, got)
}

func TestSize(t *testing.T) {
	sizes := map[string]int64{FormatJSONL: 20 << 20}
	if !testing.Short() {
		for _, f := range Formats[1:] {
			sizes[f] = 3 << 20
		}
	}
	for f, size := range sizes {
		t.Run(f, func(t *testing.T) {
			checkSize(t, f, size)
		})
	}
}

// checkSize generates format up to size bytes: it stops within a record
// of the size and says how much it wrote.
func checkSize(t *testing.T, format string, size int64) {
	t.Helper()
	cw := &countingWriter{}
	exp, err := Generate(cw, Options{Format: format, Size: size, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if cw.n != exp.Bytes {
		t.Fatalf("wrote %d bytes, Expected.Bytes %d", cw.n, exp.Bytes)
	}
	if d := cw.n - size; d < -cw.maxRecord || d > cw.maxRecord {
		t.Fatalf("asked %d bytes, wrote %d (off by %d, more than a record of ~%d)", size, cw.n, d, cw.maxRecord)
	}
}

// jsonlReference generates the JSON Lines output of seed 3, the one the
// other formats are compared with: its records' AuditData by Id.
func jsonlReference(t *testing.T) (map[string]map[string]any, *Expected) {
	t.Helper()
	base, exp := generate(t, Options{Seed: 3})
	ref := map[string]map[string]any{}
	for _, p := range parseOutput(t, FormatJSONL, base) {
		ref[p.id] = p.audit
	}
	return ref, exp
}

// generateLike generates format of seed 3 and checks that the generator
// gives the answers it gave for the JSON Lines output (base).
func generateLike(t *testing.T, format string, base *Expected) []byte {
	t.Helper()
	data, exp := generate(t, Options{Seed: 3, Format: format})
	if !reflect.DeepEqual(exp.Identities, base.Identities) || exp.Records != base.Records {
		t.Fatal("Expected differs from the jsonl one")
	}
	return data
}

// countingWriter counts bytes and measures the longest line, an upper
// bound of a record's size for the line-based formats (at least 8 KB, the
// bound used for the others; lines of 64 KB or more are Graph pages).
type countingWriter struct {
	n, maxRecord, run int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.maxRecord == 0 {
		c.maxRecord = 8 << 10
	}
	for _, b := range p {
		c.run++
		if b == '\n' {
			if c.run > c.maxRecord && c.run < 64<<10 {
				c.maxRecord = c.run
			}
			c.run = 0
		}
	}
	return len(p), nil
}

// TestSampledValidJSON decodes a sample of the records of a larger output.
func TestSampledValidJSON(t *testing.T) {
	data, _ := generate(t, Options{Seed: 21, Size: 8 << 20})
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i := 0; i < len(lines); i += 13 {
		var m map[string]any
		if err := json.Unmarshal(lines[i], &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
}

func TestProjectedRows(t *testing.T) {
	// 10 records and 1 copy written; 5 more to come, copies at 12 and 15.
	if got := projectedRows(10, 1, 5, 3); got != 18 {
		t.Fatalf("projectedRows = %d, want 18", got)
	}
	if got := projectedRows(4998, 0, 2, 0); !isExportCap(got) {
		t.Fatalf("projectedRows = %d, want 5000", got)
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, o := range []Options{{Format: "xml"}, {Size: -1}, {Days: -1}, {Duplicates: -2}} {
		if _, err := Generate(io.Discard, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func BenchmarkGenerateJSONL(b *testing.B) {
	benchmarkFormat(b, FormatJSONL)
}

func BenchmarkGeneratePurviewCSV(b *testing.B) {
	benchmarkFormat(b, FormatPurviewCSV)
}

func benchmarkFormat(b *testing.B, format string) {
	const size = 64 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Generate(io.Discard, Options{Format: format, Size: size, Seed: int64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPartners: --partners 200 --outsiders 450 adds exactly 450 identities
// from exactly 200 partners (distinct domains and home tenants), over every
// partner kind, and the test's own oracle agrees with every answer, in a
// JSON and a CSV format.
func TestPartners(t *testing.T) {
	_, baseExp := generate(t, Options{Seed: 7})
	for _, format := range []string{FormatJSONL, FormatPurviewCSV} {
		data, exp := generate(t, Options{Seed: 7, Format: format, Partners: 200, Outsiders: 450})
		if got, want := len(exp.Identities), len(baseExp.Identities)+450; got != want {
			t.Fatalf("%s: %d identities, want %d", format, got, want)
		}
		tenants, domains, kinds := map[string]bool{}, map[string]bool{}, map[string]int{}
		for _, id := range exp.Identities {
			kind, ok := strings.CutPrefix(id.Scenario, ScenarioPartnerPrefix)
			if !ok {
				continue
			}
			kinds[kind]++
			if id.HomeTenant != "" && id.HomeTenant != ConsumerTenant {
				tenants[id.HomeTenant] = true
			}
			if id.Class == "passthrough" && !id.Consumer {
				domains[id.User[strings.LastIndexByte(id.User, '@')+1:]] = true
			}
		}
		if len(tenants) != 200 || len(domains) != 200 {
			t.Errorf("%s: %d partner tenants and %d partner domains, want 200 each", format, len(tenants), len(domains))
		}
		for _, k := range partnerKinds {
			if kinds[k.name] == 0 {
				t.Errorf("%s: no identity of kind %s", format, k.name)
			}
		}
		for _, v := range []string{"anomalous", "activity", "shared", "signin-only"} {
			if exp.Summary.ByVerdict[v] < 20 {
				t.Errorf("%s: only %d %s", format, exp.Summary.ByVerdict[v], v)
			}
		}
		jsonl := data
		if format != FormatJSONL {
			var b bytes.Buffer
			for _, p := range parseOutput(t, format, data) {
				js, _ := json.Marshal(p.audit)
				b.Write(js)
				b.WriteByte('\n')
			}
			jsonl = b.Bytes()
		}
		checkOracle(t, jsonl, exp)
	}
	// Other periods, sizes, duplicates and the sign-in log: the intent
	// check inside Generate and the oracle still agree.
	for _, o := range []Options{
		{Seed: -3, Partners: 40, Outsiders: 100, Days: 1},
		{Seed: 11, Partners: 300, Size: 3 << 20, Days: 30, Duplicates: 50},
	} {
		data, exp := generate(t, o)
		checkOracle(t, data, exp)
	}
	// With the sign-in log (which this oracle does not read), the intent
	// check inside Generate still holds for every partner identity.
	_, withLog := generate(t, Options{Seed: 12, SignInLog: io.Discard})
	_, withLogPartners := generate(t, Options{Seed: 12, Outsiders: 60, SignInLog: io.Discard})
	if got, want := len(withLogPartners.Identities), len(withLog.Identities)+60; got != want {
		t.Errorf("with the sign-in log: %d identities, want %d", got, want)
	}
	// Same seed, same bytes and answers; another seed, other partners.
	a, ea := generate(t, Options{Seed: 7, Partners: 200, Outsiders: 450, Size: 2 << 20})
	b, eb := generate(t, Options{Seed: 7, Partners: 200, Outsiders: 450, Size: 2 << 20})
	ja, _ := json.Marshal(ea)
	jb, _ := json.Marshal(eb)
	if !bytes.Equal(a, b) || !bytes.Equal(ja, jb) {
		t.Error("same seed and options: output or answers differ")
	}
	_, ec := generate(t, Options{Seed: 8, Partners: 200, Outsiders: 450})
	if ec.Identities[len(ec.Identities)-1].User == ea.Identities[len(ea.Identities)-1].User {
		t.Error("another seed gives the same partners")
	}
}

// TestPartnerCounts pins how Partners and Outsiders combine.
func TestPartnerCounts(t *testing.T) {
	for _, c := range []struct{ p, x, wantP, wantX int }{
		{0, 0, 0, 0}, {3, 0, 3, 3}, {0, 5, 3, 5}, {0, 1, 1, 1}, {200, 450, 200, 450}, {4, 4, 4, 4},
	} {
		p, x, err := partnerCounts(c.p, c.x)
		if err != nil || p != c.wantP || x != c.wantX {
			t.Errorf("partnerCounts(%d, %d) = %d, %d, %v; want %d, %d", c.p, c.x, p, x, err, c.wantP, c.wantX)
		}
	}
	for _, c := range [][2]int{{5, 4}, {-1, 0}, {0, -1}, {0, 20001}} {
		if _, err := Generate(io.Discard, Options{Partners: c[0], Outsiders: c[1]}); err == nil {
			t.Errorf("Partners %d Outsiders %d: no error", c[0], c[1])
		}
	}
	// One partner with more identities than there are names: all made.
	if _, exp := generate(t, Options{Seed: 3, Partners: 1, Outsiders: 4000}); len(exp.Identities) < 4000 {
		t.Errorf("Partners 1 Outsiders 4000: %d identities", len(exp.Identities))
	}
	// Fewer outsiders than the kinds: still one partner each, as asked.
	_, exp := generate(t, Options{Seed: 3, Partners: 3})
	n := 0
	for _, id := range exp.Identities {
		if strings.HasPrefix(id.Scenario, ScenarioPartnerPrefix) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("Partners 3: %d partner identities, want 3", n)
	}
}
