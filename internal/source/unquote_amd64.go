//go:build !purego

package source

import "golang.org/x/sys/cpu"

// hasCompress: the CPU can unquote CSV fields 64 bytes at a time
// (AVX-512 with VBMI2's VPCOMPRESSB; x/sys/cpu also checks that the OS
// saves the registers), with BMI1 (ANDN), BMI2 (BZHI) and POPCNT for the
// bitmaps.
var hasCompress = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI2 &&
	cpu.X86.HasBMI1 && cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT

// hasRowScan: the CPU can find a CSV row's newline and count its quotes
// in one AVX-512 pass (newlineQuotes), and a field's start past its first
// commas (nthComma), with BMI1 (TZCNT), BMI2 (BZHI, PDEP) and POPCNT for
// the bits.
var hasRowScan = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW &&
	cpu.X86.HasBMI1 && cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT

//go:noescape
func unquoteQuoted(dst *byte, src *byte, n int) (closing int, out int)

//go:noescape
func newlineQuotes(p *byte, n int) (idx int, quotes int)

//go:noescape
func nthComma(p *byte, n int, k int) int
