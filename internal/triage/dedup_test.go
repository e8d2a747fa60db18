package triage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

func TestIDSetMatchesMap(t *testing.T) {
	// In memory; spilling to runs on disk (tables capped at their initial
	// size, so every ~49,000 keys spill and runs merge); spilling to a
	// folder that does not exist (the set stays in memory); tables grown
	// into the arena (idarena.go), and there spilling (capped at the
	// arena's first size, so every ~196,000 keys) and growing out of it
	// when spilling fails.
	for _, tc := range []struct {
		name      string
		maxSlots  int
		dir       string
		minSpills int
		fails     bool // spilling fails
		arena     bool // the tables end in the arena
	}{
		{"memory", 0, "", 0, false, false},
		{"spilled", 1 << 10, t.TempDir(), 4, false, false},
		{"spill fails", 1 << 10, filepath.Join(t.TempDir(), "missing"), 0, true, false},
		{"arena", 1 << 13, t.TempDir(), 0, false, true},
		{"arena spilled", arenaFrom, t.TempDir(), 1, false, true},
		{"arena spill fails", arenaFrom, filepath.Join(t.TempDir(), "missing"), 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIDSet()
			s.maxSlots, s.dir = tc.maxSlots, tc.dir
			defer s.release()
			ref := map[idKey]bool{}
			var seen []idKey
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 300000 {
				var k idKey
				// Mostly fresh keys, repeats of keys long gone to disk, a
				// few non-GUID ids, and the all-zero key.
				switch {
				case i%10 == 0 && i > 0:
					k = makeKey([]byte("not-a-guid-" + string(rune('a'+i%26))))
				case i%1000 == 1:
					k = idKey{}
				case i%7 == 0 && len(seen) > 0:
					k = seen[r.IntN(len(seen))]
				default:
					for j := range k {
						k[j] = byte(r.IntN(256))
					}
					if i%3 == 0 {
						k[0], k[1] = 0, 0 // crowd part of the key space
					}
				}
				if i%5 == 0 {
					var probe idKey
					if len(seen) > 0 && i%2 == 0 {
						probe = seen[r.IntN(len(seen))]
					} else {
						probe[3] = byte(i)
						probe[9] = byte(i >> 8)
					}
					if got := s.has(probe); got != ref[probe] {
						t.Fatalf("has #%d: got %v, want %v", i, got, ref[probe])
					}
				}
				want := !ref[k]
				ref[k] = true
				if want {
					seen = append(seen, k)
				}
				if got := s.add(k); got != want {
					t.Fatalf("add #%d: got %v, want %v", i, got, want)
				}
			}
			if s.len() != len(ref) {
				t.Errorf("set holds %d keys, map %d", s.len(), len(ref))
			}
			if s.ioErr != nil {
				t.Fatal(s.ioErr)
			}
			if got := s.arena != nil && !s.noArena; got != (haveArena && tc.maxSlots >= arenaFrom) {
				t.Errorf("arena mapped: %v", got)
			}
			for i := range s.shards {
				if s.inArena(s.shards[i].slots) != (haveArena && tc.arena) {
					t.Fatalf("table %d (%d slots) in the arena: %v", i, len(s.shards[i].slots), !tc.arena)
				}
			}
			if tc.minSpills > 0 {
				if s.spills < tc.minSpills || len(s.runs) > bits.Len(uint(s.spills)) {
					t.Errorf("%d spills left %d runs", s.spills, len(s.runs))
				}
				if left, _ := os.ReadDir(tc.dir); len(left) > 0 {
					t.Errorf("run files left in the folder: %v", left)
				}
			} else if len(s.runs) > 0 {
				t.Errorf("%d runs", len(s.runs))
			}
			if tc.fails != (s.spillErr != nil) {
				t.Errorf("spill error %v", s.spillErr)
			}
		})
	}
}

func TestMakeKey(t *testing.T) {
	a := makeKey([]byte("71fafc2a-f5b7-42c6-9867-a8f36dae0300"))
	b := makeKey([]byte("71FAFC2A-F5B7-42C6-9867-A8F36DAE0300"))
	if a != b {
		t.Error("GUID case matters")
	}
	want := idKey{0x71, 0xfa, 0xfc, 0x2a, 0xf5, 0xb7, 0x42, 0xc6, 0x98, 0x67, 0xa8, 0xf3, 0x6d, 0xae, 0x03, 0x00}
	if a != want {
		t.Errorf("makeKey = %x", a)
	}
	// Not GUIDs: hashed, distinct, stable.
	x, y := makeKey([]byte("71fafc2a-f5b7-42c6-9867-a8f36dae030g")), makeKey([]byte("abc"))
	if x == y || x == a || makeKey([]byte("abc")) != y {
		t.Error("non-GUID ids must hash distinctly and stably")
	}
}

func BenchmarkIDSet(b *testing.B) {
	keys := make([]idKey, 1<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(r.IntN(256))
		}
	}
	for _, bc := range []struct {
		name     string
		maxSlots int
	}{{"memory", 0}, {"spilling", 1 << 12}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			for b.Loop() {
				// A table capped at 4,096 slots a shard spills every ~196,000
				// keys: five spills and their merges per loop.
				s := newIDSet()
				s.capSlots(bc.maxSlots)
				s.dir = dir
				for i := range keys {
					s.add(keys[i])
				}
				s.release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
		})
	}
}

// TestSameSigninAcrossLogs: a sign-in recorded by the UAL (IntraSystemId)
// and by the Entra sign-in log (id) counts once, in either order; two UAL
// records sharing an IntraSystemId both count; a repeated sign-in log
// record is a duplicate.
func TestSameSigninAcrossLogs(t *testing.T) {
	ual := func(id, intra string) *audit.Event {
		return &audit.Event{Kind: audit.KindUAL, ID: []byte(id), IntraSystemID: []byte(intra), Operation: []byte("UserLoggedIn")}
	}
	sig := func(id string) *audit.Event {
		return &audit.Event{Kind: audit.KindSignIn, SignInID: []byte(id), Operation: []byte("SignIn")}
	}
	const a, b, c = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
	cases := []fateCase{
		{"ual first", []*audit.Event{ual(a, b), sig(b)}, []recordFate{fresh, sameSignin}},
		{"sign-in log first", []*audit.Event{sig(b), ual(a, b)}, []recordFate{fresh, sameSignin}},
		{"two ual steps of one request", []*audit.Event{ual(a, b), ual(c, b)}, []recordFate{fresh, fresh}},
		{"sign-in log repeated", []*audit.Event{sig(b), sig(b), ual(a, b)}, []recordFate{fresh, duplicate, sameSignin}},
		{"ual record repeated", []*audit.Event{ual(a, b), ual(a, b)}, []recordFate{fresh, duplicate}},
		{"ual id is its request id, ual first", []*audit.Event{ual(b, b), sig(b)}, []recordFate{fresh, sameSignin}},
		{"ual id is its request id, sign-in log first", []*audit.Event{sig(b), ual(b, b)}, []recordFate{fresh, sameSignin}},
		{"ual id is its request id, repeated", []*audit.Event{ual(b, b), ual(b, b), sig(b), sig(b)}, []recordFate{fresh, duplicate, sameSignin, duplicate}},
		{"record id equals another's request id", []*audit.Event{ual(b, b), sig(a), ual(a, c)}, []recordFate{fresh, fresh, fresh}},
	}
	checkFates(t, cases)
}

// TestSigninGivesApp: the sign-in log's copy of a sign-in counted from a
// UAL record that named no application gives it its application and
// outcome (sameSigninFrom + the counted outcome), only when the copy names
// an application and both name the same account; with the UAL naming its
// application, or the sign-in log read first, it is a plain copy.
func TestSigninGivesApp(t *testing.T) {
	const a, b = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	ual := func(user, app, errNo string) *audit.Event {
		op := "UserLoggedIn"
		if errNo != "" {
			op = "UserLoginFailed"
		}
		return &audit.Event{Kind: audit.KindUAL, ID: []byte(a), IntraSystemID: []byte(b), Operation: []byte(op),
			User: []byte(user), AppID: []byte(app), ErrorNumber: []byte(errNo)}
	}
	sig := func(user, app string) *audit.Event {
		return &audit.Event{Kind: audit.KindSignIn, SignInID: []byte(b), Operation: []byte("SignIn"), User: []byte(user), AppID: []byte(app)}
	}
	unknown := func(ev *audit.Event, key string) *audit.Event {
		ev.UserKind, ev.User, ev.UserKey = audit.UserUnusable, nil, []byte(key)
		return ev
	}
	byTenant := func(ev *audit.Event) *audit.Event {
		ev.UserKey, ev.ActorTenant = nil, []byte("0c6d9487-c6d9-43d6-8bbf-b1228b04c943")
		return ev
	}
	const app = "e984f5c5-4b9e-45ea-bf2c-e927b621f190"
	cases := []fateCase{
		{"ual without app first", []*audit.Event{ual("x@f.com", "", ""), sig("x@f.com", app)}, []recordFate{fresh, sameSigninFrom + recordFate(audit.Success)}},
		{"ual without app, failed", []*audit.Event{ual("x@f.com", "", "50126"), sig("x@f.com", app)}, []recordFate{fresh, sameSigninFrom + recordFate(audit.Failure)}},
		{"ual with app first", []*audit.Event{ual("x@f.com", app, ""), sig("x@f.com", app)}, []recordFate{fresh, sameSignin}},
		{"sign-in log first", []*audit.Event{sig("x@f.com", app), ual("x@f.com", "", "")}, []recordFate{fresh, sameSignin}},
		{"neither names the app", []*audit.Event{ual("x@f.com", "", ""), sig("x@f.com", "")}, []recordFate{fresh, sameSignin}},
		{"another account", []*audit.Event{ual("x@f.com", "", ""), sig("y@f.com", app)}, []recordFate{fresh, sameSignin}},
		{"one unknown account", []*audit.Event{unknown(ual("", "", ""), "k1"), unknown(sig("", app), "k1")}, []recordFate{fresh, sameSigninFrom + recordFate(audit.Success)}},
		// Each log keys an account with no usable name its own way; two
		// names of an account (aliasUnknown joins them) are one account.
		{"two unknown names of one account", []*audit.Event{unknown(ual("", "", ""), "k1"), unknown(sig("", app), "k2")}, []recordFate{fresh, sameSigninFrom + recordFate(audit.Success)}},
		// A name that falls back to the home tenant is never joined.
		{"an unknown account by its tenant", []*audit.Event{byTenant(unknown(ual("", "", ""), "")), unknown(sig("", app), "k2")}, []recordFate{fresh, sameSignin}},
		{"an account and an unknown key of its name", []*audit.Event{ual("k1", "", ""), unknown(sig("", app), "k1")}, []recordFate{fresh, sameSignin}},
	}
	checkFates(t, cases)
}

// TestMakeKeyRandomGUIDs: any GUID, in either case, is its own 16 bytes;
// one bad digit anywhere makes it a hashed key instead.
func TestMakeKeyRandomGUIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 20000 {
		var want idKey
		for i := range want {
			want[i] = byte(r.IntN(256))
		}
		h := hex.EncodeToString(want[:])
		if r.IntN(2) == 0 {
			h = strings.ToUpper(h)
		}
		id := []byte(h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
		if got := makeKey(id); got != want {
			t.Fatalf("makeKey(%s) = %x", id, got)
		}
		p := r.IntN(36)
		if id[p] == '-' {
			continue
		}
		id[p] = "gG/:@`"[r.IntN(6)]
		if got := makeKey(id); got == want {
			t.Fatalf("makeKey(%s) read a bad digit as a GUID", id)
		}
	}
}

// TestSpillSameReport: spilling record Ids and sharing records to disk
// (thresholds lowered so that small tenants spill many times and runs
// merge) gives byte-identical reports to keeping everything in memory, for
// a UAL with duplicates, for the UAL with the Entra sign-in log in either
// order (twin lookups go to disk too), and whatever the worker count; and
// leaves no file behind. A folder that cannot be written to keeps the
// report identical and says so in a warning.
func TestSpillSameReport(t *testing.T) {
	dir := t.TempDir()
	ualPath, sigPath, _, _ := generateWithSignIns(t, dir, synth.Options{Seed: 5, Duplicates: 13})
	dupData, _ := generate(t, synth.Options{Seed: 3, Size: 4 << 20, Duplicates: 97})
	dupPath := testutil.WriteFile(t, dir, "dups.jsonl", dupData)

	spillDir := t.TempDir()
	for _, paths := range [][]string{{dupPath}, {ualPath, sigPath}, {sigPath, ualPath}, {dupPath, dupPath}} {
		want, err := Run(context.Background(), paths, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want)
		for _, workers := range []int{1, 3} {
			opts := Options{Workers: workers, TempDir: spillDir, spillSlots: 16, spillShares: 1}
			got, err := Run(context.Background(), paths, opts)
			if err != nil {
				t.Fatal(err)
			}
			if gotJSON, _ := json.Marshal(got); !bytes.Equal(gotJSON, wantJSON) {
				t.Fatalf("%v, %d workers: spilled report differs:\n%s", paths, workers, firstDiff(string(gotJSON), string(wantJSON)))
			}
			if left, _ := os.ReadDir(spillDir); len(left) > 0 {
				t.Fatalf("files left in the spill folder: %v", left)
			}
		}
		// Nowhere to spill: same report, plus a warning naming the folder.
		missing := filepath.Join(dir, "missing")
		got, err := Run(context.Background(), paths, Options{Workers: 2, TempDir: missing, spillSlots: 16, spillShares: 1})
		if err != nil {
			t.Fatal(err)
		}
		var warned []string
		rest := got.Problems[:0:0]
		for _, p := range got.Problems {
			if p.Path == missing && p.Warning {
				warned = append(warned, p.Reason)
				continue
			}
			rest = append(rest, p)
		}
		if len(warned) != 2 {
			t.Errorf("%v: want a warning each for Ids and sharing records, got %q", paths, warned)
		}
		got.Problems = rest
		if len(rest) == 0 {
			got.Problems = want.Problems
		}
		if gotJSON, _ := json.Marshal(got); !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("%v: report differs when spilling fails:\n%s", paths, firstDiff(string(gotJSON), string(wantJSON)))
		}
	}
}

// TestHex8EveryByte: at each of the eight positions, every byte value is
// accepted as a digit exactly when it is one, with its value.
func TestHex8EveryByte(t *testing.T) {
	base := []byte("0a1B2c3D")
	for pos := range 8 {
		for c := range 256 {
			in := slices.Clone(base)
			in[pos] = byte(c)
			got, ok := hex8(binary.LittleEndian.Uint64(in))
			want, err := hex.DecodeString(string(in))
			if ok != (err == nil) {
				t.Fatalf("%q: ok = %v, hex.DecodeString error %v", in, ok, err)
			}
			if ok && binary.LittleEndian.Uint32(want) != got {
				t.Fatalf("%q: %08x, want %x", in, got, want)
			}
		}
	}
}

// TestSortKeys: the first-byte bucketing sort orders keys exactly as a
// plain sort by cmpKey does, crowded first bytes and all.
func TestSortKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	var tmp []idKey
	for round := range 200 {
		keys := make([]idKey, r.IntN(3000))
		for i := range keys {
			for j := range keys[i] {
				keys[i][j] = byte(r.IntN(256))
			}
			if round%3 == 0 {
				keys[i][0], keys[i][1] = byte(r.IntN(3)), byte(r.IntN(2)) // crowded
			}
		}
		want := slices.Clone(keys)
		slices.SortFunc(want, func(a, b idKey) int { return bytes.Compare(a[:], b[:]) })
		tmp = sortKeys(keys, tmp)
		if !slices.Equal(keys, want) {
			t.Fatalf("round %d: %d keys sorted differently", round, len(keys))
		}
	}
}

// fateCase is records in the order read and the fate of each.
type fateCase struct {
	name string
	evs  []*audit.Event
	want []recordFate
}

// checkFates passes each case's records through a new dedup.
func checkFates(t *testing.T, cases []fateCase) {
	t.Helper()
	for _, tc := range cases {
		d := newDedup()
		for i, ev := range tc.evs {
			k := d.keys(ev)
			if got := d.check(&k, ev); got != tc.want[i] {
				t.Errorf("%s: record %d: fate %d, want %d", tc.name, i, got, tc.want[i])
			}
		}
	}
}
