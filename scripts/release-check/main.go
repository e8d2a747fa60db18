// Command release-check makes and checks outsider's release archives for
// scripts/release-check.sh.
//
//	release-check build  -dist DIR   # `go build` of every target in .goreleaser.yaml, archives, checksums
//	release-check verify -dist DIR   # check DIR, made by `build` or by GoReleaser
//
// Both read .goreleaser.yaml (-config), the one place the targets, flags,
// ldflags, archive layout and checksum algorithm are written: `build` is
// the fallback for machines with Go but no GoReleaser (such as CI), and
// refuses a key of that file it cannot reproduce, so the two builds cannot
// drift apart. `verify` also holds the release's promise (six targets,
// static, -trimpath, stamped, zip on Windows) independently of the file.
// Run from the repository root (the folder holding go.mod).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release-check:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] != "build" && args[0] != "verify" {
		return errors.New("usage: release-check build|verify -dist DIR [-config .goreleaser.yaml]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	config := fs.String("config", ".goreleaser.yaml", "GoReleaser configuration")
	dist := fs.String("dist", "", "output folder (build: must not exist or be empty)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dist == "" || fs.NArg() > 0 {
		return errors.New("usage: release-check build|verify -dist DIR [-config .goreleaser.yaml]")
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	p, err := loadConfig(*config)
	if err != nil {
		return err
	}
	if args[0] == "build" {
		return buildAll(p, root, *dist, os.Stderr)
	}
	return verify(p, root, *dist, os.Stdout)
}
