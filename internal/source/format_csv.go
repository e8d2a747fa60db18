package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"strconv"
)

var typePrefix = []byte("#TYPE")

// frameCSV frames the data rows of a CSV export (RFC 4180, as Excel and
// Export-Csv write it) under its header row; rows are numbered from the
// header (row 1), blank rows counted but not framed.
//
// Rows end at the first newline preceded by an even number of quotes
// since the row started: a quoted field opens and closes with one quote
// each and holds only doubled ones, so the quote count's parity says
// whether a newline is inside a field. That turns row finding into one
// vectorised pass per line (nextNewline: the newline and the quotes
// before it) instead of a byte-by-byte state machine.
//
// A stray quote flips the parity for the rest of the input, so a row is
// declared broken, and framing resumes at the line after the one it
// starts on (with the quote count reset), when
//   - its first line alone is over MaxRecordBytes ("row is N bytes"),
//   - it spans lines and is over MaxRecordBytes ("unbalanced quote"), or
//   - its quote is still open at the end of input ("unbalanced quote").
//
// A real row never spans MaxRecordBytes, and resuming at the next line
// loses only the broken row when the rows that follow are sound. The
// rules depend only on the content, never on where buffer boundaries
// fall.
func frameCSV(f *feed) error { return frameCSVFrom(f, 1, true) }

// frameCSVFrom frames from f.start, where row row starts (1: the header);
// typeLine says a "#TYPE" line may come first. Framing from a row after
// the header (ReadIndexed) frames what framing from the start frames
// there: the rules depend only on the content from the row's start.
func frameCSVFrom(f *feed, row int64, typeLine bool) error {
	limit := f.r.opts.MaxRecordBytes
	rowStart, scan := f.start, f.start
	odd := 0       // parity of quotes in buf[rowStart:scan]
	firstEnd := -1 // the end of the row's first line, once it spans lines
	skipType := typeLine && bytes.HasPrefix(f.buf[f.start:], typePrefix)
	if row == 1 {
		f.mark(rowStart, row) // where framing starts: the header (or #TYPE)
	}
	discarding := false
	var dropped int64

	// resume restarts framing at the line after the broken row's first.
	resume := func() {
		rowStart, scan = firstEnd+1, firstEnd+1
		row++
		odd, firstEnd = 0, -1
	}
	// broken reports the row at rowStart that spans lines and cannot be
	// framed, and resumes after its first line.
	broken := func() {
		if firstEnd-rowStart > limit {
			f.overLimit("row", row, int64(firstEnd-rowStart))
		} else {
			f.unbalanced(row)
		}
		resume()
	}
	// endRow frames the row buf[rowStart:end]; false when it was broken
	// and framing resumed inside it.
	endRow := func(end int) bool {
		if end-rowStart > limit {
			if firstEnd >= 0 {
				broken()
				return false
			}
			f.overLimit("row", row, int64(end-rowStart))
		} else if row > 1 {
			e := end
			if e > rowStart && f.buf[e-1] == '\r' {
				e--
			}
			if e > rowStart {
				f.add(rowStart, e, row)
			}
		}
		row++
		rowStart, scan = end+1, end+1
		odd, firstEnd = 0, -1
		return true
	}

	for {
		buf := f.buf
		tailOdd := 0 // parity of quotes in buf[scan:] once no newline is left
		for {
			i, q := nextNewline(buf[scan:])
			if i < 0 {
				tailOdd = q
				break
			}
			end := scan + i
			switch {
			case skipType:
				skipType = false
				rowStart, scan = end+1, end+1
			case discarding:
				f.overLimit("row", row, dropped+int64(end-rowStart))
				discarding = false
				row++
				rowStart, scan = end+1, end+1
				odd, firstEnd = 0, -1
			default:
				odd ^= q
				if odd == 1 {
					if firstEnd < 0 {
						firstEnd = end
					}
					scan = end + 1
					continue
				}
				endRow(end)
			}
		}
		switch {
		case skipType:
			rowStart = len(buf)
		case discarding:
			dropped += int64(len(buf) - rowStart)
			rowStart = len(buf)
		default:
			odd ^= tailOdd
			if len(buf)-rowStart > limit {
				if firstEnd >= 0 {
					broken()
					continue
				}
				discarding, dropped = true, int64(len(buf)-rowStart)
				rowStart = len(buf)
			}
		}
		scan = len(buf)
		f.start = rowStart
		if !skipType && !discarding && row > 1 {
			f.mark(rowStart, row)
		}
		delta, ok, err := f.more()
		if err != nil {
			return err
		}
		rowStart -= delta
		scan -= delta
		if firstEnd >= 0 {
			firstEnd -= delta
		}
		if ok {
			continue
		}
		// The end of input.
		switch {
		case f.rerr != nil:
			f.failReadAt("row", row, discarding || rowStart < len(f.buf))
		case skipType:
		case discarding:
			f.overLimit("row", row, dropped)
		case rowStart == len(f.buf):
		case odd == 1 && firstEnd >= 0:
			broken()
			continue // frame what follows the broken row's first line
		case odd == 1:
			f.unbalanced(row)
		default:
			if !endRow(len(f.buf)) {
				continue
			}
		}
		return nil
	}
}

// nextNewline returns the index of the first '\n' in b (-1 if none) and
// the parity of the quotes before it (before the end when there is
// none): what frameCSV needs of each line. With AVX-512 it reads b once
// (newlineQuotes); otherwise IndexByte finds the newline and Count the
// quotes, two passes.
func nextNewline(b []byte) (int, int) {
	if hasRowScan {
		if len(b) == 0 {
			return -1, 0
		}
		i, q := newlineQuotes(&b[0], len(b))
		return i, q & 1
	}
	return nextNewlineBytes(b)
}

// nextNewlineBytes is nextNewline with package bytes (the portable path,
// and what the fuzz test holds newlineQuotes to).
func nextNewlineBytes(b []byte) (int, int) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1, bytes.Count(b, quote) & 1
	}
	return i, bytes.Count(b[:i], quote) & 1
}

func (f *feed) unbalanced(row int64) {
	f.r.report(f.file, Problem{Path: f.path, Unit: "row", Line: row, Records: 1,
		Reason: "unbalanced quote: a quoted field opens in this row and does not close"})
}

// csvField returns field col of a row. A field without quotes is returned
// as a subslice of row; a quoted one is unquoted and appended to scratch,
// which is returned for reuse (see CSVField).
func csvField(row []byte, col int, scratch []byte) ([]byte, []byte, error) {
	if hasRowScan && col > 0 && len(row) > 0 {
		// The fields before AuditData are unquoted in Purview's exports:
		// its start is one past the col-th comma, found in one pass
		// (stepping over five fields by IndexByte cost as much as
		// unquoting AuditData). With a quote before it, or too few
		// commas, the walk below decides.
		if c := nthComma(&row[0], len(row), col); c >= 0 {
			return csvFieldFrom(row, c+1, col, col, ',', scratch)
		}
	}
	return csvFieldFrom(row, 0, 0, col, ',', scratch)
}

// csvFieldFrom is csvField from row[i], the start of field n <= col, of a
// row whose fields are separated by sep: ',' for csvField, or ';' or tab
// for the exports Excel saves with those (csv_sep.go), read by the same
// rules and the same code so that a fix to one is a fix to all.
func csvFieldFrom(row []byte, i, n, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	for {
		if i < len(row) && row[i] == '"' && n == col {
			return unquoteField(row, i, col, sep, scratch)
		}
		if i < len(row) && row[i] == '"' {
			// A quoted field before the wanted one: find its closing
			// quote, stepping over doubled ones.
			j := i + 1
			for {
				k := bytes.IndexByte(row[j:], '"')
				if k < 0 {
					return nil, scratch, fieldsErr(n+1, col)
				}
				if j+k+1 < len(row) && row[j+k+1] == '"' {
					j += k + 2
					continue
				}
				j += k
				break
			}
			// row[j] is the closing quote; junk up to the separator is
			// part of the field.
			next := bytes.IndexByte(row[j+1:], sep)
			if next < 0 {
				return nil, scratch, fieldsErr(n+1, col)
			}
			i = j + 1 + next + 1
		} else {
			k := bytes.IndexByte(row[i:], sep)
			if n == col {
				if k < 0 {
					return row[i:], scratch, nil
				}
				return row[i : i+k], scratch, nil
			}
			if k < 0 {
				return nil, scratch, fieldsErr(n+1, col)
			}
			i += k + 1
		}
		n++
	}
}

// unquoteField returns the quoted field that starts at row[i], unquoted
// and appended to scratch. It copies eight bytes at a time and stops only
// at quotes (found in each word by a zero-byte test): AuditData is JSON
// with every quote doubled, a quote every ten bytes or so, and calling
// IndexByte and append for each one cost more than the copy itself. The
// unquoting never looks at the separator sep: only closeField, after the
// closing quote, does.
func unquoteField(row []byte, i, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	if hasCompress && len(row)-i >= 2*64 {
		return unquoteFieldBlocks(row, i, col, sep, scratch)
	}
	return unquoteFieldWords(row, i, col, sep, scratch)
}

// unquoteFieldWords is unquoteField eight bytes at a time.
func unquoteFieldWords(row []byte, i, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	start := len(scratch)
	// The output is never longer than the field; eight bytes of slack
	// let every word be stored whole.
	scratch = slices.Grow(scratch, len(row)-i+8)
	out := scratch[start : start+len(row)-i+8]
	closing, o := unquoteWords(out, row[i+1:])
	if closing < 0 {
		return nil, scratch[:start], errors.New("quoted field " + strconv.Itoa(col+1) + " does not close")
	}
	return closeField(row, i+1+closing, out, o, scratch, start, sep)
}

// unquoteWords unquotes in, what follows a field's opening quote, into
// out (len(in)+8 bytes) eight bytes at a time, up to the closing quote:
// it returns the closing quote's index in in (-1 when the field does not
// close) and the bytes written, as unquoteQuoted does 64 bytes at a time.
// The loop is a function of its own so that it keeps its few values in
// registers: inside unquoteFieldWords, with the field's scratch, column
// and separator live across it, it took 11% more instructions (callgrind,
// BenchmarkCSVField and BenchmarkCSVFieldPurview without AVX-512).
func unquoteWords(out, in []byte) (int, int) {
	o, j := 0, 0
	for {
		found := false
		for j+8 <= len(in) {
			w := binary.LittleEndian.Uint64(in[j:])
			binary.LittleEndian.PutUint64(out[o:], w)
			if m := zeroBytes(w ^ quoteWord); m != 0 {
				p := bits.TrailingZeros64(m) >> 3
				o, j, found = o+p, j+p, true
				break
			}
			o, j = o+8, j+8
		}
		if !found {
			for j < len(in) && in[j] != '"' {
				out[o] = in[j]
				o, j = o+1, j+1
			}
			if j >= len(in) {
				return -1, o
			}
		}
		// in[j] is a quote: doubled, it stands for one.
		if j+1 < len(in) && in[j+1] == '"' {
			out[o] = '"'
			o, j = o+1, j+2
			continue
		}
		// in[j] is the closing quote.
		return j, o
	}
}

// closeField ends an unquoted field whose closing quote is row[closing]
// and whose o bytes so far are in out (scratch[start:]). Anything between
// the closing quote and the next separator sep is malformed; it is kept,
// as Excel does.
func closeField(row []byte, closing int, out []byte, o int, scratch []byte, start int, sep byte) ([]byte, []byte, error) {
	stop := len(row)
	if next := bytes.IndexByte(row[closing+1:], sep); next >= 0 {
		stop = closing + 1 + next
	}
	o += copy(out[o:], row[closing+1:stop])
	scratch = scratch[:start+o]
	return scratch[start:], scratch, nil
}

// unquoteFieldBlocks is unquoteField 64 bytes at a time, with AVX-512,
// in one pass (unquoteQuoted): a quote bitmap per block, the quotes to
// drop (the second of each pair) found with the carry-less arithmetic
// simdjson uses for runs of backslashes, the kept bytes packed by
// VPCOMPRESSB. A quote that starts a pair but has no partner is the
// closing quote.
func unquoteFieldBlocks(row []byte, i, col int, sep byte, scratch []byte) ([]byte, []byte, error) {
	start := len(scratch)
	if i+1 >= len(row) {
		return nil, scratch, errors.New("quoted field " + strconv.Itoa(col+1) + " does not close")
	}
	scratch = slices.Grow(scratch, len(row)-i+64)
	out := scratch[start : start+len(row)-i+64]
	closing, o := unquoteQuoted(&out[0], &row[i+1], len(row)-i-1)
	if closing < 0 {
		return nil, scratch[:start], errors.New("quoted field " + strconv.Itoa(col+1) + " does not close")
	}
	return closeField(row, i+1+closing, out, o, scratch, start, sep)
}

// quoteWord is '"' in every byte of a word.
const quoteWord = 0x2222222222222222

// zeroBytes has the high bit set in the lowest zero byte of w (and
// possibly in higher ones): its lowest set bit marks the first zero byte
// exactly.
func zeroBytes(w uint64) uint64 {
	return (w - 0x0101010101010101) &^ w & 0x8080808080808080
}

func fieldsErr(fields, col int) error {
	return errors.New("row has " + strconv.Itoa(fields) + " fields, AuditData is column " + strconv.Itoa(col+1))
}

// csvFields splits a row into all its fields (see CSVFields), separated
// by sep (',', or what the header of a ';' or tab export says). It follows
// csvField's rules field by field: one IndexByte per quote or separator.
func csvFields(row []byte, sep byte, dst [][]byte, scratch []byte) ([][]byte, []byte, error) {
	i := 0
	for {
		if i < len(row) && row[i] == '"' {
			j, doubled := i+1, false
			start := len(scratch)
			for {
				k := bytes.IndexByte(row[j:], '"')
				if k < 0 {
					return dst, scratch[:start], errors.New("quoted field " + strconv.Itoa(len(dst)+1) + " does not close")
				}
				if j+k+1 < len(row) && row[j+k+1] == '"' {
					scratch = append(scratch, row[j:j+k+1]...)
					doubled = true
					j += k + 2
					continue
				}
				if doubled {
					scratch = append(scratch, row[j:j+k]...)
				}
				j += k
				break
			}
			next := bytes.IndexByte(row[j+1:], sep)
			stop := len(row)
			if next >= 0 {
				stop = j + 1 + next
			}
			switch {
			case !doubled && stop == j+1:
				dst = append(dst, row[i+1:j])
			default:
				if !doubled {
					scratch = append(scratch, row[i+1:j]...)
				}
				scratch = append(scratch, row[j+1:stop]...)
				dst = append(dst, scratch[start:len(scratch):len(scratch)])
			}
			if next < 0 {
				return dst, scratch, nil
			}
			i = stop + 1
			continue
		}
		k := bytes.IndexByte(row[i:], sep)
		if k < 0 {
			return append(dst, row[i:len(row):len(row)]), scratch, nil
		}
		dst = append(dst, row[i:i+k:i+k])
		i += k + 1
	}
}
