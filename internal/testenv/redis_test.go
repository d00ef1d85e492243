package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRedis(t *testing.T) {
	// Two servers at once: each gets a port of its own.
	addrs := make(chan string, 2)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				addr := Redis(t)
				addrs <- addr
				if got := redisDo(t, addr, "SET", "who", name); !slices.Equal(got, []string{"OK"}) {
					t.Errorf("SET = %q, want OK", got)
				}
				if got := redisDo(t, addr, "GET", "who"); !slices.Equal(got, []string{name}) {
					t.Errorf("GET = %q, want %q", got, name)
				}
				// No persistence, loopback only.
				for _, tt := range []struct{ param, want string }{
					{"save", ""},
					{"appendonly", "no"},
					{"bind", "127.0.0.1"},
				} {
					if got := redisDo(t, addr, "CONFIG", "GET", tt.param); !slices.Equal(got, []string{tt.param, tt.want}) {
						t.Errorf("CONFIG GET %s = %q, want %q", tt.param, got, tt.want)
					}
				}
			})
		}
	})
	close(addrs)
	var got []string
	for a := range addrs {
		got = append(got, a)
	}
	if len(got) == 2 && got[0] == got[1] {
		t.Errorf("both servers got address %s", got[0])
	}
}

func TestRedisStop(t *testing.T) {
	s := StartRedis(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("PING before Stop: %v", err)
	}
	s.Stop()
	if !s.p.exited() {
		t.Fatal("the server still runs after Stop")
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s accepts connections after Stop", s.Addr)
	}
	s.Stop() // a second Stop, and the cleanup's, do nothing
}

func TestRedisCleanup(t *testing.T) {
	if !supported {
		t.Skip("reads /proc")
	}
	var pid int
	t.Run("server", func(t *testing.T) {
		pid = StartRedis(t).p.cmd.Process.Pid
	})
	if pid == 0 {
		return // skipped
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		t.Errorf("redis-server (pid %d) still runs after the cleanup", pid)
	}
}

// redisDo sends one command to the Redis server at addr and returns its
// reply: a status, integer or bulk string as one element, an array as its
// elements (nil bulk strings as ""). An error reply fails the test.
func redisDo(t *testing.T, addr string, args ...string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	line := readLine(t, r)
	switch line[0] {
	case '+', ':':
		return []string{line[1:]}
	case '$':
		return []string{readBulk(t, r, line)}
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			t.Fatalf("%s: bad array header %q", args[0], line)
		}
		out := make([]string, n)
		for i := range out {
			out[i] = readBulk(t, r, readLine(t, r))
		}
		return out
	default:
		t.Fatalf("%s: reply %q", args[0], line)
		return nil
	}
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		t.Fatal("empty reply line")
	}
	return line
}

func readBulk(t *testing.T, r *bufio.Reader, header string) string {
	t.Helper()
	if header[0] != '$' {
		t.Fatalf("want a bulk string, got %q", header)
	}
	n, err := strconv.Atoi(header[1:])
	if err != nil {
		t.Fatalf("bad bulk header %q", header)
	}
	if n < 0 {
		return ""
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestRedisMissing(t *testing.T) {
	if !supported {
		t.Skip("StartRedis reports the platform, not the install command")
	}
	t.Setenv("PATH", t.TempDir()) // no redis-server, and no go to find GOBIN with
	for _, require := range []string{"", "1"} {
		t.Run("FUNCIFY_REQUIRE_SERVERS="+require, func(t *testing.T) {
			t.Setenv(requireEnv, require)
			r := &recorder{TB: t}
			if s := StartRedis(r); s != nil {
				t.Fatalf("StartRedis = %+v, want nil", s)
			}
			msg := r.skipped
			if require != "" {
				msg = r.failed
			}
			if !strings.Contains(msg, RedisInstall) {
				t.Errorf("skipped with %q and failed with %q; want the message with %q", r.skipped, r.failed, RedisInstall)
			}
		})
	}
}
