package audit

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// DecodeError says why a record could not be decoded. Its text is the
// reason part of "file: line N: reason".
type DecodeError struct {
	Reason string
	// Framed says the row itself was framed whole: the reason is a
	// value that reads but cannot be used (an ambiguous locale date),
	// so no stray quote swallowed rows into it and a hint of one would
	// send the analyst looking for a broken file.
	Framed bool
}

func (e *DecodeError) Error() string { return e.Reason }

func decodeErr(format string, args ...any) error {
	return &DecodeError{Reason: fmt.Sprintf(format, args...)}
}

// framedErr is a DecodeError of a value that reads (an ambiguous date is
// a date, so its row was framed whole; see DecodeError.Framed).
func framedErr(format string, args ...any) error {
	return &DecodeError{Reason: fmt.Sprintf(format, args...), Framed: true}
}

// Decoder decodes records into Events. It keeps an arena for unescaped
// strings between calls, so one Decoder per goroutine.
type Decoder struct {
	arena []byte
	stack [MaxDepth]byte
	// envelope fallbacks, used when the inner record lacks them
	envID   []byte
	envTime []byte
	// masks are the bitmaps of the record being decoded, reused.
	masks masks
	// noMasks makes the decoder search strings byte by byte, as it did
	// before the bitmaps: the reference the fuzz test holds them to.
	noMasks bool
	// prepared is the data Prepare built masks for, until a decode uses it.
	prepared []byte
	// dates is what the locale dates of the file being decoded show of
	// their order (SetDates).
	dates localedate.Evidence
}

// scanner returns a scanner over data, with its bitmaps unless noMasks
// (built by Prepare, when it was called on this data just before).
func (d *Decoder) scanner(data []byte) scanner {
	if d.noMasks {
		return scanner{data: data}
	}
	prepared := len(d.prepared) == len(data) && len(data) > 0 && &d.prepared[0] == &data[0]
	d.prepared = nil
	if !prepared {
		d.masks.build(data)
	}
	return scanner{data: data, m: &d.masks}
}

// Prepare says whether data is valid UTF-8, which the decoders require of
// their input, and keeps the bitmaps it built on the way for the
// DecodeKeep or DecodeSignInKeep call that follows on the same data. The
// bitmaps' pass notes whether any byte is not ASCII, and most records are
// pure ASCII: for them the separate validation pass is saved (callgrind:
// 2.3 % of the engine's instructions). data must not change between the
// two calls; the next decode of anything else builds its own bitmaps.
func (d *Decoder) Prepare(data []byte) (validUTF8 bool) {
	if d.noMasks || len(data) == 0 {
		return utf8.Valid(data)
	}
	d.masks.build(data)
	if d.masks.ascii || utf8.Valid(data) {
		d.prepared = data
		return true
	}
	d.prepared = nil
	return false
}

// Decode fills ev from one record: a UAL record object, or an envelope
// holding one under AuditData / auditData (as an object or a JSON string):
// PowerShell's Search-UnifiedAuditLog objects and Graph auditLogRecords.
// Only the fields the engine needs are read; the others are skipped
// without being decoded. The input must be valid UTF-8 (the caller checks,
// once, for the whole record).
func (d *Decoder) Decode(data []byte, ev *Event) error {
	d.arena = d.arena[:0]
	return d.DecodeKeep(data, ev)
}

// DecodeKeep is Decode without reusing the arena: the byte fields of every
// Event decoded since the last ResetArena stay valid, so a caller can
// decode a whole batch first and use the events afterwards.
func (d *Decoder) DecodeKeep(data []byte, ev *Event) error {
	ev.Reset()
	d.envID, d.envTime = nil, nil
	s := d.scanner(data)
	inner, err := d.object(&s, ev, 0)
	if err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.data) {
		return decodeErr("unexpected %s after the record", s.what())
	}
	envID, envTime := d.envID, d.envTime
	if inner != nil {
		ev.Reset()
		// The outer scanner is done with the bitmaps.
		is := d.scanner(inner)
		if _, err := d.object(&is, ev, 1); err != nil {
			return fmt.Errorf("AuditData: %w", err)
		}
		is.ws()
		if is.i < len(is.data) {
			return decodeErr("AuditData: unexpected %s after the record", is.what())
		}
	}
	// Fallbacks from an envelope (PowerShell's Identity and CreationDate,
	// Graph's id and createdDateTime) or from Sentinel's renamed columns.
	if len(ev.ID) == 0 {
		ev.ID = envID
	}
	if ev.Time == 0 && envTime != nil {
		if t, ok := ParseTime(envTime); ok {
			ev.Time = t
		}
	}
	if ev.Time == 0 {
		return decodeErr("no CreationTime")
	}
	ev.User, ev.UserKind, d.arena = Canonical(ev.UserID, d.arena)
	return nil
}

// object decodes the fields of one record object. At level 0 it also
// notes an envelope's AuditData value and returns it (a JSON object, or
// the unescaped text of a JSON string) for a second pass.
func (d *Decoder) object(s *scanner, ev *Event, level int) (inner []byte, err error) {
	if err := s.starts('{', "record"); err != nil {
		return nil, err
	}
	s.i++
	userSharedWith := false
	for first := true; ; first = false {
		// Compact JSON has no whitespace: each byte is looked at once, and
		// ws runs only when one is blank. (Written out here and in fields
		// and array: as a method it is not inlined, +1.4% instructions.)
		if s.i >= len(s.data) {
			return nil, decodeErr("truncated record")
		}
		c := s.data[s.i]
		if c <= ' ' {
			s.ws()
			if s.i >= len(s.data) {
				return nil, decodeErr("truncated record")
			}
			c = s.data[s.i]
		}
		if c == '}' {
			s.i++
			return inner, nil
		}
		if !first {
			if c != ',' {
				return nil, decodeErr("expected ',' or '}' at byte %d, found %s", s.i, s.what())
			}
			s.i++
			if s.i < len(s.data) && s.data[s.i] <= ' ' {
				s.ws()
			}
		}
		// The common case inline (a plain name, then ':'); d.key handles
		// the rest and the errors.
		var key []byte
		var err error
		if s.m != nil && s.i < len(s.data) && s.data[s.i] == '"' {
			if q := s.m.next(s.i + 1); q >= 0 && s.data[q] == '"' && q+1 < len(s.data) && s.data[q+1] == ':' {
				key = s.data[s.i+1 : q]
				s.i = q + 2
				if s.i < len(s.data) && s.data[s.i] <= ' ' {
					s.ws()
				}
			}
		}
		if key == nil {
			if key, err = d.key(s); err != nil {
				return nil, err
			}
		}
		switch string(key) {
		case "Id":
			ev.ID, err = d.needString(s, "Id")
		case "CreationTime":
			var b []byte
			if b, err = d.needString(s, "CreationTime"); err == nil && b != nil {
				t, ok := ParseTime(b)
				if !ok {
					return nil, decodeErr(`CreationTime "%s" is not a time`, clip(b))
				}
				ev.Time = t
			}
		case "RecordType":
			ev.RecordType, err = d.intValue(s)
		case "UserType":
			ev.UserType, err = d.intValue(s)
		case "Operation":
			ev.Operation, err = d.needString(s, "Operation")
		case "Workload", "OfficeWorkload":
			ev.Workload, err = d.looseString(s)
		case "OrganizationId":
			ev.OrgID, err = d.lowerString(s)
		case "ActorContextId":
			ev.ActorTenant, err = d.lowerString(s)
		case "UserId":
			ev.UserID, err = d.needString(s, "UserId")
		case "UserKey":
			ev.UserKey, err = d.looseString(s)
		case "ClientIP", "ActorIpAddress", "ClientIPAddress", "ClientIp", "clientIp", "Client_IPAddress":
			var b []byte
			if b, err = d.looseString(s); err == nil {
				if a, ok := ParseIP(b); ok {
					ev.addIP(a)
				}
			}
		case "ApplicationId":
			ev.AppID, err = d.lowerString(s)
		case "ResultStatus":
			ev.ResultStatus, err = d.looseString(s)
		case "ResultStatusDetail":
			ev.ResultStatusDetail, err = d.looseString(s)
		case "LogonError":
			ev.LogonError, err = d.looseString(s)
		case "ErrorNumber", "ErrorCode":
			ev.ErrorNumber, err = d.scalarText(s)
		case "UserAgent":
			if ev.UserAgent, err = d.looseString(s); err == nil && len(ev.UserAgent) == 0 {
				ev.UserAgent = nil
			}
		case "ClientInfoString":
			var b []byte
			if b, err = d.looseString(s); err == nil && len(ev.UserAgent) == 0 {
				ev.UserAgent = b
			}
		case "ObjectId":
			ev.ObjectID, err = d.looseString(s)
		case "TargetUserOrGroupName":
			var b []byte
			if b, err = d.looseString(s); err == nil && len(b) > 0 {
				ev.Target = b
				userSharedWith = false
			}
		case "UserSharedWith":
			var b []byte
			if b, err = d.looseString(s); err == nil && len(b) > 0 && (len(ev.Target) == 0 || userSharedWith) {
				ev.Target = b
				userSharedWith = true
			}
		case "TargetUserOrGroupType":
			ev.TargetType, err = d.looseString(s)
		case "InterSystemsId":
			ev.InterSystemsID, err = d.lowerString(s)
		case "IntraSystemId":
			ev.IntraSystemID, err = d.lowerString(s)
		case "Actor":
			err = d.actors(s, ev)
		case "ExtendedProperties":
			err = d.extended(s, ev)
		case "AuditData", "auditData":
			if level > 0 {
				err = s.skip(d)
				break
			}
			inner, err = d.auditData(s)
		case "Identity", "id", "OfficeId":
			// OfficeId: the record id in Microsoft Sentinel's OfficeActivity
			// table, which renames some UAL columns.
			if level == 0 {
				d.envID, err = d.looseString(s)
			} else {
				err = s.skip(d)
			}
		case "CreationDate", "createdDateTime", "TimeGenerated":
			if level == 0 {
				d.envTime, err = d.looseString(s)
			} else {
				err = s.skip(d)
			}
		default:
			err = s.skip(d)
		}
		if err != nil {
			return nil, err
		}
	}
}

// ResetArena lets the decoder reuse the memory behind the events decoded
// with DecodeKeep; their byte fields must no longer be used.
func (d *Decoder) ResetArena() { d.arena = d.arena[:0] }

// auditData returns the record held by an envelope: the object's bytes, or
// a string's unescaped text; null or other scalars mean no record.
func (d *Decoder) auditData(s *scanner) ([]byte, error) {
	s.ws()
	if s.i >= len(s.data) {
		return nil, decodeErr("truncated record")
	}
	switch s.data[s.i] {
	case '{':
		start := s.i
		if err := s.skip(d); err != nil {
			return nil, err
		}
		return s.data[start:s.i], nil
	case '"':
		b, err := d.str(s)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, decodeErr("AuditData: invalid UTF-8")
		}
		return b, nil
	}
	return nil, decodeErr("AuditData is %s, not a record", s.what())
}

// actors reads Actor: [{"ID": "...", "Type": n}, ...].
func (d *Decoder) actors(s *scanner, ev *Event) error {
	return d.array(s, "Actor", func() error {
		var id []byte
		typ := -1
		err := d.fields(s, "Actor", func(k []byte) (err error) {
			switch string(k) {
			case "ID":
				id, err = d.looseString(s)
			case "Type":
				typ, err = d.intValue(s)
			default:
				err = s.skip(d)
			}
			return err
		})
		if err != nil {
			return err
		}
		if len(id) == 7 && (string(id) == "Unknown" || string(bytes.ToLower(id)) == "unknown") {
			ev.ActorUnknown = true
		} else if typ == 0 && ev.ActorObject == nil && isGUID(id) {
			ev.ActorObject = id
		}
		return nil
	})
}

// extended reads ExtendedProperties: [{"Name": "...", "Value": "..."}, ...]
// whose order varies from record to record, so entries are matched by Name.
func (d *Decoder) extended(s *scanner, ev *Event) error {
	return d.array(s, "ExtendedProperties", func() error {
		var name, value []byte
		err := d.fields(s, "ExtendedProperties", func(k []byte) (err error) {
			switch string(k) {
			case "Name":
				name, err = d.looseString(s)
			case "Value":
				value, err = d.looseString(s)
			default:
				err = s.skip(d)
			}
			return err
		})
		if err != nil {
			return err
		}
		switch string(name) {
		case "UserAgent":
			if len(value) > 0 {
				ev.UserAgent = value
			}
		case "ResultStatusDetail":
			ev.ResultStatusDetail = value
		}
		return nil
	})
}

// array calls elem for each element of an array of objects; other element
// types are skipped; null counts as empty.
func (d *Decoder) array(s *scanner, field string, elem func() error) error {
	s.ws()
	if s.i >= len(s.data) {
		return decodeErr("truncated record")
	}
	if s.data[s.i] != '[' {
		// A wrong type here is not worth losing the record over.
		return s.skip(d)
	}
	s.i++
	for first := true; ; first = false {
		if s.i >= len(s.data) {
			return decodeErr("%s: truncated array", field)
		}
		c := s.data[s.i]
		if c <= ' ' {
			s.ws()
			if s.i >= len(s.data) {
				return decodeErr("%s: truncated array", field)
			}
			c = s.data[s.i]
		}
		if c == ']' {
			s.i++
			return nil
		}
		if !first {
			if c != ',' {
				return decodeErr("%s: expected ',' or ']', found %s", field, s.what())
			}
			s.i++
			if s.i < len(s.data) && s.data[s.i] <= ' ' {
				s.ws()
			}
		}
		if s.i < len(s.data) && s.data[s.i] == '{' {
			if err := elem(); err != nil {
				return err
			}
		} else if err := s.skip(d); err != nil {
			return err
		}
	}
}

// fields walks one object, calling f with each key; f must consume the value.
func (d *Decoder) fields(s *scanner, field string, f func(key []byte) error) error {
	s.i++ // '{', checked by the caller
	for first := true; ; first = false {
		// As in object: ws only where a byte is blank.
		if s.i >= len(s.data) {
			return decodeErr("%s: truncated object", field)
		}
		c := s.data[s.i]
		if c <= ' ' {
			s.ws()
			if s.i >= len(s.data) {
				return decodeErr("%s: truncated object", field)
			}
			c = s.data[s.i]
		}
		if c == '}' {
			s.i++
			return nil
		}
		if !first {
			if c != ',' {
				return decodeErr("%s: expected ',' or '}', found %s", field, s.what())
			}
			s.i++
			if s.i < len(s.data) && s.data[s.i] <= ' ' {
				s.ws()
			}
		}
		k, err := d.key(s)
		if err != nil {
			return err
		}
		if err := f(k); err != nil {
			return err
		}
	}
}

// key reads `"name"` and the colon after it.
func (d *Decoder) key(s *scanner) ([]byte, error) {
	data := s.data
	if s.i >= len(data) || data[s.i] != '"' {
		return nil, decodeErr("expected a field name at byte %d, found %s", s.i, s.what())
	}
	// Field names are short and never escaped in practice: a plain loop
	// (without bitmaps) beats two IndexByte calls. Anything unusual takes
	// the general path.
	var k []byte
	if s.m != nil {
		if q := s.m.next(s.i + 1); q >= 0 && data[q] == '"' {
			k = data[s.i+1 : q]
			s.i = q + 1
		}
	} else {
		for j := s.i + 1; j < len(data) && j-s.i < 48; j++ {
			if c := data[j]; c == '"' {
				k = data[s.i+1 : j]
				s.i = j + 1
				break
			} else if c == '\\' {
				break
			}
		}
	}
	if k == nil {
		var err error
		if k, err = d.str(s); err != nil {
			return nil, err
		}
	}
	if s.i < len(data) && data[s.i] == ':' {
		s.i++
		s.ws()
		return k, nil
	}
	s.ws()
	if s.i >= len(s.data) || s.data[s.i] != ':' {
		return nil, decodeErr(`expected ':' after field "%s", found %s`, clip(k), s.what())
	}
	s.i++
	s.ws()
	return k, nil
}

// needString reads a string field that must be a string (or null).
func (d *Decoder) needString(s *scanner, field string) ([]byte, error) {
	if s.i >= len(s.data) {
		return nil, decodeErr("truncated record")
	}
	{
		switch c := s.data[s.i]; {
		case c == '"':
			return d.str(s)
		case c == 'n':
			return nil, s.skip(d)
		}
	}
	return nil, decodeErr("field %s is %s, not a string", field, s.what())
}

// looseString reads a string; any other type is skipped and reads as nil,
// because a wrong type in a field the verdict barely uses should not cost
// the whole record.
func (d *Decoder) looseString(s *scanner) ([]byte, error) {
	if s.i < len(s.data) && s.data[s.i] == '"' {
		return d.str(s)
	}
	return nil, s.skip(d)
}

// lowerString reads a string and lower-cases it (tenant and app GUIDs are
// compared case-insensitively); already-lower input is not copied.
func (d *Decoder) lowerString(s *scanner) ([]byte, error) {
	b, err := d.looseString(s)
	if err != nil || b == nil {
		return b, err
	}
	if isLower(b) {
		return b, nil
	}
	start := len(d.arena)
	d.arena = appendLower(d.arena, b)
	return d.arena[start:], nil
}

// scalarText reads a string or a number as text (ErrorNumber is a string
// in the UAL but a number in some pipelines).
func (d *Decoder) scalarText(s *scanner) ([]byte, error) {
	if s.i >= len(s.data) {
		return nil, decodeErr("truncated record")
	}
	c := s.data[s.i]
	if c == '"' {
		return d.str(s)
	}
	if c == '-' || ('0' <= c && c <= '9') {
		start := s.i
		err := s.skip(d)
		return s.data[start:s.i], err
	}
	return nil, s.skip(d)
}

// intValue reads an integer, or a string of digits; anything else is -1.
func (d *Decoder) intValue(s *scanner) (int, error) {
	b, err := d.scalarText(s)
	if err != nil || len(b) == 0 || len(b) > 10 {
		return -1, err
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1, nil
		}
		n = n*10 + int(c-'0')
	}
	if len(b) == 0 {
		return -1, nil
	}
	if neg {
		n = -n
	}
	return n, nil
}

// isGUID reports whether b has the 8-4-4-4-12 hex shape. It runs for
// every sign-in's Actor: the digits are checked through a table, without
// a branch per byte.
func isGUID(b []byte) bool {
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return false
	}
	g := (*[36]byte)(b)
	var bad uint8
	for _, p := range guidDigitAt {
		bad |= notHex[g[p]]
	}
	return bad == 0
}

// guidDigitAt are the positions of a GUID's 32 hex digits.
var guidDigitAt = func() (t [32]uint8) {
	n := 0
	for i := range 36 {
		if i != 8 && i != 13 && i != 18 && i != 23 {
			t[n] = uint8(i)
			n++
		}
	}
	return t
}()

// notHex is 1 for every byte that is not an ASCII hex digit.
var notHex = func() (t [256]uint8) {
	for c := range t {
		if !(('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')) {
			t[c] = 1
		}
	}
	return t
}()

// IsGUID reports whether s has the 8-4-4-4-12 hex shape of a GUID.
func IsGUID(s []byte) bool { return isGUID(s) }

// clip shortens a value quoted in an error message: records are
// attacker-controlled and messages should stay one readable line. The
// value is quoted as it is, not with %q: whoever shows the message
// escapes it once, by textsafe's rule (escaping it here too would show a
// real escape character as the literal text of one).
func clip(b []byte) string {
	const max = 60
	if len(b) > max {
		b = b[:max]
		return string(b) + "…"
	}
	return string(b)
}

// ErrInvalidUTF8 is returned by Check for a record that is not UTF-8.
var ErrInvalidUTF8 = errors.New("invalid UTF-8")
