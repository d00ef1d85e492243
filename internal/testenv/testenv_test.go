package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRIE(t *testing.T) {
	bin := BuildFunction(t, "./testdata/echo")
	// Two emulators at once, each invoked twice: they get ports of their own,
	// and the function serves more than one invocation.
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := RIE(t, bin)
			for _, payload := range []string{`{"n":1,"who":"` + name + `"}`, `["two",2]`} {
				if got := invoke(t, url, payload); got != payload {
					t.Errorf("invoke(%s) = %s, want %s", payload, got, payload)
				}
			}
		})
	}
}

// TestRIEStopsFunction checks that the cleanup stops a function that is busy
// in an invocation. Such a function does not notice that the emulator is
// gone, unlike one that waits for its next invocation, which exits by itself.
func TestRIEStopsFunction(t *testing.T) {
	if !supported {
		t.Skip("reads /proc")
	}
	bin := BuildFunction(t, "./testdata/block")
	t.Run("busy", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel) // cleanups run last-in first-out: after the emulator's
		url := RIE(t, bin)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		// The emulator starts the function on the first invocation.
		deadline := time.Now().Add(readyTimeout)
		for len(processesRunning(t, bin)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the function did not start within %v", readyTimeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	if pids := processesRunning(t, bin); len(pids) > 0 {
		t.Errorf("function processes %v still run after the cleanup", pids)
	}
}

func TestRIEEnvironment(t *testing.T) {
	t.Setenv("FUNCIFY_TESTENV_LEAK", "from the test") // must not reach the function
	bin := BuildFunction(t, "./testdata/getenv")
	url := RIE(t, bin, "GREETING=hello", "AWS_REGION=eu-west-1", "AWS_LAMBDA_FUNCTION_TIMEOUT=5")
	tests := []struct {
		name, want string
	}{
		{"GREETING", "hello"},
		{"AWS_REGION", "eu-west-1"},                   // the caller overrides the default
		{"AWS_DEFAULT_REGION", "us-east-1"},           // the harness's default
		{"AWS_LAMBDA_FUNCTION_NAME", "test_function"}, // the emulator's default
		{"LAMBDA_TASK_ROOT", filepath.Dir(bin)},
		{"FUNCIFY_TESTENV_LEAK", ""},
	}
	for _, tt := range tests {
		if got, want := invoke(t, url, `"`+tt.name+`"`), `"`+tt.want+`"`; got != want {
			t.Errorf("%s = %s, want %s", tt.name, got, want)
		}
	}
}

func invoke(t *testing.T, url, payload string) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d, body %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// processesRunning lists the live processes whose executable is bin.
func processesRunning(t *testing.T, bin string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err == nil && exe == bin {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// recorder is a testing.TB that records Skipf and Fatalf instead of ending
// the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestMissing(t *testing.T) {
	tests := []struct {
		env      string
		wantSkip bool
	}{
		{"", true},
		{"0", true},
		{"false", true},
		{"1", false},
		{"true", false},
	}
	for _, tt := range tests {
		t.Run("FUNCIFY_REQUIRE_SERVERS="+tt.env, func(t *testing.T) {
			t.Setenv(requireEnv, tt.env)
			r := &recorder{TB: t}
			missing(r, "thing is not installed", "go install example.com/thing@v1")
			msg := r.failed
			if tt.wantSkip {
				msg = r.skipped
				if r.failed != "" {
					t.Errorf("failed with %q, want a skip", r.failed)
				}
			} else if r.skipped != "" {
				t.Errorf("skipped with %q, want a failure", r.skipped)
			}
			if !strings.Contains(msg, "go install example.com/thing@v1") {
				t.Errorf("message %q does not hold the install command", msg)
			}
		})
	}
}
