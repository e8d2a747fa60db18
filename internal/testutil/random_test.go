package testutil

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestRandomBytes(t *testing.T) {
	alphabet := []byte(`"\,`)
	a := RandomBytes(rand.New(rand.NewPCG(1, 2)), alphabet, 500)
	b := RandomBytes(rand.New(rand.NewPCG(1, 2)), alphabet, 500)
	if len(a) != 500 || !bytes.Equal(a, b) {
		t.Fatalf("same seed, different bytes or length: %q, %q", a, b)
	}
	for _, c := range alphabet {
		if bytes.IndexByte(a, c) < 0 {
			t.Errorf("%q never drawn in 500 bytes", c)
		}
	}
	for i, c := range a {
		if bytes.IndexByte(alphabet, c) < 0 {
			t.Fatalf("byte %d is %q, not in the alphabet", i, c)
		}
	}
	if got := RandomBytes(rand.New(rand.NewPCG(1, 2)), alphabet, 0); len(got) != 0 {
		t.Errorf("n = 0: %q", got)
	}
}
