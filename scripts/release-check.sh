#!/usr/bin/env bash
# Makes a snapshot release build of all six targets (windows, linux and
# darwin on amd64 and arm64) into a temporary folder and checks it: each
# binary's executable format, architecture and build settings (static,
# -trimpath, the version stamp), this machine's binary running --version
# and version, every archive's format and contents, and the SHA-256
# checksums file. Nothing is published and the folder is removed.
#
# With GoReleaser on PATH it runs `goreleaser check` and, in a checkout with
# a git remote (GoReleaser needs one to read the commit), `goreleaser
# release --snapshot --clean --skip=publish`. Otherwise (CI has only Go) the
# Go helper scripts/release-check builds the same targets with `go build`. The
# helper reads .goreleaser.yaml, the only place the targets, flags, ldflags
# and archive layout are written, and refuses any key of it that it cannot
# reproduce, so the two builds cannot drift apart; its tests check the file
# against the release's requirements and cmd/outsider's stamped variables.
#
# Usage: scripts/release-check.sh
#        RELEASE_CHECK_BUILDER=go|goreleaser scripts/release-check.sh   (force one)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/outsider-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

builder=${RELEASE_CHECK_BUILDER:-}
if command -v goreleaser >/dev/null 2>&1; then
  goreleaser --version | sed -n 's/^GitVersion: *//p'
  goreleaser check
  if [ -z "$builder" ]; then
    if [ -n "$(git remote)" ]; then
      builder=goreleaser
    else
      # GoReleaser drops all git facts, the commit too, when it cannot
      # read a remote's URL; a fresh clone has one.
      echo "note: no git remote, so GoReleaser could not stamp the commit: building with go build" >&2
      builder=go
    fi
  fi
fi
builder=${builder:-go}

go build -o "$work/release-check" ./scripts/release-check
case $builder in
goreleaser)
  # GoReleaser has no flag for its output folder: a copy of the file with
  # dist: added, so the repository's own dist/ is left alone.
  { cat .goreleaser.yaml; printf '\ndist: %s\n' "$work/dist"; } >"$work/goreleaser.yaml"
  goreleaser release --snapshot --clean --skip=publish --config "$work/goreleaser.yaml"
  ;;
go)
  "$work/release-check" build -dist "$work/dist"
  ;;
*)
  echo "release-check.sh: RELEASE_CHECK_BUILDER is go or goreleaser, not '$builder'" >&2
  exit 2
  ;;
esac
"$work/release-check" verify -dist "$work/dist"
echo "release check passed ($builder build, $((SECONDS - start)) s)"
