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
		strings.Repeat(`"`, 63)+"\n"+strings.Repeat(`a"`, 40)+"\n\"\n"+strings.Repeat("x", 130),
		// Framing never looks at separators: a ';' export's rows.
		"1;\"{\"\"a\"\":\"\"x;y,z\"\"}\"\r\n2;\"a\nb\";c\n")
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

// FuzzCSVFieldComma holds CSVField's jump to the col-th comma (nthComma,
// taken when no quote comes before it) to the field-by-field walk: same
// field, same scratch, same error, for arbitrary rows and columns.
func FuzzCSVFieldComma(f *testing.F) {
	if !hasRowScan {
		f.Skip("this CPU has no AVX-512: only the walk runs here")
	}
	js := `"{""CreationTime"":""2026-10-14T23:59:57"",""Id"":""c35c4367""}"`
	f.Add([]byte(`c35c4367-d793-41cb-81b2-08df2a4f4020,10/14/2026 11:59:57 PM,50,MailItemsAccessed,x@contoso.com,`+js+`,,`), uint8(5))
	f.Add([]byte(`"a","b,c",d,`+js), uint8(3))
	f.Add([]byte(strings.Repeat("a,", 70)+js), uint8(70))
	f.Add([]byte(strings.Repeat("a,", 40)+`x"y,`+js), uint8(41))
	f.Add([]byte(`a,b`), uint8(4))
	f.Fuzz(func(t *testing.T, row []byte, c uint8) {
		col := int(c % 80)
		sameField(t, row, "col", col, outcome(csvField(row, col, []byte("kept"))),
			outcome(csvFieldFrom(row, 0, 0, col, ',', []byte("kept"))))
	})
}

// TestNthCommaRandom compares nthComma with a byte loop on random rows of
// commas, quotes and letters, every k, every length up to 300 bytes.
func TestNthCommaRandom(t *testing.T) {
	if !hasRowScan {
		t.Skip("this CPU has no AVX-512")
	}
	r := rand.New(rand.NewPCG(9, 10))
	alphabet := []byte(",,,aaaaaaaaaa\"")
	for range 20000 {
		b := make([]byte, 1+r.IntN(300))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
			if b[i] == '"' && r.IntN(4) != 0 {
				b[i] = 'q'
			}
		}
		k := 1 + r.IntN(80)
		want, seen := -1, 0
		for i, ch := range b {
			if ch == '"' {
				break
			}
			if ch == ',' {
				if seen++; seen == k {
					want = i
					break
				}
			}
		}
		if got := nthComma(&b[0], len(b), k); got != want {
			t.Fatalf("%q k %d: %d, want %d", b, k, got, want)
		}
	}
}
