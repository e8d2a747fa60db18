package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// root is the repository, seen from this package.
const root = "../.."

// maxReadmeLines is the README's length limit: it is for users with ten
// minutes; everything else belongs in docs/.
const maxReadmeLines = 250

// maxImageBytes bounds each image the documents show: they are committed,
// and every clone carries them.
const maxImageBytes = 300 << 10

// generated are documents written by a program from other sources: their
// text is checked for links but not for bare URLs, which come from flag
// help (a DSN such as http://host:8123 is an example, not a link).
var generated = map[string]bool{"docs/cli.md": true}

// documents are the Markdown files a reader of the repository follows.
func documents(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "bench/README.md", "examples/README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		rel, _ := filepath.Rel(root, m)
		files = append(files, filepath.ToSlash(rel))
	}
	slices.Sort(files)
	return files
}

var (
	// inlineLink matches [text](target) and ![alt](target); the target
	// may carry a title after a space.
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	// refDef matches a reference definition, [name]: target.
	refDef = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	// bareURL is a URL that GitHub would turn into a link.
	bareURL = regexp.MustCompile(`(?i)\b(?:https?|ftp)://|\bwww\.[a-z0-9-]+\.`)
	// scheme is a link target that names a scheme (http:, mailto:, …) or
	// a host (//example.com): it leaves the repository.
	scheme = regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)`)
)

// line is one line of prose (outside fenced code), with its code spans
// blanked (text) and as written (raw), and where it is.
type line struct {
	file string
	n    int
	text string
	raw  string
}

// prose reads a Markdown file and returns its lines outside fenced code
// blocks, code spans removed, and the anchors its headings get.
func prose(t *testing.T, file string) ([]line, map[string]bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []line
	anchors := map[string]bool{}
	seen := map[string]int{}
	fence := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		trim := strings.TrimLeft(s, " ")
		if fence != "" {
			if strings.HasPrefix(trim, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~") {
			fence = trim[:3]
			continue
		}
		if strings.HasPrefix(trim, "#") {
			a := anchor(strings.TrimLeft(trim, "#"))
			if k := seen[a]; k > 0 {
				anchors[fmt.Sprintf("%s-%d", a, k)] = true
			} else {
				anchors[a] = true
			}
			seen[a]++
		}
		// Raw HTML anchors (<a id="x">, <a name="x">) count too.
		for _, m := range regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`).FindAllStringSubmatch(s, -1) {
			anchors[m[1]] = true
		}
		out = append(out, line{file, n, testutil.StripCodeSpans(s, " ", false), s})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out, anchors
}

// anchor is the fragment GitHub gives a heading: its text without
// Markdown, lower-cased, with everything but letters, digits, spaces,
// hyphens and underscores dropped and spaces made hyphens.
func anchor(heading string) string {
	h := strings.TrimSpace(heading)
	h = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(h, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinks checks every link of the documents: none leaves the
// repository (no scheme, no host, no path above its root: ../shared and
// the like exist on one machine only), every relative target exists, and
// every #fragment names a heading of its target. Bare URLs, which GitHub
// links by itself, are refused too: Microsoft's pages are named in plain
// text. Images must be small.
func TestDocsLinks(t *testing.T) {
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		from   line
		target string
	}
	var targets []target
	anchors := map[string]map[string]bool{}
	docs := documents(t)
	if len(docs) < 8 {
		t.Fatalf("found only %d documents (%v): is the repository root %s?", len(docs), docs, rootAbs)
	}
	for _, file := range docs {
		lines, a := prose(t, file)
		anchors[file] = a
		for _, l := range lines {
			for _, m := range inlineLink.FindAllStringSubmatch(l.text, -1) {
				targets = append(targets, target{l, m[1]})
			}
			if m := refDef.FindStringSubmatch(l.text); m != nil {
				targets = append(targets, target{l, m[1]})
			}
			if !generated[file] && bareURL.MatchString(l.text) {
				t.Errorf("%s:%d: a bare URL (name the page in plain text; no link leaves the repository): %s", l.file, l.n, l.text)
			}
			for _, bad := range []string{"../shared", "DESIGN.md"} {
				if strings.Contains(l.raw, bad) {
					t.Errorf("%s:%d: refers to %s, which is not in the repository: %s", l.file, l.n, bad, l.raw)
				}
			}
		}
	}
	checked := 0
	for _, tg := range targets {
		where := fmt.Sprintf("%s:%d", tg.from.file, tg.from.n)
		if tg.target == "" {
			t.Errorf("%s: an empty link target", where)
			continue
		}
		if scheme.MatchString(tg.target) {
			t.Errorf("%s: link %q leaves the repository", where, tg.target)
			continue
		}
		path, frag, _ := strings.Cut(tg.target, "#")
		file := tg.from.file
		if path != "" {
			if strings.HasPrefix(path, "/") {
				t.Errorf("%s: link %q is absolute: make it relative to the file", where, tg.target)
				continue
			}
			abs := filepath.Join(rootAbs, filepath.Dir(tg.from.file), filepath.FromSlash(path))
			rel, err := filepath.Rel(rootAbs, abs)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				t.Errorf("%s: link %q points outside the repository", where, tg.target)
				continue
			}
			fi, err := os.Stat(abs)
			if err != nil {
				t.Errorf("%s: link %q: no such file in the repository (%s)", where, tg.target, filepath.ToSlash(rel))
				continue
			}
			if ext := strings.ToLower(filepath.Ext(abs)); (ext == ".png" || ext == ".jpg" || ext == ".gif" || ext == ".svg") && fi.Size() > maxImageBytes {
				t.Errorf("%s: image %q is %d bytes, over %d", where, tg.target, fi.Size(), maxImageBytes)
			}
			file = filepath.ToSlash(rel)
		}
		if frag != "" {
			a, ok := anchors[file]
			if !ok && strings.HasSuffix(file, ".md") {
				_, a = prose(t, file)
				anchors[file] = a
			}
			if !a[frag] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", where, tg.target, file, frag)
				continue
			}
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d links checked: is the link parser broken?", checked)
	}
	t.Logf("%d documents, %d links resolved", len(docs), checked)
}

// TestReadmeStart checks the README's promise to a new user: at most
// maxReadmeLines lines, and before anything but its title, one code block
// of exactly two commands, each on its own line: run the bundled example,
// and run the tests with the very command .ci/run runs as "the README's
// test command".
func TestReadmeStart(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) > maxReadmeLines {
		t.Errorf("README.md has %d lines, more than %d: move detail to docs/", len(lines), maxReadmeLines)
	}
	i := 0
	for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(lines[i], "# ")) {
		i++
	}
	if i >= len(lines) || !strings.HasPrefix(lines[i], "```") {
		t.Fatalf("README.md: after the title, line %d is %q, not a code block of the two commands", i+1, lines[min(i, len(lines)-1)])
	}
	var cmds []string
	j := i + 1
	for ; j < len(lines) && !strings.HasPrefix(lines[j], "```"); j++ {
		cmds = append(cmds, lines[j])
	}
	testCmd := ciTestCommand(t)
	want := []string{"go run ./cmd/outsider triage examples/tenant.jsonl", testCmd}
	if !slices.Equal(cmds, want) {
		t.Errorf("README.md's first code block (lines %d-%d) is\n%s\nwant exactly\n%s", i+1, j+1, strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	// The example the first command names is there.
	if _, err := os.Stat(filepath.Join(root, "examples", "tenant.jsonl")); err != nil {
		t.Error(err)
	}
}

// ciTestCommand is the command .ci/run runs under its "# The README's
// test command:" comment.
func ciTestCommand(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "# The README's test command:" && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	t.Fatal(`.ci/run has no "# The README's test command:" line`)
	return ""
}
