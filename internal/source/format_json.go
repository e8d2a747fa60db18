package source

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// Where the JSON scanner is, structurally. The scanner does not parse
// JSON: it tracks strings (with their backslash escapes) and bracket depth,
// which is all it takes to find where each record starts and ends, and
// leaves everything else to the decoder.
const (
	// ctxTop: between top-level values.
	ctxTop = iota
	// ctxArray: between the elements of an array whose elements are
	// records (a top-level array, or a page's "value" array).
	ctxArray
	// ctxPage: between the members of a page object ({"value":[...]}).
	ctxPage
	// ctxElem: inside an element, which is framed when it closes.
	ctxElem
	// ctxSkip: inside a page member that is not the record array.
	ctxSkip
	// ctxString and ctxScalar: inside a string or a number/literal that
	// sits where containers hold records or members; ret says where to
	// go back to.
	ctxString
	ctxScalar
)

// jsonScanner frames the elements of JSON arrays, sequences of objects,
// and the items of page objects. It is iterative (depth is a counter, not
// a stack), so no nesting can exhaust the goroutine stack, and it never
// looks at a byte twice: its state survives buffer refills.
type jsonScanner struct {
	f     *feed
	pages bool // top-level objects are pages, not records
	limit int

	ctx   int
	ret   int // where ctxString and ctxScalar return to
	depth int
	base  int  // depth outside the element or skipped value
	top   byte // '[' or '{': the top-level container in progress
	inStr bool
	esc   bool // the next byte is escaped (a backslash ended the buffer)

	elemStart  int
	elemLine   int64
	elemKind   byte
	dropped    int64 // bytes of an over-long element already let go
	discarding bool

	// Page members: a key is kept in the buffer (from keyStart) until it
	// is read whole, to see whether it names the record array.
	keyStart   int
	keyLong    bool // the key being read was too long to keep
	afterColon bool
	itemsKey   bool
	found      bool

	topLine, arrLine int64
	stopped          bool
}

// frameJSONValues frames JSON arrays, object sequences and (pages) page
// objects. line is the line of the byte at f.start.
func frameJSONValues(f *feed, line int64, pages bool) error {
	f.trackLines = true
	f.lineNo, f.linePos = line, f.start
	j := &jsonScanner{f: f, pages: pages, limit: f.r.opts.MaxRecordBytes, keyStart: -1}
	pos := f.start
	for {
		buf := f.buf
		for pos < len(buf) && !j.stopped {
			pos = j.step(buf, pos)
		}
		if j.stopped {
			return nil
		}
		switch {
		case j.ctx == ctxElem:
			if !j.discarding && pos-j.elemStart > j.limit {
				// Too big to be a record: let it stream by, and
				// report it with its full size when it closes.
				j.discarding = true
			}
			if j.discarding {
				j.dropped += int64(pos - j.elemStart)
				j.elemStart = pos
			}
			f.start = j.elemStart
		case j.keyStart >= 0 && pos-j.keyStart > len("records"):
			// Longer than the names looked for: not worth keeping
			// (a hostile key could be gigabytes long).
			j.keyStart, j.keyLong = -1, true
			f.start = pos
		case j.keyStart >= 0:
			f.start = j.keyStart
		default:
			f.start = pos
		}
		delta, ok, err := f.more()
		if err != nil {
			return err
		}
		pos -= delta
		j.elemStart -= delta
		if j.keyStart >= 0 {
			j.keyStart -= delta
		}
		if !ok {
			break
		}
	}
	j.atEOF()
	return nil
}

// step handles the byte at buf[pos] (and, inside values, as many more as
// it can) and returns the next position.
func (j *jsonScanner) step(buf []byte, pos int) int {
	f := j.f
	switch j.ctx {
	case ctxElem, ctxSkip:
		pos, done := j.scanNested(buf, pos)
		if j.depth > MaxDepth {
			j.tooDeep(pos)
			return pos
		}
		if done {
			if j.ctx == ctxElem {
				j.endElem(pos)
			}
			j.ctx = j.parent()
		}
		return pos
	case ctxString:
		pos, done := j.scanString(buf, pos)
		if done {
			if j.keyStart >= 0 {
				key := buf[j.keyStart : pos-1]
				j.itemsKey = string(key) == "value" || string(key) == "records"
				j.keyStart = -1
			} else if j.keyLong {
				j.itemsKey, j.keyLong = false, false
			}
			j.ctx = j.ret
		}
		return pos
	case ctxScalar:
		for pos < len(buf) {
			switch buf[pos] {
			case ' ', '\n', '\r', '\t', ',', ':', ']', '}', '[', '{', '"':
				j.ctx = j.ret
				return pos
			}
			pos++
		}
		return pos
	}
	c := buf[pos]
	switch c {
	case ' ', '\n', '\r', '\t':
		return pos + 1
	}
	switch j.ctx {
	case ctxTop:
		switch c {
		case ',':
			// Objects separated by commas but not wrapped in an
			// array: a common hand-made mistake, harmless here.
		case '[':
			j.top, j.depth, j.ctx = '[', 1, ctxArray
			j.arrLine = f.lineAt(pos)
		case '{':
			if j.pages {
				j.top, j.depth, j.ctx = '{', 1, ctxPage
				j.topLine = f.lineAt(pos)
				j.afterColon, j.itemsKey, j.found = false, false, false
			} else {
				j.startElem(pos, c)
			}
		default:
			f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: f.lineAt(pos), Records: 1,
				Reason: "unexpected " + quoteByte(c) + " at top level: not a JSON object or array, the rest of the input is skipped"})
			j.stopped = true
		}
		return pos + 1
	case ctxArray:
		switch c {
		case ',':
		case ']', '}':
			j.depth--
			j.ctx = j.parent()
			j.afterColon = false
		case '{', '[':
			j.startElem(pos, c)
		case '"':
			j.notObject(pos, "a string")
			j.ctx, j.ret = ctxString, ctxArray
		default:
			// A number or literal: skipped up to the next delimiter
			// (its first byte is consumed here, so that a stray
			// delimiter such as ':' cannot stall the scanner).
			j.notObject(pos, scalarKind(c))
			j.ctx, j.ret = ctxScalar, ctxArray
		}
		return pos + 1
	case ctxPage:
		switch c {
		case ',':
			j.afterColon = false
		case ':':
			j.afterColon = true
		case '"':
			if !j.afterColon {
				j.keyStart = pos + 1
			}
			j.afterColon = false
			j.ctx, j.ret = ctxString, ctxPage
		case '[', '{':
			if c == '[' && j.afterColon && j.itemsKey {
				j.depth, j.ctx, j.found = 2, ctxArray, true
				j.arrLine = f.lineAt(pos)
			} else {
				j.base, j.depth, j.ctx = 1, 2, ctxSkip
			}
			j.afterColon = false
		case '}', ']':
			j.depth, j.ctx, j.top = 0, ctxTop, 0
			if !j.found {
				f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: j.topLine, Records: 1,
					Reason: `object has no "value" or "records" array of records`})
			}
		default:
			j.afterColon = false
			j.ctx, j.ret = ctxScalar, ctxPage
		}
		return pos + 1
	}
	return pos + 1
}

// parent is the context that holds values at the current depth.
func (j *jsonScanner) parent() int {
	switch {
	case j.depth == 0:
		j.top = 0
		return ctxTop
	case j.top == '{' && j.depth == 1:
		return ctxPage
	}
	return ctxArray
}

func (j *jsonScanner) startElem(pos int, c byte) {
	j.elemStart, j.elemLine, j.elemKind = pos, j.f.lineAt(pos), c
	j.dropped, j.discarding = 0, false
	j.base = j.depth
	j.depth++
	j.ctx = ctxElem
}

// endElem frames the element that closed just before end.
func (j *jsonScanner) endElem(end int) {
	f := j.f
	size := j.dropped + int64(end-j.elemStart)
	switch {
	case j.discarding || size > int64(j.limit):
		f.overLimit("line", j.elemLine, size)
	case j.elemKind != '{':
		f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: j.elemLine, Records: 1,
			Reason: "array element is an array, not an object"})
	default:
		f.add(j.elemStart, end, j.elemLine)
	}
}

func (j *jsonScanner) notObject(pos int, kind string) {
	f := j.f
	f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: f.lineAt(pos), Records: 1,
		Reason: "array element is " + kind + ", not an object"})
}

func scalarKind(c byte) string {
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "not JSON (" + quoteByte(c) + ")"
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return "byte 0x" + strconv.FormatUint(uint64(c)|0x100, 16)[1:]
}

func (j *jsonScanner) tooDeep(pos int) {
	f := j.f
	line := j.elemLine
	if j.ctx != ctxElem {
		line = f.lineAt(pos)
	}
	f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Records: 1,
		Reason: "JSON nested deeper than " + strconv.Itoa(MaxDepth) + " levels, the rest of the input is skipped"})
	j.stopped = true
}

// atEOF reports what the end of input left open.
func (j *jsonScanner) atEOF() {
	f := j.f
	if f.rerr != nil {
		line := j.elemLine
		if j.ctx != ctxElem {
			line = f.lineAt(len(f.buf))
		}
		f.failReadAt("line", line, j.ctx == ctxElem)
		return
	}
	if j.ctx == ctxString || j.ctx == ctxScalar {
		j.ctx = j.ret
		j.keyStart = -1
	}
	if j.ctx == ctxSkip {
		j.ctx = ctxPage
	}
	p := Problem{Path: f.path, Unit: "line"}
	switch j.ctx {
	case ctxElem:
		p.Line, p.Records = j.elemLine, 1
		p.Reason = "truncated JSON: the record that starts here does not end before the end of the input"
	case ctxArray:
		p.Line = j.arrLine
		p.Reason = "truncated JSON: the array that starts here is not closed at the end of the input"
	case ctxPage:
		p.Line = j.topLine
		p.Reason = "truncated JSON: the object that starts here is not closed at the end of the input"
	default:
		return
	}
	f.r.report(f.file, p)
}

// scanString skips a string at container level (a key, a string
// value); pos is past the opening quote. done is true once the closing
// quote is passed.
func (j *jsonScanner) scanString(b []byte, pos int) (int, bool) {
	for pos < len(b) {
		c := b[pos]
		pos++
		if stringEnds(c, &j.esc) {
			return pos, true
		}
	}
	return pos, false
}

// scanBytes is scanNested's byte-at-a-time state machine over b[pos:end]:
// for words that hold a backslash, and for the tail under eight bytes. It
// stops early when the value closes (depth back to base: ok) or nests
// deeper than MaxDepth (not ok), returning the position after that byte.
func scanBytes(b []byte, pos, end, base int, depth *int, in, esc *bool) (next int, stop, ok bool) {
	for pos < end {
		c := b[pos]
		pos++
		switch {
		case *esc:
			*esc = false
		case *in:
			if c == '"' {
				*in = false
			} else if c == '\\' {
				*esc = true
			}
		case c == '"':
			*in = true
		case c == '{' || c == '[':
			*depth++
			if *depth > MaxDepth {
				return pos, true, false
			}
		case c == '}' || c == ']':
			*depth--
			if *depth == base {
				return pos, true, true
			}
		}
	}
	return pos, false, false
}

// SWAR ("SIMD within a register") constants: the scanner looks at eight
// bytes at a time, with one flag bit (0x80) per byte.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
	low = 0x7f7f7f7f7f7f7f7f
)

// scanNested advances through the inside of an element or skipped value
// until its depth returns to base (done) or the buffer ends.
//
// Eight bytes at a time: quotes and brackets are flagged per byte; a
// prefix XOR of the quote flags (x ^= x<<8, <<16, <<32) gives, for each
// byte, whether it is inside a string, so brackets inside strings drop
// out without a branch per byte. Only the brackets left (a few per
// record) are looked at one by one. A word holding a backslash (or
// following one) goes through the byte-by-byte loop instead, since an
// escaped quote does not toggle the string state; UAL text has few.
func (j *jsonScanner) scanNested(b []byte, pos int) (int, bool) {
	depth, base := j.depth, j.base
	esc := j.esc
	var inStr uint64 // msb when inside a string, else 0
	if j.inStr {
		inStr = msb
	}
	n := len(b)
	for pos+8 <= n {
		w := binary.LittleEndian.Uint64(b[pos:])
		if w == lsb*' ' {
			// Indentation, which pretty-printed exports are full of.
			pos += 8
			continue
		}
		// zeroBytes(w ^ c) for the three tests below, sharing what they
		// have in common: c < 0x80, so the 0x80 bit of w ^ c is that of
		// w, and only the low seven bits need the XOR.
		wl, h := w&low, w|low
		if esc || ^((wl^(lsb*'\\')+low)|h) != 0 {
			// The slow path, for this word only.
			in := inStr != 0
			var stop, ok bool
			if pos, stop, ok = scanBytes(b, pos, pos+8, base, &depth, &in, &esc); stop {
				j.depth, j.inStr, j.esc = depth, false, false
				return pos, ok
			}
			inStr = 0
			if in {
				inStr = msb
			}
			continue
		}
		q := ^((wl ^ (lsb * '"') + low) | h)
		// '[' and ']' differ from '{' and '}' by the 0x20 bit, and '{'
		// from '}' by 0x06: one test flags all four (and a few bytes
		// such as 'y' that are checked below, and that outside strings
		// do not occur in JSON anyway).
		br := ^((((wl|(lsb*0x20))^(lsb*'{'))&^(lsb*0x06) + low) | h)
		x := q
		x ^= x << 8
		x ^= x << 16
		x ^= x << 32
		// x flags the bytes after an odd number of quotes in this word;
		// the state carried in from the words before flips them all.
		// (The carry is one XOR per word, so that the words' other
		// work does not wait on each other.)
		s := br &^ (x ^ inStr)
		inStr ^= uint64(int64(x)>>63) & msb
		for ; s != 0; s &= s - 1 {
			i := pos + bits.TrailingZeros64(s)>>3
			switch b[i] {
			case '{', '[':
				depth++
				if depth > MaxDepth {
					j.depth, j.inStr, j.esc = depth, false, false
					return i + 1, false
				}
			case '}', ']':
				depth--
				if depth == base {
					j.depth, j.inStr, j.esc = depth, false, false
					return i + 1, true
				}
			}
		}
		pos += 8
	}
	in := inStr != 0
	pos, stop, ok := scanBytes(b, pos, n, base, &depth, &in, &esc)
	if stop {
		j.depth, j.inStr, j.esc = depth, false, false
		return pos, ok
	}
	j.depth, j.inStr, j.esc = depth, in, esc
	return pos, false
}
