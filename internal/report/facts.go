package report

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/triage"
)

// fact is one optional line about an identity: a label and its values,
// raw (each renderer escapes them for its medium).
type fact struct {
	label  string
	values []string
}

// extraFacts are what the report knows about an identity beyond its class
// and sign-in counts, when it knows it: which logs saw it, what the
// directory says, and what the Entra sign-in log adds (locations,
// conditional access, risk, client apps, cross-tenant access type).
// Shared by every renderer so that text, Markdown and HTML say the same.
func extraFacts(id triage.Identity, ipInfo map[string]triage.IPInfo) []fact {
	var out []fact
	if len(ipInfo) > 0 {
		var vals []string
		for _, ip := range id.Signins.IPs {
			vals = append(vals, ipLabel(ip, ipInfo[ip]))
		}
		if len(vals) > 0 {
			out = append(out, fact{"IP details", vals})
		}
	}
	if len(id.Sources) > 0 {
		names := make([]string, len(id.Sources))
		for i, s := range id.Sources {
			names[i] = sourceName(s)
		}
		out = append(out, fact{"seen in", []string{strings.Join(names, " and ")}})
	}
	dir := id.InDirectory.String()
	if id.Directory != nil {
		dir += " (" + id.Directory.UserType + ", " + id.Directory.UPN + ", matched by " + id.Directory.MatchedBy + ")"
	} else if id.InDirectory == triage.DirectoryUnknown {
		dir += ": class inferred from the logs"
	}
	out = append(out, fact{"directory", []string{dir}})
	s := id.Signins
	if len(s.Locations) > 0 {
		var locs []string
		for _, l := range s.Locations {
			name := strings.Join(nonEmpty(l.City, l.State, l.Country), ", ")
			if name == "" {
				name = "unknown"
			}
			locs = append(locs, name+" x"+strconv.FormatInt(l.Count, 10))
		}
		out = append(out, fact{"locations", locs})
	}
	for _, m := range []struct {
		label string
		m     map[string]int64
	}{
		{"cross-tenant access", s.CrossTenantAccess},
		{"conditional access", s.ConditionalAccess},
		{"risk", s.RiskLevels},
		{"client apps", s.ClientApps},
	} {
		if len(m.m) == 0 {
			continue
		}
		var vals []string
		for _, k := range slices.Sorted(maps.Keys(m.m)) {
			vals = append(vals, k+" x"+strconv.FormatInt(m.m[k], 10))
		}
		out = append(out, fact{m.label, vals})
	}
	if s.Interactive+s.NonInteractive > 0 {
		out = append(out, fact{"sign-in kind", []string{strconv.FormatInt(s.Interactive, 10) + " interactive, " +
			strconv.FormatInt(s.NonInteractive, 10) + " non-interactive"}})
	}
	return out
}

func sourceName(s string) string {
	switch s {
	case "ual":
		return "the Unified Audit Log"
	case "entra-signin":
		return "the Entra ID sign-in log"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ipLabel describes an address with what --geoip knows about it:
// "81.2.69.160 (GB, London; AS20712 Andrews & Arnold Ltd; VPN, Tor exit node)".
func ipLabel(ip string, in triage.IPInfo) string {
	var parts []string
	if where := strings.Join(nonEmpty(in.Country, in.City), ", "); where != "" {
		parts = append(parts, where)
	}
	if in.ASN != 0 || in.Org != "" {
		parts = append(parts, strings.TrimSpace("AS"+strconv.FormatUint(uint64(in.ASN), 10)+" "+in.Org))
	}
	if len(in.Anonymizers) > 0 {
		parts = append(parts, strings.Join(in.Anonymizers, ", "))
	} else if in.Anonymous {
		parts = append(parts, "anonymiser")
	}
	if len(parts) == 0 {
		return ip + " (not in the databases)"
	}
	return ip + " (" + strings.Join(parts, "; ") + ")"
}

// noAppText stands for an application entry without an id: sign-ins whose
// records name no application (Sentinel's OfficeActivity export has no
// ApplicationId column). Such an entry is neither first-party nor "NOT
// first-party": nobody knows which it is, and the identity's reasons say so.
func noAppText(a triage.App) string {
	return "none recorded (" + plural64(a.Count, "sign-in names", "sign-ins name") + " no application)"
}

// appName is what the renderers show as an application's name, before
// each escapes it its own way: the catalogue's name, or the one the
// sign-in log gave marked as the log's (the log's name is whatever the
// application's owner registered), or unnamed when there is neither.
func appName(a triage.App, unnamed string) string {
	switch {
	case a.Name == "":
		return unnamed
	case a.NameSource == triage.NameFromLog:
		return a.Name + " (name from the log)"
	}
	return a.Name
}
