package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// archiveFiles lists, as slash paths relative to root, the files that
// archives[0].files puts beside the binary, sorted. An entry is a plain
// name: a file is itself, a folder every file under it, which is what
// GoReleaser's fileglob does for a name without pattern characters; a
// missing name is an error there too. Patterns are refused rather than
// approximated, since GoReleaser's glob dialect (gobwas/glob) differs from
// path.Match in ways that would change the archive's contents.
func (p *project) archiveFiles(root string) ([]string, error) {
	var out []string
	for _, name := range p.Archives[0].Files {
		if strings.ContainsAny(name, `*?[]{}\`) {
			return nil, fmt.Errorf("archives[0].files %q: a pattern; scripts/release-check takes plain file and folder names only", name)
		}
		clean := filepath.ToSlash(filepath.Clean(name))
		if filepath.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("archives[0].files %q: outside the repository", name)
		}
		full := filepath.Join(root, filepath.FromSlash(clean))
		info, err := os.Stat(full)
		if err != nil {
			return nil, fmt.Errorf("archives[0].files %q: %w", name, err)
		}
		if !info.IsDir() {
			out = append(out, clean)
			continue
		}
		err = filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file", path)
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("archives[0].files %q: %w", name, err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
