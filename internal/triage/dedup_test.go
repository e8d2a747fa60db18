package triage

import (
	"math/rand/v2"
	"testing"
)

func TestIDSetMatchesMap(t *testing.T) {
	s := newIDSet()
	ref := map[idKey]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300000 {
		var k idKey
		// Mostly fresh keys, some repeats, and the all-zero key.
		switch {
		case i%10 == 0 && i > 0:
			k = makeKey([]byte("not-a-guid-" + string(rune('a'+i%26))))
		case i%1000 == 1:
			k = idKey{}
		default:
			for j := range k {
				k[j] = byte(r.IntN(256))
			}
			if i%3 == 0 {
				k[0], k[1] = 0, 0 // crowd part of the key space
			}
		}
		want := !ref[k]
		ref[k] = true
		if got := s.add(k); got != want {
			t.Fatalf("add #%d: got %v, want %v", i, got, want)
		}
	}
	if s.n+boolInt(s.hasZero) != len(ref) {
		t.Errorf("set holds %d keys, map %d", s.n+boolInt(s.hasZero), len(ref))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestMakeKey(t *testing.T) {
	a := makeKey([]byte("71fafc2a-f5b7-42c6-9867-a8f36dae0300"))
	b := makeKey([]byte("71FAFC2A-F5B7-42C6-9867-A8F36DAE0300"))
	if a != b {
		t.Error("GUID case matters")
	}
	want := idKey{0x71, 0xfa, 0xfc, 0x2a, 0xf5, 0xb7, 0x42, 0xc6, 0x98, 0x67, 0xa8, 0xf3, 0x6d, 0xae, 0x03, 0x00}
	if a != want {
		t.Errorf("makeKey = %x", a)
	}
	// Not GUIDs: hashed, distinct, stable.
	x, y := makeKey([]byte("71fafc2a-f5b7-42c6-9867-a8f36dae030g")), makeKey([]byte("abc"))
	if x == y || x == a || makeKey([]byte("abc")) != y {
		t.Error("non-GUID ids must hash distinctly and stably")
	}
}

func BenchmarkIDSet(b *testing.B) {
	keys := make([]idKey, 1<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(r.IntN(256))
		}
	}
	b.ResetTimer()
	for b.Loop() {
		s := newIDSet()
		for i := range keys {
			s.add(keys[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
}
