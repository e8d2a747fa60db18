package layering

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// docPath is the page that holds the rules, relative to the module root.
const docPath = "docs/architecture.md"

// ciPath is the CI script whose race run must cover concurrent packages.
const ciPath = ".ci/run"

// badNames are package names that say nothing of what a package holds.
var badNames = []string{"util", "utils", "common", "misc", "helper", "helpers", "shared"}

// processOnly are the package-level names only cmd/ may use: the process's
// streams, its exit, and the functions that write to stdout or stderr
// behind the caller's back (docs/architecture.md "Rules across packages").
var processOnly = map[string][]string{
	"os":      {"Stdin", "Stdout", "Stderr", "Exit"},
	"syscall": {"Stdin", "Stdout", "Stderr", "Exit"},
	"fmt":     {"Print", "Printf", "Println"},
	"log": {"Print", "Printf", "Println", "Fatal", "Fatalf", "Fatalln",
		"Panic", "Panicf", "Panicln", "Output", "Writer", "Default"},
	"log/slog": {"Debug", "DebugContext", "Info", "InfoContext", "Warn", "WarnContext",
		"Error", "ErrorContext", "Log", "LogAttrs", "Default"},
}

// rule is one row of the table: what a package may import.
type rule struct {
	pkg       string   // path relative to the module, e.g. internal/triage
	row       int      // 0 for the first row
	testsOnly bool     // may be imported by test files alone
	mayImport []string // module-relative (internal/...) or third-party paths
	allOurs   bool     // "internal/*": every package under internal/ not tests only
}

// rules is the table of docs/architecture.md, and the package list's order.
type rules struct {
	byPkg map[string]*rule
	order []string // table rows in order
	list  []string // the package list, in order
}

// pkg is what the test needs of one package of `go list -json`.
type pkg struct {
	ImportPath     string
	Name           string
	Dir            string
	Standard       bool
	Module         *struct{ Path string }
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Imports        []string
	Error          *struct{ Err string }
}

// module is the module as go list and the parser see it.
type module struct {
	root     string
	path     string          // module path
	pkgs     map[string]*pkg // ours, by path relative to the module
	standard map[string]bool // import paths go list marks standard
	files    map[string][]*ast.File
	fset     *token.FileSet
	// imports are each package's non-test imports on every platform: go
	// list's (this platform's build) and those of the files build
	// constraints leave out here (populate_other.go and the like).
	imports map[string][]string
}

var (
	loadOnce sync.Once
	loaded   *module
	loadErr  error
)

// load runs `go list -deps -json ./...` once for all the tests and
// parses every non-test file of the module's packages.
func load(t *testing.T) *module {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: the layer rules of " + docPath + " are not checked")
	}
	loadOnce.Do(func() { loaded, loadErr = loadModule(goCmd) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

func loadModule(goCmd string) (*module, error) {
	root, modPath, err := findModule()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(goCmd, "list", "-deps", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps -json ./...: %v\n%s", err, stderr.Bytes())
	}
	m := &module{
		root: root, path: modPath,
		pkgs: map[string]*pkg{}, standard: map[string]bool{},
		files: map[string][]*ast.File{}, imports: map[string][]string{},
		fset: token.NewFileSet(),
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %v", err)
		}
		if p.Standard {
			m.standard[p.ImportPath] = true
			continue
		}
		if p.Module == nil || p.Module.Path != modPath {
			continue
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		rel, ok := m.rel(p.ImportPath)
		if !ok {
			continue // the module's root package, if it ever has one, has no row
		}
		m.pkgs[rel] = p
		imports := slices.Clone(p.Imports)
		for _, name := range nonTestFiles(p) {
			f, err := parser.ParseFile(m.fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			m.files[rel] = append(m.files[rel], f)
			for _, s := range f.Imports {
				ip, _ := strconv.Unquote(s.Path.Value)
				if ip != "C" && !slices.Contains(imports, ip) {
					imports = append(imports, ip)
				}
			}
		}
		slices.Sort(imports)
		m.imports[rel] = imports
	}
	if len(m.pkgs) == 0 {
		return nil, errors.New("go list found no package of " + modPath)
	}
	return m, nil
}

// findModule walks up from the test's folder to go.mod.
func findModule() (root, modPath string, err error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(rest), `"`), nil
				}
			}
			return "", "", errors.New(filepath.Join(dir, "go.mod") + ": no module line")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// nonTestFiles are a package's Go files but its tests, on every platform.
func nonTestFiles(p *pkg) []string {
	var names []string
	for _, list := range [][]string{p.GoFiles, p.CgoFiles, p.IgnoredGoFiles} {
		for _, n := range list {
			if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				names = append(names, n)
			}
		}
	}
	return names
}

// rel is an import path relative to the module, if it is the module's.
func (m *module) rel(importPath string) (string, bool) {
	return strings.CutPrefix(importPath, m.path+"/")
}

// isStandard says whether an import is the standard library's: go list's
// word for what it listed, else (an import of a file built on another
// platform only) Go's own rule that standard paths have no dot in their
// first element.
func (m *module) isStandard(importPath string) bool {
	if m.standard[importPath] {
		return true
	}
	if _, ours := m.rel(importPath); ours {
		return false
	}
	first, _, _ := strings.Cut(importPath, "/")
	return !strings.Contains(first, ".")
}

// readRules parses the list and the table of docs/architecture.md.
func readRules(t *testing.T, root string) *rules {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	section := func(name string) []string {
		begin, end := "<!-- layering:"+name+" begin -->", "<!-- layering:"+name+" end -->"
		_, rest, ok := strings.Cut(doc, begin)
		body, _, ok2 := strings.Cut(rest, end)
		if !ok || !ok2 {
			t.Fatalf("%s: no %q ... %q section", docPath, begin, end)
		}
		return strings.Split(strings.TrimSpace(body), "\n")
	}
	r := &rules{byPkg: map[string]*rule{}}
	for _, line := range section("packages") {
		name, ok := firstCode(line)
		if !strings.HasPrefix(line, "- ") || !ok {
			t.Fatalf("%s: package list line %q is not \"- `path` — what it is\"", docPath, line)
		}
		r.list = append(r.list, name)
	}
	for _, line := range section("rules") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || strings.TrimSpace(cells[0]) != "" || strings.TrimSpace(cells[4]) != "" {
			t.Fatalf("%s: table line %q does not have three cells", docPath, line)
		}
		pkgCell, importCell, why := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		if pkgCell == "Package" || strings.Trim(pkgCell, "-") == "" {
			continue // header and separator
		}
		name, ok := firstCode(pkgCell)
		if !ok {
			t.Fatalf("%s: table row %q: the package is not in backquotes", docPath, line)
		}
		if r.byPkg[name] != nil {
			t.Fatalf("%s: two rows for %s", docPath, name)
		}
		if why == "" {
			t.Errorf("%s: the row of %s says nothing in Why", docPath, name)
		}
		ru := &rule{pkg: name, row: len(r.order), testsOnly: strings.Contains(pkgCell, "(tests only)")}
		if importCell != "—" {
			for _, entry := range strings.Split(importCell, ",") {
				entry = strings.TrimSpace(entry)
				if len(entry) < 3 || entry[0] != '`' || entry[len(entry)-1] != '`' || strings.Count(entry, "`") != 2 {
					t.Fatalf("%s: row of %s: %q is not one path in backquotes (write — for none)", docPath, name, entry)
				}
				entry = entry[1 : len(entry)-1]
				if entry == "internal/*" {
					ru.allOurs = true
					continue
				}
				ru.mayImport = append(ru.mayImport, entry)
			}
		}
		r.byPkg[name] = ru
		r.order = append(r.order, name)
	}
	return r
}

// firstCode is the first `quoted` word of s.
func firstCode(s string) (string, bool) {
	_, rest, ok := strings.Cut(s, "`")
	if !ok {
		return "", false
	}
	word, _, ok := strings.Cut(rest, "`")
	return word, ok && word != ""
}

// TestEveryPackageHasARow: the list and the table of docs/architecture.md
// name exactly the module's packages, in the same order, so a new package
// cannot come in without its place in the layers being decided.
func TestEveryPackageHasARow(t *testing.T) {
	m := load(t)
	r := readRules(t, m.root)
	for rel := range m.pkgs {
		if r.byPkg[rel] == nil {
			t.Errorf("package %s has no row in the table of %s: add one (which packages it may import, and why)", rel, docPath)
		}
		if !slices.Contains(r.list, rel) {
			t.Errorf("package %s has no line in the package list of %s", rel, docPath)
		}
	}
	for _, name := range r.order {
		if m.pkgs[name] == nil {
			t.Errorf("%s: the table has a row for %s, which is not a package of the module: remove it", docPath, name)
		}
	}
	for _, name := range r.list {
		if m.pkgs[name] == nil {
			t.Errorf("%s: the package list names %s, which is not a package of the module: remove it", docPath, name)
		}
	}
	if !slices.Equal(r.list, r.order) {
		t.Errorf("%s: the package list and the table differ in order:\nlist  %v\ntable %v", docPath, r.list, r.order)
	}
}

// TestTableIsLayered: a row names only packages in rows below it, never a
// package only tests may import, so the table itself has no cycle and no
// upward edge; "internal/*" only on a row above every package it covers.
func TestTableIsLayered(t *testing.T) {
	m := load(t)
	r := readRules(t, m.root)
	for _, name := range r.order {
		ru := r.byPkg[name]
		for _, entry := range ru.mayImport {
			if !strings.HasPrefix(entry, "internal/") {
				if _, ok := m.rel(entry); ok || m.isStandard(entry) {
					t.Errorf("%s: row of %s: %s is neither a package of ours (internal/...) nor a third-party module", docPath, name, entry)
				}
				continue
			}
			dep := r.byPkg[entry]
			switch {
			case dep == nil:
				t.Errorf("%s: row of %s names %s, which has no row", docPath, name, entry)
			case dep.testsOnly:
				t.Errorf("%s: row of %s names %s, which only tests may import", docPath, name, entry)
			case dep.row <= ru.row:
				t.Errorf("%s: row of %s names %s, which is not below it: the import points up the layers", docPath, name, entry)
			}
		}
		if ru.allOurs {
			for _, other := range r.order {
				if o := r.byPkg[other]; strings.HasPrefix(other, "internal/") && !o.testsOnly && o.row <= ru.row {
					t.Errorf("%s: row of %s says internal/* but %s is not below it", docPath, name, other)
				}
			}
		}
	}
}

// TestImportsFollowTheTable: every import of ours or of a third-party
// module, in every non-test file of every package, is one its row allows;
// every entry of a row is used (the table is the graph, not a wish); and
// packages only tests may import are imported by test files alone.
func TestImportsFollowTheTable(t *testing.T) {
	m := load(t)
	r := readRules(t, m.root)
	for rel := range m.pkgs {
		ru := r.byPkg[rel]
		if ru == nil {
			continue // TestEveryPackageHasARow says so
		}
		used := map[string]bool{}
		for _, ip := range m.imports[rel] {
			if m.isStandard(ip) {
				continue
			}
			target, ours := m.rel(ip)
			if !ours {
				target = ip
			}
			if ours && r.byPkg[target] != nil && r.byPkg[target].testsOnly {
				t.Errorf("%s imports %s, which only tests may import (%s)", rel, target, docPath)
				continue
			}
			if ours && ru.allOurs && strings.HasPrefix(target, "internal/") {
				continue
			}
			entry := allowedBy(ru.mayImport, target)
			if entry == "" {
				t.Errorf("%s imports %s, which its row in %s does not allow: add it there if it belongs (and say why), or move what is needed below %s", rel, target, docPath, rel)
				continue
			}
			used[entry] = true
		}
		for _, entry := range ru.mayImport {
			if !used[entry] {
				t.Errorf("%s: the row of %s allows %s, which no file of %s imports: remove it", docPath, rel, entry, rel)
			}
		}
	}
}

// allowedBy is the entry of a row that allows an import: the path itself,
// or for a third-party module any of its packages.
func allowedBy(entries []string, target string) string {
	for _, e := range entries {
		if target == e || (!strings.HasPrefix(e, "internal/") && strings.HasPrefix(target, e+"/")) {
			return e
		}
	}
	return ""
}

// TestOnlyCmdOwnsTheProcess: no non-test file under internal/ names the
// process's streams or exit, or writes to stdout or stderr behind its
// caller's back (fmt.Print*, the log and slog defaults, print/println).
func TestOnlyCmdOwnsTheProcess(t *testing.T) {
	m := load(t)
	for rel, files := range m.files {
		if !strings.HasPrefix(rel, "internal/") {
			continue
		}
		declared := map[string]bool{} // a package's own print would not be the built-in
		for _, f := range files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
					declared[fd.Name.Name] = true
				}
			}
		}
		for _, f := range files {
			local := map[string]string{} // name in the file -> import path
			for _, s := range f.Imports {
				ip, _ := strconv.Unquote(s.Path.Value)
				name := path.Base(ip)
				if s.Name != nil {
					name = s.Name.Name
				}
				local[name] = ip
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					id, ok := n.X.(*ast.Ident)
					if !ok {
						break
					}
					ip, ok := local[id.Name]
					if ok && slices.Contains(processOnly[ip], n.Sel.Name) {
						t.Errorf("%s: %s.%s under internal/: only cmd/ may use the process's streams and exit, or print behind its caller's back; take an io.Writer (iostreams) or return an error (%s)",
							m.fset.Position(n.Pos()), id.Name, n.Sel.Name, docPath)
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println") && !declared[id.Name] {
						t.Errorf("%s: built-in %s under internal/ writes to stderr: only cmd/ may (%s)", m.fset.Position(n.Pos()), id.Name, docPath)
					}
				}
				return true
			})
		}
	}
}

// TestPackageNames: no package is named for having no subject.
func TestPackageNames(t *testing.T) {
	m := load(t)
	for rel, p := range m.pkgs {
		for _, name := range slices.Compact([]string{p.Name, path.Base(rel)}) {
			if slices.Contains(badNames, name) {
				t.Errorf("package %s is named %q, which says nothing of what it holds: name it for what it does (%s)", rel, name, docPath)
			}
		}
	}
}

// TestRaceRunCoversConcurrentPackages: every package of the program
// (cmd/ and internal/; bench/ and scripts/ are tools) that starts
// goroutines (a go statement, or X.Go(func() {...}) as on a
// sync.WaitGroup) is in a race detector's run of .ci/run.
func TestRaceRunCoversConcurrentPackages(t *testing.T) {
	m := load(t)
	data, err := os.ReadFile(filepath.Join(m.root, ciPath))
	if err != nil {
		t.Fatal(err)
	}
	var raced []string // patterns, module-relative: internal/triage or internal/...
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if !slices.Contains(fields, "-race") || !strings.Contains(line, "go test") {
			continue
		}
		for _, f := range fields {
			if p, ok := strings.CutPrefix(f, "./"); ok {
				raced = append(raced, p)
			}
		}
	}
	if len(raced) == 0 {
		t.Fatalf("%s has no `go test -race ./...` line", ciPath)
	}
	covered := func(rel string) bool {
		for _, p := range raced {
			if p == rel || p == "..." || (strings.HasSuffix(p, "/...") && (rel == strings.TrimSuffix(p, "/...") || strings.HasPrefix(rel, strings.TrimSuffix(p, "...")))) {
				return true
			}
		}
		return false
	}
	for rel, files := range m.files {
		if !strings.HasPrefix(rel, "internal/") && !strings.HasPrefix(rel, "cmd/") {
			continue
		}
		var at token.Pos
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				if at.IsValid() {
					return false
				}
				switch n := n.(type) {
				case *ast.GoStmt:
					at = n.Pos()
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Go" && len(n.Args) == 1 {
						if _, ok := n.Args[0].(*ast.FuncLit); ok {
							at = n.Pos()
						}
					}
				}
				return true
			})
		}
		if at.IsValid() && !covered(rel) {
			t.Errorf("%s starts goroutines (%s) but is not in the -race run of %s: add ./%s there", rel, m.fset.Position(at), ciPath, rel)
		}
	}
}
