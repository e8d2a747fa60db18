package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestDiffLines(t *testing.T) {
	got := DiffLines("a\nb\nc\n", "a\nB\nc\nd\n")
	want := "line 2:\n- b\n+ B\nline 4:\n- \n+ d\n"
	if got != want {
		t.Errorf("DiffLines = %q, want %q", got, want)
	}
	if d := DiffLines("same\n", "same\n"); d != "" {
		t.Errorf("equal inputs differ: %q", d)
	}
}

func TestWriteJSONLAndGolden(t *testing.T) {
	dir := t.TempDir()
	p := WriteJSONL(t, dir, "sub/r.jsonl", Rec{"A": 1}, Rec{"B": "x"})
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "{\"A\":1}\n{\"B\":\"x\"}\n" {
		t.Errorf("WriteJSONL wrote %q", b)
	}
	Golden(t, p, b)
	if filepath.Dir(p) != filepath.Join(dir, "sub") {
		t.Errorf("path %s", p)
	}
}

func TestSignInOutside(t *testing.T) {
	r := SignIn(0, "x@fabrikam.com", Fabrikam, "203.0.113.7", SharePointApp, true)
	actor := r["Actor"].([]Rec)
	if r["Operation"] != "UserLoggedIn" || actor[0]["ID"] != "Unknown" || r["CreationTime"] != "2026-10-01T08:00:00" {
		t.Errorf("outside sign-in built wrong: %v", r)
	}
	if f := SignIn(1, "a@contoso.com", OurTenant, "203.0.113.7", SharePointApp, false); f["Operation"] != "UserLoginFailed" || f["Actor"].([]Rec)[0]["ID"] == "Unknown" {
		t.Errorf("failed own sign-in built wrong: %v", f)
	}
}

func TestGunzipAndAssertNotInDir(t *testing.T) {
	dir := t.TempDir()
	p := WriteFile(t, dir, "a/log.gz", Gzip([]byte("line one\nline two\n")))
	WriteFile(t, dir, "state.db", []byte("raw bytes"))
	b, err := Gunzip(p)
	if err != nil || string(b) != "line one\nline two\n" {
		t.Errorf("Gunzip = %q, %v", b, err)
	}
	if _, err := Gunzip(WriteFile(t, dir, "plain.gz", []byte("not gzip"))); err == nil {
		t.Error("Gunzip took a file that is not gzip")
	}
	os.Remove(filepath.Join(dir, "plain.gz"))
	AssertNotInDir(t, dir, []string{"secret", "token"}, 2)
}

// recorder keeps the errors a helper reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestEqualLines(t *testing.T) {
	r := &recorder{TB: t}
	EqualLines(r, "same", []string{"a", "b"}, []string{"a", "b"})
	EqualLines(r, "rows", []string{"a", "c"}, []string{"a", "b"})
	if len(r.errs) != 1 || r.errs[0] != "rows:\na\nc\nwant:\na\nb" {
		t.Errorf("EqualLines reported %q", r.errs)
	}
}
