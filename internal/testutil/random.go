package testutil

import "math/rand/v2"

// RandomBytes returns n bytes drawn from alphabet with r, one draw a byte
// in order (a test's inputs stay the same for the same seed). It makes
// the random inputs of the tests that hold a SIMD pass to a byte loop:
// an alphabet rich in the bytes the pass looks for, and their near misses.
func RandomBytes(r *rand.Rand, alphabet []byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}
