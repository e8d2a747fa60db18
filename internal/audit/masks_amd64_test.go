//go:build amd64 && !purego

package audit

import (
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestMaskBlocksBothISAs holds the SSE2 and the AVX2 pass (whichever
// build picks) to the Go pass, block by block, on random data rich in the
// bytes they look for and their near misses.
func TestMaskBlocksBothISAs(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	alphabet := []byte{'"', '\\', '{', '}', '[', ']', 'a', 0, 0x7f, 0x80, 0xff, '"' ^ 1, '{' ^ 0x40, ']' ^ 0x20}
	for round := range 2000 {
		blocks := 1 + r.IntN(6)
		data := testutil.RandomBytes(r, alphabet, 64*blocks)
		if round%3 == 0 {
			for i := range data {
				data[i] &= 0x7f // pure ASCII
			}
		}
		wb, wc := make([]uint64, blocks), make([]uint64, blocks)
		wantHigh := maskBlocksGo(data, wb, wc)
		isas := []struct {
			name string
			f    func(*byte, int, *uint64, *uint64) uint32
		}{{"SSE2", maskBlocksSSE2}}
		if useAVX2 {
			isas = append(isas, struct {
				name string
				f    func(*byte, int, *uint64, *uint64) uint32
			}{"AVX2", maskBlocksAVX2})
		}
		for _, isa := range isas {
			b, c := make([]uint64, blocks), make([]uint64, blocks)
			high := isa.f(&data[0], blocks, &b[0], &c[0]) != 0
			if high != wantHigh {
				t.Fatalf("%s: non-ASCII %v, want %v", isa.name, high, wantHigh)
			}
			for w := range b {
				if b[w] != wb[w] || c[w] != wc[w] {
					t.Fatalf("%s word %d: %x %x, want %x %x", isa.name, w, b[w], c[w], wb[w], wc[w])
				}
			}
		}
	}
	if !useAVX2 {
		t.Log("no AVX2 on this CPU: only SSE2 checked")
	}
}

// TestMaskAVX512 holds the AVX-512 pass, which reads the last partial
// block itself, to the Go pass on a zero-padded copy, for every length up
// to five blocks, and checks that it writes no word past the last one.
func TestMaskAVX512(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 BW on this CPU")
	}
	r := rand.New(rand.NewPCG(17, 18))
	alphabet := []byte{'"', '\\', '{', '}', '[', ']', 'a', 0, 0x7f, 0x80, 0xff, '"' ^ 1, '{' ^ 0x40, ']' ^ 0x20}
	for round := range 20 {
		for n := 1; n <= 5*64; n++ {
			data := testutil.RandomBytes(r, alphabet, n)
			if round%3 == 0 {
				for i := range data {
					data[i] &= 0x7f
				}
			}
			words := (n + 63) / 64
			padded := make([]byte, 64*words)
			copy(padded, data)
			wb, wc := make([]uint64, words), make([]uint64, words)
			wantHigh := maskBlocksGo(padded, wb, wc)
			// One word more, as a sentinel.
			b, c := make([]uint64, words+1), make([]uint64, words+1)
			b[words], c[words] = 0x5a5a, 0xa5a5
			high := maskAVX512(&data[0], n, &b[0], &c[0]) != 0
			if high != wantHigh {
				t.Fatalf("len %d: non-ASCII %v, want %v", n, high, wantHigh)
			}
			for w := range words {
				if b[w] != wb[w] || c[w] != wc[w] {
					t.Fatalf("len %d word %d: %x %x, want %x %x", n, w, b[w], c[w], wb[w], wc[w])
				}
			}
			if b[words] != 0x5a5a || c[words] != 0xa5a5 {
				t.Fatalf("len %d: wrote past the last word", n)
			}
		}
	}
}

// TestAVX2PassIsVEXOnly keeps legacy SSE instructions out of the AVX2 and
// AVX-512 passes:
// after a 256-bit instruction each one cost ~130 ns on an Intel Xeon VM
// (an SSE/AVX transition), which made the pass 5x slower than SSE2 on a
// record-sized input. Any instruction naming an X, Y or Z register there
// must be VEX- or EVEX-encoded (its mnemonic starts with V).
func TestAVX2PassIsVEXOnly(t *testing.T) {
	src, err := os.ReadFile("masks_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	var body string
	for _, fn := range []string{"maskBlocksAVX2", "maskAVX512"} {
		start := strings.Index(text, "TEXT ·"+fn)
		if start < 0 {
			t.Fatalf("%s not found", fn)
		}
		f := text[start:]
		if end := strings.Index(f[1:], "TEXT "); end >= 0 {
			f = f[:end+1]
		}
		if !strings.Contains(f, "VZEROUPPER") {
			t.Errorf("%s does not clear the upper state before returning", fn)
		}
		body += f
	}
	// The HALF macro is expanded inside the function: check it too.
	if h := strings.Index(text, "#define HALF"); h >= 0 {
		m := text[h:]
		if e := strings.Index(m, "\n\n"); e >= 0 {
			m = m[:e]
		}
		body += "\n" + m
	}
	reg := regexp.MustCompile(`\b[XYZ]\d+\b`)
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), `\`))
		if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if strings.HasPrefix(f[0], "HALF(") {
			continue // the macro, checked where it is defined
		}
		if reg.MatchString(line) && !strings.HasPrefix(f[0], "V") {
			t.Errorf("legacy SSE instruction in the AVX2 pass: %s", line)
		}
	}
}

// checkMaskPasses holds every bitmap pass this CPU has (SSE2, AVX2,
// AVX-512 on data as it is, masks.build as the decoder calls it) to the
// Go pass on data padded with zeros to a whole block.
func checkMaskPasses(t *testing.T, data []byte) {
	t.Helper()
	if len(data) == 0 {
		return
	}
	words := (len(data) + 63) / 64
	padded := make([]byte, 64*words)
	copy(padded, data)
	wb, wc := make([]uint64, words), make([]uint64, words)
	wantHigh := maskBlocksGo(padded, wb, wc)
	check := func(name string, high bool, b, c []uint64) {
		t.Helper()
		if high != wantHigh {
			t.Fatalf("%s: non-ASCII %v, the Go pass %v", name, high, wantHigh)
		}
		for w := range wb {
			if b[w] != wb[w] || c[w] != wc[w] {
				t.Fatalf("%s word %d: %x %x, the Go pass %x %x", name, w, b[w], c[w], wb[w], wc[w])
			}
		}
	}
	b, c := make([]uint64, words), make([]uint64, words)
	check("SSE2", maskBlocksSSE2(&padded[0], words, &b[0], &c[0]) != 0, b, c)
	if useAVX2 {
		check("AVX2", maskBlocksAVX2(&padded[0], words, &b[0], &c[0]) != 0, b, c)
	}
	if useAVX512 {
		check("AVX-512", maskAVX512(&data[0], len(data), &b[0], &c[0]) != 0, b, c)
	}
	var m masks
	m.build(data)
	check("build", !m.ascii, m.b, m.c)
}
