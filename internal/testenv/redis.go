package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisInstall is the command that installs redis-server, Debian's package
// of the Redis server. scripts/test installs the same package when the
// command is missing.
const RedisInstall = "apt-get install -y redis-server"

// redisAttempts is how many times StartRedis tries a fresh port when the one
// it picked was taken before the server could bind it.
const redisAttempts = 3

// RedisServer is a running redis-server, started by [StartRedis] for one
// test, with its data in memory only. The test's cleanup stops it; Stop
// stops it earlier.
type RedisServer struct {
	// Addr is the server's address, 127.0.0.1:PORT.
	Addr string

	t testing.TB
	p *process
}

// Stop kills the server and waits until it has exited, so that a test can
// see how its code behaves when the server goes away. Later connections to
// Addr are refused. Stop may be called more than once, and from any
// goroutine.
func (s *RedisServer) Stop() {
	if err := s.p.stop(); err != nil {
		s.t.Errorf("testenv: %v", err)
	}
}

// Redis starts a Redis server for t and returns its address; see
// [StartRedis].
func Redis(t testing.TB) (addr string) {
	t.Helper()
	s := StartRedis(t)
	if s == nil {
		return ""
	}
	return s.Addr
}

// StartRedis starts redis-server on a free loopback port and returns once
// it answers PING (within 10 s). The server binds 127.0.0.1 only, keeps
// nothing on disk (no RDB snapshots, no append-only file), runs in a
// directory of t.TempDir(), and needs no password. A t.Cleanup kills it.
//
// The server is the test's own, but tests that share one must use keys of
// their own: it starts empty and nothing clears it.
//
// When redis-server is not installed, or the system is not Linux, StartRedis
// skips the test, or fails it under [RequireServers]; a skipped test does not
// return, so the result is never nil then.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	if !supported {
		unavailable(t, "testenv: the Redis server is started on Linux only")
		return nil
	}
	bin := lookTool("redis-server")
	if bin == "" {
		missing(t, "redis-server (the Redis server) is not installed", RedisInstall)
		return nil
	}
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := FreePort(t)
		args := []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", dir,
			"--daemonize", "no",
			"--logfile", "", // standard output, which the harness keeps
		}
		env := []string{"PATH=" + os.Getenv("PATH")}
		p := start(t, "redis-server", bin, args, env, dir)
		addr := loopback(port)
		err := waitPing(p, addr)
		if err == nil {
			return &RedisServer{Addr: addr, t: t, p: p}
		}
		if stopErr := p.stop(); stopErr != nil {
			t.Errorf("testenv: %v", stopErr)
		}
		if attempt < redisAttempts && p.exited() && strings.Contains(strings.ToLower(p.out.String()), "address already in use") {
			t.Logf("testenv: redis-server lost a port race (attempt %d), retrying with a new port", attempt)
			continue
		}
		t.Fatalf("testenv: %v\n%s", err, p.out)
	}
}

// waitPing waits until the Redis server p at addr answers PING. It returns
// an error when the process exits first or readyTimeout passes.
func waitPing(p *process, addr string) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ping(addr); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it answered PING: %v", p.name, p.err)
		case <-deadline.C:
			return fmt.Errorf("%s did not answer PING on %s within %v: %v", p.name, addr, readyTimeout, last)
		case <-tick.C:
		}
	}
}

// ping sends PING to the Redis server at addr and checks that it answers
// PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
