package testutil

import "strings"

// StripCodeSpans replaces each CommonMark code span of line (a run of n
// backticks up to the next run of exactly n) with repl; an unclosed run is
// text. With escapes, a backtick right after a backslash is text too, as
// GitHub renders a table row; without, every backtick counts, as the
// link checker wants for prose.
func StripCodeSpans(line, repl string, escapes bool) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' || (escapes && i > 0 && line[i-1] == '\\') {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			b.WriteString(line[i : i+n])
			i += n
			continue
		}
		b.WriteString(repl)
		i = end
	}
	return b.String()
}
