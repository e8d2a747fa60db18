package directory

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// loaded is what Load made of one file, as the golden files hold it.
type loaded struct {
	Entries  []Entry   `json:"entries"`
	Problems []Problem `json:"problems"`
	Error    string    `json:"error,omitempty"`
}

// inputs are the testdata files (not the golden ones), sorted.
func inputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	return files
}

// TestGolden checks the parsed entries and problems of every testdata
// input against testdata/golden/NAME.golden. After an intended change,
// run go test ./internal/directory -update and review the diff.
func TestGolden(t *testing.T) {
	for _, path := range inputs(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			d, problems, err := Load(path)
			got := loaded{Problems: problems}
			if d != nil {
				got.Entries = d.entries
			}
			if err != nil {
				got.Error = err.Error()
			}
			b, jerr := json.MarshalIndent(got, "", "  ")
			if jerr != nil {
				t.Fatal(jerr)
			}
			b = append(b, '\n')
			gpath := filepath.Join("testdata", "golden", name+".golden")
			testutil.Golden(t, gpath, b)
		})
	}
}

// TestGoldenFilesHaveInputs keeps the golden directory free of files whose
// input was renamed or removed.
func TestGoldenFilesHaveInputs(t *testing.T) {
	goldens, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.golden"))
	for _, g := range goldens {
		in := filepath.Join("testdata", strings.TrimSuffix(filepath.Base(g), ".golden"))
		if _, err := os.Stat(in); err != nil {
			t.Errorf("%s has no input %s", g, in)
		}
	}
}
