//go:build amd64 && !purego

package audit

// maskBlocks sets b to the bitmap of quotes and backslashes in data, and c
// to that of quotes and brackets; data is 64 times len(b) bytes long
// (SSE2, part of every amd64 CPU). It reports whether any byte is 0x80 or
// above.
func maskBlocks(data []byte, b, c []uint64) (high bool) {
	return maskBlocksSSE2(&data[0], len(b), &b[0], &c[0]) != 0
}

//go:noescape
func maskBlocksSSE2(data *byte, blocks int, b, c *uint64) uint32
