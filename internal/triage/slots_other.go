//go:build !(linux || darwin || freebsd)

package triage

// allocSlots allocates the table on the heap where anonymous mappings are
// not available.
func allocSlots(n int) []idKey { return make([]idKey, n) }

func freeSlots([]idKey) {}

func allocWords(n int) []uint64 { return make([]uint64, n) }

func freeWords([]uint64) {}
