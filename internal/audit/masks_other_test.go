//go:build !amd64 || purego

package audit

import "testing"

// checkMaskPasses holds masks.build, the Go pass over the data and its
// padded tail, to the Go pass on data padded with zeros to a whole block.
func checkMaskPasses(t *testing.T, data []byte) {
	t.Helper()
	if len(data) == 0 {
		return
	}
	words := (len(data) + 63) / 64
	padded := make([]byte, 64*words)
	copy(padded, data)
	wb, wc := make([]uint64, words), make([]uint64, words)
	wantHigh := maskBlocksGo(padded, wb, wc)
	var m masks
	m.build(data)
	if m.ascii == wantHigh {
		t.Fatalf("build: ASCII %v, the Go pass says non-ASCII %v", m.ascii, wantHigh)
	}
	for w := range wb {
		if m.b[w] != wb[w] || m.c[w] != wc[w] {
			t.Fatalf("build word %d: %x %x, the Go pass %x %x", w, m.b[w], m.c[w], wb[w], wc[w])
		}
	}
}
