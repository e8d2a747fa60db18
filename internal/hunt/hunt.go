package hunt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/triage"
)

// SIEM names where the logs live, and so the language of the queries.
type SIEM string

// The supported targets.
const (
	// Sentinel is Microsoft Sentinel (Log Analytics): KQL over
	// OfficeActivity, SigninLogs and AADNonInteractiveUserSignInLogs.
	Sentinel SIEM = "sentinel"
	// Defender is Defender XDR advanced hunting: KQL over CloudAppEvents
	// (Microsoft 365 audit records in RawEventData) and EntraIdSignInEvents.
	Defender SIEM = "defender"
	// Splunk is SPL over the Splunk Add-on for Microsoft Office 365
	// (o365:management:activity) and Entra sign-ins from Event Hub
	// (azure:monitor:aad).
	Splunk SIEM = "splunk"
	// Purview is PowerShell around Search-UnifiedAuditLog, chunked under its
	// limits, collecting the records for outsider triage.
	Purview SIEM = "purview"
)

// SIEMs lists the targets in the order the CLI documents them.
var SIEMs = []SIEM{Sentinel, Defender, Splunk, Purview}

// ParseSIEM reads a --siem value.
func ParseSIEM(s string) (SIEM, error) {
	for _, x := range SIEMs {
		if string(x) == s {
			return x, nil
		}
	}
	return "", fmt.Errorf("unknown SIEM %q (want sentinel, defender, splunk or purview)", s)
}

// Query is one query (or, for Purview, one step of the script) with what
// it is for. The JSON form is what 'outsider hunt --format json' prints.
type Query struct {
	SIEM      SIEM   `json:"siem"`
	Name      string `json:"name"`
	Purpose   string `json:"purpose"`
	HowToRead string `json:"how_to_read"`
	Query     string `json:"query"`
}

// DefaultLookback is the period of the triage queries when no --since is
// given: long enough to cover a typical investigation, short enough for
// Defender advanced hunting, which keeps 30 days.
const DefaultLookback = 30 * 24 * time.Hour

// Options shape the queries.
type Options struct {
	// Since and Until bound the period. Zero Since means Lookback before
	// Until, or before the query runs when Until is zero too (in
	// follow-up, the report's input.from); zero Until
	// means when the query runs, in both modes: a follow-up is there to
	// find what happened since the report as well as what it judged.
	Since, Until time.Time
	// Lookback replaces DefaultLookback.
	Lookback time.Duration
	// FirstParty replaces the embedded catalogue of Microsoft first-party
	// application ids (tests use a short list to keep golden files small).
	FirstParty []string
	// Indexes and Macro scope the Splunk searches (one of them is
	// required for Splunk, ignored elsewhere): index="…" terms ORed
	// together, or a search macro the user defines to expand to their
	// indexes. A search with neither reads only the user's default
	// indexes, where the Office 365 add-on's data rarely sits, and finds
	// nothing, which would read as an all-clear.
	Indexes []string
	Macro   string
}

// ErrSplunkScope is returned for Splunk when Options has neither Indexes
// nor Macro, or both.
var ErrSplunkScope = errors.New("the Splunk searches need --index NAME (repeatable) or --macro NAME: without index= a search reads only your default indexes (usually main), finds nothing where the Office 365 and Entra data sit in their own index, and nothing would read as an all-clear")

// splunkScope writes the scope term of the base search. Names are
// checked, not quoted: index and macro names have a documented alphabet
// (Splunk Admin Manual, "Create custom indexes": lower-case letters,
// digits, _ and -, not starting with _ or -; a macro is referenced as
// `name`), and anything else is refused rather than encoded: a name that
// needs quoting is a typo, not an index.
func (o Options) splunkScope() (string, error) {
	switch {
	case len(o.Indexes) > 0 && o.Macro != "":
		return "", fmt.Errorf("%w (not both)", ErrSplunkScope)
	case o.Macro != "":
		if err := ValidSplunkMacro(o.Macro); err != nil {
			return "", err
		}
		return "`" + o.Macro + "`", nil
	case len(o.Indexes) == 0:
		return "", ErrSplunkScope
	}
	idx := slices.Clone(o.Indexes)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	terms := make([]string, len(idx))
	for i, n := range idx {
		if err := ValidSplunkIndex(n); err != nil {
			return "", err
		}
		terms[i] = "index=" + n
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

// ValidSplunkIndex checks an --index value: lower-case letters, digits, _
// and - (not first), and * as a wildcard (index=o365_* is common).
func ValidSplunkIndex(n string) error {
	if n == "" || n[0] == '_' || n[0] == '-' || len(n) > 80 {
		return fmt.Errorf("index %q: want lower-case letters, digits, _, - or * (not starting with _ or -), at most 80", n)
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '*') {
			return fmt.Errorf("index %q: want lower-case letters, digits, _, - or * (not starting with _ or -), at most 80", n)
		}
	}
	return nil
}

// ValidSplunkMacro checks a --macro value: a macro without arguments,
// letters, digits and _ (Splunk's own advice is macro_name, not
// macro-name).
func ValidSplunkMacro(n string) error {
	ok := n != "" && len(n) <= 80 && !(n[0] >= '0' && n[0] <= '9')
	for i := 0; ok && i < len(n); i++ {
		c := n[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
	}
	if !ok {
		return fmt.Errorf("macro %q: want letters, digits and _ (not starting with a digit), at most 80, and no arguments", n)
	}
	return nil
}

// period is the resolved time range. A zero since means "lookback before
// now" and a zero until "now", both written in the target language so the
// text does not depend on the clock.
type period struct {
	since, until time.Time
	lookback     time.Duration
}

func (o Options) period() period {
	p := period{lookback: o.Lookback}
	if !o.Since.IsZero() {
		p.since = o.Since.UTC()
	}
	if !o.Until.IsZero() {
		p.until = o.Until.UTC()
	}
	if p.lookback <= 0 {
		p.lookback = DefaultLookback
	}
	return p
}

func (o Options) firstParty() []string {
	if o.FirstParty != nil {
		ids := slices.Clone(o.FirstParty)
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	all := apps.All()
	ids := make([]string, 0, len(all))
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	return ids
}

// fixedStart is the start of a period with an end: since, or when only
// until is given, the lookback before until (not before now: with an
// --until in the past, ago(30d) or earliest=-30d began after the end and the
// queries read an empty period, which returns nothing and reads as an
// all-clear). Zero when the period has neither.
func (p period) fixedStart() time.Time {
	switch {
	case !p.since.IsZero():
		return p.since
	case !p.until.IsZero():
		return p.until.Add(-time.Duration(p.days()) * 24 * time.Hour)
	}
	return time.Time{}
}

// days is the lookback in whole days (rounded up), the unit every
// language here understands.
func (p period) days() int {
	return int(math.Ceil(p.lookback.Hours() / 24))
}

// describe says the period in words for comments.
func (p period) describe() string {
	const layout = time.RFC3339Nano
	switch {
	case p.since.IsZero() && p.until.IsZero():
		return fmt.Sprintf("the last %d days before the query runs", p.days())
	case p.since.IsZero():
		return fmt.Sprintf("the %d days before %s", p.days(), p.until.Format(layout))
	case p.until.IsZero():
		return p.since.Format(layout) + " until the query runs"
	}
	return p.since.Format(layout) + " to " + p.until.Format(layout) + " (end excluded)"
}

// Set is what Triage and FollowUp return: the queries, and what the text
// output says about them before the first one.
type Set struct {
	SIEM    SIEM
	Mode    Mode
	Header  []string
	Queries []Query
}

// Triage returns the whole due diligence as queries for siem: find the
// outside sign-ins, then U, P and H for each outside identity, then the
// verdicts.
func Triage(siem SIEM, o Options) (*Set, error) {
	p := o.period()
	set := &Set{SIEM: siem, Mode: ModeTriage, Header: []string{"Period: " + p.describe() + "."}}
	switch siem {
	case Sentinel, Defender:
		set.Queries = kqlTriage(siem, p, o.firstParty())
	case Splunk:
		scope, err := o.splunkScope()
		if err != nil {
			return nil, err
		}
		set.Queries = splTriage(p, scope, o.firstParty())
	case Purview:
		set.Queries = psTriage(p)
	default:
		return nil, fmt.Errorf("unknown SIEM %q", siem)
	}
	return set, nil
}

// FollowUp returns targeted queries for the identities and IPs of a triage
// report over the period of o: by default from the report's input.from
// until the query runs, so that what the identities did after the report
// shows up too (the queries say so); Until bounds it instead.
func FollowUp(siem SIEM, rep *triage.Report, o Options) (*Set, error) {
	t := TargetsOf(rep)
	p := o.period()
	if o.Since.IsZero() {
		if from, err := time.Parse(time.RFC3339Nano, rep.Input.From); err == nil {
			p.since = from.UTC()
		}
	}
	if !p.since.IsZero() && !p.until.IsZero() && !p.since.Before(p.until) {
		return nil, fmt.Errorf("the period is empty: %s is not before %s", p.since.Format(time.RFC3339Nano), p.until.Format(time.RFC3339Nano))
	}
	reportPeriod := "The report covers " + orUnknown(rep.Input.From) + " to " + orUnknown(rep.Input.To) + "; anything later is new since the report."
	set := &Set{SIEM: siem, Mode: ModeFollowUp, Header: []string{
		"Period: " + p.describe() + ". " + reportPeriod,
		fmt.Sprintf("From a triage report: %d identities, %d IPs. Every value taken from the report is quoted for the target language; one that cannot be written plainly is encoded and decoded by the query itself.", t.Identities, len(t.IPs)),
	}}
	switch siem {
	case Sentinel, Defender:
		set.Queries = kqlFollowUp(siem, p, t)
	case Splunk:
		scope, err := o.splunkScope()
		if err != nil {
			return nil, err
		}
		set.Queries = splFollowUp(p, scope, t)
	case Purview:
		set.Queries = psFollowUp(p, t)
	default:
		return nil, fmt.Errorf("unknown SIEM %q", siem)
	}
	return set, nil
}

// orUnknown writes a report time for a comment: times outsider wrote are
// RFC 3339; anything else (a hand-edited report) is not repeated into a
// comment, where it could hold a comment terminator.
func orUnknown(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return "(unknown)"
}

// Targets are what follow-up queries look for, all taken from a report.
type Targets struct {
	// Users are the identities' user values exactly as the report has them
	// (canonical UPNs, or unknown:<key> for identities with no usable
	// UserId), sorted.
	Users []string
	// IPs are every sign-in IP of every identity that can identify a
	// client (audit.Identifying), sorted. Valid addresses are normalised
	// like the engine does; anything else is kept as is (and quoted like
	// everything else).
	IPs []string
	// GuestDomains are the report's tenant domains under onmicrosoft.com,
	// where B2B guest UPNs (…#EXT#@…) live; only the Purview script uses
	// them, to search a guest by its guest UPN.
	GuestDomains []string
	// Identities counts the report's identities.
	Identities int
}

// TargetsOf collects the targets of a report.
func TargetsOf(rep *triage.Report) Targets {
	var t Targets
	users := map[string]bool{}
	ips := map[string]bool{}
	for _, id := range rep.Identities {
		t.Identities++
		users[id.User] = true
		for _, ip := range id.Signins.IPs {
			// An address that cannot identify a client links nothing
			// (docs/rules.md "IPs"): in the SIEM it would only find
			// noise (loopback) or nothing (documentation ranges).
			if a, err := netip.ParseAddr(ip); err == nil && !audit.Identifying(a) {
				continue
			}
			ips[normalizeIP(ip)] = true
		}
	}
	for u := range users {
		t.Users = append(t.Users, u)
	}
	for ip := range ips {
		t.IPs = append(t.IPs, ip)
	}
	slices.Sort(t.Users)
	slices.Sort(t.IPs)
	for _, d := range rep.Tenant.Domains {
		if strings.HasSuffix(strings.ToLower(d), ".onmicrosoft.com") && !slices.Contains(t.GuestDomains, d) {
			t.GuestDomains = append(t.GuestDomains, d)
		}
	}
	slices.Sort(t.GuestDomains)
	return t
}

// normalizeIP writes a valid address the way the report does (netip's
// canonical form, IPv4-mapped addresses unmapped); a value that is not an
// address is returned unchanged, to be quoted.
func normalizeIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.Unmap().WithZone("").String()
}

// kqlIP writes an address the way the KQL NormIP function of the queries
// does: IPv4 dotted, IPv6 in the expanded form parse_ipv6 returns
// (eight groups of four lower-case hex digits). Non-addresses are kept.
func kqlIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	b := a.As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x%02x", b[i], b[i+1])
	}
	return sb.String()
}

// ErrSchema is returned by DecodeReport for a document that is not an
// outsider/triage/v1 report.
var ErrSchema = errors.New("not an outsider triage report")

// DecodeReport reads a report written by 'outsider triage --format json'
// and checks its schema, so a follow-up is never built from something else.
func DecodeReport(r io.Reader) (*triage.Report, error) {
	var rep triage.Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchema, err)
	}
	if rep.Schema != triage.Schema {
		return nil, fmt.Errorf("%w: schema %q, want %q", ErrSchema, rep.Schema, triage.Schema)
	}
	return &rep, nil
}
