// Package record is the one place that turns a framed record (record i of
// a source.Batch) into an audit.Event: it chooses the decoder from the
// batch's format (a UAL record in JSON, an Entra sign-in in JSON, a row of
// a sign-in log CSV decoded by its header's names), keeps the header's
// columns per file, checks that the text is UTF-8, and names the unit
// ("line" or "row") that problems are counted in.
//
// The engine's workers, `outsider explain` and everything else that reads
// batches go through a Reader, so a new format is taught here once and
// every reader of records agrees on it (the fuzz test holds the choice to
// the decoders it dispatches to).
package record

import (
	"errors"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/source"
)

// Kind is how a record's text is decoded.
type Kind uint8

// The kinds of record text.
const (
	// UALJSON is a UAL record, or an envelope of one, in JSON (also a CSV
	// export's AuditData column): audit.Decoder.DecodeKeep.
	UALJSON Kind = iota
	// SignInJSON is an Entra sign-in log record in JSON:
	// audit.Decoder.DecodeSignInKeep.
	SignInJSON
	// OfficeJSON is a row of Sentinel's OfficeActivity table as a JSON
	// object: audit.Decoder.DecodeOfficeKeep.
	OfficeJSON
	// SignInFields is a row of a sign-in log CSV, decoded by its header's
	// column names: audit.Decoder.DecodeSignInFieldsKeep.
	SignInFields
	// OfficeFields is a row of an OfficeActivity CSV export, decoded by
	// its header's column names: audit.Decoder.DecodeOfficeFieldsKeep.
	OfficeFields
	// SignInRow and OfficeRow are rows of a Log Analytics query API
	// response's table (JSON arrays of values), split with
	// audit.Decoder.RowFieldsKeep and then decoded as SignInFields and
	// OfficeFields are, by the table's column names.
	SignInRow
	OfficeRow
	// DefenderJSON is a row of Defender advanced hunting's CloudAppEvents
	// table as a JSON object (a result of the API's response):
	// audit.Decoder.DecodeDefenderKeep.
	DefenderJSON
	// DefenderFields is a row of an advanced hunting CSV export, decoded
	// by its header's column names: audit.Decoder.DecodeDefenderFieldsKeep.
	DefenderFields
)

var kindNames = [...]string{"ual-json", "signin-json", "office-json", "signin-fields", "office-fields", "signin-row", "office-row",
	"defender-json", "defender-fields"}

// String names the kind (in tests and messages).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + string(rune('0'+k%10)) + ")"
}

// KindOf says how the records of b are decoded.
func KindOf(b *source.Batch) Kind {
	switch {
	case b.Format == source.LAQueryAPI:
		if b.Table == source.EntraSignInLA {
			return SignInRow
		}
		return OfficeRow
	case b.Header != nil:
		switch b.Format {
		case source.SentinelOfficeCSV:
			return OfficeFields
		case source.DefenderCSV:
			return DefenderFields
		}
		return SignInFields
	case b.Format.IsSignIn():
		return SignInJSON
	case b.Format == source.SentinelOfficeJSON:
		return OfficeJSON
	case b.Format == source.DefenderJSON:
		return DefenderJSON
	}
	return UALJSON
}

// Unit is the unit problems with b's records are counted in: "row" for
// CSV rows, "line" for JSON (a query API response's rows included: they
// are named by the line they start on).
func Unit(b *source.Batch) string {
	if b.Format != source.LAQueryAPI && (b.CSVColumn >= 0 || b.Header != nil) {
		return "row"
	}
	return "line"
}

// ErrInvalidUTF8 is the reason given for a record that is not UTF-8. It
// names the usual cause and its mend, since the analyst reading it has a
// file to fix: an export saved again as Excel's plain "CSV" or with
// PowerShell 5.1's Set-Content is in the Windows code page, whose accented
// bytes are not UTF-8 (README, "Windows PowerShell 5.1's encoding trap").
var ErrInvalidUTF8 = errors.New("invalid UTF-8 (saved in a Windows code page, as Excel's plain \"CSV\" or " +
	"Set-Content write? save it as \"CSV UTF-8\" or with -Encoding utf8, or give the export as downloaded)")

// Reader decodes records; each goroutine needs its own. Its zero value is
// ready to use. The events it decodes point into the batch's bytes and
// into the Reader's own memory, and stay valid until the next Begin: a
// worker decodes a whole batch and then uses all its events.
type Reader struct {
	dec audit.Decoder
	// scratch holds the unquoted CSV fields (or AuditData columns) of
	// every record since Begin.
	scratch []byte
	fields  [][]byte

	// The columns of the header last seen (one per input, or per table of
	// a query API response: the slice is shared by its batches, so its
	// identity names it), mapped as the kind of its rows asks.
	header  []string
	kind    Kind // of the rows the header's columns were mapped for
	signIn  *audit.SignInColumns
	offCols *audit.OfficeColumns
	defCols *audit.DefenderColumns
	colsErr error
}

// Begin starts a batch: the events decoded since the last Begin may no
// longer be used, and their memory is reused.
func (r *Reader) Begin() {
	r.dec.ResetArena()
	r.scratch = r.scratch[:0]
}

// Raw is the text of one record, as Read finds it: JSON (Kind UALJSON,
// SignInJSON, OfficeJSON), or a row's fields with its header (the other
// kinds). It aliases the batch and the Reader's memory until the next
// Begin (Fields until the next Read or Decode).
type Raw struct {
	Kind Kind
	JSON []byte
	// Row is the framed record Fields were split from: a CSV row, or a
	// query API row's JSON array.
	Row    []byte
	Header []string
	Fields [][]byte
	// Dates is what the locale dates of the record's input show of their
	// order (source.Batch.Dates).
	Dates localedate.Evidence
}

// Read finds the text of record i of b without decoding it: the JSON (a
// CSV export's AuditData column, unquoted), or the fields of a CSV row or
// of a query API row. The error says why the record has no text (a CSV
// row that does not split, a row shorter than its AuditData column, a
// query API row that is not an array of values).
func (r *Reader) Read(b *source.Batch, i int) (Raw, error) {
	var err error
	switch k := KindOf(b); k {
	case SignInFields, OfficeFields, DefenderFields:
		// The fields stay in scratch until the batch is done.
		r.fields, r.scratch, err = b.Fields(i, r.fields, r.scratch)
		return Raw{Kind: k, Row: b.Records[i].Data, Header: b.Header, Fields: r.fields, Dates: b.Dates}, err
	case SignInRow, OfficeRow:
		row := b.Records[i].Data
		r.fields, err = r.dec.RowFieldsKeep(row, r.fields)
		return Raw{Kind: k, Row: row, Header: b.Header, Fields: r.fields, Dates: b.Dates}, err
	default:
		var js []byte
		js, r.scratch, err = b.JSON(i, r.scratch)
		return Raw{Kind: k, JSON: js, Dates: b.Dates}, err
	}
}

// Decode fills ev from record i of b. A record that cannot be decoded is
// an error whose text is the reason a problem line gives ("line 7:
// reason", in Unit(b)); ev is then undefined.
func (r *Reader) Decode(b *source.Batch, i int, ev *audit.Event) error {
	// The hot path: written out rather than through Read and DecodeRaw,
	// so that nothing but the record's own work runs per record.
	r.dec.SetDates(b.Dates)
	if b.Header == nil {
		js, scratch, err := b.JSON(i, r.scratch)
		r.scratch = scratch
		if err != nil {
			return err
		}
		// JSON records are validated by the decoder's first pass
		// (Prepare), which the decode then reuses.
		if !r.dec.Prepare(js) {
			return ErrInvalidUTF8
		}
		switch {
		case b.Format.IsSignIn():
			return r.dec.DecodeSignInKeep(js, ev)
		case b.Format == source.SentinelOfficeJSON:
			return r.dec.DecodeOfficeKeep(js, ev)
		case b.Format == source.DefenderJSON:
			return r.dec.DecodeDefenderKeep(js, ev)
		}
		return r.dec.DecodeKeep(js, ev)
	}
	// A row by its header's names: CSV, or a query API row (JSON, whose
	// validation also builds the bitmaps its split then uses). The
	// reasons come in one order whatever the shape: the row's split, the
	// header, UTF-8.
	valid := false
	if b.Format == source.LAQueryAPI {
		valid = r.dec.Prepare(b.Records[i].Data)
	}
	raw, err := r.Read(b, i)
	if err != nil {
		return err
	}
	if err := r.columns(raw); err != nil {
		return err
	}
	if b.Format != source.LAQueryAPI {
		valid = utf8.Valid(b.Records[i].Data)
	}
	if !valid {
		return ErrInvalidUTF8
	}
	return r.decodeFields(raw, ev)
}

// DecodeRaw fills ev from text Read returned, as Decode would have.
func (r *Reader) DecodeRaw(raw Raw, ev *audit.Event) error {
	r.dec.SetDates(raw.Dates)
	switch raw.Kind {
	case SignInFields, OfficeFields, SignInRow, OfficeRow, DefenderFields:
		if err := r.columns(raw); err != nil {
			return err
		}
		if !utf8.Valid(raw.Row) {
			return ErrInvalidUTF8
		}
		return r.decodeFields(raw, ev)
	}
	if !r.dec.Prepare(raw.JSON) {
		return ErrInvalidUTF8
	}
	switch raw.Kind {
	case SignInJSON:
		return r.dec.DecodeSignInKeep(raw.JSON, ev)
	case OfficeJSON:
		return r.dec.DecodeOfficeKeep(raw.JSON, ev)
	case DefenderJSON:
		return r.dec.DecodeDefenderKeep(raw.JSON, ev)
	}
	return r.dec.DecodeKeep(raw.JSON, ev)
}

// decodeFields decodes a row's fields by its header's names.
func (r *Reader) decodeFields(raw Raw, ev *audit.Event) error {
	if err := r.columns(raw); err != nil {
		return err
	}
	switch {
	case r.offCols != nil:
		return r.dec.DecodeOfficeFieldsKeep(r.offCols, raw.Fields, ev)
	case r.defCols != nil:
		return r.dec.DecodeDefenderFieldsKeep(r.defCols, raw.Fields, ev)
	}
	return r.dec.DecodeSignInFieldsKeep(r.signIn, raw.Fields, ev)
}

// columns maps a header's columns as its rows' kind asks, once per file
// or table (or finds why they cannot be read, which is then every row's
// reason).
func (r *Reader) columns(raw Raw) error {
	kind := raw.Kind
	if kind == OfficeRow {
		kind = OfficeFields
	}
	if kind == SignInRow {
		kind = SignInFields
	}
	if !sameHeader(r.header, raw.Header) || r.kind != kind {
		r.header, r.kind = raw.Header, kind
		r.signIn, r.offCols, r.defCols = nil, nil, nil
		switch kind {
		case OfficeFields:
			r.offCols, r.colsErr = audit.NewOfficeColumns(raw.Header)
		case DefenderFields:
			// Every advanced hunting table is framed; any but
			// CloudAppEvents is every row's reason, said once here.
			if r.defCols, r.colsErr = audit.NewDefenderColumns(raw.Header); r.colsErr != nil {
				r.colsErr = errors.New(source.DefenderTableProblem(raw.Header))
			}
		default:
			r.signIn, r.colsErr = audit.NewSignInColumns(raw.Header)
		}
	}
	return r.colsErr
}

// sameHeader reports whether a and b are the same slice (not merely equal
// names): a header's columns are mapped once per file.
func sameHeader(a, b []string) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// Office reports whether the record is a row of Sentinel's OfficeActivity
// table, in any shape.
func (raw Raw) Office() bool {
	return raw.Kind == OfficeJSON || raw.Kind == OfficeFields || raw.Kind == OfficeRow
}

// Defender reports whether the record is a row of Defender advanced
// hunting's CloudAppEvents table, in either shape.
func (raw Raw) Defender() bool {
	return raw.Kind == DefenderJSON || raw.Kind == DefenderFields
}

// UAL returns, for a row of Sentinel's OfficeActivity table, the UAL
// record it came from in JSON (audit.OfficeUAL), which the UAL decoder
// reads as the row is read: what `outsider explain` walks. For a row of
// Defender's CloudAppEvents it is the row's RawEventData.
func (raw Raw) UAL() ([]byte, error) {
	switch raw.Kind {
	case DefenderJSON:
		return audit.DefenderRecord(raw.JSON, nil, nil)
	case DefenderFields:
		return audit.DefenderRecord(nil, raw.Header, raw.Fields)
	case OfficeJSON:
		header, fields, err := audit.OfficeObjectFields(raw.JSON)
		if err != nil {
			return nil, err
		}
		return audit.OfficeUAL(header, fields, raw.Dates)
	case OfficeFields, OfficeRow:
		return audit.OfficeUAL(raw.Header, raw.Fields, raw.Dates)
	}
	return nil, errors.New("not an OfficeActivity row")
}
