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

// onShutdown runs hooks when the process gets SIGTERM, then calls done. It
// registers an internal extension that asks for no events, which is what
// makes Lambda send SIGTERM, and parks the extension's event/next request,
// which Lambda answers only with events the extension did not ask for
// (none). The returned stop ends the watch.
func onShutdown(ctx context.Context, addr string, log *slog.Logger, hooks []func(context.Context), done func()) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-quit:
			return
		}
		RunHooks(log, hooks)
		done()
	}()

	ext := newClient(addr)
	stopWatch := context.AfterFunc(ctx, ext.stop)
	if id, err := register(ctx, ext); err != nil {
		log.Warn("runtimeapi: cannot register the internal extension that enables SIGTERM; the shutdown hooks may not run",
			"error", err)
	} else {
		go func() {
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
				log.Warn("runtimeapi: the internal extension's event/next failed", "error", err)
				return
			}
			log.Warn("runtimeapi: the internal extension's event/next answered, though it asked for no events",
				"status", a.status)
		}()
	}
	return func() {
		signal.Stop(sig)
		close(quit)
		stopWatch()
		ext.stop()
	}
}

// register registers the internal extension and returns its identifier.
func register(ctx context.Context, c *client) (string, error) {
	var id extensionID
	c.startHead("POST", "/2020-01-01/extension/register")
	c.addHeader("Lambda-Extension-Name", extensionName)
	c.addHeader("Content-Type", "application/json")
	a, err := c.roundTrip(ctx, []byte(`{"events":[]}`), &id, nil)
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
