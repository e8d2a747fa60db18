package watch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/collect/fakems"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/triage"
)

// archiveWriter lays a synthetic tenant out as collect does (DIR/ual/DAY/
// one file per content blob, by the day the blob was created;
// DIR/signins/DAY/signins-HOUR.jsonl.gz, one per hour of sign-ins) as a
// clock moves.
type archiveWriter struct {
	t       *testing.T
	dir     string
	blobs   []*fakems.Blob
	signins []fakems.SignIn
	written map[string]bool
}

func writeGz(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, l := range lines {
		zw.Write(l)
		zw.Write([]byte{'\n'})
	}
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// until writes the blobs created by now and the sign-ins of every hour
// begun by now (the current hour's file partial, rewritten as it fills,
// as collect rewrites it), and returns how many files it wrote.
func (a *archiveWriter) until(now time.Time) int {
	n := 0
	for _, b := range a.blobs {
		p := filepath.Join(a.dir, collect.DirUAL, b.Created.UTC().Format("2006-01-02"), b.ContentType+"-"+b.ContentID+".jsonl.gz")
		if b.Created.After(now) || a.written[p] {
			continue
		}
		writeGz(a.t, p, b.Records)
		// A blob arrives when it is created (its modification time is
		// what watch orders the archive by).
		if err := os.Chtimes(p, b.Created, b.Created); err != nil {
			a.t.Fatal(err)
		}
		a.written[p] = true
		n++
	}
	hours := map[string][][]byte{}
	for _, s := range a.signins {
		if s.Created.After(now) {
			continue
		}
		h := s.Created.UTC().Truncate(time.Hour)
		p := filepath.Join(a.dir, collect.DirSignins, h.Format("2006-01-02"), "signins-"+h.Format("2006-01-02T15")+".jsonl.gz")
		hours[p] = append(hours[p], s.JSON)
	}
	for p, lines := range hours {
		if a.written[p] {
			continue
		}
		writeGz(a.t, p, lines)
		n++
		// An hour is final once it has ended.
		if h, _ := time.Parse("2006-01-02T15", strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "signins-"), ".jsonl.gz")); !h.Add(time.Hour).After(now) {
			a.written[p] = true
		}
	}
	return n
}

// TestCycleCacheMatchesFullTriage: across cycles with new files, idle
// cycles, a partial hour rewritten, a file repeated under another name,
// records aging out of the lookback, a damaged cache and one of another
// version, a watch that keeps its cycle cache writes exactly the findings
// and identities of a watch that triages the whole lookback every cycle;
// and idle cycles do reuse the cache.
//
// The same runs hold for the engine snapshot (resume.go): cycles after
// new files continue it and read only what is new, with the UAL's blobs
// published 20 minutes after their hour, and five hours after it (every
// UAL sign-in then arrives hours after its Entra twin); a damaged
// snapshot, or one of another version, is rebuilt from the archive.
func TestCycleCacheMatchesFullTriage(t *testing.T) {
	for _, delay := range []time.Duration{20 * time.Minute, 5 * time.Hour} {
		t.Run(delay.String(), func(t *testing.T) { testCyclesMatchFullTriage(t, delay) })
	}
}

func testCyclesMatchFullTriage(t *testing.T, delay time.Duration) {
	ctx := context.Background()
	var buf bytes.Buffer
	exp, err := synth.Generate(&buf, synth.Options{Seed: 3, Days: 6})
	if err != nil {
		t.Fatal(err)
	}
	blobs, signins, dups, err := fakems.Split(&buf, fakems.SplitOptions{Bucket: time.Hour, Delay: delay, DuplicateEvery: 40})
	if err != nil {
		t.Fatal(err)
	}
	if dups == 0 {
		t.Fatal("no duplicates across blobs")
	}
	dir := t.TempDir()
	aw := &archiveWriter{t: t, dir: dir, blobs: blobs, signins: signins, written: map[string]bool{}}
	clk := &clock{}
	// Two watches over one archive, each with its own state (the
	// archive's lock is for collectors; these only read it).
	open := func(name string) (*collect.Archive, *bytes.Buffer, *bytes.Buffer) {
		st, err := state.Open(ctx, filepath.Join(t.TempDir(), name, "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return &collect.Archive{Dir: dir, State: st}, &bytes.Buffer{}, &bytes.Buffer{}
	}
	incA, incOut, incLog := open("inc")
	refA, refOut, refLog := open("ref")
	opts := func(a *collect.Archive, out, log *bytes.Buffer) Options {
		return Options{Archive: a, Tenants: []string{exp.TenantID}, Lookback: 3 * 24 * time.Hour, Findings: out, Log: log, Now: clk.Now, MinSeverity: "info", Workers: 2}
	}
	inc, ref := opts(incA, incOut, incLog), opts(refA, refOut, refLog)
	cache := filepath.Join(filepath.Dir(incA.State.Path()), CacheFile)

	snapshot := filepath.Join(filepath.Dir(incA.State.Path()), SnapshotFile)
	resumed := 0
	var ci *Cycle
	cycle := func(step string, wantReused bool) {
		t.Helper()
		// The reference always triages the whole lookback.
		os.Remove(filepath.Join(filepath.Dir(refA.State.Path()), CacheFile))
		os.Remove(filepath.Join(filepath.Dir(refA.State.Path()), SnapshotFile))
		cr, err := Once(ctx, ref)
		if err != nil {
			t.Fatalf("%s: reference cycle: %v", step, err)
		}
		ci, err = Once(ctx, inc)
		if err != nil {
			t.Fatalf("%s: cycle: %v", step, err)
		}
		if ci.Resumed {
			resumed++
			if ci.Read >= ci.Files {
				t.Errorf("%s: resumed, yet read %d files of %d", step, ci.Read, ci.Files)
			}
		}
		if cr.Reused || cr.Resumed {
			t.Fatalf("%s: the reference reused a cache", step)
		}
		if ci.Reused != wantReused {
			t.Errorf("%s: reused = %v, want %v", step, ci.Reused, wantReused)
		}
		if ci.Records != cr.Records || ci.Identities != cr.Identities || ci.Files != cr.Files {
			t.Errorf("%s: %d files %d records %d identities, want %d %d %d", step, ci.Files, ci.Records, ci.Identities, cr.Files, cr.Records, cr.Identities)
		}
		if incOut.String() != refOut.String() {
			t.Fatalf("%s: findings differ from a full triage's:\n%s\nwant:\n%s", step, incOut.String(), refOut.String())
		}
		ii, err := incA.State.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ri, _ := refA.State.Identities(ctx)
		if !reflect.DeepEqual(ii, ri) {
			t.Fatalf("%s: identities in the state differ from a full triage's", step)
		}
	}

	start := synth.DefaultStart
	now := start.Add(36 * time.Hour)
	clk.Set(now)
	aw.until(now)
	cycle("first", false)
	if incOut.Len() == 0 {
		t.Fatal("first cycle: no findings")
	}
	cycle("idle", true)
	// Five minutes on, nothing new: the lookback start moves, and no
	// record is that old yet (the archive starts at the synthetic start).
	now = now.Add(5 * time.Minute)
	clk.Set(now)
	cycle("idle, five minutes on", true)
	for i := range 6 {
		now = now.Add(time.Hour)
		clk.Set(now)
		if aw.until(now) == 0 {
			t.Fatalf("hour %d: nothing new", i)
		}
		cycle(fmt.Sprintf("hour %d", i), false)
		if i > 0 && !ci.Resumed {
			t.Errorf("hour %d: triaged the lookback, not resumed", i)
		}
		cycle(fmt.Sprintf("hour %d, idle", i), true)
	}
	if fi, err := os.Stat(snapshot); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file: %v %v", fi, err)
	}
	// A damaged snapshot, or one of another version, is rebuilt from the
	// archive, and says so; the next hour continues the new one.
	good, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	// nextFiles moves the clock on by hours until new files arrive.
	nextFiles := func() {
		for {
			now = now.Add(time.Hour)
			clk.Set(now)
			if aw.until(now) > 0 {
				return
			}
		}
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)*2/3] ^= 0x01
	for i, damage := range [][]byte{
		good[:len(good)/2],
		flipped,
		[]byte("garbage"),
		nil,
		append([]byte("outsider/watch-snapshot/v0\n"), good[len(snapshotSchema):]...),
	} {
		os.WriteFile(snapshot, damage, 0o600)
		nextFiles()
		incLog.Reset()
		cycle(fmt.Sprintf("damaged snapshot %d", i), false)
		want := "rebuilding it from the archive"
		if i == 4 {
			want = "written by another version"
		}
		if ci.Resumed || !strings.Contains(incLog.String(), "engine snapshot") || !strings.Contains(incLog.String(), want) {
			t.Errorf("damaged snapshot %d: resumed %v, log = %q", i, ci.Resumed, incLog.String())
		}
		nextFiles()
		cycle(fmt.Sprintf("damaged snapshot %d, next hour", i), false)
		if !ci.Resumed {
			t.Errorf("damaged snapshot %d: the next hour did not resume the rebuilt snapshot", i)
		}
	}
	// A file rewritten with the same content (as collect rewrites the
	// current hour's sign-ins) is still unchanged; one whose content
	// changed at the same size is not.
	var hourFile string
	filepath.WalkDir(filepath.Join(dir, collect.DirSignins), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			hourFile = p
		}
		return nil
	})
	content, err := os.ReadFile(hourFile)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.WriteFile(hourFile, content, 0o600)
	os.Chtimes(hourFile, later, later)
	cycle("a file rewritten as it was", true)
	changed := bytes.Clone(content)
	changed[len(changed)-9] ^= 0xff // the gzip trailer's CRC: the file no longer reads whole
	os.WriteFile(hourFile, changed, 0o600)
	os.Chtimes(hourFile, later.Add(time.Minute), later.Add(time.Minute))
	cycle("a file rewritten with other content", false)
	os.WriteFile(hourFile, content, 0o600)
	cycle("a file restored", false)
	// A blob written again under another name (every record a duplicate).
	var some string
	filepath.WalkDir(filepath.Join(dir, collect.DirUAL), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && some == "" {
			some = p
		}
		return nil
	})
	b, _ := os.ReadFile(some)
	os.WriteFile(strings.TrimSuffix(some, ".jsonl.gz")+"-again.jsonl.gz", b, 0o600)
	cycle("a file repeated", false)
	cycle("a file repeated, idle", true)
	// The rest of the tenant, then days on: the lookback starts at 00:00
	// UTC, so the oldest records leave it a day at a time.
	now = start.Add(6*24*time.Hour + 6*time.Hour)
	clk.Set(now)
	aw.until(now)
	cycle("the rest", false)
	for i := range 3 {
		now = now.Add(24 * time.Hour)
		clk.Set(now)
		cycle(fmt.Sprintf("aging %d", i), false)
		cycle(fmt.Sprintf("aging %d, idle", i), true)
	}

	// A damaged cache is rebuilt from the archive, and says so.
	raw, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	// Altered: a later lookback start, still valid JSON.
	altered := bytes.Clone(raw)
	at := bytes.Index(altered, []byte(`"since":`)) + len(`"since":`)
	if altered[at] == '9' {
		altered[at] = '8'
	} else {
		altered[at]++
	}
	for i, damage := range [][]byte{
		raw[:len(raw)/2], // truncated
		altered,
		[]byte("garbage\n"),
		nil,
	} {
		os.WriteFile(cache, damage, 0o600)
		incLog.Reset()
		cycle(fmt.Sprintf("damaged cache %d", i), false)
		if !strings.Contains(incLog.String(), "damaged") || !strings.Contains(incLog.String(), "rebuilding it from the archive") {
			t.Errorf("damaged cache %d: log = %q", i, incLog.String())
		}
		cycle(fmt.Sprintf("damaged cache %d, then idle", i), true)
	}
	// A cache of another version is not read as this one's.
	raw, _ = os.ReadFile(cache)
	os.WriteFile(cache, bytes.Replace(raw, []byte(cacheSchema), []byte("outsider/watch-cache/v0"), 1), 0o600)
	incLog.Reset()
	cycle("old cache", false)
	if !strings.Contains(incLog.String(), "written by another version") {
		t.Errorf("old cache: log = %q", incLog.String())
	}
	if resumed == 0 {
		t.Error("no cycle resumed the engine snapshot")
	}
	// Other options than the cache's: triaged again.
	inc.Domains, ref.Domains = []string{"contoso.com"}, []string{"contoso.com"}
	cycle("other options", false)
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v", fi, err)
	}
}

// FuzzLoadCache: whatever the cache file holds, loading it never panics,
// and a cache it accepts is one saveCache writes back the same.
func FuzzLoadCache(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "seed")
	if err := saveCache(good, &cycleCache{Key: "k", Since: 5, Earliest: 9, Records: 3}); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	f.Add(b)
	f.Add([]byte("{}\n{}"))
	f.Add([]byte(`{"schema":"outsider/watch-cache/v1","length":2,"sha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}` + "\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "c")
		os.WriteFile(p, data, 0o600)
		c, err := loadCache(p)
		if err != nil {
			return
		}
		if err := saveCache(p, c); err != nil {
			t.Fatal(err)
		}
		c2, err := loadCache(p)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("a cache accepted does not survive a save: %v", err)
		}
	})
}

// FuzzReadSnapshot: whatever the snapshot file holds, reading it never
// panics, and a snapshot it accepts is one saveSnapshot writes back the
// same way.
func FuzzReadSnapshot(f *testing.F) {
	var ual, signins bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 2, Size: 32 << 10, Days: 2, SignInLog: &signins}); err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	u, si := filepath.Join(dir, "u.jsonl"), filepath.Join(dir, "s.jsonl")
	os.WriteFile(u, ual.Bytes(), 0o600)
	os.WriteFile(si, signins.Bytes(), 0o600)
	s := triage.NewSession(triage.Options{})
	if err := s.Add(context.Background(), []string{u, si}); err != nil {
		f.Fatal(err)
	}
	good := filepath.Join(dir, "snap")
	if err := saveSnapshot(good, &snapshotMeta{Options: "o", Since: 5, Files: []fileStamp{{Path: u, Size: 1}}}, s); err != nil {
		f.Fatal(err)
	}
	s.Close()
	b, _ := os.ReadFile(good)
	f.Add(b)
	f.Add(b[:snapshotHeader])
	f.Add([]byte(snapshotSchema))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, meta, err := readSnapshot(bytes.NewReader(data), triage.Options{}, nil)
		if err != nil {
			return
		}
		p := filepath.Join(t.TempDir(), "s")
		if err := saveSnapshot(p, meta, s); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s2, meta2, err := loadSnapshot(p, triage.Options{}, nil)
		if err != nil || !reflect.DeepEqual(meta, meta2) {
			t.Fatalf("a snapshot accepted does not survive a save: %v", err)
		}
		s2.Close()
	})
}
