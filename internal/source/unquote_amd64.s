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
