package main

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/octrun/octrun/internal/servicetest"
)

var update = flag.Bool("update", false, "rewrite the files that cmp compares against in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(stopServices{m}, map[string]func(){
		"octrun": main,
	})
}

// stopServices runs the tests, then stops the services they started (the
// Temporal dev server): testscript.Main exits when the tests end.
type stopServices struct{ m *testing.M }

func (s stopServices) Run() int {
	defer servicetest.Stop()
	return s.m.Run()
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
