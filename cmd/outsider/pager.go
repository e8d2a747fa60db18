package main

import (
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

// This file is the text report's way to a person at a terminal: laid out
// for the terminal's width and paged as git and gh page, so that the
// screen does not end on the least important identity.

// textWidth is the width to lay text out for: $COLUMNS when it is a
// number (a user's say, or a shell that exports it), else the terminal's
// width when stdout is one, else 0 (the report's fixed width for pipes
// and files).
func textWidth(ios *iostreams.IOStreams, getenv func(string) string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if ios.StdoutTTY {
		return ios.Width
	}
	return 0
}

// pagerCommand is the pager to use: $OUTSIDER_PAGER, else $PAGER, else
// less -FRX (quit when it fits one screen, pass colour, leave the text on
// the screen); "cat" means none. The command is split at white space,
// without a shell: nothing in the environment is run as shell text.
func pagerCommand(getenv func(string) string) []string {
	cmd := "less -FRX"
	for _, name := range []string{"OUTSIDER_PAGER", "PAGER"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			cmd = v
			break
		}
	}
	args := strings.Fields(cmd)
	if args[0] == "cat" {
		return nil
	}
	return args
}

// pager is a running pager: what is written goes to its input.
type pager struct {
	io.WriteCloser
	cmd *exec.Cmd
}

// startPager starts the pager on the command's stdout, or returns nil when
// there is none or it cannot start (then the text goes to stdout as is:
// a missing less on Windows is no error).
func startPager(ios *iostreams.IOStreams, args []string) *pager {
	if len(args) == 0 {
		return nil
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return nil
	}
	cmd := exec.Command(path, args[1:]...)
	cmd.Stdout, cmd.Stderr = ios.Out, ios.ErrOut
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil
	}
	if err := cmd.Start(); err != nil {
		return nil
	}
	return &pager{WriteCloser: in, cmd: cmd}
}

// close ends the input and waits for the person to leave the pager. A
// pager quit before the end (q in less) breaks the pipe: that is the
// person's choice, not an error.
func (p *pager) close(err error) error {
	cerr := p.WriteCloser.Close()
	werr := p.cmd.Wait()
	for _, e := range []error{err, cerr} {
		if e != nil && !errors.Is(e, syscall.EPIPE) && !errors.Is(e, io.ErrClosedPipe) {
			return e
		}
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return werr
	}
	return nil
}
