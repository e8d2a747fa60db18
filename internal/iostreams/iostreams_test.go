package iostreams

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/creack/pty"
)

// TestDevNullIsNoTerminal: /dev/null is a character device, which the
// old check took for a terminal (colour and progress lines into a
// discarded stream, a confirmation line for nobody).
func TestDevNullIsNoTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Skip(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Fatalf("%s taken for a terminal", os.DevNull)
	}
	s := FromFiles(null, null, null)
	if s.StdinTTY || s.StdoutTTY || s.StderrTTY || s.Width != 0 {
		t.Errorf("FromFiles(/dev/null): %+v", s)
	}
	if s.TerminalWidth() != DefaultWidth {
		t.Errorf("TerminalWidth %d, want %d", s.TerminalWidth(), DefaultWidth)
	}
}

// TestFilesAndPipesAreNoTerminals: what a redirect or a pipe gives.
func TestFilesAndPipesAreNoTerminals(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	s := FromFiles(r, w, f)
	if s.StdinTTY || s.StdoutTTY || s.StderrTTY {
		t.Errorf("FromFiles(pipe, pipe, file): %+v", s)
	}
	if IsTerminal(nil) {
		t.Error("IsTerminal(nil)")
	}
}

// TestPseudoTerminal: a real terminal is one, and its width is read.
func TestPseudoTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 93}); err != nil {
		t.Fatal(err)
	}
	s := FromFiles(tty, tty, tty)
	if !s.StdinTTY || !s.StdoutTTY || !s.StderrTTY {
		t.Errorf("FromFiles(pty): %+v", s)
	}
	if s.Width != 93 || s.TerminalWidth() != 93 {
		t.Errorf("width %d (TerminalWidth %d), want 93", s.Width, s.TerminalWidth())
	}
}

// TestBuffers: Test's streams are no terminals and lay out at the default
// width.
func TestBuffers(t *testing.T) {
	s, _, _, _ := Test()
	if s.StdoutTTY || s.StderrTTY || s.TerminalWidth() != DefaultWidth {
		t.Errorf("Test(): %+v", s)
	}
}
