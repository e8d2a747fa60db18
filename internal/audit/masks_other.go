//go:build !amd64

package audit

// maskBlocks sets b to the bitmap of quotes and backslashes in data, and c
// to that of quotes and brackets.
func maskBlocks(data []byte, b, c []uint64) { maskBlocksGo(data, b, c) }
