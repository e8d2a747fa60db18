//go:build !amd64 || purego

package audit

// maskBlocks sets b to the bitmap of quotes and backslashes in data, and c
// to that of quotes and brackets. It reports whether any byte is 0x80 or
// above.
func maskBlocks(data []byte, b, c []uint64) (high bool) { return maskBlocksGo(data, b, c) }

// maskAll has no portable version: the caller pads the last block.
func maskAll(data []byte, b, c []uint64) (high, ok bool) { return false, false }
