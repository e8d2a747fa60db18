package triage

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
)

// withoutSignIns drops the sign-in rows (UserLoggedIn, UserLoginFailed)
// of an OfficeActivity CSV export: Sentinel keeps Entra sign-ins in
// SigninLogs, and an analyst exports those from there.
func withoutSignIns(t *testing.T, data []byte) (out []byte, removed int) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	op := slices.Index(rows[0], "Operation")
	var b bytes.Buffer
	b.WriteString("\xef\xbb\xbf")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	for i, row := range rows {
		if i > 0 && (row[op] == "UserLoggedIn" || row[op] == "UserLoginFailed") {
			removed++
			continue
		}
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes(), removed
}

// TestSentinelExports: a Microsoft Sentinel analyst who exports the
// tenant's OfficeActivity table (the portal's CSV) and its SigninLogs and
// AADNonInteractiveUserSignInLogs (a Log Analytics query API response) for
// the same days gets the same identities and verdicts, with the same
// counts, as from the UAL and the Entra sign-in log, and as the generator
// says; also when the export keeps the UAL's sign-in rows (given after the
// sign-in log, whose copy of a sign-in is then the one counted: the
// export's columns do not name the application signed in to).
func TestSentinelExports(t *testing.T) {
	dir := t.TempDir()
	var ual, graph, office, query bytes.Buffer
	exp, err := synth.Generate(&ual, synth.Options{Seed: 4, SignInLog: &graph})
	if err != nil {
		t.Fatal(err)
	}
	sexp, err := synth.Generate(&office, synth.Options{Seed: 4, Format: synth.FormatSentinelCSV, SignInLog: &query,
		SignInLogFormat: synth.SignInLogLAQuery})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(exp.Identities, sexp.Identities, func(a, b synth.ExpectedIdentity) bool {
		return a.User == b.User && a.Verdict == b.Verdict && a.Class == b.Class
	}) {
		t.Fatal("the generator's answers differ between the shapes")
	}
	activity, removed := withoutSignIns(t, office.Bytes())
	if removed == 0 {
		t.Fatal("the OfficeActivity export holds no sign-in rows")
	}
	ualPath := writeFile(t, dir, "ual.jsonl", ual.Bytes())
	graphPath := writeFile(t, dir, "signins.json", graph.Bytes())
	officePath := writeFile(t, dir, "officeactivity.csv", office.Bytes())
	activityPath := writeFile(t, dir, "officeactivity-no-signins.csv", activity)
	queryPath := writeFile(t, dir, "signinlogs.json", query.Bytes())

	run := func(paths ...string) *Report {
		r, err := Run(context.Background(), paths, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r.Input.Skipped != 0 || len(r.Problems) != 0 {
			t.Fatalf("%v: %d skipped: %v", paths, r.Input.Skipped, r.Problems)
		}
		return r
	}
	type verdict struct {
		Class, Verdict, Severity string
		Success, Failure         int64
		ByUser, ByIP             int64
	}
	view := func(r *Report) map[string]verdict {
		m := map[string]verdict{}
		for _, id := range r.Identities {
			m[id.User] = verdict{id.Class, id.Verdict, id.Severity, id.Signins.Success, id.Signins.Failure, id.Activity.ByUser, id.Activity.ByIP}
		}
		return m
	}
	reference := run(ualPath, graphPath)
	want := view(reference)
	sentinel := run(activityPath, queryPath)
	for _, in := range sentinel.Input.Files {
		switch in.Path {
		case activityPath:
			if in.Format != string(source.SentinelOfficeCSV) {
				t.Errorf("%s read as %s", in.Path, in.Format)
			}
		case queryPath:
			if in.Format != string(source.LAQueryAPI) {
				t.Errorf("%s read as %s", in.Path, in.Format)
			}
		}
	}
	cases := []struct {
		name string
		r    *Report
	}{
		{"OfficeActivity without sign-ins + SigninLogs", sentinel},
		{"SigninLogs + OfficeActivity with sign-ins", run(queryPath, officePath)},
		{"SigninLogs + OfficeActivity without sign-ins", run(queryPath, activityPath)},
	}
	for _, c := range cases {
		got := view(c.r)
		for user, w := range want {
			if got[user] != w {
				t.Errorf("%s: %s: %+v, from the UAL and the sign-in log %+v", c.name, user, got[user], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d identities, %d from the UAL and the sign-in log", c.name, len(got), len(want))
		}
		if c.r.Input.Duplicates != 0 {
			t.Errorf("%s: %d duplicates", c.name, c.r.Input.Duplicates)
		}
	}
	// Against the generator's answers.
	for _, id := range sentinel.Identities {
		e, ok := exp.Identity(id.User)
		if !ok {
			t.Errorf("%s reported, not expected", id.User)
			continue
		}
		got := verdict{id.Class, id.Verdict, id.Severity, id.Signins.Success, id.Signins.Failure, id.Activity.ByUser, id.Activity.ByIP}
		w := verdict{e.Class, e.Verdict, e.Severity, int64(e.SigninsSuccess), int64(e.SigninsFailure), int64(e.ByUser), int64(e.ByIP)}
		if got != w {
			t.Errorf("%s: got %+v, generator says %+v", id.User, got, w)
		}
		if len(id.Signins.Locations) == 0 {
			t.Errorf("%s: no location kept from SigninLogs", id.User)
		}
	}
	if len(sentinel.Identities) != len(exp.Identities) {
		t.Errorf("%d identities, generator expects %d", len(sentinel.Identities), len(exp.Identities))
	}
	// The records: every UAL record once (the sign-ins as SigninLogs
	// rows), and the sign-in log's own.
	if sentinel.Input.Records != reference.Input.Records-int64(removed) {
		t.Errorf("%d records read, want %d", sentinel.Input.Records, reference.Input.Records-int64(removed))
	}
	t.Logf("OfficeActivity sign-in rows removed: %d; identities: %d; records: %d", removed, len(sentinel.Identities), sentinel.Input.Records)
}
