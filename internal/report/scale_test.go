package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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

// TestTimelineZoom: a sign-in and a mail read two minutes later, in a
// two-week report, are far apart on the zoomed lanes, while the period
// strip marks them as one bar; an identity with nothing but sign-ins has
// the period strip alone; a mark whose row cannot be paired with it (a
// time that does not parse) keeps its title in the page.
func TestTimelineZoom(t *testing.T) {
	from, to := parseTime("2026-10-01T00:00:00Z"), parseTime("2026-10-15T00:00:00Z")
	id := triage.Identity{Signins: triage.Signins{Success: 1, First: "2026-10-05T10:00:00Z", Last: "2026-10-05T10:00:00Z"}}
	id.Activity.Evidence = []triage.Evidence{{Time: "2026-10-05T10:02:00Z", Operation: "MailItemsAccessed"}}
	tl := buildTimeline(id, from, to)
	if !tl.Zoomed || len(tl.Marks) != 2 {
		t.Fatalf("zoomed %v with %d marks, want zoomed with 2", tl.Zoomed, len(tl.Marks))
	}
	x0, _ := strconv.Atoi(tl.Marks[0].X)
	x1, _ := strconv.Atoi(tl.Marks[1].X)
	if x1-x0 < 400 {
		t.Errorf("sign-in at x=%d and the mail read two minutes later at x=%d: want them far apart", x0, x1)
	}
	if tl.WinW != "3" || len(tl.Labels) < 2 || tl.Day != "2026-10-05" {
		t.Errorf("period bar width %q, tick labels %v, day %q: want the narrowest bar, ticks, one day", tl.WinW, tl.Labels, tl.Day)
	}
	if tl.Marks[0].Title == "" || tl.Marks[1].Title != "" {
		t.Errorf("titles %q, %q: want the sign-in's sent and the evidence mark's left to the script", tl.Marks[0].Title, tl.Marks[1].Title)
	}
	again := buildTimeline(id, from, to)
	if !reflect.DeepEqual(tl, again) {
		t.Error("the same identity gave two timelines")
	}

	only := buildTimeline(triage.Identity{Signins: id.Signins}, from, to)
	if only.Zoomed || len(only.Marks) != 0 || only.WinX == "" || only.Height >= tl.Height {
		t.Errorf("sign-ins only: %+v, want the period strip alone", only)
	}

	id.Activity.Evidence = append(id.Activity.Evidence, triage.Evidence{Time: "yesterday", Operation: "FileAccessed"})
	odd := buildTimeline(id, from, to)
	if len(odd.Marks) != 2 || odd.Marks[1].Title != "2026-10-05T10:02:00Z MailItemsAccessed" {
		t.Errorf("with an unparsable time: marks %+v, want the parsable one with its title", odd.Marks)
	}
}
