//go:build (darwin || freebsd) && !linux

package triage

// mapPopulate: no such flag here; pages fault in on first use.
const mapPopulate = 0
