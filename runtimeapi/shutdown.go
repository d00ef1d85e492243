package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// extensionName is the name of the internal extension Run registers so that
// Lambda sends SIGTERM before it ends the environment.
const extensionName = "funcify-shutdown"

// extensionID keeps the Lambda-Extension-Identifier header of the
// registration's answer.
type extensionID struct{ id string }

func (e *extensionID) header(name, value []byte) {
	if equalFold(name, "Lambda-Extension-Identifier") {
		e.id = string(value)
	}
}

// shutdownWatch runs the shutdown hooks when the process gets SIGTERM.
// Lambda sends SIGTERM only to a function with an extension, so the watch
// registers an internal extension that asks for no events, and parks the
// extension's event/next request, which Lambda answers only with events the
// extension did not ask for (none).
type shutdownWatch struct {
	log  *slog.Logger
	ext  *client // the extension's connection, for its event/next
	sig  chan os.Signal
	quit chan struct{}
}

// watchShutdown starts watching for SIGTERM: on it, it runs hooks, then
// calls done. [shutdownWatch.register] registers the extension that makes
// Lambda send it; stop ends the watch.
func watchShutdown(addr string, log *slog.Logger, hooks []func(context.Context), done func()) *shutdownWatch {
	w := &shutdownWatch{log: log, ext: newClient(addr), sig: make(chan os.Signal, 1), quit: make(chan struct{})}
	signal.Notify(w.sig, syscall.SIGTERM)
	go func() {
		select {
		case <-w.sig:
		case <-w.quit:
			return
		}
		RunHooks(log, hooks)
		done()
	}()
	return w
}

// register registers the internal extension on c, the first loop's client,
// with next (that loop's request for its first invocation) written in the
// same write after the registration: the Runtime API answers pipelined
// requests in order, so the registration is in before the runtime asks for
// an invocation, which Lambda requires of an extension (it registers during
// init), and the cold start waits for no round trip of its own. The answer
// to next is left pending on c, for the loop to read. On a registered
// extension, register parks its event/next on a connection of its own. A
// refused or failed registration is logged: the function runs, without
// SIGTERM. When ctx ends, register interrupts the exchange and leaves c
// stopped.
func (w *shutdownWatch) register(ctx context.Context, c *client, next []byte) {
	stopReg := context.AfterFunc(ctx, c.stop)
	id, err := register(ctx, c, next)
	stopReg()
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("runtimeapi: cannot register the internal extension that enables SIGTERM; the shutdown hooks may not run",
				"error", err)
		}
		return
	}
	stopWatch := context.AfterFunc(ctx, w.ext.stop)
	go func() {
		defer stopWatch()
		ext := w.ext
		ext.startHead("GET", "/2020-01-01/extension/event/next")
		ext.addHeader("Lambda-Extension-Identifier", headerSafe(id))
		a, err := ext.roundTrip(ctx, nil, nil, nil)
		if err == nil {
			err = ext.discardBody()
		}
		if err == errStopped {
			return
		}
		if err != nil {
			w.log.Warn("runtimeapi: the internal extension's event/next failed", "error", err)
			return
		}
		w.log.Warn("runtimeapi: the internal extension's event/next answered, though it asked for no events",
			"status", a.status)
	}()
}

// stop ends the watch and closes the extension's connection.
func (w *shutdownWatch) stop() {
	signal.Stop(w.sig)
	close(w.quit)
	w.ext.stop()
}

// register sends the registration of the internal extension on c, with
// tail (a whole request, or nil) pipelined after it, and returns the
// extension's identifier. A failure leaves c's connection dropped, and with
// it the answer to tail.
func register(ctx context.Context, c *client, tail []byte) (string, error) {
	var id extensionID
	c.startHead("POST", "/2020-01-01/extension/register")
	c.addHeader("Lambda-Extension-Name", extensionName)
	c.addHeader("Content-Type", "application/json")
	a, err := c.roundTrip(ctx, []byte(`{"events":[]}`), &id, tail)
	if err == nil {
		err = c.discardBody()
	}
	if err != nil {
		if err == errStopped && ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", err
	}
	if a.status != 200 {
		return "", fmt.Errorf("runtimeapi: the Extensions API answered the registration with status %d: %s", a.status, a.body)
	}
	if id.id == "" {
		return "", errors.New("runtimeapi: the Extensions API answered the registration without a Lambda-Extension-Identifier")
	}
	return id.id, nil
}

// RunHooks runs hooks in order, as [Run] does on SIGTERM, with a context
// that ends ShutdownTimeout from now, and returns when they are done or
// that time is up, whichever comes first: a hook that overruns is logged
// (to logger, or slog.Default() when nil) and the hooks after it are
// skipped, so that the process can exit before Lambda kills it. A hook that
// panics is logged and the next one runs. app.OnShutdown's hooks run
// through it outside funcify's loop too.
func RunHooks(logger *slog.Logger, hooks []func(context.Context)) {
	if len(hooks) == 0 {
		return
	}
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	var running atomic.Int32 // the hook running, from 1
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, h := range hooks {
			if ctx.Err() != nil {
				return
			}
			running.Store(int32(i + 1))
			func() {
				defer func() {
					if v := recover(); v != nil {
						logger.Error("runtimeapi: a shutdown hook panicked", "hook", i+1, "panic", v)
					}
				}()
				h(ctx)
			}()
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		default:
			logger.Warn("runtimeapi: a shutdown hook overran the time Lambda gives; the rest are skipped",
				"hook", running.Load(), "of", len(hooks), "timeout", ShutdownTimeout)
		}
	}
}
