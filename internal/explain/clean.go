package explain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxShown caps how much of one value the walk prints: a record is
// attacker-controlled, and a megabyte-long user agent must not bury the
// rest of the explanation.
const maxShown = 300

// clean makes text from the record safe to print on a terminal. Anything
// that is not a printable character or the ASCII space is shown as an
// escape: C0 controls and DEL as \xNN, C1 controls, bidi overrides and
// isolates, zero-width and other format characters, odd spaces and
// line/paragraph separators as \uNNNN (\UNNNNNNNN above the BMP), and each
// byte of invalid UTF-8 as \xNN. A backslash that could be read as the
// start of an escape (before x, u, U, another backslash, or at the end) is
// doubled, so an escape written by clean can never be confused with the
// same characters typed into the record by an attacker.
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			// Doubled only where it could start an escape, so Windows
			// names and Exchange folder paths stay readable.
			// The next character decides: an escape after a lone backslash,
			// or x, u or U, would read as one escape.
			next, nsize := utf8.DecodeRuneInString(s[i+1:])
			if i+1 < len(s) && printsRaw(next, nsize) && next != 'x' && next != 'u' && next != 'U' {
				b.WriteByte('\\')
			} else {
				b.WriteString(`\\`)
			}
		case r < utf8.RuneSelf && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case printsRaw(r, size):
			b.WriteString(s[i : i+size])
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

// printsRaw reports whether clean writes the rune as it is.
func printsRaw(r rune, size int) bool {
	if r == utf8.RuneError && size <= 1 {
		return false
	}
	return r == ' ' || (r != '\\' && unicode.IsPrint(r))
}

// show is clean with a length cap, for values printed from the record.
func show(s string) string {
	if len(s) <= maxShown {
		return clean(s)
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return clean(s[:cut]) + fmt.Sprintf("… (%d bytes in all)", len(s))
}

// quote shows s between double quotes, for values that are easier to read
// quoted inside a sentence (empty strings, "Unknown").
func quote(s string) string { return `"` + show(s) + `"` }

// width is the column the text is wrapped at.
const width = 100

// wrap breaks text into lines of at most width columns (counting runes),
// each starting with indent. A word longer than a line (a URL) stays whole
// on a line of its own.
func wrap(text string, indent string) string {
	var b strings.Builder
	words := strings.Fields(text)
	col := 0
	for _, w := range words {
		n := utf8.RuneCountInString(w)
		if col > 0 && col+1+n > width {
			b.WriteByte('\n')
			col = 0
		}
		if col == 0 {
			b.WriteString(indent)
			col = len(indent)
		} else {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
	}
	if col > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}
