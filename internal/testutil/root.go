package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot walks up from the test's package folder to the folder holding
// go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// SharedSamples is the folder of public sample logs called name, kept
// beside the checkout rather than in it; the test is skipped when it is
// absent, so the repository's tests never need it.
func SharedSamples(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(ModuleRoot(t), "..", "shared", "samples", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s absent: the shared samples are not available here", p)
	}
	return p
}
