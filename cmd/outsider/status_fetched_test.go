package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/watch"
)

// TestStatusSigninsAskedFor: status reports the current sign-in hour as
// collected up to what Graph was asked for, not up to when the fetch was
// recorded, so minutes not asked for show as lag.
func TestStatusSigninsAskedFor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := state.Open(ctx, filepath.Join(dir, ".outsider", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	asked, recorded := h.Add(20*time.Minute), h.Add(22*time.Minute)
	if err := st.RecordWindow(ctx, state.Window{Source: state.SourceSignins, Start: h, End: h.Add(time.Hour), Records: 3, DoneAt: recorded, FetchedTo: asked}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	old := timeNow
	timeNow = func() time.Time { return h.Add(30 * time.Minute) }
	defer func() { timeNow = old }()
	ios, _, out, errOut := iostreams.Test()
	if code := Main([]string{"status", "--archive", dir, "--format", "json"}, ios); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s watch.Status
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || len(s.Sources) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	if got := s.Sources[0]; got.LastWindowEnd != asked.Format(time.RFC3339) || got.LagSeconds != 600 {
		t.Errorf("signins: last window end %s, lag %ds; want %s, 600s", got.LastWindowEnd, got.LagSeconds, asked.Format(time.RFC3339))
	}
}
