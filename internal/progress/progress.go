// Package progress draws the one-line progress report a long triage shows
// on a terminal: bytes read of the total, throughput, records per second
// and the time left. It only draws; the engine and the reader advance the
// counters it reads, so the hot path pays one atomic add per batch.
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Counters are what the run advances.
type Counters struct {
	// Bytes read from the inputs on disk (before decompression).
	Bytes atomic.Int64
	// Records decoded.
	Records atomic.Int64
}

// Line renders one progress line. total is the inputs' size on disk, 0
// when unknown (stdin), in which case no percentage or ETA is shown.
func Line(bytes, records, total int64, elapsed time.Duration) string {
	secs := elapsed.Seconds()
	if secs <= 0 {
		secs = 1e-9
	}
	rate := float64(bytes) / secs
	s := fmt.Sprintf("outsider: read %s", size(bytes))
	if total > 0 {
		pct := 100 * float64(bytes) / float64(total)
		s += fmt.Sprintf(" of %s (%.0f%%)", size(total), min(pct, 100))
	}
	s += fmt.Sprintf(", %s/s, %s records/s", size(int64(rate)), count(float64(records)/secs))
	if total > 0 && rate > 0 && bytes < total {
		left := time.Duration(float64(total-bytes) / rate * float64(time.Second))
		s += ", ETA " + clock(left)
	}
	return s
}

// Final renders the line printed when the run is done.
func Final(bytes, records int64, elapsed time.Duration) string {
	secs := max(elapsed.Seconds(), 1e-9)
	return fmt.Sprintf("outsider: read %s, %s records in %s (%s/s)", size(bytes), count(float64(records)), clock(elapsed), size(int64(float64(bytes)/secs)))
}

// Start redraws the line on w (a terminal) every interval until the
// returned stop function is called, which prints the final line. The
// interval is clamped to at least 100 ms: no more than 10 redraws a second.
func Start(w io.Writer, c *Counters, total int64, interval time.Duration) (stop func()) {
	interval = max(interval, 100*time.Millisecond)
	begin := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		width := 0
		for {
			select {
			case <-done:
				line := Final(c.Bytes.Load(), c.Records.Load(), time.Since(begin))
				fmt.Fprintf(w, "\r%-*s\n", width, line)
				return
			case <-t.C:
				line := Line(c.Bytes.Load(), c.Records.Load(), total, time.Since(begin))
				// Pad over the previous, possibly longer, line.
				fmt.Fprintf(w, "\r%-*s", width, line)
				width = max(width, len(line))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), 0
	for f >= unit && u < 4 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f %s", f, []string{"B", "KB", "MB", "GB", "TB"}[u])
}

func count(f float64) string {
	switch {
	case f >= 1e6:
		return fmt.Sprintf("%.1fM", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.0fk", f/1e3)
	}
	return fmt.Sprintf("%.0f", f)
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
