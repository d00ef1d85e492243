package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// Func returns fn made idempotent with g: a function of the same type, so
// that it plugs in wherever fn did, such as app.HandleInvoke for direct
// invokes (a Step Functions task, an asynchronous invoke that Lambda
// retries) or a typed route. Calls whose inputs have the same identity on
// route run fn once (see [Do]); the others get its result replayed, or
// [ErrInProgress] while it runs (or wait for it, with Config.Wait).
//
// id returns the identity of an input: an order number, a request id,
// whatever tells one call from another, never empty. A nil id makes the
// whole input the identity: its JSON (encoding/json) in canonical form, so
// that equal inputs are duplicates whatever their member order. An input is
// the key's payload too, as its JSON, which Config.CheckPayload compares.
// An input that encoding/json cannot encode, an error from id, or an empty
// identity fails the call without running fn.
//
// A result too large to store is still returned to the caller whose call
// ran fn (and logged; its duplicates get an error wrapping
// ErrResultTooLarge). A [Final] error reaches the first caller as fn
// returned it, and its duplicates as a [*ReplayedError] that keeps its
// message, its HTTP answer and its type's name, which funcify's runtime
// loop reports as the errorType, as it did the first's (so Step Functions'
// Retry and Catch match both).
//
// Func panics if g or fn is nil. The function it returns is safe for
// concurrent use if fn is.
func Func[In, Out any](g *Guard, route string, id func(in In) (string, error), fn func(ctx context.Context, in In) (Out, error)) func(ctx context.Context, in In) (Out, error) {
	if g == nil || fn == nil {
		panic("idempotency: Func needs a Guard and a function")
	}
	return func(ctx context.Context, in In) (Out, error) {
		key, err := funcKey(route, id, in, g.check)
		if err != nil {
			var zero Out
			return zero, err
		}
		var ran bool
		var fnErr error
		res, err := Do(ctx, g, key, func(ctx context.Context) (Out, error) {
			ran = true
			res, err := fn(ctx, in)
			fnErr = err
			return res, err
		})
		return funcOutcome(ctx, g, ran, fnErr, res, err)
	}
}

// funcOutcome is what Func returns for Do's res and err:
//
//   - the result of a function that ran although it could not be stored
//     (too large): the caller, whose side effects are done, gets it, and the
//     loss is logged (duplicates get ErrResultTooLarge);
//   - else res and err.
func funcOutcome[Out any](ctx context.Context, g *Guard, ran bool, fnErr error, res Out, err error) (Out, error) {
	if err == nil {
		return res, nil
	}
	if ran && fnErr == nil && errors.Is(err, ErrResultTooLarge) {
		g.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: result not stored, returned to this caller only",
			slog.String("error", err.Error()))
		return res, nil
	}
	return res, err
}

// errEmptyID refuses an empty identity, which every call without one would
// share.
var errEmptyID = errors.New("idempotency: the identity is empty")

// funcKey returns the key of Func's call with in.
func funcKey[In any](route string, id func(In) (string, error), in In, check bool) (Key, error) {
	if id == nil {
		payload, err := json.Marshal(in)
		if err != nil {
			return Key{}, fmt.Errorf("idempotency: encode the input: %w", err)
		}
		return KeyFromJSON(route, payload)
	}
	s, err := id(in)
	if err != nil {
		return Key{}, fmt.Errorf("idempotency: the input's identity: %w", err)
	}
	if s == "" {
		return Key{}, errEmptyID
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return Key{}, fmt.Errorf("idempotency: encode the input: %w", err)
	}
	if !check {
		return uncheckedKey(route, s), nil
	}
	return NewKey(route, s, payload), nil
}
