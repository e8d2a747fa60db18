package source

import (
	"context"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/outsider-sec/outsider/internal/inflate"
)

// Inflating is what limits the triage of compressed inputs: one gzip
// stream inflates on one core (~450 MB/s here), while the decoding
// workers could take several times that. A folder of compressed files
// (outsider collect's archive holds one .jsonl.gz per content blob) need
// not wait for that one core: while the reader frames one file, the next
// ones (and, in a zip, the next compressed members) are inflated in the
// background, each up to aheadChunk*aheadChunks bytes ahead of the reader. The bytes, their order and every error are those of reading the
// files one after the other; only the time at which they are inflated
// changes.

// aheadChunk is the size of the buffers a background inflater fills, and
// aheadChunks how many it may fill before the reader takes them: a file
// is inflated at most aheadChunk*aheadChunks bytes (8 MiB) ahead of its
// reader. Variables, so that tests can make them small.
var (
	aheadChunk  = 256 << 10
	aheadChunks = 32
)

// aheadFiles is how many compressed files are inflated at once (the one
// being read and those after it): Options.Inflaters, by default one per
// CPU and no more than 8, which bounds the memory held ahead to 8 × 8 MiB.
func (r *run) aheadFiles() int {
	if r.opts.Inflaters > 0 {
		return r.opts.Inflaters
	}
	return min(runtime.GOMAXPROCS(0), 8)
}

var aheadPool = sync.Pool{New: func() any { b := make([]byte, aheadChunk); return &b }}

// chunk is a piece of inflated bytes, or the error that ended the stream
// (io.EOF at its normal end).
type chunk struct {
	buf *[]byte
	n   int
	err error
}

// aheadStream is one gzip file or zip member inflated in the background.
type aheadStream struct {
	// ready is closed once header (the gzip header's error, if any) is
	// set: a file whose gzip header is corrupt is reported as such, as
	// reading it in the foreground would.
	ready  chan struct{}
	header error

	chunks chan chunk
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	ctx  context.Context
	cur  chunk
	off  int
	done error // the error that ended the stream, once reached

	// gz, for a gzip file or a zip member on disk, is its index's
	// source: its reader's checkpoints may be read once done is io.EOF
	// (the inflater wrote them before sending the last chunk).
	gz *gzLeaf
}

// startAhead opens path and, if it is a gzip file, starts inflating it in
// the background. It returns nil for anything else (not a regular file,
// not gzip, cannot be opened): the reader then reads it the usual way,
// and reports what is wrong with it.
func (r *run) startAhead(path string) *aheadStream {
	if path == "-" {
		return nil
	}
	// Stat first: opening a named pipe ahead of its turn would block
	// until a writer comes.
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	var magic [2]byte
	if n, _ := fh.ReadAt(magic[:], 0); n < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		fh.Close()
		return nil
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil
	}
	leaf := &gzLeaf{fi: fi}
	a := r.inflateAhead(func() (io.Reader, func(), error) {
		every := r.checkpointSpacing()
		zr, err := inflate.NewGzipReader(r.counted(fh), every)
		if err != nil {
			fh.Close()
			return nil, nil, err
		}
		if every > 0 {
			zr.SetKeeper(r.windows.put)
			leaf.z = zr // before ready is closed
		}
		return zr, func() { zr.Close(); fh.Close() }, nil
	})
	leaf.ended = func() bool { return a.done == io.EOF }
	a.gz = leaf
	return a
}

// inflateAhead starts a background inflater on the stream open returns
// (and closes with done); an error from open is the stream's header
// error, reported as reading in the foreground would.
func (r *run) inflateAhead(open func() (rd io.Reader, done func(), err error)) *aheadStream {
	a := &aheadStream{
		ready:  make(chan struct{}),
		chunks: make(chan chunk, aheadChunks),
		stop:   make(chan struct{}),
		ctx:    r.ctx,
	}
	a.wg.Add(1)
	go a.inflate(open)
	return a
}

// inflate runs in the background: it fills chunks until the stream ends,
// the reader closes it, or the run is cancelled.
func (a *aheadStream) inflate(open func() (io.Reader, func(), error)) {
	defer a.wg.Done()
	rd, done, err := open()
	a.header = err
	close(a.ready)
	if err != nil {
		return
	}
	defer done()
	for {
		buf := aheadPool.Get().(*[]byte)
		if len(*buf) != aheadChunk {
			*buf = make([]byte, aheadChunk)
		}
		n, err := fill(rd, *buf)
		select {
		case a.chunks <- chunk{buf: buf, n: n, err: err}:
		case <-a.stop:
			aheadPool.Put(buf)
			return
		case <-a.ctx.Done():
			aheadPool.Put(buf)
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads into buf until it is full or the reader fails, and returns
// the reader's own error (io.ReadFull would rename a truncated gzip's
// io.ErrUnexpectedEOF).
func fill(rd io.Reader, buf []byte) (n int, err error) {
	for stalls := 0; n < len(buf); {
		m, err := rd.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			stalls = 0
		} else if stalls++; stalls >= 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// fillReader reads its reader in whole chunks, as a background inflater
// does. Zip members read in the foreground go through it so that they
// are read exactly as in the background: archive/zip's checksum reader
// drops the bytes of the read that finds a member longer or shorter than
// its header says, so what a damaged member yields depends on the size
// of the reads.
type fillReader struct {
	rd     io.Reader
	buf    []byte
	off, n int
	err    error
}

func (c *fillReader) Read(p []byte) (int, error) {
	for c.off == c.n {
		if c.err != nil {
			return 0, c.err
		}
		if c.buf == nil {
			c.buf = make([]byte, aheadChunk)
		}
		c.n, c.err = fill(c.rd, c.buf)
		c.off = 0
	}
	n := copy(p, c.buf[c.off:c.n])
	c.off += n
	return n, nil
}

// Read returns the inflated bytes in order, then the error that ended the
// stream: io.EOF, or what the gzip reader said.
func (a *aheadStream) Read(p []byte) (int, error) {
	for a.off == a.cur.n {
		if a.cur.buf != nil {
			aheadPool.Put(a.cur.buf)
			a.cur.buf = nil
		}
		if a.done != nil {
			return 0, a.done
		}
		select {
		case c := <-a.chunks:
			a.cur, a.off = c, 0
			// The error comes after the chunk's bytes.
			a.done = c.err
		case <-a.ctx.Done():
			a.done = a.ctx.Err()
		}
	}
	n := copy(p, (*a.cur.buf)[a.off:a.cur.n])
	a.off += n
	return n, nil
}

// Close stops the inflater (if it is still running) and waits for it, so
// that no goroutine or file outlives the read.
func (a *aheadStream) Close() {
	a.once.Do(func() {
		close(a.stop)
		a.wg.Wait()
		// Give back what the reader never took.
		for {
			select {
			case c := <-a.chunks:
				aheadPool.Put(c.buf)
			default:
				if a.cur.buf != nil {
					aheadPool.Put(a.cur.buf)
					a.cur.buf = nil
				}
				return
			}
		}
	})
}

// window keeps background inflaters running for the inputs after the one
// being read (the paths given to Read, or the members of a zip), so that
// up to aheadFiles() of them inflate at once.
type window struct {
	started map[int]*aheadStream // by index in the list
	next    int                  // the first index not yet considered
}

// fill starts inflaters for the inputs i, i+1, ... of a list of n, up to
// aheadFiles() in all; start returns nil for an input it does not inflate
// ahead.
func (w *window) fill(r *run, i, n int, start func(j int) *aheadStream) {
	if r.opts.noAhead {
		return
	}
	if w.started == nil {
		w.started = map[int]*aheadStream{}
	}
	w.next = max(w.next, i)
	for ; w.next < n && w.next < i+r.aheadFiles(); w.next++ {
		if a := start(w.next); a != nil {
			w.started[w.next] = a
		}
	}
}

// take returns the inflater started for input i, if any.
func (w *window) take(i int) *aheadStream {
	a := w.started[i]
	delete(w.started, i)
	return a
}

// close stops every inflater still running (the read ended early).
func (w *window) close() {
	for i, a := range w.started {
		a.Close()
		delete(w.started, i)
	}
}

// readAheadStream reads a stream inflated in the background (a gzip
// file, a zip member) as readStream would have read it in the
// foreground; label names its layer in errors.
func (r *run) readAheadStream(path string, a *aheadStream, label string, level int) error {
	defer a.Close()
	if err := r.ctx.Err(); err != nil {
		return err
	}
	<-a.ready
	if a.header != nil {
		r.fail(path, label+": "+a.header.Error())
		return nil
	}
	return r.readStream(path, &labelled{r: a, label: label}, nil, 0, level, a.gz)
}
