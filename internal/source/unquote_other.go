//go:build purego || !amd64

package source

// hasCompress is false: CSV fields are unquoted by unquoteFieldWords.
const hasCompress = false

func quoteMasks(src *byte, n int, masks *uint64) { panic("unreachable") }

func compressBlocks(dst *byte, src *byte, keep *uint64, n int) int { panic("unreachable") }
