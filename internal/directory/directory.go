// Package directory reads a snapshot of the tenant's own directory (its
// user accounts) and answers, for a canonical user seen in the logs, "is
// this account ours, and is it a guest?".
//
// The audit logs alone can only infer whether an outside account exists in
// the tenant (docs/rules.md "Classify"); the directory settles it: a B2B
// guest whose mail is the outsider's address is a guest, not a
// pass-through sign-in, and an address found nowhere in the directory is
// truly an outsider. Two exports are read, sniffed from their content:
//
//   - Microsoft Graph GET /users (JSON; see json.go for the framings), the
//     user resource as documented in
//     https://learn.microsoft.com/graph/api/resources/user and
//     https://learn.microsoft.com/graph/api/resources/objectidentity;
//   - the Entra admin center's Users > All users > Download users CSV
//     (see csv.go for its headers and where they come from).
//
// Load reads the whole file into memory: a directory export is bounded by
// the tenant's size (the portal download stops at 500,000 users, per
// https://learn.microsoft.com/entra/identity/users/users-bulk-download),
// far smaller than the audit logs, and holding it lets problems name exact
// lines and lets a malformed record be skipped without losing the rest.
//
// A Directory is immutable once loaded and safe for concurrent use.
package directory

import (
	"fmt"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
)

// Entry is one account of our directory, with the fields that say who it
// is and whether it is a guest, as the export spells them (trimmed; lookups
// compare them case-insensitively).
type Entry struct {
	// ID is the object id (Graph "id", CSV "id" / "objectId" / "Object Id").
	ID string `json:"id,omitempty"`
	// UPN is the userPrincipalName; a B2B guest's has the form
	// alice_fabrikam.com#EXT#@contoso.onmicrosoft.com.
	UPN string `json:"userPrincipalName"`
	// DisplayName is for people reading a report; nothing matches on it.
	DisplayName string `json:"displayName,omitempty"`
	// CompanyName is companyName: "the name of the company that the user
	// is associated with. This property can be useful for describing the
	// company that a guest comes from" (at most 64 characters; Graph
	// returns it only on $select;
	// https://learn.microsoft.com/graph/api/resources/user). Nothing
	// matches on it; a guest's names its partner.
	CompanyName string `json:"companyName,omitempty"`
	// Mail is the primary SMTP address (for a guest, usually the
	// address it was invited at).
	Mail string `json:"mail,omitempty"`
	// OtherMails are the additional addresses (Graph otherMails; the
	// portal CSV calls the same attribute alternateEmailAddress).
	OtherMails []string `json:"otherMails,omitempty"`
	// ProxyAddresses are as exported, with their type prefixes
	// ("SMTP:", "smtp:", "SIP:", ...); only smtp ones are looked up.
	ProxyAddresses []string `json:"proxyAddresses,omitempty"`
	// UserType is "Member" or "Guest" as exported ("" if absent).
	UserType string `json:"userType,omitempty"`
	// CreationType is null for a work account, "Invitation" for a B2B
	// guest, "LocalAccount", "EmailVerified" or "SelfServiceSignUp" for
	// the other ways Graph documents.
	CreationType string `json:"creationType,omitempty"`
	// ExternalUserState is "PendingAcceptance" or "Accepted" for invited
	// users (the portal CSV's invitationState).
	ExternalUserState string `json:"externalUserState,omitempty"`
	// Identities are the sign-in identities (Graph objectIdentity). The
	// portal CSV has only an identityIssuer column, kept as an Identity
	// with just Issuer set.
	Identities []Identity `json:"identities,omitempty"`
	// Enabled is accountEnabled; nil when the export does not say.
	Enabled *bool `json:"accountEnabled,omitempty"`
	// Line is where the record starts in the export (1-based), so that a
	// report can cite it as evidence.
	Line int `json:"line"`
}

// Identity is one Graph objectIdentity of a user: how it signs in
// (signInType: userPrincipalName, emailAddress, userName, federated, ...),
// who vouches for it (issuer: our domain, google.com, ExternalAzureAD,
// mail, ...) and the issuer's name for it (issuerAssignedId).
type Identity struct {
	SignInType       string `json:"signInType,omitempty"`
	Issuer           string `json:"issuer,omitempty"`
	IssuerAssignedID string `json:"issuerAssignedId,omitempty"`
}

// IsGuest reports whether the entry is a guest: userType Guest, or a #EXT#
// UPN, or creationType Invitation. Any one suffices because each alone
// marks an account that authenticates elsewhere: a guest converted to
// userType Member keeps its #EXT# UPN, and a pending invitation may not
// have its userType exported at all.
func (e Entry) IsGuest() bool {
	return strings.EqualFold(e.UserType, "Guest") ||
		strings.Contains(strings.ToLower(e.UPN), "#ext#") ||
		strings.EqualFold(e.CreationType, "Invitation")
}

// clone copies e's slices and pointer so that callers of Lookup cannot
// change the directory through the entry they get.
func (e Entry) clone() Entry {
	c := e
	c.OtherMails = append([]string(nil), e.OtherMails...)
	c.ProxyAddresses = append([]string(nil), e.ProxyAddresses...)
	c.Identities = append([]Identity(nil), e.Identities...)
	if e.Enabled != nil {
		v := *e.Enabled
		c.Enabled = &v
	}
	return c
}

// MatchedBy names the field of an entry that a looked-up user matched.
type MatchedBy string

// The fields Lookup matches, strongest first: the order in which it
// prefers them when a user matches several entries.
const (
	// ByUPN: the entry's userPrincipalName is the user.
	ByUPN MatchedBy = "upn"
	// ByGuestUPN: the entry's #EXT# guest UPN canonicalises to the user
	// (bob_fabrikam.com#EXT#@contoso.onmicrosoft.com → bob@fabrikam.com).
	ByGuestUPN MatchedBy = "guest-upn"
	// ByMail: the entry's mail.
	ByMail MatchedBy = "mail"
	// ByOtherMails: one of the entry's otherMails.
	ByOtherMails MatchedBy = "otherMails"
	// ByProxyAddresses: one of the entry's smtp proxyAddresses.
	ByProxyAddresses MatchedBy = "proxyAddresses"
	// ByIdentities: the issuerAssignedId of one of the entry's identities.
	ByIdentities MatchedBy = "identities"
)

// rank orders MatchedBy values, lower is stronger. The UPN is the
// account's own name and unique in a tenant, so it beats everything; mail
// is the primary address; otherMails, proxyAddresses and identities are
// aliases that an administrator or a user may have set to any address,
// so they rank last, in the order Graph lists them.
func rank(by MatchedBy) int {
	switch by {
	case ByUPN:
		return 0
	case ByGuestUPN:
		return 1
	case ByMail:
		return 2
	case ByOtherMails:
		return 3
	case ByProxyAddresses:
		return 4
	default:
		return 5
	}
}

// Directory answers "is this account ours, and is it a guest?" for
// canonical users.
type Directory struct {
	entries []Entry
	// index maps every lookup key (a canonical address) to the one entry
	// that wins it, decided once at load time.
	index map[string]hit
	// lowID and lowUPN are the entries' ID and UPN lower-cased, the
	// tie-breakers between entries matched by the same kind of field.
	lowID, lowUPN []string
}

// hit is the entry a key resolves to and the field it matched.
type hit struct {
	entry int32
	by    MatchedBy
}

// Problem is a record (or, with Line 0, the whole file) that could not be
// read, or a warning about the export as a whole.
type Problem struct {
	// Path is the file, as given to Load.
	Path string `json:"path"`
	// Line is the 1-based line where the record starts (for CSV too: a
	// quoted field may span lines, so row numbers would mislead); 0 for
	// the file as a whole.
	Line int `json:"line"`
	// Reason says what is wrong and what was done about it.
	Reason string `json:"reason"`
}

// String formats p the way outsider reports input problems:
// "file: line N: reason".
func (p Problem) String() string {
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", p.Path, p.Reason)
	}
	return fmt.Sprintf("%s: line %d: %s", p.Path, p.Line, p.Reason)
}

// Len is the number of accounts in the directory (duplicates removed).
func (d *Directory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.entries)
}

// Lookup finds the entry a canonical user (a lower-case address, as
// audit.Canonical produces) belongs to: by UPN (also the #EXT# guest UPN
// form, canonicalised), by mail, by otherMails, by smtp proxyAddresses
// ("smtp:"/"SMTP:" prefixes), or by the issuerAssignedId of its
// identities. Case-insensitive; user is canonicalised again, so a raw
// #EXT# UPN or a claims-encoded name works too. It returns which field
// matched.
//
// When several entries match, the choice is deterministic and independent
// of the order of the export: the strongest field wins (upn, guest-upn,
// mail, otherMails, proxyAddresses, identities, in that order), then the
// smallest object id, then the smallest UPN, then the earliest record.
func (d *Directory) Lookup(user string) (Entry, MatchedBy, bool) {
	if d == nil {
		return Entry{}, "", false
	}
	key, ok := canonicalKey(user)
	if !ok {
		return Entry{}, "", false
	}
	h, ok := d.index[key]
	if !ok {
		return Entry{}, "", false
	}
	return d.entries[h.entry].clone(), h.by, true
}

// canonicalKey is the lookup key of an address: audit.Canonical's form, so
// that keys built from the export and users from the logs meet exactly.
// Unusable and anonymous names never match an account.
func canonicalKey(s string) (string, bool) {
	u, kind, _ := audit.Canonical([]byte(s), nil)
	if len(u) == 0 || kind == audit.UserUnusable || kind == audit.UserAnonymous {
		return "", false
	}
	return string(u), true
}

// newDirectory indexes entries, dropping repeated accounts: overlapping
// exports (two downloads, a page saved twice) repeat users, and the first
// copy is kept so that the result does not depend on anything but the
// file's order.
func newDirectory(all []Entry) *Directory {
	d := &Directory{index: make(map[string]hit, 2*len(all))}
	seen := make(map[string]bool, len(all))
	for _, e := range all {
		id := "upn:" + strings.ToLower(e.UPN)
		if e.ID != "" {
			id = "id:" + strings.ToLower(e.ID)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		d.entries = append(d.entries, e)
		d.lowID = append(d.lowID, strings.ToLower(e.ID))
		d.lowUPN = append(d.lowUPN, strings.ToLower(e.UPN))
	}
	for i := range d.entries {
		e := &d.entries[i]
		if key, ok := canonicalKey(e.UPN); ok {
			by := ByUPN
			if strings.Contains(strings.ToLower(e.UPN), "#ext#") {
				by = ByGuestUPN
			}
			d.add(key, by, i)
		}
		d.addAddr(e.Mail, ByMail, i)
		for _, m := range e.OtherMails {
			d.addAddr(m, ByOtherMails, i)
		}
		for _, p := range e.ProxyAddresses {
			if a, ok := smtpAddress(p); ok {
				d.addAddr(a, ByProxyAddresses, i)
			}
		}
		for _, id := range e.Identities {
			// Only identities named by an address: the logs name users
			// by address, while opaque issuer ids (a Facebook number, a
			// B2C userName) could only collide with an unrelated name.
			if strings.Contains(id.IssuerAssignedID, "@") {
				d.addAddr(id.IssuerAssignedID, ByIdentities, i)
			}
		}
	}
	return d
}

// addAddr indexes an address field of entry i under its canonical key.
func (d *Directory) addAddr(addr string, by MatchedBy, i int) {
	if key, ok := canonicalKey(addr); ok {
		d.add(key, by, i)
	}
}

// add makes entry i the owner of key unless a better claim exists; see
// Lookup for the order.
func (d *Directory) add(key string, by MatchedBy, i int) {
	old, ok := d.index[key]
	if !ok || d.better(i, by, int(old.entry), old.by) {
		d.index[key] = hit{entry: int32(i), by: by}
	}
}

// better reports whether entry i, matched by by, has a stronger claim on
// a key than entry j, matched by jby: the order Lookup documents.
func (d *Directory) better(i int, by MatchedBy, j int, jby MatchedBy) bool {
	if ri, rj := rank(by), rank(jby); ri != rj {
		return ri < rj
	}
	if d.lowID[i] != d.lowID[j] {
		return d.lowID[i] < d.lowID[j]
	}
	if d.lowUPN[i] != d.lowUPN[j] {
		return d.lowUPN[i] < d.lowUPN[j]
	}
	return i < j
}

// smtpAddress returns the address of an smtp proxy address: "SMTP:" marks
// the primary and "smtp:" the others; Graph's own example writes
// "SMTP: bob@contoso.com" with a space, hence the trim. Other types (SIP:,
// X500:, EUM:, ...) are not mail addresses. An entry without any type
// prefix is taken as an address.
func smtpAddress(p string) (string, bool) {
	p = strings.TrimSpace(p)
	i := strings.IndexByte(p, ':')
	at := strings.IndexByte(p, '@')
	if i < 0 || (at >= 0 && at < i) {
		return p, p != ""
	}
	if !strings.EqualFold(p[:i], "smtp") {
		return "", false
	}
	a := strings.TrimSpace(p[i+1:])
	return a, a != ""
}
