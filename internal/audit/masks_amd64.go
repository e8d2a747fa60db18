//go:build amd64 && !purego

package audit

import "golang.org/x/sys/cpu"

// useAVX2 picks the 32-byte version of the bitmap pass where the CPU has
// it (nearly every x86-64 since 2013); SSE2 is part of every amd64 CPU.
var useAVX2 = cpu.X86.HasAVX2

// useAVX512 picks the 64-byte pass (a block a load, comparisons into mask
// registers, the tail by a masked load) where the CPU has AVX-512 BW
// (x/sys/cpu also checks that the OS saves the registers) and BMI2's BZHI.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasBMI2

// maskBlocks sets b to the bitmap of quotes and backslashes in data, and c
// to that of quotes and brackets; data is 64 times len(b) bytes long. It
// reports whether any byte is 0x80 or above. With AVX-512 it is not
// called: maskAll does the whole record.
func maskBlocks(data []byte, b, c []uint64) (high bool) {
	if useAVX2 {
		return maskBlocksAVX2(&data[0], len(b), &b[0], &c[0]) != 0
	}
	return maskBlocksSSE2(&data[0], len(b), &b[0], &c[0]) != 0
}

// maskAll is maskBlocks for any length: b and c get (len(data)+63)/64
// words, the last block as if padded with zeros. ok is false where the
// CPU has no pass that reads a partial block (then the caller pads).
func maskAll(data []byte, b, c []uint64) (high, ok bool) {
	if !useAVX512 {
		return false, false
	}
	return maskAVX512(&data[0], len(data), &b[0], &c[0]) != 0, true
}

//go:noescape
func maskBlocksSSE2(data *byte, blocks int, b, c *uint64) uint32

//go:noescape
func maskBlocksAVX2(data *byte, blocks int, b, c *uint64) uint32

//go:noescape
func maskAVX512(data *byte, n int, b, c *uint64) uint32
