package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

// TestMain lets testscript run the outsider command in-process: scripts
// call "outsider ..." and get the real Main with real streams.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"outsider": func() { os.Exit(Main(os.Args[1:], iostreams.System())) },
	})
}

// TestScripts runs testdata/script/*.txtar: the CLI's behaviour as a spec
// (usage errors, exit codes, formats, bad input, stdin).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
