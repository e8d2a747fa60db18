// The JSON scanning both JSON readers of the project share: the audit
// decoders here, and explain's parser, which keeps what the decoders throw
// away. One depth limit, one string unescaper, so that a record explain
// shows is read by the rules the decoders judged it by.

package audit

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth caps nesting inside a record. UAL records nest three or four
// levels; a deeper one is corrupt or hostile.
const MaxDepth = 512

// EscapeFault says what is wrong with a string escape (EscapeOK: nothing).
type EscapeFault uint8

const (
	// EscapeOK is a valid escape.
	EscapeOK EscapeFault = iota
	// EscapeTruncated is a backslash that ends the input.
	EscapeTruncated
	// EscapeBadU is a \u not followed by four hex digits.
	EscapeBadU
	// EscapeUnknown is a backslash before a byte JSON does not escape.
	EscapeUnknown
)

// AppendEscape appends to dst what the escape at data[i] (a backslash)
// stands for, and returns the position after it. A \u escape of half a
// surrogate pair takes the other half when the next escape is one, and is
// U+FFFD otherwise, as encoding/json does. On a fault dst and i come back
// unchanged, so the caller can name the byte at data[i+1].
func AppendEscape(dst, data []byte, i int) ([]byte, int, EscapeFault) {
	if i+1 >= len(data) {
		return dst, i, EscapeTruncated
	}
	switch e := data[i+1]; e {
	case '"', '\\', '/':
		return append(dst, e), i + 2, EscapeOK
	case 'b':
		return append(dst, '\b'), i + 2, EscapeOK
	case 'f':
		return append(dst, '\f'), i + 2, EscapeOK
	case 'n':
		return append(dst, '\n'), i + 2, EscapeOK
	case 'r':
		return append(dst, '\r'), i + 2, EscapeOK
	case 't':
		return append(dst, '\t'), i + 2, EscapeOK
	case 'u':
		r, ok := hex4(data, i+2)
		if !ok {
			return dst, i, EscapeBadU
		}
		j := i + 6
		if utf16.IsSurrogate(r) {
			dec := utf8.RuneError
			if j+6 <= len(data) && data[j] == '\\' && data[j+1] == 'u' {
				if r2, ok := hex4(data, j+2); ok {
					if x := utf16.DecodeRune(r, r2); x != utf8.RuneError {
						dec = x
						j += 6
					}
				}
			}
			r = dec
		}
		return utf8.AppendRune(dst, r), j, EscapeOK
	}
	return dst, i, EscapeUnknown
}

// str reads a JSON string at s.i (which is '"'). Strings without escapes
// are returned as a view of the input; others are unescaped into the arena.
func (d *Decoder) str(s *scanner) ([]byte, error) {
	start := s.i + 1
	if s.m != nil {
		q := s.m.next(start)
		if q < 0 {
			return nil, decodeErr("unterminated string")
		}
		if s.data[q] == '"' {
			s.i = q + 1
			return s.data[start:q], nil
		}
		// An escape at q: unescape from there, the bytes before it
		// copied as they are (the search above already passed them).
		// A string that never closes is reported as such whatever its
		// escapes, as the general path below does: unescape fails on
		// it, and then its verdict is replaced.
		at := len(d.arena)
		d.arena = append(d.arena, s.data[start:q]...)
		b, err := d.unescapeAt(s, q, at)
		if err != nil && bytes.IndexByte(s.data[start:], '"') < 0 {
			return nil, decodeErr("unterminated string")
		}
		return b, err
	}
	rest := s.data[start:]
	q := bytes.IndexByte(rest, '"')
	if q < 0 {
		return nil, decodeErr("unterminated string")
	}
	if bytes.IndexByte(rest[:q], '\\') < 0 {
		s.i = start + q + 1
		return rest[:q], nil
	}
	return d.unescape(s)
}

func (d *Decoder) unescape(s *scanner) ([]byte, error) {
	return d.unescapeAt(s, s.i+1, len(d.arena))
}

// unescapeAt unescapes the rest of the string at s.i from data[i] on
// into the arena, whose text from start on is the string's so far.
func (d *Decoder) unescapeAt(s *scanner, i, start int) ([]byte, error) {
	data := s.data
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			s.i = i + 1
			return d.arena[start:], nil
		case c == '\\' && i+1 < len(data) && (data[i+1] == '/' || data[i+1] == '\\' || data[i+1] == '"'):
			// The usual escapes (URLs' "\/"), without AppendEscape's call.
			d.arena = append(d.arena, data[i+1])
			i += 2
			continue
		case c != '\\':
			j := i + 1
			if s.m != nil {
				if j = s.m.next(j); j < 0 {
					j = len(data)
				}
			} else {
				for j < len(data) && data[j] != '"' && data[j] != '\\' {
					j++
				}
			}
			d.arena = append(d.arena, data[i:j]...)
			i = j
			continue
		}
		var bad EscapeFault
		if d.arena, i, bad = AppendEscape(d.arena, data, i); bad != EscapeOK {
			switch bad {
			case EscapeBadU:
				return nil, decodeErr("bad \\u escape in string")
			case EscapeUnknown:
				return nil, decodeErr("bad escape \\%c in string", data[i+1])
			}
			break // EscapeTruncated
		}
	}
	return nil, decodeErr("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scanner is a cursor over one record's bytes.
type scanner struct {
	data []byte
	i    int
	// m, when set, holds data's quote and backslash bitmaps (see masks).
	m *masks
}

func (s *scanner) ws() {
	// Every whitespace byte is <= ' ': one comparison settles the usual
	// case (compact JSON, no whitespace at all).
	if s.i < len(s.data) && s.data[s.i] > ' ' {
		return
	}
	s.i = SkipSpace(s.data, s.i)
}

// SkipSpace returns the offset of the first byte of data at or after i
// that is not JSON white space (space, tab, CR, LF): the one definition of
// white space for the decoder and for explain's parser.
func SkipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// starts checks that what is at the cursor, after white space, opens a
// JSON object (c '{') or array (c '['), as a record or row (noun) must,
// and leaves the cursor on c; the error says what is there instead.
func (s *scanner) starts(c byte, noun string) error {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == c {
		return nil
	}
	if s.i >= len(s.data) {
		return decodeErr("empty %s", noun)
	}
	kind := "object"
	if c == '[' {
		kind = "array"
	}
	return decodeErr("%s is not a JSON %s (starts with %s)", noun, kind, s.what())
}

// what describes the byte at the cursor for error messages.
func (s *scanner) what() string {
	if s.i >= len(s.data) {
		return "end of record"
	}
	c := s.data[s.i]
	if k := ValueKind(c); k != "" {
		return k
	}
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// ValueKind names, for messages, the JSON type of a value that starts with
// byte c ("an object", "a number", ...), and is "" when no JSON value
// starts with c.
func ValueKind(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || ('0' <= c && c <= '9'):
		return "a number"
	}
	return ""
}

var errTooDeep = &DecodeError{Reason: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}

// structural marks the bytes that matter while skipping a container.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skip passes over one value without decoding it. Containers are walked
// iteratively with an explicit stack (a hostile record can nest 100,000
// levels), checking that brackets match.
func (s *scanner) skip(d *Decoder) error {
	if s.i >= len(s.data) {
		return decodeErr("truncated record")
	}
	switch c := s.data[s.i]; c {
	case '"':
		return s.skipString()
	case '{', '[':
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			j := s.i + 1
			for j < len(s.data) {
				c := s.data[j]
				if ('0' <= c && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
					j++
					continue
				}
				break
			}
			s.i = j
			return nil
		}
		return decodeErr("unexpected %s", s.what())
	}
	if s.m != nil {
		if end, ok := s.m.skipContainer(s.data, s.i, &d.stack); ok {
			s.i = end
			return nil
		}
	}
	depth := 0
	data := s.data
	i := s.i
	for i < len(data) {
		c := data[i]
		if !structural[c] {
			if s.m == nil {
				i++
				continue
			}
			// Straight to the next quote or bracket.
			if i = s.m.nextStructural(i); i < 0 {
				break
			}
			c = data[i]
		}
		switch c {
		case '"':
			s.i = i
			if err := s.skipString(); err != nil {
				return err
			}
			i = s.i
			continue
		case '{', '[':
			if depth >= MaxDepth {
				return errTooDeep
			}
			d.stack[depth] = c
			depth++
		case '}', ']':
			want := byte('{')
			if c == ']' {
				want = '['
			}
			if depth == 0 || d.stack[depth-1] != want {
				s.i = i
				return decodeErr("mismatched %q", string(c))
			}
			depth--
			if depth == 0 {
				s.i = i + 1
				return nil
			}
		}
		i++
	}
	return decodeErr("truncated record")
}

func (s *scanner) skipString() error {
	i := s.i + 1
	if s.m != nil {
		q := s.m.next(i)
		if q < 0 {
			return decodeErr("unterminated string")
		}
		if s.data[q] == '"' {
			s.i = q + 1
			return nil
		}
	}
	for {
		q := bytes.IndexByte(s.data[i:], '"')
		if q < 0 {
			return decodeErr("unterminated string")
		}
		j := i + q
		// An escaped quote is preceded by an odd number of backslashes.
		n := 0
		for k := j - 1; k >= i && s.data[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			s.i = j + 1
			return nil
		}
		i = j + 1
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return decodeErr("invalid literal")
	}
	s.i += len(lit)
	return nil
}
