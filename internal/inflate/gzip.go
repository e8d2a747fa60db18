// Copyright 2009 The Go Authors. All rights reserved.
// Copyright 2019 Klaus Post. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package inflate reads a gzip file (one member, or several one after
// another as gunzip reads them) or a raw deflate stream (a zip member's
// data) and can restart reading in its middle.
//
// A deflate stream cannot be entered at an arbitrary byte: a block's
// first bit need not start a byte, and its matches refer to up to 32 KiB
// of output before it. While reading, a GzipReader can therefore note
// checkpoints at block boundaries, as zlib's examples/zran.c does: where
// the block starts (byte and bit) in the file, where its output starts in
// the inflated stream, and the 32 KiB of output before it (the window);
// ResumeGzip later starts inflating there, with the window as the
// inflater's history.
//
// The inflater is a fork of klauspost/compress v1.20.4's flate
// decompressor (flate.go, flate_gen.go, dict_decoder.go: its
// inflate.go, inflate_gen.go and dict_decoder.go), the one the rest of
// the reader uses, under the BSD licence in this folder's LICENSE file.
// Upstream reports block ends (flate.WithEobCallback) and resumes from
// them (flate.WithResumeFrom), but is not used as is: it copies the
// 32 KiB window at every block end (~37,000 times in a 1 GB file, ~70 ms),
// its option does not survive a Reset (a new inflater per gzip member),
// and it counts the bytes left in its bit buffer twice at a stored block,
// so that every block end after a stored block that follows a Huffman
// block is reported too far into the input and cannot be resumed from.
// What changed: those three (the window is copied only when a checkpoint
// is due; reset takes the callback; the count is fixed), the options and
// entry points replaced by one reset method, the unused parts (writing to
// an io.Writer, preset dictionaries, partial flushes' options, debugging
// prints) removed, and the constants it took from the package's other
// files copied in. Of the generated flate_gen.go only the Huffman loop
// specialised for a bufio.Reader is kept (every reader here is buffered;
// upstream also has copies for bytes and strings readers and a generic
// one), unchanged but for its package name, the shift mask constant and
// its debugging prints (never on) removed. The member handling (header,
// trailer, several members) is that of klauspost's gzip/gunzip.go, itself
// from Go's compress/gzip; the header's fields are checked, not kept.
//
// A GzipReader returns the bytes and the errors klauspost's gzip.Reader
// returns (tested on damaged streams and fuzzed). Its read buffer is
// 64 KiB rather than bufio's 4 KiB: fewer read calls, ~2% less CPU on a
// 1 GB file.
package inflate

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

const (
	gzipID1     = 0x1f
	gzipID2     = 0x8b
	gzipDeflate = 8
	flagHdrCrc  = 1 << 1
	flagExtra   = 1 << 2
	flagName    = 1 << 3
	flagComment = 1 << 4

	// bufSize is the read buffer over the file.
	bufSize = 64 << 10
)

// The errors of a damaged header or trailer, those of compress/gzip (and
// of klauspost's gzip, which aliases them).
var (
	ErrChecksum = gzip.ErrChecksum
	ErrHeader   = gzip.ErrHeader
)

// ErrNoWindow says a checkpoint whose window a Keeper took was resumed
// from without its window set again: inflating would go wrong at the
// first match into it.
var ErrNoWindow = errors.New("inflate: checkpoint's window not given back")

var le = binary.LittleEndian

// Checkpoint is where reading can restart: output offset Out of the
// inflated stream (every member's output one after another) is produced
// by inflating from bit Bit (0 the lowest) of byte In of the file, either
// a member's header (Header) or a deflate block within a member whose
// last output, up to 32 KiB, is Window.
type Checkpoint struct {
	Out    int64
	In     int64
	Bit    uint8
	Header bool
	Window []byte
	// Ref, when not 0, is what the reader's Keeper returned for the
	// window it took (Window is then nil): a resume needs Window set
	// again from it. 0 when the checkpoint has no window (a member's
	// header, a stream's start) or no Keeper took it.
	Ref int64
}

// A Keeper takes the window of a reader's n-th checkpoint (from 0) and
// returns a reference to it (not 0) that Checkpoint.Ref keeps instead:
// the windows of a large file (8 MiB per GB inflated) may then live
// elsewhere than in memory. It owns window from then on. It is called
// from the goroutine that reads, once every few MiB of output.
type Keeper func(n int, window []byte) int64

// GzipReader inflates a gzip stream, optionally noting checkpoints.
type GzipReader struct {
	src *counter
	br  *bufio.Reader
	dec *decompressor

	digest uint32 // CRC-32 of the member's output so far
	size   uint32 // its length mod 2^32
	check  bool   // digest and size cover the whole member (not a resumed one)
	buf    [512]byte
	err    error

	out       int64 // offset in the inflated stream of the next byte returned
	memberOut int64 // out when the current member started
	memberIn  int64 // file offset of the current member's deflate data

	every int64 // least distance between checkpoints; 0: none are taken
	next  int64 // the Out the next checkpoint must reach
	cps   []Checkpoint
	keep  Keeper
	eof   bool // the stream ended cleanly
}

// counter counts the bytes read from the file.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewGzipReader reads the gzip stream r (from its first byte, which is byte 0
// for Checkpoint.In) and, when every > 0, notes a checkpoint at the start
// and then whenever a block or member starts at least every bytes of
// output after the last one. It returns the first header's error, as
// gzip.NewReader does.
func NewGzipReader(r io.Reader, every int64) (*GzipReader, error) {
	z := &GzipReader{src: &counter{r: r}, every: every, check: true, dec: newDecompressor()}
	z.br = bufio.NewReaderSize(z.src, bufSize)
	z.err = z.readHeader()
	if z.err != nil {
		return nil, z.err
	}
	return z, nil
}

// ResumeGzip reads the gzip file r (size bytes) from checkpoint cp on: its
// output is the stream's from cp.Out. The trailer of the member cp lies
// in is not checked (its checksum covers output not inflated again):
// Resume is for reading again a file read whole before.
func ResumeGzip(r io.ReaderAt, size int64, cp Checkpoint) (*GzipReader, error) {
	if cp.In < 0 || cp.In > size || cp.Bit > 7 || len(cp.Window) > 1<<15 {
		return nil, ErrHeader
	}
	if cp.Ref != 0 && cp.Window == nil {
		return nil, ErrNoWindow
	}
	z := &GzipReader{src: &counter{r: io.NewSectionReader(r, cp.In, size-cp.In), n: cp.In}, out: cp.Out, check: true, dec: newDecompressor()}
	z.br = bufio.NewReaderSize(z.src, bufSize)
	if cp.Header {
		z.err = z.readHeader()
		if z.err != nil {
			return nil, z.err
		}
		return z, nil
	}
	z.check = false
	z.memberOut, z.memberIn = cp.Out, cp.In
	z.dec.reset(z.br, nil, 0, 0, cp.Window, cp.Bit)
	return z, nil
}

// Checkpoints returns the checkpoints noted so far, in stream order.
func (z *GzipReader) Checkpoints() []Checkpoint { return z.cps }

// SetKeeper hands the windows of the checkpoints noted from now on to k
// (before the first Read: the checkpoints noted until then have none).
func (z *GzipReader) SetKeeper(k Keeper) { z.keep = k }

// EOF says whether the stream was read to its clean end.
func (z *GzipReader) EOF() bool { return z.eof }

// Offset is the offset in the inflated stream of the next byte Read
// returns.
func (z *GzipReader) Offset() int64 { return z.out }

// consumed is the file offset of the next byte the inflater will take.
func (z *GzipReader) consumed() int64 { return z.src.n - int64(z.br.Buffered()) }

// readString reads a NUL-terminated header string, keeping its CRC.
func (z *GzipReader) readString() error {
	for i := 0; ; i++ {
		if i >= len(z.buf) {
			return ErrHeader
		}
		c, err := z.br.ReadByte()
		if err != nil {
			return err
		}
		z.buf[i] = c
		if c == 0 {
			z.digest = crc32.Update(z.digest, crc32.IEEETable, z.buf[:i+1])
			return nil
		}
	}
}

// readHeader reads a member's header and readies its inflater.
func (z *GzipReader) readHeader() (err error) {
	start := z.consumed()
	if _, err = io.ReadFull(z.br, z.buf[:10]); err != nil {
		return err
	}
	if z.buf[0] != gzipID1 || z.buf[1] != gzipID2 || z.buf[2] != gzipDeflate {
		return ErrHeader
	}
	flg := z.buf[3]
	z.digest = crc32.ChecksumIEEE(z.buf[:10])
	if flg&flagExtra != 0 {
		if _, err = io.ReadFull(z.br, z.buf[:2]); err != nil {
			return noEOF(err)
		}
		z.digest = crc32.Update(z.digest, crc32.IEEETable, z.buf[:2])
		// The extra field is skipped a piece at a time rather than
		// allocated: its length is the file's to choose.
		for n := int(le.Uint16(z.buf[:2])); n > 0; {
			m := min(n, len(z.buf))
			if _, err = io.ReadFull(z.br, z.buf[:m]); err != nil {
				return noEOF(err)
			}
			z.digest = crc32.Update(z.digest, crc32.IEEETable, z.buf[:m])
			n -= m
		}
	}
	if flg&flagName != 0 {
		if err = z.readString(); err != nil {
			return noEOF(err)
		}
	}
	if flg&flagComment != 0 {
		if err = z.readString(); err != nil {
			return noEOF(err)
		}
	}
	if flg&flagHdrCrc != 0 {
		if _, err = io.ReadFull(z.br, z.buf[:2]); err != nil {
			return noEOF(err)
		}
		if le.Uint16(z.buf[:2]) != uint16(z.digest) {
			return ErrHeader
		}
	}
	if flg>>5 != 0 {
		return ErrHeader
	}
	z.digest = 0
	z.memberOut, z.memberIn = z.out, z.consumed()
	if z.every > 0 && z.out >= z.next {
		z.cps = append(z.cps, Checkpoint{Out: z.out, In: start, Header: true})
		z.next = z.out + z.every
	}
	if z.every > 0 {
		z.dec.reset(z.br, z.blockEnd, z.next-z.memberOut, z.every, nil, 0)
	} else {
		z.dec.reset(z.br, nil, 0, 0, nil, 0)
	}
	return nil
}

// blockEnd notes a checkpoint at the end of a block of the current
// member, which the inflater reports when one is due.
func (z *GzipReader) blockEnd(b blockEnd) {
	out := z.memberOut + b.out
	bits := z.memberIn*8 + b.bitPos
	z.cps = append(z.cps, kept(z.keep, len(z.cps), Checkpoint{Out: out, In: bits / 8, Bit: uint8(bits % 8), Window: b.window}))
	z.next = out + z.every
}

// kept is cp, its window handed to keep when there is one.
func kept(keep Keeper, n int, cp Checkpoint) Checkpoint {
	if keep != nil {
		cp.Ref, cp.Window = keep(n, cp.Window), nil
	}
	return cp
}

// Read returns the inflated bytes of every member in turn.
func (z *GzipReader) Read(p []byte) (n int, err error) {
	if z.err != nil {
		return 0, z.err
	}
	for n == 0 {
		n, z.err = z.dec.Read(p)
		if z.check {
			z.digest = crc32.Update(z.digest, crc32.IEEETable, p[:n])
		}
		z.size += uint32(n)
		z.out += int64(n)
		if z.err != io.EOF {
			return n, z.err
		}
		// The member's trailer: its output's CRC-32 and length.
		if _, err := io.ReadFull(z.br, z.buf[:8]); err != nil {
			z.err = noEOF(err)
			return n, z.err
		}
		if z.check && (le.Uint32(z.buf[:4]) != z.digest || le.Uint32(z.buf[4:8]) != z.size) {
			z.err = ErrChecksum
			return n, z.err
		}
		z.digest, z.size, z.check = 0, 0, true
		// Another member may follow.
		if z.err = z.readHeader(); z.err != nil {
			if z.err == io.EOF {
				z.eof = true
			}
			return n, z.err
		}
	}
	return n, nil
}

// Close releases the inflater; it returns the inflater's error, as
// gzip.Reader.Close does.
func (z *GzipReader) Close() error {
	return z.dec.Close()
}
