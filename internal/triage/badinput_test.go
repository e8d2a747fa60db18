package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestBadInputs feeds every kind of bad input the core issue lists, in one
// run: each is named (file, line or row, reason), counted in
// input.skipped, and the good records around them are still triaged.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	good, _ := json.Marshal(testutil.SignIn(0, "pilar@fabrikam.com", fabrikam, "86.138.113.7", accessPanel, true))
	g := string(good)
	files := map[string]string{
		"a-truncated.jsonl":   g + "\n" + g[:len(g)/2] + "\n",
		"b-garbage.bin":       "\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n",
		"c-invalid-utf8.json": strings.Replace(g, "pilar", "pi\xffar", 1) + "\n",
		"d-wrong-types.jsonl": `{"CreationTime":"2026-10-01T08:00:00","Id":"x","UserId":["a"]}` + "\n",
		"e-unbalanced.csv":    "CreationDate,UserIds,Operations,AuditData\n2026-10-01,x,UserLoggedIn,\"{\"\"CreationTime\n",
		"f-deep.jsonl":        strings.Repeat("[", 100000) + "\n",
		"g-huge.jsonl":        `{"CreationTime":"2026-10-01T08:00:00","Id":"` + strings.Repeat("A", 12<<20) + `"}` + "\n" + g + "\n",
		"h-empty.json":        "",
		"i-unknown.xml":       "<?xml version=\"1.0\"?><Events></Events>",
		"j-deep-array.json":   "[" + strings.Repeat(`{"a":`, 100000) + "\n",
	}
	var paths []string
	for name, content := range files {
		paths = append(paths, testutil.WriteFile(t, dir, name, []byte(content)))
	}
	done := make(chan struct{})
	var r *Report
	var err error
	go func() {
		defer close(done)
		r, err = Run(context.Background(), slices.Sorted(slices.Values(paths)), Options{})
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("triage hung on bad input")
	}
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string][]string{}
	for _, p := range r.Problems {
		byFile[filepath.Base(p.Path)] = append(byFile[filepath.Base(p.Path)], p.Error())
	}
	want := map[string]string{
		"a-truncated.jsonl":   "line 2: ",
		"b-garbage.bin":       "unknown format",
		"c-invalid-utf8.json": "invalid UTF-8",
		"d-wrong-types.jsonl": "line 1: field UserId is an array, not a string",
		"e-unbalanced.csv":    "row 2: ",
		"f-deep.jsonl":        "line 1: ",
		"g-huge.jsonl":        "line 1: ",
		"h-empty.json":        "empty file",
		"i-unknown.xml":       "unknown format",
		"j-deep-array.json":   "line 1: ",
	}
	for name, frag := range want {
		msgs := byFile[name]
		found := false
		for _, m := range msgs {
			if strings.Contains(m, frag) && strings.Contains(m, name) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no problem containing %q; got %q", name, frag, msgs)
		}
	}
	// The good records in the same files still count.
	// The good record is in two files: one distinct record, one duplicate.
	if r.Input.Records != 1 || r.Input.Duplicates != 1 || len(r.Identities) != 1 {
		t.Errorf("records %d duplicates %d identities %d, want 1, 1, 1", r.Input.Records, r.Input.Duplicates, len(r.Identities))
	}
	var skipped int64
	for _, f := range r.Input.Files {
		skipped += f.Skipped
	}
	if skipped != r.Input.Skipped || r.Input.Skipped < 7 {
		t.Errorf("skipped %d (files say %d), want at least 7", r.Input.Skipped, skipped)
	}
	// Files that gave nothing are counted as files, not as records.
	var unreadable []string
	for _, f := range r.Input.Files {
		if f.Unreadable {
			unreadable = append(unreadable, filepath.Base(f.Path))
		}
	}
	slices.Sort(unreadable)
	if want := []string{"b-garbage.bin", "h-empty.json", "i-unknown.xml"}; !slices.Equal(unreadable, want) || r.Input.SkippedFiles != int64(len(want)) {
		t.Errorf("unreadable files %q (skipped_files %d), want %q", unreadable, r.Input.SkippedFiles, want)
	}
}

// TestCappedExportWarning: a file of exactly 5,000 records is flagged as
// a probably capped export, and still triaged.
func TestCappedExportWarning(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	for i := range 5000 {
		r := testutil.SignIn(i, fmt.Sprintf("m%d@contoso.com", i%50), ourTenant, "95.91.100.20", sharePointApp, true)
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	p := testutil.WriteFile(t, dir, "capped.jsonl", b.Bytes())
	r := run(t, Options{}, p)
	if r.Input.Records != 5000 {
		t.Errorf("records = %d", r.Input.Records)
	}
	var warned bool
	for _, pr := range r.Problems {
		if pr.Warning && strings.Contains(pr.Reason, "5,000") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no capped-export warning: %v", r.Problems)
	}
}
