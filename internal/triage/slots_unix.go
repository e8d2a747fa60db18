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
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
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
