// Command outsider triages Microsoft 365 / Entra ID sign-ins by accounts
// from outside the organisation: who they were, whether there was a
// breach, and what they accessed. See the README for usage.
package main

import (
	"os"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

func main() {
	os.Exit(Main(os.Args[1:], systemStreams()))
}

// systemStreams are the process's own streams: the one place that names
// os.Stdin, os.Stdout and os.Stderr, so that nothing under internal/ does
// (docs/architecture.md).
func systemStreams() *iostreams.IOStreams {
	return iostreams.FromFiles(os.Stdin, os.Stdout, os.Stderr)
}
