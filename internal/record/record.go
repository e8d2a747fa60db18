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
	// SignInFields is a row of a sign-in log CSV, decoded by its header's
	// column names: audit.Decoder.DecodeSignInFieldsKeep.
	SignInFields
)

// KindOf says how the records of b are decoded.
func KindOf(b *source.Batch) Kind {
	switch {
	case b.Header != nil:
		return SignInFields
	case b.Format.IsSignIn():
		return SignInJSON
	}
	return UALJSON
}

// Unit is the unit problems with b's records are counted in: "row" for
// CSV rows, "line" for JSON.
func Unit(b *source.Batch) string {
	if b.CSVColumn >= 0 || b.Header != nil {
		return "row"
	}
	return "line"
}

// ErrInvalidUTF8 is the reason given for a record that is not UTF-8.
var ErrInvalidUTF8 = errors.New("invalid UTF-8")

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

	// The columns of the header last seen (one per input: the slice is
	// shared by every batch of a file, so its identity names the file).
	header  []string
	signIn  *audit.SignInColumns
	colsErr error
}

// Begin starts a batch: the events decoded since the last Begin may no
// longer be used, and their memory is reused.
func (r *Reader) Begin() {
	r.dec.ResetArena()
	r.scratch = r.scratch[:0]
}

// Raw is the text of one record, as Read finds it: JSON (Kind UALJSON or
// SignInJSON) or a CSV row's fields with its header (SignInFields). It
// aliases the batch and the Reader's memory until the next Begin (Fields
// until the next Read or Decode).
type Raw struct {
	Kind Kind
	JSON []byte
	// Row is the CSV row Fields were split from.
	Row    []byte
	Header []string
	Fields [][]byte
}

// Read finds the text of record i of b without decoding it: the JSON (a
// CSV export's AuditData column, unquoted) or the fields of a sign-in CSV
// row. The error says why the record has no text (a CSV row that does not
// split, a row shorter than its AuditData column).
func (r *Reader) Read(b *source.Batch, i int) (Raw, error) {
	var err error
	switch k := KindOf(b); k {
	case SignInFields:
		// The fields stay in scratch until the batch is done.
		r.fields, r.scratch, err = source.CSVFields(b.Records[i].Data, r.fields, r.scratch)
		return Raw{Kind: k, Row: b.Records[i].Data, Header: b.Header, Fields: r.fields}, err
	default:
		var js []byte
		js, r.scratch, err = b.JSON(i, r.scratch)
		return Raw{Kind: k, JSON: js}, err
	}
}

// Decode fills ev from record i of b. A record that cannot be decoded is
// an error whose text is the reason a problem line gives ("line 7:
// reason", in Unit(b)); ev is then undefined.
func (r *Reader) Decode(b *source.Batch, i int, ev *audit.Event) error {
	// The hot path: written out rather than through Read and DecodeRaw,
	// so that nothing but the record's own work runs per record.
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
		if b.Format.IsSignIn() {
			return r.dec.DecodeSignInKeep(js, ev)
		}
		return r.dec.DecodeKeep(js, ev)
	}
	raw, err := r.Read(b, i)
	if err != nil {
		return err
	}
	cols, err := r.columns(raw.Header)
	if err != nil {
		return err
	}
	if !utf8.Valid(b.Records[i].Data) {
		return ErrInvalidUTF8
	}
	return r.dec.DecodeSignInFieldsKeep(cols, raw.Fields, ev)
}

// DecodeRaw fills ev from text Read returned, as Decode would have.
func (r *Reader) DecodeRaw(raw Raw, ev *audit.Event) error {
	switch raw.Kind {
	case SignInFields:
		cols, err := r.columns(raw.Header)
		if err != nil {
			return err
		}
		if !utf8.Valid(raw.Row) {
			return ErrInvalidUTF8
		}
		return r.dec.DecodeSignInFieldsKeep(cols, raw.Fields, ev)
	case SignInJSON:
		if !r.dec.Prepare(raw.JSON) {
			return ErrInvalidUTF8
		}
		return r.dec.DecodeSignInKeep(raw.JSON, ev)
	}
	if !r.dec.Prepare(raw.JSON) {
		return ErrInvalidUTF8
	}
	return r.dec.DecodeKeep(raw.JSON, ev)
}

// columns maps a header's columns, once per file (or why they cannot be
// read, which is then every row's reason).
func (r *Reader) columns(header []string) (*audit.SignInColumns, error) {
	if !sameHeader(r.header, header) {
		r.header = header
		r.signIn, r.colsErr = audit.NewSignInColumns(header)
	}
	return r.signIn, r.colsErr
}

// sameHeader reports whether a and b are the same slice (not merely equal
// names): a header's columns are mapped once per file.
func sameHeader(a, b []string) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
