package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

// required is the release's promise (issue "First contact", item 5),
// checked against the output whatever .goreleaser.yaml says, so that
// dropping a platform or a flag from the file fails here.
var required = struct {
	targets []target
	format  func(goos string) string
}{
	targets: []target{
		{"windows", "amd64"}, {"windows", "arm64"},
		{"linux", "amd64"}, {"linux", "arm64"},
		{"darwin", "amd64"}, {"darwin", "arm64"},
	},
	format: func(goos string) string {
		if goos == "windows" {
			return "zip"
		}
		return "tar.gz"
	},
}

// requiredFiles must be in every archive beside the binary; docs/ must
// bring at least one file.
var requiredFiles = []string{"LICENSE", "README.md", "CHANGELOG.md", "SECURITY.md"}

// checker collects problems so one run reports all of them.
type checker struct {
	problems []string
	notes    []string
}

func (c *checker) bad(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// verify checks a release build in dist, GoReleaser's or buildAll's:
// every required target's binary is the right executable format and
// architecture, built with CGO_ENABLED=0, -trimpath and the version stamp;
// the one for this machine prints the stamped version and commit; every
// archive has the right format, the binary and the documents; the
// checksums file lists every archive with its SHA-256.
func verify(p *project, root, dist string, out io.Writer) error {
	c := &checker{}
	var meta metadata
	var arts []artifact
	if err := readJSON(filepath.Join(dist, "metadata.json"), &meta); err != nil {
		return err
	}
	if err := readJSON(filepath.Join(dist, "artifacts.json"), &arts); err != nil {
		return err
	}
	if meta.Version == "" {
		c.bad("metadata.json: no version")
	}
	if !regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`).MatchString(meta.Commit) {
		// GoReleaser says "none" when it could not read git (it gives up
		// on all of it in a checkout without a remote).
		c.bad("metadata.json: commit %q is not a git revision: the binaries would not say what they were built from", meta.Commit)
	}
	modPath, err := modulePath(root)
	if err != nil {
		return err
	}
	mainPkg := modPath + "/" + strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p.Builds[0].Main)), "./")
	extra, err := p.archiveFiles(root)
	if err != nil {
		return err
	}

	if got := p.targets(); !sameTargets(got, required.targets) {
		c.bad(".goreleaser.yaml builds %v, the release promises %v", got, required.targets)
	}
	for _, t := range required.targets {
		if got := p.format(t.goos); got != required.format(t.goos) {
			c.bad(".goreleaser.yaml archives %s as %s, want %s", t, got, required.format(t.goos))
		}
	}

	byType := map[string][]artifact{}
	for _, a := range arts {
		byType[a.Type] = append(byType[a.Type], a)
	}
	find := func(typ string, t target) (artifact, bool) {
		var found []artifact
		for _, a := range byType[typ] {
			if a.Goos == t.goos && a.Goarch == t.goarch {
				found = append(found, a)
			}
		}
		if len(found) != 1 {
			c.bad("%s: %d %s artifacts, want 1", t, len(found), strings.ToLower(typ))
			return artifact{}, false
		}
		return found[0], true
	}

	var hostBin string
	binSums := map[target]string{}
	for _, t := range required.targets {
		a, ok := find("Binary", t)
		if !ok {
			continue
		}
		if a.Name != p.binaryName(t.goos) {
			c.bad("%s: binary named %q, want %q", t, a.Name, p.binaryName(t.goos))
		}
		checkBinary(c, a.Path, t, mainPkg, meta)
		if sum, err := fileSHA256(a.Path); err == nil {
			binSums[t] = sum
		}
		if t.goos == runtime.GOOS && t.goarch == runtime.GOARCH {
			hostBin = a.Path
		}
	}

	if hostBin == "" {
		c.bad("no binary for this machine (%s/%s) to run", runtime.GOOS, runtime.GOARCH)
	} else {
		checkRuns(c, hostBin, meta)
	}

	d := templateData{ProjectName: p.ProjectName, Version: meta.Version, Commit: meta.Commit}
	archives := map[string]string{} // name → path
	for _, t := range required.targets {
		a, ok := find("Archive", t)
		if !ok {
			continue
		}
		want, err := p.archiveName(d, t)
		if err != nil {
			return err
		}
		if a.Name != want {
			c.bad("%s: archive named %q, want %q", t, a.Name, want)
		}
		archives[a.Name] = a.Path
		checkArchive(c, a.Path, required.format(t.goos), p.binaryName(t.goos), binSums[t], extra)
	}

	sums := byType["Checksum"]
	if len(sums) != 1 {
		c.bad("%d checksum files, want 1", len(sums))
	} else {
		want, err := render(p.Checksum.NameTemplate, d)
		if err != nil {
			return fmt.Errorf("checksum.name_template: %w", err)
		}
		if sums[0].Name != want {
			c.bad("checksums file named %q, want %q", sums[0].Name, want)
		}
		checkChecksums(c, sums[0].Path, archives)
	}

	fmt.Fprintf(out, "release %s (commit %s) in %s\n", meta.Version, meta.Commit, dist)
	for _, n := range c.notes {
		fmt.Fprintln(out, "  ok:", n)
	}
	for _, pr := range c.problems {
		fmt.Fprintln(out, "  PROBLEM:", pr)
	}
	if len(c.problems) > 0 {
		return fmt.Errorf("%w: %d", errProblems, len(c.problems))
	}
	return nil
}

func sameTargets(a, b []target) bool {
	key := func(ts []target) []string {
		var s []string
		for _, t := range ts {
			s = append(s, t.String())
		}
		slices.Sort(s)
		return s
	}
	return slices.Equal(key(a), key(b))
}

// modulePath reads the module line of root's go.mod.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod: no module line", root)
}

// checkBinary reads the executable's headers, the way `file` would, and
// the build settings the Go linker records in it (what `go version -m`
// prints), which are there for every GOOS/GOARCH.
func checkBinary(c *checker, path string, t target, mainPkg string, meta metadata) {
	format, err := executableFormat(path, t)
	if err != nil {
		c.bad("%s: %s: %v", t, path, err)
		return
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		c.bad("%s: %s: no Go build info: %v", t, path, err)
		return
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{
		"GOOS": t.goos, "GOARCH": t.goarch, "CGO_ENABLED": "0", "-trimpath": "true",
	} {
		if got := settings[key]; got != want {
			c.bad("%s: build setting %s=%q, want %q", t, key, got, want)
		}
	}
	if info.Path != mainPkg {
		c.bad("%s: main package %q, want %q", t, info.Path, mainPkg)
	}
	checkStamp(c, path, t, settings, meta)
	c.note("%s: %s, %s, CGO_ENABLED=0 -trimpath, stamped", t, format, info.GoVersion)
}

// checkStamp checks that the linker set main.version, main.commit and
// main.date. The build info cannot tell: with -trimpath Go leaves -ldflags
// out of it (it may hold paths). So the stamped strings are looked for in
// the binary: the version and the build date are nowhere else, and the
// commit is there once more than the build info's vcs.revision accounts
// for. (The host's binary is also run, which shows all three.)
func checkStamp(c *checker, path string, t target, settings map[string]string, meta metadata) {
	if ld, ok := settings["-ldflags"]; ok {
		// A build without -trimpath records them; then they must be right.
		for _, want := range []string{"-X main.version=" + meta.Version + " ", "-X main.commit=" + meta.Commit + " ", "-X main.date="} {
			if !strings.Contains(ld+" ", want) {
				c.bad("%s: -ldflags %q lacks %q", t, ld, strings.TrimSpace(want))
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.bad("%s: %v", t, err)
		return
	}
	date, err := stampDate(meta.Date)
	if err != nil {
		c.bad("%s: metadata.json date %q: %v", t, meta.Date, err)
	} else if !bytes.Contains(data, []byte(date)) {
		c.bad("%s: build date %s not stamped (no main.date)", t, date)
	}
	if !bytes.Contains(data, []byte(meta.Version)) {
		c.bad("%s: version %q not stamped (no main.version)", t, meta.Version)
	}
	want := 1
	if settings["vcs.revision"] == meta.Commit {
		want++
	}
	if n := bytes.Count(data, []byte(meta.Commit)); n < want {
		c.bad("%s: commit %s found %d times, want %d (no main.commit)", t, meta.Commit, n, want)
	}
}

// stampDate is the build date as the ldflags template wrote it
// (GoReleaser's {{.Date}}: RFC 3339 in UTC, whole seconds) from
// metadata.json's date (the same instant, maybe with fractions).
func stampDate(s string) (string, error) {
	d, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", err
	}
	return d.UTC().Format(time.RFC3339), nil
}

// executableFormat opens path as the executable format of t.goos and
// checks its architecture; a Linux binary must also be static (no
// program interpreter, no shared libraries), which CGO_ENABLED=0 gives.
// macOS and Windows binaries always use the system's libraries
// (libSystem, kernel32), so "static" there means no cgo, checked from the
// build settings.
func executableFormat(path string, t target) (string, error) {
	switch t.goos {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			return "", fmt.Errorf("not ELF: %w", err)
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[t.goarch]
		if f.Machine != want {
			return "", fmt.Errorf("ELF for %v, want %v", f.Machine, want)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				return "", fmt.Errorf("dynamically linked (has a program interpreter)")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			return "", fmt.Errorf("dynamically linked against %v", libs)
		}
		return fmt.Sprintf("ELF %v executable, statically linked", f.Machine), nil
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return "", fmt.Errorf("not Mach-O: %w", err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[t.goarch]
		if f.Cpu != want || f.Type != macho.TypeExec {
			return "", fmt.Errorf("Mach-O %v %v, want an executable for %v", f.Type, f.Cpu, want)
		}
		return fmt.Sprintf("Mach-O %v executable", f.Cpu), nil
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return "", fmt.Errorf("not PE: %w", err)
		}
		defer f.Close()
		want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[t.goarch]
		if f.Machine != want {
			return "", fmt.Errorf("PE for machine %#x, want %#x", f.Machine, want)
		}
		if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
			return "", fmt.Errorf("PE is not an executable image")
		}
		sub := uint16(0)
		switch oh := f.OptionalHeader.(type) {
		case *pe.OptionalHeader64:
			sub = oh.Subsystem
		case *pe.OptionalHeader32:
			sub = oh.Subsystem
		}
		if sub != pe.IMAGE_SUBSYSTEM_WINDOWS_CUI {
			return "", fmt.Errorf("PE subsystem %d, want a console program (%d)", sub, pe.IMAGE_SUBSYSTEM_WINDOWS_CUI)
		}
		return fmt.Sprintf("PE32+ console executable, machine %#x", f.Machine), nil
	}
	return "", fmt.Errorf("no check for GOOS %q", t.goos)
}

// checkRuns runs this machine's binary as `outsider --version` and
// `outsider version`: both must succeed and print the stamped version,
// commit and build date, and this platform.
func checkRuns(c *checker, bin string, meta metadata) {
	var first string
	for _, arg := range []string{"--version", "version"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, arg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		if err != nil {
			c.bad("%s %s: %v; stderr %q", bin, arg, err, stderr.String())
			continue
		}
		text := string(out)
		for _, want := range []string{
			"outsider " + meta.Version + "\n",
			"  commit:    " + meta.Commit + "\n",
			"  platform:  " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
		} {
			if !strings.Contains(text, want) {
				c.bad("%s %s printed %q: no %q", filepath.Base(bin), arg, text, want)
			}
		}
		if date, err := stampDate(meta.Date); err == nil && !strings.Contains(text, "  built:     "+date+"\n") {
			c.bad("%s %s printed %q: no build date %s", filepath.Base(bin), arg, text, date)
		}
		if first == "" {
			first = text
			c.note("%s/%s runs: `%s %s` prints %q", runtime.GOOS, runtime.GOARCH, filepath.Base(bin), arg, text)
		} else if text != first {
			c.bad("`%s` and `--version` differ: %q vs %q", arg, text, first)
		}
	}
}

// checkArchive opens an archive and checks its entries: the binary at the
// root (executable in a tar, identical to the built one), the required
// documents, at least one file under docs/, every file the config names,
// and nothing else.
func checkArchive(c *checker, path, format, binName, binSum string, extra []string) {
	name := filepath.Base(path)
	before := len(c.problems)
	if !strings.HasSuffix(name, "."+format) {
		c.bad("%s: want a .%s archive", name, format)
		return
	}
	entries, err := readArchive(path, format)
	if err != nil {
		c.bad("%s: %v", name, err)
		return
	}
	var names []string
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	bin, ok := entries[binName]
	switch {
	case !ok:
		c.bad("%s: no %s at its root (has %v)", name, binName, names)
	case binSum != "" && bin.sum != binSum:
		c.bad("%s: %s differs from the built binary", name, binName)
	case format == "tar.gz" && bin.mode&0o111 == 0:
		c.bad("%s: %s is not executable (mode %v)", name, binName, bin.mode)
	}
	want := append([]string{binName}, extra...)
	for _, f := range append(requiredFiles, want...) {
		if _, ok := entries[f]; !ok {
			c.bad("%s: no %s", name, f)
		}
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "docs/") }) {
		c.bad("%s: nothing under docs/", name)
	}
	for _, n := range names {
		if !slices.Contains(want, n) {
			c.bad("%s: unexpected entry %s", name, n)
		}
	}
	if len(c.problems) == before {
		c.note("%s: %s, %s, and %d documents", name, format, binName, len(names)-1)
	}
}

// archiveEntry is one regular file in an archive.
type archiveEntry struct {
	sum  string
	mode os.FileMode
}

// readArchive lists an archive's regular files with their SHA-256 and mode.
func readArchive(path, format string) (map[string]archiveEntry, error) {
	out := map[string]archiveEntry{}
	add := func(name string, mode os.FileMode, r io.Reader) error {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("%s twice", name)
		}
		out[name] = archiveEntry{hex.EncodeToString(h.Sum(nil)), mode}
		return nil
	}
	switch format {
	case "zip":
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			r, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			err = add(f.Name, f.Mode(), r)
			r.Close()
			if err != nil {
				return nil, err
			}
		}
	case "tar.gz":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if h.Typeflag == tar.TypeDir {
				continue
			}
			if h.Typeflag != tar.TypeReg {
				return nil, fmt.Errorf("%s: not a regular file (type %q)", h.Name, h.Typeflag)
			}
			if err := add(h.Name, h.FileInfo().Mode(), tr); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("archive format %q", format)
	}
	return out, nil
}

// checkChecksums reads a checksums file ("<sha256>  <name>" a line, as
// sha256sum writes it) and checks that it lists every archive once with
// its digest, and nothing it cannot vouch for.
func checkChecksums(c *checker, path string, archives map[string]string) {
	name := filepath.Base(path)
	before := len(c.problems)
	f, err := os.Open(path)
	if err != nil {
		c.bad("checksums: %v", err)
		return
	}
	defer f.Close()
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S.*)$`)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			c.bad("%s:%d: not \"<sha256>  <name>\": %q", name, n, sc.Text())
			continue
		}
		file := m[2]
		if seen[file] {
			c.bad("%s:%d: %s listed twice", name, n, file)
		}
		seen[file] = true
		p, ok := archives[file]
		if !ok {
			c.bad("%s:%d: %s is not an archive of this release", name, n, file)
			continue
		}
		sum, err := fileSHA256(p)
		if err != nil {
			c.bad("%s:%d: %v", name, n, err)
		} else if sum != m[1] {
			c.bad("%s:%d: %s has SHA-256 %s, the file says %s", name, n, file, sum, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		c.bad("%s: %v", name, err)
	}
	for a := range archives {
		if !seen[a] {
			c.bad("%s: %s is not listed", name, a)
		}
	}
	if len(c.problems) == before {
		c.note("%s: SHA-256 of %d archives, all match", name, len(seen))
	}
}
