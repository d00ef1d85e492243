package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/fakeruntime"
	"github.com/funcify/funcify/internal/testenv"
)

// function is the testdata/runtimes binary running against a fake Runtime
// API.
type function struct {
	cmd    *exec.Cmd
	api    *fakeruntime.Server
	stdout *lineWatcher
	stderr bytes.Buffer
	exited chan error
}

// startFunction runs bin in dir against a new fake Runtime API with the
// given extra environment.
func startFunction(t *testing.T, bin, dir string, env ...string) *function {
	t.Helper()
	f := &function{api: fakeruntime.Start(t), stdout: newLineWatcher(), exited: make(chan error, 1)}
	f.cmd = exec.Command(bin)
	f.cmd.Dir = dir
	f.cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + f.api.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=runtimes",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1",
		"AWS_LAMBDA_LOG_LEVEL=ERROR", // keep the end lines out of stderr
	}, env...)
	f.cmd.Stdout = f.stdout
	f.cmd.Stderr = &f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.exited <- f.cmd.Wait() }()
	t.Cleanup(func() {
		f.cmd.Process.Kill()
		<-f.exited
		if t.Failed() {
			t.Logf("function output (%v):\n%s\n%s", env, f.stdout, &f.stderr)
		}
	})
	return f
}

// wait waits for the function's process to exit and returns its exit
// code.
func (f *function) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-f.exited:
		f.exited <- err // for the cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(fakeruntime.WaitTimeout):
		t.Fatalf("the function did not exit within %v", fakeruntime.WaitTimeout)
		return -1
	}
}

// lineWatcher is an io.Writer that lets a test wait for a line.
type lineWatcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLineWatcher() *lineWatcher { return &lineWatcher{lines: make(chan string, 100)} }

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		select {
		case w.lines <- sc.Text():
		default:
		}
	}
	return len(p), nil
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitLine waits for a line that starts with prefix.
func (w *lineWatcher) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(fakeruntime.WaitTimeout)
	for {
		select {
		case l := <-w.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line starting %q within %v", prefix, fakeruntime.WaitTimeout)
		}
	}
}

// diffInvocations are the invocations both runtime loops get.
var diffInvocations = []struct {
	name    string
	payload string
	header  map[string]string
}{
	{"http-v2", httpV2("GET", "/orders/42"), nil},
	{"rest-v1", `{"resource":"/{proxy+}","path":"/orders/7","httpMethod":"GET","headers":{"Host":"x"},` +
		`"requestContext":{"resourcePath":"/{proxy+}","httpMethod":"GET","path":"/prod/orders/7","stage":"prod","requestId":"r"}}`, nil},
	{"context", httpV2("GET", "/context"), map[string]string{
		"Lambda-Runtime-Trace-Id":             "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
		"Lambda-Runtime-Aws-Tenant-Id":        "tenant-7",
		"Lambda-Runtime-Client-Context":       `{"client":{"installation_id":"i-1","app_title":"shop"},"custom":{"k":"v"},"env":{"platform":"ios"}}`,
		"Lambda-Runtime-Cognito-Identity":     `{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"us-east-1:pool"}`,
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:runtimes:live",
	}},
	{"http-panic", httpV2("GET", "/panic"), nil},
	{"http-404", httpV2("GET", "/nowhere"), nil},
	{"s3", `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put",` +
		`"s3":{"bucket":{"name":"invoices.example.io","arn":"arn:aws:s3:::invoices.example.io"},"object":{"key":"2026/a+b.pdf","size":3}}}]}`, nil},
	{"function-error", `{"version":"0","id":"e1","detail-type":"fail","source":"diff","account":"123456789012","time":"2026-12-02T12:00:00Z","region":"us-east-1","resources":[],"detail":{}}`, nil},
	{"handler-panic", `{"version":"0","id":"e2","detail-type":"panic","source":"diff","account":"123456789012","time":"2026-12-02T12:00:00Z","region":"us-east-1","resources":[],"detail":{}}`, nil},
	{"unknown-event", `{"hello":"world"}`, nil},
	{"not-json", `hello`, nil},
}

// testRuntimeLoopsAgree runs the same invocations through funcify's loop
// and through aws-lambda-go's lambda.Start (FUNCIFY_RUNTIME=aws-lambda-go)
// and compares what reached the Runtime API: the path, whether it was a
// response or an error, the body byte for byte, the Content-Type and the
// X-Ray error cause. What the protocol leaves free may differ: the
// User-Agent, Content-Length against chunked transfer coding (and
// aws-lambda-go's declared trailers); funcify adds the
// Lambda-Runtime-Function-Error-Type header the Runtime API documents,
// which must name the body's errorType.
func testRuntimeLoopsAgree(t *testing.T, bin string) {
	dir := t.TempDir() // both run here: the X-Ray cause names the working directory
	deadline := time.Now().Add(time.Hour).Truncate(time.Millisecond)

	results := map[string][]fakeruntime.Result{}
	for _, rt := range []string{"funcify", "aws-lambda-go"} {
		f := startFunction(t, bin, dir, "FUNCIFY_RUNTIME="+rt)
		for _, inv := range diffInvocations {
			id := f.api.Enqueue(fakeruntime.Invocation{
				Payload:   []byte(inv.payload),
				RequestID: "req-" + inv.name,
				Deadline:  deadline,
				Header:    inv.header,
			})
			results[rt] = append(results[rt], f.api.Wait(t, id))
		}
		ua := ""
		for _, r := range f.api.Requests() {
			ua = r.Header.Get("User-Agent")
		}
		if want := map[string]string{"funcify": "funcify/", "aws-lambda-go": "aws-lambda-go/"}[rt]; !strings.HasPrefix(ua, want) {
			t.Fatalf("FUNCIFY_RUNTIME=%s: User-Agent %q, want %s...: the other loop ran", rt, ua, want)
		}
	}

	for i, inv := range diffInvocations {
		ours, theirs := results["funcify"][i], results["aws-lambda-go"][i]
		t.Run(inv.name, func(t *testing.T) {
			if ours.Path != theirs.Path || ours.Error != theirs.Error {
				t.Errorf("funcify posted %s (error %v), aws-lambda-go %s (error %v)", ours.Path, ours.Error, theirs.Path, theirs.Error)
			}
			if !bytes.Equal(ours.Body, theirs.Body) {
				t.Errorf("bodies differ:\nfuncify:       %s\naws-lambda-go: %s", ours.Body, theirs.Body)
			}
			for _, h := range []string{"Content-Type", "Lambda-Runtime-Function-Xray-Error-Cause"} {
				if o, a := ours.Header.Get(h), theirs.Header.Get(h); o != a {
					t.Errorf("%s differs:\nfuncify:       %q\naws-lambda-go: %q", h, o, a)
				}
			}
			if ours.Error {
				var body struct {
					ErrorType string `json:"errorType"`
				}
				if err := json.Unmarshal(ours.Body, &body); err != nil || body.ErrorType == "" {
					t.Fatalf("error body %s: %v", ours.Body, err)
				}
				if got := ours.Header.Get("Lambda-Runtime-Function-Error-Type"); got != body.ErrorType {
					t.Errorf("Lambda-Runtime-Function-Error-Type = %q, want the body's errorType %q", got, body.ErrorType)
				}
			}
			t.Logf("%s -> %s", inv.name, ours.Body)
		})
	}
}

// testShutdownHooksOnSIGTERM: with an OnShutdown hook, the app registers an
// internal extension (so that Lambda sends SIGTERM), and on SIGTERM runs the
// hook with a deadline. On funcify's loop the process then exits 0; on
// aws-lambda-go's (lambda.WithEnableSIGTERM) the hook runs too.
func testShutdownHooksOnSIGTERM(t *testing.T, bin string) {
	for _, rt := range []string{"funcify", "aws-lambda-go"} {
		t.Run(rt, func(t *testing.T) {
			f := startFunction(t, bin, t.TempDir(), "FUNCIFY_RUNTIME="+rt, "SHUTDOWN_HOOK=1")
			// Once an invocation is answered, the init (and so the
			// registration) is done.
			f.api.Wait(t, f.api.Enqueue(fakeruntime.Invocation{Payload: []byte(httpV2("GET", "/orders/1"))}))
			regs := f.api.Registrations()
			if len(regs) != 1 {
				t.Fatalf("%d extension registrations, want 1", len(regs))
			}
			if body := regs[0].Body; rt == "funcify" && string(body) != `{"events":[]}` {
				t.Errorf("registration body %s, want {\"events\":[]}", body)
			}
			if err := f.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if got, want := f.stdout.waitLine(t, "shutdown hook ran"), "shutdown hook ran, deadline set: true"; got != want {
				t.Errorf("hook printed %q, want %q", got, want)
			}
			if rt == "funcify" {
				if code := f.wait(t); code != 0 {
					t.Errorf("exit code %d after SIGTERM, want 0", code)
				}
			}
		})
	}
}

// testNoShutdownHookNoExtension: without a hook, nothing is registered: a
// registration costs a request at every cold start.
func testNoShutdownHookNoExtension(t *testing.T, bin string) {
	f := startFunction(t, bin, t.TempDir())
	f.api.Wait(t, f.api.Enqueue(fakeruntime.Invocation{Payload: []byte(httpV2("GET", "/orders/1"))}))
	if regs := f.api.Registrations(); len(regs) != 0 {
		t.Errorf("%d extension registrations without a hook, want 0", len(regs))
	}
}

// testFailInit: app.FailInit posts the init error and exits 1; so does an
// unknown FUNCIFY_RUNTIME.
func testFailInit(t *testing.T, bin string) {
	for _, tc := range []struct {
		env, message string
	}{
		{"FAIL_INIT=1", "asked to fail at init"},
		{"FUNCIFY_RUNTIME=lambda", `app: FUNCIFY_RUNTIME="lambda": want funcify or aws-lambda-go`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			f := startFunction(t, bin, t.TempDir(), tc.env)
			req := f.api.InitError(t)
			var body struct {
				ErrorMessage string `json:"errorMessage"`
				ErrorType    string `json:"errorType"`
			}
			if err := json.Unmarshal(req.Body, &body); err != nil {
				t.Fatalf("init error body %s: %v", req.Body, err)
			}
			if body.ErrorMessage != tc.message || body.ErrorType == "" {
				t.Errorf("init error %s, want errorMessage %q and an errorType", req.Body, tc.message)
			}
			if code := f.wait(t); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if n := len(f.api.Requests()); n != 1 {
				t.Errorf("%d requests to the Runtime API, want only the init error", n)
			}
		})
	}
}

// TestRuntimeLoop checks funcify's runtime loop as a Lambda function built
// from testdata/runtimes meets it, against a fake Runtime API, and against
// aws-lambda-go's.
func TestRuntimeLoop(t *testing.T) {
	bin := testenv.BuildFunction(t, "./testdata/runtimes")
	t.Run("LoopsAgree", func(t *testing.T) { testRuntimeLoopsAgree(t, bin) })
	t.Run("ShutdownHooksOnSIGTERM", func(t *testing.T) { testShutdownHooksOnSIGTERM(t, bin) })
	t.Run("NoShutdownHookNoExtension", func(t *testing.T) { testNoShutdownHookNoExtension(t, bin) })
	t.Run("FailInit", func(t *testing.T) { testFailInit(t, bin) })
	t.Run("Choice", func(t *testing.T) { testRuntimeChoice(t, bin) })
	t.Run("LambdaOnly", testLambdaOnly)
}

// testRuntimeChoice: WithAWSLambdaGo and FUNCIFY_RUNTIME pick the loop, and
// the variable wins either way, so an operator can switch without a
// rebuild.
func testRuntimeChoice(t *testing.T, bin string) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "funcify/"},
		{[]string{"FUNCIFY_RUNTIME=funcify"}, "funcify/"},
		{[]string{"FUNCIFY_RUNTIME=aws-lambda-go"}, "aws-lambda-go/"},
		{[]string{"WITH_AWS_LAMBDA_GO=1"}, "aws-lambda-go/"},
		{[]string{"WITH_AWS_LAMBDA_GO=1", "FUNCIFY_RUNTIME=funcify"}, "funcify/"},
	} {
		t.Run(strings.Join(tc.env, ","), func(t *testing.T) {
			f := startFunction(t, bin, t.TempDir(), tc.env...)
			res := f.api.Wait(t, f.api.Enqueue(fakeruntime.Invocation{Payload: []byte(httpV2("GET", "/orders/1"))}))
			if ua := res.Header.Get("User-Agent"); !strings.HasPrefix(ua, tc.want) {
				t.Errorf("User-Agent %q, want %s...", ua, tc.want)
			}
		})
	}
}

// testLambdaOnly: a binary built with -tags funcify.lambdaonly runs in
// Lambda as any other, and outside Lambda says it has no local server and
// exits 2.
func testLambdaOnly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,funcify.lambdaonly", "-o", bin, "./testdata/runtimes")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := startFunction(t, bin, t.TempDir())
	res := f.api.Wait(t, f.api.Enqueue(fakeruntime.Invocation{Payload: []byte(httpV2("GET", "/orders/9"))}))
	if res.Error || !bytes.Contains(res.Body, []byte(`\"id\":\"9\"`)) {
		t.Errorf("in Lambda: %s %s, want the order's answer", res.Path, res.Body)
	}

	var stderr bytes.Buffer
	local := exec.Command(bin, "-event", "-")
	local.Stderr = &stderr
	local.Env = []string{"PATH=" + os.Getenv("PATH")}
	err := local.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("outside Lambda: %v, want exit status 2", err)
	}
	if !strings.Contains(stderr.String(), "funcify.lambdaonly") {
		t.Errorf("outside Lambda it said %q, want a word on funcify.lambdaonly", stderr.String())
	}
}
