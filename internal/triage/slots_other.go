//go:build !(linux || darwin || freebsd)

package triage

// offHeap allocates on the heap where anonymous mappings are not
// available.
func offHeap[T any](n int) []T { return make([]T, n) }

func freeOffHeap[T any]([]T) {}
