package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// requireEnv names the environment variable that turns a missing server from
// a skip into a failure.
const requireEnv = "FUNCIFY_REQUIRE_SERVERS"

// RequireServers reports whether a missing server must fail the test rather
// than skip it: FUNCIFY_REQUIRE_SERVERS holds a true value as
// [strconv.ParseBool] reads it ("1", "t", "true", ...).
func RequireServers() bool {
	ok, _ := strconv.ParseBool(os.Getenv(requireEnv))
	return ok
}

// missing skips t, or fails it under [RequireServers], because what is not
// available; install is the command that makes it available.
func missing(t testing.TB, what, install string) {
	t.Helper()
	unavailable(t, fmt.Sprintf("testenv: %s; install it with:\n\t%s", what, install))
}

// unavailable skips t with msg, or fails it under [RequireServers].
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if RequireServers() {
		t.Fatalf("%s\n(%s is set, so this fails instead of skipping)", msg, requireEnv)
		return
	}
	t.Skipf("%s\n(set %s=1 to make this a failure)", msg, requireEnv)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process can take it before the caller binds it; callers that start
// a server on it should retry with a new port when the bind fails.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	return port
}

// BuildFunction builds the main package pkg as a Lambda function binary for
// Linux on the host's architecture, statically linked (CGO_ENABLED=0) with the
// lambda.norpc build tag, as the provided.al2023 runtime runs it. pkg is
// anything `go build` accepts: an import path, or a directory relative to the
// test's working directory (the package under test), such as
// "./testdata/echo". It returns the path of the binary, named bootstrap, in a
// directory of t.TempDir().
func BuildFunction(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// lookTool finds the executable name in PATH, then in the directory where
// `go install` puts binaries. It returns "" when name is in neither.
func lookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dir := goBin()
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// goBin returns the directory where `go install` puts binaries: $GOBIN, else
// the bin directory of the first GOPATH entry, both as `go env` reports them.
func goBin() string {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	// One line each; an unset GOBIN prints an empty line.
	lines := strings.Split(strings.TrimRight(string(out), "\r\n"), "\n")
	if len(lines) > 0 && lines[0] != "" {
		return lines[0]
	}
	if len(lines) < 2 || lines[1] == "" {
		return ""
	}
	return filepath.Join(filepath.SplitList(lines[1])[0], "bin")
}
