package testenv

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRIEEmulatorUnderVar (found in review, issue 14): in Managed
// Instances mode RIE opens the function's binary before the tmpfs hides
// /var, but not the emulator itself: the script ends with exec "$0", and
// $0 is the aws-lambda-rie that lookTool found. Where that is under /var
// it is hidden by then, exec fails ("not found"), and the test fails with
// "aws-lambda-rie exited before it accepted connections". RIEInstall puts
// the emulator in $GOPATH/bin, which is under /var wherever the user's home
// is (Jenkins' /var/lib/jenkins, Buildkite's /var/lib/buildkite-agent).
//
// The test puts a copy of the emulator under /var/tmp first in PATH.
// Right: the emulator is reachable wherever it is (opened before the mount
// as the binary is, or copied to the tmpfs from that descriptor), and the
// function serves invocations.
func TestRIEEmulatorUnderVar(t *testing.T) {
	needNamespaces(t)
	if fi, err := os.Stat("/var/tmp"); err != nil || !fi.IsDir() {
		t.Skip("needs /var/tmp")
	}
	bin := BuildFunction(t, "./testdata/echo")
	dir, err := os.MkdirTemp("/var/tmp", "review-rie-")
	if err != nil {
		t.Skipf("cannot write under /var/tmp: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	copyExecutable(t, lookTool("aws-lambda-rie"), filepath.Join(dir, "aws-lambda-rie"))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if got := lookTool("aws-lambda-rie"); got != filepath.Join(dir, "aws-lambda-rie") {
		t.Fatalf("lookTool found %s, want the copy under %s", got, dir)
	}

	r := &exitRecorder{TB: t}
	var url string
	r.run(func(tb testing.TB) { url = RIE(tb, bin, "AWS_LAMBDA_MAX_CONCURRENCY=2") })
	if r.failed != "" || r.skipped != "" {
		t.Fatalf("RIE with the emulator under /var: want the function served, got:\n%s%s", r.failed, r.skipped)
	}
	if got := invoke(t, url, `{"n":3}`); got != `{"n":3}` {
		t.Errorf("invoke = %s, want {\"n\":3}", got)
	}
}

// TestRIEMountRefused (found in review, issue 14): the probe of
// Managed Instances mode runs `unshare --mount --propagation private true`,
// which checks that a mount namespace can be made, not that a mount can be
// made in it. Docker with --cap-add SYS_ADMIN and its default AppArmor
// profile (which says `deny mount`) allows the first and refuses the
// second: the probe passes, the script's `mount -t tmpfs tmpfs /var` fails,
// the emulator never starts, and RIE fails the test instead of skipping it
// (FUNCIFY_REQUIRE_SERVERS unset).
//
// The test puts in PATH a mount that is refused as AppArmor refuses it, and
// an unshare that runs the real one (so that the probe is not the one this
// process already cached). Right: the probe tries what the script does (a
// tmpfs mounted in the private namespace) and RIE skips, saying why.
func TestRIEMountRefused(t *testing.T) {
	needNamespaces(t)
	t.Setenv(requireEnv, "")
	bin := BuildFunction(t, "./testdata/echo")
	unshare, _ := exec.LookPath("unshare")
	dir := t.TempDir()
	scripts := map[string]string{
		"unshare": "#!/bin/sh\nexec " + unshare + ` "$@"` + "\n",
		"mount":   "#!/bin/sh\necho 'mount: /var: permission denied.' >&2\nexit 32\n",
	}
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))

	r := &exitRecorder{TB: t}
	r.run(func(tb testing.TB) { RIE(tb, bin, "AWS_LAMBDA_MAX_CONCURRENCY=2") })
	if r.failed != "" {
		t.Errorf("RIE failed the test where the namespace refuses a mount, want a skip:\n%s", r.failed)
	}
	if r.skipped == "" && r.failed == "" {
		t.Errorf("RIE returned, want a skip: no tmpfs can be mounted")
	}
}

// copyExecutable copies the file src to dst, mode 0755.
func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
