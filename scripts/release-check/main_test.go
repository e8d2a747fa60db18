package main

import (
	"archive/tar"
	"compress/gzip"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository root, two folders up from this package.
const repoRoot = "../.."

// TestRepoConfig holds .goreleaser.yaml to the release's requirements:
// the six targets, zip on Windows and tar.gz elsewhere, static and
// -trimpath builds, the version stamp, SHA-256, and the documents in every
// archive, all present in the repository.
func TestRepoConfig(t *testing.T) {
	p, err := loadConfig(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameTargets(p.targets(), required.targets) {
		t.Errorf("targets %v, want %v", p.targets(), required.targets)
	}
	for _, tg := range required.targets {
		if got, want := p.format(tg.goos), required.format(tg.goos); got != want {
			t.Errorf("%s archived as %s, want %s", tg, got, want)
		}
	}
	b := p.Builds[0]
	if b.Main != "./cmd/outsider" || b.Binary != "outsider" {
		t.Errorf("builds main %q binary %q, want ./cmd/outsider and outsider", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("builds env %q lacks CGO_ENABLED=0", b.Env)
	}
	if !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("builds flags %q lack -trimpath", b.Flags)
	}
	if p.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum algorithm %q", p.Checksum.Algorithm)
	}
	files, err := p.archiveFiles(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range requiredFiles {
		if !slices.Contains(files, f) {
			t.Errorf("archives carry %q, not %s", files, f)
		}
	}
	if !slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, "docs/") }) {
		t.Errorf("archives carry %q, nothing under docs/", files)
	}

	// The template fields render, and the stamp reaches -ldflags.
	d := templateData{ProjectName: "outsider", Version: "1.2.0", Commit: "c0ffee", ShortCommit: "c0f", Date: "2026-12-07T12:00:00Z"}
	ld, err := p.ldflags(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-X main.version=1.2.0", "-X main.commit=c0ffee", "-X main.date=2026-12-07T12:00:00Z"} {
		if !strings.Contains(ld, want) {
			t.Errorf("ldflags %q lack %q", ld, want)
		}
	}
	if name, err := p.archiveName(d, target{"windows", "arm64"}); err != nil || name != "outsider_1.2.0_windows_arm64.zip" {
		t.Errorf("archive name %q, %v", name, err)
	}
	if v, err := render(p.Snapshot.VersionTemplate, d); err != nil || v != "1.2.0-SNAPSHOT-c0f" {
		t.Errorf("snapshot version %q, %v", v, err)
	}
}

// TestStampTargetsExist checks that every -X in .goreleaser.yaml names a
// package-level string variable of cmd/outsider: the linker ignores -X for
// a name that does not exist, so a renamed variable would otherwise leave
// every release saying "(devel)" without an error anywhere.
func TestStampTargetsExist(t *testing.T) {
	p, err := loadConfig(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	dir := filepath.Join(repoRoot, "cmd", "outsider")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{} // string variables without a non-constant initialiser
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "string" || len(vs.Values) > 0 {
					continue
				}
				for _, n := range vs.Names {
					vars[n.Name] = true
				}
			}
		}
	}
	xflag := regexp.MustCompile(`-X\s+main\.(\w+)=`)
	var stamped []string
	for _, l := range p.Builds[0].Ldflags {
		for _, m := range xflag.FindAllStringSubmatch(l, -1) {
			stamped = append(stamped, m[1])
			if !vars[m[1]] {
				t.Errorf("ldflags set main.%s, which is not an uninitialised string variable of cmd/outsider", m[1])
			}
		}
	}
	slices.Sort(stamped)
	if want := []string{"commit", "date", "version"}; !slices.Equal(stamped, want) {
		t.Errorf("ldflags stamp %q, want %q", stamped, want)
	}
}

// TestLoadRefuses checks that the fallback refuses what it cannot
// reproduce exactly, instead of building something else than GoReleaser.
func TestLoadRefuses(t *testing.T) {
	base := `version: 2
project_name: outsider
builds:
  - id: outsider
    main: ./cmd/outsider
    binary: outsider
    goos: [linux]
    goarch: [amd64]
archives:
  - ids: [outsider]
    formats: [tar.gz]
    name_template: "{{ .ProjectName }}_{{ .Os }}"
checksum:
  name_template: sums.txt
  algorithm: sha256
snapshot:
  version_template: "{{ .Version }}"
`
	write := func(t *testing.T, text string) string {
		path := filepath.Join(t.TempDir(), "g.yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if _, err := loadConfig(write(t, base)); err != nil {
		t.Fatalf("the base config: %v", err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"build tags", "    binary: outsider\n", "    binary: outsider\n    tags: [x]\n", "field tags not found"},
		{"hooks", "project_name: outsider\n", "project_name: outsider\nbefore:\n  hooks: [go generate ./...]\n", "field before not found"},
		{"schema v1", "version: 2", "version: 1", "want 2"},
		{"sha512", "algorithm: sha256", "algorithm: sha512", "want sha256"},
		{"tar.xz", "formats: [tar.gz]", "formats: [tar.xz]", "tar.gz or zip"},
		{"two formats", "formats: [tar.gz]", "formats: [tar.gz, zip]", "tar.gz or zip"},
		{"other build's archive", "ids: [outsider]", "ids: [other]", "the one build's id"},
		{"env not KEY=VALUE", "    binary: outsider\n", "    binary: outsider\n    env: [CGO_ENABLED]\n", "not KEY=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(base, tc.old, tc.new, 1)
			if text == base {
				t.Fatalf("%q not in the base config", tc.old)
			}
			_, err := loadConfig(write(t, text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestRenderUnknownField checks that a template field this program does
// not fill is an error, not an empty string in a file name or a stamp.
func TestRenderUnknownField(t *testing.T) {
	if _, err := render("{{ .Tag }}", templateData{}); err == nil {
		t.Error("rendered {{ .Tag }} without error")
	}
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestArchiveFiles checks the file list's reading: files as named, folders
// recursively, and patterns, missing names and paths outside refused.
func TestArchiveFiles(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"LICENSE": "l", "docs/a.md": "a", "docs/img/b.png": "b", "other.txt": "o"})
	p := &project{Archives: []archive{{Files: []string{"docs", "LICENSE", "./LICENSE"}}}}
	got, err := p.archiveFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"LICENSE", "docs/a.md", "docs/img/b.png"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"docs/**/*", "*.md", "missing.md", "../x", "/etc/passwd"} {
		p := &project{Archives: []archive{{Files: []string{bad}}}}
		if got, err := p.archiveFiles(root); err == nil {
			t.Errorf("%q: got %q, want an error", bad, got)
		}
	}
}

// TestCheckArchive builds archives as the fallback does and checks that
// checkArchive passes them and names what is wrong with damaged ones.
func TestCheckArchive(t *testing.T) {
	root := t.TempDir()
	docs := map[string]string{"LICENSE": "l", "README.md": "r", "CHANGELOG.md": "c", "SECURITY.md": "s", "docs/rules.md": "d"}
	writeFiles(t, root, docs)
	extra := []string{"CHANGELOG.md", "LICENSE", "README.md", "SECURITY.md", "docs/rules.md"}
	bin := filepath.Join(root, "bin")
	if err := os.WriteFile(bin, []byte("\x7fELF pretend"), 0o755); err != nil {
		t.Fatal(err)
	}
	binSum, err := fileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"tar.gz", "zip"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			good := filepath.Join(dir, "good."+format)
			if err := writeArchive(good, format, bin, "outsider", root, extra); err != nil {
				t.Fatal(err)
			}
			c := &checker{}
			checkArchive(c, good, format, "outsider", binSum, extra)
			if len(c.problems) > 0 {
				t.Errorf("good archive: %q", c.problems)
			}

			for _, tc := range []struct {
				name    string
				extra   []string // what goes into the archive
				wantBin string   // binary sum expected
				want    string
			}{
				{"no LICENSE", slices.DeleteFunc(slices.Clone(extra), func(s string) bool { return s == "LICENSE" }), binSum, "no LICENSE"},
				{"no docs", extra[:4], binSum, "nothing under docs/"},
				{"another binary", extra, strings.Repeat("0", 64), "differs from the built binary"},
			} {
				path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+"."+format)
				if err := writeArchive(path, format, bin, "outsider", root, tc.extra); err != nil {
					t.Fatal(err)
				}
				c := &checker{}
				checkArchive(c, path, format, "outsider", tc.wantBin, extra)
				if !slices.ContainsFunc(c.problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
					t.Errorf("%s: problems %q, want one saying %q", tc.name, c.problems, tc.want)
				}
			}

			// A file the configuration does not name.
			writeFiles(t, root, map[string]string{"stray.txt": "x"})
			stray := filepath.Join(dir, "stray."+format)
			if err := writeArchive(stray, format, bin, "outsider", root, append(slices.Clone(extra), "stray.txt")); err != nil {
				t.Fatal(err)
			}
			c = &checker{}
			checkArchive(c, stray, format, "outsider", binSum, extra)
			if !slices.ContainsFunc(c.problems, func(p string) bool { return strings.Contains(p, "unexpected entry stray.txt") }) {
				t.Errorf("stray file: problems %q", c.problems)
			}

			c = &checker{}
			checkArchive(c, good, map[string]string{"zip": "tar.gz", "tar.gz": "zip"}[format], "outsider", binSum, extra)
			if len(c.problems) == 0 {
				t.Error("an archive of the wrong format passed")
			}
		})
	}

	// A tar.gz whose binary is not executable would leave a Linux or macOS
	// user with "permission denied".
	path := filepath.Join(t.TempDir(), "noexec.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range append([]string{"outsider"}, extra...) {
		body := docs[name]
		if name == "outsider" {
			body = "\x7fELF pretend"
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c := &checker{}
	checkArchive(c, path, "tar.gz", "outsider", binSum, extra)
	if !slices.ContainsFunc(c.problems, func(p string) bool { return strings.Contains(p, "not executable") }) {
		t.Errorf("non-executable binary: problems %q", c.problems)
	}
}

// TestCheckChecksums checks that the checksums file must list every
// archive once with its SHA-256, and nothing else.
func TestCheckChecksums(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.zip": "aaa", "b.tar.gz": "bbb"})
	archives := map[string]string{"a.zip": filepath.Join(dir, "a.zip"), "b.tar.gz": filepath.Join(dir, "b.tar.gz")}
	sa, _ := fileSHA256(archives["a.zip"])
	sb, _ := fileSHA256(archives["b.tar.gz"])
	for _, tc := range []struct{ name, text, want string }{
		{"good", sa + "  a.zip\n" + sb + "  b.tar.gz\n", ""},
		{"wrong digest", sa + "  a.zip\n" + sa + "  b.tar.gz\n", "the file says"},
		{"one missing", sa + "  a.zip\n", "b.tar.gz is not listed"},
		{"twice", sa + "  a.zip\n" + sa + "  a.zip\n" + sb + "  b.tar.gz\n", "listed twice"},
		{"unknown file", sa + "  a.zip\n" + sb + "  b.tar.gz\n" + sb + "  c.zip\n", "c.zip is not an archive"},
		{"one space", sa + " a.zip\n" + sb + "  b.tar.gz\n", "not \"<sha256>  <name>\""},
		{"upper case", strings.ToUpper(sa) + "  a.zip\n" + sb + "  b.tar.gz\n", "not \"<sha256>  <name>\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sums.txt")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			c := &checker{}
			checkChecksums(c, path, archives)
			switch {
			case tc.want == "" && len(c.problems) > 0:
				t.Errorf("problems %q", c.problems)
			case tc.want != "" && !slices.ContainsFunc(c.problems, func(p string) bool { return strings.Contains(p, tc.want) }):
				t.Errorf("problems %q, want one saying %q", c.problems, tc.want)
			}
		})
	}
}

// TestExecutableFormat checks the header checks against files that are
// not what they claim: text, and this machine's test binary presented as
// every other target.
func TestExecutableFormat(t *testing.T) {
	text := filepath.Join(t.TempDir(), "outsider")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho outsider\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	host := target{runtime.GOOS, runtime.GOARCH}
	for _, tg := range required.targets {
		if _, err := executableFormat(text, tg); err == nil {
			t.Errorf("%s: a shell script passed", tg)
		}
		if tg == host {
			continue
		}
		if got, err := executableFormat(self, tg); err == nil {
			t.Errorf("%s: this %s test binary passed as %q", tg, host, got)
		}
	}
}
