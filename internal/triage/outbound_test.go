package triage

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestOutboundSignInsAreNotOurs: a tenant's own Entra sign-in log also
// holds its users' sign-ins to partners' tenants, where they are guests
// (Graph signIn: resourceTenantId the partner's, homeTenantId ours,
// userType guest, crossTenantAccessType b2bCollaboration;
// https://learn.microsoft.com/graph/api/resources/signin). Such rows must
// not make the partners' tenants ours (their pass-through accounts then
// lost their home tenant, and could read as members) nor make our member a
// guest of ours: the report is the one without them, with the UAL and
// without it.
func TestOutboundSignInsAreNotOurs(t *testing.T) {
	dir := t.TempDir()
	ual, sig, _, exp := generateWithSignIns(t, dir, synth.Options{Seed: 7})
	var log struct {
		Context string           `json:"@odata.context"`
		Value   []map[string]any `json:"value"`
	}
	raw, err := os.ReadFile(sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		t.Fatal(err)
	}
	var member map[string]any
	for _, r := range log.Value {
		if r["userType"] == "member" {
			member = r
			break
		}
	}
	if member == nil {
		t.Fatal("no member sign-in in the generated log")
	}
	var homes []string
	for _, id := range exp.Identities {
		if id.HomeTenant != "" && !slices.Contains(homes, id.HomeTenant) {
			homes = append(homes, id.HomeTenant)
		}
	}
	slices.Sort(homes)
	out := log
	out.Value = nil
	for i, h := range homes {
		r := map[string]any{}
		for k, v := range member {
			r[k] = v
		}
		r["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		r["originalRequestId"], r["correlationId"] = r["id"], fmt.Sprintf("00000000-0000-4000-9000-%012d", i+1)
		r["resourceTenantId"], r["userType"], r["crossTenantAccessType"] = h, "guest", "b2bCollaboration"
		out.Value = append(out.Value, r)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	outbound := testutil.WriteFile(t, dir, "outbound.json", data)
	for _, inputs := range [][]string{{ual, sig}, {sig}} {
		want, err := Run(t.Context(), inputs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Run(t.Context(), append(slices.Clone(inputs), outbound), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tenant.IDs, want.Tenant.IDs) {
			t.Errorf("%d inputs: our tenants %v with outbound sign-ins, want %v", len(inputs), got.Tenant.IDs, want.Tenant.IDs)
		}
		type who struct{ user, class, verdict, severity, home string }
		list := func(r *Report) (l []who) {
			for _, id := range r.Identities {
				l = append(l, who{id.User, id.Class, id.Verdict, id.Severity, id.HomeTenant})
			}
			return l
		}
		if g, w := list(got), list(want); !slices.Equal(g, w) {
			t.Errorf("%d inputs: identities with outbound sign-ins\n%v\nwant\n%v", len(inputs), g, w)
		}
	}
}
