package main

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the files that cmp compares against in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"octrun": main,
	})
}

// TestScripts runs the CLI scripts of testdata/script: exit codes, standard
// output and standard error of real octrun processes. $EXAMPLES is the
// examples folder. -update rewrites the expected files the scripts compare
// with.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
	})
}
