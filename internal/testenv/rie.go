package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RIEInstall is the command that installs the Lambda Runtime Interface
// Emulator at the version funcify's tests are known to work with.
// scripts/test reads the version from this line and runs the command when
// the emulator is missing.
const RIEInstall = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// rieAttempts is how many times RIE tries fresh ports when one it picked was
// taken before the emulator could bind it.
const rieAttempts = 3

// RIE starts the Lambda Runtime Interface Emulator (aws-lambda-rie) in front
// of the function binary, a Linux executable such as [BuildFunction] makes,
// and returns the URL to POST invocation payloads to:
// http://127.0.0.1:PORT/2015-03-31/functions/function/invocations. The
// response body is the function's response, or its error document.
//
// The emulator listens on two free loopback ports of its own: one for
// invocations and one for the Runtime API that the function polls, so several
// emulators can run at once. RIE returns once both accept connections (within
// 10 s) and registers a t.Cleanup that kills the emulator and the function.
//
// The function sees the environment that Lambda would give it: the
// emulator's defaults (AWS_LAMBDA_FUNCTION_NAME=test_function,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3008, AWS_LAMBDA_FUNCTION_VERSION=$LATEST,
// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME,
// AWS_LAMBDA_RUNTIME_API), AWS_REGION and AWS_DEFAULT_REGION set to
// us-east-1, LAMBDA_TASK_ROOT set to the binary's directory (also its
// working directory), and PATH; nothing else from the test's environment.
// Each entry of env, "KEY=value", is added last and so overrides those.
// Variables the emulator reads itself: AWS_LAMBDA_FUNCTION_TIMEOUT, the
// invocation timeout in seconds (default 300), and LOG_LEVEL, its own log
// level (default info). Its output and the function's are logged when the
// test fails.
//
// The emulator starts the function on the first invocation, which therefore
// pays the cold start, and serves one invocation at a time: invoke it from one
// goroutine. A second invocation sent while one is running crashes this
// version of the emulator (a nil dereference in its Invoke). Tests that want
// parallelism start an emulator each, or set AWS_LAMBDA_MAX_CONCURRENCY.
//
// With AWS_LAMBDA_MAX_CONCURRENCY=N in env the emulator runs in its Lambda
// Managed Instances mode: it starts the function at once (not on the first
// invocation), with N as its AWS_LAMBDA_MAX_CONCURRENCY, and serves
// concurrent invocations. That mode runs only /var/task/bootstrap (or
// /var/runtime/bootstrap, /opt/bootstrap) with /var/task as the working
// directory, so RIE runs it in a private mount namespace (unshare(1), which
// needs root) over a tmpfs on /var, where it copies the binary to
// /var/task/bootstrap; the machine's own /var is not touched. In that mode
// the emulator logs at debug level (LOG_LEVEL is set so, whatever env says:
// RIE waits for a line of its debug log that says each loop of the
// function asked for an invocation) and LAMBDA_TASK_ROOT is /var/task.
// Without root or unshare, or where the mount namespace is refused (root in
// a container without CAP_SYS_ADMIN), RIE skips the test, or fails it under
// [RequireServers].
//
// When aws-lambda-rie is not installed, or the system is not Linux, RIE
// skips the test, or fails it under [RequireServers].
func RIE(t testing.TB, binary string, env ...string) (invokeURL string) {
	t.Helper()
	if !supported {
		unavailable(t, "testenv: the Lambda Runtime Interface Emulator runs on Linux only")
		return ""
	}
	rie := lookTool("aws-lambda-rie")
	if rie == "" {
		missing(t, "aws-lambda-rie (the Lambda Runtime Interface Emulator) is not installed", RIEInstall)
		return ""
	}
	binary, err := filepath.Abs(binary)
	if err != nil {
		t.Fatalf("testenv: RIE: %v", err)
	}
	if _, err := os.Stat(binary); err != nil {
		t.Fatalf("testenv: RIE: function binary: %v", err)
	}
	concurrent, workers := false, 1
	for _, kv := range env {
		key, _, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("testenv: RIE: environment entry %q is not KEY=value", kv)
		}
		if key == "AWS_LAMBDA_MAX_CONCURRENCY" {
			concurrent = true
			n, err := strconv.Atoi(strings.TrimPrefix(kv, key+"="))
			if err != nil || n < 1 {
				t.Fatalf("testenv: RIE: %s is not a positive number", kv)
			}
			workers = n
		}
	}
	unshare := ""
	if concurrent {
		if unshare = lookTool("unshare"); unshare == "" || os.Geteuid() != 0 {
			unavailable(t, "testenv: RIE with AWS_LAMBDA_MAX_CONCURRENCY runs the emulator in a private mount namespace, which needs root and unshare(1) (Debian package util-linux)")
			return ""
		}
		if err := probeNamespace(unshare); err != nil {
			unavailable(t, "testenv: RIE with AWS_LAMBDA_MAX_CONCURRENCY runs the emulator in a private mount namespace, which this machine refuses (a container without CAP_SYS_ADMIN?): "+err.Error())
			return ""
		}
	}
	dir := filepath.Dir(binary)
	base := []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"LAMBDA_TASK_ROOT=" + dir,
	}
	// The emulator forwards its own environment to the function.
	fullEnv := append(base, env...)
	if concurrent {
		// Last, so they win: the readiness line is logged at debug level,
		// and the function's code is in /var/task in this mode.
		fullEnv = append(fullEnv, "LOG_LEVEL=debug", "LAMBDA_TASK_ROOT=/var/task")
	}

	for attempt := 1; ; attempt++ {
		invokeAddr, apiAddr := freeAddrPair(t)
		args := []string{
			"--runtime-interface-emulator-address", invokeAddr,
			"--runtime-api-address", apiAddr,
			binary,
		}
		path := rie
		if concurrent {
			// sh -c SCRIPT RIE BINARY INVOKE API: $0 is the emulator.
			path = unshare
			args = []string{"--mount", "--propagation", "private", "sh", "-c",
				// The binary and the emulator are opened before the tmpfs
				// hides /var, where either may be (a GOPATH under /var/lib),
				// and copied into it.
				`exec 3<"$1" 4<"$0" && mount -t tmpfs tmpfs /var && mkdir /var/task /var/rie && ` +
					`cat <&3 >/var/task/bootstrap && cat <&4 >/var/rie/aws-lambda-rie && exec 3<&- 4<&- && ` +
					`chmod 755 /var/task/bootstrap /var/rie/aws-lambda-rie && cd /var/task && ` +
					`exec /var/rie/aws-lambda-rie --runtime-interface-emulator-address "$2" --runtime-api-address "$3"`,
				rie, binary, invokeAddr, apiAddr}
		}
		p := start(t, "aws-lambda-rie", path, args, fullEnv, dir)
		err := p.waitReady(invokeAddr, apiAddr)
		if err == nil && concurrent {
			// The emulator starts the function now; it is ready when each
			// of its loops has asked for an invocation, which the
			// emulator logs at debug level (set below).
			err = p.waitOutput("InvokeRouter: received runtime /next", workers)
		}
		if err == nil {
			return "http://" + invokeAddr + "/2015-03-31/functions/function/invocations"
		}
		if stopErr := p.stop(); stopErr != nil {
			t.Errorf("testenv: %v", stopErr)
		}
		if attempt < rieAttempts && p.exited() && strings.Contains(p.out.String(), "address already in use") {
			t.Logf("testenv: aws-lambda-rie lost a port race (attempt %d), retrying with new ports", attempt)
			continue
		}
		t.Fatalf("testenv: %v\n%s", err, p.out)
	}
}

// freeAddrPair returns two distinct free loopback addresses.
func freeAddrPair(t testing.TB) (string, string) {
	t.Helper()
	a := FreePort(t)
	b := FreePort(t)
	for b == a {
		b = FreePort(t)
	}
	return loopback(a), loopback(b)
}

func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// probeNamespace reports whether unshare can make a private mount
// namespace here and mount a tmpfs on /var in it, trying once per process
// for each unshare command.
func probeNamespace(unshare string) error {
	namespaceProbes.mu.Lock()
	defer namespaceProbes.mu.Unlock()
	if err, ok := namespaceProbes.done[unshare]; ok {
		return err
	}
	var err error
	// A namespace alone is not enough: a container may allow it and still
	// refuse mounts (AppArmor's deny mount), so the probe mounts what RIE
	// will.
	if out, cerr := exec.Command(unshare, "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "tmpfs", "/var").CombinedOutput(); cerr != nil {
		err = fmt.Errorf("%s --mount: %v: %s", unshare, cerr, strings.TrimSpace(string(out)))
	}
	if namespaceProbes.done == nil {
		namespaceProbes.done = make(map[string]error)
	}
	namespaceProbes.done[unshare] = err
	return err
}

var namespaceProbes struct {
	mu   sync.Mutex // guards done
	done map[string]error
}
