package audit

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestMasks checks the bitmap (SSE2 on amd64, the padded tail) and next
// against a byte loop, and maskBlocksGo against maskBlocks, on random data
// rich in quotes and backslashes (and bytes one bit away from them), at
// every length across several block boundaries.
func TestMasks(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	alphabet := []byte{'"', '\\', '{', '}', '[', ']', 'a', 0, 0xff, '"' ^ 0x80, '\\' ^ 0x80, '"' ^ 1, '\\' ^ 1, ' ',
		'{' ^ 0x80, '}' ^ 1, '[' ^ 1, ']' ^ 0x40, '{' ^ 0x20 ^ 0x40, ';', '='}
	var m masks
	for n := 0; n <= 300; n++ {
		for range 20 {
			data := testutil.RandomBytes(r, alphabet, n)
			m.build(data)
			if len(m.b) != (n+63)/64 {
				t.Fatalf("len %d: %d words", n, len(m.b))
			}
			ascii := true
			for _, c := range data {
				ascii = ascii && c < 0x80
			}
			if m.ascii != ascii {
				t.Fatalf("len %d: ascii = %v, want %v (%q)", n, m.ascii, ascii, data)
			}
			if full := n / 64; full > 0 {
				gb, gc := make([]uint64, full), make([]uint64, full)
				maskBlocksGo(data[:full*64], gb, gc)
				for w := range gb {
					if gb[w] != m.b[w] || gc[w] != m.c[w] {
						t.Fatalf("len %d word %d: Go %x %x, maskBlocks %x %x", n, w, gb[w], gc[w], m.b[w], m.c[w])
					}
				}
			}
			for i := 0; i <= n+1; i++ {
				want := -1
				for j := i; j < n; j++ {
					if data[j] == '"' || data[j] == '\\' {
						want = j
						break
					}
				}
				if got := m.next(i); got != want {
					t.Fatalf("len %d: next(%d) = %d, want %d (%q)", n, i, got, want, data)
				}
				want = -1
				for j := i; j < n; j++ {
					if c := data[j]; c == '"' || c == '{' || c == '}' || c == '[' || c == ']' {
						want = j
						break
					}
				}
				if got := m.nextStructural(i); got != want {
					t.Fatalf("len %d: nextStructural(%d) = %d, want %d (%q)", n, i, got, want, data)
				}
			}
		}
	}
}

func BenchmarkMasks(b *testing.B) {
	data := make([]byte, 1500)
	for i := range data {
		data[i] = "ab\"c\\defgh"[i%10]
	}
	var m masks
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m.build(data)
	}
}

// FuzzMasksSameResult: decoding with the bitmaps, built by the decoder or
// by Prepare, gives exactly what the byte-by-byte search gives (the same
// event, the same error), for UAL records and for sign-in records,
// whatever the input; Prepare's verdict on UTF-8 is utf8.Valid's.
func FuzzMasksSameResult(f *testing.F) {
	testutil.AddSeedFiles(f, "testdata/records/*.json", "testdata/signins/*.json")
	f.Add([]byte(`{"CreationTime":"2026-10-01T00:00:00","Id":"a\"b\\c\u00e9","X":[{"a":"]}\"["}],"UserId":"u"}`))
	f.Add([]byte(`{"AuditData":"{\"CreationTime\":\"2026-10-01T00:00:00\",\"Id\":\"x\\\"y\"}"}`))
	f.Add([]byte(`{"createdDateTime":"2026-10-06T09:14:03Z","status":{"errorCode":0},"x":[[{"]":"["}]]}`))
	fast, slow, prep := &Decoder{}, &Decoder{noMasks: true}, &Decoder{}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Prepare is the engine's UTF-8 check: it must agree with
		// utf8.Valid on any input.
		valid := utf8.Valid(data)
		if got := prep.Prepare(data); got != valid {
			t.Fatalf("Prepare = %v, utf8.Valid = %v", got, valid)
		}
		if !valid {
			return // the engine rejects these before decoding
		}
		for _, signIn := range []bool{false, true} {
			var a, b, c Event
			var ea, eb, ec error
			if signIn {
				ea, eb = fast.DecodeSignIn(data, &a), slow.DecodeSignIn(data, &b)
				prep.Prepare(data)
				ec = prep.DecodeSignIn(data, &c)
			} else {
				ea, eb = fast.Decode(data, &a), slow.Decode(data, &b)
				prep.Prepare(data)
				ec = prep.Decode(data, &c)
			}
			if fmt.Sprint(ea) != fmt.Sprint(eb) || fmt.Sprint(ec) != fmt.Sprint(eb) {
				t.Fatalf("sign-in %v: error %v with bitmaps, %v prepared, %v without", signIn, ea, ec, eb)
			}
			if ea == nil && (!reflect.DeepEqual(a, b) || !reflect.DeepEqual(c, b)) {
				t.Fatalf("sign-in %v: events differ:\n%+v\n%+v\n%+v", signIn, a, c, b)
			}
		}
	})
}

// TestPrepareThenOtherData: bitmaps prepared for one record are not used
// for another, even one decoded from the same buffer position.
func TestPrepareThenOtherData(t *testing.T) {
	a := []byte(`{"CreationTime":"2026-10-01T00:00:00","Id":"a","UserId":"x@y.z","Operation":"FileAccessed"}`)
	b := []byte(`{"CreationTime":"2026-10-01T00:00:00","Operation":"FileAccessed","UserId":"b@c.d","Id":"b"}`)
	var d Decoder
	var ev Event
	if !d.Prepare(a) {
		t.Fatal("valid record refused")
	}
	if err := d.Decode(b, &ev); err != nil || string(ev.UserID) != "b@c.d" {
		t.Fatalf("decoding other data after Prepare: %q %v", ev.UserID, err)
	}
	// Same buffer, new content, no Prepare: the bitmaps are rebuilt.
	buf := append([]byte(nil), a...)
	d.Prepare(buf)
	if err := d.Decode(buf, &ev); err != nil || string(ev.UserID) != "x@y.z" {
		t.Fatalf("%q %v", ev.UserID, err)
	}
	copy(buf, b[:len(buf)])
	if err := d.Decode(buf[:len(b)], &ev); err != nil || string(ev.UserID) != "b@c.d" {
		t.Fatalf("reused buffer: %q %v", ev.UserID, err)
	}
	if d.Prepare([]byte("{\"a\":\"\xff\"}")) {
		t.Error("invalid UTF-8 accepted")
	}
}

// TestSkipContainerMatchesWalk: skipping a container from the bitmaps ends
// where the byte walk ends, with the same error when there is one, on
// random bracket, quote and backslash soup (valid and invalid JSON, runs of
// backslashes, strings and containers across block boundaries), and the
// fast path settles most containers of plausible JSON itself.
func TestSkipContainerMatchesWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	soup := []byte(`{}[]"\\\a,:aaaa`)
	plausible := []string{`{"a":"b\"}"}`, `["x\\",{"y":[1,2]},"]"]`, `{"k":"v"}`, `[{"Name":"A","Value":"\\\\"}]`, `"s\\\"q"`}
	var fast, total int
	for round := range 20000 {
		var data []byte
		if round%2 == 0 {
			data = testutil.RandomBytes(r, soup, r.IntN(300))
		} else {
			data = append(data, '[')
			for range 1 + r.IntN(20) {
				data = append(data, plausible[r.IntN(len(plausible))]...)
				data = append(data, ',')
			}
			data = append(data, `"end"]`...)
		}
		for i := range data {
			if data[i] != '{' && data[i] != '[' {
				continue
			}
			var d Decoder
			plain := scanner{data: data, i: i}
			wantErr := plain.skip(&d)
			d.masks.build(data)
			masked := scanner{data: data, i: i, m: &d.masks}
			gotErr := masked.skip(&d)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || (wantErr == nil && masked.i != plain.i) {
				t.Fatalf("%q from %d: bitmaps end at %d (%v), walk at %d (%v)", data, i, masked.i, gotErr, plain.i, wantErr)
			}
			if round%2 == 1 {
				total++
				if _, ok := d.masks.skipContainer(data, i, &d.stack); ok {
					fast++
				}
			}
		}
	}
	if fast < total/2 {
		t.Errorf("the bitmaps settled only %d of %d containers of plausible JSON", fast, total)
	}
}

// TestEscapesSameResult holds strings with escapes to the same verdict with
// and without the bitmaps: the bitmaps' path unescapes from the first
// backslash it finds and names a string that never closes "unterminated"
// only once its escapes have failed, where the byte-by-byte path looks for
// a closing quote first. Escapes sit across 64-byte boundaries, in runs of
// backslashes, before a missing or an escaped closing quote.
func TestEscapesSameResult(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("a", n) }
	values := []string{
		`"` + pad(60) + `\/\/x"`,
		`"` + pad(62) + `\\\"y"`,
		`"` + pad(63) + `\"` + pad(70) + `\\"`,
		`"http:\/\/contoso.sharepoint.com\/sites\/x"`,
		`"a\u00e9\ud83d\ude00\n\t\b\f\r"`,
		`"bad \q escape"`,
		`"bad \q and never closed`,
		`"never closed \/`,
		`"escaped end \"`,
		`"escaped end \\\"`,
		`"bad \u12 u"`,
		`"bad \u12`,
		`"\`,
		`"\\"`,
		`"` + pad(64) + `\`,
	}
	fast, slow := &Decoder{}, &Decoder{noMasks: true}
	for _, v := range values {
		for _, key := range []string{"UserAgent", "ObjectId", "Skipped"} {
			for _, tail := range []string{`}`, `,"Id":"x"}`, ``} {
				data := []byte(`{"CreationTime":"2026-10-01T00:00:00","` + key + `":` + v + tail)
				var a, b Event
				ea, eb := fast.Decode(data, &a), slow.Decode(data, &b)
				if fmt.Sprint(ea) != fmt.Sprint(eb) {
					t.Fatalf("%s: error %v with bitmaps, %v without", data, ea, eb)
				}
				if ea == nil && !reflect.DeepEqual(a, b) {
					t.Fatalf("%s: events differ:\n%+v\n%+v", data, a, b)
				}
			}
		}
	}
}
