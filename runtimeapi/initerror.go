package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ReportInitError tells the Runtime API at addr (empty: the value of
// AWS_LAMBDA_RUNTIME_API) that the function could not start, with err's
// message and type, by POST /2018-06-01/runtime/init/error. Lambda then
// fails the invocation that was waiting with the error and starts a new
// execution environment. The caller exits after it, whatever it returns.
func ReportInitError(ctx context.Context, addr string, err error) error {
	if err == nil {
		return errors.New("runtimeapi: ReportInitError with a nil error")
	}
	if addr == "" {
		addr = os.Getenv("AWS_LAMBDA_RUNTIME_API")
	}
	if addr == "" {
		return errors.New("runtimeapi: no Runtime API address: AWS_LAMBDA_RUNTIME_API is not set")
	}
	cwd, _ := os.Getwd()
	e, _ := describe(err)
	c := newClient(addr)
	defer c.drop()
	defer context.AfterFunc(ctx, c.stop)()
	for short := false; ; short = true {
		body, cause := e.encode(cwd, short)
		c.startHead("POST", "/2018-06-01/runtime/init/error")
		c.addHeader("Content-Type", "application/json")
		c.addHeader("Lambda-Runtime-Function-Error-Type", headerSafe(e.Type))
		if cause != nil {
			c.addHeader("Lambda-Runtime-Function-Xray-Error-Cause", string(cause))
		}
		a, rerr := c.roundTrip(ctx, body, nil, nil)
		if rerr == nil {
			rerr = c.discardBody()
		}
		if rerr != nil {
			if rerr == errStopped && ctx.Err() != nil {
				rerr = ctx.Err()
			}
			return fmt.Errorf("runtimeapi: reporting the init error: %w", rerr)
		}
		switch {
		case a.status/100 == 2:
			return nil
		case a.status == 413 && !short:
			continue
		}
		return fmt.Errorf("runtimeapi: the Runtime API answered the init error with status %d: %s", a.status, a.body)
	}
}
