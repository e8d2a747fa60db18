//go:build amd64 && !purego

package audit

import "golang.org/x/sys/cpu"

// useAVX2 picks the 32-byte version of the bitmap pass where the CPU has
// it (nearly every x86-64 since 2013); SSE2 is part of every amd64 CPU.
var useAVX2 = cpu.X86.HasAVX2

// maskBlocks sets b to the bitmap of quotes and backslashes in data, and c
// to that of quotes and brackets; data is 64 times len(b) bytes long. It
// reports whether any byte is 0x80 or above.
func maskBlocks(data []byte, b, c []uint64) (high bool) {
	if useAVX2 {
		return maskBlocksAVX2(&data[0], len(b), &b[0], &c[0]) != 0
	}
	return maskBlocksSSE2(&data[0], len(b), &b[0], &c[0]) != 0
}

//go:noescape
func maskBlocksSSE2(data *byte, blocks int, b, c *uint64) uint32

//go:noescape
func maskBlocksAVX2(data *byte, blocks int, b, c *uint64) uint32
