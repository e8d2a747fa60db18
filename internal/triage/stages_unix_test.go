//go:build unix

package triage

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// BenchmarkRunStages times the engine stopped after each stage on the
// same 64 MB of generated tenant: reading, framing and decoding alone;
// then with deduplication; then everything (aggregating and judging). The
// differences are what each stage costs, in wall time (MB/s) and in CPU
// seconds per GB of input over all workers (cpu-s/GB): on a machine
// whose cores are all busy, the CPU figure is what limits throughput.
func BenchmarkRunStages(b *testing.B) {
	for _, format := range []string{"jsonl", "purview-csv"} {
		data, _ := generate(b, synth.Options{Seed: 7, Size: 64 << 20, Format: format})
		p := testutil.WriteFile(b, b.TempDir(), "t", data)
		for _, st := range []struct {
			name string
			stop stage
		}{{"decode", stageDecode}, {"dedup", stageDedup}, {"all", stageAll}} {
			b.Run(format+"/"+st.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := Run(context.Background(), []string{p}, Options{stopAfter: st.stop}); err != nil {
						b.Fatal(err)
					}
				}
				cpu := cpuTime() - cpu0
				b.ReportMetric(cpu.Seconds()/(float64(b.N)*float64(len(data))/1e9), "cpu-s/GB")
			})
		}
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
