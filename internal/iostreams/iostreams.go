// Package iostreams carries the standard streams into commands so that
// nothing under internal/ writes to os.Stdout or os.Stderr directly and
// tests can run every command in-process against buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"
)

// IOStreams are a command's input and outputs, with what is known about
// them (whether they are terminals).
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	StdoutTTY bool
	StderrTTY bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdoutTTY: isTerminal(os.Stdout),
		StderrTTY: isTerminal(os.Stderr),
	}
}

// Test returns streams backed by buffers, not terminals.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// isTerminal reports whether f is a character device: good enough to
// decide on colour and progress without a terminal library.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}
