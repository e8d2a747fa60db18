package audit

import "bytes"

// Published and sanitised logs keep a record's shape but replace what
// identifies someone with a placeholder: "<USER HOME TENANT ID>",
// "REDACTED", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", the nil GUID,
// "<user principal name>", "[REDACTED]", "***". Such a value says nothing
// about who acted, so it must never decide that an account is an
// outsider, make a tenant "ours" or join two accounts (docs/rules.md).

// IsTenantID reports whether b is a tenant id that can serve as evidence:
// a GUID (8-4-4-4-12 hex digits, either case) that is not a placeholder
// (IsPlaceholderGUID).
func IsTenantID(b []byte) bool { return isGUID(b) && !IsPlaceholderGUID(b) }

// IsPlaceholderGUID reports whether b is a GUID written as a placeholder:
// the nil GUID, every GUID whose hex digits come in equal pairs
// (ffffffff-ffff-…, 11111111-…, and the style of Microsoft's
// documentation: aaaabbbb-0000-cccc-1111-dddd2222eeee,
// 00aa00aa-bb11-cc22-dd33-44ee44ee44ee), which a random id has one chance
// in 2^64 of being, and a few sequential ones written as examples. It is
// false for what is not a GUID at all.
func IsPlaceholderGUID(b []byte) bool {
	if !isGUID(b) {
		return false
	}
	g := (*[36]byte)(b)
	paired := true
	for i := 0; i < len(guidDigitAt) && paired; i += 2 {
		paired = lowerHex(g[guidDigitAt[i]]) == lowerHex(g[guidDigitAt[i+1]])
	}
	if paired {
		return true
	}
	var low [36]byte
	for i, c := range g {
		low[i] = lowerHex(c)
	}
	for _, ex := range exampleGUIDs {
		if string(low[:]) == ex {
			return true
		}
	}
	return false
}

// exampleGUIDs are sequential GUIDs that documentation and templates use
// as examples.
var exampleGUIDs = [...]string{
	"12345678-1234-1234-1234-123456789012",
	"12345678-1234-1234-1234-123456789abc",
	"12345678-90ab-cdef-1234-567890abcdef",
	"01234567-89ab-cdef-0123-456789abcdef",
}

func lowerHex(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// IsPlaceholder reports whether an account name (trimmed; either case)
// is a placeholder or redaction marker rather than a name: a template between angle or square brackets ("<user principal
// name>", "[redacted]"), a word that says the value was removed
// ("redacted", "removed", "hidden", "masked", "sanitized", "scrubbed",
// "anonymized", "obfuscated", "withheld", "placeholder"), or a mask ("***",
// "xxxxxxxx-xxxx-…", "###"; for an address, a masked local part:
// "***@contoso.com", "xxx@contoso.com"). It runs for every record, so it
// allocates nothing and looks at the first byte before anything else.
func IsPlaceholder(u []byte) bool {
	if len(u) == 0 {
		return false
	}
	switch u[0] {
	case '<':
		return len(u) >= 2 && u[len(u)-1] == '>'
	case '[':
		return len(u) >= 2 && u[len(u)-1] == ']'
	case '*', '#', '?', 'x', 'X', '.', '_', '-':
		local := u
		if at := bytes.LastIndexByte(u, '@'); at >= 0 {
			local = u[:at]
		}
		return isMask(local)
	}
	if len(u) > maxRedactionWord {
		return false
	}
	var low [maxRedactionWord]byte
	return redactionWords[string(lowerASCII(low[:], u))]
}

// maxRedactionWord is the length of the longest of redactionWords.
const maxRedactionWord = 14

// redactionWords are values that say the real one was taken out.
var redactionWords = map[string]bool{
	"redacted": true, "removed": true, "hidden": true, "masked": true, "sanitized": true, "sanitised": true,
	"scrubbed": true, "anonymized": true, "anonymised": true, "obfuscated": true, "withheld": true,
	"placeholder": true, "not applicable": true,
}

// isMask reports whether b is made only of masking characters (* # ? x)
// and separators (. _ -), with at least one * # ? or three x: "x" or
// "x.y" may be someone's name, "xxx" and "***" are not.
func isMask(b []byte) bool {
	marks, xs := 0, 0
	for _, c := range b {
		switch c {
		case '*', '#', '?':
			marks++
		case 'x', 'X':
			xs++
		case '.', '_', '-':
		default:
			return false
		}
	}
	return marks > 0 || xs >= 3
}
