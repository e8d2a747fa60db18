// Command livecycles writes a generated tenant (internal/synth: the UAL
// and its Entra sign-in log) as an archive in 'outsider collect's layout,
// one gzip'd JSON Lines file per hour and log:
//
//	DIR/ual/DAY/ual-HOUR.jsonl.gz
//	DIR/signins/DAY/signins-HOUR.jsonl.gz
//
// and the last hour of both apart, in the same layout under DIR.next, so
// a benchmark can time a watch cycle before and after one new hour
// arrives (bench/live-cycles.md). The records end at the hour before the
// current one, so a 30-day lookback from now holds them all.
//
//	go run ./bench/livecycles -out /tmp/arch -size 3GB -days 30
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/outsider-sec/outsider/internal/synth"
)

func main() {
	out := flag.String("out", "", "archive `folder` to write (must not exist)")
	size := flag.Int64("size", 3<<30, "UAL `bytes` to generate")
	days := flag.Int("days", 30, "days of records")
	seed := flag.Int64("seed", 1, "generator seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: livecycles -out DIR [-size BYTES] [-days N]")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintln(os.Stderr, "livecycles:", *out, "exists")
		os.Exit(2)
	}
	last := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour) // the held-back hour
	start := last.Add(time.Hour).Add(-time.Duration(*days) * 24 * time.Hour)
	ual := newSplitter(*out, "ual", []byte(`"CreationTime":"`), last)
	sig := newSplitter(*out, "signins", []byte(`"createdDateTime":"`), last)
	exp, err := synth.Generate(ual, synth.Options{Seed: *seed, Size: *size, Days: *days, Start: start, SignInLog: sig})
	if err == nil {
		err = ual.close()
	}
	if err == nil {
		err = sig.close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "livecycles:", err)
		os.Exit(1)
	}
	fmt.Printf("tenant %s: %d records, %d UAL files, %d sign-in files, held back the hour %s\n",
		exp.TenantID, exp.Records, ual.files, sig.files, last.Format(time.RFC3339))
}

// splitter cuts JSON Lines into one gzip'd file per hour of the time
// after key on each line; lines of the hour last go under DIR.next.
type splitter struct {
	mu      sync.Mutex
	dir     string
	sub     string
	key     []byte
	last    time.Time
	partial []byte
	open    map[string]*hourFile
	files   int
	err     error
}

type hourFile struct {
	f  *os.File
	bw *bufio.Writer
	zw *gzip.Writer
}

func newSplitter(dir, sub string, key []byte, last time.Time) *splitter {
	return &splitter{dir: dir, sub: sub, key: key, last: last, open: map[string]*hourFile{}}
}

func (s *splitter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	if s.err != nil {
		return 0, s.err
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			break
		}
		line := p[:i+1]
		if len(s.partial) > 0 {
			line = append(s.partial, line...)
			s.partial = s.partial[:0]
		}
		if err := s.line(line); err != nil {
			s.err = err
			return 0, err
		}
		p = p[i+1:]
	}
	return n, nil
}

func (s *splitter) line(line []byte) error {
	i := bytes.Index(line, s.key)
	if i < 0 || len(line) < i+len(s.key)+13 {
		return fmt.Errorf("%s: a line without %s", s.sub, s.key)
	}
	h, err := time.Parse("2006-01-02T15", string(line[i+len(s.key):i+len(s.key)+13]))
	if err != nil {
		return err
	}
	root := s.dir
	if !h.Before(s.last) {
		root += ".next"
	}
	p := filepath.Join(root, s.sub, h.Format("2006-01-02"), s.sub+"-"+h.Format("2006-01-02T15")+".jsonl.gz")
	hf := s.open[p]
	if hf == nil {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		hf = &hourFile{f: f, bw: bw, zw: gzip.NewWriter(bw)}
		s.open[p] = hf
		s.files++
	}
	_, err = hf.zw.Write(line)
	return err
}

func (s *splitter) close() error {
	if s.err != nil {
		return s.err
	}
	if len(s.partial) > 0 {
		if err := s.line(append(s.partial, '\n')); err != nil {
			return err
		}
	}
	for _, hf := range s.open {
		if err := hf.zw.Close(); err != nil {
			return err
		}
		if err := hf.bw.Flush(); err != nil {
			return err
		}
		if err := hf.f.Close(); err != nil {
			return err
		}
	}
	return nil
}
