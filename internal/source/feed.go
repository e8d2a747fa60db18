package source

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// batchPool recycles batches together with their buffers and record
// slices, so that framing a file of any size allocates nothing per record
// and, once warm, nothing per batch either.
type batchPool struct {
	size int // the standard buffer capacity (Options.BatchBytes)
	pool sync.Pool
}

// get returns an empty batch whose buffer can hold at least need bytes.
func (p *batchPool) get(need int) *Batch {
	b, _ := p.pool.Get().(*Batch)
	if b == nil {
		b = &Batch{}
		// A method value allocates; taking it once per Batch (not per
		// use) keeps recycled batches allocation-free.
		b.release = p.put
	}
	if cap(b.buf) < need {
		c := p.size
		if c < need {
			c = need
		}
		b.buf = make([]byte, 0, c)
	}
	b.buf = b.buf[:0]
	b.Records = b.Records[:0]
	return b
}

// put takes a batch back. Buffers grown for an outsized record are
// dropped rather than kept, so one hostile record does not pin 16 MB for
// the rest of the run.
func (p *batchPool) put(b *Batch) {
	if cap(b.buf) > 2*p.size {
		b.buf = nil
	}
	b.buf = b.buf[:0]
	b.Records = b.Records[:0]
	b.Path = ""
	b.Header = nil
	b.Table = Auto
	p.pool.Put(b)
}

// feed streams one decoded input into pooled batch buffers. A framer scans
// buf; everything before start is either framed already (it belongs to
// records of the current batch) or discarded, and buf[start:] is the part
// of a record still being framed. When the buffer runs out of room, more
// hands the current batch to emit and carries buf[start:] over to a fresh
// buffer: the only copy of record bytes the package makes, and only of the
// one partial record at the end of each buffer.
type feed struct {
	r    *run
	file int // index of the input
	path string
	// format, csvCol, sep, header and table label the batches.
	format Format
	csvCol int
	sep    byte
	header []string
	table  Format

	src     io.Reader
	b       *Batch
	buf     []byte
	start   int
	eof     bool
	rerr    error // a read error that ended the input early
	minRead int

	// Line tracking for framers that find record starts far apart (the
	// JSON scanner): lineNo is the 1-based line of the byte at linePos.
	trackLines bool
	lineNo     int64
	linePos    int

	framed int64

	// dates is what the locale dates of the file's time columns show
	// (dates.go): surveyed by a read of their own, or while holding, or
	// given (ReadIndexed). dateCols are the time columns; held the
	// batches held until the file is surveyed, heldBytes their rows'
	// bytes and heldRows the rows surveyed into dates; cut says the hold
	// budget was spent, later what the rows past it show; scratch is the
	// survey's unquoting buffer. reopen, when not nil, reads the input
	// again from its start (a regular file, a gzip file or zip member on
	// disk), which the survey then does instead of holding.
	dates     localedate.Evidence
	holding   bool
	dateCols  []int
	held      []*Batch
	heldBytes int64
	heldRows  int64
	cut       bool
	later     localedate.Evidence
	scratch   []byte
	reopen    func() (io.Reader, func(), error)
	// rereadFailed: the input could be read again but its survey's read
	// failed (it changed since it was opened, a read error), so its rows
	// are held as a stream's are; the warnings say which it was.
	rereadFailed bool

	// ix, when not nil, is the index being built of a plain file (mark);
	// base is the file offset of the first byte read from src, read the
	// bytes read from src so far, nextMark the offset the next point must
	// reach.
	ix       *Index
	base     int64
	read     int64
	nextMark int64
}

func (r *run) newFeed(file int, path string, src io.Reader) *feed {
	f := &feed{r: r, file: file, path: path, src: src, csvCol: -1, lineNo: 1}
	f.minRead = r.pool.size / 8
	if f.minRead > 64<<10 {
		f.minRead = 64 << 10
	}
	if f.minRead < 16 {
		f.minRead = 16
	}
	f.b = r.pool.get(r.pool.size)
	f.buf = f.b.buf
	return f
}

// add frames buf[s:e] as a record. The capacity is cut at e so that a
// consumer appending to Data cannot overwrite the next record.
func (f *feed) add(s, e int, line int64) {
	f.b.Records = append(f.b.Records, Record{Data: f.buf[s:e:e], Line: line})
	f.framed++
}

// lineAt returns the 1-based line of buf[p], counting newlines lazily
// from the last position asked (p must not go backwards).
func (f *feed) lineAt(p int) int64 {
	if p > f.linePos {
		f.lineNo += int64(bytes.Count(f.buf[f.linePos:p], nl))
		f.linePos = p
	}
	return f.lineNo
}

var nl = []byte{'\n'}

// more reads more input into the buffer, keeping buf[start:]. It returns
// how far the kept bytes moved to the front of the buffer (callers
// subtract it from every offset they hold) and false once the input is
// exhausted with no new byte.
func (f *feed) more() (delta int, ok bool, err error) {
	if f.eof {
		return 0, false, nil
	}
	if cap(f.buf)-len(f.buf) < f.minRead {
		if delta, err = f.rotate(0); err != nil {
			return 0, false, err
		}
	}
	for tries := 0; ; tries++ {
		n, rerr := f.src.Read(f.buf[len(f.buf):cap(f.buf)])
		f.buf = f.buf[:len(f.buf)+n]
		f.read += int64(n)
		if rerr != nil {
			f.eof = true
			if rerr != io.EOF {
				f.readError(rerr)
			}
			return delta, n > 0, nil
		}
		if n > 0 {
			return delta, true, nil
		}
		if tries >= 100 {
			f.eof = true
			f.readError(io.ErrNoProgress)
			return delta, false, nil
		}
	}
}

// readError records why the input ended early. An odd trailing UTF-16 byte
// loses nothing but that byte, so it is reported at once and the input
// ends normally; anything else (corrupt gzip, I/O error) is reported by
// the framer, which knows whether a partial record was lost with it.
func (f *feed) readError(err error) {
	if errors.Is(err, errOddByte) {
		f.r.report(f.file, Problem{Path: f.path, Reason: err.Error()})
		return
	}
	f.rerr = err
}

// failRead reports the error that ended the input early, before anything
// could be framed, counting the partial record it cut (if any) as skipped.
func (f *feed) failRead(partial bool) {
	f.failReadAt("", 0, partial)
}

// failReadAt is failRead from a framer, which names the line (row) where
// reading stopped; both say the rest is lost: a truncated gzip file's
// records past that point are not one skipped record but an unknown
// number, and the analyst needs to know how far the report reaches.
func (f *feed) failReadAt(unit string, line int64, partial bool) {
	p := Problem{Path: f.path, Unit: unit, Line: line,
		Reason: f.rerr.Error() + ": reading stopped here, so the report holds nothing of this input after it"}
	if partial {
		p.Records = 1
	}
	f.r.report(f.file, p)
}

// rotate makes room for at least minRead more bytes after buf[start:]
// plus extra: it hands a batch that holds records to emit and starts a
// new one, or, when the batch holds none, moves the kept bytes to the
// front (growing the buffer if the partial record needs it).
func (f *feed) rotate(extra int) (int, error) {
	if err := f.r.ctx.Err(); err != nil {
		return 0, err
	}
	if f.trackLines {
		f.lineAt(f.start)
	}
	keep := f.buf[f.start:]
	need := len(keep) + f.minRead + extra
	delta := f.start
	switch {
	case len(f.b.Records) > 0:
		nb := f.r.pool.get(need)
		nb.buf = append(nb.buf[:0], keep...)
		old := f.b
		f.b, f.buf = nb, nb.buf
		if err := f.emit(old); err != nil {
			return 0, err
		}
	case cap(f.buf) >= need:
		f.buf = f.buf[:copy(f.buf[:cap(f.buf)], keep)]
	default:
		// Doubling keeps a record that outgrows the buffer from being
		// copied once per read; a peek asks for just what it needs.
		c := 2 * need
		if extra > 0 {
			c = need
		}
		if c < f.r.pool.size {
			c = f.r.pool.size
		}
		nbuf := make([]byte, len(keep), c)
		copy(nbuf, keep)
		f.buf = nbuf
	}
	f.b.buf = f.buf
	f.start = 0
	if f.trackLines {
		f.linePos -= delta
	}
	return delta, nil
}

// peek makes sure at least n bytes from start are buffered, or the input
// is exhausted. Sniffing uses it before any record is framed.
func (f *feed) peek(n int) error {
	for len(f.buf)-f.start < n && !f.eof {
		if cap(f.buf)-f.start < n+f.minRead {
			if _, err := f.rotate(n); err != nil {
				return err
			}
		}
		if _, _, err := f.more(); err != nil {
			return err
		}
	}
	return nil
}

// emit hands a batch over, after checking for cancellation; while the
// file's dates are surveyed, it holds the batch instead.
func (f *feed) emit(b *Batch) error {
	if err := f.r.ctx.Err(); err != nil {
		f.r.pool.put(b)
		return err
	}
	if f.holding {
		f.held = append(f.held, b)
		if f.survey(b) {
			return f.release()
		}
		return nil
	}
	if f.cut {
		f.surveyLater(b)
	}
	return f.send(b)
}

// send labels a batch with the input's and hands it over.
func (f *feed) send(b *Batch) error {
	b.File, b.Path, b.Format, b.CSVColumn, b.Header, b.Table = f.file, f.path, f.format, f.csvCol, f.header, f.table
	b.Dates = f.dates
	b.Separator = f.sep
	return f.r.emit(b)
}

// finish hands over the last batch, or recycles it when it is empty,
// and then the batches held for the survey of the file's dates.
func (f *feed) finish() error {
	b := f.b
	if b != nil {
		f.b = nil
		b.buf = f.buf
		if len(b.Records) == 0 {
			f.r.pool.put(b)
		} else if err := f.emit(b); err != nil {
			f.drop()
			return err
		}
	}
	if f.holding {
		return f.release()
	}
	f.warnLater()
	return nil
}

// drop recycles the batches held for the survey: the run is stopping.
func (f *feed) drop() {
	for _, b := range f.held {
		f.r.pool.put(b)
	}
	f.held, f.holding, f.heldBytes = nil, false, 0
}
