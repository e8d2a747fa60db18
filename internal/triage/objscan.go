package triage

import (
	"encoding/json"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
)

// A faster reading of a UAL record's object fields, for a store that
// reads them for every record at load (Decoded.Objects): encoding/json
// costs about 15 µs a record there, several times the rest of the load.
// scanObjects walks the text once, checking it as encoding/json would,
// and takes the values of the top-level keys ualFields reads; whatever it
// is not sure to read as encoding/json does (an escaped or non-ASCII key,
// an envelope's AuditData, a text that is not an object, deep nesting) it
// leaves to ualObjects, so the two agree (FuzzScanObjects).

// maxScanDepth bounds the nesting scanned, well under encoding/json's
// limit (10,000), so that deeper text is left to it whichever way each
// counts the levels.
const maxScanDepth = 1000

// scanFields indexes the values scanObjects takes, by key.
const (
	scanSite = iota
	scanObjectID
	scanRelURL
	scanFileName
	scanOwner
	scanTeam
	scanChannel
	scanFolders
	scanItem
	scanFieldCount
)

var scanKeys = [scanFieldCount]string{"SiteUrl", "ObjectId", "SourceRelativeUrl", "SourceFileName", "MailboxOwnerUPN",
	"TeamName", "ChannelName", "Folders", "Item"}

// recordObjects reads a UAL record's object fields: scanObjects, or
// ualObjects where it cannot tell.
func recordObjects(js []byte) (ObjectFields, error) {
	if o, ok, err := scanObjects(js); ok {
		return o, err
	}
	return ualObjects(js, 0)
}

// scanObjects reads js as ualObjects does; ok false means it cannot tell
// and ualObjects must. A text encoding/json rejects names nothing (err).
func scanObjects(js []byte) (o ObjectFields, ok bool, err error) {
	s := objScanner{data: js}
	s.space()
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return o, false, nil
	}
	var vals [scanFieldCount][]byte
	unsure := false
	valid := s.seq('}', func() bool {
		key, val, ok := s.member(1)
		if !ok {
			return false
		}
		for _, c := range key {
			if c == '\\' || c >= 0x80 {
				unsure = true // encoding/json unescapes and folds keys
				return false
			}
		}
		if asciiEqualFold(key, "AuditData") {
			unsure = true // an envelope
			return false
		}
		for f, name := range scanKeys {
			if asciiEqualFold(key, name) {
				vals[f] = val // the last of repeated keys, as encoding/json
				break
			}
		}
		return true
	})
	if unsure || s.deep {
		return o, false, nil
	}
	if !valid {
		return o, true, errNotJSON
	}
	s.space()
	if s.i != len(s.data) {
		return o, true, errNotJSON
	}
	o = ObjectFields{
		SiteURL: scanString(vals[scanSite]), ObjectID: scanString(vals[scanObjectID]),
		RelativeURL: scanString(vals[scanRelURL]), FileName: scanString(vals[scanFileName]),
		Owner: scanString(vals[scanOwner]), Team: scanString(vals[scanTeam]), Channel: scanString(vals[scanChannel]),
	}
	if vals[scanFolders] != nil || vals[scanItem] != nil {
		o.Folders = exchangeFolders(vals[scanFolders], vals[scanItem])
	}
	return o, true, nil
}

// errNotJSON is a text encoding/json would reject.
var errNotJSON = &json.SyntaxError{}

// scanString is jsonString of a value scanned: without escapes, its text.
func scanString(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			return jsonString(v) // escapes, and invalid UTF-8 made U+FFFD
		}
	}
	return strings.TrimSpace(string(inner))
}

// objScanner checks JSON text as encoding/json's scanner does.
type objScanner struct {
	data []byte
	i    int
	// deep: nesting past maxScanDepth, left to encoding/json.
	deep bool
}

func (s *objScanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *objScanner) space() { s.i = audit.SkipSpace(s.data, s.i) }

// str scans a string at s.i.
func (s *objScanner) str() bool {
	if s.peek() != '"' {
		return false
	}
	s.i++
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.data) {
				return false
			}
			switch s.data[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.data) {
					return false
				}
				for _, h := range s.data[s.i+1 : s.i+5] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// asciiEqualFold compares an ASCII key with a name, ignoring case.
func asciiEqualFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		n := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= n && n <= 'Z' {
			n += 'a' - 'A'
		}
		if c != n {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// value scans any value at s.i, depth levels deep.
func (s *objScanner) value(depth int) bool {
	if depth > maxScanDepth {
		s.deep = true
		return false
	}
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == '{':
		return s.seq('}', func() bool {
			_, _, ok := s.member(depth + 1)
			return ok
		})
	case c == '[':
		return s.seq(']', func() bool { return s.value(depth + 1) })
	case c == '-' || isDigit(c):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

// seq scans an object's members or an array's values, each with item,
// from its opening byte at s.i to its closing one.
func (s *objScanner) seq(closing byte, item func() bool) bool {
	s.i++
	s.space()
	if s.peek() == closing {
		s.i++
		return true
	}
	for {
		s.space()
		if !item() {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case closing:
			s.i++
			return true
		default:
			return false
		}
	}
}

// member scans `"key": value` at s.i, the value depth levels deep.
func (s *objScanner) member(depth int) (key, val []byte, ok bool) {
	k0 := s.i
	if !s.str() {
		return nil, nil, false
	}
	key = s.data[k0+1 : s.i-1]
	s.space()
	if s.peek() != ':' {
		return nil, nil, false
	}
	s.i++
	s.space()
	v0 := s.i
	if !s.value(depth) {
		return nil, nil, false
	}
	return key, s.data[v0:s.i], true
}

func (s *objScanner) literal(w string) bool {
	if len(s.data)-s.i >= len(w) && string(s.data[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// number scans -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *objScanner) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		for isDigit(s.peek()) {
			s.i++
		}
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if !isDigit(s.peek()) {
			return false
		}
		for isDigit(s.peek()) {
			s.i++
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !isDigit(s.peek()) {
			return false
		}
		for isDigit(s.peek()) {
			s.i++
		}
	}
	return true
}
