// Package iostreams carries the standard streams into commands so that
// nothing under internal/ writes to os.Stdout or os.Stderr directly and
// tests can run every command in-process against buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are a command's input and outputs, with what is known about
// them (whether they are terminals, and how wide).
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	StdinTTY  bool
	StdoutTTY bool
	StderrTTY bool

	// Width is the terminal's width in columns when stdout is a terminal
	// that reports one, else 0. Read once at start: a report is written
	// in one go, so a resize while it runs changes nothing that matters.
	Width int
}

// FromFiles returns streams on open files, with their terminal facts
// read from the files themselves. cmd/outsider gives it the process's
// own streams (only cmd/ names os.Stdin, os.Stdout and os.Stderr); tests
// give it /dev/null or a pseudo-terminal.
func FromFiles(in, out, errOut *os.File) *IOStreams {
	s := &IOStreams{
		In:        in,
		Out:       out,
		ErrOut:    errOut,
		StdinTTY:  IsTerminal(in),
		StdoutTTY: IsTerminal(out),
		StderrTTY: IsTerminal(errOut),
	}
	if s.StdoutTTY {
		if w, _, err := term.GetSize(int(out.Fd())); err == nil && w > 0 {
			s.Width = w
		}
	}
	return s
}

// Test returns streams backed by buffers, not terminals.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// DefaultWidth is the width assumed when stdout is not a terminal or does
// not say: what help text and tables wrap to in a pipe or a file.
const DefaultWidth = 80

// TerminalWidth is the width to lay text out for: the terminal's, or
// DefaultWidth when there is no terminal to ask.
func (s *IOStreams) TerminalWidth() int {
	if s.Width > 0 {
		return s.Width
	}
	return DefaultWidth
}

// IsTerminal reports whether f is a terminal. It asks the terminal driver
// (golang.org/x/term): a character device is not enough, since /dev/null
// is one and is no terminal.
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}
