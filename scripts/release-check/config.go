package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// project is the part of .goreleaser.yaml that decides what is built and
// archived. Decoding is strict (unknown keys are errors), so a key added to
// the file that would change the binaries or archives, such as a build tag,
// a hook or UPX, stops the fallback build until this program learns it:
// the plain `go build` path cannot quietly drift from GoReleaser's.
type project struct {
	Version     int       `yaml:"version"`
	ProjectName string    `yaml:"project_name"`
	Builds      []build   `yaml:"builds"`
	Archives    []archive `yaml:"archives"`
	Checksum    checksum  `yaml:"checksum"`
	Snapshot    snapshot  `yaml:"snapshot"`

	// Publishing only: they change no file in dist.
	Changelog yaml.Node `yaml:"changelog"`
	Release   yaml.Node `yaml:"release"`
}

// build is one entry of builds: (GoReleaser's Build, Go builder).
type build struct {
	ID      string   `yaml:"id"`
	Main    string   `yaml:"main"`
	Binary  string   `yaml:"binary"`
	Env     []string `yaml:"env"`
	Goos    []string `yaml:"goos"`
	Goarch  []string `yaml:"goarch"`
	Flags   []string `yaml:"flags"`
	Ldflags []string `yaml:"ldflags"`
}

// archive is one entry of archives:.
type archive struct {
	ID              string           `yaml:"id"`
	IDs             []string         `yaml:"ids"`
	Formats         []string         `yaml:"formats"`
	FormatOverrides []formatOverride `yaml:"format_overrides"`
	NameTemplate    string           `yaml:"name_template"`
	Files           []string         `yaml:"files"`
}

// formatOverride gives one GOOS other archive formats.
type formatOverride struct {
	Goos    string   `yaml:"goos"`
	Formats []string `yaml:"formats"`
}

// checksum is the checksum: section.
type checksum struct {
	NameTemplate string `yaml:"name_template"`
	Algorithm    string `yaml:"algorithm"`
}

// snapshot is the snapshot: section.
type snapshot struct {
	VersionTemplate string `yaml:"version_template"`
}

// target is one GOOS/GOARCH pair.
type target struct{ goos, goarch string }

func (t target) String() string { return t.goos + "/" + t.goarch }

// templateData holds the GoReleaser template fields this file uses
// (https://goreleaser.com/customization/templates/). A field not here makes
// the template fail to execute, which is the point: no silent empty string.
type templateData struct {
	ProjectName string
	Version     string
	Commit      string
	ShortCommit string
	Date        string
	Os          string
	Arch        string
}

// loadConfig reads and checks .goreleaser.yaml. It accepts only the shape
// the fallback build can reproduce exactly: one build, one archive, tar.gz
// or zip, SHA-256.
func loadConfig(path string) (*project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p project
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w (scripts/release-check reads only the keys it can reproduce without GoReleaser: teach it the new key)", path, err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

func (p *project) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Version != 2 {
		bad("version is %d, want 2 (GoReleaser v2's schema)", p.Version)
	}
	if p.ProjectName == "" {
		bad("project_name is missing")
	}
	if len(p.Builds) != 1 {
		bad("%d builds, want 1", len(p.Builds))
	} else {
		b := p.Builds[0]
		if b.ID == "" || b.Main == "" || b.Binary == "" {
			bad("builds[0] needs id, main and binary")
		}
		if len(b.Goos) == 0 || len(b.Goarch) == 0 {
			bad("builds[0] needs goos and goarch")
		}
		for _, e := range b.Env {
			if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
				bad("builds[0].env %q is not KEY=VALUE", e)
			}
		}
	}
	if len(p.Archives) != 1 {
		bad("%d archives, want 1", len(p.Archives))
	} else {
		a := p.Archives[0]
		if len(p.Builds) == 1 && !(len(a.IDs) == 0 || len(a.IDs) == 1 && a.IDs[0] == p.Builds[0].ID) {
			bad("archives[0].ids %q, want the one build's id", a.IDs)
		}
		if a.NameTemplate == "" {
			bad("archives[0].name_template is missing")
		}
		formats := [][]string{a.Formats}
		for _, o := range a.FormatOverrides {
			formats = append(formats, o.Formats)
		}
		for _, f := range formats {
			if len(f) != 1 || f[0] != "tar.gz" && f[0] != "zip" {
				bad("archive formats %q: want one of tar.gz or zip", f)
			}
		}
	}
	if p.Checksum.Algorithm != "sha256" {
		bad("checksum.algorithm %q, want sha256", p.Checksum.Algorithm)
	}
	if p.Checksum.NameTemplate == "" {
		bad("checksum.name_template is missing")
	}
	if p.Snapshot.VersionTemplate == "" {
		bad("snapshot.version_template is missing")
	}
	return errors.Join(errs...)
}

// targets lists the build's GOOS/GOARCH pairs in the file's order.
func (p *project) targets() []target {
	var ts []target
	for _, goos := range p.Builds[0].Goos {
		for _, goarch := range p.Builds[0].Goarch {
			ts = append(ts, target{goos, goarch})
		}
	}
	return ts
}

// format is the archive format for goos.
func (p *project) format(goos string) string {
	a := p.Archives[0]
	for _, o := range a.FormatOverrides {
		if o.Goos == goos {
			return o.Formats[0]
		}
	}
	return a.Formats[0]
}

// binaryName is the build's file name on goos.
func (p *project) binaryName(goos string) string {
	if goos == "windows" {
		return p.Builds[0].Binary + ".exe"
	}
	return p.Builds[0].Binary
}

// render executes one GoReleaser template with text/template, which is
// what GoReleaser uses; its extra functions are not available here.
func render(text string, d templateData) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ldflags is the one -ldflags value GoReleaser passes: the entries
// rendered and joined by spaces.
func (p *project) ldflags(d templateData) (string, error) {
	var parts []string
	for _, l := range p.Builds[0].Ldflags {
		s, err := render(l, d)
		if err != nil {
			return "", fmt.Errorf("ldflags %q: %w", l, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " "), nil
}

// archiveName is the archive's file name for t, with its extension.
func (p *project) archiveName(d templateData, t target) (string, error) {
	d.Os, d.Arch = t.goos, t.goarch
	name, err := render(p.Archives[0].NameTemplate, d)
	if err != nil {
		return "", fmt.Errorf("archives[0].name_template: %w", err)
	}
	return name + "." + p.format(t.goos), nil
}
