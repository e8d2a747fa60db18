package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrNotReport is returned by DecodeReport for input that is not an
// outsider/triage/v1 report, whatever the reason (not JSON, truncated,
// another schema, a field of the wrong type).
var ErrNotReport = errors.New("not an outsider triage report")

// DecodeReport reads a whole report written by 'outsider triage --format
// json'. A report is read back by commands that compare or follow it up,
// and a file handed to them may be anything: a truncated copy, another
// tool's JSON, a hand-edited report. So the error says where (line and
// column) and what is wrong, wraps ErrNotReport, and nothing of a
// document that is not a v1 report is ever returned. Two identities with
// the same user are refused: the engine writes one per user, and a
// comparison keyed by user would otherwise pick one silently.
func DecodeReport(data []byte) (*Report, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotReport)
	}
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the offending one included;
			// at the end of the input there is no offending byte.
			if end := int64(len(bytes.TrimRight(data, " \t\r\n"))); se.Offset >= end {
				line, col := position(data, end)
				return nil, fmt.Errorf("%w: truncated JSON: the document ends early at line %d, column %d", ErrNotReport, line, col)
			}
			line, col := position(data, se.Offset-1)
			return nil, fmt.Errorf("%w: invalid JSON at line %d, column %d: %s", ErrNotReport, line, col, se.Error())
		}
		return nil, fmt.Errorf("%w: %v", ErrNotReport, err)
	}
	obj, ok := probe.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is %s, not a JSON object", ErrNotReport, jsonKind(probe))
	}
	switch s, present := obj["schema"]; {
	case !present:
		return nil, fmt.Errorf("%w: no \"schema\" field (want %q)", ErrNotReport, Schema)
	case s != Schema:
		return nil, fmt.Errorf("%w: schema %s, want %q", ErrNotReport, quoteJSON(s), Schema)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// Offset is just past the value: point at its last byte.
			line, col := position(data, te.Offset-1)
			return nil, fmt.Errorf("%w: line %d, column %d: %s is JSON %s, want %s", ErrNotReport, line, col, fieldName(te), te.Value, te.Type)
		}
		return nil, fmt.Errorf("%w: %v", ErrNotReport, err)
	}
	seen := make(map[string]int, len(rep.Identities))
	for i, id := range rep.Identities {
		if j, dup := seen[id.User]; dup {
			return nil, fmt.Errorf("%w: identities[%d] and identities[%d] are both user %s", ErrNotReport, j, i, quoteJSON(id.User))
		}
		seen[id.User] = i
	}
	return &rep, nil
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}

func fieldName(te *json.UnmarshalTypeError) string {
	if te.Field == "" {
		return "the document"
	}
	return "field " + te.Field
}

// quoteJSON shows a value from the file the way JSON writes it, with
// every non-ASCII rune escaped too, so that whatever it holds (control
// characters, bidi overrides, line separators) stays one line of plain
// ASCII in an error message; cut at 80 bytes.
func quoteJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "(unprintable)"
	}
	var sb strings.Builder
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf:
			sb.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&sb, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	const maxLen = 80
	if s := sb.String(); len(s) > maxLen {
		return s[:maxLen] + "..."
	}
	return sb.String()
}
