//go:build unix

package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestAheadNamedPipe: a named pipe later in the list is not opened ahead
// of its turn (that blocks until a writer comes): here its writer starts
// only once the file before it has been read.
func TestAheadNamedPipe(t *testing.T) {
	dir := t.TempDir()
	gz := testutil.WriteFile(t, dir, "a.jsonl.gz", testutil.Gzip(jsonl(100)))
	fifo := filepath.Join(dir, "pipe.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	var once sync.Once
	firstRead := make(chan struct{})
	go func() {
		<-firstRead
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(jsonl(7))
		w.Close()
	}()
	done := make(chan result, 1)
	go func() {
		var res result
		emit := func(b *Batch) error {
			if b.Path == gz {
				once.Do(func() { close(firstRead) })
			}
			res.recs = append(res.recs, make([]rec, len(b.Records))...)
			b.Release()
			return nil
		}
		res.inputs, res.err = Read(context.Background(), []string{gz, fifo}, Options{Inflaters: 4}, emit, func(p Problem) { res.probs = append(res.probs, p) })
		done <- res
	}()
	select {
	case res := <-done:
		if res.err != nil || len(res.recs) != 107 || len(res.probs) != 0 {
			t.Errorf("err %v, %d records, problems %v", res.err, len(res.recs), res.probs)
		}
	case <-time.After(10 * time.Second):
		// Unblock the reader stuck opening the pipe, then fail.
		once.Do(func() { close(firstRead) })
		t.Fatal("Read blocked: the named pipe was opened ahead of its turn")
	}
}

// TestNamedPipeEndsWithRun: a named pipe nobody opens for writing, or
// whose writer stops writing, holds the run only until its context ends
// (before, opening one with no writer hung the triage, deaf to Ctrl-C).
func TestNamedPipeEndsWithRun(t *testing.T) {
	for _, writer := range []bool{false, true} {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "pipe.jsonl")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no named pipes here:", err)
		}
		if writer {
			// Opens the pipe, writes part of a record and waits.
			w := make(chan *os.File, 1)
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err == nil {
					f.Write([]byte(`{"Id":"a"`))
				}
				w <- f
			}()
			t.Cleanup(func() {
				if f := <-w; f != nil {
					f.Close()
				}
			})
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := Read(ctx, []string{fifo}, Options{}, func(b *Batch) error { b.Release(); return nil }, func(Problem) {})
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("writer %v: Read returned %v, want the context's error", writer, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("writer %v: Read still blocked 10 s after its context ended", writer)
		}
	}
}

// TestExpandSaysWhatItPasses: what a folder holds besides files and links
// to files (hidden entries, a named pipe, a dangling link, a link to a
// folder) is not read, and ExpandNoting counts and names it.
func TestExpandSaysWhatItPasses(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, dir, "a.jsonl", jsonl(1))
	testutil.WriteFile(t, dir, ".hidden.jsonl", jsonl(1))
	if err := os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	paths, passed, err := ExpandNoting([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || filepath.Base(paths[0]) != "a.jsonl" {
		t.Errorf("paths %q, want a.jsonl alone", paths)
	}
	want := Passed{Folder: dir, Count: 5, Examples: []string{".git", ".hidden.jsonl", "dangling"}}
	if len(passed) != 1 || passed[0].Folder != want.Folder || passed[0].Count != want.Count || !slices.Equal(passed[0].Examples, want.Examples) {
		t.Errorf("passed %+v, want %+v", passed, want)
	}
	if s := passed[0].String(); !strings.HasSuffix(s, "5 hidden or special entries not read (.git, .hidden.jsonl, dangling, ...); name a file to read it") {
		t.Errorf("said %q", s)
	}
}

// TestNamedPipeZip: a zip given as a named pipe (`<(cat export.zip)`) is
// spooled as a zip from standard input is: a pipe has no random access,
// and reading it as a file of size 0 called it a corrupt zip. Nothing
// read from a pipe is indexed either (it cannot be read again).
func TestNamedPipeZip(t *testing.T) {
	for name, data := range map[string][]byte{"export.zip": testutil.Zipped("a.jsonl", jsonl(5)), "export.jsonl": jsonl(5)} {
		fifo := filepath.Join(t.TempDir(), name)
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no named pipes here:", err)
		}
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			w.Write(data)
			w.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var n int
		var probs []Problem
		inputs, err := Read(ctx, []string{fifo}, Options{}, func(b *Batch) error {
			n += len(b.Records)
			b.Release()
			return nil
		}, func(p Problem) { probs = append(probs, p) })
		if err != nil || n != 5 || len(probs) != 0 {
			t.Fatalf("%s: err %v, %d records, problems %v", name, err, n, probs)
		}
		for _, in := range inputs {
			if in.Index != nil {
				t.Errorf("%s: indexed, though a pipe cannot be read again", in.Path)
			}
		}
	}
}
