package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// texts are inflated streams of several compressibilities: random bytes
// (deflate stores them), JSON-like records, long runs of one byte, and
// nothing at all.
func texts(r *rand.Rand) map[string][]byte {
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	var js bytes.Buffer
	for i := 0; js.Len() < 600<<10; i++ {
		fmt.Fprintf(&js, `{"Id":"%08x","Operation":"Op%d","UserId":"u%d@x","ClientIP":"10.%d.%d.1","x":"%s"}`+"\n",
			r.Uint32(), r.IntN(20), r.IntN(500), r.IntN(256), r.IntN(256), bytes.Repeat([]byte{'a' + byte(r.IntN(26))}, r.IntN(90)))
	}
	runs := bytes.Repeat([]byte{'z'}, 500<<10)
	for i := 0; i < len(runs); i += 1 + r.IntN(5000) {
		runs[i] = byte('a' + r.IntN(3))
	}
	return map[string][]byte{"random": random, "json": js.Bytes(), "runs": runs, "empty": nil}
}

// member is data as one gzip member written by compress/gzip at level,
// optionally with a name, a comment and an extra field, and flushed every
// flushEvery bytes (small flushes make fixed-Huffman blocks and empty
// stored blocks).
func member(t testing.TB, data []byte, level int, named bool, flushEvery int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if named {
		w.Name, w.Comment, w.Extra = "records.jsonl", "a comment", []byte("ex\x00tra")
	}
	for len(data) > 0 {
		n := len(data)
		if flushEvery > 0 {
			n = min(n, flushEvery)
		}
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
		if flushEvery > 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withHeaderCRC is a member of data (stored) whose header has the FHCRC
// flag and its CRC-16, which compress/gzip never writes.
func withHeaderCRC(data []byte) []byte {
	hdr := []byte{0x1f, 0x8b, 8, flagHdrCrc, 0, 0, 0, 0, 0, 255}
	out := append([]byte(nil), hdr...)
	out = binary.LittleEndian.AppendUint16(out, uint16(crc32.ChecksumIEEE(hdr)))
	var d bytes.Buffer
	fw, _ := flate.NewWriter(&d, flate.NoCompression)
	fw.Write(data)
	fw.Close()
	out = append(out, d.Bytes()...)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(data))
	return binary.LittleEndian.AppendUint32(out, uint32(len(data)))
}

// streams are gzip files and what they inflate to: every text at levels
// 0 (stored blocks), 1, 9 and Huffman only, with small flushes (fixed
// Huffman blocks), and several members one after another.
func streams(t testing.TB) map[string][2][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	out := map[string][2][]byte{}
	var allGz, allRaw []byte
	for name, data := range texts(r) {
		for _, level := range []int{gzip.NoCompression, gzip.BestSpeed, gzip.BestCompression, gzip.HuffmanOnly} {
			gz := member(t, data, level, level == gzip.BestSpeed, 0)
			out[fmt.Sprintf("%s-level%d", name, level)] = [2][]byte{gz, data}
		}
		gz := member(t, data, gzip.DefaultCompression, false, 700)
		out[name+"-flushed"] = [2][]byte{gz, data}
		allGz, allRaw = append(allGz, gz...), append(allRaw, data...)
		allGz = append(allGz, member(t, data[:len(data)/3], gzip.BestSpeed, true, 0)...)
		allRaw = append(allRaw, data[:len(data)/3]...)
	}
	hc := withHeaderCRC([]byte("stored with a header CRC\n"))
	out["multi"] = [2][]byte{append(allGz, hc...), append(allRaw, "stored with a header CRC\n"...)}
	out["header-crc"] = [2][]byte{hc, []byte("stored with a header CRC\n")}
	return out
}

// readAll reads z to its end in reads of random sizes.
func readAll(r *rand.Rand, z io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 100<<10)
	for {
		n, err := z.Read(buf[:1+r.IntN(len(buf))])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// TestResumeEveryCheckpoint checks that reading from any checkpoint gives
// exactly the bytes a read from the start gives from there, for every
// kind of block and for several members.
func TestResumeEveryCheckpoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for name, s := range streams(t) {
		gz, raw := s[0], s[1]
		for _, every := range []int64{1, 40 << 10} {
			z, err := NewGzipReader(bytes.NewReader(gz), every)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := readAll(r, z)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("%s: read %d bytes (%v), want %d", name, len(got), err, len(raw))
			}
			if !z.EOF() || z.Offset() != int64(len(raw)) {
				t.Fatalf("%s: EOF %v, offset %d of %d", name, z.EOF(), z.Offset(), len(raw))
			}
			cps := z.Checkpoints()
			if len(cps) == 0 || cps[0].Out != 0 || !cps[0].Header || cps[0].In != 0 {
				t.Fatalf("%s: first checkpoint %+v", name, cps)
			}
			if every == 1 && strings.HasPrefix(name, "json") && len(cps) < 3 {
				t.Errorf("%s: %d checkpoints in %d bytes", name, len(cps), len(raw))
			}
			bits := false
			for i, cp := range cps {
				if i > 0 && (cp.Out-cps[i-1].Out < every || cp.In*8+int64(cp.Bit) <= cps[i-1].In*8+int64(cps[i-1].Bit)) {
					t.Fatalf("%s: checkpoint %d %+v after %+v", name, i, cp, cps[i-1])
				}
				bits = bits || cp.Bit != 0
				rz, err := ResumeGzip(bytes.NewReader(gz), int64(len(gz)), cp)
				if err != nil {
					t.Fatalf("%s: resume %d: %v", name, i, err)
				}
				// From every checkpoint 64 KiB, from some to the end.
				var got []byte
				want := raw[cp.Out:]
				if every == 1 && i%50 != 0 {
					want = want[:min(len(want), 64<<10)]
					got = make([]byte, len(want))
					_, err = io.ReadFull(rz, got)
				} else {
					got, err = readAll(r, rz)
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: from checkpoint %d (out %d, in %d.%d, header %v): %d bytes (%v), want %d",
						name, i, cp.Out, cp.In, cp.Bit, cp.Header, len(got), err, len(raw)-int(cp.Out))
				}
			}
			if every == 1 && name == "json-level9" && !bits {
				t.Errorf("%s: no checkpoint inside a byte: the bit offset is not tested", name)
			}
		}
	}
}

// TestSameAsKlauspost checks that the reader returns the bytes and the
// errors of klauspost's gzip.Reader on damaged streams: truncated,
// flipped bits, trailing garbage, a bad checksum.
func TestSameAsKlauspost(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for name, s := range streams(t) {
		gz := s[0]
		cases := [][]byte{gz, append(append([]byte(nil), gz...), "garbage"...), gz[:len(gz)/2], gz[:len(gz)-3]}
		for range 20 {
			d := append([]byte(nil), gz...)
			d[r.IntN(len(d))] ^= 1 << r.IntN(8)
			cases = append(cases, d)
		}
		for i, data := range cases {
			compare(t, fmt.Sprintf("%s case %d", name, i), data)
		}
	}
}

// compare reads data with both readers and fails when they differ.
func compare(t *testing.T, name string, data []byte) {
	t.Helper()
	want, werr := func() ([]byte, error) {
		z, err := kgzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(z)
	}()
	z, err := NewGzipReader(bytes.NewReader(data), 1)
	var got []byte
	if err == nil {
		got, err = io.ReadAll(z)
	}
	if fmt.Sprint(err) != fmt.Sprint(werr) || !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, %v; klauspost's gzip: %d bytes, %v", name, len(got), err, len(want), werr)
	}
}

// TestResumeBadCheckpoint: a checkpoint outside the file is refused.
func TestResumeBadCheckpoint(t *testing.T) {
	gz := member(t, []byte("hello\n"), 6, false, 0)
	for _, cp := range []Checkpoint{{In: -1}, {In: int64(len(gz)) + 1}, {Bit: 8}, {Window: make([]byte, 1<<15+1)}} {
		if _, err := ResumeGzip(bytes.NewReader(gz), int64(len(gz)), cp); err == nil {
			t.Errorf("%+v: no error", cp)
		}
	}
}

// FuzzReader reads arbitrary bytes with this reader and with klauspost's
// gzip, and as raw deflate with klauspost's flate: the same bytes and the
// same error, never a panic; a gzip stream that
// reads cleanly, resumed from each of its checkpoints, gives the bytes
// read from there.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"json-level1", "runs-flushed", "header-crc", "random-level0", "json-level-2"} {
		gz := streams(f)[s][0]
		f.Add(gz[:min(len(gz), 4000)], uint16(300))
	}
	small := append(member(f, []byte("{\"a\":1}\n{\"b\":2}\n"), 9, true, 5), member(f, []byte("x\n"), 0, false, 0)...)
	f.Add(small, uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, every uint16) {
		compare(t, "fuzz", data)
		// The same bytes as raw deflate: what klauspost's flate reads.
		want, werr := io.ReadAll(kflate.NewReader(bytes.NewReader(data)))
		got, err := io.ReadAll(NewDeflateReader(bytes.NewReader(data), int64(every)+1))
		if fmt.Sprint(err) != fmt.Sprint(werr) || !bytes.Equal(got, want) {
			t.Fatalf("as deflate: %d bytes, %v; klauspost's flate: %d bytes, %v", len(got), err, len(want), werr)
		}
		z, err := NewGzipReader(bytes.NewReader(data), int64(every)+1)
		if err != nil {
			return
		}
		raw, err := io.ReadAll(z)
		if err != nil {
			return
		}
		for i, cp := range z.Checkpoints() {
			rz, err := ResumeGzip(bytes.NewReader(data), int64(len(data)), cp)
			if err != nil {
				t.Fatalf("resume %d: %v", i, err)
			}
			got, err := io.ReadAll(rz)
			if err != nil || !bytes.Equal(got, raw[cp.Out:]) {
				t.Fatalf("from checkpoint %d %+v: %q (%v), want %q", i, cp, got, err, raw[cp.Out:])
			}
		}
	})
}

// TestDeflateResume checks the raw deflate reader (zip members) as
// TestResumeEveryCheckpoint checks the gzip one: every checkpoint of every
// kind of single-member stream resumes to the bytes read from the start.
func TestDeflateResume(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for name, s := range streams(t) {
		gz, raw := s[0], s[1]
		if gz[3] != 0 || name == "multi" {
			continue // a header with fields, or several members
		}
		d := gz[10 : len(gz)-8]
		for _, every := range []int64{1, 40 << 10} {
			z := NewDeflateReader(bytes.NewReader(d), every)
			got, err := readAll(r, z)
			if err != nil || !bytes.Equal(got, raw) || !z.EOF() {
				t.Fatalf("%s: read %d bytes (%v), want %d", name, len(got), err, len(raw))
			}
			for i, cp := range z.Checkpoints() {
				rz, err := ResumeDeflate(bytes.NewReader(d), int64(len(d)), cp)
				if err != nil {
					t.Fatalf("%s: resume %d: %v", name, i, err)
				}
				want := raw[cp.Out:]
				want = want[:min(len(want), 64<<10)]
				got := make([]byte, len(want))
				if _, err := io.ReadFull(rz, got); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s: from checkpoint %d (out %d, in %d.%d): %v", name, i, cp.Out, cp.In, cp.Bit, err)
				}
			}
		}
	}
}

// TestKeeper checks that a Keeper gets every window, with the number of
// its checkpoint, that the list keeps only its reference, that a resume
// without the window given back is refused, and that one with it reads
// what a checkpoint holding its window reads.
func TestKeeper(t *testing.T) {
	s := streams(t)["json-level9"]
	gz, raw := s[0], s[1]
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, 6)
	fw.Write(raw)
	fw.Close()
	type reader interface {
		io.Reader
		Checkpoints() []Checkpoint
		SetKeeper(Keeper)
	}
	for _, kind := range []string{"gzip", "deflate"} {
		var z reader
		var resume func(cp Checkpoint) (io.Reader, error)
		switch kind {
		case "gzip":
			g, err := NewGzipReader(bytes.NewReader(gz), 40<<10)
			if err != nil {
				t.Fatal(err)
			}
			z = g
			resume = func(cp Checkpoint) (io.Reader, error) { return ResumeGzip(bytes.NewReader(gz), int64(len(gz)), cp) }
		default:
			z = NewDeflateReader(bytes.NewReader(deflated.Bytes()), 40<<10)
			d := deflated.Bytes()
			resume = func(cp Checkpoint) (io.Reader, error) { return ResumeDeflate(bytes.NewReader(d), int64(len(d)), cp) }
		}
		windows := map[int64][]byte{}
		var ns []int
		z.SetKeeper(func(n int, w []byte) int64 {
			ns = append(ns, n)
			windows[int64(len(windows)+7)] = w
			return int64(len(windows) + 6)
		})
		got, err := io.ReadAll(z)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("%s: read %d bytes (%v), want %d", kind, len(got), err, len(raw))
		}
		cps := z.Checkpoints()
		kept := 0
		for i, cp := range cps {
			if cp.Window != nil {
				t.Fatalf("%s: checkpoint %d kept its window", kind, i)
			}
			if cp.Ref == 0 {
				continue
			}
			if ns[kept] != i {
				t.Fatalf("%s: keeper told checkpoint %d for the %d-th", kind, ns[kept], i)
			}
			kept++
			if _, err := resume(cp); err != ErrNoWindow {
				t.Fatalf("%s: resume %d without its window: %v", kind, i, err)
			}
			cp.Window = windows[cp.Ref]
			rz, err := resume(cp)
			if err != nil {
				t.Fatalf("%s: resume %d: %v", kind, i, err)
			}
			got, err := io.ReadAll(rz)
			if err != nil || !bytes.Equal(got, raw[cp.Out:]) {
				t.Fatalf("%s: from checkpoint %d: %d bytes (%v), want %d", kind, i, len(got), err, len(raw)-int(cp.Out))
			}
		}
		if kept < 3 || kept != len(windows) {
			t.Fatalf("%s: %d windows kept, %d referenced", kind, len(windows), kept)
		}
	}
}
