//go:build funcify.lambdaonly

package app

import (
	"net"
	"testing"
)

// serveLocal skips t: a binary built with funcify.lambdaonly has no local
// server.
func serveLocal(t *testing.T, a *App) net.Addr {
	t.Skip("the local server is left out of this build (funcify.lambdaonly)")
	return nil
}
