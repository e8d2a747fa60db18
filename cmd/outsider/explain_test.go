package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestExplainKeepsNoWindows: explain reads its input once, so it notes no
// checkpoints of a gzip input and leaves no temporary file of their
// windows open when it returns (on Windows, where the file cannot be
// unlinked while open, it would stay behind until the garbage collector
// found the store). Linux only: the file, unlinked at once, is seen among
// the process's descriptors.
func TestExplainKeepsNoWindows(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	var ual bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(ual.String()), "\n")
	var last struct{ Id string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Id == "" {
		t.Fatalf("last record's Id: %q, %v", last.Id, err)
	}
	defer source.SetGzipCheckpointSpacing(8 << 10)()
	defer source.SetWindowBudget(16 << 10)()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where a store of Read's own would spill
	path := testutil.WriteFile(t, t.TempDir(), "ual.jsonl.gz", testutil.Gzip(ual.Bytes()))
	ios, _, out, _ := iostreams.Test()
	// The last record: the whole file is inflated before it is found.
	if err := runExplain(context.Background(), ios, &ExplainOptions{Path: path, ID: last.Id}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Id: "+last.Id) {
		t.Fatalf("record %s not walked:\n%s", last.Id, out)
	}
	if n := testutil.OpenIn(tmp); n != 0 {
		t.Errorf("%d files of %s still open after explain", n, tmp)
	}
}
