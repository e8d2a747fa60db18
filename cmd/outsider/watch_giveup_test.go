package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect"
)

// TestFailStreak: a source that fails every cycle for the limit gives up,
// naming itself, since when and its last error; a success in between
// starts the count again.
func TestFailStreak(t *testing.T) {
	f := &failStreak{since: map[string]time.Time{}}
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	fail := &collect.Summary{Sources: []*collect.SourceSummary{{Source: "Audit.Exchange", Error: "cannot reach manage.office.com: no such host"}, {Source: "signins"}}}
	ok := &collect.Summary{Sources: []*collect.SourceSummary{{Source: "Audit.Exchange"}, {Source: "signins"}}}
	limit := 10 * time.Minute
	if err := f.update(fail, errors.New("x"), t0, limit); err != nil {
		t.Fatal(err)
	}
	if err := f.update(fail, errors.New("x"), t0.Add(5*time.Minute), limit); err != nil {
		t.Fatal(err)
	}
	if err := f.update(ok, nil, t0.Add(9*time.Minute), limit); err != nil {
		t.Fatal(err)
	}
	if err := f.update(fail, errors.New("x"), t0.Add(15*time.Minute), limit); err != nil {
		t.Fatalf("a success in between did not restart the count: %v", err)
	}
	err := f.update(fail, errors.New("x"), t0.Add(25*time.Minute), limit)
	if err == nil {
		t.Fatal("no give-up after 10 minutes of failed cycles")
	}
	for _, want := range []string{"Audit.Exchange", "since 2026-12-07T10:15:00Z", "--give-up-after 10m0s", "no such host"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	// A collection that failed before any source ran counts as "collect".
	g := &failStreak{since: map[string]time.Time{}}
	g.update(nil, errors.New("archive locked"), t0, limit)
	if err := g.update(nil, errors.New("archive locked"), t0.Add(limit), limit); err == nil || !strings.Contains(err.Error(), "collect has failed") {
		t.Errorf("collect failure: %v", err)
	}
}
