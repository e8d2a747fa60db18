package source

import (
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"time"

	"github.com/outsider-sec/outsider/internal/inflate"
	"github.com/outsider-sec/outsider/internal/localedate"
)

// The second look at the inputs (what was touched, triage.lookAgain)
// reads a few thousand records again by line. Reading a file from its
// start to reach them re-reads most of it (a newest-first export keeps
// its earliest records, the ones kept as evidence, at its end). While a
// plain file is framed, the framer therefore notes, every indexSpacing
// bytes, where a record starts and the line (CSV: row) number it
// carries; ReadIndexed restarts the same framer at those points with the
// state it had there, so it frames exactly the records, with exactly the
// line numbers, of a read from the start.
//
// A gzip file is indexed the same way, its points at offsets of the
// inflated stream; reaching one needs the inflater's state there, so
// while the file is inflated the inflater also notes checkpoints
// (package inflate) every gzCheckpointSpacing bytes of output, and
// ReadIndexed restarts inflating at the last checkpoint before a point
// and drops the bytes up to it. A second look that wants records near the
// end of a 1 GB export thus inflates a few MiB around each, not the
// gigabyte before them.

// indexSpacing is the least distance between two points of an Index:
// ~16,000 points (256 KiB) per GB of input. A variable, so that tests can
// make it small.
var indexSpacing int64 = 64 << 10

// gzCheckpointSpacing is the least distance, in inflated bytes, between
// two checkpoints of a gzip file: each holds a 32 KiB window, so 4 MiB
// keeps them to 8 MiB per GB inflated, and a restart inflates 2 MiB on
// average (~4 ms) before the point it wants. A variable, so that tests
// can make it small.
var gzCheckpointSpacing int64 = 4 << 20

// SetGzipCheckpointSpacing sets the spacing of gzip checkpoints and
// returns what restores it: for tests of other packages that need
// checkpoints inside small files.
func SetGzipCheckpointSpacing(n int64) (restore func()) {
	old := gzCheckpointSpacing
	gzCheckpointSpacing = n
	return func() { gzCheckpointSpacing = old }
}

// checkpointSpacing is the spacing of the run's gzip checkpoints: none
// when nothing is indexed (Options.NoIndex).
func (r *run) checkpointSpacing() int64 {
	if r.opts.NoIndex {
		return 0
	}
	return gzCheckpointSpacing
}

// gzLeaf is a gzip file or a zip member as it is read, which can be
// indexed: its inflater (nil for a stored member), its file's size and
// time when opened, the member's place in the zip, and whether the stream
// was read to its end (only then are the checkpoints complete, and, when
// it is inflated in the background, safe to read).
type gzLeaf struct {
	z     interface{ Checkpoints() []inflate.Checkpoint }
	fi    os.FileInfo
	part  *zipPart
	ended func() bool
}

// zipPart is where a zip member's data lies: in file, off bytes from its
// start, size bytes (compressed, or stored).
type zipPart struct {
	file      string
	off, size int64
	stored    bool // not deflated
}

// IndexPoint is where framing can restart: a record starts at byte Off of
// the file and carries line (CSV: row) number Line.
type IndexPoint struct {
	Off  int64
	Line int64
}

// Index is a sparse index of one plain or gzip file or member of a zip
// file (not standard input, not UTF-16, not a container inside another),
// as framed as JSON Lines or as CSV rows; the (zip) file's size and
// modification time say whether it is still the file indexed.
type Index struct {
	Size    int64
	ModTime time.Time
	// Format, CSVColumn, Header and Separator are the file's, as sniffed
	// from its start (the header row of a CSV file).
	Format    Format
	CSVColumn int
	Header    []string
	// Dates is what the file's locale dates showed when it was read
	// whole (Batch.Dates): a span read again is decoded as it was then.
	Dates localedate.Evidence
	// Separator is the file's CSV separator (Batch.Separator).
	Separator byte
	// Points in file order, the first where framing started. In a gzip
	// file, Off counts inflated bytes.
	Points []IndexPoint

	csv bool
	// gz, for a gzip file or a deflated zip member, are the checkpoints
	// inflating can restart from, the first at its start; part, for a
	// zip member, is where its data lies.
	gz   []inflate.Checkpoint
	part *zipPart
	// windows holds the windows of gz's checkpoints (Checkpoint.Ref).
	windows *WindowStore
}

// ErrIndexStale says the file changed since it was indexed.
var ErrIndexStale = errors.New("file changed since it was read")

// errSpan ends the framing of one span of an indexed file.
var errSpan = errors.New("span done")

// mark notes that a record starts at buf[pos] with line number line and
// that framing could restart there, if the last point is far enough back.
func (f *feed) mark(pos int, line int64) {
	if f.ix == nil {
		return
	}
	off := f.base + f.read - int64(len(f.buf)-pos)
	if off >= f.nextMark {
		f.ix.Points = append(f.ix.Points, IndexPoint{Off: off, Line: line})
		f.nextMark = off + indexSpacing
	}
}

// ReadIndexed calls emit with batches holding at least the records of
// path (the input as Read named it: "archive.zip!member" for a zip's
// member) at the given lines (sorted ascending), as Read frames them,
// reading only the parts of the file that hold them: framing (and, for a
// compressed input, inflating) restarts at the index point before each
// wanted line and stops once the line is passed.
// Records of other lines may come too. It returns ErrIndexStale, having
// emitted nothing, when the file is not the one indexed, and stops early,
// returning ctx.Err() or emit's error, when either says so. Problems are
// not reported: the first read reported them.
func ReadIndexed(ctx context.Context, path string, ix *Index, lines []int64, opts Options, emit func(*Batch) error) error {
	file := path
	if ix.part != nil {
		file = ix.part.file // path is "archive.zip!member"
	}
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Size() != ix.Size || !fi.ModTime().Equal(ix.ModTime) || len(ix.Points) == 0 {
		return ErrIndexStale
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = DefaultBatchBytes
	}
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = DefaultMaxRecordBytes
	}
	// pointFor is the last point at or before line, -1 if none.
	pointFor := func(line int64) int {
		return sort.Search(len(ix.Points), func(i int) bool { return ix.Points[i].Line > line }) - 1
	}
	i := 0
	var f *feed
	var start int64
	// gzr, for a compressed input, is the inflater of the last span,
	// which a span nearer to it than the next checkpoint reads on with.
	var gzr resumed
	var window []byte // a checkpoint's window read back from the file
	wrap := func(b *Batch) error {
		last := b.Records[len(b.Records)-1].Line
		if err := emit(b); err != nil {
			return err
		}
		for i < len(lines) && lines[i] <= last {
			i++
		}
		if i == len(lines) {
			return errSpan
		}
		// A wanted line whose point lies beyond what was read starts a
		// new span; one that is near reads on.
		if k := pointFor(lines[i]); k >= 0 && ix.Points[k].Off > start+f.read {
			return errSpan
		}
		return nil
	}
	r := &run{ctx: ctx, opts: opts, emit: wrap, problem: func(Problem) {}, pool: &batchPool{size: opts.BatchBytes}}
	for i < len(lines) {
		k := pointFor(lines[i])
		if k < 0 {
			i++ // before the first record: no record has that line
			continue
		}
		pt := ix.Points[k]
		start, err = pt.Off, nil
		r.inputs = append(r.inputs[:0], Input{Path: path})
		var src io.Reader
		switch {
		case ix.gz != nil:
			if window == nil {
				window = make([]byte, windowSize)
			}
			if gzr, err = inflatedAt(fh, ix, pt.Off, gzr, window); err != nil {
				return err
			}
			src = gzr
		case ix.part != nil: // a stored member
			src = io.NewSectionReader(fh, ix.part.off+pt.Off, ix.part.size-pt.Off)
		default:
			src = io.NewSectionReader(fh, pt.Off, ix.Size-pt.Off)
		}
		f = r.newFeed(0, path, src)
		f.format, f.csvCol, f.header, f.dates, f.sep = ix.Format, ix.CSVColumn, ix.Header, ix.Dates, ix.Separator
		if ix.csv {
			// Row 1 is the header, where framing started: a "#TYPE"
			// line may come first, as the first read saw.
			if pt.Line == 1 {
				err = f.peek(len(typePrefix))
			}
			if err == nil {
				err = frameCSVFrom(f, pt.Line, pt.Line == 1)
			}
		} else {
			err = frameJSONLines(f, pt.Line)
		}
		if err == nil {
			err = f.finish()
		} else if f.b != nil {
			r.pool.put(f.b)
		}
		switch {
		case errors.Is(err, errSpan):
		case err != nil:
			return err
		default:
			// The end of the file: every line left is past its last record.
			return nil
		}
	}
	return nil
}

// resumed is an inflater restarted at a checkpoint.
type resumed interface {
	io.Reader
	Offset() int64
}

// inflatedAt returns an inflater of the gzip file or deflated zip member
// in fh (indexed by ix) whose next byte is inflated byte off: last, the
// inflater of the span before, when no checkpoint lies between where it
// is and off (inflating on costs less than restarting), or one restarted
// at the last checkpoint before off whose window is kept (windows.go),
// read back into buf if it was spilled; either way the bytes before off
// are dropped.
func inflatedAt(fh *os.File, ix *Index, off int64, last resumed, buf []byte) (resumed, error) {
	c := sort.Search(len(ix.gz), func(i int) bool { return ix.gz[i].Out > off }) - 1
	for c >= 0 && !ix.windows.has(ix.gz[c].Ref) {
		c-- // thinned out: the one before serves, inflating further
	}
	if c < 0 {
		return nil, ErrIndexStale // not from this index: it starts at 0
	}
	z := last
	if z == nil || z.Offset() > off || ix.gz[c].Out > z.Offset() {
		cp := ix.gz[c]
		var err error
		if cp.Ref != 0 {
			if cp.Window, err = ix.windows.window(cp.Ref, buf); err != nil {
				return nil, err
			}
		}
		if p := ix.part; p != nil {
			z, err = inflate.ResumeDeflate(io.NewSectionReader(fh, p.off, p.size), p.size, cp)
		} else {
			z, err = inflate.ResumeGzip(fh, ix.Size, cp)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := io.CopyN(io.Discard, z, off-z.Offset()); err != nil {
		return nil, err
	}
	return z, nil
}

// reopen returns what reads the gzip file or zip member again from its
// start, inflating it again (the survey of its dates, dates.go), or
// ErrIndexStale when the file on disk is no longer the one opened.
func (g *gzLeaf) reopen(path string) func() (io.Reader, func(), error) {
	return func() (io.Reader, func(), error) {
		file := path
		if g.part != nil {
			file = g.part.file // path is "archive.zip!member"
		}
		fh, err := os.Open(file)
		if err != nil {
			return nil, nil, err
		}
		st, err := fh.Stat()
		if err != nil || !os.SameFile(st, g.fi) || st.Size() != g.fi.Size() || !st.ModTime().Equal(g.fi.ModTime()) {
			fh.Close()
			return nil, nil, ErrIndexStale
		}
		switch p := g.part; {
		case p == nil:
			z, err := inflate.NewGzipReader(fh, 0)
			if err != nil {
				fh.Close()
				return nil, nil, err
			}
			return z, func() { z.Close(); fh.Close() }, nil
		case p.stored:
			return io.NewSectionReader(fh, p.off, p.size), func() { fh.Close() }, nil
		default:
			z := inflate.NewDeflateReader(io.NewSectionReader(fh, p.off, p.size), 0)
			return z, func() { z.Close(); fh.Close() }, nil
		}
	}
}
