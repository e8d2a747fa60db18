//go:build amd64 && !purego

#include "textflag.h"

// CHUNK classifies the 16 bytes at off(SI): rb gets the quote|backslash
// mask, rc the quote|bracket mask; X12 accumulates the bytes themselves.
#define CHUNK(off, rb, rc) \
	MOVOU off(SI), X0 \
	POR   X0, X12 \
	MOVO  X0, X1 \
	MOVO  X0, X2 \
	PCMPEQB X6, X0 \
	PCMPEQB X7, X1 \
	POR   X8, X2 \
	MOVO  X2, X3 \
	PCMPEQB X9, X2 \
	PCMPEQB X10, X3 \
	POR   X0, X1 \
	POR   X3, X2 \
	POR   X0, X2 \
	PMOVMSKB X1, rb \
	PMOVMSKB X2, rc


// HALF classifies the 32 bytes in yin (AVX2): rb gets the quote|backslash
// mask, rc the quote|bracket mask.
#define HALF(yin, rb, rc) \
	VPCMPEQB Y6, yin, Y2 \
	VPCMPEQB Y7, yin, Y3 \
	VPOR     Y8, yin, Y4 \
	VPCMPEQB Y9, Y4, Y5 \
	VPCMPEQB Y10, Y4, Y4 \
	VPOR     Y2, Y3, Y3 \
	VPOR     Y5, Y4, Y4 \
	VPOR     Y2, Y4, Y4 \
	VPMOVMSKB Y3, rb \
	VPMOVMSKB Y4, rc

// func maskBlocksSSE2(data *byte, blocks int, b, c *uint64) uint32
// For each 64-byte block, 16 bytes at a time: b gets the bytes equal to
// '"' or '\', c those equal to '"' or to '{' '[' (0x7B, 0x5B) or '}' ']'
// (0x7D, 0x5D), found as x|0x20 == 0x7B or 0x7D; PMOVMSKB gathers each
// comparison's bytes into 16 bits, four of which make a word. X12 ORs all
// the bytes together: its high bits, returned, say whether any byte is not
// ASCII.
TEXT ·maskBlocksSSE2(SB), NOSPLIT, $0-36
	MOVQ data+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	PXOR X12, X12
	TESTQ CX, CX
	JZ   done
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X6
	PUNPCKLQDQ X6, X6
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X7
	PUNPCKLQDQ X7, X7
	MOVQ $0x2020202020202020, AX
	MOVQ AX, X8
	PUNPCKLQDQ X8, X8
	MOVQ $0x7b7b7b7b7b7b7b7b, AX
	MOVQ AX, X9
	PUNPCKLQDQ X9, X9
	MOVQ $0x7d7d7d7d7d7d7d7d, AX
	MOVQ AX, X10
	PUNPCKLQDQ X10, X10

loop:
	CHUNK(0, AX, R10)
	CHUNK(16, BX, R11)
	CHUNK(32, R8, R12)
	CHUNK(48, R9, R13)
	SHLQ $16, BX
	SHLQ $32, R8
	SHLQ $48, R9
	ORQ  BX, AX
	ORQ  R8, AX
	ORQ  R9, AX
	MOVQ AX, (DI)
	SHLQ $16, R11
	SHLQ $32, R12
	SHLQ $48, R13
	ORQ  R11, R10
	ORQ  R12, R10
	ORQ  R13, R10
	MOVQ R10, (DX)
	ADDQ $64, SI
	ADDQ $8, DI
	ADDQ $8, DX
	DECQ CX
	JNZ  loop

done:
	PMOVMSKB X12, AX
	MOVL AX, ret+32(FP)
	RET

// func maskBlocksAVX2(data *byte, blocks int, b, c *uint64) uint32
// maskBlocksSSE2 with 32-byte registers, for CPUs that have AVX2. Only
// VEX-encoded instructions (VMOVQ, not MOVQ, into an X register): a legacy
// SSE instruction after a 256-bit one cost ~130 ns each on an Intel Xeon
// VM measured (an SSE/AVX transition), ~500 ns a call with the five
// constants, which made the AVX2 pass 5x slower than SSE2 on a record.
TEXT ·maskBlocksAVX2(SB), NOSPLIT, $0-36
	MOVQ data+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	VPXOR Y12, Y12, Y12
	TESTQ CX, CX
	JZ   avxdone
	MOVQ $0x22, AX
	VMOVQ AX, X6
	VPBROADCASTB X6, Y6
	MOVQ $0x5c, AX
	VMOVQ AX, X7
	VPBROADCASTB X7, Y7
	MOVQ $0x20, AX
	VMOVQ AX, X8
	VPBROADCASTB X8, Y8
	MOVQ $0x7b, AX
	VMOVQ AX, X9
	VPBROADCASTB X9, Y9
	MOVQ $0x7d, AX
	VMOVQ AX, X10
	VPBROADCASTB X10, Y10

avxloop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VPOR Y0, Y12, Y12
	VPOR Y1, Y12, Y12
	HALF(Y0, AX, R10)
	HALF(Y1, BX, R11)
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	SHLQ $32, R11
	ORQ  R11, R10
	MOVQ R10, (DX)
	ADDQ $64, SI
	ADDQ $8, DI
	ADDQ $8, DX
	DECQ CX
	JNZ  avxloop

avxdone:
	VPMOVMSKB Y12, AX
	VZEROUPPER
	MOVL AX, ret+32(FP)
	RET

// func maskAVX512(data *byte, n int, b, c *uint64) uint32
// The bitmaps of data[:n], 64 bytes a block into mask registers
// (AVX-512 BW): b gets '"' | '\', c '"' | the brackets (x|0x20 == 0x7B or
// 0x7D, as above); (n+63)/64 words each. The last partial block is read
// with a masked load (zeros beyond n, BMI2's BZHI for the mask), so the
// caller needs no padded copy and no second call. Z12 ORs the bytes
// together: its high bits (VPMOVB2M) say whether any byte is not ASCII.
// EVEX only, and VZEROUPPER before returning: SSE code after dirty upper
// state pays a transition (TestAVX2PassIsVEXOnly).
TEXT ·maskAVX512(SB), NOSPLIT, $0-36
	MOVQ data+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	VPXORQ Z12, Z12, Z12
	MOVQ $0x2222222222222222, AX
	VPBROADCASTQ AX, Z6
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	VPBROADCASTQ AX, Z7
	MOVQ $0x2020202020202020, AX
	VPBROADCASTQ AX, Z8
	MOVQ $0x7b7b7b7b7b7b7b7b, AX
	VPBROADCASTQ AX, Z9
	MOVQ $0x7d7d7d7d7d7d7d7d, AX
	VPBROADCASTQ AX, Z10
	CMPQ CX, $64
	JB   z512tail

z512loop:
	VMOVDQU8 (SI), Z0

z512block:
	VPORQ    Z0, Z12, Z12
	VPCMPEQB Z6, Z0, K1
	VPCMPEQB Z7, Z0, K2
	VPORQ    Z8, Z0, Z1
	VPCMPEQB Z9, Z1, K3
	VPCMPEQB Z10, Z1, K4
	KORQ     K1, K2, K2
	KORQ     K3, K4, K4
	KORQ     K1, K4, K4
	KMOVQ    K2, (DI)
	KMOVQ    K4, (DX)
	ADDQ     $64, SI
	ADDQ     $8, DI
	ADDQ     $8, DX
	SUBQ     $64, CX
	CMPQ     CX, $64
	JAE      z512loop

z512tail:
	TESTQ CX, CX
	JZ    z512done
	MOVQ  $-1, AX
	BZHIQ CX, AX, AX
	KMOVQ AX, K5
	VMOVDQU8.Z (SI), K5, Z0
	// One more block: CX is 0 after it, so the loop's test falls through
	// to here and then to done.
	MOVQ  $64, CX
	JMP   z512block

z512done:
	VPMOVB2M Z12, K1
	KMOVQ    K1, AX
	MOVQ     AX, BX
	SHRQ     $32, BX
	ORQ      BX, AX
	VZEROUPPER
	MOVL     AX, ret+32(FP)
	RET
