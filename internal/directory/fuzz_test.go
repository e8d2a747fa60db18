package directory

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Run each for a minute or more (a short -fuzzminimizetime keeps the
// workers fuzzing rather than shrinking each new interesting input for the
// default minute):
//
//	go test -run '^$' -fuzz '^FuzzLoadJSON$' -fuzztime 60s -fuzzminimizetime 5s ./internal/directory
//	go test -run '^$' -fuzz '^FuzzLoadCSV$' -fuzztime 60s -fuzzminimizetime 5s ./internal/directory

// FuzzLoadJSON loads arbitrary bytes seeded with the JSON testdata and the
// framings and damage the JSON reader handles.
func FuzzLoadJSON(f *testing.F) {
	seed(f, ".json", ".jsonl")
	for _, s := range []string{
		`{"value":[{"userPrincipalName":"a@b.c"}],"@odata.nextLink":"x"}{"value":[]}`,
		`[{"value":[{"userPrincipalName":"a@b.c","identities":[{"issuerAssignedId":"x@y.z"}]}]}]`,
		"{\"userPrincipalName\":\"a@b.c\"}\n{\"userPrincipalName\":\"a_b.c#EXT#@d.e\",\n{\"mail\":1}\n",
		"[\n{\"userPrincipalName\":\"a@b.c\"},\n{\"userPrincipalName\":\n{\"userPrincipalName\":\"c@b.c\"},\n]",
		"\xff\xfe{\x00}\x00",
		"\xfe\xff\x00[\x00]",
		`{"error":{"code":"x","message":"y"}}`,
		"[[[[[[[[[[\n{{{{\n[\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(fuzzLoad(dir))
}

// FuzzLoadCSV does the same with the CSV testdata and quoting damage.
func FuzzLoadCSV(f *testing.F) {
	seed(f, ".csv")
	for _, s := range []string{
		"userPrincipalName,mail\n\"a@b.c\",\"x\n\"d@b.c\",e\n",
		"#TYPE x\nsep=;\nUser principal name;Proxy addresses\na@b.c;SMTP:a@b.c+smtp:x+y@b.c\n",
		"\"userPrincipalName\"\t\"accountEnabled\"\na@b.c\tmaybe\n\"\n",
		"upn,blockCredential\na@b.c,True\na@b.c\"x\",\n",
		"User name [userPrincipalName] Required\n\"\n\"\n\"\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(fuzzLoad(dir))
}

// seed adds every testdata input whose name ends with one of exts.
func seed(f *testing.F, exts ...string) {
	for _, path := range inputs(f) {
		for _, ext := range exts {
			if strings.HasSuffix(path, ext) {
				b, err := os.ReadFile(path)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
}

// fuzzLoad returns a fuzz function that writes its input to a file in dir,
// loads it, and checks what Load promises: no panic, no hang, an error
// only when nothing is readable (and naming the file), problems naming the
// file and a line inside it, every entry findable, and the same result
// every time. One file per fuzzing process is enough: a process runs one
// input at a time, and a directory per input would cost more than Load.
func fuzzLoad(dir string) func(*testing.T, []byte) {
	path := filepath.Join(dir, "users.export")
	return func(t *testing.T, data []byte) { checkLoad(t, path, data) }
}

func checkLoad(t *testing.T, path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	d, problems, err := Load(path)
	// Generous, for a shared machine: a hang or a quadratic blow-up on a
	// fuzzer-sized input takes far longer.
	if el := time.Since(began); el > 10*time.Second+time.Duration(len(data))*10*time.Microsecond {
		t.Errorf("Load took %v for %d bytes", el, len(data))
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, p := range problems {
		if p.Path != path || p.Line < 0 || p.Line > lines || p.Reason == "" {
			t.Errorf("bad problem %#v (file has %d lines)", p, lines)
		}
	}
	if err != nil {
		if d != nil {
			t.Error("a directory came with an error")
		}
		if !strings.HasPrefix(err.Error(), path) && !strings.Contains(err.Error(), path) {
			t.Errorf("error does not name the file: %v", err)
		}
		return
	}
	if d.Len() == 0 {
		t.Fatal("no error, but no entries")
	}
	for _, e := range d.entries {
		if !strings.Contains(e.UPN, "@") {
			t.Errorf("entry with UPN %q", e.UPN)
		}
		if e.Line < 1 || e.Line > lines {
			t.Errorf("entry %q at line %d of %d", e.UPN, e.Line, lines)
		}
		// audit.Canonical may not keep '@' (a UPN "a#ext#@b" has no
		// '_' to turn back into one), so only a usable key must resolve.
		if _, ok := canonicalKey(e.UPN); ok {
			if _, _, found := d.Lookup(e.UPN); !found {
				t.Errorf("entry %q not found by its own UPN", e.UPN)
			}
		}
	}
	d2, problems2, err2 := load(path, data)
	if err2 != nil || !reflect.DeepEqual(d.entries, d2.entries) || !reflect.DeepEqual(problems, problems2) {
		t.Error("a second load differs")
	}
}
