package tenant

import (
	"slices"
	"testing"
)

func TestNewNormalises(t *testing.T) {
	tn := New([]string{" 6A1E5B2C-9D3F-4B7A-8E21-3C5D7F9A1B2E", "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e", ""},
		[]string{"@Contoso.com", "contoso.com", "b.example"}, false, true)
	if !slices.Equal(tn.IDs, []string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"}) {
		t.Errorf("IDs = %v", tn.IDs)
	}
	if !slices.Equal(tn.Domains, []string{"b.example", "contoso.com"}) {
		t.Errorf("Domains = %v", tn.Domains)
	}
	if !tn.IsOurs("6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e") || tn.IsOurs("x") || !tn.HasDomain("contoso.com") {
		t.Error("lookups")
	}
	if got := tn.Describe(); got != "tenant given with --tenant; domains inferred from member sign-ins" {
		t.Errorf("Describe = %q", got)
	}
}

// TestDescribeSeveralInferred: tenants inferred from records of several
// organisations are all ours, which hides sign-ins between them; the
// report's tenant line must say so and what to do.
func TestDescribeSeveralInferred(t *testing.T) {
	one := New([]string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"}, nil, true, true)
	if got := one.Describe(); got != "tenant inferred from the records' OrganizationId; domains inferred from member sign-ins" {
		t.Errorf("one tenant: Describe = %q", got)
	}
	two := New([]string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e", "2927753c-4080-49a5-8e05-a2bc6ae729dd"}, nil, true, true)
	want := "tenant inferred from the records' OrganizationId, which names 2 tenants: each is taken as ours, so an account of one signing in to another is not reported; give --tenant to name ours, or triage each tenant's export alone; domains inferred from member sign-ins"
	if got := two.Describe(); got != want {
		t.Errorf("two tenants: Describe = %q\nwant %q", got, want)
	}
	given := New([]string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e", "2927753c-4080-49a5-8e05-a2bc6ae729dd"}, nil, false, true)
	if got := given.Describe(); got != "tenant given with --tenant; domains inferred from member sign-ins" {
		t.Errorf("two given: Describe = %q", got)
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e", "6A1E5B2C-9D3F-4B7A-8E21-3C5D7F9A1B2E"} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "contoso.com", "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2", "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2z", "6a1e5b2c99d3f-4b7a-8e21-3c5d7f9a1b2e"} {
		if ValidateID(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
