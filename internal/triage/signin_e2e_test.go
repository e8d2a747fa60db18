package triage

import (
	"slices"
	"testing"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestSignInLogFusion: the same tenant triaged from the UAL alone, from the
// Entra sign-in log plus the UAL's other records (its sign-ins removed), and
// from both logs together, gives the same identities and verdicts; with
// both, every identity lists both sources and a sign-in in both logs counts
// once. The generator's answers (computed independently) are checked too.
func TestSignInLogFusion(t *testing.T) {
	dir := t.TempDir()
	ualPath, sigPath, ual, exp := generateWithSignIns(t, dir, synth.Options{Seed: 4})
	// The UAL without its sign-in records: activity only.
	activity, removed := filterUAL(t, ual, func(op, _ string) bool { return op != "UserLoggedIn" && op != "UserLoginFailed" })
	actPath := testutil.WriteFile(t, dir, "activity.jsonl", activity)

	opts := Options{Workers: 2}
	both := run(t, opts, ualPath, sigPath)
	reversed := run(t, opts, sigPath, ualPath)
	mixed := run(t, opts, actPath, sigPath)
	ualOnly := run(t, opts, ualPath)

	vb, vr, vm, vu := verdictsOf(both), verdictsOf(reversed), verdictsOf(mixed), verdictsOf(ualOnly)
	for user, want := range vb {
		if vr[user] != want {
			t.Errorf("%s: sign-in log read first gives %+v, UAL first %+v", user, vr[user], want)
		}
		if vm[user] != want {
			t.Errorf("%s: sign-in log + UAL activity gives %+v, both logs %+v", user, vm[user], want)
		}
	}
	if len(vm) != len(vb) {
		t.Errorf("%d identities from sign-in log + activity, %d from both", len(vm), len(vb))
	}
	// The UAL alone misses only what is only in the sign-in log.
	for user, want := range vb {
		e, _ := exp.Identity(user)
		if slices.Equal(e.Sources, []string{"entra-signin"}) {
			if _, ok := vu[user]; ok {
				t.Errorf("%s is only in the sign-in log but the UAL alone reports it", user)
			}
			continue
		}
		got := vu[user]
		// Sign-ins only the sign-in log has change counts, not verdicts.
		if got.Class != want.Class || got.Verdict != want.Verdict || got.Severity != want.Severity || got.ByUser != want.ByUser || got.ByIP != want.ByIP {
			t.Errorf("%s: UAL alone gives %+v, both logs %+v", user, got, want)
		}
	}
	// Against the generator's answers, with sources.
	checkAgainstGenerator(t, both.Identities, exp, func(id Identity, e synth.ExpectedIdentity) {
		if !slices.Equal(id.Sources, e.Sources) {
			t.Errorf("%s: sources %v, generator says %v", id.User, id.Sources, e.Sources)
		}
		if slices.Contains(id.Sources, "entra-signin") && len(id.Signins.Locations) == 0 {
			t.Errorf("%s: seen in the sign-in log but no location kept", id.User)
		}
	})
	if both.Input.Duplicates != 0 {
		t.Errorf("duplicates = %d: a sign-in in both logs is not a duplicate record", both.Input.Duplicates)
	}
	t.Logf("UAL sign-ins removed for the mixed run: %d; identities: %d", removed, len(both.Identities))
}
