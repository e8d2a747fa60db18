package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// scaleTenant triages a synthetic tenant with hundreds of partners (synth,
// seed 7, partners partners and outsiders more outside identities on top of
// the fixed scenarios), read as scale.jsonl from a temporary folder so
// that the evidence's file names, and so the reports, do not depend on
// where the test runs.
func scaleTenant(t *testing.T, partners, outsiders int) *triage.Report {
	t.Helper()
	var ual bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 7, Partners: partners, Outsiders: outsiders}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "scale.jsonl"), ual.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r, err := triage.Run(context.Background(), []string{"scale.jsonl"}, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Identities) < 400 {
		t.Fatalf("the synthetic tenant has %d outside identities, want at least 400", len(r.Identities))
	}
	return r
}

// TestGoldenAtScale: the reports of a tenant with 200 partners and over
// 400 outside identities, in text, Markdown and HTML, and the JSON's
// summary and partners (the identities are the text's and Markdown's,
// and would double the golden bytes). Run with -update after a change
// and read the diff.
func TestGoldenAtScale(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	golden := func(name string) string { return filepath.Join(wd, "testdata", "scale."+name+".golden") }
	r := scaleTenant(t, 200, 400)
	for _, f := range []Format{Text, Markdown, HTML} {
		var b bytes.Buffer
		if err := Render(&b, f, r); err != nil {
			t.Fatal(err)
		}
		testutil.Golden(t, golden(string(f)), b.Bytes())
	}
	var b bytes.Buffer
	if err := Render(&b, JSON, r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	part, err := json.MarshalIndent(map[string]json.RawMessage{"summary": doc["summary"], "partners": doc["partners"]}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, golden("summary.json"), append(part, '\n'))
}
