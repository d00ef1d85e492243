package app_test

import (
	"os/exec"
	"testing"
)

// TestLambdaOnlyTestsBuild (found in review, issue 14): the README
// tells users to build the bootstrap they deploy with -tags
// lambda.norpc,funcify.lambdaonly, but app's own tests do not compile with
// that tag: local_test.go, settings_local_test.go, serve_test.go and
// testhelpers_test.go use localHandler, eventFromRequest and App.serve,
// which local.go (//go:build !funcify.lambdaonly) holds. So the app package
// cannot be tested as it is shipped (go test -tags ... ./app fails to
// build), and nothing but TestRuntimeLoop/LambdaOnly's one invocation checks
// the tagged build.
//
// Right: the tests that need the local server carry the same build
// constraint as local.go (or sit in files that do), so that the package's
// tests build, and those that do not need it run, under the tag.
func TestLambdaOnlyTestsBuild(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	out, err := exec.Command("go", "vet", "-tags", "lambda.norpc,funcify.lambdaonly", ".").CombinedOutput()
	if err != nil {
		t.Errorf("go vet -tags lambda.norpc,funcify.lambdaonly ./app: %v, want the package and its tests to build:\n%s", err, out)
	}
}
