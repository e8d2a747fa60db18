//go:build purego || !amd64

package source

// hasCompress is false: CSV fields are unquoted by unquoteFieldWords.
const hasCompress = false

// hasRowScan is false: CSV rows are framed with bytes.IndexByte and
// bytes.Count.
const hasRowScan = false

func unquoteQuoted(dst *byte, src *byte, n int) (closing int, out int) { panic("unreachable") }

func newlineQuotes(p *byte, n int) (idx int, quotes int) { panic("unreachable") }

func nthComma(p *byte, n int, k int) int { panic("unreachable") }
