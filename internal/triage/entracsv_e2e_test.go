package triage

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// entraCSVTenant generates one tenant's UAL (JSON Lines) with its sign-in
// log both as Graph pages and as the Entra admin center's CSV download,
// and checks that the generator's answers and UAL do not depend on the
// sign-in log's shape.
func entraCSVTenant(t *testing.T, opts synth.Options) (ual, graph, download []byte, exp *synth.Expected) {
	t.Helper()
	var u, g, u2, d bytes.Buffer
	o := opts
	o.SignInLog = &g
	exp, err := synth.Generate(&u, o)
	if err != nil {
		t.Fatal(err)
	}
	o = opts
	o.SignInLog, o.SignInLogFormat = &d, synth.SignInLogEntraCSV
	cexp, err := synth.Generate(&u2, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u.Bytes(), u2.Bytes()) {
		t.Fatal("the generator's UAL depends on the sign-in log's shape")
	}
	if !sameAnswers(exp, cexp) || exp.SignInLog.Records != cexp.SignInLog.Records {
		t.Fatal("the generator's answers differ between the sign-in log's shapes")
	}
	return u.Bytes(), g.Bytes(), d.Bytes(), exp
}

// resaveAU rewrites the download as Excel saves it on a computer in an
// Australian locale: "Date (UTC)" as en-AU's "d/MM/yyyy h:mm:ss AM/PM"
// (day first, 12-hour clock: CLDR en_AU), every other field as it was,
// fields separated by sep; with a byte order mark when bom is set (Excel's
// "CSV UTF-8"). It returns the file and the times of its rows.
func resaveAU(t *testing.T, download []byte, sep rune, bom bool) ([]byte, []time.Time) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(download)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "Date (UTC)" {
		t.Fatalf("the download's first column is %q", rows[0][0])
	}
	var times []time.Time
	var b bytes.Buffer
	if bom {
		b.WriteString("\xef\xbb\xbf")
	}
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = sep, true
	for i, row := range rows {
		if i > 0 {
			when, err := time.Parse(time.RFC3339, row[0])
			if err != nil {
				t.Fatalf("row %d: %v", i+1, err)
			}
			times = append(times, when)
			row[0] = when.Format("2/01/2006 3:04:05 PM")
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes(), times
}

// TestEntraCSVDownload: the tenant's UAL read with its sign-in log as the
// Entra admin center's CSV download gives the generator's answers and the
// same identities, verdicts and counts as with the Graph pages, whichever
// file comes first; and so does the download opened and saved again by
// Excel in an Australian locale (day-first 12-hour dates, with ',' or ';'
// between fields), whose dates the file's own survey reads day first
// because some day of the period is over 12.
func TestEntraCSVDownload(t *testing.T) {
	dir := t.TempDir()
	ual, graph, download, exp := entraCSVTenant(t, synth.Options{Seed: 4})
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", ual)
	graphPath := testutil.WriteFile(t, dir, "signins.json", graph)
	csvPath := testutil.WriteFile(t, dir, "InteractiveSignIns_2026-10-01_2026-10-15.csv", download)
	auComma, times := resaveAU(t, download, ',', false)
	auSemi, _ := resaveAU(t, download, ';', true)
	over := slices.ContainsFunc(times, func(w time.Time) bool { return w.Day() > 12 })
	under := slices.ContainsFunc(times, func(w time.Time) bool { return w.Day() <= 12 && w.Day() != int(w.Month()) })
	if !over || !under {
		t.Fatalf("the period must have days over 12 (the survey's evidence: %v) and ambiguous ones (%v)", over, under)
	}
	auCommaPath := testutil.WriteFile(t, dir, "signins-en-au.csv", auComma)
	auSemiPath := testutil.WriteFile(t, dir, "signins-en-au-semicolon.csv", auSemi)

	reference := runClean(t, ualPath, graphPath)
	want := verdictsOf(reference)
	wantTouched := touchedLines(reference)
	for _, c := range []struct {
		name  string
		paths []string
	}{
		{"UAL + download", []string{ualPath, csvPath}},
		{"download + UAL", []string{csvPath, ualPath}},
		{"UAL + en-AU re-save", []string{ualPath, auCommaPath}},
		{"UAL + en-AU re-save with ';'", []string{ualPath, auSemiPath}},
	} {
		r := runClean(t, c.paths...)
		for _, in := range r.Input.Files {
			if in.Path != ualPath && !strings.HasPrefix(in.Format, string(source.EntraSignInCSV)) {
				t.Errorf("%s: %s read as %s", c.name, in.Path, in.Format)
			}
		}
		if r.Input.Records != reference.Input.Records || r.Input.From != reference.Input.From || r.Input.To != reference.Input.To {
			t.Errorf("%s: %d records from %s to %s; with the Graph pages %d from %s to %s", c.name, r.Input.Records, r.Input.From, r.Input.To,
				reference.Input.Records, reference.Input.From, reference.Input.To)
		}
		if r.Input.Duplicates != 0 {
			t.Errorf("%s: %d duplicates: a sign-in in both logs is not a duplicate record", c.name, r.Input.Duplicates)
		}
		got := verdictsOf(r)
		for user, w := range want {
			if got[user] != w {
				t.Errorf("%s: %s: %+v, with the Graph pages %+v", c.name, user, got[user], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d identities, %d with the Graph pages", c.name, len(got), len(want))
		}
		for user, w := range touchedLines(r) {
			if w != wantTouched[user] {
				t.Errorf("%s: %s touched %q, with the Graph pages %q", c.name, user, w, wantTouched[user])
			}
		}
		checkAgainstGenerator(t, r.Identities, exp, func(id Identity, e synth.ExpectedIdentity) {
			if !slices.Equal(id.Sources, e.Sources) {
				t.Errorf("%s: %s: sources %v, generator says %v", c.name, id.User, id.Sources, e.Sources)
			}
			if slices.Contains(id.Sources, "entra-signin") && len(id.Signins.Locations) == 0 {
				t.Errorf("%s: %s: seen in the sign-in log but no location kept", c.name, id.User)
			}
		})
	}
	// The download alone: every sign-in of it read, none skipped.
	alone := runClean(t, csvPath)
	if alone.Input.Records != exp.SignInLog.Records {
		t.Errorf("the download alone: %d records, the generator wrote %d sign-ins", alone.Input.Records, exp.SignInLog.Records)
	}
}

// TestEntraCSVDownloadTwelveDays: an en-AU re-save of the download of a
// period within a month's first twelve days has no date that shows its
// order: without --date-order every sign-in row is skipped, each with a
// reason naming the flag (the UAL is still read whole); with --date-order
// day-first the answers are the generator's and the Graph pages'.
func TestEntraCSVDownloadTwelveDays(t *testing.T) {
	dir := t.TempDir()
	ual, graph, download, exp := entraCSVTenant(t, synth.Options{Seed: 7, Days: 12})
	au, times := resaveAU(t, download, ';', true)
	// A date whose day is its month (10/10/2026) reads either way.
	var ambiguous int64
	for _, w := range times {
		if w.Day() > 12 {
			t.Fatalf("a 12-day period from %s wrote %s", synth.DefaultStart.Format(time.DateOnly), w)
		}
		if w.Day() != int(w.Month()) {
			ambiguous++
		}
	}
	if ambiguous == 0 || int64(len(times)) != exp.SignInLog.Records {
		t.Fatalf("%d rows, %d ambiguous; the generator wrote %d sign-ins", len(times), ambiguous, exp.SignInLog.Records)
	}
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", ual)
	graphPath := testutil.WriteFile(t, dir, "signins.json", graph)
	auPath := testutil.WriteFile(t, dir, "signins-en-au.csv", au)

	r := run(t, Options{Workers: 2}, ualPath, auPath)
	if r.Input.Skipped != ambiguous {
		t.Errorf("without --date-order: %d skipped, want every one of the %d ambiguous sign-in rows", r.Input.Skipped, ambiguous)
	}
	if len(r.Problems) == 0 {
		t.Fatal("without --date-order: no problem names the skipped rows")
	}
	for _, p := range r.Problems {
		if p.Path != auPath || !strings.Contains(p.Reason, "--date-order day-first or month-first") {
			t.Errorf("without --date-order: problem %s: %s, want the re-saved download and a reason naming --date-order", p.Path, p.Reason)
		}
	}
	for _, in := range r.Input.Files {
		if in.Path == ualPath && in.Skipped != 0 {
			t.Errorf("the UAL: %d skipped", in.Skipped)
		}
	}

	reference := runClean(t, ualPath, graphPath)
	opts := Options{Workers: 2}
	opts.Source.DateOrder = localedate.DayFirst
	stated := run(t, opts, ualPath, auPath)
	if stated.Input.Skipped != 0 || len(stated.Problems) != 0 {
		t.Fatalf("--date-order day-first: %d skipped: %v", stated.Input.Skipped, stated.Problems)
	}
	if stated.Input.Records != reference.Input.Records || stated.Input.From != reference.Input.From || stated.Input.To != reference.Input.To {
		t.Errorf("--date-order day-first: %d records from %s to %s; with the Graph pages %d from %s to %s", stated.Input.Records,
			stated.Input.From, stated.Input.To, reference.Input.Records, reference.Input.From, reference.Input.To)
	}
	want, got := verdictsOf(reference), verdictsOf(stated)
	for user, w := range want {
		if got[user] != w {
			t.Errorf("--date-order day-first: %s: %+v, with the Graph pages %+v", user, got[user], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("--date-order day-first: %d identities, %d with the Graph pages", len(got), len(want))
	}
	checkAgainstGenerator(t, stated.Identities, exp, func(Identity, synth.ExpectedIdentity) {})
}
