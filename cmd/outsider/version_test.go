package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

// TestFormatVersion covers where each line of `outsider --version` comes
// from: the release stamp, `go install …@version`'s module version, a git
// checkout's VCS settings, and nothing at all.
func TestFormatVersion(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}
	for _, tc := range []struct {
		name  string
		stamp stamp
		info  *debug.BuildInfo
		want  string
	}{
		{
			name:  "release stamp wins over build info",
			stamp: stamp{"1.2.0", "fedcba9876543210fedcba9876543210fedcba98", "2026-12-07T12:00:00Z"},
			info:  &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v9.9.9"}, Settings: vcs},
			want: "outsider 1.2.0\n" +
				"  commit:    fedcba9876543210fedcba9876543210fedcba98\n" +
				"  built:     2026-12-07T12:00:00Z\n" +
				"  go:        go1.26.8\n" +
				"  platform:  windows/arm64\n",
		},
		{
			name: "go install at a version: module version, nothing else known",
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			want: "outsider v1.2.0\n" +
				"  commit:    unknown\n" +
				"  built:     unknown\n" +
				"  go:        go1.26.8\n" +
				"  platform:  windows/arm64\n",
		},
		{
			name: "build in a checkout: revision and commit time",
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want: "outsider (devel)\n" +
				"  commit:    0123456789abcdef0123456789abcdef01234567\n" +
				"  committed: 2026-12-01T10:00:00Z\n" +
				"  go:        go1.26.8\n" +
				"  platform:  windows/arm64\n",
		},
		{
			name: "build in a checkout with local changes",
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
				{Key: "vcs.modified", Value: "true"},
			}},
			want: "outsider (devel)\n" +
				"  commit:    0123456789abcdef0123456789abcdef01234567 (modified)\n" +
				"  built:     unknown\n" +
				"  go:        go1.26.8\n" +
				"  platform:  windows/arm64\n",
		},
		{
			name: "no build info: the running toolchain's version",
			want: "outsider (devel)\n" +
				"  commit:    unknown\n" +
				"  built:     unknown\n" +
				"  go:        go1.99.0\n" +
				"  platform:  windows/arm64\n",
		},
		{
			name:  "a partial stamp keeps its fields and falls back for the rest",
			stamp: stamp{version: "1.2.0-SNAPSHOT-abc1234"},
			info:  &debug.BuildInfo{GoVersion: "go1.26.8", Settings: vcs},
			want: "outsider 1.2.0-SNAPSHOT-abc1234\n" +
				"  commit:    0123456789abcdef0123456789abcdef01234567\n" +
				"  committed: 2026-12-01T10:00:00Z\n" +
				"  go:        go1.26.8\n" +
				"  platform:  windows/arm64\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := formatVersion(tc.stamp, tc.info, "go1.99.0", "windows", "arm64")
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestVersionCommands checks that both spellings print versionInfo on
// stdout and exit 0, and that a stamp set by -X reaches the output (the
// test sets the variables as the linker would).
func TestVersionCommands(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "1.2.0", "fedcba9876543210fedcba9876543210fedcba98", "2026-12-07T12:00:00Z"
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		ios, _, out, errOut := iostreams.Test()
		if code := Main(args, ios); code != exitOK {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		got := out.String()
		if got != versionInfo() {
			t.Errorf("%v printed %q, want versionInfo() %q", args, got, versionInfo())
		}
		for _, want := range []string{
			"outsider 1.2.0\n",
			"commit:    fedcba9876543210fedcba9876543210fedcba98\n",
			"built:     2026-12-07T12:00:00Z\n",
			"platform:  " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, got)
			}
		}
		if errOut.Len() != 0 {
			t.Errorf("%v wrote to stderr: %q", args, errOut)
		}
	}
}
