package triage

import (
	"bytes"
	"context"
	"testing"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestDefenderExports: a Defender XDR analyst who exports the tenant's
// CloudAppEvents table (the portal's CSV, or the advanced hunting API's
// responses) for the same days gets the same identities and verdicts,
// with the same counts and the same objects touched, as from the UAL,
// and as the generator says: each row's RawEventData is the audit record.
// Given with the UAL as well, every row is a duplicate of its record.
func TestDefenderExports(t *testing.T) {
	dir := t.TempDir()
	var ual, csvOut, jsonOut bytes.Buffer
	exp, err := synth.Generate(&ual, synth.Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		format string
		w      *bytes.Buffer
	}{{synth.FormatDefenderCSV, &csvOut}, {synth.FormatDefenderJSON, &jsonOut}} {
		dexp, err := synth.Generate(o.w, synth.Options{Seed: 4, Format: o.format})
		if err != nil {
			t.Fatal(err)
		}
		if !sameAnswers(exp, dexp) {
			t.Fatalf("%s: the generator's answers differ from the UAL's", o.format)
		}
	}
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", ual.Bytes())
	csvPath := testutil.WriteFile(t, dir, "cloudappevents.csv", csvOut.Bytes())
	jsonPath := testutil.WriteFile(t, dir, "cloudappevents.json", jsonOut.Bytes())

	reference := runClean(t, ualPath)
	want := verdictsOf(reference)
	if len(reference.AccessedSummary) == 0 {
		t.Fatal("the reference report names no object touched: the case is too thin")
	}
	wantTouched := touchedLines(reference)
	for _, c := range []struct {
		name   string
		path   string
		format source.Format
	}{
		{"portal CSV", csvPath, source.DefenderCSV},
		{"API responses", jsonPath, source.DefenderJSON},
	} {
		r := runClean(t, c.path)
		if len(r.Input.Files) != 1 || r.Input.Files[0].Format != string(c.format) {
			t.Errorf("%s: read as %+v", c.name, r.Input.Files)
		}
		if r.Input.Records != reference.Input.Records || r.Input.Duplicates != 0 {
			t.Errorf("%s: %d records, %d duplicates; the UAL %d", c.name, r.Input.Records, r.Input.Duplicates, reference.Input.Records)
		}
		got := verdictsOf(r)
		for user, w := range want {
			if got[user] != w {
				t.Errorf("%s: %s: %+v, from the UAL %+v", c.name, user, got[user], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d identities, %d from the UAL", c.name, len(got), len(want))
		}
		for user, w := range touchedLines(r) {
			if w != wantTouched[user] {
				t.Errorf("%s: %s touched %q, from the UAL %q", c.name, user, w, wantTouched[user])
			}
		}
		checkAgainstGenerator(t, r.Identities, exp, func(Identity, synth.ExpectedIdentity) {})
		// With the UAL: the same records, each counted once.
		both := runClean(t, ualPath, c.path)
		if both.Input.Records != reference.Input.Records || both.Input.Duplicates != reference.Input.Records {
			t.Errorf("%s with the UAL: %d records, %d duplicates; want %d and %d", c.name, both.Input.Records,
				both.Input.Duplicates, reference.Input.Records, reference.Input.Records)
		}
	}
}

// TestEndToEndDefenderFormats: the Defender shapes of the tenant, with
// duplicates, plain, gzip-compressed, zipped and as UTF-16 with BOM, give
// the generator's answers and the very report the JSON Lines output gives
// (apart from where records were read), as every UAL format does
// (TestEndToEndEveryFormat).
func TestEndToEndDefenderFormats(t *testing.T) {
	dir := t.TempDir()
	var reference []byte
	base, _ := generate(t, synth.Options{Seed: 3, Format: synth.FormatJSONL, Duplicates: 37})
	r, err := Run(context.Background(), []string{testutil.WriteFile(t, dir, "base.jsonl", base)}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	sameReport(t, &reference, synth.FormatJSONL, synth.FormatJSONL, r)
	for _, format := range synth.DefenderFormats {
		data, exp := generate(t, synth.Options{Seed: 3, Format: format, Duplicates: 37})
		for _, v := range []struct {
			name string
			data []byte
		}{
			{format, data}, {format + ".gz", testutil.Gzip(data)},
			{format + ".zip", testutil.Zipped("export/"+format, data)}, {format + ".utf16", utf16LE(data)},
		} {
			p := testutil.WriteFile(t, dir, v.name, v.data)
			r, err := Run(context.Background(), []string{p}, Options{Workers: 2, Source: source.Options{BatchBytes: 64 << 10}})
			if err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
			if got := r.Input.Files[0].Format; got != format {
				t.Errorf("%s: sniffed as %s", v.name, got)
			}
			checkExpected(t, v.name, r, exp)
			sameReport(t, &reference, synth.FormatJSONL, v.name, r)
		}
	}
}
