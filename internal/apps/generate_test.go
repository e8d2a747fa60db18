package apps

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sharedAppIDs is the data folder that go:generate reads: ../shared/appids
// relative to the repository root. It is absent in CI.
const sharedAppIDs = "../../../shared/appids"

// TestGeneratedFilesAreUpToDate runs scripts/gen-apps twice on the shared
// data and checks that both runs give exactly the committed files: the
// generator is deterministic and nobody edited the output by hand.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	if _, err := os.Stat(sharedAppIDs); err != nil {
		t.Skipf("no source data at %s (normal outside the dev machine): %v", sharedAppIDs, err)
	}
	if testing.Short() {
		t.Skip("runs go run; skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	shared, err := filepath.Abs(sharedAppIDs)
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		out := t.TempDir()
		cmd := exec.Command(goBin, "run", "../../scripts/gen-apps", "-shared", shared, "-out", out)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("run %d: gen-apps: %v\n%s", run, err, stderr.Bytes())
		}
		for _, name := range []string{"catalogue.tsv", "tenants.tsv"} {
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("run %d: generated %s differs from the committed file; run go generate ./internal/apps", run, name)
			}
		}
	}
}
