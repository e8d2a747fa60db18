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

// TestAVX2PassIsVEXOnly keeps legacy SSE instructions out of the AVX2 pass:
// after a 256-bit instruction each one cost ~130 ns on an Intel Xeon VM
// (an SSE/AVX transition), which made the pass 5x slower than SSE2 on a
// record-sized input. Any instruction naming an X or Y register there must
// be VEX-encoded (its mnemonic starts with V).
func TestAVX2PassIsVEXOnly(t *testing.T) {
	src, err := os.ReadFile("masks_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "TEXT ·maskBlocksAVX2")
	if start < 0 {
		t.Fatal("maskBlocksAVX2 not found")
	}
	body := text[start:]
	if end := strings.Index(body[1:], "TEXT "); end >= 0 {
		body = body[:end+1]
	}
	// The HALF macro is expanded inside the function: check it too.
	if h := strings.Index(text, "#define HALF"); h >= 0 {
		m := text[h:]
		if e := strings.Index(m, "\n\n"); e >= 0 {
			m = m[:e]
		}
		body += "\n" + m
	}
	reg := regexp.MustCompile(`\b[XY]\d+\b`)
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
