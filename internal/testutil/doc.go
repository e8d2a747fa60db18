// Package testutil holds what the tests of several packages share: the one
// golden-file helper with its -update flag, the hand-written UAL record
// builders and small file writers for fixtures.
//
// It is imported by _test.go files only; production code must not import
// it (it registers a test flag and its builders make fixed, not
// attacker-shaped, input). It imports nothing from this module, so the
// in-package tests of any package can use it without an import cycle.
package testutil
