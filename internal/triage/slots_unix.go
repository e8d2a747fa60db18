//go:build linux || darwin || freebsd

package triage

import (
	"syscall"
	"unsafe"
)

// offHeap maps n zeroed values of T (which must hold no pointers) in
// anonymous memory outside the Go heap: the Id tables and the Bloom
// filters of spilled runs, which live long and would otherwise raise the
// garbage collector's goal by their size. A failed mapping falls back to
// the heap.
func offHeap[T any](n int) []T {
	var zero T
	mem, err := syscall.Mmap(-1, 0, n*int(unsafe.Sizeof(zero)), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapPopulate)
	if err != nil {
		return make([]T, n)
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[0])), n)
}

// freeOffHeap unmaps memory from offHeap (heap fallbacks are left to the
// GC).
func freeOffHeap[T any](s []T) {
	if len(s) == 0 {
		return
	}
	var zero T
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
	// Munmap fails harmlessly (EINVAL) on memory that is not a mapping,
	// such as the heap fallback.
	_ = syscall.Munmap(mem)
}
