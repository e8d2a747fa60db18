package main

import (
	"os"
	"path/filepath"
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
	})
}
