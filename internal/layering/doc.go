// Package layering holds no code: its test checks the module against the
// rules written in docs/architecture.md (which package may import which,
// what only cmd/ may do, what no package may be named, which packages the
// race detector must cover), reading the table from that page so that the
// page is the one copy of the rules and a wrong import fails CI.
package layering
