package runtimeapi_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/funcify/funcify/runtimeapi"
)

// Found in review (issue 14): the client honours a context only while it
// dials (client.connect); once connected, writing the request and reading
// the answer ignore ctx. So:
//
//   - ReportInitError(ctx, ...) blocks for as long as a Runtime API that
//     took the connection stays silent, whatever ctx says. app.FailInit
//     gives it a 2 s timeout to bound exactly that, and the bound does not
//     hold: the function hangs in init instead of exiting 1.
//   - Run(ctx, ...) with OnShutdown hooks registers the internal extension
//     with ctx before starting the loops, and a silent Extensions API keeps
//     Run there after ctx is done, though its doc says it runs "until ctx
//     is done".
//
// Right: a done ctx ends a call in progress: watch ctx while the request
// is in flight (context.AfterFunc closing the connection, or
// SetDeadline from ctx.Deadline), and return ctx's error.

// silentAPI accepts connections and reads requests but never answers; got
// is closed once a request head has arrived.
type silentAPI struct {
	ln   net.Listener
	got  chan struct{}
	once sync.Once
}

func startSilentAPI(t *testing.T) *silentAPI {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &silentAPI{ln: ln, got: make(chan struct{})}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards conns
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						a.once.Do(func() { close(a.got) })
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return a
}

// hangBound only tells a hang from a return: a call whose ctx is done is
// expected back at once.
const hangBound = 10 * time.Second

func TestContextEndsCallInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(ctx context.Context, addr string) error
	}{
		{"ReportInitError", func(ctx context.Context, addr string) error {
			return runtimeapi.ReportInitError(ctx, addr, errors.New("cannot load config"))
		}},
		{"Run registering the shutdown extension", func(ctx context.Context, addr string) error {
			return runtimeapi.Run(ctx, echo, runtimeapi.Config{
				Address:     addr,
				Concurrency: 1,
				OnShutdown:  []func(context.Context){func(context.Context) {}},
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := startSilentAPI(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tt.call(ctx, api.ln.Addr().String()) }()
			<-api.got // the request is in flight
			cancel()
			select {
			case <-done:
			case <-time.After(hangBound):
				t.Errorf("still blocked %v after its ctx was cancelled, want it to return", hangBound)
			}
		})
	}
}
