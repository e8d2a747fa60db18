package triage

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
)

// Partner is one home tenant of outside identities, named: the answer to
// "who are the partners?" when hundreds of partner accounts sign in.
type Partner struct {
	// TenantID is the home tenant; empty for the identities whose home
	// tenant no record gives (grouped together).
	TenantID string `json:"tenant_id"`
	Name     string `json:"name"`
	// NameSource says where Name came from, in order of precedence:
	// partner-names (--partner-names), sign-in log (the sign-in log's
	// homeTenantName), directory (the companyName of the tenant's guests
	// in --directory), domain (the identities' most frequent non-consumer
	// domain), known (the consumer tenant and the unknown group, named by
	// the tool) or none (nothing names it: Name is the tenant id).
	NameSource string `json:"name_source"`
	// Domains are the identities' account domains, sorted.
	Domains       []string       `json:"domains"`
	Identities    int            `json:"identities"`
	ByVerdict     map[string]int `json:"by_verdict"`
	WorstSeverity string         `json:"worst_severity"`
}

// Partner name sources (Partner.NameSource), as every format shows them.
const (
	PartnerNameFile      = "partner-names"
	PartnerNameSignin    = "sign-in log"
	PartnerNameDirectory = "directory"
	PartnerNameDomain    = "domain"
	PartnerNameKnown     = "known"
	PartnerNameNone      = "none"
)

// partnerNaming holds the names each source gives home tenants (tenant id
// to name), in order of precedence: the file, the sign-in log, the
// directory. A nil map names nothing.
type partnerNaming struct {
	file, signin, directory map[string]string
}

// Names of the groups the tool names itself.
const (
	PartnerConsumer = "personal Microsoft accounts"
	PartnerUnknown  = "unknown home tenant"
)

// partnerKey is the group an identity belongs to: its home tenant; the
// consumer tenant for a personal Microsoft account known only by its
// domain (that is its home tenant by definition); "" when nothing says.
func partnerKey(id *Identity) string {
	if id.HomeTenant == "" && id.Consumer {
		return apps.ConsumerTenant
	}
	return id.HomeTenant
}

// userDomain is the lower-cased domain of an account name, "" for none.
func userDomain(user string) string {
	return strings.ToLower(string(audit.Domain([]byte(user))))
}

// partners groups the identities by home tenant, names each group, sets
// every identity's Partner and returns the groups sorted by worst
// severity, then identities (most first), then tenant id. It works on
// the finished identities alone, so every path that builds a report (the
// engine, the ClickHouse port) gets the same partners; the names come
// from partnerNaming, then the domains (partnerName).
func partners(ids []Identity, names partnerNaming) []Partner {
	type group struct {
		p       Partner
		domains map[string]int
	}
	groups := map[string]*group{}
	for i := range ids {
		id := &ids[i]
		k := partnerKey(id)
		g := groups[k]
		if g == nil {
			g = &group{p: Partner{TenantID: k, ByVerdict: map[string]int{}, WorstSeverity: id.Severity}, domains: map[string]int{}}
			for _, v := range Verdicts {
				g.p.ByVerdict[v] = 0
			}
			groups[k] = g
		}
		g.p.Identities++
		g.p.ByVerdict[id.Verdict]++
		if SeverityRank(id.Severity) > SeverityRank(g.p.WorstSeverity) {
			g.p.WorstSeverity = id.Severity
		}
		if d := userDomain(id.User); d != "" {
			g.domains[d]++
		}
	}
	out := make([]Partner, 0, len(groups))
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		g.p.Domains = slices.Sorted(maps.Keys(g.domains))
		g.p.Name, g.p.NameSource = partnerName(k, g.domains, names)
		out = append(out, g.p)
	}
	slices.SortStableFunc(out, func(a, b Partner) int {
		if c := SeverityRank(b.WorstSeverity) - SeverityRank(a.WorstSeverity); c != 0 {
			return c
		}
		if c := b.Identities - a.Identities; c != 0 {
			return c
		}
		return strings.Compare(a.TenantID, b.TenantID)
	})
	byKey := make(map[string]string, len(out))
	for _, p := range out {
		byKey[p.TenantID] = p.Name
	}
	for i := range ids {
		ids[i].Partner = byKey[partnerKey(&ids[i])]
	}
	return out
}

// partnerName names the group of home tenant k, in order of precedence:
// the file, the sign-in log, the directory, the tool's own names, the
// most frequent non-consumer domain (ties: the smallest), and failing
// all, the id. A name is a fact its source states about one tenant id;
// the group of no tenant takes none. The consumer tenant holds unrelated
// people: only the file may name it, not a name one of them brought.
func partnerName(k string, domains map[string]int, names partnerNaming) (name, source string) {
	if n := names.file[k]; n != "" && k != "" {
		return n, PartnerNameFile
	}
	switch k {
	case "":
		return PartnerUnknown, PartnerNameKnown
	case apps.ConsumerTenant:
		return PartnerConsumer, PartnerNameKnown
	}
	if n := names.signin[k]; n != "" {
		return n, PartnerNameSignin
	}
	if n := names.directory[k]; n != "" {
		return n, PartnerNameDirectory
	}
	best, bestN := "", 0
	for d, n := range domains {
		if consumerDomains[d] {
			continue
		}
		if n > bestN || (n == bestN && d < best) {
			best, bestN = d, n
		}
	}
	if best != "" {
		return best, PartnerNameDomain
	}
	return k, PartnerNameNone
}

// MaxPartnerName caps a --partner-names name, in characters: a name is a
// label for a table, and a file is attacker-controlled.
const MaxPartnerName = 200

// PartnerNameProblem is a row of --partner-names that was skipped.
type PartnerNameProblem struct {
	Path string
	// Row is the 1-based CSV record number (header included).
	Row    int
	Reason string
}

func (p PartnerNameProblem) String() string {
	return p.Path + ": row " + strconv.Itoa(p.Row) + ": " + p.Reason
}

// LoadPartnerNames reads a --partner-names file; see ReadPartnerNames.
func LoadPartnerNames(path string) (map[string]string, []PartnerNameProblem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadPartnerNames(f, path)
}

// ReadPartnerNames reads CSV rows "tenant id,name" (a first row that is
// not a tenant id is taken for a header). A bad row (not two fields, a
// tenant id that is not a GUID, an empty, over-long or non-UTF-8 name, a
// tenant named twice) is skipped with a problem naming path and row; the
// rest are read. Only a file that cannot be read as CSV at all is an
// error. Tenant ids are lower-cased, names trimmed.
func ReadPartnerNames(r io.Reader, path string) (map[string]string, []PartnerNameProblem, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	names := map[string]string{}
	var probs []PartnerNameProblem
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrQuote) && !errors.Is(pe.Err, csv.ErrBareQuote) {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			if pe == nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			// A quoting error ends the file for encoding/csv: say so.
			probs = append(probs, PartnerNameProblem{path, row, "not CSV (" + pe.Err.Error() + "); the rest of the file is skipped"})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		bad := func(reason string) { probs = append(probs, PartnerNameProblem{path, row, reason}) }
		if len(rec) != 2 {
			bad(fmt.Sprintf("%d fields, want 2 (tenant id,name)", len(rec)))
			continue
		}
		id := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")))
		name := strings.TrimSpace(rec[1])
		if !audit.IsTenantID([]byte(id)) {
			if row == 1 && len(names) == 0 {
				continue // a header
			}
			bad("tenant id is not a GUID")
			continue
		}
		switch {
		case !utf8.ValidString(name):
			bad("name is not UTF-8")
		case name == "":
			bad("empty name")
		case utf8.RuneCountInString(name) > MaxPartnerName:
			bad(fmt.Sprintf("name longer than %d characters", MaxPartnerName))
		case names[id] != "" && names[id] != name:
			bad("tenant " + id + " named again (the first name is kept)")
		default:
			names[id] = strings.Clone(name)
		}
	}
	return names, probs, nil
}
