//go:build !purego

#include "textflag.h"

// func quoteMasks(src *byte, n int, masks *uint64)
// For each of n 64-byte blocks at src, a bit per byte that is '"'.
TEXT ·quoteMasks(SB), NOSPLIT, $0-24
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ masks+16(FP), DI
	MOVQ $0x2222222222222222, AX
	VPBROADCASTQ AX, Z1

qloop:
	TESTQ CX, CX
	JZ    qdone
	VMOVDQU8 (SI), Z0
	VPCMPEQB Z1, Z0, K1
	KMOVQ K1, AX
	MOVQ  AX, (DI)
	ADDQ  $64, SI
	ADDQ  $8, DI
	DECQ  CX
	JMP   qloop

qdone:
	VZEROUPPER
	RET

// func compressBlocks(dst *byte, src *byte, keep *uint64, n int) int
// Copies the bytes of n 64-byte blocks at src whose bit is set in keep[i],
// packed, to dst (64 bytes are written for each block: dst needs that much
// room past the end), and returns how many bytes were kept.
TEXT ·compressBlocks(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ keep+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ R8, R8

cloop:
	TESTQ CX, CX
	JZ    cdone
	MOVQ  (DX), AX
	KMOVQ AX, K1
	VMOVDQU8 (SI), Z0
	VPCOMPRESSB.Z Z0, K1, Z2
	VMOVDQU8 Z2, (DI)
	POPCNTQ AX, BX
	ADDQ  BX, DI
	ADDQ  BX, R8
	ADDQ  $64, SI
	ADDQ  $8, DX
	DECQ  CX
	JMP   cloop

cdone:
	MOVQ R8, ret+32(FP)
	VZEROUPPER
	RET

// func newlineQuotes(p *byte, n int) (idx int, quotes int)
// One pass over p[:n], 64 bytes at a time: idx is the index of the first
// '\n' (-1 if none) and quotes the number of '"' before it (before n when
// there is none). The last partial block is read with a masked load, so
// no byte past p[n-1] is touched. BMI2 (BZHI, TZCNT) and POPCNT.
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
	MOVQ CX, BX
	SUBQ DI, BX // bytes left
	CMPQ BX, $64
	JB   ntail
	VMOVDQU8 (SI)(DI*1), Z0
	VPCMPEQB Z2, Z0, K2
	VPCMPEQB Z1, Z0, K1
	KORTESTQ K2, K2
	JNZ      nfound
	KMOVQ    K1, AX
	POPCNTQ  AX, AX
	ADDQ     AX, DX
	ADDQ     $64, DI
	JMP      nloop

ntail:
	TESTQ BX, BX
	JZ    nnone
	MOVQ  $-1, AX
	BZHIQ BX, AX, AX
	KMOVQ AX, K3
	VMOVDQU8.Z (SI)(DI*1), K3, Z0
	VPCMPEQB Z2, Z0, K2
	VPCMPEQB Z1, Z0, K1
	KORTESTQ K2, K2
	JNZ      nfound
	KMOVQ    K1, AX
	POPCNTQ  AX, AX
	ADDQ     AX, DX

nnone:
	MOVQ $-1, idx+16(FP)
	MOVQ DX, quotes+24(FP)
	VZEROUPPER
	RET

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
	VZEROUPPER
	RET

// func unquoteBlocks(dst *byte, src *byte, n int, carry uint64) (blocks int, out int, next uint64)
// Unquotes up to n 64-byte blocks of a quoted CSV field's inside at src
// to dst, one pass: the quote bitmap (VPCMPEQB), the quotes to drop with
// quotePairs' arithmetic in registers, the kept bytes packed (VPCOMPRESSB;
// 64 bytes are stored per block, so dst needs that much room). It stops
// before the first block in which the field closes (quotePairs' term is
// not zero), leaving that block to the caller, and returns the blocks
// done, the bytes written and the carry after the last block done.
TEXT ·unquoteBlocks(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ carry+24(FP), R9
	MOVQ $0x2222222222222222, AX
	VPBROADCASTQ AX, Z1
	MOVQ $0xAAAAAAAAAAAAAAAA, R11
	XORQ R8, R8  // bytes written
	XORQ R14, R14 // blocks done

uloop:
	CMPQ R14, CX
	JAE  udone
	VMOVDQU8 (SI), Z0
	VPCMPEQB Z1, Z0, K1
	KMOVQ    K1, AX // q
	// potential = q &^ carry
	MOVQ R9, BX
	NOTQ BX
	ANDQ AX, BX
	// t = ((potential<<1 | odd) - potential) ^ odd
	MOVQ BX, R10
	SHLQ $1, R10
	ORQ  R11, R10
	SUBQ BX, R10
	XORQ R11, R10
	// escaped = t ^ (q | carry)
	MOVQ AX, R12
	ORQ  R9, R12
	XORQ R10, R12
	// term = escaped &^ q: the field closes in this block
	MOVQ AX, R13
	NOTQ R13
	TESTQ R12, R13
	JNZ  udone
	// keep = ^(escaped & q); next carry = (t & q) >> 63
	ANDQ AX, R12
	NOTQ R12
	ANDQ AX, R10
	SHRQ $63, R10
	MOVQ R10, R9
	KMOVQ R12, K2
	VPCOMPRESSB.Z Z0, K2, Z2
	VMOVDQU8 Z2, (DI)
	POPCNTQ R12, R12
	ADDQ R12, DI
	ADDQ R12, R8
	ADDQ $64, SI
	INCQ R14
	JMP  uloop

udone:
	MOVQ R14, blocks+32(FP)
	MOVQ R8, out+40(FP)
	MOVQ R9, next+48(FP)
	VZEROUPPER
	RET
