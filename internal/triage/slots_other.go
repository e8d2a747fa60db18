//go:build !(linux || darwin || freebsd)

package triage

// allocSlots allocates the table on the heap where anonymous mappings are
// not available.
func allocSlots(n int) []idKey { return make([]idKey, n) }

func freeSlots([]idKey) {}
