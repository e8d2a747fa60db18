//go:build !purego

package source

import (
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
)

// FuzzCSVRowScan holds CSV framing with the one-pass row scan
// (newlineQuotes) to framing with bytes.IndexByte and bytes.Count, on
// arbitrary bytes: same records, same problems, for any batch size and
// record limit; and newlineQuotes itself to nextNewlineBytes at every
// offset of the input (every alignment and length of the last block).
func FuzzCSVRowScan(f *testing.F) {
	if !hasRowScan {
		f.Skip("this CPU has no AVX-512: only the two-pass row scan runs here")
	}
	addSeeds(f, "1,\"{\"\"a\"\":1}\"\n2,{}\n", "1,\"a\nb\"\n\n2,\"x", "\"\"\"\n,,,\n\"a\"b,c\n",
		strings.Repeat(`"`, 63)+"\n"+strings.Repeat(`a"`, 40)+"\n\"\n"+strings.Repeat("x", 130))
	f.Fuzz(func(t *testing.T, data []byte, batch, limit uint16) {
		for k := range data {
			wi, wq := nextNewlineBytes(data[k:])
			gi, gq := nextNewline(data[k:])
			if gi != wi || gq != wq {
				t.Fatalf("%q from %d: newline %d parity %d, want %d %d", data, k, gi, gq, wi, wq)
			}
		}
		in := append([]byte("RecordId,AuditData\n"), data...)
		opts := fuzzOpts(batch, limit)
		opts.Format = PurviewCSV
		recs, probs, _ := frameBytes(t, in, opts)
		hasRowScan = false
		recs2, probs2, _ := frameBytes(t, in, opts)
		hasRowScan = true
		sameOutput(t, "one-pass and two-pass row scans", recs, recs2, probs, probs2)
	})
}

// TestRowScanRandom compares newlineQuotes with nextNewlineBytes on
// random inputs made mostly of quotes and newlines, at every length up to
// 300 bytes (every position of a newline in and across blocks).
func TestRowScanRandom(t *testing.T) {
	if !hasRowScan {
		t.Skip("this CPU has no AVX-512")
	}
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("\"\"\"a,\n")
	for range 20000 {
		b := make([]byte, r.IntN(300))
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(8) != 0 && b[k] == '\n' {
				b[k] = 'x' // mostly long lines
			}
		}
		wi, wq := nextNewlineBytes(b)
		gi, gq := nextNewline(b)
		if gi != wi || gq != wq {
			t.Fatalf("%q: newline %d parity %d, want %d %d", b, gi, gq, wi, wq)
		}
	}
}

// TestCSVAsmIsVEXOnly keeps legacy SSE instructions out of this
// package's assembly: on an Intel Xeon VM each one after a 256- or
// 512-bit instruction cost ~130 ns (an SSE/AVX transition; see
// internal/audit's TestAVX2PassIsVEXOnly). Any instruction naming an X, Y
// or Z register must be VEX- or EVEX-encoded (its mnemonic starts with V).
func TestCSVAsmIsVEXOnly(t *testing.T) {
	src, err := os.ReadFile("unquote_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	reg := regexp.MustCompile(`\b[XYZ]\d+\b`)
	n := 0
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "TEXT") {
			continue
		}
		if reg.MatchString(line) {
			n++
			if !strings.HasPrefix(line, "V") {
				t.Errorf("legacy SSE instruction: %s", line)
			}
		}
	}
	if n == 0 {
		t.Fatal("no vector instruction found: the check reads the wrong file")
	}
}
