package triage

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
)

// TestTopKKeepsEarliest offers records in every order (ascending,
// descending, shuffled, with ties on time) and checks the list is exactly
// the k earliest, sorted, and that merging two lists gives the same.
func TestTopKKeepsEarliest(t *testing.T) {
	type rec struct {
		time int64
		id   string
		line int64
	}
	var all []rec
	for i := range 200 {
		all = append(all, rec{time: int64(i / 3), id: fmt.Sprintf("id-%03d", (i*7)%200), line: int64(i)})
	}
	want := slices.Clone(all)
	slices.SortFunc(want, func(a, b rec) int {
		if a.time != b.time {
			return int(a.time - b.time)
		}
		if a.id != b.id {
			if a.id < b.id {
				return -1
			}
			return 1
		}
		return int(a.line - b.line)
	})
	const k = 7
	orders := map[string][]rec{"ascending": want, "descending": slices.Clone(want)}
	slices.Reverse(orders["descending"])
	r := rand.New(rand.NewPCG(5, 6))
	shuffled := slices.Clone(all)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	orders["shuffled"] = shuffled
	check := func(name string, tk *topK) {
		t.Helper()
		got := tk.refs()
		if len(got) != k {
			t.Fatalf("%s: kept %d", name, len(got))
		}
		if tk.last != got[k-1].time {
			t.Errorf("%s: last = %d, the last kept record's time is %d", name, tk.last, got[k-1].time)
		}
		if tk.firstSet && tk.firstTime != got[0].time {
			t.Errorf("%s: firstTime = %d, the first kept record's time is %d", name, tk.firstTime, got[0].time)
		}
		for i := range k {
			if got[i].time != want[i].time || got[i].id != want[i].id || got[i].line != want[i].line || got[i].user != "u"+want[i].id {
				t.Errorf("%s: item %d = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	for name, order := range orders {
		var tk, left, right, loaded topK
		for i, x := range order {
			ev := audit.Event{Time: x.time, ID: []byte(x.id), UserID: []byte("u" + x.id)}
			tk.offer(k, "Op", &ev, 0, x.line, []byte("obj"), nil)
			// firstTime is not saved with a session: a list loaded again
			// has it unset until it next changes.
			if i%5 == 0 {
				loaded.firstSet, loaded.firstTime = false, 0
			}
			loaded.offer(k, "Op", &ev, 0, x.line, []byte("obj"), nil)
			if i%2 == 0 {
				left.offer(k, "Op", &ev, 0, x.line, []byte("obj"), nil)
			} else {
				right.offer(k, "Op", &ev, 0, x.line, []byte("obj"), nil)
			}
		}
		check(name, &tk)
		check(name+" loaded", &loaded)
		left.merge(k, &right)
		check(name+" merged", &left)
	}
}

// TestAddUAKeepsSmallest: whatever the order and repeats, an account keeps
// the maxUserAgents smallest distinct agents (the repeat shortcut
// included).
func TestAddUAKeepsSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 200 {
		var u userStats
		seen := map[string]bool{}
		n := 1 + r.IntN(60)
		for range 300 {
			ua := fmt.Sprintf("agent-%02d", r.IntN(n))
			if r.IntN(3) == 0 { // runs of one client, as real sign-ins come
				for range r.IntN(5) {
					u.addUA([]byte(ua))
				}
			}
			u.addUA([]byte(ua))
			seen[ua] = true
		}
		want := slices.Sorted(maps.Keys(seen))
		if len(want) > maxUserAgents {
			want = want[:maxUserAgents]
		}
		if !slices.Equal(u.uas, want) {
			t.Fatalf("round %d: kept %q, want %q", round, u.uas, want)
		}
	}
}

// TestFirstRecMatchesTopK: the inline earliest record keeps what a topK of
// one would (time, id, file, line), in every order, with ties on time, id
// and file, with ids longer than a GUID, and through merges.
func TestFirstRecMatchesTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 2000 {
		var f, left, right firstRec
		var tk topK
		for i := range 1 + r.IntN(30) {
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", r.IntN(4), r.IntN(3))
			if r.IntN(10) == 0 {
				id += "-longer-than-a-guid"
			}
			ev := audit.Event{Time: int64(r.IntN(5)), ID: []byte(id)}
			file, line := int32(r.IntN(2)), int64(r.IntN(4))
			f.offer(ev.Time, ev.ID, file, line)
			tk.offer(1, "Op", &ev, file, line, nil, nil)
			if i%2 == 0 {
				left.offer(ev.Time, ev.ID, file, line)
			} else {
				right.offer(ev.Time, ev.ID, file, line)
			}
		}
		left.merge(&right)
		want := tk.first()
		for name, got := range map[string]*ref{"offered": f.first(), "merged": left.first()} {
			if got.time != want.time || got.id != want.id || got.file != want.file || got.line != want.line {
				t.Fatalf("round %d, %s: %+v, want %+v", round, name, *got, *want)
			}
		}
	}
	var empty firstRec
	if empty.first() != nil {
		t.Error("an empty firstRec has a record")
	}
}
