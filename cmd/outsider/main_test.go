package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the outsider command in-process: scripts
// call "outsider ..." and get the real Main with real streams.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"outsider": func() { os.Exit(Main(os.Args[1:], systemStreams())) },
	})
}

// TestScripts runs testdata/script/*.txtar: the CLI's behaviour as a spec
// (usage errors, exit codes, formats, bad input, stdin).
func TestScripts(t *testing.T) {
	mmdb, err := filepath.Abs(filepath.Join("..", "..", "internal", "enrich", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// MMDB is MaxMind's test databases, for --geoip scripts.
			env.Setenv("MMDB", mmdb)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"exits": exits},
	})
}

// exits runs a command and asserts its exact exit status ("! exec" only
// says it was not 0): exits N outsider ARGS...; stdout and stderr are
// kept for the lines that follow, as after exec.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: status %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
