package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestSessionMatchesRun: a session fed the files in several calls, saved
// and loaded again between them, reports exactly what Run reports for
// all the files at once: with duplicates across files, the sign-in log
// read between UAL files (twins on both sides of a save), the
// deduplication set and sharing records spilled to disk, and a --since
// that filters.
func TestSessionMatchesRun(t *testing.T) {
	var ual, signins bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 5, Duplicates: 13, SignInLog: &signins}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	// One file gzipped, with checkpoints every 8 KiB whose windows past
	// 16 KiB go to a temporary file: a loaded session, whose snapshot
	// holds none, restarts it from its start for the second look.
	defer source.SetGzipCheckpointSpacing(8 << 10)()
	defer source.SetWindowBudget(16 << 10)()
	write := func(name string, lines [][]byte) {
		p := filepath.Join(dir, name)
		data := append(bytes.Join(lines, []byte("\n")), '\n')
		if name == "ual-1.jsonl" {
			p, data = p+".gz", testutil.Gzip(data)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// UAL and sign-ins in interleaved slices; one UAL slice twice.
	ul := bytes.Split(bytes.TrimSpace(ual.Bytes()), []byte("\n"))
	sl := bytes.Split(bytes.TrimSpace(signins.Bytes()), []byte("\n"))
	const parts = 5
	for i := range parts {
		write(fmt.Sprintf("ual-%d.jsonl", i), ul[i*len(ul)/parts:(i+1)*len(ul)/parts])
		write(fmt.Sprintf("signins-%d.jsonl", i), sl[i*len(sl)/parts:(i+1)*len(sl)/parts])
	}
	write("ual-again.jsonl", ul[len(ul)/3:len(ul)/2])

	for _, o := range []Options{{}, {Since: time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)}} {
		o.Workers, o.spillSlots, o.spillShares = 2, 16, 2
		ctx := context.Background()
		want, err := Run(ctx, paths, o)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSession(o)
		spilled, shared := false, false
		prev := 0
		for _, cut := range []int{0, 3, 4, 8, len(paths)} {
			err := s.Add(ctx, paths[prev:cut])
			prev = cut
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := s.Save(&b); err != nil {
				t.Fatal(err)
			}
			spilled = spilled || len(s.c.dups.ids.runs) > 0
			for _, a := range s.aggs {
				shared = shared || a.shareLog != nil
			}
			s.Close()
			if s, err = LoadSession(bytes.NewReader(b.Bytes()), int64(b.Len()), o); err != nil {
				t.Fatalf("after %d files: %v", cut, err)
			}
			// A truncated save is refused, never read short.
			if _, err := LoadSession(bytes.NewReader(b.Bytes()[:b.Len()-1]), int64(b.Len()-1), o); !errors.Is(err, ErrSessionFormat) {
				t.Errorf("after %d files: a truncated session: %v", cut, err)
			}
		}
		got, err := s.Report(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got.Earliest != want.Earliest {
			t.Errorf("since %v: earliest %d, want %d", o.Since, got.Earliest, want.Earliest)
		}
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		if !bytes.Equal(gj, wj) {
			t.Fatalf("since %v: the session's report differs from Run's:\n%s\nwant:\n%s", o.Since, gj, wj)
		}
		if want.Input.Duplicates == 0 || len(want.Identities) == 0 || !spilled || !shared {
			t.Fatalf("since %v: nothing tested: %d duplicates, %d identities, spilled %v %v", o.Since, want.Input.Duplicates, len(want.Identities), spilled, shared)
		}
		if _, err := s.Report(context.Background()); err == nil {
			t.Error("a second report of an ended session")
		}
	}
}

// FuzzLoadSession: whatever the bytes, loading never panics, and a
// session it accepts saves and loads again.
func FuzzLoadSession(f *testing.F) {
	var ual, signins bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 2, Size: 64 << 10, Days: 2, Duplicates: 5, SignInLog: &signins}); err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "u.jsonl"), ual.Bytes(), 0o600)
	os.WriteFile(filepath.Join(dir, "s.jsonl"), signins.Bytes(), 0o600)
	s := NewSession(Options{})
	var b bytes.Buffer
	if err := s.Add(context.Background(), []string{filepath.Join(dir, "u.jsonl"), filepath.Join(dir, "s.jsonl")}); err != nil {
		f.Fatal(err)
	}
	if err := s.Save(&b); err != nil {
		f.Fatal(err)
	}
	s.Close()
	f.Add(b.Bytes())
	f.Add([]byte(sessionMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadSession(bytes.NewReader(data), int64(len(data)), Options{})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := s.Save(&out); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s2, err := LoadSession(bytes.NewReader(out.Bytes()), int64(out.Len()), Options{})
		if err != nil {
			t.Fatalf("a session accepted does not load after a save: %v", err)
		}
		if _, err := s2.Report(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLoadSessionOtherVersion: a session saved with another layout is
// refused as another version's (ErrSessionVersion, which a watch reports
// as an upgrade), not as damage; bytes that are no session are not that.
func TestLoadSessionOtherVersion(t *testing.T) {
	s := NewSession(Options{})
	var b bytes.Buffer
	if err := s.Save(&b); err != nil {
		t.Fatal(err)
	}
	s.Close()
	old := bytes.Replace(b.Bytes(), []byte(sessionMagic), []byte(sessionMagicPrefix+"v3"), 1)
	if bytes.Equal(old, b.Bytes()) || len(sessionMagic) != len(sessionMagicPrefix+"v3") {
		t.Fatalf("test needs a layout name of the same length as %q", sessionMagic)
	}
	_, err := LoadSession(bytes.NewReader(old), int64(len(old)), Options{})
	if !errors.Is(err, ErrSessionFormat) || !errors.Is(err, ErrSessionVersion) {
		t.Fatalf("older layout: %v; want ErrSessionFormat and ErrSessionVersion", err)
	}
	junk := bytes.Replace(b.Bytes(), []byte(sessionMagic), []byte(strings.Repeat("x", len(sessionMagic))), 1)
	if _, err := LoadSession(bytes.NewReader(junk), int64(len(junk)), Options{}); !errors.Is(err, ErrSessionFormat) || errors.Is(err, ErrSessionVersion) {
		t.Fatalf("no session header: %v; want ErrSessionFormat only", err)
	}
}

// TestSessionKeepsNoAppFirsts: an OfficeActivity export (no
// ApplicationId) read before the sign-in log, with the session saved and
// loaded after each file, reports what Run reports: the app-less
// successes kept and the sign-ins moved away (userStats.noApp), which
// decide the first success cited, survive the session's layout.
func TestSessionKeepsNoAppFirsts(t *testing.T) {
	var ual, signins bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 5, Format: synth.FormatSentinelCSV, SignInLog: &signins}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths := []string{testutil.WriteFile(t, dir, "officeactivity.csv", ual.Bytes()), testutil.WriteFile(t, dir, "signins.json", signins.Bytes())}
	ctx := context.Background()
	o := Options{Workers: 2}
	want, err := Run(ctx, paths, o)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(o)
	for _, p := range paths {
		if err := s.Add(ctx, []string{p}); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.Save(&b); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err = LoadSession(bytes.NewReader(b.Bytes()), int64(b.Len()), o); err != nil {
			t.Fatalf("after %s: %v", p, err)
		}
	}
	// What each account keeps, against a session never saved: the
	// report alone may not show a loss (the first success cited can be
	// the same either way).
	kept := func(s *Session) (map[string]string, int) {
		m, moved := map[string]string{}, 0
		for _, a := range s.aggs {
			for name, u := range a.users {
				if u.noApp != nil {
					m[name] = fmt.Sprintf("%d kept, %d moved, first %+v", len(u.noApp.cands), len(u.noApp.moved), u.noApp.first())
					moved += len(u.noApp.moved)
				}
			}
		}
		return m, moved
	}
	whole := NewSession(o)
	defer whole.Close()
	if err := whole.Add(ctx, paths); err != nil {
		t.Fatal(err)
	}
	wantKept, moved := kept(whole)
	if gotKept, _ := kept(s); !maps.Equal(gotKept, wantKept) {
		t.Errorf("app-less successes after loads:\n%v\nwant:\n%v", gotKept, wantKept)
	}
	if moved == 0 {
		t.Fatal("nothing tested: no app-less success moved")
	}
	got, err := s.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gj, _ := json.MarshalIndent(got, "", " ")
	wj, _ := json.MarshalIndent(want, "", " ")
	if !bytes.Equal(gj, wj) {
		t.Fatalf("the session's report differs from Run's:\n%s\nwant:\n%s", gj, wj)
	}
}
