package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// artifact is one entry of dist/artifacts.json, in GoReleaser's own
// field names, so verify reads GoReleaser's output and the fallback's alike.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos,omitempty"`
	Goarch string `json:"goarch,omitempty"`
	Type   string `json:"type"`
}

// metadata is the part of dist/metadata.json that verify needs.
type metadata struct {
	ProjectName string `json:"project_name"`
	Tag         string `json:"tag"`
	Version     string `json:"version"`
	Commit      string `json:"commit"`
	Date        string `json:"date"`
}

// snapshotData computes the template fields GoReleaser has in a snapshot:
// the last tag (v0.0.0 when there is none) without its "v", the HEAD
// commit, and the build time in UTC; Version then becomes
// snapshot.version_template.
func (p *project) snapshotData(root string) (templateData, string, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		return templateData{}, "", fmt.Errorf("git rev-parse HEAD: %w (the release build needs a git checkout)", err)
	}
	short, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		return templateData{}, "", fmt.Errorf("git rev-parse --short HEAD: %w", err)
	}
	tag, err := git("describe", "--tags", "--abbrev=0")
	if err != nil || tag == "" {
		tag = "v0.0.0"
	}
	d := templateData{
		ProjectName: p.ProjectName,
		Version:     strings.TrimPrefix(tag, "v"),
		Commit:      commit,
		ShortCommit: short,
		Date:        time.Now().UTC().Format(time.RFC3339),
	}
	v, err := render(p.Snapshot.VersionTemplate, d)
	if err != nil {
		return templateData{}, "", fmt.Errorf("snapshot.version_template: %w", err)
	}
	d.Version = v
	return d, tag, nil
}

// buildAll is the fallback for machines without GoReleaser: `go build` of
// every target with the file's env, flags and ldflags, the archives, the
// checksums file, and artifacts.json and metadata.json as GoReleaser
// writes them, into dist (which must not exist or be empty).
func buildAll(p *project, root, dist string, log io.Writer) error {
	if entries, err := os.ReadDir(dist); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dist)
	}
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	d, tag, err := p.snapshotData(root)
	if err != nil {
		return err
	}
	extra, err := p.archiveFiles(root)
	if err != nil {
		return err
	}
	// One go build per CPU at once, as GoReleaser's --parallelism
	// defaults to: a single build leaves a core idle for long stretches
	// (modernc.org/sqlite's one huge file per target).
	targets := p.targets()
	results := make([][]artifact, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = p.buildTarget(d, t, root, dist, extra, log)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var arts []artifact
	for _, r := range results {
		arts = append(arts, r...)
	}

	sumName, err := render(p.Checksum.NameTemplate, d)
	if err != nil {
		return fmt.Errorf("checksum.name_template: %w", err)
	}
	var lines []string
	for _, a := range arts {
		if a.Type != "Archive" {
			continue
		}
		sum, err := fileSHA256(a.Path)
		if err != nil {
			return err
		}
		lines = append(lines, sum+"  "+a.Name+"\n")
	}
	slices.Sort(lines)
	sumPath := filepath.Join(dist, sumName)
	if err := os.WriteFile(sumPath, []byte(strings.Join(lines, "")), 0o644); err != nil {
		return err
	}
	arts = append(arts, artifact{Name: sumName, Path: sumPath, Type: "Checksum"})

	if err := writeJSON(filepath.Join(dist, "artifacts.json"), arts); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dist, "metadata.json"), metadata{
		ProjectName: p.ProjectName, Tag: tag, Version: d.Version, Commit: d.Commit, Date: d.Date,
	})
}

// buildTarget builds one target's binary and archive; it returns their
// artifacts.
func (p *project) buildTarget(d templateData, t target, root, dist string, extra []string, log io.Writer) ([]artifact, error) {
	b := p.Builds[0]
	td := d
	td.Os, td.Arch = t.goos, t.goarch
	ld, err := p.ldflags(td)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dist, b.ID+"_"+t.goos+"_"+t.goarch)
	bin := filepath.Join(dir, p.binaryName(t.goos))
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-ldflags="+ld, "-o", bin, b.Main)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	// GoReleaser's defaults for the CPU levels, set so a GOAMD64 or
	// GOARM64 in the caller's environment cannot change the binaries.
	cmd.Env = append(os.Environ(), b.Env...)
	cmd.Env = append(cmd.Env, "GOOS="+t.goos, "GOARCH="+t.goarch, "GOAMD64=v1", "GOARM64=v8.0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s for %s: %w\n%s", strings.Join(args, " "), t, err, out)
	}
	name, err := p.archiveName(d, t)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dist, name)
	if err := writeArchive(path, p.format(t.goos), bin, p.binaryName(t.goos), root, extra); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(log, "built and archived %s in %.1f s\n", t, time.Since(start).Seconds())
	return []artifact{
		{Name: p.binaryName(t.goos), Path: bin, Goos: t.goos, Goarch: t.goarch, Type: "Binary"},
		{Name: name, Path: path, Goos: t.goos, Goarch: t.goarch, Type: "Archive"},
	}, nil
}

// writeArchive writes a tar.gz or zip holding the binary at its root (mode
// 0755) and the extra files under their repository paths (0644), as
// GoReleaser lays them out.
func writeArchive(path, format, bin, binName, root string, extra []string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	type entry struct {
		src, name string
		mode      os.FileMode
	}
	entries := []entry{{bin, binName, 0o755}}
	for _, e := range extra {
		entries = append(entries, entry{filepath.Join(root, filepath.FromSlash(e)), e, 0o644})
	}
	switch format {
	case "zip":
		zw := zip.NewWriter(f)
		for _, e := range entries {
			info, err := os.Stat(e.src)
			if err != nil {
				return err
			}
			h, err := zip.FileInfoHeader(info)
			if err != nil {
				return err
			}
			h.Name, h.Method = e.name, zip.Deflate
			h.SetMode(e.mode)
			w, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if err := copyFile(w, e.src); err != nil {
				return err
			}
		}
		return zw.Close()
	case "tar.gz":
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		for _, e := range entries {
			info, err := os.Stat(e.src)
			if err != nil {
				return err
			}
			h, err := tar.FileInfoHeader(info, "")
			if err != nil {
				return err
			}
			h.Name, h.Mode = e.name, int64(e.mode)
			h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if err := copyFile(tw, e.src); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return gz.Close()
	}
	return fmt.Errorf("archive format %q", format)
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// errProblems says verify found problems; they have been printed.
var errProblems = errors.New("the release build has problems")
