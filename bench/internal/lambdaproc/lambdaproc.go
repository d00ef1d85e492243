// Package lambdaproc builds Go Lambda functions the way Lambda runs them and
// starts them as local processes with the environment Lambda gives, pointed
// at a Runtime API of the caller's. The bench commands measure functions
// through it.
package lambdaproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Build builds the main package pkg for Lambda on provided.al2023 into
// dir/bootstrap (CGO_ENABLED=0, GOOS=linux, -trimpath, -ldflags='-s -w',
// the comma-separated build tags) and returns the binary's path and size.
// A pkg written "PKG+IMPORT" is PKG built with one more file,
// `import _ "IMPORT"`, through go build -overlay, so that it measures what
// importing IMPORT costs PKG without a copy of PKG's code.
func Build(pkg, dir, tags string) (bin string, size int64, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	bin = filepath.Join(dir, "bootstrap")
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-tags", tags, "-o", bin}
	if main, imp, ok := strings.Cut(pkg, "+"); ok {
		overlay, err := importOverlay(main, imp, dir)
		if err != nil {
			return "", 0, err
		}
		args = append(args, "-overlay", overlay)
		pkg = main
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return "", 0, err
	}
	return bin, fi.Size(), nil
}

// importOverlay writes, in dir, a go build -overlay file that adds to the
// main package pkg one more file, `import _ "imp"`.
func importOverlay(pkg, imp, dir string) (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %v", pkg, err)
	}
	src := filepath.Join(dir, "import.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport _ "+strconv.Quote(imp)+"\n"), 0o644); err != nil {
		return "", err
	}
	target := filepath.Join(strings.TrimSpace(string(out)), "zz_lambdaproc_import.go")
	b, err := json.Marshal(map[string]map[string]string{"Replace": {target: src}})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}

// Env returns the environment Lambda gives a function named name on the
// provided.al2023 runtime, with memory MB and its code in taskRoot, whose
// Runtime API is at runtimeAPI (host:port). The credentials are fake, as
// Lambda provides real ones: an SDK configuration loaded at init finds them
// without a network call.
func Env(runtimeAPI, name string, memory int, taskRoot string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN=" + name,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"LAMBDA_RUNTIME_DIR=/var/runtime",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
}

// waitDelay is how long a Process waits for its output to end once the
// process has exited: a child of the function that shares its standard
// output keeps the pipe open after the function has exited.
const waitDelay = time.Second

// outputTail is how much of a process's output a Process keeps: the end,
// where a crash or a failed measurement explains itself.
const outputTail = 64 << 10

// Process is a running function. Its standard output and error go through
// one pipe, as Lambda collects them, into a buffer that keeps the last
// 64 KB.
type Process struct {
	// Started is the time just before the process started.
	Started time.Time

	cmd    *exec.Cmd
	out    tail
	exited chan struct{} // closed when the process has exited and its output is read
	err    error         // Wait's error; set before exited is closed
}

// Start starts the binary bin with the environment env, in bin's directory.
func Start(bin string, env []string) (*Process, error) {
	p := &Process{exited: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Dir = filepath.Dir(bin)
	// One writer for both: exec copies them through a single pipe, from one
	// goroutine, so the tail needs no lock.
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	// Without it, Wait, and so Kill, would wait for every process that
	// holds the pipe, not only the one started.
	p.cmd.WaitDelay = waitDelay
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid returns the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited; [Process.Err] and
// [Process.Output] are complete then.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err returns how the process exited. Call it once Exited is closed.
func (p *Process) Err() error { return p.err }

// Output returns the end of the process's output. Call it once Exited is
// closed.
func (p *Process) Output() []byte { return p.out.bytes() }

// Kill kills the process, if it still runs, and waits for it to exit. It
// does not kill the process's children: if one keeps the output pipe open,
// Kill returns a second after the process has exited, and the output the
// child writes after that is lost.
func (p *Process) Kill() error {
	var err error
	if kerr := p.cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
		err = fmt.Errorf("kill %s: %w", p.cmd.Path, kerr)
	}
	<-p.exited
	return err
}

// tail is an io.Writer that keeps the last outputTail bytes written to it.
// It is not safe for concurrent use.
type tail struct {
	b []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*outputTail {
		t.b = append(t.b[:0], t.b[len(t.b)-outputTail:]...)
	}
	return len(p), nil
}

// bytes returns the last outputTail bytes written.
func (t *tail) bytes() []byte {
	return t.b[max(0, len(t.b)-outputTail):]
}
