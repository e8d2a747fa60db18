//go:build amd64 && !purego

package audit

import (
	"math/rand/v2"
	"testing"
)

// TestMaskBlocksBothISAs holds the SSE2 and the AVX2 pass (whichever
// build picks) to the Go pass, block by block, on random data rich in the
// bytes they look for and their near misses.
func TestMaskBlocksBothISAs(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	alphabet := []byte{'"', '\\', '{', '}', '[', ']', 'a', 0, 0x7f, 0x80, 0xff, '"' ^ 1, '{' ^ 0x40, ']' ^ 0x20}
	for round := range 2000 {
		blocks := 1 + r.IntN(6)
		data := make([]byte, 64*blocks)
		for i := range data {
			data[i] = alphabet[r.IntN(len(alphabet))]
		}
		if round%3 == 0 {
			for i := range data {
				data[i] &= 0x7f // pure ASCII
			}
		}
		wb, wc := make([]uint64, blocks), make([]uint64, blocks)
		wantHigh := maskBlocksGo(data, wb, wc)
		isas := []struct {
			name string
			f    func(*byte, int, *uint64, *uint64) uint32
		}{{"SSE2", maskBlocksSSE2}}
		if useAVX2 {
			isas = append(isas, struct {
				name string
				f    func(*byte, int, *uint64, *uint64) uint32
			}{"AVX2", maskBlocksAVX2})
		}
		for _, isa := range isas {
			b, c := make([]uint64, blocks), make([]uint64, blocks)
			high := isa.f(&data[0], blocks, &b[0], &c[0]) != 0
			if high != wantHigh {
				t.Fatalf("%s: non-ASCII %v, want %v", isa.name, high, wantHigh)
			}
			for w := range b {
				if b[w] != wb[w] || c[w] != wc[w] {
					t.Fatalf("%s word %d: %x %x, want %x %x", isa.name, w, b[w], c[w], wb[w], wc[w])
				}
			}
		}
	}
	if !useAVX2 {
		t.Log("no AVX2 on this CPU: only SSE2 checked")
	}
}
