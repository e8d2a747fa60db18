package source

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// aheadFixture writes compressed and plain inputs of every kind the
// background inflaters meet, good and broken, and returns their paths in
// an order that mixes them (one twice, a folder, a missing file).
func aheadFixture(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	big := testutil.Gzip(jsonl(30000)) // ~2.5 MB inflated: many chunks
	trunc := big[:len(big)/2]
	flipped := append([]byte(nil), big...)
	for i := len(flipped) / 2; i < len(flipped)/2+64; i++ {
		flipped[i] ^= 0x5a
	}
	badZip := zipBytes(t,
		member{name: "a.jsonl", data: jsonl(1)},
		member{name: "b.jsonl", data: jsonl(2000)},
		member{name: "c.jsonl", data: jsonl(1)},
	)
	bi := bytes.Index(badZip, []byte("b.jsonl"))
	for i := bi + 200; i < bi+400; i++ {
		badZip[i] ^= 0xa5
	}
	var u16 bytes.Buffer
	u16.Write([]byte{0xff, 0xfe})
	for _, c := range utf16.Encode([]rune(string(jsonl(50)))) {
		u16.Write([]byte{byte(c), byte(c >> 8)})
	}
	files := []struct {
		name string
		data []byte
	}{
		{"a.jsonl.gz", big},
		{"b.jsonl", jsonl(100)},
		{"c-truncated.gz", trunc},
		{"d-flipped.gz", flipped},
		{"e-bad-header.gz", []byte{0x1f, 0x8b, 0, 0, 0}},
		{"f-zip-inside.gz", testutil.Gzip(zipBytes(t, member{name: "m1.jsonl", data: jsonl(10)}, member{name: "m2.jsonl", data: jsonl(20)}))},
		{"g-multi-member.gz", append(testutil.Gzip(jsonl(5)), testutil.Gzip(jsonl(7))...)},
		{"h-empty.gz", testutil.Gzip(nil)},
		{"i-one-byte.gz", []byte{0x1f}},
		{"j-utf16.gz", testutil.Gzip(u16.Bytes())},
		{"k-gz-in-gz.gz", testutil.Gzip(testutil.Gzip(jsonl(30)))},
		{"dir/l.jsonl.gz", testutil.Gzip(jsonl(40))},
		{"n.zip", zipBytes(t,
			member{name: "a.jsonl", data: jsonl(2000)},
			member{name: "b.jsonl.gz", data: testutil.Gzip(jsonl(100))},
			member{name: "c.jsonl", data: jsonl(30), store: true},
			member{name: "d.zip", data: zipBytes(t, member{name: "x.jsonl", data: jsonl(9)}, member{name: "y.jsonl", data: jsonl(11)})},
			member{name: ".hidden.jsonl", data: jsonl(1)},
			member{name: "e.csv", data: []byte("RecordId,CreationDate\n1,2\n")},
			member{name: "f.jsonl", data: jsonl(20000)},
		)},
		{"o-bad-member.zip", badZip},
		{"p-zip-in-gz.gz", testutil.Gzip(zipBytes(t, member{name: "q.jsonl", data: jsonl(50)}, member{name: "r.jsonl", data: trunc}))},
		{"dir/m.jsonl", jsonl(3)},
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, testutil.WriteFile(t, dir, f.name, f.data))
	}
	paths = append(paths, paths[0], filepath.Join(dir, "dir"), filepath.Join(dir, "missing.gz"), paths[2])
	return paths
}

// TestAheadSameAsForeground: reading with background inflaters gives the
// records, inputs and problems (text and order) of reading every file in
// the foreground, whatever the number of files inflated at once and the
// size of the chunks handed over.
func TestAheadSameAsForeground(t *testing.T) {
	paths := aheadFixture(t)
	want := readAll(t, paths, Options{noAhead: true, BatchBytes: 8192})
	if want.err != nil {
		t.Fatal(want.err)
	}
	if len(want.recs) < 30000 || len(want.probs) < 4 {
		t.Fatalf("fixture too tame: %d records, %d problems", len(want.recs), len(want.probs))
	}
	defer func(c, n int) { aheadChunk, aheadChunks = c, n }(aheadChunk, aheadChunks)
	for _, chunks := range [][2]int{{256 << 10, 32}, {1024, 2}, {512, 1}, {4096, 64}} {
		aheadChunk, aheadChunks = chunks[0], chunks[1]
		for _, files := range []int{1, 2, 3, 8, 100} {
			got := readAll(t, paths, Options{Inflaters: files, BatchBytes: 8192})
			if got.err != nil {
				t.Fatal(got.err)
			}
			if !reflect.DeepEqual(got.recs, want.recs) {
				t.Errorf("chunks %v, %d files ahead: records differ (%d against %d)", chunks, files, len(got.recs), len(want.recs))
			}
			if !reflect.DeepEqual(got.probs, want.probs) {
				t.Errorf("chunks %v, %d files ahead: problems\n%s\nwant\n%s", chunks, files, fmtProblems(got.probs), fmtProblems(want.probs))
			}
			if !reflect.DeepEqual(pointsApart(got.inputs), pointsApart(want.inputs)) {
				t.Errorf("chunks %v, %d files ahead: inputs %+v, want %+v", chunks, files, got.inputs, want.inputs)
			}
		}
	}
}

// TestAheadStops: a run cancelled or stopped by emit returns at once and
// leaves no inflater running and no file open.
func TestAheadStops(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"a.gz", "b.gz", "c.gz", "d.gz", "e.gz", "f.gz"} {
		paths = append(paths, testutil.WriteFile(t, dir, name, testutil.Gzip(jsonl(20000))))
	}
	defer func(c, n int) { aheadChunk, aheadChunks = c, n }(aheadChunk, aheadChunks)
	aheadChunk, aheadChunks = 4096, 2 // inflaters blocked on a full queue
	before := runtime.NumGoroutine()

	checkStops(t, paths, paths, func() Options { return Options{BatchBytes: 4096, Inflaters: 4} })

	// Close waits for each inflater, so none may be left; give the
	// runtime a moment to retire the goroutines that just returned.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running (%d before)", n, before)
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && filepath.Dir(target) == dir {
				t.Errorf("file left open: %s", target)
			}
		}
	}
}

// TestAheadRandomDamage: gzip files and zips damaged at random places
// (bytes flipped, cut short) read the same with and without background
// inflaters: every error surfaces at the same record, with the same text.
func TestAheadRandomDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	dir := t.TempDir()
	defer func(c, n int) { aheadChunk, aheadChunks = c, n }(aheadChunk, aheadChunks)
	aheadChunk, aheadChunks = 2048, 3
	good := testutil.Gzip(jsonl(3000))
	zipped := zipBytes(t, member{name: "a.jsonl", data: jsonl(1500)}, member{name: "b.jsonl", data: jsonl(1500)})
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	for round := range rounds {
		var paths []string
		for i := range 4 {
			data := good
			if i%2 == 1 {
				data = zipped
			}
			data = append([]byte(nil), data...)
			switch rng.IntN(3) {
			case 0: // flip a few bytes past the header
				for range 1 + rng.IntN(4) {
					data[20+rng.IntN(len(data)-20)] ^= byte(1 + rng.IntN(255))
				}
			case 1: // cut short
				data = data[:10+rng.IntN(len(data)-10)]
			}
			paths = append(paths, testutil.WriteFile(t, dir, fmt.Sprintf("r%d-%d.gz", round, i), data))
		}
		want := readAll(t, paths, Options{noAhead: true, BatchBytes: 4096})
		got := readAll(t, paths, Options{Inflaters: 1 + rng.IntN(4), BatchBytes: 4096})
		if !reflect.DeepEqual(got.recs, want.recs) || !reflect.DeepEqual(got.probs, want.probs) ||
			!reflect.DeepEqual(pointsApart(got.inputs), pointsApart(want.inputs)) || (got.err == nil) != (want.err == nil) {
			t.Fatalf("round %d: %d records / problems\n%s\nwant %d records / problems\n%s", round,
				len(got.recs), fmtProblems(got.probs), len(want.recs), fmtProblems(want.probs))
		}
	}
}

// pointsApart is inputs with their indexes' points left out: a gzip
// file's points fall where the framer's reads end, which depend on the
// chunks a background inflater hands over; every other field of the
// index (checkpoints, size, format) must be the same, and either set of
// points reads the same records (TestReadIndexedGzip).
func pointsApart(inputs []Input) []Input {
	out := append([]Input(nil), inputs...)
	for i := range out {
		if ix := out[i].Index; ix != nil {
			c := *ix
			c.Points = nil
			out[i].Index = &c
		}
	}
	return out
}
