package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// gcFloorBytes is the heap a triage may reach before its first garbage
// collection. A triage allocates little (59 MB in all for 1 GB of
// generated JSON Lines, 70 MB for 1 GB of Purview CSV, 76 MB for 4 GB:
// aggregates, evidence buffers, interned names), but it starts from an
// empty heap, and with GOGC's default pacing the collector ran 6-7 times
// while the heap climbed from 4 MB to its working size, marking a growing
// live heap each time: 0.036 and 0.064 CPU-s of a 1 GB triage
// (runtime/metrics). With the first collection put off until 96 MiB,
// neither 1 GB nor 4 GB collects at all, for 9-14 MB more peak RSS
// (bench/README.md); past the floor the collector paces as GOGC says.
const gcFloorBytes = 96 << 20

var gcFloorOnce sync.Once

// gcSentinel is allocated only so that the first collection finds it
// unreachable (a pointer field keeps it out of the tiny allocator, whose
// blocks are freed together).
type gcSentinel struct {
	_ *byte
	_ [8]byte
}

// delayFirstGC switches the collector off with a memory limit of
// gcFloorBytes, and back to the process's own settings (GOGC, no limit)
// after the first collection, which the limit triggers once the heap
// reaches it. A live heap past the floor therefore costs one collection
// at the floor, not a collector held at the limit. Users who set GOGC or
// GOMEMLIMIT keep what they set. Once per process: tests run many
// triages in one.
func delayFirstGC() {
	gcFloorOnce.Do(func() {
		if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
			return
		}
		gcPercent := debug.SetGCPercent(-1)
		limit := debug.SetMemoryLimit(gcFloorBytes)
		runtime.AddCleanup(&gcSentinel{}, func(int) {
			debug.SetGCPercent(gcPercent)
			debug.SetMemoryLimit(limit)
		}, 0)
	})
}
