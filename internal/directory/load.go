package directory

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// maxProblems caps the problems kept for one file: a file that is not an
// export at all could otherwise yield one per line. The rest are counted
// in a last Problem.
const maxProblems = 1000

// Load reads a Graph /users export or the portal's "Download users" CSV;
// the format is sniffed from the content, never the file name:
//
//   - JSON: objects with a "value" array as GET /users returns them (one
//     page, or several pages concatenated or one per line), a bare JSON
//     array of users, or JSON Lines of user objects; keys are matched
//     case-insensitively, so PowerShell's PascalCase (Get-MgUser |
//     ConvertTo-Json) reads too;
//   - CSV: a header row naming a userPrincipalName column, in any of the
//     spellings csv.go lists; comma, semicolon or tab separated.
//
// Either may be UTF-8 with or without a byte-order mark, or UTF-16 (LE or
// BE) with one (PowerShell's default encoding), with CRLF or LF line ends.
//
// Bad records are skipped and reported through the returned []Problem
// (file, line, reason), as are fields of the wrong type (the field is
// dropped, the account kept: it exists whatever its other fields say).
// Nothing is fatal unless nothing at all is readable: then the error names
// the file and why.
func Load(path string) (*Directory, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err // *fs.PathError: names the file and why
	}
	return load(path, data)
}

// loader is the state of one Load.
type loader struct {
	path     string
	text     []byte
	lines    lineIndex
	entries  []Entry
	problems []Problem
	dropped  int
	// fatal, when set, is why the file as a whole cannot be read.
	fatal string
}

// load is Load on bytes already read; path only names them.
func load(path string, raw []byte) (*Directory, []Problem, error) {
	l := &loader{path: path}
	if why := notText(raw); why != "" {
		return nil, nil, fmt.Errorf("%s: %s", path, why)
	}
	text, warn := decodeText(raw)
	l.text = text
	if warn != "" {
		l.problem(0, "%s", warn)
	}
	start := skipSpace(text, 0)
	if start == len(text) {
		if len(raw) == 0 {
			return nil, l.problems, fmt.Errorf("%s: empty file", path)
		}
		return nil, l.problems, fmt.Errorf("%s: nothing but white space", path)
	}
	if i := bytes.IndexByte(text[:min(len(text), 64<<10)], 0); i >= 0 {
		return nil, l.problems, fmt.Errorf("%s: binary data, not a users export (a NUL byte at offset %d; UTF-16 text without a byte-order mark reads as this too)", path, i)
	}
	l.lines = newLineIndex(text)
	if c := text[start]; c == '{' || c == '[' {
		l.readJSON(text)
	} else {
		l.readCSV(text)
	}
	if l.dropped > 0 {
		l.problems = append(l.problems, Problem{Path: path, Reason: fmt.Sprintf("%d more problems not listed", l.dropped)})
	}
	if l.fatal != "" {
		return nil, l.problems, fmt.Errorf("%s: %s", path, l.fatal)
	}
	if len(l.entries) == 0 {
		why := "no user record could be read"
		for _, p := range l.problems {
			if p.Line > 0 {
				why += fmt.Sprintf(" (%d problems; the first, line %d: %s)", len(l.problems), p.Line, p.Reason)
				break
			}
		}
		return nil, l.problems, fmt.Errorf("%s: %s", path, why)
	}
	return newDirectory(l.entries), l.problems, nil
}

// problem records a Problem at line (0: the whole file).
func (l *loader) problem(line int, format string, args ...any) {
	if len(l.problems) >= maxProblems {
		l.dropped++
		return
	}
	l.problems = append(l.problems, Problem{Path: l.path, Line: line, Reason: fmt.Sprintf(format, args...)})
}

// notText recognises the containers people mistake for an export, so the
// error says what to do instead of "no header".
func notText(raw []byte) string {
	switch {
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		return "gzip-compressed; decompress it first"
	case bytes.HasPrefix(raw, []byte("PK\x03\x04")):
		return "a zip archive (an Excel .xlsx workbook?); save or extract it as CSV"
	}
	return ""
}

// decodeText strips a byte-order mark and converts UTF-16 to UTF-8, so
// that the readers only ever see UTF-8. warn describes damage repaired on
// the way (an odd trailing byte).
func decodeText(raw []byte) (text []byte, warn string) {
	switch {
	case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
		text = raw[3:]
	case bytes.HasPrefix(raw, []byte{0xFF, 0xFE}):
		text, warn = utf16ToUTF8(raw[2:], false)
	case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}):
		text, warn = utf16ToUTF8(raw[2:], true)
	default:
		text = raw
	}
	// Files concatenated with cat or copy /b keep each part's mark at the
	// start of a line, where neither JSON nor CSV allows it: drop them
	// (line numbers are unchanged, only the mark's bytes go).
	if bom := []byte("\n\uFEFF"); bytes.Contains(text, bom) {
		text = bytes.ReplaceAll(text, bom, []byte("\n"))
	}
	return text, warn
}

// utf16ToUTF8 transcodes; unpaired surrogates become U+FFFD, as
// encoding/json would make them.
func utf16ToUTF8(b []byte, bigEndian bool) ([]byte, string) {
	warn := ""
	if len(b)%2 == 1 {
		warn = "UTF-16 text ends with an odd byte (dropped): the file is probably truncated"
		b = b[:len(b)-1]
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
	}
	out := make([]byte, 0, len(units)+len(units)/8)
	for _, r := range utf16.Decode(units) {
		out = utf8.AppendRune(out, r)
	}
	return out, warn
}

// isSpace is JSON's white space, plus the form feed and vertical tab a
// hand-edited file may hold.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// skipSpace returns the offset of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // start offset of each line

// newLineIndex finds where every line of b starts.
func newLineIndex(b []byte) lineIndex {
	idx := lineIndex{0}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return idx
		}
		i += j + 1
		idx = append(idx, i)
	}
}

// line is the 1-based line holding offset off.
func (x lineIndex) line(off int) int {
	i, found := slices.BinarySearch(x, off)
	if found {
		return i + 1
	}
	return i
}

// start is the offset where 1-based line n starts, or -1 past the end.
func (x lineIndex) start(n int) int {
	if n < 1 || n > len(x) {
		return -1
	}
	return x[n-1]
}
