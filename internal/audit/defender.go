package audit

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Microsoft Defender XDR advanced hunting keeps the Microsoft 365 audit
// log in its CloudAppEvents table
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-cloudappevents-table):
// Timestamp, ActionType ("Type of activity that triggered the event"),
// AccountId, IPAddress, UserAgent, ReportId ("Unique identifier for the
// event"), ... and RawEventData, "Raw event information from the source
// application or service in JSON format". For Microsoft 365 that is the
// audit record itself, whose CreationTime, Operation, ClientIP, UserId and
// Workload Microsoft's own queries read there (RawEventData.CreationTime in
// https://learn.microsoft.com/defender-xdr/dlp-investigate-alerts-sentinel,
// whose connector "imports Office 365 audit log events"). A row is
// therefore decoded as that record, as an AuditData envelope's is; a field
// the record lacks is taken from the row's columns, as an envelope's id
// and time are. For other apps (Dropbox, GitHub, ...) RawEventData is the
// app's own event, which is not a Microsoft 365 record: such a row is an
// error, not an event of the tenant.

// defenderRow is what a row holds besides RawEventData: the columns a
// record without a field falls back to.
type defenderRow struct {
	raw      []byte // RawEventData: the record's JSON text
	rawWhat  string // what RawEventData is when it is not a record ("" when it is)
	time     []byte // Timestamp
	id       []byte // ReportId
	action   []byte // ActionType
	ip       []byte // IPAddress
	account  []byte // AccountId
	agent    []byte // UserAgent
	timeName string
	// keys are a row object's first keys and nkeys how many it has: what
	// a row without RawEventData is said to hold.
	keys  [8][]byte
	nkeys int
}

// missing says why a row without RawEventData is not read: a row object
// names its columns (a row of another table, framed without the schema
// that would have said so).
func (row *defenderRow) missing() error {
	if row.rawWhat != "missing" || row.nkeys == 0 {
		return decodeErr("RawEventData is %s: no audit record in the row", row.rawWhat)
	}
	names := make([]string, 0, len(row.keys)+1)
	for _, k := range row.keys[:min(row.nkeys, len(row.keys))] {
		names = append(names, clip(k))
	}
	if row.nkeys > len(row.keys) {
		names = append(names, "...")
	}
	return decodeErr("no RawEventData: a row of columns %s, not of CloudAppEvents (outsider reads CloudAppEvents only)",
		strings.Join(names, ", "))
}

// The CloudAppEvents columns the decoder reads.
const (
	dfNone uint8 = iota
	dfRaw
	dfTime
	dfID
	dfAction
	dfIP
	dfAccount
	dfAgent
	dfCount
)

// defenderColumn maps a header name (headerName's form) to its field.
func defenderColumn(name string) uint8 {
	switch name {
	case "raweventdata":
		return dfRaw
	case "timestamp":
		return dfTime
	case "reportid":
		return dfID
	case "actiontype":
		return dfAction
	case "ipaddress":
		return dfIP
	case "accountid":
		return dfAccount
	case "useragent":
		return dfAgent
	}
	return dfNone
}

// defenderKey maps a row object's key to its field, as defenderColumn
// maps a header name, without allocating: column names are short.
func defenderKey(k []byte) uint8 {
	var buf [24]byte
	if len(k) > len(buf) {
		return dfNone
	}
	return defenderColumn(string(lowerASCII(buf[:], k)))
}

// DefenderColumns maps the columns of one advanced hunting CSV export's
// header to the fields the decoder reads. Build it once per file with
// NewDefenderColumns.
type DefenderColumns struct {
	col [dfCount]int
	n   int
}

// NewDefenderColumns maps a header. Only CloudAppEvents, with its
// RawEventData column, can be read (source.DefenderTableProblem says what
// any other table is and what to export instead).
func NewDefenderColumns(header []string) (*DefenderColumns, error) {
	c := &DefenderColumns{n: len(header)}
	mapColumns(c.col[:], header, defenderColumn)
	if c.col[dfRaw] >= 0 {
		return c, nil
	}
	return nil, errors.New("header has no RawEventData column: not CloudAppEvents")
}

// DecodeDefenderFieldsKeep fills ev from the fields of one CloudAppEvents
// row of a CSV export (split with source.CSVFields): the audit record in
// its RawEventData column, with the row's Timestamp, ReportId,
// ActionType, IPAddress, AccountId and UserAgent for fields the record
// lacks. The byte fields alias fields' bytes or the arena (kept until
// ResetArena). fields must be valid UTF-8.
func (d *Decoder) DecodeDefenderFieldsKeep(c *DefenderColumns, fields [][]byte, ev *Event) error {
	ev.Reset()
	if len(fields) < c.n {
		return decodeErr("row has %d fields, the header %d", len(fields), c.n)
	}
	get := func(f uint8) []byte {
		if i := c.col[f]; i >= 0 {
			return fields[i]
		}
		return nil
	}
	row := defenderRow{raw: get(dfRaw), time: get(dfTime), id: get(dfID), action: get(dfAction),
		ip: get(dfIP), account: get(dfAccount), agent: get(dfAgent), timeName: "Timestamp"}
	if len(trimSpace(row.raw)) == 0 {
		row.raw, row.rawWhat = nil, "empty"
	}
	return d.finishDefender(ev, &row)
}

// DecodeDefenderKeep fills ev from one CloudAppEvents row as a JSON object
// (an element of the "Results" of the advanced hunting API's response), as
// DecodeDefenderFieldsKeep does from a CSV row. RawEventData may be the
// record itself or its JSON text in a string. The input must be valid
// UTF-8.
func (d *Decoder) DecodeDefenderKeep(data []byte, ev *Event) error {
	ev.Reset()
	row := defenderRow{timeName: "Timestamp", rawWhat: "missing"}
	s := d.scanner(data)
	if err := d.officeObject(&s, func(key []byte) error {
		if row.nkeys < len(row.keys) {
			row.keys[row.nkeys] = key
		}
		row.nkeys++
		var err error
		switch defenderKey(key) {
		case dfRaw:
			row.raw, row.rawWhat, err = d.defenderRaw(&s)
		case dfTime:
			row.time, err = d.valueText(&s)
		case dfID:
			row.id, err = d.valueText(&s)
		case dfAction:
			row.action, err = d.valueText(&s)
		case dfIP:
			row.ip, err = d.valueText(&s)
		case dfAccount:
			row.account, err = d.valueText(&s)
		case dfAgent:
			row.agent, err = d.valueText(&s)
		default:
			err = s.skip(d)
		}
		return err
	}); err != nil {
		return err
	}
	return d.finishDefender(ev, &row)
}

// defenderRaw reads a row object's RawEventData: the record's bytes, or a
// string's unescaped text; what names any other value.
func (d *Decoder) defenderRaw(s *scanner) (raw []byte, what string, err error) {
	if s.i >= len(s.data) {
		return nil, "", decodeErr("truncated record")
	}
	switch s.data[s.i] {
	case '{':
		start := s.i
		err := s.skip(d)
		return s.data[start:s.i], "", err
	case '"':
		b, err := d.str(s)
		if err == nil && len(trimSpace(b)) == 0 {
			return nil, "empty", nil
		}
		return b, "", err
	case 'n':
		return nil, "null", s.skip(d)
	}
	what = s.what()
	return nil, what, s.skip(d)
}

// finishDefender decodes the row's record and fills what it lacks from the
// row's columns.
func (d *Decoder) finishDefender(ev *Event, row *defenderRow) error {
	if row.raw == nil {
		return row.missing()
	}
	if !utf8.Valid(row.raw) {
		return decodeErr("RawEventData: invalid UTF-8")
	}
	s := d.scanner(row.raw)
	if s.i < len(s.data) && s.data[s.i] <= ' ' {
		s.ws()
	}
	if _, err := d.object(&s, ev, 1); err != nil {
		return fmt.Errorf("RawEventData: %w", err)
	}
	s.ws()
	if s.i < len(s.data) {
		return decodeErr("RawEventData: unexpected %s after the record", s.what())
	}
	// Every Microsoft 365 audit record has RecordType, Operation and
	// Workload (the common schema); an event of another connected app
	// (Dropbox, GitHub...) has none, and is read from the row's columns
	// below as a record of no Microsoft 365 workload: its account and
	// address are evidence like any other record's (an outside account
	// acting in an app the tenant connected), and skipping it would count
	// every such row as unreadable input, so that a tenant with other
	// apps could never be told its export was read whole.
	otherApp := ev.RecordType < 0 && len(ev.Workload) == 0 && len(ev.Operation) == 0
	if len(ev.ID) == 0 {
		ev.ID = trimSpace(row.id)
	}
	if len(ev.Operation) == 0 {
		ev.Operation = trimSpace(row.action)
		if otherApp && ev.IsSignin() {
			// Another app's event whose ActionType is spelled as a sign-in
			// to the tenant (UserLoggedIn, SignIn...) is not one: the
			// operation says whose it is, so that it never names an
			// outside identity or counts as its sign-in.
			start := len(d.arena)
			d.arena = append(append(d.arena, ev.Operation...), " (another app)"...)
			ev.Operation = d.arena[start:len(d.arena):len(d.arena)]
		}
	}
	if ev.NIPs == 0 {
		if a, ok := ParseIP(trimSpace(row.ip)); ok {
			ev.addIP(a)
		}
	}
	// AccountId "could be Microsoft Entra ID, user principal name, or
	// other identifiers": only an address names the account as the UAL's
	// UserId does.
	if acc := trimSpace(row.account); len(ev.UserID) == 0 && strings.IndexByte(string(acc), '@') > 0 {
		ev.UserID = acc
	}
	if len(ev.UserAgent) == 0 {
		if ua := trimSpace(row.agent); len(ua) > 0 {
			ev.UserAgent = ua
		}
	}
	if ev.Time == 0 {
		tv := trimSpace(row.time)
		if len(tv) == 0 {
			return decodeErr("no CreationTime in RawEventData and no Timestamp")
		}
		t, order, _ := signInTime(tv, d.dates)
		if order >= DateAmbiguous {
			return timeErr(row.timeName, tv, order, d.dates)
		}
		ev.Time = t
	}
	ev.User, ev.UserKind, d.arena = Canonical(ev.UserID, d.arena)
	return nil
}

// DefenderRecord returns the audit record of a CloudAppEvents row as JSON
// (its RawEventData, as `outsider explain` walks it and the object lists
// read it): from a JSON row object (data), or from a CSV row's fields
// with its header.
func DefenderRecord(data []byte, header []string, fields [][]byte) ([]byte, error) {
	if data != nil {
		var d Decoder
		d.noMasks = true
		var row defenderRow
		row.rawWhat = "missing"
		s := scanner{data: data}
		if err := d.officeObject(&s, func(key []byte) error {
			if defenderKey(key) != dfRaw {
				return s.skip(&d)
			}
			var err error
			row.raw, row.rawWhat, err = d.defenderRaw(&s)
			return err
		}); err != nil {
			return nil, err
		}
		if row.raw == nil {
			return nil, decodeErr("RawEventData is %s: no audit record in the row", row.rawWhat)
		}
		return append([]byte(nil), row.raw...), nil
	}
	c, err := NewDefenderColumns(header)
	if err != nil {
		return nil, err
	}
	if len(fields) < c.n {
		return nil, decodeErr("row has %d fields, the header %d", len(fields), c.n)
	}
	raw := trimSpace(fields[c.col[dfRaw]])
	if len(raw) == 0 {
		return nil, decodeErr("RawEventData is empty: no audit record in the row")
	}
	return append([]byte(nil), raw...), nil
}

// trimSpace trims JSON and CSV blanks without allocating.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}
