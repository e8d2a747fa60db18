//go:build !purego

package source

import "golang.org/x/sys/cpu"

// hasCompress: the CPU can unquote CSV fields 64 bytes at a time
// (AVX-512 with VBMI2's VPCOMPRESSB; x/sys/cpu also checks that the OS
// saves the registers).
var hasCompress = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI2

//go:noescape
func quoteMasks(src *byte, n int, masks *uint64)

//go:noescape
func compressBlocks(dst *byte, src *byte, keep *uint64, n int) int
