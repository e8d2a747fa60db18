package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// Limits that keep a hostile input from exhausting memory or time.
const (
	// DefaultMaxRecordBytes caps one record. Real UAL records are a few KB;
	// a larger "record" is corrupt or hostile and is skipped with a problem.
	DefaultMaxRecordBytes = 8 << 20
	// DefaultBatchBytes is the amount of record text handed to one worker at
	// a time: large enough to amortise channel traffic, small enough to
	// stay in a core's cache while it is decoded, so the stream of records
	// evicts less of the aggregates the worker updates for each one
	// (1 GB JSON Lines, 2 workers, 3 runs each: 128 KiB 1.17–1.21 s,
	// 256 KiB 1.10–1.16 s, 1 MiB 1.20–1.24 s, 4 MiB 1.26–1.32 s; and
	// 12 MB less peak memory than 1 MiB).
	DefaultBatchBytes = 256 << 10
	// MaxDepth caps JSON nesting during framing and decoding.
	MaxDepth = 512
	// DefaultHoldBytes caps the rows of a stream (standard input, a pipe,
	// an archive inside another) held for the survey of its locale dates
	// (dates.go): a quarter of the 256 MB the whole run promises to stay
	// under (bench/README.md).
	DefaultHoldBytes = 64 << 20
)

// Record is one framed record: the JSON text of an audit record or of an
// envelope around one (a PowerShell object, a Graph auditLogRecord), or for
// CSV formats the raw text of one data row.
type Record struct {
	// Data aliases the batch's buffer; it is valid until Batch.Release.
	Data []byte
	// Line is the 1-based line (JSON formats) or row (CSV formats, the
	// header being row 1) where the record starts, for error messages and
	// evidence ("file:line").
	Line int64
}

// Batch is a run of records from one input, handed to a worker.
type Batch struct {
	// File is the index of the input in the list Read returns; indexes
	// follow discovery order, so they are deterministic.
	File int
	// Path is the input's display path (a zip member is "a.zip!member").
	Path string
	// Format is the input's format.
	Format Format
	// Records in input order.
	Records []Record
	// CSVColumn is, for CSV formats, the 0-based index of the AuditData
	// column in each row; -1 for JSON formats and for sign-in CSV.
	CSVColumn int
	// Separator is, for CSV formats, the byte between fields when it is
	// not a comma: ';' (Excel's "CSV" in a locale whose list separator is
	// ';', Export-Csv -UseCulture) or '\t' (Excel's "Unicode Text"), as
	// the header row said; 0 for commas and for JSON. JSON and Fields
	// split rows by it.
	Separator byte
	// Header is, for CSV read by column names (EntraSignInCSV,
	// EntraSignInLA as CSV, SentinelOfficeCSV), the column names of the
	// header row as written (split with CSVFields, unquoted, not trimmed),
	// and for LAQueryAPI the columns of the table the batch's rows belong
	// to; nil otherwise. CSV rows are split with CSVFields, query API rows
	// with audit.Decoder.RowFieldsKeep, and decoded by name. The slice is
	// shared by every batch of the input (of the table) and must not be
	// modified: its identity tells one file's (table's) header from another.
	Header []string
	// Table is, for LAQueryAPI, what the rows of the batch's table hold,
	// as the format of an export of that table alone: SentinelOfficeJSON
	// (OfficeActivity) or EntraSignInLA (SigninLogs,
	// AADNonInteractiveUserSignInLogs). A batch holds rows of one table.
	Table Format
	// Dates is what the locale dates of the input's time columns show of
	// their order, with Options.DateOrder stated (a CSV read by column
	// names is surveyed before its first batch is handed on; dates.go):
	// audit.Decoder.SetDates reads its dates whose day and month are both
	// 12 or less by it. The same for every batch of the input; 0 for
	// other formats.
	Dates localedate.Evidence

	// buf holds the records' bytes; it is recycled with the batch.
	buf     []byte
	release func(*Batch)
}

// Release returns the batch's buffers for reuse. Records must not be used
// afterwards.
func (b *Batch) Release() {
	if b.release != nil {
		b.release(b)
	}
}

// JSON returns the JSON text of record i: Data itself for JSON formats, or
// for CSV formats the AuditData field of the row, unquoted and appended to
// scratch when it needs unquoting (scratch may grow; the grown slice is
// returned for reuse). Pass scratch[:0] to reuse the memory, or keep
// appending to hold several records' text at once.
func (b *Batch) JSON(i int, scratch []byte) (js []byte, newScratch []byte, err error) {
	if b.CSVColumn < 0 {
		return b.Records[i].Data, scratch, nil
	}
	if b.Separator != 0 {
		return csvFieldFrom(b.Records[i].Data, 0, 0, b.CSVColumn, b.Separator, scratch)
	}
	return CSVField(b.Records[i].Data, b.CSVColumn, scratch)
}

// Fields splits CSV record i of b into its fields, by the batch's
// separator, as CSVFields does (dst and scratch are reused the same way).
func (b *Batch) Fields(i int, dst [][]byte, scratch []byte) (fields [][]byte, newScratch []byte, err error) {
	return CSVFieldsSep(b.Records[i].Data, b.Separator, dst, scratch)
}

// Problem is something wrong with an input: a record that could not be
// framed, a file that could not be read, or a warning about a whole file.
type Problem struct {
	Path string
	// Unit is "line" or "row"; empty when the problem concerns the file.
	Unit string
	// Line is the line or row number, 0 for file-level problems.
	Line   int64
	Reason string
	// Warning marks problems that skip nothing (a probably-capped export).
	Warning bool
	// Records is how many records the problem made unreadable (usually 1;
	// 1 for a file that could not be read at all).
	Records int64
}

// Error formats the problem the way every outsider message names a place:
// "path: line 7: reason".
func (p Problem) Error() string {
	if p.Unit == "" || p.Line == 0 {
		return p.Path + ": " + p.Reason
	}
	return p.Path + ": " + p.Unit + " " + itoa(p.Line) + ": " + p.Reason
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Input describes one input after it was read.
type Input struct {
	Path   string
	Format Format
	// Separator is, for a CSV input, the byte between its fields when it
	// is not a comma (Batch.Separator); FormatName says it.
	Separator byte
	// Framed is the number of records framed (including ones later found
	// undecodable by the engine); Skipped the ones lost in framing.
	Framed  int64
	Skipped int64
	// Index, for a plain or gzip file or a zip file's member framed as
	// JSON Lines or CSV rows, lets ReadIndexed read its records at given
	// lines again without reading the whole file; nil otherwise. A
	// compressed input's index keeps its checkpoints' windows in the
	// store Read used (Options.Windows), and cannot be read by once that
	// store is closed.
	Index *Index
}

// Options control Read.
type Options struct {
	// Format forces a format; Auto sniffs each input.
	Format Format
	// Stdin is read for the path "-".
	Stdin io.Reader
	// BatchBytes and MaxRecordBytes default to the constants above.
	BatchBytes     int
	MaxRecordBytes int
	// Progress, when set, is advanced by the bytes read from each file or
	// stdin as they are read (before decompression): what a progress line
	// compares with the inputs' sizes on disk.
	Progress *atomic.Int64

	// Inflaters is how many compressed files (or zip members) are inflated
	// at once, the one being read and those after it; 0 means one per CPU,
	// at most 8.
	Inflaters int

	// Windows keeps the windows of the checkpoints of the gzip files and
	// zip members read (their indexes' way in: windows.go), for callers
	// that read several times and want one budget over them all (a
	// triage session); nil: Read makes a store of its own, spilling to
	// TempDir.
	Windows *WindowStore
	// TempDir is where that store spills; empty means os.TempDir().
	TempDir string
	// NoIndex is for callers that read each input once (a Stream, a
	// triage without the second look, explain): no Input.Index is built,
	// and gzip files and zip members note no checkpoints, so that no
	// windows are kept (8 MiB per GB inflated, past 16 MB a temporary
	// file) for reads that never come. Windows is then not used.
	NoIndex bool

	// DateOrder is the order (localedate.DayFirst or MonthFirst) of the
	// ambiguous locale dates of a CSV read by column names whose own
	// dates show no order: the analyst's word (the CLI's --date-order),
	// which the file's dates outrank (dates.go). 0 states nothing.
	DateOrder localedate.Order

	// noAhead reads compressed files in the foreground only (tests).
	noAhead bool
	// holdBytes caps the record bytes of a stream held for the survey
	// of its dates; 0 means DefaultHoldBytes (tests make it small).
	holdBytes int64
	// stats, when not nil, gets what tests check the survey's memory by
	// when Read returns.
	stats *readStats
}

// readStats are a run's heldPeak and surveys (dates.go).
type readStats struct {
	heldPeak int64
	surveys  int
}

// ErrNoInputs is returned by Expand when the arguments name no file.
var ErrNoInputs = errors.New("no input files")

// Read frames every path in order (see Expand for what a path may be) and
// calls emit with each batch; emit owns the batch until it calls Release.
// problem is called, from Read's goroutine, for each problem as it is
// found. Read returns the inputs it read (a zip yields one per member) and
// stops early, returning ctx.Err() or emit's error, when either says so.
// A problem with one input never stops the others.
func Read(ctx context.Context, paths []string, opts Options, emit func(*Batch) error, problem func(Problem)) ([]Input, error) {
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = DefaultBatchBytes
	}
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if opts.holdBytes <= 0 {
		opts.holdBytes = DefaultHoldBytes
	}
	if problem == nil {
		problem = func(Problem) {}
	}
	r := &run{ctx: ctx, opts: opts, emit: emit, problem: problem, pool: &batchPool{size: opts.BatchBytes}, windows: opts.Windows}
	switch {
	case opts.NoIndex:
		r.windows = nil // nothing is put: the store's methods take nil
	case r.windows == nil:
		r.windows = NewWindowStore(opts.TempDir)
	}
	if opts.stats != nil {
		defer func() { *opts.stats = readStats{r.heldPeak, r.surveys} }()
	}
	var ahead window
	defer ahead.close()
	for i, p := range paths {
		// Compressed files after this one are inflated meanwhile (ahead.go).
		ahead.fill(r, i, len(paths), func(j int) *aheadStream { return r.startAhead(paths[j]) })
		var err error
		if a := ahead.take(i); a != nil {
			err = r.readAheadStream(p, a, "corrupt gzip", 1)
		} else {
			err = r.readPath(p)
		}
		if pr, ok := r.windows.thinned(); ok {
			problem(pr)
		}
		if err == nil {
			// A read cut short by the run's end (a pipe's read deadline,
			// openFile) is not a whole input.
			err = ctx.Err()
		}
		if err != nil {
			return r.inputs, err
		}
	}
	return r.inputs, nil
}

// Expand turns command-line arguments into input paths: a file as is, a
// folder recursively (sorted, hidden entries skipped), a glob pattern
// expanded (sorted), "-" for stdin. Missing paths are an error.
func Expand(args []string) ([]string, error) {
	paths, _, err := ExpandNoting(args)
	return paths, err
}

// Passed is what a folder held that Expand did not take: its hidden
// entries (names starting with a dot: .DS_Store, .git, an archive's
// .outsider state) and what is neither a file nor a link to one (a named
// pipe, a socket, a link to a folder, a dangling link). A caller says so:
// nothing is left out without a word.
type Passed struct {
	// Folder is the folder walked; Count how many entries of it were
	// passed over (a hidden folder counts once); Examples the first
	// three, relative to Folder, in the walk's (lexical) order.
	Folder   string
	Count    int
	Examples []string
}

// String says what was passed over, for a note to the user.
func (p Passed) String() string {
	return p.Folder + ": " + p.what() + "; name a file to read it"
}

// what counts and names what was passed over.
func (p Passed) what() string {
	more := ""
	if p.Count > len(p.Examples) {
		more = ", ..."
	}
	noun := "entries"
	if p.Count == 1 {
		noun = "entry"
	}
	return fmt.Sprintf("%d hidden or special %s not read (%s%s)", p.Count, noun, strings.Join(p.Examples, ", "), more)
}

// ExpandNoting is Expand that also returns, per folder walked, what it
// passed over (Passed).
func ExpandNoting(args []string) ([]string, []Passed, error) {
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("%w: no path given", ErrNoInputs)
	}
	var out []string
	var passed []Passed
	for _, a := range args {
		files, ps, err := expandOne(a)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, files...)
		passed = append(passed, ps...)
	}
	return out, passed, nil
}

// CSVField returns field col (0-based) of one CSV row. A field without
// doubled quotes is a subslice of row; otherwise it is unquoted ("" → ")
// and appended to scratch (grown if needed), which is returned as
// newScratch: a caller that passes newScratch[:0] back allocates nothing in
// the steady state, one that keeps appending holds many fields at once. A row with fewer
// fields is an error ("row has 3 fields, AuditData is column 5").
func CSVField(row []byte, col int, scratch []byte) (field []byte, newScratch []byte, err error) {
	return csvField(row, col, scratch)
}

// CSVFields splits a whole CSV row into its fields, appended to dst[:0]
// (pass the previous result back to reuse it). Like CSVField, a field
// without doubled quotes is a subslice of row and one with doubled quotes
// is unquoted ("" → ") by appending to scratch, which is returned as
// newScratch; text already in scratch is never overwritten, so the fields
// of every row of a batch can live in one scratch buffer until the batch
// is done (the engine keeps them until it has aggregated the batch). A
// quoted field that does not close is an error ("quoted field 3 does not
// close"); text between a closing quote and the next comma is kept, as
// Excel does.
func CSVFields(row []byte, dst [][]byte, scratch []byte) (fields [][]byte, newScratch []byte, err error) {
	return csvFields(row, ',', dst[:0], scratch)
}

// CSVFieldSep is CSVField of a row whose fields are separated by sep: ','
// (or 0) reads as CSVField does, ';' and '\t' by the same rules with that
// byte in place of the comma (without CSVField's jump to the col-th
// comma: such exports are rare).
func CSVFieldSep(row []byte, col int, sep byte, scratch []byte) (field []byte, newScratch []byte, err error) {
	if sep == 0 || sep == ',' {
		return csvField(row, col, scratch)
	}
	return csvFieldFrom(row, 0, 0, col, sep, scratch)
}

// CSVFieldsSep is CSVFields of a row whose fields are separated by sep
// (0 meaning ',').
func CSVFieldsSep(row []byte, sep byte, dst [][]byte, scratch []byte) (fields [][]byte, newScratch []byte, err error) {
	if sep == 0 {
		sep = ','
	}
	return csvFields(row, sep, dst[:0], scratch)
}
