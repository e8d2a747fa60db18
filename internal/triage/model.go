package triage

import "github.com/outsider-sec/outsider/internal/source"

// Schema names the JSON contract this package fills (DESIGN.md "Output
// contract"). A change to the JSON shape is a new schema name.
const Schema = "outsider/triage/v1"

// Report is the triage result: exactly the outsider/triage/v1 document,
// plus what renderers show beside it (problems) but JSON does not carry.
type Report struct {
	Schema     string     `json:"schema"`
	Tenant     TenantInfo `json:"tenant"`
	Input      InputInfo  `json:"input"`
	Summary    Summary    `json:"summary"`
	Identities []Identity `json:"identities"`
	// Partners groups the identities by home tenant, named (an addition
	// to v1: docs/reports.md).
	Partners []Partner `json:"partners"`
	// IPInfo enriches every IP in the report (sign-in IPs and evidence
	// IPs), when --geoip databases were given.
	IPInfo map[string]IPInfo `json:"ip_info,omitempty"`

	// AccessedSummary is what the outside identities touched, object by
	// object, over the whole report (an addition to v1: docs/reports.md
	// "What was touched"); absent when AccessedScope says it was not
	// computed, so that no reader takes an empty list for "nothing".
	AccessedSummary []AccessedObject `json:"accessed_summary,omitzero"`
	// AccessedSummaryOmitted counts the objects past the summary's cap.
	AccessedSummaryOmitted int `json:"accessed_summary_omitted,omitempty"`
	// AccessedScope says which records the accessed lists are read from,
	// or why they were not computed.
	AccessedScope string `json:"accessed_scope,omitempty"`

	// Provenance says how the report was made (version, command line,
	// inputs' hashes); set by the command-line tool, nil from Run alone.
	Provenance *Provenance `json:"provenance,omitempty"`

	// looks are, per identity, the kept records a second look reads for
	// the objects they name (look.go); nil once read. lookK is the
	// evidence cap they were kept with, set while a store outside the
	// engine is to give their objects (Report.FillAccessed).
	looks map[string]*lookList
	lookK int

	// Problems are the input problems, sorted by file and line, at most
	// MaxProblemsPerFile per file (ProblemsOmitted counts the rest).
	Problems        []Problem `json:"-"`
	ProblemsOmitted int64     `json:"-"`
	// Filtered counts distinct records left out by --since, --until or
	// --tenant.
	Filtered int64 `json:"-"`
	// TenantSource says in words where the tenant came from.
	TenantSource string `json:"-"`
	// Earliest is the time (Unix ns) of the earliest record that passed
	// the filters, counted or not (duplicates and sign-in copies
	// included); 0 when none did. A later run over the same files with a
	// Since at most Earliest (and at least this run's) keeps exactly the
	// same records, so it would write the same report: watch uses it to
	// skip a cycle in which nothing changed.
	Earliest int64 `json:"-"`
}

// Problem is an input problem as the report carries it: a record or file
// that could not be read, or a warning about a whole file. It is the
// reader's own type (source.Problem), named here so that renderers depend
// on the triage model alone and not on the reader that made it; an alias,
// not a copy, so the message format ("path: line 7: reason") stays decided
// in one place.
type Problem = source.Problem

// TenantInfo is our tenant: ids, domains, and whether they were inferred.
type TenantInfo struct {
	IDs      []string `json:"ids"`
	Domains  []string `json:"domains"`
	Inferred bool     `json:"inferred"`
}

// InputInfo describes what was read. Records counts distinct records kept,
// Duplicates the repeats dropped, Skipped the records that could not be
// read, SkippedFiles the inputs that gave no record at all because they
// could not be read or recognised (counted apart: a file is not a record).
type InputInfo struct {
	Files        []FileInfo `json:"files"`
	Records      int64      `json:"records"`
	Duplicates   int64      `json:"duplicates"`
	Skipped      int64      `json:"skipped"`
	SkippedFiles int64      `json:"skipped_files"`
	From         string     `json:"from"`
	To           string     `json:"to"`
	// Coverage is, per workload, what the records kept hold: every
	// workload in a fixed order, empty ones included (docs/rules.md
	// "Coverage").
	Coverage []Coverage `json:"coverage"`
	// Directory is the snapshot given with --directory, if any.
	Directory *DirectoryInfo `json:"directory,omitempty"`
	// Enrichment lists the IP databases given with --geoip, if any.
	Enrichment []string `json:"enrichment,omitempty"`
}

// Coverage is what the input holds of one workload.
type Coverage struct {
	// Workload is signins, exchange, sharepoint, teams or other.
	Workload string `json:"workload"`
	// Label is the workload's name for people.
	Label   string `json:"-"`
	Records int64  `json:"records"`
	// Days counts the UTC days with at least one record.
	Days  int    `json:"days"`
	First string `json:"first"`
	Last  string `json:"last"`
}

// DirectoryInfo describes the --directory snapshot.
type DirectoryInfo struct {
	Path     string `json:"path"`
	Accounts int    `json:"accounts"`
}

// IPInfo is what the --geoip databases say about one address.
type IPInfo struct {
	Country     string   `json:"country,omitempty"`
	CountryName string   `json:"country_name,omitempty"`
	City        string   `json:"city,omitempty"`
	ASN         uint32   `json:"asn,omitempty"`
	Org         string   `json:"org,omitempty"`
	Anonymous   bool     `json:"anonymous,omitempty"`
	Anonymizers []string `json:"anonymizers,omitempty"`
}

// FileInfo is one input: records read from it (before deduplication
// across files, which depends on what else was read) and records skipped.
type FileInfo struct {
	Path    string `json:"path"`
	Format  string `json:"format"`
	Records int64  `json:"records"`
	Skipped int64  `json:"skipped"`
	// Unreadable marks an input that gave no record because it could not
	// be read or recognised (its problem says why).
	Unreadable bool `json:"unreadable,omitempty"`
}

// Summary counts identities per verdict.
type Summary struct {
	Identities int            `json:"identities"`
	ByVerdict  map[string]int `json:"by_verdict"`
	// NothingJudged, when set, says why the input supports no answer at
	// all (no record read, no sign-in among them, or the filters left
	// none) and what to export instead. A report with it is not an
	// all-clear: the CLI exits 4.
	NothingJudged string `json:"nothing_judged,omitempty"`
}

// Verdicts, from DESIGN.md's due-diligence rule, and unverified where the
// input cannot support signin-only or shared (docs/rules.md "Coverage").
const (
	VerdictAnomalous  = "anomalous"
	VerdictActivity   = "activity"
	VerdictShared     = "shared"
	VerdictSigninOnly = "signin-only"
	VerdictUnverified = "unverified"
)

// Verdicts lists every verdict, most serious first.
var Verdicts = []string{VerdictAnomalous, VerdictActivity, VerdictShared, VerdictUnverified, VerdictSigninOnly}

// Severities, highest first.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
	SeverityInfo   = "info"
)

// Classes of sign-in actors.
const (
	ClassMember          = "member"
	ClassGuest           = "guest"
	ClassPassthrough     = "passthrough"
	ClassExternalUnknown = "external-unknown"
)

// SeverityRank orders severities: high 3 … info 0, unknown -1.
func SeverityRank(s string) int {
	switch s {
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// Identity is one outside identity with its verdict and evidence.
type Identity struct {
	User         string   `json:"user"`
	Class        string   `json:"class"`
	HomeTenant   string   `json:"home_tenant"`
	Consumer     bool     `json:"consumer"`
	Verdict      string   `json:"verdict"`
	Severity     string   `json:"severity"`
	Reasons      []string `json:"reasons"`
	Signins      Signins  `json:"signins"`
	Activity     Activity `json:"activity"`
	Sharing      []Share  `json:"sharing"`
	IPAlsoUsedBy []string `json:"ip_also_used_by"`
	// Sources are the logs the identity's sign-ins came from: "ual",
	// "entra-signin", or both.
	Sources []string `json:"sources"`
	// InDirectory answers "does this account exist in our directory?":
	// true or false from --directory, "unknown" without one (the class is
	// then inferred from the logs).
	InDirectory InDirectory `json:"in_directory"`
	// Directory is the directory entry that matched, when one did.
	Directory *DirectoryMatch `json:"directory,omitempty"`
	// Partner is the name of its home tenant's partner (Report.Partners;
	// an addition to v1).
	Partner string `json:"partner"`
	// Accessed are the objects of ours its records touched: by the
	// account, from its IPs, or named by sharing records (an addition to
	// v1: docs/reports.md "What was touched"); absent when the report's
	// AccessedScope says they were not computed.
	Accessed []AccessedObject `json:"accessed,omitzero"`
	// AccessedOmitted counts the objects past Accessed's cap.
	AccessedOmitted int `json:"accessed_omitted,omitempty"`
	// AccessedPartial says that some of its records were not read for
	// objects (only the earliest of each account and IP set are kept, or
	// an input could not be read again): counts are then lower bounds.
	AccessedPartial bool `json:"accessed_partial,omitempty"`

	// SharingCount is |H|, exact: the sharing records naming it (Sharing
	// lists the earliest, capped) plus anonymous-link use from its IPs
	// (listed as evidence). An addition to v1: without it a JSON reader
	// had only the capped list, fewer than the CSV's sharing column.
	SharingCount int64 `json:"sharing_count"`
	// SigninsNoApp counts its successful sign-ins whose record names no
	// application, when that leaves the anomalous rule unchecked (not a
	// guest, not already anomalous): the answers say so.
	SigninsNoApp int64 `json:"-"`
	// Deciding are the records its reasons cite, in the order cited: what
	// an analyst opens with 'outsider explain' to check the verdict.
	Deciding []Evidence `json:"-"`
}

// Signins summarises S, the identity's sign-in records.
type Signins struct {
	Success    int64    `json:"success"`
	Failure    int64    `json:"failure"`
	First      string   `json:"first"`
	Last       string   `json:"last"`
	IPs        []string `json:"ips"`
	UserAgents []string `json:"user_agents"`
	Apps       []App    `json:"apps"`

	// What only the Entra sign-in log says (empty without one): where the
	// sign-ins came from, conditional access and risk as Entra judged
	// them, the client and the cross-tenant access type.
	Locations         []Location       `json:"locations,omitempty"`
	ConditionalAccess map[string]int64 `json:"conditional_access,omitempty"`
	RiskLevels        map[string]int64 `json:"risk_levels,omitempty"`
	ClientApps        map[string]int64 `json:"client_apps,omitempty"`
	CrossTenantAccess map[string]int64 `json:"cross_tenant_access,omitempty"`
	Interactive       int64            `json:"interactive,omitempty"`
	NonInteractive    int64            `json:"non_interactive,omitempty"`
}

// Location is where sign-ins came from, as Entra located them.
type Location struct {
	Country string `json:"country"`
	State   string `json:"state,omitempty"`
	City    string `json:"city,omitempty"`
	Count   int64  `json:"count"`
}

// InDirectory is true, false or "unknown" in JSON.
type InDirectory int8

// InDirectory values.
const (
	DirectoryUnknown InDirectory = iota
	DirectoryAbsent
	DirectoryPresent
)

// MarshalJSON writes true, false or "unknown".
func (d InDirectory) MarshalJSON() ([]byte, error) {
	switch d {
	case DirectoryPresent:
		return []byte("true"), nil
	case DirectoryAbsent:
		return []byte("false"), nil
	}
	return []byte(`"unknown"`), nil
}

// UnmarshalJSON reads true, false or "unknown" (for --from report.json).
func (d *InDirectory) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*d = DirectoryPresent
	case "false":
		*d = DirectoryAbsent
	default:
		*d = DirectoryUnknown
	}
	return nil
}

func (d InDirectory) String() string {
	switch d {
	case DirectoryPresent:
		return "in the directory"
	case DirectoryAbsent:
		return "not in the directory"
	}
	return "directory not given"
}

// DirectoryMatch is the entry of --directory an identity matched.
type DirectoryMatch struct {
	UPN       string `json:"upn"`
	UserType  string `json:"user_type"`
	MatchedBy string `json:"matched_by"`
}

// App is an application the identity signed in to. Name is the
// first-party catalogue's name; when the catalogue has none for the id, the
// name the sign-in log gives (appDisplayName), with NameSource "log"
// (NameFromLog): whatever its owner registered, not a catalogue fact.
// NameSource is absent for the catalogue's names, so their JSON is what v1
// always wrote.
type App struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	NameSource string `json:"name_source,omitempty"`
	FirstParty bool   `json:"first_party"`
	Count      int64  `json:"count"`
}

// NameFromLog is App.NameSource for a name the sign-in log gave.
const NameFromLog = "log"

// Activity is U and P: ByUser = |U|, ByIP = |P|, exact; Evidence capped.
type Activity struct {
	ByUser     int64            `json:"by_user"`
	ByIP       int64            `json:"by_ip"`
	Operations map[string]int64 `json:"operations"`
	Evidence   []Evidence       `json:"evidence"`
}

// Evidence is one record behind a verdict, with where to find it raw.
type Evidence struct {
	Time      string `json:"time"`
	Operation string `json:"operation"`
	User      string `json:"user"`
	IP        string `json:"ip"`
	Object    string `json:"object"`
	RecordID  string `json:"record_id"`
	Source    string `json:"source"`
}

// AccessedObject is one object of ours that records touched: a
// SharePoint/OneDrive site or file, a mailbox or mailbox folder, a team or
// channel (Kind: the Kind* constants). Object is the name the records give
// it, clipped, as attacker-controlled as any field.
type AccessedObject struct {
	Kind   string `json:"kind"`
	Object string `json:"object"`
	// How says how it was touched: "account" (the identity's own
	// records), "ip" (records from its IPs) and "shared" (sharing records
	// naming it), in that order.
	How []string `json:"how"`
	// Records counts the records read that touched it; Identities (in the
	// summary only) the identities they belong to.
	Records    int64            `json:"records"`
	Identities int              `json:"identities,omitempty"`
	Operations map[string]int64 `json:"operations"`
	First      string           `json:"first"`
	Last       string           `json:"last"`
	// RecordIDs are the earliest records that touched it, at most
	// MaxAccessedRecordIDs.
	RecordIDs []string `json:"record_ids"`
}

// Share is one sharing record naming the identity (H).
type Share struct {
	Time      string `json:"time"`
	Operation string `json:"operation"`
	By        string `json:"by"`
	Target    string `json:"target"`
	Object    string `json:"object"`
	RecordID  string `json:"record_id"`
}
