//go:build linux || darwin || freebsd

package triage

import (
	"syscall"
	"unsafe"
)

// allocSlots maps n zeroed slots of anonymous memory outside the Go heap.
// A failed mapping falls back to the heap.
func allocSlots(n int) []idKey {
	size := n * int(unsafe.Sizeof(idKey{}))
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapPopulate)
	if err != nil {
		return make([]idKey, n)
	}
	return unsafe.Slice((*idKey)(unsafe.Pointer(&mem[0])), n)
}

// freeSlots unmaps a table from allocSlots (heap tables are left to the GC).
func freeSlots(s []idKey) {
	if len(s) == 0 {
		return
	}
	size := len(s) * int(unsafe.Sizeof(idKey{}))
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), size)
	// Munmap fails harmlessly (EINVAL) on memory that is not a mapping,
	// such as the heap fallback.
	_ = syscall.Munmap(mem)
}

// allocWords maps n zeroed words outside the Go heap (a spilled run's
// Bloom filter: it lives as long as the run and would otherwise raise the
// garbage collector's goal by its size). A failed mapping falls back to
// the heap.
func allocWords(n int) []uint64 {
	mem, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapPopulate)
	if err != nil {
		return make([]uint64, n)
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), n)
}

// freeWords unmaps words from allocWords.
func freeWords(w []uint64) {
	if len(w) == 0 {
		return
	}
	_ = syscall.Munmap(unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8))
}
