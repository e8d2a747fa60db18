package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// AddSeedFiles adds every file matching each of globs to f's seed corpus,
// so the fixtures that the golden tests read are where fuzzing starts. A
// glob that matches nothing, or a file that cannot be read, fails the
// target: a moved fixture folder must not leave it with fewer seeds
// unnoticed.
func AddSeedFiles(f *testing.F, globs ...string) {
	f.Helper()
	for _, glob := range globs {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		if len(files) == 0 {
			f.Fatalf("no seed files match %s", glob)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}
