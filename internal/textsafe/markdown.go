package textsafe

import "strings"

// MarkdownCode shows a value as an inline code span: inside one, Markdown
// makes no emphasis, links, autolinks, HTML, @mentions or maths, and shows
// the characters as they are, so what a reader sees is Terminal(s). The
// fence is one backtick longer than any run of backticks in the value,
// padded with a space when the value starts or ends with a backtick or a
// space (how CommonMark lets a code span hold backticks). In a table cell
// (inTable) a pipe would end the cell even inside a code span, so it is
// written \|, which GitHub-flavoured tables turn back into |. Empty stays
// empty.
func MarkdownCode(s string, inTable bool) string {
	s = Terminal(s)
	if s == "" {
		return ""
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' || s[len(s)-1] == ' ' {
		s = " " + s + " "
	}
	return fence + s + fence
}

// MarkdownText escapes prose that quotes values from the records, so that
// what a record says cannot become markup and renders as Terminal(s): the
// characters of emphasis, code, links, tables, strike-through and maths
// are backslash-escaped (the backslashes Terminal writes included), and so
// is what would start a list; <, > and & become entities (no HTML, no
// entity tricks); "://" and "www." are broken with an escape so that a URL
// in a record is not made a link. A bare e-mail address still becomes a
// mailto link in GitHub's Markdown; the text shown is the address itself.
func MarkdownText(s string) string {
	s = Terminal(s)
	var b strings.Builder
	// At the start of a line (every use of MarkdownText may be), these
	// would begin a list, a heading's underline or an ordered list.
	if s != "" && strings.ContainsRune("-+=", rune(s[0])) {
		b.WriteByte('\\')
	}
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if digits > 0 && i == digits && (c == '.' || c == ')') {
			b.WriteByte('\\')
		}
		switch c {
		case '\\', '`', '*', '_', '[', ']', '|', '~', '$', '#', '!':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case ':':
			if strings.HasPrefix(s[i:], "://") {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		case '.':
			if i >= 3 && strings.EqualFold(s[i-3:i], "www") {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
