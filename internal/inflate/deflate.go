package inflate

import (
	"bufio"
	"io"
)

// DeflateReader inflates a raw deflate stream (a zip member's data) and,
// like GzipReader, can note checkpoints and restart from them; In counts
// bytes from the stream's first byte.
type DeflateReader struct {
	src   *counter
	br    *bufio.Reader
	dec   *decompressor
	every int64
	cps   []Checkpoint
	keep  Keeper
	out   int64
	eof   bool
}

// NewDeflateReader reads the deflate stream r and, when every > 0, notes
// a checkpoint at its start and then whenever a block starts at least
// every bytes of output after the last one.
func NewDeflateReader(r io.Reader, every int64) *DeflateReader {
	z := &DeflateReader{src: &counter{r: r}, every: every, dec: newDecompressor()}
	// A zip member's data comes as a section of the archive: a small
	// member (a zip may hold thousands) gets a buffer of its size.
	size := bufSize
	if sr, ok := r.(*io.SectionReader); ok && sr.Size() < int64(size) {
		size = int(max(sr.Size(), 16))
	}
	z.br = bufio.NewReaderSize(z.src, size)
	if every > 0 {
		z.cps = []Checkpoint{{}}
		z.dec.reset(z.br, z.blockEnd, every, every, nil, 0)
	} else {
		z.dec.reset(z.br, nil, 0, 0, nil, 0)
	}
	return z
}

// ResumeDeflate reads the deflate stream r (size bytes) from checkpoint
// cp on: its output is the stream's from cp.Out.
func ResumeDeflate(r io.ReaderAt, size int64, cp Checkpoint) (*DeflateReader, error) {
	if cp.Header || cp.In < 0 || cp.In > size || cp.Bit > 7 || len(cp.Window) > 1<<15 {
		return nil, ErrHeader
	}
	if cp.Ref != 0 && cp.Window == nil {
		return nil, ErrNoWindow
	}
	z := &DeflateReader{src: &counter{r: io.NewSectionReader(r, cp.In, size-cp.In), n: cp.In}, out: cp.Out, dec: newDecompressor()}
	z.br = bufio.NewReaderSize(z.src, bufSize)
	z.dec.reset(z.br, nil, 0, 0, cp.Window, cp.Bit)
	return z, nil
}

// blockEnd notes a checkpoint the inflater reports as due.
func (z *DeflateReader) blockEnd(b blockEnd) {
	z.cps = append(z.cps, kept(z.keep, len(z.cps), Checkpoint{Out: b.out, In: b.bitPos / 8, Bit: uint8(b.bitPos % 8), Window: b.window}))
}

// SetKeeper hands the windows of the checkpoints noted from now on to k
// (before the first Read).
func (z *DeflateReader) SetKeeper(k Keeper) { z.keep = k }

// Checkpoints returns the checkpoints noted so far, in stream order.
func (z *DeflateReader) Checkpoints() []Checkpoint { return z.cps }

// EOF says whether the stream was read to its clean end.
func (z *DeflateReader) EOF() bool { return z.eof }

// Offset is the offset in the inflated stream of the next byte Read
// returns.
func (z *DeflateReader) Offset() int64 { return z.out }

// Read returns the inflated bytes, then the inflater's error (io.EOF at
// the stream's end), as klauspost's flate reader does.
func (z *DeflateReader) Read(p []byte) (int, error) {
	n, err := z.dec.Read(p)
	z.out += int64(n)
	if err == io.EOF {
		z.eof = true
	}
	return n, err
}

// Close returns the inflater's error, if any, as flate's Close does.
func (z *DeflateReader) Close() error { return z.dec.Close() }
