package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// readyTimeout bounds the wait for a server to accept connections.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds the wait for a killed server to be reaped.
	stopTimeout = 10 * time.Second
	// maxOutput is how much of a server's output is kept for failure reports.
	maxOutput = 1 << 20
)

// process is a server started by the harness: a child process in a session
// of its own, so that stop can find and kill everything it started.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *outputBuffer
	done chan struct{} // closed once the process has been reaped
	err  error         // the result of Wait; read only after done is closed
	once sync.Once     // guards the kill in stop
}

// start starts path with args, env and working directory dir, and registers
// a cleanup that stops it and, when the test failed, logs its output.
func start(t testing.TB, name, path string, args, env []string, dir string) *process {
	t.Helper()
	p := &process{name: name, out: &outputBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = env
	p.cmd.Dir = dir
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = sysProcAttr()
	// A grandchild that survived the kill must not hold Wait on the pipe.
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("testenv: start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("testenv: %v", err)
		}
		if t.Failed() {
			t.Logf("testenv: output of %s:\n%s", name, p.out)
		}
	})
	return p
}

// waitReady waits until every address in addrs accepts TCP connections. It
// returns an error when the process exits first or readyTimeout passes.
func (p *process) waitReady(addrs ...string) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.accepting(addrs) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it accepted connections: %v", p.name, p.err)
		case <-deadline.C:
			return fmt.Errorf("%s did not accept connections on %v within %v", p.name, addrs, readyTimeout)
		case <-tick.C:
		}
	}
}

// waitOutput waits until the process's output holds line at least n
// times. It returns an error when the process exits first or readyTimeout
// passes.
func (p *process) waitOutput(line string, n int) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if strings.Count(p.out.String(), line) >= n {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it printed %q %d times: %v", p.name, line, n, p.err)
		case <-deadline.C:
			return fmt.Errorf("%s did not print %q %d times within %v", p.name, line, n, readyTimeout)
		case <-tick.C:
		}
	}
}

func (p *process) accepting(addrs []string) bool {
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop kills the process and every process it started, and waits until the
// process is reaped. It may be called more than once.
func (p *process) stop() error {
	p.once.Do(func() { killSession(p.cmd.Process.Pid) })
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("%s (pid %d) still running %v after it was killed", p.name, p.cmd.Process.Pid, stopTimeout)
	}
}

// outputBuffer keeps the first maxOutput bytes written to it.
type outputBuffer struct {
	mu        sync.Mutex // guards buf and truncated
	buf       bytes.Buffer
	truncated bool
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := maxOutput - b.buf.Len()
	if len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + "\n[output truncated]"
	}
	return b.buf.String()
}
