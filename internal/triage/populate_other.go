//go:build (darwin || freebsd) && !linux

package triage

// mapPopulate: no such flag here; pages fault in on first use.
const mapPopulate = 0

// hugePages: no transparent huge pages to ask for here.
func hugePages([]byte) {}
