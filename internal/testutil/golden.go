package testutil

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Update is the -update flag of every test binary that imports this
// package: registered once here, so no package declares its own.
var Update = flag.Bool("update", false, "rewrite golden files from the current output")

// Golden checks got against the file at path. With -update it first
// writes got there (creating the folder), so the comparison that follows
// reads back what was written: an updated run checks the same way as a
// normal one. A difference is reported line by line, with the command
// that rewrites the file.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update and review the diff)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test with -update and review the diff):\n%s", path, DiffLines(string(want), string(got)))
	}
}

// DiffLines lists the lines that differ between want and got, by line
// number: enough to see what changed in a golden file without a diff tool.
func DiffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// GoldenFiles runs render as a subtest (named by the file's base name) on
// every file in dir whose extension is one of exts, in name order, and
// checks what it returns against the file of the same name with ".golden"
// for its extension. Fewer than min such files fail the test, so a moved
// fixture folder cannot pass by testing nothing.
func GoldenFiles(t *testing.T, dir string, exts []string, min int, render func(t *testing.T, path string, data []byte) []byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && slices.Contains(exts, filepath.Ext(e.Name())) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) < min {
		t.Fatalf("only %d %v files in %s, want at least %d", len(files), exts, dir, min)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, f, data)
			Golden(t, strings.TrimSuffix(f, filepath.Ext(f))+".golden", got)
		})
	}
}

// EqualLines fails the test when got and want, lists of lines (problems
// reported, rows written), differ, showing both whole under what.
func EqualLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("%s:\n%s\nwant:\n%s", what, g, w)
	}
}
