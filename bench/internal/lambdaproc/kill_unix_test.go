//go:build unix

package lambdaproc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKillChildHoldsOutput checks that Kill returns when the process has a
// child that outlives it and holds its standard output.
func TestKillChildHoldsOutput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "child")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	script := "#!/bin/sh\nsleep 600 &\necho $! >\"$CHILD\"\nexec sleep 600\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Start(bin, []string{"CHILD=" + fifo, "PATH=" + os.Getenv("PATH")})
	if err != nil {
		t.Fatal(err)
	}
	// Opening the FIFO waits for the script to write the child's pid.
	b, err := os.ReadFile(fifo)
	if err != nil {
		p.Kill()
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		p.Kill()
		t.Fatalf("child pid %q: %v", b, err)
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })

	killed := make(chan error, 1)
	go func() { killed <- p.Kill() }()
	// A bound for a hang, far above waitDelay: not a measure of time.
	select {
	case err := <-killed:
		if err != nil {
			t.Errorf("Kill = %v, want nil", err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("Kill did not return within a minute while the process's child holds its output (WaitDelay %v)", waitDelay)
	}
}
