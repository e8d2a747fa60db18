// Package textsafe is the one set of rules for showing attacker-controlled
// text: every field of an audit or sign-in record, and every error that
// quotes one, is chosen by whoever wrote the record. The renderers (text,
// Markdown, HTML, CSV reports), explain, watch and the lines outsider
// writes to stderr all show such text through this package, so that a
// value reads the same, and is equally safe, wherever it is shown.
//
// The base rule is Terminal. It is unambiguous: two different strings
// never print the same, so an attacker cannot make one account look like
// another by spelling an escape sequence, a bidi override, an invisible
// character or an invalid byte in a name. The other functions add what
// their medium needs on top of it (markup for Markdown, formulas for CSV);
// html/template escapes markup itself and HTML adds only the Terminal
// layer.
package textsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Terminal makes s safe and unambiguous to print on a terminal (and to
// show as text anywhere else). What is printed as it is: every printable
// character (letters, marks, numbers, punctuation, symbols, ASCII space),
// except the invisible ones. Everything else is shown as an escape:
//
//   - each byte of invalid UTF-8 as \xNN (always 80 to ff);
//   - C0 controls (tab, newline and carriage return included) and DEL as
//     \xNN (always 00 to 1f or 7f);
//   - other characters in the Basic Multilingual Plane as \uNNNN, above it
//     as \UNNNNNNNN: C1 controls, bidi overrides, embeddings, marks and
//     isolates, line and paragraph separators, spaces other than ASCII
//     space (no-break, en, em, ideographic ...), zero-width and other
//     format characters (U+200B to U+200F, U+2060 to U+206F, U+FEFF,
//     soft hyphen, tags) and the other characters Unicode makes
//     default-ignorable (Hangul fillers, variation selectors, the
//     combining grapheme joiner), private-use and unassigned code points,
//     and U+FFFD (a sign that something upstream replaced bytes it could
//     not decode, so it is not shown as if the record held it).
//
// A backslash from s is doubled when it could be read as the start of an
// escape: before x, u, U, another backslash, a character that is itself
// escaped, or at the end. Elsewhere it is written once, so Windows names
// (SHAREPOINT\system) and Exchange folder paths (\Inbox\Board) read as
// they are; always doubling would make every such value harder to read and
// to paste into a search. So a \ in the output followed by x, u or U always
// starts an escape written here, and the literal text \x1b in a record
// prints \\x1b while the escape character prints \x1b.
func Terminal(s string) string {
	i := firstUnsafe(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeHex(&b, `\x`, uint32(s[i]), 2)
		case r == '\\':
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if i+1 < len(s) && raw(next) && next != 'x' && next != 'u' && next != 'U' {
				b.WriteByte('\\')
			} else {
				b.WriteString(`\\`)
			}
		case r < utf8.RuneSelf && (r < 0x20 || r == 0x7f):
			writeHex(&b, `\x`, uint32(r), 2)
		case raw(r):
			b.WriteString(s[i : i+size])
		case r <= 0xffff:
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			writeHex(&b, `\U`, uint32(r), 8)
		}
		i += size
	}
	return b.String()
}

// firstUnsafe is the offset of the first byte Terminal would not copy
// through as it is, or len(s): most values (UPNs, IPs, times) are plain
// ASCII and are returned without a copy.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			// Slow path from here: decode runes.
			for j := i; j < len(s); {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !raw(r) {
					return j
				}
				j += size
			}
			return len(s)
		}
		if c < 0x20 || c == 0x7f || c == '\\' {
			return i
		}
	}
	return len(s)
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	b.WriteString(prefix)
	h := strconv.FormatUint(uint64(v), 16)
	for n := len(h); n < digits; n++ {
		b.WriteByte('0')
	}
	b.WriteString(h)
}

// raw reports whether Terminal writes the rune as it is, a backslash
// aside. utf8 decodes an invalid byte as U+FFFD, so both are escaped (each
// in its own form).
func raw(r rune) bool {
	if r == utf8.RuneError {
		// An invalid byte (size 1), or a real U+FFFD: a sign that
		// something upstream replaced what it could not decode.
		return false
	}
	if r == ' ' {
		return true
	}
	return r != '\\' && unicode.IsPrint(r) && !invisible(r)
}

// invisible reports the printable (by unicode.IsPrint) characters that
// Unicode lists as Default_Ignorable_Code_Point: they draw nothing, so
// "alice" and "al\u3164ice" would look alike. The format characters among
// the default-ignorables (Cf) are not printable and are escaped anyway.
// Source: https://www.unicode.org/Public/UCD/latest/ucd/DerivedCoreProperties.txt
func invisible(r rune) bool {
	switch {
	case r < 0x034f:
		return false
	case r == 0x034f, // combining grapheme joiner
		r == 0x115f, r == 0x1160, // Hangul choseong and jungseong fillers
		r == 0x17b4, r == 0x17b5, // Khmer inherent vowels
		r >= 0x180b && r <= 0x180f, // Mongolian free variation selectors
		r == 0x3164, r == 0xffa0,   // Hangul filler, halfwidth Hangul filler
		r >= 0xfe00 && r <= 0xfe0f, // variation selectors
		r >= 0x1bca0 && r <= 0x1bca3,
		r >= 0x1d173 && r <= 0x1d17a,
		r >= 0xe0000 && r <= 0xe0fff: // tags, variation selectors supplement
		return true
	}
	return false
}

// Escapes reports whether Terminal would show s other than as it is.
func Escapes(s string) bool { return firstUnsafe(s) < len(s) && Terminal(s) != s }

// Plain reports whether every character of s is one Terminal prints as it
// is, backslashes included: s holds nothing that drives a terminal or
// hides, so it may be written raw where no escape is read anyway, such as
// a file name inside a quoted shell word (C:\logs\x.json, which Terminal
// shows as C:\logs\\x.json, pastes back as itself).
func Plain(s string) bool {
	for _, r := range s {
		if r != '\\' && !raw(r) {
			return false
		}
	}
	return true
}

// Shorten is Terminal for a value that may be too long to show whole: past
// max bytes of s it is cut at a character boundary and the length of the
// whole value is said. explain uses it so that a megabyte-long user agent
// cannot bury the rest of the explanation. It is lossy by design: two
// values alike in their first max bytes and of the same length show
// alike.
func Shorten(s string, max int) string {
	if len(s) <= max {
		return Terminal(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return Terminal(s[:cut]) + "… (" + strconv.Itoa(len(s)) + " bytes in all)"
}

// Line is the rule for a line outsider writes to stderr (a problem, a
// warning, "wrote PATH") that quotes values from the logs or the command
// line: Terminal, so that a hostile record cannot clear the screen, move
// the cursor, or fake a line of its own with an embedded newline. The
// caller adds the final newline.
func Line(s string) string { return Terminal(s) }

// HTML is the layer textsafe adds under html/template, which escapes
// markup in text and attributes but leaves control characters, bidi
// overrides and invisible characters as they are; a browser would not run
// them, but they would still make one UPN read as another. HTML therefore
// applies Terminal; give its result to html/template, never to
// template.HTML.
func HTML(s string) string { return Terminal(s) }

// JSON escapes, in text that is already JSON, every character Terminal
// would escape but encoding/json leaves as it is (C1 controls, bidi
// characters, separators, invisible characters), as a JSON \u escape (a
// surrogate pair beyond the Basic Multilingual Plane), and U+FFFD, which
// encoding/json writes for invalid UTF-8. The text stays valid JSON for the
// same values. Newlines are kept, for indented JSON; the
// characters escaped are never JSON syntax, so structure is untouched.
func JSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\n' || r == '\\' || raw(r) {
			b.WriteRune(r)
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			writeHex(&b, `\u`, uint32(r1), 4)
			writeHex(&b, `\u`, uint32(r2), 4)
			continue
		}
		writeHex(&b, `\u`, uint32(r), 4)
	}
	return b.String()
}

// CSVCell neutralises a cell a spreadsheet would run as a formula by
// prefixing a single quote (OWASP's advice for CSV injection): one that
// starts with = + - @, tab or carriage return (and | and %, which some
// spreadsheets also read as the start of a formula or DDE call), or with
// the full-width = + - @ (U+FF1D, U+FF0B, U+FF0D, U+FF20), which
// spreadsheets in East Asian locales fold to their ASCII forms. It drops
// NUL, which some spreadsheet importers treat as the end of the file.
// Other characters are kept as they are: a CSV is data for a program, and
// encoding/csv quotes what the format needs.
func CSVCell(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '|', '%':
		return "'" + s
	}
	switch r, _ := utf8.DecodeRuneInString(s); r {
	case '\uff1d', '\uff0b', '\uff0d', '\uff20':
		return "'" + s
	}
	return s
}
