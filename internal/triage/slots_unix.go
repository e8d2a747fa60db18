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

// haveArena: offHeapArena maps arenas here.
const haveArena = true

// hugePageSize is the size and alignment of a transparent huge page on
// amd64 and arm64 Linux.
const hugePageSize = 2 << 20

// offHeapArena maps n zeroed values of T (holding no pointers), aligned
// to hugePageSize, and asks for huge pages (hugePages); it returns them
// and the mapping to free (freeArena), or nils. Not populated: in huge
// pages, it fills in a few faults as it is touched.
func offHeapArena[T any](n int) ([]T, []byte) {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	mapping, err := syscall.Mmap(-1, 0, size+hugePageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil
	}
	head := (hugePageSize - int(uintptr(unsafe.Pointer(&mapping[0]))%hugePageSize)) % hugePageSize
	mem := mapping[head : head+size : head+size]
	hugePages(mem)
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[0])), n), mapping
}

// freeArena unmaps what offHeapArena mapped.
func freeArena(mapping []byte) {
	if len(mapping) > 0 {
		_ = syscall.Munmap(mapping)
	}
}
