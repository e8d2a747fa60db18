//go:build !purego

#include "textflag.h"

// The three functions below walk SI[:CX] 64 bytes at a time, the last
// partial block read with a masked load so that no byte past the end is
// touched.

// BLOCK loads the block of SI at offset off into Z0, or, when fewer than
// 64 bytes are left (left: CX - off), jumps to tail.
#define BLOCK(off, left, tail) \
	MOVQ CX, left \
	SUBQ off, left \
	CMPQ left, $64 \
	JB   tail \
	VMOVDQU8 (SI)(off*1), Z0

// TAIL loads the last left bytes of SI (fewer than 64), at offset off,
// into Z0 with zeros beyond them; mask keeps their bitmap (K3 too).
#define TAIL(left, off, mask) \
	MOVQ  $-1, mask \
	BZHIQ left, mask, mask \
	KMOVQ mask, K3 \
	VMOVDQU8.Z (SI)(off*1), K3, Z0

// VRET returns with the upper halves of the vector registers cleared, as
// every exit from here must: SSE code after dirty AVX-512 state pays a
// transition (see TestCSVAsmIsVEXOnly).
#define VRET \
	VZEROUPPER \
	RET

// NEWLINES looks for a newline (Z2) in the block in Z0: it jumps to
// nfound when there is one (K2: newlines, K1: quotes), else adds the
// block's quotes (Z1) to DX.
#define NEWLINES \
	VPCMPEQB Z2, Z0, K2 \
	VPCMPEQB Z1, Z0, K1 \
	KORTESTQ K2, K2 \
	JNZ      nfound \
	KMOVQ    K1, AX \
	POPCNTQ  AX, AX \
	ADDQ     AX, DX

// func newlineQuotes(p *byte, n int) (idx int, quotes int)
// One pass over p[:n], 64 bytes at a time: idx is the index of the first
// '\n' (-1 if none) and quotes the number of '"' before it (before n when
// there is none). The last partial block is read with a masked load, so
// no byte past p[n-1] is touched. BMI1 (TZCNT), BMI2 (BZHI) and POPCNT.
TEXT ·newlineQuotes(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ $0x2222222222222222, AX
	VPBROADCASTQ AX, Z1
	MOVQ $0x0a0a0a0a0a0a0a0a, AX
	VPBROADCASTQ AX, Z2
	XORQ DX, DX // quotes so far
	XORQ DI, DI // offset of the block

nloop:
	BLOCK(DI, BX, ntail)
	NEWLINES
	ADDQ $64, DI
	JMP  nloop

ntail:
	TESTQ BX, BX
	JZ    nnone
	TAIL(BX, DI, AX)
	NEWLINES

nnone:
	MOVQ $-1, idx+16(FP)
	MOVQ DX, quotes+24(FP)
	VRET

nfound:
	KMOVQ   K2, BX
	TZCNTQ  BX, BX // the newline's index in the block
	KMOVQ   K1, AX
	BZHIQ   BX, AX, AX // the quotes before it
	POPCNTQ AX, AX
	ADDQ    AX, DX
	ADDQ    BX, DI
	MOVQ    DI, idx+16(FP)
	MOVQ    DX, quotes+24(FP)
	VRET

// func unquoteQuoted(dst *byte, src *byte, n int) (closing int, out int)
// Unquotes the inside of a quoted CSV field, src[:n] (the bytes after its
// opening quote), to dst, 64 bytes at a time in one pass: the quote
// bitmap (VPCMPEQB), the quotes to drop and the closing quote found with
// carry-less arithmetic, the kept bytes packed (VPCOMPRESSB). Inside a
// quoted field a quote stands for one only when doubled, and runs of
// quotes pair up from their start as runs of backslashes escape in JSON,
// hence simdjson's arithmetic for odd-length runs: with q the block's
// quotes and carry 1 when the block before ended in a quote awaiting its
// pair,
//
//	potential = q &^ carry
//	t         = ((potential<<1 | 0xAA..AA) - potential) ^ 0xAA..AA
//	escaped   = t ^ (q | carry)
//	drop      = escaped & q    (the second quote of each pair)
//	term      = escaped &^ q   (the bit after an unpaired quote: the closing one)
//	carry     = (t & q) >> 63
//
// The last partial block is read with a masked load (zeros beyond n, not
// quotes, so a closing quote as the last byte is seen), even when no byte
// is left, for a quote awaiting its pair at the very end. 64 bytes are
// stored per block: dst needs that much room past the output. closing is
// the index in src of the closing quote, -1 when the field does not
// close; out is the number of bytes written (before the closing quote).
// PAIRS reads the quote bitmap of the block in Z0 (Z1: quotes) with the
// carry in R9 and R11 = 0xAA..AA; it jumps to uclose when the field
// closes in the block (R13: term, R12: escaped, AX: q), else leaves the
// bytes to keep in R12 and the next carry in R9.
#define PAIRS \
	VPCMPEQB Z1, Z0, K1 \
	KMOVQ    K1, AX \
	ANDNQ AX, R9, BX \
	MOVQ BX, R10 \
	SHLQ $1, R10 \
	ORQ  R11, R10 \
	SUBQ BX, R10 \
	XORQ R11, R10 \
	MOVQ AX, R12 \
	ORQ  R9, R12 \
	XORQ R10, R12 \
	ANDNQ R12, AX, R13 \
	JNZ  uclose \
	ANDQ AX, R12 \
	NOTQ R12 \
	ANDQ AX, R10 \
	SHRQ $63, R10 \
	MOVQ R10, R9

// COMPRESS stores the bytes of Z0 kept by R12, packed, at DI and advances
// DI and the count in R8.
#define COMPRESS \
	KMOVQ R12, K2 \
	VPCOMPRESSB.Z Z0, K2, Z2 \
	VMOVDQU8 Z2, (DI) \
	POPCNTQ R12, R12 \
	ADDQ R12, DI \
	ADDQ R12, R8

TEXT ·unquoteQuoted(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ $0x2222222222222222, AX
	VPBROADCASTQ AX, Z1
	MOVQ $0xAAAAAAAAAAAAAAAA, R11
	XORQ R8, R8   // bytes written
	XORQ R9, R9   // carry
	XORQ R14, R14 // offset of the block in src

uloop:
	BLOCK(R14, DX, utail)
	PAIRS
	COMPRESS
	ADDQ $64, R14
	JMP  uloop

utail:
	TAIL(DX, R14, R15)
	PAIRS
	ANDQ R15, R12 // only the tail's bytes
	COMPRESS
	JMP  unclosed

uclose:
	TZCNTQ R13, BX // the bit after the closing quote
	LEAQ  -1(R14)(BX*1), DX
	MOVQ  DX, closing+24(FP)
	TESTQ BX, BX
	JZ    uprev
	ANDQ  AX, R12
	NOTQ  R12 // keep = ^drop, below the closing quote
	DECQ  BX
	BZHIQ BX, R12, R12
	KMOVQ R12, K2
	VPCOMPRESSB.Z Z0, K2, Z2
	VMOVDQU8 Z2, (DI)
	POPCNTQ R12, R12
	ADDQ R12, R8
	MOVQ R8, out+32(FP)
	VRET

uprev:
	// The closing quote ended the block before, which kept it.
	DECQ R8
	MOVQ R8, out+32(FP)
	VRET

unclosed:
	MOVQ $-1, closing+24(FP)
	MOVQ R8, out+32(FP)
	VRET

// COMMAS counts the commas (Z1) of the block in Z0 into R9 and compares
// them with R8, the commas still to pass; AX gets the comma bitmap, BX the
// quote (Z2) bitmap.
#define COMMAS \
	VPCMPEQB Z1, Z0, K1 \
	VPCMPEQB Z2, Z0, K2 \
	KMOVQ    K1, AX \
	KMOVQ    K2, BX \
	POPCNTQ  AX, R9 \
	CMPQ     R9, R8

// func nthComma(p *byte, n int, k int) int
// The index in p[:n] of its k-th comma (k >= 1), 64 bytes at a time
// (comma and quote bitmaps, POPCNT, PDEP to select the bit); -1 when there
// are fewer than k commas or a quote comes before the k-th (a quoted
// field, which the caller steps over byte-exactly instead).
TEXT ·nthComma(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ k+16(FP), R8 // commas still to pass
	MOVQ $0x2c2c2c2c2c2c2c2c, AX
	VPBROADCASTQ AX, Z1
	MOVQ $0x2222222222222222, AX
	VPBROADCASTQ AX, Z2
	XORQ DI, DI // offset of the block

cloop:
	BLOCK(DI, DX, ctail)
	COMMAS
	JAE   cfound
	TESTQ BX, BX
	JNZ   cnone
	SUBQ  R9, R8
	ADDQ  $64, DI
	JMP   cloop

ctail:
	TAIL(DX, DI, R10)
	COMMAS
	JB cnone

cfound:
	// The R8-th set bit of the commas: deposit bit R8-1 into them.
	DECQ   R8
	XORQ   R10, R10
	BTSQ   R8, R10
	PDEPQ  AX, R10, R10
	TZCNTQ R10, R10
	BZHIQ  R10, BX, BX // the quotes before it
	TESTQ  BX, BX
	JNZ    cnone
	ADDQ   DI, R10
	MOVQ   R10, ret+24(FP)
	VRET

cnone:
	MOVQ $-1, ret+24(FP)
	VRET
