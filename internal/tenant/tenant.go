// Package tenant decides which tenant is "ours": the ids records belong to
// and the domains our accounts sign in with. Everything outside it is what
// outsider reports, so the answer and how it was reached (given on the
// command line or inferred from the records) travel together into the
// report.
package tenant

import (
	"fmt"
	"slices"
	"strings"
)

// Tenant is our organisation as the triage sees it.
type Tenant struct {
	// IDs are our tenant ids (lower-case GUIDs), sorted.
	IDs []string
	// Domains are our UPN domains (lower-case), sorted.
	Domains []string
	// IDsInferred is set when IDs came from the records' OrganizationId.
	IDsInferred bool
	// DomainsInferred is set when Domains came from member sign-ins.
	DomainsInferred bool

	ids     map[string]bool
	domains map[string]bool
}

// New builds a tenant from ids and domains, normalising case and order.
func New(ids, domains []string, idsInferred, domainsInferred bool) *Tenant {
	t := &Tenant{IDsInferred: idsInferred, DomainsInferred: domainsInferred, ids: map[string]bool{}, domains: map[string]bool{}}
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if id != "" && !t.ids[id] {
			t.ids[id] = true
			t.IDs = append(t.IDs, id)
		}
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		if d != "" && !t.domains[d] {
			t.domains[d] = true
			t.Domains = append(t.Domains, d)
		}
	}
	slices.Sort(t.IDs)
	slices.Sort(t.Domains)
	return t
}

// IsOurs reports whether a tenant id (lower-case) is ours.
func (t *Tenant) IsOurs(id string) bool { return t.ids[id] }

// HasDomain reports whether a domain (lower-case) is ours.
func (t *Tenant) HasDomain(d string) bool { return t.domains[d] }

// ValidateID checks a --tenant value: a GUID.
func ValidateID(id string) error {
	id = strings.TrimSpace(id)
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return fmt.Errorf("tenant id %q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", id)
	}
	for i, c := range id {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return fmt.Errorf("tenant id %q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", id)
		}
	}
	return nil
}

// Describe says in words where the tenant came from, for reports.
func (t *Tenant) Describe() string {
	ids := "given with --tenant"
	if t.IDsInferred {
		ids = "inferred from the records' OrganizationId"
		if len(t.IDs) > 1 {
			// Every one is ours, so an account of one signing in to
			// another is a member, never reported: exports of several
			// tenants in one run (or one stray record) hide exactly the
			// cross-tenant sign-ins outsider is for.
			ids += fmt.Sprintf(", which names %d tenants: each is taken as ours, so an account of one signing in to another is not reported; give --tenant to name ours, or triage each tenant's export alone", len(t.IDs))
		}
	}
	doms := "given with --domain"
	if t.DomainsInferred {
		doms = "inferred from member sign-ins"
	}
	return "tenant " + ids + "; domains " + doms
}
