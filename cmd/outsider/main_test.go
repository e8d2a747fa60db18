package main

import (
	"bytes"
	"encoding/json"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"exits": exits, "cmpruns": cmpRuns},
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

// cmpruns compares two JSON reports of runs whose command lines differ on
// purpose (--workers 1 against the default): everything, provenance
// included, must be equal but provenance.command, which must name each
// run's own command (cmpruns A B).
func cmpRuns(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpruns A.json B.json")
	}
	var docs [2]map[string]any
	var cmds [2]any
	for i, name := range args {
		if err := json.Unmarshal([]byte(ts.ReadFile(name)), &docs[i]); err != nil {
			ts.Fatalf("%s: %v", name, err)
		}
		prov, ok := docs[i]["provenance"].(map[string]any)
		if !ok || prov["command"] == nil {
			ts.Fatalf("%s: no provenance.command", name)
		}
		cmds[i] = prov["command"]
		delete(prov, "command")
	}
	a, _ := json.Marshal(docs[0])
	b, _ := json.Marshal(docs[1])
	if !bytes.Equal(a, b) {
		ts.Fatalf("%s and %s differ beyond their command lines", args[0], args[1])
	}
	if ca, cb := cmds[0].([]any), cmds[1].([]any); len(ca) == len(cb) {
		ts.Fatalf("%s and %s: the command lines should differ (%v)", args[0], args[1], ca)
	}
}
