//go:build unix

package triage

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/source"
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

// BenchmarkFold times aggregation alone, without reading, the pipeline
// or judging: 64 MB of generated tenant is read and deduplicated once,
// then every iteration decodes its batches again and folds each, in input
// order on one goroutine, into fresh aggregates (shardSink.take), as a
// worker does. "decode" stops before the fold; the difference is what
// aggregation costs, with the record's bytes as warm as in a run (just
// decoded) and the aggregates as cold (a batch's worth of input streamed
// through the caches between two).
func BenchmarkFold(b *testing.B) {
	for _, format := range []string{"jsonl", "purview-csv"} {
		data, _ := generate(b, synth.Options{Seed: 7, Size: 64 << 20, Format: format})
		p := testutil.WriteFile(b, b.TempDir(), "t", data)
		var batches []*source.Batch
		emit := func(bt *source.Batch) error { batches = append(batches, bt); return nil }
		if _, err := source.Read(context.Background(), []string{p}, source.Options{}, emit, func(source.Problem) {}); err != nil {
			b.Fatal(err)
		}
		k := &worker{opts: &Options{}, dups: newDedup(), earliest: newAtomicMin(), report: func(source.Problem) {}}
		k.dups.ids.capSlots(defaultSpillSlots)
		fates := make([][]recordFate, len(batches))
		w := &work{}
		for i, bt := range batches {
			w.batch, w.keys, w.evs, w.lines = bt, w.keys[:0], w.evs[:0], w.lines[:0]
			k.decode(w)
			for j := range w.keys {
				fates[i] = append(fates[i], k.dups.check(&w.keys[j], &w.evs[j]))
			}
		}
		for _, fold := range []bool{false, true} {
			name := format + "/decode"
			if fold {
				name = format + "/fold"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				cpu0 := cpuTime()
				for b.Loop() {
					s := newSession(Options{}, 0)
					sink := &shardSink{shards: s.shards, seed: s.seed}
					for i, bt := range batches {
						w.batch, w.keys, w.evs, w.lines = bt, w.keys[:0], w.evs[:0], w.lines[:0]
						w.ok, w.bad, w.filtered = 0, 0, 0
						k.decode(w)
						w.fate = fates[i]
						if fold {
							if err := sink.take(w); err != nil {
								b.Fatal(err)
							}
						}
					}
					s.Close()
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
