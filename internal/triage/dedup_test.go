package triage

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
)

func TestIDSetMatchesMap(t *testing.T) {
	s := newIDSet()
	ref := map[idKey]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300000 {
		var k idKey
		// Mostly fresh keys, some repeats, and the all-zero key.
		switch {
		case i%10 == 0 && i > 0:
			k = makeKey([]byte("not-a-guid-" + string(rune('a'+i%26))))
		case i%1000 == 1:
			k = idKey{}
		default:
			for j := range k {
				k[j] = byte(r.IntN(256))
			}
			if i%3 == 0 {
				k[0], k[1] = 0, 0 // crowd part of the key space
			}
		}
		want := !ref[k]
		ref[k] = true
		if got := s.add(k); got != want {
			t.Fatalf("add #%d: got %v, want %v", i, got, want)
		}
	}
	if s.len() != len(ref) {
		t.Errorf("set holds %d keys, map %d", s.len(), len(ref))
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
	b.ResetTimer()
	for b.Loop() {
		s := newIDSet()
		for i := range keys {
			s.add(keys[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
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
	cases := []struct {
		name string
		evs  []*audit.Event
		want []recordFate
	}{
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
