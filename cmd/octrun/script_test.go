package main

import (
	"flag"
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
// output and standard error of real octrun processes. -update rewrites the
// expected files the scripts compare with.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script", UpdateScripts: *update})
}
