package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
)

func TestLine(t *testing.T) {
	cases := []struct {
		bytes, records, total int64
		elapsed               time.Duration
		want                  string
	}{
		{512 << 20, 380000, 2 << 30, time.Second, "outsider: read 512.0 MB of 2.0 GB (25%), 512.0 MB/s, 380k records/s, ETA 0:03"},
		{3 << 30, 2_200_000, 0, 2 * time.Second, "outsider: read 3.0 GB, 1.5 GB/s, 1.1M records/s"},
		{100, 1, 100, time.Second, "outsider: read 100 B of 100 B (100%), 100 B/s, 1 records/s"},
	}
	for _, c := range cases {
		if got := Line(c.bytes, c.records, c.total, c.elapsed); got != c.want {
			t.Errorf("Line = %q\n want %q", got, c.want)
		}
	}
	if got := Final(1<<30, 745000, 1500*time.Millisecond); got != "outsider: read 1.0 GB, 745k records in 0:02 (682.7 MB/s)" {
		t.Errorf("Final = %q", got)
	}
}

func TestStartStop(t *testing.T) {
	var w testutil.SyncBuffer
	var c Counters
	stop := Start(&w, &c, 1000, time.Millisecond)
	c.Bytes.Add(500)
	c.Records.Add(10)
	time.Sleep(250 * time.Millisecond)
	stop()
	stop() // idempotent
	out := w.String()
	if !strings.Contains(out, "\routsider: read 500 B of 1000 B (50%)") {
		t.Errorf("no progress line in %q", out)
	}
	if !strings.HasSuffix(out, "\n") || !strings.Contains(out, "records in") {
		t.Errorf("no final line in %q", out)
	}
	// At most 10 redraws a second.
	if n := strings.Count(out, "\r"); n > 4 {
		t.Errorf("%d redraws in 250 ms", n)
	}
}
