package testutil

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFile writes data to dir/name, creating the folders name implies,
// and returns the path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// WriteJSONL writes recs as JSON lines to dir/name and returns the path.
func WriteJSONL(t testing.TB, dir, name string, recs ...Rec) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return WriteFile(t, dir, name, b.Bytes())
}

// Gzip compresses data; writing to memory cannot fail, so neither can it.
func Gzip(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// Zipped is a zip archive holding data as its one member, name.
func Zipped(name string, data []byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create(name)
	f.Write(data)
	w.Close()
	return b.Bytes()
}

// Gunzip is the decompressed content of the gzip file at path; an error
// says why the file is not whole gzip.
func Gunzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// AssertNotInDir reads every file under dir (gzip files decompressed,
// others, such as a database and its WAL, raw) and fails the test if one
// holds one of needles (secrets, tokens) or if fewer than min files are
// there, so a test that looks in the wrong folder cannot pass.
func AssertNotInDir(t testing.TB, dir string, needles []string, min int) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		var b []byte
		if strings.HasSuffix(p, ".gz") {
			b, err = Gunzip(p)
		} else {
			b, err = os.ReadFile(p)
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Fatalf("%s holds a secret or token", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < min {
		t.Fatalf("only %d files under %s, want at least %d", files, dir, min)
	}
}

// OpenIn counts the process's open descriptors of files made in dir
// (Linux's /proc/self/fd; 0 elsewhere): what tests of temporary files
// check their closing by.
func OpenIn(dir string) int {
	n := 0
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}
