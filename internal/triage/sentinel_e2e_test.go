package triage

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// e2eVerdict is what the end-to-end tests of several inputs compare per
// identity: its class and verdict and the counts that decide them.
type e2eVerdict struct {
	Class, Verdict, Severity string
	Success, Failure         int64
	ByUser, ByIP             int64
}

func verdictOf(id Identity) e2eVerdict {
	return e2eVerdict{id.Class, id.Verdict, id.Severity, id.Signins.Success, id.Signins.Failure, id.Activity.ByUser, id.Activity.ByIP}
}

// expectedVerdict is what the generator says of an identity.
func expectedVerdict(e synth.ExpectedIdentity) e2eVerdict {
	return e2eVerdict{e.Class, e.Verdict, e.Severity, int64(e.SigninsSuccess), int64(e.SigninsFailure), int64(e.ByUser), int64(e.ByIP)}
}

// verdictsOf maps a report's identities to what they are compared by.
func verdictsOf(r *Report) map[string]e2eVerdict {
	m := map[string]e2eVerdict{}
	for _, id := range r.Identities {
		m[id.User] = verdictOf(id)
	}
	return m
}

// runClean triages paths, which must be read whole, without a problem.
func runClean(t *testing.T, paths ...string) *Report {
	t.Helper()
	r, err := Run(context.Background(), paths, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Input.Skipped != 0 || len(r.Problems) != 0 {
		t.Fatalf("%v: %d skipped: %v", paths, r.Input.Skipped, r.Problems)
	}
	return r
}

// sameAnswers reports whether the generator gives the same identities,
// verdicts and classes in two shapes of one tenant.
func sameAnswers(a, b *synth.Expected) bool {
	return slices.EqualFunc(a.Identities, b.Identities, func(a, b synth.ExpectedIdentity) bool {
		return a.User == b.User && a.Verdict == b.Verdict && a.Class == b.Class
	})
}

// touchedLines maps a report's identities to what each touched, as one
// line.
func touchedLines(r *Report) map[string]string {
	m := map[string]string{}
	for _, id := range r.Identities {
		var list []string
		for _, a := range id.Accessed {
			list = append(list, fmt.Sprintf("%s %s %d %v", a.Kind, a.Object, a.Records, a.How))
		}
		m[id.User] = strings.Join(list, "; ")
	}
	return m
}

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
// says; also when the export keeps the UAL's sign-in rows, given before or
// after the sign-in log (the export's columns do not name the application
// signed in to, nor an error code: the sign-in log's copy gives them).
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
	if !sameAnswers(exp, sexp) {
		t.Fatal("the generator's answers differ between the shapes")
	}
	activity, removed := withoutSignIns(t, office.Bytes())
	if removed == 0 {
		t.Fatal("the OfficeActivity export holds no sign-in rows")
	}
	ualPath := testutil.WriteFile(t, dir, "ual.jsonl", ual.Bytes())
	graphPath := testutil.WriteFile(t, dir, "signins.json", graph.Bytes())
	officePath := testutil.WriteFile(t, dir, "officeactivity.csv", office.Bytes())
	activityPath := testutil.WriteFile(t, dir, "officeactivity-no-signins.csv", activity)
	queryPath := testutil.WriteFile(t, dir, "signinlogs.json", query.Bytes())

	reference := runClean(t, ualPath, graphPath)
	want := verdictsOf(reference)
	sentinel := runClean(t, activityPath, queryPath)
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
		{"SigninLogs + OfficeActivity with sign-ins", runClean(t, queryPath, officePath)},
		{"OfficeActivity with sign-ins + SigninLogs", runClean(t, officePath, queryPath)},
		{"SigninLogs + OfficeActivity without sign-ins", runClean(t, queryPath, activityPath)},
	}
	wantTouched := touchedLines(reference)
	if len(reference.AccessedSummary) == 0 {
		t.Fatal("the reference report names no object touched: the case is too thin")
	}
	for _, c := range cases {
		for user, w := range touchedLines(c.r) {
			if w != wantTouched[user] {
				t.Errorf("%s: %s touched %q, from the UAL %q", c.name, user, w, wantTouched[user])
			}
		}
		got := verdictsOf(c.r)
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
	checkAgainstGenerator(t, sentinel.Identities, exp, func(id Identity, _ synth.ExpectedIdentity) {
		if len(id.Signins.Locations) == 0 {
			t.Errorf("%s: no location kept from SigninLogs", id.User)
		}
	})
	// The records: every UAL record once (the sign-ins as SigninLogs
	// rows), and the sign-in log's own.
	if sentinel.Input.Records != reference.Input.Records-int64(removed) {
		t.Errorf("%d records read, want %d", sentinel.Input.Records, reference.Input.Records-int64(removed))
	}
	t.Logf("OfficeActivity sign-in rows removed: %d; identities: %d; records: %d", removed, len(sentinel.Identities), sentinel.Input.Records)
}

// TestSentinelBadRows: every OfficeActivity or query API row that cannot
// be read is named (file, row or line, why) and counted, and the rows
// around it are read.
func TestSentinelBadRows(t *testing.T) {
	dir := t.TempDir()
	const header = "RecordType,\"TimeGenerated [UTC]\",Operation,OrganizationId,UserType,OfficeWorkload,UserId,ClientIP,Actor,OfficeId\r\n"
	good := func(id string) string {
		return "SharePointFileOperation,\"4/28/2021, 3:05:26.000 PM\",FileAccessed,6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94,Regular,SharePoint,megan@contoso.com,81.2.69.160,," + id + "\r\n"
	}
	csvPath := testutil.WriteFile(t, dir, "officeactivity.csv", []byte(header+good("g1")+
		"SharePointFileOperation,\"4/31/2021, 3:05:26.000 PM\",FileAccessed,o,Regular,SharePoint,megan@contoso.com,81.2.69.160,,b1\r\n"+
		"SharePointFileOperation,,FileAccessed,o,Regular,SharePoint,megan@contoso.com,81.2.69.160,,b2\r\n"+
		"AzureActiveDirectoryStsLogon,\"4/28/2021, 3:06:00.000 PM\",UserLoggedIn,o,Regular,AzureActiveDirectory,x@fabrikam.com,81.2.69.1,\"[{\"\"ID\"\":\"\"Unknown\"\"\",b3\r\n"+
		"short,row\r\n"+
		"SharePointFileOperation,\"4/28/2021, 3:05:26.000 PM\",FileAccessed,o,Regular,SharePoint,me\xffgan@contoso.com,81.2.69.160,,b4\r\n"+
		good("g2")))
	queryPath := testutil.WriteFile(t, dir, "query.json", []byte(`{"tables":[{"name":"PrimaryResult","columns":[{"name":"TimeGenerated","type":"datetime"},`+
		`{"name":"UserPrincipalName","type":"string"},{"name":"ResultType","type":"string"},{"name":"Id","type":"string"}],"rows":[`+"\n"+
		`["2021-04-28T15:12:10Z","p@fabrikam.com","0","s1"],`+"\n"+
		`["yesterday","p@fabrikam.com","0","s2"],`+"\n"+
		`["2021-04-28T15:13:10Z","p@fabrikam.com"],`+"\n"+
		`"not a row",`+"\n"+
		`["2021-04-28T15:14:10Z","p@fabrikam.com","0","s3"]]}]}`+"\n"))
	r, err := Run(context.Background(), []string{csvPath, queryPath}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Problems {
		got = append(got, p.Error())
	}
	all := strings.Join(got, "\n")
	for _, w := range []string{
		csvPath + `: row 3: TimeGenerated "4/31/2021, 3:05:26.000 PM" is not a time`,
		csvPath + ": row 4: no TimeGenerated",
		csvPath + ": row 5: Actor: ",
		csvPath + ": row 6: row has 2 fields, the header 10",
		csvPath + ": row 7: invalid UTF-8",
		queryPath + `: line 3: TimeGenerated "yesterday" is not a time`,
		queryPath + ": line 4: row has 2 fields, the header 4",
		queryPath + ": line 5: row is a string, not an array of values",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("problems\n%s\nlack %q", all, w)
		}
	}
	if r.Input.Records != 4 || r.Input.Skipped != 8 {
		t.Errorf("%d records read, %d skipped; want 4 and 8", r.Input.Records, r.Input.Skipped)
	}
}
