package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// The release build stamps these with the linker
// (-X main.version=… -X main.commit=… -X main.date=…, see .goreleaser.yaml).
// They are variables, not constants, because -X can only set a string
// variable; empty means "not a release build", and versionInfo falls back
// to what the Go toolchain recorded in the binary.
var (
	// version is the release's version, such as "1.2.0"
	// (GoReleaser's {{.Version}}: the tag without its "v").
	version string
	// commit is the full git revision the release was built from.
	commit string
	// date is when the release was built, RFC 3339 in UTC.
	date string
)

// versionInfo is what `outsider --version` and `outsider version` print:
// the version on the first line, then the commit, the build date, the Go
// version and the platform, one a line, ending in a newline. An analyst
// pastes it into a bug report, so every line says where its value came from
// when it is not a release stamp.
func versionInfo() string {
	info, _ := debug.ReadBuildInfo() // nil when the binary has none
	return formatVersion(stamp{version, commit, date}, info, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion is the version and commit versionInfo prints, for a
// report's provenance.
func buildVersion() (v, c string) {
	info, _ := debug.ReadBuildInfo()
	return versionCommit(stamp{version, commit, date}, info, buildSettings(info))
}

// buildSettings are the build info's settings by key (none without info).
func buildSettings(info *debug.BuildInfo) map[string]string {
	settings := map[string]string{}
	if info != nil {
		for _, kv := range info.Settings {
			settings[kv.Key] = kv.Value
		}
	}
	return settings
}

// versionCommit picks the version and the commit: the stamp's, else the
// build info's (see formatVersion).
func versionCommit(s stamp, info *debug.BuildInfo, settings map[string]string) (v, c string) {
	v = strings.TrimSpace(s.version)
	if v == "" && info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}

	c = strings.TrimSpace(s.commit)
	if c == "" {
		c = settings["vcs.revision"]
		if c != "" && settings["vcs.modified"] == "true" {
			c += " (modified)"
		}
	}
	if c == "" {
		c = "unknown"
	}

	return v, c
}

// stamp holds the linker-set values, apart so tests can vary them.
type stamp struct{ version, commit, date string }

// formatVersion builds versionInfo's text from the stamp, the binary's
// build info (nil when there is none) and the running platform. A stamped
// value wins; otherwise `go install …@v1.2.0` leaves the module version in
// the build info, and a build inside a git checkout leaves vcs.revision,
// vcs.time and vcs.modified (unless -buildvcs=false). vcs.time is the
// commit's time, not the build's, so it is labelled as such.
func formatVersion(s stamp, info *debug.BuildInfo, goVersion, goos, goarch string) string {
	settings := buildSettings(info)
	if info != nil {
		if info.GoVersion != "" {
			// The toolchain that built the binary; runtime.Version says
			// the same for a normal build, but build info is the record.
			goVersion = info.GoVersion
		}
	}

	v, c := versionCommit(s, info, settings)

	dateLabel, d := "built", strings.TrimSpace(s.date)
	if d == "" {
		if t := settings["vcs.time"]; t != "" {
			dateLabel, d = "committed", t
		} else {
			d = "unknown"
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "outsider %s\n", v)
	fmt.Fprintf(&b, "  commit:    %s\n", c)
	fmt.Fprintf(&b, "  %-10s %s\n", dateLabel+":", d)
	fmt.Fprintf(&b, "  go:        %s\n", goVersion)
	fmt.Fprintf(&b, "  platform:  %s/%s\n", goos, goarch)
	return b.String()
}
