package audit

import "math/bits"

// The decoder finds the end of every string it reads or skips: the first
// quote, unless a backslash comes before it. Searching with
// bytes.IndexByte (twice: the quote, then a backslash before it) paid a
// call and a vector set-up per string, a few dozen per record, most of
// them short. Instead a record's quotes and backslashes are found once, up
// front, as one bitmap (bit j of word w is byte 64w+j), 64 bytes at a time
// with SSE2, AVX2 or AVX-512 on amd64 (masks_amd64.s, chosen at run time); a string's end is then a
// TrailingZeros away, and the byte found tells quote from backslash. A
// second bitmap, of quotes and brackets, lets a skipped container be
// crossed from one of those to the next instead of byte by byte.
// BenchmarkDecodeMix: 1.04 GiB/s before, see bench/README.md for after. The
// same pass notes whether any byte is not ASCII: most records are pure
// ASCII and then need no UTF-8 validation (see Decoder.Prepare). The build
// tag purego selects the portable Go pass on amd64 too; .ci/run tests both.

// masks holds a record's bitmaps: b of quotes and backslashes, c of
// quotes and brackets (what skipping a container must look at).
type masks struct {
	b, c []uint64
	// ascii: no byte of the data is 0x80 or above.
	ascii bool
}

// build computes the bitmaps of data, reusing m's memory.
func (m *masks) build(data []byte) {
	n := (len(data) + 63) / 64
	if cap(m.b) < n {
		m.b, m.c = make([]uint64, n, n+n/4), make([]uint64, n, n+n/4)
	}
	m.b, m.c = m.b[:n], m.c[:n]
	if n == 0 {
		m.ascii = true
		return
	}
	if high, ok := maskAll(data, m.b, m.c); ok {
		m.ascii = !high
		return
	}
	full := len(data) / 64
	high := false
	if full > 0 {
		high = maskBlocks(data[:full*64], m.b[:full], m.c[:full])
	}
	if full < n {
		// The tail, padded to a block.
		var last [64]byte
		copy(last[:], data[full*64:])
		high = maskBlocks(last[:], m.b[full:], m.c[full:]) || high
	}
	m.ascii = !high
}

// maskBlocksGo is the portable maskBlocks.
func maskBlocksGo(data []byte, b, c []uint64) (high bool) {
	for w := range b {
		var bw, cw uint64
		for j, x := range data[w*64 : w*64+64] {
			high = high || x >= 0x80
			switch x {
			case '"':
				bw |= 1 << j
				cw |= 1 << j
			case '\\':
				bw |= 1 << j
			case '{', '}', '[', ']':
				cw |= 1 << j
			}
		}
		b[w], c[w] = bw, cw
	}
	return high
}

// next returns the index of the first '"' or '\\' at or after i, or -1.
func (m *masks) next(i int) int { return nextIn(m.b, i) }

// nextStructural returns the index of the first quote or bracket at or
// after i, or -1.
func (m *masks) nextStructural(i int) int { return nextIn(m.c, i) }

func nextIn(bm []uint64, i int) int {
	w := i >> 6
	if w >= len(bm) {
		return -1
	}
	b := bm[w] & (^uint64(0) << (i & 63))
	for b == 0 {
		w++
		if w >= len(bm) {
			return -1
		}
		b = bm[w]
	}
	return w<<6 + bits.TrailingZeros64(b)
}

// skipContainer finds the end of the container that opens at data[i]
// (a '{' or '['), from the bitmaps alone: the quotes that open and close
// strings (those not escaped by a run of backslashes, found with the carry
// arithmetic simdjson uses) give, by a running XOR, which bytes are inside
// strings; the brackets outside them are walked with the nesting stack.
// Strings cost nothing each, where the walk of skip visits every one. It
// reports false, leaving the verdict to that walk, for anything it does
// not settle exactly as the walk would: a backslash outside a string
// (invalid JSON, where the two could disagree), mismatched brackets, too
// deep a nesting, or no end (FuzzMasksSameResult holds the two together).
func (m *masks) skipContainer(data []byte, i int, stack *[MaxDepth]byte) (int, bool) {
	const oddBits = 0xAAAAAAAAAAAAAAAA
	depth := 0
	var escCarry, inCarry uint64
	from := ^uint64(0) << (i & 63) // the first block counts from i
	for w := i >> 6; w < len(m.b); w++ {
		b, c := m.b[w]&from, m.c[w]&from
		from = ^uint64(0)
		quotes, backslashes, brackets := b&c, b&^c, c&^b
		potential := backslashes &^ escCarry
		t := ((potential<<1 | oddBits) - potential) ^ oddBits
		escaped := t ^ (backslashes | escCarry)
		escCarry = (t & backslashes) >> 63
		in := prefixXor(quotes&^escaped) ^ inCarry
		inCarry = uint64(int64(in) >> 63)
		if backslashes&^in != 0 {
			return 0, false
		}
		for o := brackets &^ in; o != 0; o &= o - 1 {
			p := w<<6 + bits.TrailingZeros64(o)
			switch ch := data[p]; ch {
			case '{', '[':
				if depth >= MaxDepth {
					return 0, false
				}
				stack[depth] = ch
				depth++
			default:
				want := byte('{')
				if ch == ']' {
					want = '['
				}
				if depth == 0 || stack[depth-1] != want {
					return 0, false
				}
				depth--
				if depth == 0 {
					return p + 1, true
				}
			}
		}
	}
	return 0, false
}

// prefixXor sets each bit to the XOR of it and all lower bits: from the
// bitmap of string quotes, the bitmap of bytes inside strings (opening
// quote included, closing quote not).
func prefixXor(x uint64) uint64 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	x ^= x << 32
	return x
}
