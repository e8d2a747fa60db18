package hunt

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The three quoting functions below are the only way a value from a report
// (a UPN, an IP, a tenant id) enters a query. Each returns one expression
// of the target language that evaluates to exactly the value, whatever it
// holds. Values that the language's plain literal syntax carries safely are
// written plainly, so analysts can read them; anything else is encoded and
// decoded by the query at run time, so no character of it is ever
// interpreted by the query's parser.

// QuoteKQL returns a KQL expression whose value is s.
//
// Rules (Kusto "The string data type", string literals,
// https://learn.microsoft.com/kusto/query/scalar-data-types/string): a
// double-quoted literal escapes the enclosing quote and the backslash with a
// backslash; \n, \t and \r must not appear raw. So a value made only of
// printable characters (letters, digits, punctuation, symbols and the
// ASCII space, in any script) is written as "…" with " and \ escaped.
// Anything else (control characters, line or paragraph separators, bidi and
// other format characters, invalid UTF-8) is written as
// base64_decode_tostring("…") of its UTF-8 bytes: the base64 alphabet needs
// no escaping, and base64_decode_tostring is a standard scalar function of
// Log Analytics and Defender advanced hunting alike.
func QuoteKQL(s string) string {
	if kqlPlain(s) {
		var b strings.Builder
		b.Grow(len(s) + 2)
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '"', '\\':
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
		return b.String()
	}
	return `base64_decode_tostring("` + base64.StdEncoding.EncodeToString([]byte(s)) + `")`
}

func kqlPlain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// QuoteSPL returns an SPL eval expression whose value is s. It is meant for
// eval and where, never for the search command, where * is a wildcard
// that a backslash cannot escape (Splunk Search Manual, "Backslashes").
//
// Rules (Splunk Search Manual, "Quotes and escaping characters", "Add
// comments to searches"): eval string literals are double-quoted with \"
// and \\ escapes, but the search processor expands `macros` and removes
// ```comments``` before anything is parsed, and dashboards and alerts
// substitute $tokens$ in the search text, so quoting alone does not protect
// those characters. A value is therefore written plainly, as "…", only
// when it is made of ASCII letters, digits and . _ - @ : # / (enough for
// UPNs, IPv4 and IPv6 addresses and GUIDs); anything else is written as
// urldecode("…") of its UTF-8 bytes with every byte outside
// [A-Za-z0-9._~-] percent-encoded (urldecode: Splunk eval text functions),
// so no quote, backslash, backtick, dollar, pipe, bracket, asterisk,
// space or newline of it reaches the parser; "+" is encoded too, so it
// cannot be read as a space.
func QuoteSPL(s string) string {
	if splPlain(s) {
		return `"` + s + `"`
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString(`urldecode("`)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	b.WriteString(`")`)
	return b.String()
}

func splPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune("._-@:#/", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isUnreserved is RFC 3986's unreserved set, which percent-decoding leaves
// alone.
func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '~' || c == '-'
}

// QuotePowerShell returns a PowerShell expression whose value is s.
//
// Rules (about_Quoting_Rules, "Single-quoted strings"; PowerShell Language
// Specification 3.0 §2.3.5.2 and appendix B.1): a single-quoted string is
// verbatim, so $(…), $variables and backticks in it are not expanded, and
// the only special character is the quote, written twice. But the
// specification counts U+2018, U+2019, U+201A and U+201B as single quotes
// too (and U+201C-U+201E as double quotes), which a naive doubling of "'"
// misses. So a value is written as '…' with ' doubled only when it is
// printable ASCII; anything else is decoded at run time from base64 of its
// UTF-8 bytes:
//
//	([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('…')))
func QuotePowerShell(s string) string {
	if psPlain(s) {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('" + base64.StdEncoding.EncodeToString([]byte(s)) + "')))"
}

func psPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
