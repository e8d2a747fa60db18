package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestCLIReference: docs/cli.md is what the command definitions say, so
// the help and the docs cannot drift; -update rewrites it (then read the
// diff).
func TestCLIReference(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := newCmdRoot(&factory{IO: ios, Getenv: testEnv(t, nil)})
	var got bytes.Buffer
	if err := writeCLIReference(&got, root); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "cli.md")
	testutil.Golden(t, path, got.Bytes())
	// 'outsider docs markdown' writes the same bytes.
	ios, _, out, _ := iostreams.Test()
	if code := run(t.Context(), []string{"docs", "markdown", "-"}, &factory{IO: ios, Getenv: testEnv(t, nil)}); code != 0 || !bytes.Equal(out.Bytes(), got.Bytes()) {
		t.Errorf("outsider docs markdown -: exit %d, %d bytes, want %d", code, out.Len(), got.Len())
	}
}
