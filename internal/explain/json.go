package explain

import (
	"fmt"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kObject
	kArray
)

func (k kind) String() string {
	switch k {
	case kNull:
		return "null"
	case kBool:
		return "a boolean"
	case kNumber:
		return "a number"
	case kString:
		return "a string"
	case kObject:
		return "an object"
	}
	return "an array"
}

// value is one JSON value. The walk needs what encoding/json throws away:
// the order of an object's fields, repeated field names, and the raw bytes
// of strings that are not valid UTF-8 (shown escaped, not replaced), so
// the package parses the record itself.
type value struct {
	kind    kind
	text    string         // string contents (unescaped), number text, "true"/"false"
	members []member       // object fields, in the record's order
	elems   []*value       // array elements
	index   map[string]int // last member by name, built on demand for big objects
}

// indexFrom is the object size from which get uses a map: a hostile
// record with 100,000 fields must not make every lookup a scan.
const indexFrom = 16

type member struct {
	name string
	val  *value
}

// get returns the last field called name: the one the audit decoder
// keeps, since it overwrites as it reads.
func (v *value) get(name string) *value {
	if v == nil || v.kind != kObject {
		return nil
	}
	if len(v.members) >= indexFrom {
		if v.index == nil {
			v.index = make(map[string]int, len(v.members))
			for i, m := range v.members {
				v.index[m.name] = i
			}
		}
		if i, ok := v.index[name]; ok {
			return v.members[i].val
		}
		return nil
	}
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].name == name {
			return v.members[i].val
		}
	}
	return nil
}

// str returns the field as text when it is a string or a number, else "".
func (v *value) str(name string) string { return v.get(name).asText() }

// asText is v's text when v is a string or a number, else "" (v nil
// included).
func (v *value) asText() string {
	if v == nil || (v.kind != kString && v.kind != kNumber) {
		return ""
	}
	return v.text
}

// scalar returns a scalar value as text, and false for containers.
func (v *value) scalar() (string, bool) {
	switch v.kind {
	case kString, kNumber, kBool:
		return v.text, true
	case kNull:
		return "null", true
	}
	return "", false
}

// syntaxError is a parse failure; its text names the byte offset so a
// user can find the fault in a long record.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

type parser struct {
	data []byte
	i    int
	buf  []byte // string contents being unescaped, reused
}

// parseJSON parses one JSON value that must fill data (white space aside).
func parseJSON(data []byte) (*value, error) {
	p := &parser{data: data}
	p.ws()
	if p.i >= len(p.data) {
		return nil, &syntaxError{"no JSON value", p.i}
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.data) {
		return nil, &syntaxError{"unexpected " + p.what() + " after the value", p.i}
	}
	return v, nil
}

func (p *parser) ws() { p.i = audit.SkipSpace(p.data, p.i) }

// what describes the byte at the cursor for an error message, without
// echoing an attacker's control bytes.
func (p *parser) what() string {
	if p.i >= len(p.data) {
		return "end of input"
	}
	c := p.data[p.i]
	if c > 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) fail(msg string) error { return &syntaxError{msg, p.i} }

func (p *parser) value(depth int) (*value, error) {
	if p.i >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.data[p.i]; {
	case c == '{':
		if depth >= audit.MaxDepth {
			return nil, p.fail(fmt.Sprintf("nested deeper than %d levels", audit.MaxDepth))
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= audit.MaxDepth {
			return nil, p.fail(fmt.Sprintf("nested deeper than %d levels", audit.MaxDepth))
		}
		return p.array(depth + 1)
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &value{kind: kString, text: s}, nil
	case c == 't':
		return p.literal("true", kBool)
	case c == 'f':
		return p.literal("false", kBool)
	case c == 'n':
		return p.literal("null", kNull)
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	return nil, p.fail("unexpected " + p.what())
}

func (p *parser) literal(lit string, k kind) (*value, error) {
	if !strings.HasPrefix(string(p.data[p.i:min(len(p.data), p.i+len(lit))]), lit) {
		return nil, p.fail("invalid literal")
	}
	p.i += len(lit)
	return &value{kind: k, text: lit}, nil
}

// number checks the JSON number grammar and keeps the text as written.
func (p *parser) number() (*value, error) {
	start := p.i
	d := p.data
	digits := func() int {
		n := 0
		for p.i < len(d) && '0' <= d[p.i] && d[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if d[p.i] == '-' {
		p.i++
	}
	if p.i < len(d) && d[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.fail("invalid number")
	}
	if p.i < len(d) && d[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.fail("invalid number")
		}
	}
	if p.i < len(d) && (d[p.i] == 'e' || d[p.i] == 'E') {
		p.i++
		if p.i < len(d) && (d[p.i] == '+' || d[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.fail("invalid number")
		}
	}
	return &value{kind: kNumber, text: string(d[start:p.i])}, nil
}

// string reads a JSON string at the cursor. It unescapes as the audit
// decoder does (audit.AppendEscape): it lets raw control characters and
// invalid UTF-8 through (the terminal escaper shows them) and turns a lone
// surrogate escape into U+FFFD.
func (p *parser) string() (string, error) {
	p.i++ // opening quote
	p.buf = p.buf[:0]
	d := p.data
	for {
		start := p.i
		for p.i < len(d) && d[p.i] != '"' && d[p.i] != '\\' {
			p.i++
		}
		p.buf = append(p.buf, d[start:p.i]...)
		if p.i >= len(d) {
			return "", p.fail("unterminated string")
		}
		if d[p.i] == '"' {
			p.i++
			return string(p.buf), nil
		}
		var bad audit.EscapeFault
		if p.buf, p.i, bad = audit.AppendEscape(p.buf, d, p.i); bad != audit.EscapeOK {
			switch bad {
			case audit.EscapeBadU:
				return "", p.fail(`bad \u escape`)
			case audit.EscapeUnknown:
				return "", p.fail("bad escape in string")
			}
			p.i = len(d)
			return "", p.fail("unterminated string")
		}
	}
}

func (p *parser) object(depth int) (*value, error) {
	v := &value{kind: kObject}
	if p.empty('}') {
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.fail("expected a field name, found " + p.what())
		}
		name, err := p.string()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, p.fail("expected ':' after a field name, found " + p.what())
		}
		p.i++
		p.ws()
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, member{name, val})
		if done, err := p.separator('}', "object"); err != nil {
			return nil, err
		} else if done {
			return v, nil
		}
	}
}

func (p *parser) array(depth int) (*value, error) {
	v := &value{kind: kArray}
	if p.empty(']') {
		return v, nil
	}
	for {
		p.ws()
		el, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, el)
		if done, err := p.separator(']', "array"); err != nil {
			return nil, err
		} else if done {
			return v, nil
		}
	}
}

// empty passes a container's opening bracket, and its closing one, end,
// when that follows at once.
func (p *parser) empty(end byte) bool {
	p.i++
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == end {
		p.i++
		return true
	}
	return false
}

// separator passes what follows a member or element of a container
// (object or array, closed by end): a comma, or end itself (done).
func (p *parser) separator(end byte, container string) (done bool, err error) {
	p.ws()
	if p.i >= len(p.data) {
		return false, p.fail("unterminated " + container)
	}
	switch p.data[p.i] {
	case ',':
		p.i++
		return false, nil
	case end:
		p.i++
		return true, nil
	}
	return false, p.fail("expected ',' or '" + string(end) + "', found " + p.what())
}
