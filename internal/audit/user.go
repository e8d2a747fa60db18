package audit

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// UserKind says what a canonical user stands for.
type UserKind uint8

// User kinds.
const (
	// UserPlain is an ordinary account name (a UPN, an app, a system name).
	UserPlain UserKind = iota
	// UserGuest came from a B2B guest UPN (…#EXT#@…): the canonical form
	// is the guest's own address.
	UserGuest
	// UserSPOGuest came from SharePoint's urn:spo:guest# form.
	UserSPOGuest
	// UserAnonymous is an anonymous-link user (urn:spo:anon#…, anonymous).
	UserAnonymous
	// UserUnusable names nobody: "", Unknown, Not Available, or a
	// placeholder or redaction marker (IsPlaceholder).
	UserUnusable
)

// noUser is the user of a record that names nobody usable: empty, and
// never nil, whatever the arena holds (cap 0: an append copies it).
var noUser = []byte{}

// Canonical maps the many spellings of one account to one key, appending
// the result to arena (docs/rules.md "Canonical user"):
//
//	alice_fabrikam.com#EXT#@contoso.onmicrosoft.com → alice@fabrikam.com (guest)
//	urn:spo:guest#alice@fabrikam.com                → alice@fabrikam.com
//	i:0#.f|membership|alice@fabrikam.com           → alice@fabrikam.com
//
// so that a guest's sign-ins, its SharePoint records and the sharing
// records naming it all meet on one identity. An unusable user is noUser,
// not an empty slice of the arena, which is nil or not depending on the
// records decoded before: an event must depend on its record alone
// (FuzzDecodeSameAsReference found the two differing).
func Canonical(raw []byte, arena []byte) (user []byte, kind UserKind, newArena []byte) {
	raw = bytes.TrimSpace(raw)
	start := len(arena)
	arena = appendLower(arena, raw)
	u := arena[start:]
	switch string(u) {
	case "", "unknown", "not available", "n/a", "null", "none", "-":
		return noUser, UserUnusable, arena[:start]
	case "anonymous":
		return u, UserAnonymous, arena
	}
	if IsPlaceholder(u) {
		return noUser, UserUnusable, arena[:start]
	}
	switch {
	case bytes.HasPrefix(u, []byte("urn:spo:anon#")):
		return u, UserAnonymous, arena
	case bytes.HasPrefix(u, []byte("urn:spo:guest#")):
		u = u[len("urn:spo:guest#"):]
		if len(u) == 0 || IsPlaceholder(u) {
			return noUser, UserUnusable, arena[:start]
		}
		kind = UserSPOGuest
	case (bytes.HasPrefix(u, []byte("i:0")) || bytes.HasPrefix(u, []byte("c:0"))) && bytes.IndexByte(u, '|') >= 0:
		u = u[bytes.LastIndexByte(u, '|')+1:]
		if IsPlaceholder(u) {
			return noUser, UserUnusable, arena[:start]
		}
	}
	if i := bytes.Index(u, []byte("#ext#")); i >= 0 {
		local := u[:i]
		if j := bytes.LastIndexByte(local, '_'); j >= 0 {
			// Rewrite in place: the arena copy is ours.
			local[j] = '@'
		}
		return local, UserGuest, arena
	}
	return u, kind, arena
}

// appendLower appends b lower-cased. ASCII is lowered eight bytes at a
// time (the common case, no allocation); other runes go through unicode
// rules.
func appendLower(dst, b []byte) []byte {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if w&swarHigh != 0 {
			break // not ASCII: the general path from here
		}
		dst = binary.LittleEndian.AppendUint64(dst, w|upperBytes(w)>>2)
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c >= utf8.RuneSelf {
			return append(dst, bytes.ToLower(b[i:])...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// isLower reports whether b is ASCII without capitals, i.e. already what
// appendLower would make of it; eight bytes at a time.
func isLower(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if w&swarHigh != 0 || upperBytes(w) != 0 {
			return false
		}
	}
	if i > 0 && i < len(b) {
		// The tail as the last eight bytes, overlapping ones already seen
		// (a GUID is 36 bytes: four words and this).
		w := binary.LittleEndian.Uint64(b[len(b)-8:])
		return w&swarHigh == 0 && upperBytes(w) == 0
	}
	for ; i < len(b); i++ {
		if c := b[i]; ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const swarHigh = 0x8080808080808080

// upperBytes has the high bit set in each byte of w that is 'A'-'Z'; w
// must be ASCII (no high bits), so that adding to a byte never carries
// into the next.
func upperBytes(w uint64) uint64 {
	ge := w + 0x3f3f3f3f3f3f3f3f // high bit: byte >= 'A' (0x41)
	gt := w + 0x2525252525252525 // high bit: byte > 'Z' (0x5a)
	return ge &^ gt & swarHigh
}

// Domain returns the part of a canonical user after the last '@', or nil.
func Domain(user []byte) []byte {
	if i := bytes.LastIndexByte(user, '@'); i >= 0 && i+1 < len(user) {
		return user[i+1:]
	}
	return nil
}

// GuestHostDomain returns, for a B2B guest UPN (…#EXT#@host), the host
// domain: the inviting tenant's, i.e. ours.
func GuestHostDomain(rawUPN []byte) []byte {
	lower := bytes.ToLower(rawUPN)
	i := bytes.Index(lower, []byte("#ext#@"))
	if i < 0 {
		return nil
	}
	return lower[i+len("#ext#@"):]
}
