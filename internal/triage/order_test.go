package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// orderView is what of an identity must not depend on which log is given
// first: its verdict and the counts that decide it, its applications (the
// anomalous rule), the sign-ins whose application is unknown (the "cannot
// rule one out" answer), the reasons a verdict of anomalous gives, and the
// sources. Not in it, because the copy read first of a sign-in in both logs
// is the one cited and whose addresses count (docs/formats.md): evidence,
// the other reasons' citations, the IP list.
type orderView struct {
	e2eVerdict
	Apps         string
	SigninsNoApp int64
	Anomalous    string
	Sources      string
}

func orderViews(r *Report) map[string]orderView {
	m := map[string]orderView{}
	for _, id := range r.Identities {
		v := orderView{e2eVerdict: verdictOf(id), SigninsNoApp: id.SigninsNoApp,
			Sources: strings.Join(id.Sources, ",")}
		var apps []string
		for _, a := range id.Signins.Apps {
			apps = append(apps, fmt.Sprintf("%s %q %s %v %d", a.ID, a.Name, a.NameSource, a.FirstParty, a.Count))
		}
		v.Apps = strings.Join(apps, "; ")
		if id.Verdict == VerdictAnomalous {
			for _, reason := range id.Reasons {
				if strings.Contains(reason, "not a Microsoft first-party application") {
					v.Anomalous += reason + "\n"
				}
			}
		}
		m[id.User] = v
	}
	return m
}

// TestArgumentOrder: an audit export whose sign-ins name no application
// (Sentinel's OfficeActivity has no ApplicationId, nor an error code) and
// the Entra sign-in log give the same verdicts, applications and answers
// whichever is given first, the anomalous identity found either way, with
// one worker or several, with the sign-in log as Graph pages or Log
// Analytics query responses; and the same as the generator's answers.
func TestArgumentOrder(t *testing.T) {
	dir := t.TempDir()
	var office, graph, office2, query bytes.Buffer
	exp, err := synth.Generate(&office, synth.Options{Seed: 4, Format: synth.FormatSentinelCSV, SignInLog: &graph})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(&office2, synth.Options{Seed: 4, Format: synth.FormatSentinelCSV, SignInLog: &query,
		SignInLogFormat: synth.SignInLogLAQuery}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(office.Bytes(), office2.Bytes()) {
		t.Fatal("the generator's OfficeActivity depends on the sign-in log's shape")
	}
	var anomalous []string
	for _, e := range exp.Identities {
		if e.Verdict == VerdictAnomalous {
			anomalous = append(anomalous, e.User)
		}
	}
	if len(anomalous) == 0 {
		t.Fatal("the generator makes no anomalous identity: the case is too thin")
	}
	officePath := testutil.WriteFile(t, dir, "officeactivity.csv", office.Bytes())
	for _, sig := range []struct{ name, path string }{
		{"graph", testutil.WriteFile(t, dir, "signins.json", graph.Bytes())},
		{"la-query", testutil.WriteFile(t, dir, "signinlogs.json", query.Bytes())},
	} {
		for _, workers := range []int{1, 3} {
			label := fmt.Sprintf("%s, %d workers", sig.name, workers)
			ualFirst := run(t, Options{Workers: workers}, officePath, sig.path)
			logFirst := run(t, Options{Workers: workers}, sig.path, officePath)
			a, b := orderViews(ualFirst), orderViews(logFirst)
			for user, w := range b {
				if a[user] != w {
					t.Errorf("%s: %s:\nOfficeActivity first %+v\nsign-in log first    %+v", label, user, a[user], w)
				}
			}
			if len(a) != len(b) {
				t.Errorf("%s: %d identities with OfficeActivity first, %d with the sign-in log first", label, len(a), len(b))
			}
			sa, _ := json.Marshal(ualFirst.Summary)
			sb, _ := json.Marshal(logFirst.Summary)
			if !bytes.Equal(sa, sb) {
				t.Errorf("%s: summary %s with OfficeActivity first, %s with the sign-in log first", label, sa, sb)
			}
			for _, user := range anomalous {
				for _, r := range []*Report{ualFirst, logFirst} {
					if id := find(t, r, user); id.Verdict != VerdictAnomalous || id.SigninsNoApp != 0 {
						t.Errorf("%s: %s: %s with %d sign-ins of no application, want anomalous", label, user, id.Verdict, id.SigninsNoApp)
					}
				}
			}
			for _, r := range []*Report{ualFirst, logFirst} {
				checkAgainstGenerator(t, r.Identities, exp, func(id Identity, _ synth.ExpectedIdentity) {
					if id.SigninsNoApp != 0 {
						t.Errorf("%s: %s: %d sign-ins of no application, though the sign-in log names every one's", label, id.User, id.SigninsNoApp)
					}
					if slices.ContainsFunc(id.Signins.Apps, func(a App) bool { return a.ID == "" }) {
						t.Errorf("%s: %s lists a sign-in of no application: %+v", label, id.User, id.Signins.Apps)
					}
				})
			}
		}
	}
}

// TestArgumentOrderSession: a session that reads the OfficeActivity
// export, is saved and loaded again, then reads the sign-in log (as watch
// resumes between two inputs) reports exactly what Run reports for both:
// the marks of the sign-ins that named no application are in the saved
// deduplication state.
func TestArgumentOrderSession(t *testing.T) {
	dir := t.TempDir()
	var office, graph bytes.Buffer
	if _, err := synth.Generate(&office, synth.Options{Seed: 4, Format: synth.FormatSentinelCSV, SignInLog: &graph}); err != nil {
		t.Fatal(err)
	}
	officePath := testutil.WriteFile(t, dir, "officeactivity.csv", office.Bytes())
	sigPath := testutil.WriteFile(t, dir, "signins.json", graph.Bytes())
	for _, paths := range [][]string{{officePath, sigPath}, {sigPath, officePath}} {
		opts := Options{Workers: 2}
		want := run(t, opts, paths...)
		s := NewSession(opts)
		if err := s.Add(context.Background(), paths[:1]); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.Save(&b); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err := LoadSession(bytes.NewReader(b.Bytes()), int64(b.Len()), opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(context.Background(), paths[1:]); err != nil {
			t.Fatal(err)
		}
		got, err := s.Report(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		if !bytes.Equal(gj, wj) {
			t.Errorf("%v: the resumed session's report differs from Run's:\n%s", paths, firstDiff(string(wj), string(gj)))
		}
		if paths[0] == officePath && !slices.ContainsFunc(got.Identities, func(id Identity) bool { return id.Verdict == VerdictAnomalous }) {
			t.Errorf("%v: no anomalous identity", paths)
		}
	}
}

// unknownAccountInBothLogs writes an account with no usable name that
// signed in once, in the UAL keyed by its UserKey (the record names no
// application) and in the Entra sign-in log by its object id (userId,
// naming a third-party application), with our members around it: the logs
// give the account two names, which the sign-in they share joins.
func unknownAccountInBothLogs(t *testing.T, dir string) (ualPath, sigPath string) {
	t.Helper()
	const sid = "5d6e7f80-1111-4222-8333-444455556666"
	s := testutil.SignIn(10, "Not Available", fabrikam, "86.138.113.90", "", true)
	delete(s, "ApplicationId")
	delete(s, "ObjectId")
	s["UserKey"], s["IntraSystemId"] = "10032000AAAA0001", sid
	ualPath = testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(), s)...)
	// A Graph signIn (https://learn.microsoft.com/graph/api/resources/signin).
	sig, err := json.Marshal(map[string]any{"value": []map[string]any{{
		"id": sid, "createdDateTime": testutil.At(10) + "Z", "userPrincipalName": "Not Available",
		"userId": "9a8b7c6d-0000-4000-8000-000000000009", "appId": thirdPartyApp, "appDisplayName": "Adatum Travel Desk",
		"ipAddress": "86.138.113.90", "status": map[string]any{"errorCode": 0},
		"homeTenantId": fabrikam, "resourceTenantId": ourTenant, "crossTenantAccessType": "passthrough",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return ualPath, testutil.WriteFile(t, dir, "signins.json", sig)
}

// TestArgumentOrderUnknownAccount: an account with no usable name, named
// one way by the UAL (which names no application) and another by the
// sign-in log, is one anomalous identity whichever log is given first.
func TestArgumentOrderUnknownAccount(t *testing.T) {
	ualPath, sigPath := unknownAccountInBothLogs(t, t.TempDir())
	var views []map[string]orderView
	for _, paths := range [][]string{{ualPath, sigPath}, {sigPath, ualPath}} {
		r := run(t, Options{Workers: 2}, paths...)
		if len(r.Identities) != 1 || r.Identities[0].Verdict != VerdictAnomalous {
			t.Fatalf("%v: identities %+v, want one, anomalous", paths, r.Identities)
		}
		views = append(views, orderViews(r))
	}
	if views[0]["unknown:10032000AAAA0001"] != views[1]["unknown:10032000AAAA0001"] {
		t.Errorf("UAL first %+v, sign-in log first %+v", views[0], views[1])
	}
}

// TestArgumentOrderFirstSuccess: an account with two app-less audit
// sign-ins, the earlier of which the sign-in log records as interrupted:
// whichever log is read first, the first successful sign-in cited is the
// later one, the only success still counted, never the one the sign-in
// log's copy took away from the empty application.
func TestArgumentOrderFirstSuccess(t *testing.T) {
	dir := t.TempDir()
	const (
		user              = "bob@fabrikam.com"
		sidEarly, sidLate = "6e7f8091-2222-4333-8444-555566667777", "6e7f8091-2222-4333-8444-555566668888"
	)
	early := testutil.SignIn(10, user, fabrikam, "86.138.113.91", "", true)
	late := testutil.SignIn(20, user, fabrikam, "86.138.113.91", "", true)
	for _, c := range []struct {
		r   testutil.Rec
		sid string
	}{{early, sidEarly}, {late, sidLate}} {
		delete(c.r, "ApplicationId")
		delete(c.r, "ObjectId")
		c.r["IntraSystemId"] = c.sid
	}
	ualPath := testutil.WriteJSONL(t, dir, "ual.jsonl", append(members(), early, late)...)
	// A Graph signIn (https://learn.microsoft.com/graph/api/resources/signin)
	// stopped for MFA (50074) at SharePoint Online, a first-party app.
	sig, err := json.Marshal(map[string]any{"value": []map[string]any{{
		"id": sidEarly, "createdDateTime": testutil.At(10) + "Z", "userPrincipalName": user,
		"userId": "9a8b7c6d-0000-4000-8000-000000000010", "appId": "00000003-0000-0ff1-ce00-000000000000",
		"ipAddress": "86.138.113.91", "status": map[string]any{"errorCode": 50074},
		"homeTenantId": fabrikam, "resourceTenantId": ourTenant, "crossTenantAccessType": "passthrough",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	sigPath := testutil.WriteFile(t, dir, "signins.json", sig)
	for _, paths := range [][]string{{ualPath, sigPath}, {sigPath, ualPath}} {
		for _, workers := range []int{1, 3} {
			r := run(t, Options{Workers: workers}, paths...)
			i := slices.IndexFunc(r.Identities, func(id Identity) bool { return id.User == user })
			if i < 0 {
				t.Fatalf("%v: no identity %s in %+v", paths, user, r.Identities)
			}
			id := r.Identities[i]
			if id.Signins.Success != 1 || id.Signins.Failure != 1 || id.SigninsNoApp != 1 {
				t.Errorf("%v, %d workers: signins %+v, %d without an application; want 1 success (no application), 1 interrupted", paths, workers, id.Signins, id.SigninsNoApp)
			}
			var cited []string
			for _, e := range id.Deciding {
				if e.Operation == "UserLoggedIn" || e.Operation == "" {
					cited = append(cited, e.RecordID)
				}
			}
			if !slices.Contains(cited, late["Id"].(string)) || slices.Contains(cited, early["Id"].(string)) || slices.Contains(cited, sidEarly) {
				t.Errorf("%v, %d workers: cited sign-ins %v, want the later success %s only; reasons %q", paths, workers, cited, late["Id"], id.Reasons)
			}
		}
	}
}

// TestNoAppFirsts: the empty application's first success is the earliest
// kept that no copy moved away, the same however the candidates and the
// moves are split between workers, and none once the NoAppCands earliest
// were all moved (a later one is not known to be the earliest left).
func TestNoAppFirsts(t *testing.T) {
	cand := func(minute int, sid byte) noAppCand {
		var c noAppCand
		c.rec.offer(int64(minute), fmt.Appendf(nil, "rec-%03d", minute), 0, int64(minute))
		c.signin[0] = sid
		return c
	}
	moved := func(sids ...byte) (out []idKey) {
		for _, s := range sids {
			out = append(out, idKey{s})
		}
		return out
	}
	var whole noAppFirsts
	var parts [3]noAppFirsts
	for m := 20; m >= 1; m-- { // latest first, as a newest-first export
		whole.offer(cand(m, byte(m)))
		parts[m%3].offer(cand(m, byte(m)))
	}
	whole.moved = moved(1, 2, 4)
	parts[1].moved = moved(4)
	parts[2].moved = moved(2, 1)
	var merged noAppFirsts
	for i := range parts {
		merged.merge(&parts[i])
	}
	for name, n := range map[string]*noAppFirsts{"one worker": &whole, "three": &merged} {
		if len(n.cands) != NoAppCands {
			t.Errorf("%s: %d candidates kept, want %d", name, len(n.cands), NoAppCands)
		}
		if r := n.first(); r == nil || r.id != "rec-003" {
			t.Errorf("%s: first %+v, want rec-003 (1 and 2 moved)", name, r)
		}
	}
	whole.moved = moved(1, 2, 3, 4, 5, 6, 7, 8)
	if r := whole.first(); r != nil {
		t.Errorf("every candidate moved: first %+v, want none", r)
	}
	var noKey noAppFirsts
	noKey.offer(noAppCand{rec: cand(5, 0).rec})
	noKey.moved = moved(0)
	if r := noKey.first(); r == nil {
		t.Error("a success naming no sign-in was taken for a moved one")
	}
}
