// Package docs holds no code: its tests check the repository's Markdown
// (README.md, docs/, bench/README.md, examples/README.md) so that a reader
// never follows a dead link, never leaves the repository through one, and
// finds the README's first commands where the README promises them.
package docs
