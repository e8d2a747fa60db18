package triage

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/outsider-sec/outsider/internal/enrich"
)

// enrichIPs looks up every IP in the report: identities' sign-in IPs and
// the IPs of their evidence.
func enrichIPs(ids []Identity, db *enrich.DB) map[string]IPInfo {
	out := map[string]IPInfo{}
	add := func(s string) {
		if s == "" {
			return
		}
		if _, done := out[s]; done {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		info := db.Lookup(a)
		out[s] = IPInfo{
			Country: info.Country, CountryName: info.CountryName, City: info.City,
			ASN: info.ASN, Org: info.Org, Anonymous: info.Anonymous, Anonymizers: info.Anonymizers(),
		}
	}
	for _, id := range ids {
		for _, ip := range id.Signins.IPs {
			add(ip)
		}
		for _, e := range id.Activity.Evidence {
			add(e.IP)
		}
	}
	return out
}

// raiseSeverity is one step up: info → low → medium → high.
var raiseSeverity = map[string]string{
	SeverityInfo: SeverityLow, SeverityLow: SeverityMedium, SeverityMedium: SeverityHigh, SeverityHigh: SeverityHigh,
}

// raiseForAnonymisers raises by one step the severity of every identity
// that signed in from an anonymising network (VPN, hosting, Tor, proxies):
// hiding one's origin is what an attacker does, and rarely what a
// partner's employee opening a shared file does. The reason says which
// IPs and what they are. Identities are sorted again afterwards.
func raiseForAnonymisers(ids []Identity, info map[string]IPInfo) {
	for i := range ids {
		id := &ids[i]
		var hits []string
		for _, ip := range id.Signins.IPs {
			in := info[ip]
			if !in.Anonymous {
				continue
			}
			what := strings.Join(in.Anonymizers, ", ")
			if what == "" {
				what = "anonymiser"
			}
			hits = append(hits, ip+" ("+what+")")
		}
		if len(hits) == 0 {
			continue
		}
		old := id.Severity
		id.Severity = raiseSeverity[old]
		change := "severity raised from " + old + " to " + id.Severity
		if old == id.Severity {
			change = "severity stays " + old
		}
		id.Reasons = append(id.Reasons, fmt.Sprintf("signed in from an anonymising network: %s; %s", strings.Join(hits, "; "), change))
	}
	sortIdentities(ids)
}

// sortIdentities orders identities by severity (high first), then user.
func sortIdentities(ids []Identity) {
	slices.SortStableFunc(ids, func(x, y Identity) int {
		if d := SeverityRank(y.Severity) - SeverityRank(x.Severity); d != 0 {
			return d
		}
		return strings.Compare(x.User, y.User)
	})
}
