//go:build !funcify.lambdaonly

package app

import (
	"context"
	"net"
	"testing"
	"time"
)

// serveLocal serves a on a loopback port through the local server until the
// test ends, and returns the listener's address.
func serveLocal(t *testing.T, a *App) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not return")
		}
	})
	return ln.Addr()
}
