package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun builds the hello function and measures it once, so the tool keeps
// working as its dependencies change.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, t.TempDir(), []string{"./hello"}, "lambda.norpc", 1, 0, 128); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "./hello") || !strings.Contains(out.String(), "1.00x") {
		t.Errorf("report does not list ./hello with ratio 1.00x:\n%s", out.String())
	}
	t.Log("\n" + out.String())
}

// TestMeasureExitedEarly checks that a binary that exits before it asks for
// an invocation is an error that carries its output.
func TestMeasureExitedEarly(t *testing.T) {
	api, err := startRuntimeAPI(128)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	_, err = api.measure("/bin/false", runTimeout)
	if err == nil || !strings.Contains(err.Error(), "exited before") {
		t.Errorf("measure(/bin/false) = %v, want an error saying it exited before asking", err)
	}
}
