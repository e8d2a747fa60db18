// Package testutil holds what the tests of several packages share: the one
// golden-file helper with its -update flag, the hand-written UAL record
// builders, small file writers and readers for fixtures (gzip included),
// fuzz seeds from fixture files, the look-alike values every renderer of
// attacker-controlled text is tested with, seeded random bytes from a
// chosen alphabet for the SIMD-versus-portable tests, and a few assertions.
//
// It is imported by _test.go files only; production code must not import
// it (it registers a test flag and its builders make fixed, not
// attacker-shaped, input). It imports nothing from this module, so the
// in-package tests of any package can use it without an import cycle.
package testutil
