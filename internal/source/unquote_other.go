//go:build purego || !amd64

package source

// hasCompress is false: CSV fields are unquoted by unquoteFieldWords.
const hasCompress = false

// hasRowScan is false: CSV rows are framed with bytes.IndexByte and
// bytes.Count.
const hasRowScan = false

func quoteMasks(src *byte, n int, masks *uint64) { panic("unreachable") }

func compressBlocks(dst *byte, src *byte, keep *uint64, n int) int { panic("unreachable") }

func unquoteBlocks(dst *byte, src *byte, n int, carry uint64) (blocks int, out int, next uint64) {
	panic("unreachable")
}

func newlineQuotes(p *byte, n int) (idx int, quotes int) { panic("unreachable") }
