package explain

import (
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/textsafe"
)

// maxShown caps how much of one value the walk prints: a record is
// attacker-controlled, and a megabyte-long user agent must not bury the
// rest of the explanation.
const maxShown = 300

// show is how the walk prints a value from the record: textsafe's
// terminal rule, capped at maxShown bytes.
func show(s string) string { return textsafe.Shorten(s, maxShown) }

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
