package triage

import "unsafe"

// The Id set's tables live in small mappings of their own while the set
// is small. Once a table is to grow to arenaFrom slots (the set then holds
// ~190,000 record Ids, ~270 MB of UAL), it moves instead to its region of
// one arena of idShards regions of maxSlots slots, in huge pages where
// Linux gives them, and takes its whole region at once: the arena is
// resident whole as soon as it is touched in huge pages, so growing
// further in it would save no memory, only cost rehashing. Each insert
// reads a slot at random in a set of up to 16 MB; with 4 KiB pages (4,096
// of them) nearly every read also missed the TLB, and every growth
// rehashed the table and unmapped the old one (an inter-processor TLB
// flush). Smaller sets keep their small mappings.

// arenaFrom is the table size (slots) from which tables move to the
// arena: 64 × 4,096 × 16 bytes, 4 MB of tables, a quarter of the arena.
const arenaFrom = 1 << 12

// tableIndex is t's index in s.shards.
func (s *idSet) tableIndex(t *idTable) int {
	return int((uintptr(unsafe.Pointer(t)) - uintptr(unsafe.Pointer(&s.shards[0]))) / unsafe.Sizeof(idTable{}))
}

// tableMem returns zeroed room for at least n slots of table i (a power
// of two): its whole region of the arena (mapped on first use) when n is
// from arenaFrom to the region's size, else a mapping of n slots.
func (s *idSet) tableMem(i, n int) []idKey {
	if s.maxSlots > 0 && n >= arenaFrom && n <= s.maxSlots {
		if s.arena == nil && !s.noArena {
			s.arena, s.arenaMap = offHeapArena[idKey](idShards * s.maxSlots)
			s.noArena = s.arena == nil
		}
		if s.arena != nil {
			base := i * s.maxSlots
			return s.arena[base : base+s.maxSlots : base+s.maxSlots]
		}
	}
	return offHeap[idKey](n)
}

// inArena reports whether a table's slots are in the arena.
func (s *idSet) inArena(slots []idKey) bool {
	if len(s.arena) == 0 || len(slots) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(&slots[0])), uintptr(unsafe.Pointer(&s.arena[0]))
	return p >= lo && p < lo+uintptr(len(s.arena))*unsafe.Sizeof(idKey{})
}

// freeTable frees a table's slots unless they are in the arena.
func (s *idSet) freeTable(slots []idKey) {
	if !s.inArena(slots) {
		freeOffHeap(slots)
	}
}
