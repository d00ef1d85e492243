package lambdaproc

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	tests := []struct {
		name   string
		writes []int // sizes of the writes, each of a distinct byte
		want   int   // bytes kept
	}{
		{"nothing", nil, 0},
		{"small", []int{10, 20}, 30},
		{"exactly the tail", []int{outputTail}, outputTail},
		{"over the tail, under twice", []int{outputTail, 10}, outputTail},
		{"many writes", []int{outputTail, outputTail, outputTail, 7}, outputTail},
		{"one huge write", []int{3 * outputTail}, outputTail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl tail
			var all []byte
			for i, n := range tt.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				if got, err := tl.Write(p); got != n || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v, want %d, nil", n, got, err, n)
				}
				all = append(all, p...)
			}
			got := tl.bytes()
			if len(got) != tt.want {
				t.Errorf("kept %d bytes, want %d", len(got), tt.want)
			}
			if !bytes.HasSuffix(all, got) {
				t.Errorf("kept bytes are not the end of the output")
			}
		})
	}
}

// TestStartExit checks that a process's standard output and error and its
// exit are reported, and that killing a process that has exited is not an
// error.
func TestStartExit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	script := "#!/bin/sh\necho out\necho \"$GREETING\" >&2\nexit 3\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Start(bin, []string{"GREETING=err"})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	if got, want := string(p.Output()), "out\nerr\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.ExitCode() != 3 {
		t.Errorf("Err() = %v, want exit status 3", p.Err())
	}
	if err := p.Kill(); err != nil {
		t.Errorf("Kill after exit = %v, want nil", err)
	}
}

func TestEnv(t *testing.T) {
	env := Env("127.0.0.1:9001", "fn", 256, "/task")
	for _, want := range []string{
		"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001",
		"AWS_LAMBDA_FUNCTION_NAME=fn",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"LAMBDA_TASK_ROOT=/task",
	} {
		found := false
		for _, kv := range env {
			found = found || kv == want
		}
		if !found {
			t.Errorf("Env lacks %s:\n%s", want, strings.Join(env, "\n"))
		}
	}
}
