//go:build !(linux || darwin || freebsd)

package triage

// offHeap allocates on the heap where anonymous mappings are not
// available.
func offHeap[T any](n int) []T { return make([]T, n) }

func freeOffHeap[T any]([]T) {}

// haveArena: offHeapArena maps no arena here.
const haveArena = false

// offHeapArena: no arena where anonymous mappings are not available.
func offHeapArena[T any](int) ([]T, []byte) { return nil, nil }

func freeArena([]byte) {}
