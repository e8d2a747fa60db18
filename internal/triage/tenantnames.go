package triage

import (
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
)

// The name a sign-in log gives the home tenant of the account signing in
// (Graph homeTenantName, Log Analytics HomeTenantName, the download's "Home
// tenant name": audit.Event.HomeTenantName) names a partner better than a
// domain does. Microsoft fills it only where the home tenant consented and
// not across tenants, so most outside sign-ins carry none; a name that
// does come is the tenant's own choice, and like any field may be forged.
//
// The aggregates count, per account, the names its sign-ins give each home
// tenant id with the application names' mechanism (appnames.go): one
// histogram whose entries are "tenant id NUL name", keeping the
// maxAppNames smallest, so what is kept does not depend on record order,
// workers or shards. A partner's name is then the most frequent of its
// tenant's names over every account (the smallest on a tie): the union of
// deterministic per-account sets merged the same way is deterministic too.

// tenantNameOf returns the name a sign-in gives its home tenant (logName),
// nil for none, for a placeholder or redaction marker (audit.IsPlaceholder:
// never a partner's name) and for a sign-in that names no home tenant id.
// It aliases ev.
func tenantNameOf(ev *audit.Event) []byte {
	if len(ev.ActorTenant) == 0 {
		return nil
	}
	b := logName(ev.HomeTenantName)
	if b == nil || audit.IsPlaceholder(b) {
		return nil
	}
	return b
}

// SigninTenantName is the name the engine keeps of a sign-in's home tenant
// as the log gives it ("" for none), for a store outside the engine that
// must keep exactly the same.
func SigninTenantName(ev *audit.Event) string { return string(tenantNameOf(ev)) }

// noteTenantName counts the name a sign-in gives its home tenant, if any.
// The key is built in the aggregates' scratch buffer: nothing is allocated
// unless the name is new to the account.
func (a *agg) noteTenantName(u *userStats, ev *audit.Event) {
	name := tenantNameOf(ev)
	if name == nil {
		return
	}
	a.nameBuf = append(append(append(a.nameBuf[:0], ev.ActorTenant...), 0), name...)
	u.tenantNames.addName(a, a.nameBuf)
}

// tenantNameKey is the histogram key of a tenant's name.
func tenantNameKey(tenant, name string) string { return tenant + "\x00" + name }

// tenantHistograms count names per home tenant id.
type tenantHistograms map[string]*histogram

// add counts n more of a tenant's name, keeping the maxAppNames smallest.
func (p tenantHistograms) add(tenant, name string, n int64) {
	h := p[tenant]
	if h == nil {
		h = &histogram{}
		p[tenant] = h
	}
	h.addNameN(name, n)
}

// best is each tenant's most frequent name, the smallest on a tie.
func (p tenantHistograms) best() map[string]string {
	out := make(map[string]string, len(p))
	for t, h := range p {
		out[t] = h.best()
	}
	return out
}

// signinTenantNames is, per home tenant id, the name the sign-in logs give
// it most often over the accounts keep accepts (the smallest on a tie).
func signinTenantNames(users map[string]*userStats, keep func(*userStats) bool) map[string]string {
	per := tenantHistograms{}
	for _, u := range users {
		if !keep(u) {
			continue
		}
		for _, c := range u.tenantNames {
			if tenant, name, ok := strings.Cut(c.op, "\x00"); ok {
				per.add(tenant, name, c.n)
			}
		}
	}
	return per.best()
}

// directoryTenantNames is, per home tenant id, the companyName the
// directory gives the tenant's identities most often (the smallest on a
// tie, among the maxAppNames smallest): Microsoft documents it as "useful
// for describing the company that a guest comes from"
// (https://learn.microsoft.com/graph/api/resources/user). It is our
// admins' entry, or the guest's, so it is cut and checked like a log's
// name. company gives an identity's companyName, "" for none.
func directoryTenantNames(ids []Identity, company func(user string) string) map[string]string {
	per := tenantHistograms{}
	for i := range ids {
		k := partnerKey(&ids[i])
		name := logName([]byte(company(ids[i].User)))
		if k != "" && name != nil && !audit.IsPlaceholder(name) {
			per.add(k, string(name), 1)
		}
	}
	return per.best()
}
